// Doppler processing (RADAR-MODEL.md "Doppler processing", "Power map"):
// Y[k][m] = sum_p w[p] y'[p][m] exp(-j 2 pi p k / M), y' the MTI output, M >= P' zero-padded,
// shifted so that bin d holds f_D = (d - M/2) PRF / M. The window is normalised to unit energy
// (sum w^2 = 1), so white noise of power sigma^2 per pulse-compressed sample has power sigma^2
// (x the MTI's noise gain) in every Doppler cell.
//
// Work is cut into tiles of range gates: a tile gathers P' x T samples (MTI taps and window
// applied as they are read), runs its T transforms of M points (one FFTW call per gate, so that
// the next block's prefetches can go between them) and writes its T columns of the output.
// Tiles are independent, so workers split them.
#pragma once

#include <cstddef>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/memory.hpp"
#include "kernels/cpu/range_tiles.hpp"

namespace radarpipe::cpu {

struct DopplerConfig {
  std::size_t pulses = 0;       ///< P, pulse-compressed pulses per channel, >= 1 (+MTI order)
  std::size_t gates = 0;        ///< N, range bins per pulse, >= 1
  MtiMode mti = MtiMode::None;  ///< canceller applied before the window
  WindowConfig window;          ///< taper across the P' pulses left after MTI
  std::size_t fft_size = 0;     ///< M >= P', zero-padded Doppler FFT size
  FftPlanning planning = FftPlanning::Estimate;
  std::size_t workers = 1;      ///< threads that may process tiles at once, >= 1
  std::size_t tile_gates = 32;  ///< T, range gates per tile, >= 1
};

/// The Doppler window over the `used` pulses left after MTI, normalised to unit energy
/// (sum w^2 = 1), rounded to float: what both the CPU and the CUDA stage apply. Throws
/// std::invalid_argument when the window is all zeros.
std::vector<float> unit_energy_doppler_window(const WindowConfig& window, std::size_t used);

namespace detail {
/// The square law acc[i] = |s[i]|^2 (add: acc[i] += |s[i]|^2) over `count` interleaved complex
/// values. The versions give identical bits; the processor uses AVX2 where the CPU has it
/// (cpu_has_avx2(), checked at construction).
void square_law_sse2(const float* s, float* acc, std::size_t count, bool add) noexcept;
void square_law_avx2(const float* s, float* acc, std::size_t count, bool add) noexcept;
}  // namespace detail

class DopplerProcessor {
 public:
  explicit DopplerProcessor(const DopplerConfig& config);

  std::size_t pulses_used() const { return window_.size(); }  ///< P' after MTI
  std::size_t fft_size() const { return fft_size_; }
  std::size_t gates() const { return gates_; }
  std::size_t tiles() const { return (gates_ + tile_gates_ - 1) / tile_gates_; }
  std::size_t tile_gates() const { return tile_gates_; }
  std::size_t workers() const { return workspaces_.size(); }
  /// The unit-energy window actually applied (length P').
  const std::vector<float>& window() const { return window_; }

  /// Complex shifted spectrum of one channel's tile: in is P x N, out is M x N (row d).
  void spectrum_tile(const cf32* in, cf32* out, std::size_t tile, std::size_t worker) noexcept;
  /// Square-law power of one channel's tile into map (M x N): written, or added when accumulate.
  void power_tile(const cf32* in, float* map, bool accumulate, std::size_t tile,
                  std::size_t worker) noexcept;

  /// Gates the gather handles at a time (one cache line of cf32 per pulse).
  static constexpr std::size_t kGatherBlock = 8;
  /// Whether power_tile_tiled reads a cube in this range-tile layout (range_tiles.hpp): this
  /// processor's pulses and gates, tiles of tile_gates() or, when tile_gates() is a multiple of
  /// 8, of 8 gates (a tile then spans tile_gates() / 8 consecutive range tiles, read front to
  /// back).
  bool accepts(const RangeTiles& layout) const;
  /// The noncoherent sum over channels [0, channels) of one tile's power, from a cube in range
  /// tiles (accepts(layout)), written into map: the same values as power_tile_tiled on each
  /// channel with accumulation, but the channels' square-law outputs are summed in the spectra's
  /// own layout and turned into map rows once, not once per channel. Each channel's input is
  /// prefetched while the one before it is gathered and transformed; prefetch_next: the next
  /// tile's first channel too, during the last channel (for a caller that does tile + 1 next).
  void combined_power_tile_tiled(const cf32* cube, const RangeTiles& layout, std::size_t channels,
                                 float* map, std::size_t tile, std::size_t worker,
                                 bool prefetch_next = false) noexcept;
  /// The same as power_tile, from channel `channel` of a cube in range tiles (accepts(layout)).
  /// With channels > channel it prefetches the next channel's blocks of the tile meanwhile, and
  /// after the last channel, when prefetch_next, the next tile's first channel (the order in
  /// which a caller running every channel of tile, then tile + 1, reads them).
  void power_tile_tiled(const cf32* cube, const RangeTiles& layout, std::size_t channel, float* map,
                        bool accumulate, std::size_t tile, std::size_t worker,
                        std::size_t channels = 0, bool prefetch_next = false) noexcept;

  /// All tiles on worker 0.
  void spectrum(const cf32* in, cf32* out) noexcept;
  void power(const cf32* in, float* map, bool accumulate) noexcept;

  /// Only the FFTs of one channel's tile (same plan, same calls, same buffers): the benchmark's
  /// transform floor.
  void transforms_only(std::size_t tile, std::size_t worker) noexcept;

  /// Lines of the next block prefetched during a gather; the rest go between the transforms.
  static constexpr std::size_t kGatherPrefetchLines = 128;

 private:
  struct Workspace {
    AlignedBuffer<cf32> gathered;  ///< [g][p], pulses >= P' stay zero (the zero padding)
    AlignedBuffer<cf32> spectrum;  ///< [g][k], unshifted
    AlignedBuffer<float> power;    ///< [g][k], channel sum (combined_power_tile_tiled)
  };
  /// What is left to prefetch of the block a worker reads next.
  using Ahead = PrefetchWindow;
  /// The block read after (channel, tile) by a caller that runs channels [0, channels) of a
  /// tile, then (when next_tile) the next tile: nothing when channels <= channel.
  Ahead next_block(const cf32* cube, const RangeTiles& layout, std::size_t channels,
                   std::size_t channel, std::size_t tile, bool next_tile) const noexcept;
  void gather(const cf32* in, std::size_t stride, std::size_t block_stride, std::size_t width,
              Workspace& ws, Ahead& ahead) const noexcept;
  /// The tile's `width` transforms, gathered -> spectrum, with what is left of ahead prefetched
  /// in equal parts between them. With acc, each spectrum's power goes into acc (the spectra's
  /// layout) right after its transform, while the spectrum is in L1: acc[g][k] = |Y_g[k]|^2, or
  /// += when add.
  void transform(Workspace& ws, std::size_t width, Ahead& ahead, float* acc = nullptr,
                 bool add = false) const noexcept;
  void power_block(const cf32* in, std::size_t stride, std::size_t block_stride, float* map,
                   bool accumulate, std::size_t tile, std::size_t worker, Ahead ahead) noexcept;

  std::size_t pulses_;
  std::size_t gates_;
  std::size_t fft_size_;
  std::size_t tile_gates_;
  void (*square_law_)(const float*, float*, std::size_t, bool) noexcept;
  int mti_code_;
  std::vector<float> window_;
  std::vector<Workspace> workspaces_;
  FftPlan plan_;  ///< one M-point transform of a [g][p] row into the [g][k] row
};

}  // namespace radarpipe::cpu
