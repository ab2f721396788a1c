#include <stdexcept>
#include <string>

#include "core/radar_math.hpp"
#include "kernels/cpu/doppler.hpp"
#include "kernels/cpu/mti.hpp"
#include "kernels/cuda/doppler.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/stage_math.hpp"

namespace radarpipe::cuda {
namespace {

using stage_math::Complex;

struct Taps {
  float t[3];
  int order;
};

// gathered[c][p][n] = w[p] sum_j taps[j] in[c][p + j][n], p < P'.
__global__ void __launch_bounds__(256)
    gather_kernel(const float2* __restrict__ in, int in_stride, const float* __restrict__ window,
                  Taps taps, float2* __restrict__ out, int channels, int pulses, int used,
                  int gates, int fft_size) {
  const int rows = channels * used;
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const int c = r / used, p = r % used;
    const float2* col0 = in + (static_cast<size_t>(c) * pulses) * in_stride;
    float2* dst = out + (static_cast<size_t>(c) * fft_size + p) * gates;
    const float w = window[p];
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < gates; n += gridDim.x * blockDim.x) {
      auto y = [&](int q) {
        const float2 v = col0[static_cast<size_t>(q) * in_stride + n];
        return Complex{v.x, v.y};
      };
      const Complex s = stage_math::mti_window_sample(y, p, taps.order, taps.t, w);
      dst[n] = make_float2(s.re, s.im);
    }
  }
}

// maps[map][d][n] = sum over the map's channels of |spec[c][src(d)][n]|^2, channels in order.
__global__ void __launch_bounds__(256)
    power_kernel(const float2* __restrict__ spec, float* __restrict__ maps, int channels,
                 int fft_size, int gates, int combine) {
  const int n_maps = combine ? 1 : channels;
  const int rows = n_maps * fft_size;
  const size_t plane = static_cast<size_t>(fft_size) * gates;
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const int map = r / fft_size, d = r % fft_size;
    const int k = stage_math::doppler_source_bin(d, fft_size);
    const int c0 = combine ? 0 : map, c1 = combine ? channels : map + 1;
    float* dst = maps + static_cast<size_t>(r) * gates;
    for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < gates; n += gridDim.x * blockDim.x) {
      float acc = 0.0f;
      for (int c = c0; c < c1; ++c) {
        const float2 v = spec[c * plane + static_cast<size_t>(k) * gates + n];
        const float p = power_of(v.x, v.y);
        acc = c == c0 ? p : acc + p;
      }
      dst[n] = acc;
    }
  }
}

}  // namespace

DopplerProcessor::DopplerProcessor(const DopplerConfig& config)
    : channels_(config.channels),
      pulses_(config.pulses),
      gates_(config.gates),
      fft_size_(config.fft_size),
      used_(cpu::mti_output_pulses(config.mti, config.pulses)),
      combine_(config.combine == ChannelCombine::Noncoherent),
      mti_code_(cpu::mti_code(config.mti)) {
  if (channels_ < 1 || gates_ < 1)
    throw std::invalid_argument("cuda doppler: channels and gates must be >= 1");
  if (used_ < 1)
    throw std::invalid_argument("cuda doppler: " + std::to_string(pulses_) +
                                " pulses leave none after MTI " + to_string(config.mti));
  if (fft_size_ < used_)
    throw std::invalid_argument("cuda doppler: fft_size " + std::to_string(fft_size_) +
                                " is shorter than the " + std::to_string(used_) +
                                " pulses left after MTI");
  window_host_ = cpu::unit_energy_doppler_window(config.window, used_);  // the CPU's floats
  window_ = DeviceBuffer<float>(used_);
  RP_CUDA_CHECK(cudaMemcpy(window_.data(), window_host_.data(), used_ * sizeof(float),
                           cudaMemcpyHostToDevice));
  gathered_ = DeviceBuffer<float2>(channels_ * fft_size_ * gates_);  // zero rows stay zero
  spectrum_ = DeviceBuffer<float2>(channels_ * fft_size_ * gates_);
  const int m = static_cast<int>(fft_size_), n = static_cast<int>(gates_);
  plan_ = FftPlan(m, n, n, 1, n, 1);
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

void DopplerProcessor::gather_and_transform(const cf32* d_in, std::size_t in_stride,
                                            cudaStream_t s) {
  Taps taps{};
  taps.order = mti_taps(mti_code_, taps.t);
  const int c = static_cast<int>(channels_), used = static_cast<int>(used_),
            n = static_cast<int>(gates_);
  gather_kernel<<<row_grid(n, c * used), 256, 0, s>>>(
      reinterpret_cast<const float2*>(d_in), static_cast<int>(in_stride), window_.data(), taps,
      gathered_.data(), c, static_cast<int>(pulses_), used, n, static_cast<int>(fft_size_));
  RP_CUDA_CHECK_LAUNCH();
  plan_.set_stream(s);
  const std::size_t plane = fft_size_ * gates_;
  for (std::size_t ch = 0; ch < channels_; ++ch)
    plan_.execute(gathered_.data() + ch * plane, spectrum_.data() + ch * plane, CUFFT_FORWARD);
}

void DopplerProcessor::spectrum(const cf32* d_in, std::size_t in_stride, cudaStream_t s) {
  gather_and_transform(d_in, in_stride, s);
}

void DopplerProcessor::process(const cf32* d_in, std::size_t in_stride, float* d_maps,
                               cudaStream_t s) {
  gather_and_transform(d_in, in_stride, s);
  const int rows = static_cast<int>(maps() * fft_size_);
  power_kernel<<<row_grid(static_cast<int>(gates_), rows), 256, 0, s>>>(
      spectrum_.data(), d_maps, static_cast<int>(channels_), static_cast<int>(fft_size_),
      static_cast<int>(gates_), combine_ ? 1 : 0);
  RP_CUDA_CHECK_LAUNCH();
}

void DopplerProcessor::transforms_only(cudaStream_t s) {
  plan_.set_stream(s);
  const std::size_t plane = fft_size_ * gates_;
  for (std::size_t ch = 0; ch < channels_; ++ch)
    plan_.execute(gathered_.data() + ch * plane, spectrum_.data() + ch * plane, CUFFT_FORWARD);
}

std::size_t DopplerProcessor::bytes_moved() const {
  const std::size_t rows_in = channels_ * (used_ + (pulses_ - used_)) * gates_;
  const std::size_t plane = channels_ * fft_size_ * gates_;
  // gather: read the compressed samples (each row once; the taps re-read neighbours from
  // cache), write P' rows; FFT: read + write M rows; power: read M rows, write the maps.
  return rows_in * 8 + channels_ * used_ * gates_ * 8 + 2 * plane * 8 + plane * 8 +
         maps() * fft_size_ * gates_ * 4;
}

}  // namespace radarpipe::cuda
