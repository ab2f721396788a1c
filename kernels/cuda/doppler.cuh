// Doppler processing on the GPU (RADAR-MODEL.md "MTI", "Doppler processing", "Power map"), the
// twin of kernels/cpu/doppler.hpp and kernels/cpu/mti.hpp:
//   gather: MTI taps and the unit-energy window applied while reading the compressed rows
//           (any row stride, so it reads the pulse-compression stage's padded rows in place),
//           written as [c][p][n] into a buffer whose rows P'..M-1 stay zero (the zero padding);
//   FFT:    per channel, N strided M-point transforms (stride N, distance 1): no corner turn,
//           every kernel reads and writes whole rows;
//   power:  |Y|^2 with the fftshift folded into the row index, summed over channels in channel
//           order (noncoherent) or one map per channel.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cuda/memory.cuh"

namespace radarpipe::cuda {

struct DopplerConfig {
  std::size_t channels = 0;  ///< C >= 1
  std::size_t pulses = 0;    ///< P, compressed pulses per channel (>= 1 + MTI order)
  std::size_t gates = 0;     ///< N >= 1
  MtiMode mti = MtiMode::None;
  WindowConfig window;       ///< taper across the P' pulses left after MTI
  std::size_t fft_size = 0;  ///< M >= P'
  ChannelCombine combine = ChannelCombine::Noncoherent;
};

class DopplerProcessor {
 public:
  explicit DopplerProcessor(const DopplerConfig& config);

  std::size_t pulses_used() const { return used_; }
  std::size_t fft_size() const { return fft_size_; }
  std::size_t maps() const { return combine_ ? 1 : channels_; }
  /// The unit-energy window applied (length P'), the same numbers as the CPU stage's.
  const std::vector<float>& window() const { return window_host_; }

  /// MTI + window + FFT + power: d_in holds C x P rows of N compressed samples, row r at
  /// d_in + r * in_stride; d_maps gets maps() x M x N. No allocation, no synchronisation.
  void process(const cf32* d_in, std::size_t in_stride, float* d_maps, cudaStream_t s);
  /// MTI + window + FFT only; the complex result stays in spectrum().
  void spectrum(const cf32* d_in, std::size_t in_stride, cudaStream_t s);
  /// C x M x N complex, unshifted (row k is FFT bin k; the map's row d shows bin
  /// stage_math::doppler_source_bin(d, M)).
  const cf32* spectrum_output() const { return reinterpret_cast<const cf32*>(spectrum_.data()); }

  /// The transforms of process() alone: this stage's cuFFT floor.
  void transforms_only(cudaStream_t s);
  /// Least bytes process() moves (gather read + write, one pass per transform, power read +
  /// map write), for the roofline.
  std::size_t bytes_moved() const;

 private:
  void gather_and_transform(const cf32* d_in, std::size_t in_stride, cudaStream_t s);

  std::size_t channels_, pulses_, gates_, fft_size_, used_;
  bool combine_;
  int mti_code_;
  std::vector<float> window_host_;
  DeviceBuffer<float> window_;
  DeviceBuffer<float2> gathered_;  ///< C x M x N, rows >= P' zero for good
  DeviceBuffer<float2> spectrum_;  ///< C x M x N
  FftPlan plan_;                   ///< M points, N transforms, stride N, distance 1
};

}  // namespace radarpipe::cuda
