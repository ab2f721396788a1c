// Doppler processing (RADAR-MODEL.md "Doppler processing", "Power map"):
// Y[k][m] = sum_p w[p] y'[p][m] exp(-j 2 pi p k / M), y' the MTI output, M >= P' zero-padded,
// shifted so that bin d holds f_D = (d - M/2) PRF / M. The window is normalised to unit energy
// (sum w^2 = 1), so white noise of power sigma^2 per pulse-compressed sample has power sigma^2
// (x the MTI's noise gain) in every Doppler cell.
//
// Work is cut into tiles of range gates: a tile gathers P' x T samples (MTI taps and window
// applied as they are read), runs one batched strided FFT of M points x T gates and writes its
// T columns of the output. Tiles are independent, so workers split them.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/cpu/fft.hpp"
#include "pipeline/core/cpi.hpp"
#include "pipeline/core/mode.hpp"

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

  /// The same from a cube in range tiles (range_tiles.hpp, T = tile_gates()): block points at
  /// the channel's tile `tile`, P pulses of T samples one after the other. `next`: the block
  /// this worker takes next (fetched while this one's transforms run), or nullptr.
  void power_tile_tiled(const cf32* block, float* map, bool accumulate, std::size_t tile,
                        std::size_t worker, const cf32* next = nullptr) noexcept;

  /// All tiles on worker 0.
  void spectrum(const cf32* in, cf32* out) noexcept;
  void power(const cf32* in, float* map, bool accumulate) noexcept;

  /// Only the FFT of one tile (same plan, same buffers): the benchmark's transform floor.
  void transforms_only(std::size_t worker) noexcept;

 private:
  struct Workspace {
    AlignedBuffer<cf32> gathered;  ///< [g][p], pulses >= P' stay zero (the zero padding)
    AlignedBuffer<cf32> spectrum;  ///< [g][k], unshifted
  };
  void gather(const cf32* in, std::size_t stride, std::size_t width,
              Workspace& ws) const noexcept;
  void power_block(const cf32* in, std::size_t stride, float* map, bool accumulate,
                   std::size_t tile, std::size_t worker, const cf32* next) noexcept;

  std::size_t pulses_;
  std::size_t gates_;
  std::size_t fft_size_;
  std::size_t tile_gates_;
  int mti_code_;
  std::vector<float> window_;
  std::vector<Workspace> workspaces_;
  FftPlan plan_;
};

}  // namespace radarpipe::cpu
