// Compiles the model's shared per-element math (core/radar_math.hpp and the waveform's
// pulse_value) for the device, so that nvcc checks in CI that the functions the CUDA stages use
// stay __host__ __device__-clean, and offers a device-side evaluation used by the GPU tests.
#include "core/radar_math.hpp"
#include "kernels/cpu/waveform.hpp"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/shared_math.cuh"

namespace radarpipe::cuda {
namespace {

__global__ void __launch_bounds__(256)
    pulse_values_kernel(WaveformConfig w, double fs, int n, double* d_re, double* d_im) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= n) return;
  pulse_value(w, k / fs, d_re + k, d_im + k);
}

__global__ void __launch_bounds__(256)
    range_of_bins_kernel(double t0, double fs, int n, double* d_out) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k < n) d_out[k] = range_of_bin_m(k, t0, fs);
}

}  // namespace

void evaluate_pulse_on_device(const WaveformConfig& w, double fs, int n, double* h_re,
                              double* h_im) {
  double *d_re = nullptr, *d_im = nullptr;
  RP_CUDA_CHECK(cudaMalloc(&d_re, sizeof(double) * n));
  RP_CUDA_CHECK(cudaMalloc(&d_im, sizeof(double) * n));
  pulse_values_kernel<<<(n + 255) / 256, 256>>>(w, fs, n, d_re, d_im);
  RP_CUDA_CHECK_LAUNCH();
  RP_CUDA_CHECK(cudaMemcpy(h_re, d_re, sizeof(double) * n, cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(cudaMemcpy(h_im, d_im, sizeof(double) * n, cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(cudaFree(d_re));
  RP_CUDA_CHECK(cudaFree(d_im));
}

void evaluate_ranges_on_device(double t0, double fs, int n, double* h_out) {
  double* d_out = nullptr;
  RP_CUDA_CHECK(cudaMalloc(&d_out, sizeof(double) * n));
  range_of_bins_kernel<<<(n + 255) / 256, 256>>>(t0, fs, n, d_out);
  RP_CUDA_CHECK_LAUNCH();
  RP_CUDA_CHECK(cudaMemcpy(h_out, d_out, sizeof(double) * n, cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(cudaFree(d_out));
}

}  // namespace radarpipe::cuda
