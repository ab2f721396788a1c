// Pulse compression on the GPU (RADAR-MODEL.md "Pulse compression"), the twin of
// kernels/cpu/pulse_compression.hpp: matched filter with the windowed, unit-energy reference
// h[k] = w[k] s[k] / ||w s|| by fast convolution of size K >= N + L - 1 (the same K as the CPU
// stage), every row of a CPI in one batched cuFFT call each way.
//
// Per call: load (ci16 or cf32 -> cf32, into rows of K whose zero tail [N, K) is written once
// at construction) -> forward FFT -> multiply by conj(FFT_K(h)) / K -> inverse FFT (in place).
// The result stays on the device with row stride K; the Doppler stage reads it there, and
// crop() gives the contiguous rows x N form for a chain cut after this stage.
#pragma once

#include <cuda_runtime.h>

#include <complex>
#include <cstddef>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cuda/memory.cuh"

namespace radarpipe::cuda {

using radarpipe::SampleFormat;  // core/cpi.hpp: cf32, or ci16 times a scale

struct PulseCompressionConfig {
  std::size_t gates = 0;                       ///< N, range samples per pulse, >= 1
  std::size_t rows = 0;                        ///< pulses compressed per call (C x P), >= 1
  std::vector<std::complex<double>> waveform;  ///< s[k], 1 <= L <= N samples
  WindowConfig window;                         ///< taper across the reference
};

class PulseCompressor {
 public:
  /// Validates (std::invalid_argument naming the field), plans, allocates, builds the filter.
  explicit PulseCompressor(const PulseCompressionConfig& config);

  std::size_t gates() const { return gates_; }
  std::size_t rows() const { return rows_; }
  std::size_t fft_size() const { return fft_size_; }
  std::size_t waveform_length() const { return waveform_length_; }
  std::size_t first_eclipsed_bin() const { return gates_ - waveform_length_ + 1; }

  /// Compresses rows() pulses from the device array d_in (rows x gates samples in `format`) on
  /// stream s. No allocation, no synchronisation.
  void process(const void* d_in, SampleFormat format, float scale, cudaStream_t s);
  /// The last result: rows x fft_size() complex, the first gates() of each row valid.
  const cf32* output() const { return reinterpret_cast<const cf32*>(freq_.data()); }
  std::size_t output_stride() const { return fft_size_; }
  /// Copies the last result to d_out as rows x gates, contiguous.
  void crop(cf32* d_out, cudaStream_t s) const;

  /// The two batched transforms of process() alone: the cuFFT floor of this stage.
  void transforms_only(cudaStream_t s);

  /// Bytes process() must move through device memory at the least (read input, write and read
  /// the padded rows through load, two transforms and the multiply): the roofline's numerator.
  std::size_t bytes_moved(SampleFormat format) const;

 private:
  std::size_t gates_, rows_, fft_size_, waveform_length_;
  DeviceBuffer<float2> time_;    ///< rows x K: [0, N) loaded per call, [N, K) zero for good
  DeviceBuffer<float2> freq_;    ///< rows x K: spectrum, then (in place) the correlation
  DeviceBuffer<float2> filter_;  ///< K: conj(FFT_K(h)) / K
  FftPlan plan_;                 ///< K points x rows, contiguous
};

}  // namespace radarpipe::cuda
