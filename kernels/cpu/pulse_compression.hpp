// Pulse compression (RADAR-MODEL.md "Pulse compression"): matched filter with the windowed,
// unit-energy reference h[k] = w[k] s[k] / ||w s||, y[m] = sum_k x[m+k] conj(h[k]), by FFT fast
// convolution of size K >= N + L - 1 (no circular wrap). Output keeps N bins; bins
// m >= first_eclipsed_bin() = N - L + 1 are partially eclipsed.
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/range_tiles.hpp"

namespace radarpipe::cpu {

struct PulseCompressionConfig {
  std::size_t gates = 0;                         ///< N, range samples per pulse, >= 1
  std::vector<std::complex<double>> waveform;    ///< s[k], 1 <= L <= N samples
  WindowConfig window;                           ///< taper across the reference
  FftPlanning planning = FftPlanning::Estimate;  ///< FFTW effort at construction
  std::size_t workers = 1;  ///< threads that may call process_rows at once, >= 1
};

/// The matched filter's reference h[k] = w[k] s[k] / ||w s|| (unit energy, so white noise keeps
/// its power through the filter), rounded to float: what both the CPU and the CUDA stage
/// correlate with. Throws std::invalid_argument when the window leaves no energy.
std::vector<cf32> unit_energy_reference(const std::vector<std::complex<double>>& waveform,
                                        const WindowConfig& window);

namespace detail {
/// The filter multiply f[i] *= h[i] on n interleaved complex floats (f and h 32-byte aligned),
/// prefetching [ahead, ahead + ahead_bytes) on the way. The versions give identical bits; the
/// compressor uses AVX2 where the CPU has it (cpu_has_avx2(), checked at construction).
void multiply_spectrum_sse2(float* f, const float* h, std::size_t n, const char* ahead,
                            std::size_t ahead_bytes) noexcept;
void multiply_spectrum_avx2(float* f, const float* h, std::size_t n, const char* ahead,
                            std::size_t ahead_bytes) noexcept;
}  // namespace detail

class PulseCompressor {
 public:
  /// Validates, builds the reference spectrum and the FFTW plans, allocates per-worker scratch.
  /// Throws std::invalid_argument naming the field on bad configuration.
  explicit PulseCompressor(const PulseCompressionConfig& config);

  std::size_t gates() const { return gates_; }
  std::size_t waveform_length() const { return reference_.size(); }
  std::size_t fft_size() const { return fft_size_; }
  std::size_t first_eclipsed_bin() const { return gates_ - reference_.size() + 1; }
  std::size_t workers() const { return workspaces_.size(); }
  /// h[k], windowed, unit energy.
  const std::vector<cf32>& reference() const { return reference_; }

  /// Compresses `rows` consecutive pulses (each `gates()` samples) from in to out, written with
  /// streaming stores (the next stage reads them much later, in another order). Distinct
  /// concurrent callers must pass distinct worker indices < workers(). No allocation, no throw.
  void process_rows(const cf32* in, cf32* out, std::size_t rows, std::size_t worker) noexcept;

  /// The same, written in range tiles (range_tiles.hpp): in points at row `first_row` of the
  /// cube (row = c P + p), and row first_row + r goes to its pulse's slots of every tile of out.
  /// Up to four consecutive pulses of a channel are compressed before they are stored, so that
  /// their runs in each tile (adjacent there) are written together.
  void process_rows_tiled(const cf32* in, std::size_t first_row, std::size_t rows,
                          const RangeTiles& layout, cf32* out, std::size_t worker) noexcept;

  /// Compresses every pulse of every channel of a CPI on worker 0. out must have in's shape.
  void process(const Cpi& in, Cpi& out) noexcept;

  /// Only the FFTs of process_rows (forward + inverse per row, same plans, same buffers): the
  /// benchmark's measure of the transform floor.
  void transforms_only(std::size_t rows, std::size_t worker) noexcept;

 private:
  /// Pulses a worker compresses before storing them together (process_rows_tiled).
  static constexpr std::size_t kStoreRows = 4;

  struct Workspace {
    AlignedBuffer<cf32> time;     ///< [0, N) the pulse, [N, K) zeros that are never written
    AlignedBuffer<cf32> freq;     ///< the spectrum, multiplied by the filter in place
    AlignedBuffer<cf32> results;  ///< kStoreRows slots of result_stride_: correlations
  };

  /// One pulse: in (N samples) -> result (K samples, the first N kept); next, when not null, is
  /// prefetched meanwhile.
  void compress_row(const cf32* in, const cf32* next, Workspace& ws, cf32* result) const noexcept;

  void (*multiply_)(float*, const float*, std::size_t, const char*, std::size_t) noexcept;
  std::size_t gates_;
  std::size_t fft_size_;
  std::size_t result_stride_;  ///< K rounded up to whole cache lines
  std::vector<cf32> reference_;
  AlignedBuffer<cf32> filter_;  ///< conj(FFT_K(h)) / K: the inverse FFT's 1/K folded in
  std::vector<Workspace> workspaces_;
  FftPlan forward_;
  FftPlan inverse_;
};

}  // namespace radarpipe::cpu
