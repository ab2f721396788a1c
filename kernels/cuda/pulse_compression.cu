#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/pulse_compression.cuh"
#include "kernels/cuda/stage_math.hpp"

namespace radarpipe::cuda {
namespace {

using stage_math::Complex;

__device__ inline Complex as_complex(float2 v) {
  return Complex{v.x, v.y};
}
__device__ inline float2 as_float2(Complex c) {
  return make_float2(c.re, c.im);
}

// time[r][n] = in[r][n] (n < N) for cf32 input.
__global__ void __launch_bounds__(256)
    load_cf32_kernel(const float2* __restrict__ in, float2* __restrict__ time, int rows, int n,
                     int k) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const float2* src = in + static_cast<size_t>(r) * n;
    float2* dst = time + static_cast<size_t>(r) * k;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
      dst[i] = src[i];
  }
}

// time[r][n] = ci16 in[r][n] * scale (n < N).
__global__ void __launch_bounds__(256)
    load_ci16_kernel(const short2* __restrict__ in, float scale, float2* __restrict__ time,
                     int rows, int n, int k) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const short2* src = in + static_cast<size_t>(r) * n;
    float2* dst = time + static_cast<size_t>(r) * k;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
      const short2 v = src[i];
      dst[i] = as_float2(stage_math::ci16_to_complex(v.x, v.y, scale));
    }
  }
}

// freq[r][k] *= filter[k].
__global__ void __launch_bounds__(256)
    multiply_kernel(float2* __restrict__ freq, const float2* __restrict__ filter, int rows, int k) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    float2* row = freq + static_cast<size_t>(r) * k;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < k; i += gridDim.x * blockDim.x)
      row[i] = as_float2(stage_math::cmul(as_complex(row[i]), as_complex(filter[i])));
  }
}

// out[r][n] = freq[r][n], n < N.
__global__ void __launch_bounds__(256)
    crop_kernel(const float2* __restrict__ freq, float2* __restrict__ out, int rows, int n, int k) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const float2* src = freq + static_cast<size_t>(r) * k;
    float2* dst = out + static_cast<size_t>(r) * n;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
      dst[i] = src[i];
  }
}

// filter[k] = conj(spectrum[k]) / K.
__global__ void __launch_bounds__(256) conj_scale_kernel(float2* f, int k, float scale) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < k) f[i] = make_float2(f[i].x * scale, -f[i].y * scale);
}

}  // namespace

PulseCompressor::PulseCompressor(const PulseCompressionConfig& config)
    : gates_(config.gates), rows_(config.rows), waveform_length_(config.waveform.size()) {
  const std::size_t n = gates_, l = waveform_length_;
  if (n < 1) throw std::invalid_argument("cuda pulse compression: gates must be >= 1, got 0");
  if (rows_ < 1) throw std::invalid_argument("cuda pulse compression: rows must be >= 1, got 0");
  if (l < 1 || l > n)
    throw std::invalid_argument("cuda pulse compression: waveform length " + std::to_string(l) +
                                " is not in [1, gates = " + std::to_string(n) + "]");
  // The reference the CPU stage correlates with, the same floats.
  const std::vector<cf32> ref = cpu::unit_energy_reference(config.waveform, config.window);

  fft_size_ = cpu::next_fast_fft_size(n + l - 1);
  const int k = static_cast<int>(fft_size_);
  time_ = DeviceBuffer<float2>(rows_ * fft_size_);  // zero-filled: the tails stay zero
  freq_ = DeviceBuffer<float2>(rows_ * fft_size_);
  filter_ = DeviceBuffer<float2>(fft_size_);
  plan_ = FftPlan(k, static_cast<int>(rows_), 1, k, 1, k);

  // Filter: FFT_K of the zero-padded reference (a one-row plan), conjugated, 1/K folded in.
  RP_CUDA_CHECK(cudaMemcpy(filter_.data(), ref.data(), l * sizeof(float2), cudaMemcpyHostToDevice));
  FftPlan one(k, 1, 1, k, 1, k);
  one.execute(filter_.data(), filter_.data(), CUFFT_FORWARD);
  conj_scale_kernel<<<(k + 255) / 256, 256>>>(filter_.data(), k, 1.0f / static_cast<float>(k));
  RP_CUDA_CHECK_LAUNCH();
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

void PulseCompressor::process(const void* d_in, SampleFormat format, float scale, cudaStream_t s) {
  const int rows = static_cast<int>(rows_), n = static_cast<int>(gates_),
            k = static_cast<int>(fft_size_);
  const dim3 load_grid = row_grid(n, rows);
  if (format == SampleFormat::Ci16)
    load_ci16_kernel<<<load_grid, 256, 0, s>>>(static_cast<const short2*>(d_in), scale,
                                               time_.data(), rows, n, k);
  else
    load_cf32_kernel<<<load_grid, 256, 0, s>>>(static_cast<const float2*>(d_in), time_.data(), rows,
                                               n, k);
  RP_CUDA_CHECK_LAUNCH();
  plan_.set_stream(s);
  plan_.execute(time_.data(), freq_.data(), CUFFT_FORWARD);
  multiply_kernel<<<row_grid(k, rows), 256, 0, s>>>(freq_.data(), filter_.data(), rows, k);
  RP_CUDA_CHECK_LAUNCH();
  plan_.execute(freq_.data(), freq_.data(), CUFFT_INVERSE);
}

void PulseCompressor::crop(cf32* d_out, cudaStream_t s) const {
  const int rows = static_cast<int>(rows_), n = static_cast<int>(gates_),
            k = static_cast<int>(fft_size_);
  crop_kernel<<<row_grid(n, rows), 256, 0, s>>>(freq_.data(), reinterpret_cast<float2*>(d_out),
                                                rows, n, k);
  RP_CUDA_CHECK_LAUNCH();
}

void PulseCompressor::transforms_only(cudaStream_t s) {
  plan_.set_stream(s);
  plan_.execute(time_.data(), freq_.data(), CUFFT_FORWARD);
  plan_.execute(freq_.data(), freq_.data(), CUFFT_INVERSE);
}

std::size_t PulseCompressor::bytes_moved(SampleFormat format) const {
  const std::size_t in = rows_ * gates_ * (format == SampleFormat::Ci16 ? 4 : 8);
  const std::size_t padded = rows_ * fft_size_ * sizeof(float2);
  // load: read input, write N of K; forward: read + write K; multiply: read + write K;
  // inverse: read + write K (each transform counted as one pass; cuFFT may take more).
  return in + rows_ * gates_ * sizeof(float2) + 6 * padded;
}

}  // namespace radarpipe::cuda
