#include "kernels/cpu/pulse_compression.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/window.hpp"

namespace radarpipe::cpu {

PulseCompressor::PulseCompressor(const PulseCompressionConfig& config) : gates_(config.gates) {
  const std::size_t n = config.gates;
  const std::size_t l = config.waveform.size();
  if (n < 1) throw std::invalid_argument("pulse compression: gates must be >= 1, got 0");
  if (l < 1 || l > n)
    throw std::invalid_argument("pulse compression: waveform length " + std::to_string(l) +
                                " is not in [1, gates = " + std::to_string(n) + "]");
  if (config.workers < 1) throw std::invalid_argument("pulse compression: workers must be >= 1");

  // h = w s / ||w s||: unit energy, so white noise keeps its power through the filter.
  std::vector<double> w = make_window(config.window, l);
  std::vector<std::complex<double>> h(l);
  double energy = 0.0;
  for (std::size_t k = 0; k < l; ++k) {
    h[k] = w[k] * config.waveform[k];
    energy += std::norm(h[k]);
  }
  if (!(energy > 0.0))
    throw std::invalid_argument(std::string("pulse compression: the ") +
                                to_string(config.window.type) + " window of length " +
                                std::to_string(l) + " leaves a reference of zero energy");
  reference_.resize(l);
  for (std::size_t k = 0; k < l; ++k) {
    h[k] /= std::sqrt(energy);
    reference_[k] = cf32(static_cast<float>(h[k].real()), static_cast<float>(h[k].imag()));
  }

  fft_size_ = next_fast_fft_size(n + l - 1);
  const int k_size = static_cast<int>(fft_size_);
  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.time = AlignedBuffer<cf32>(fft_size_);
    ws.freq = AlignedBuffer<cf32>(fft_size_);
  }
  cf32* time0 = workspaces_[0].time.data();
  cf32* freq0 = workspaces_[0].freq.data();
  forward_ = FftPlan(k_size, 1, time0, 1, k_size, freq0, 1, k_size, FFTW_FORWARD, config.planning);
  inverse_ = FftPlan(k_size, 1, freq0, 1, k_size, freq0, 1, k_size, FFTW_BACKWARD, config.planning);
  // Planning with MEASURE may have scribbled on the buffers; the zero tail must be zero.
  for (Workspace& ws : workspaces_) std::memset(static_cast<void*>(ws.time.data()), 0, fft_size_ * sizeof(cf32));

  // The filter's spectrum, computed in double by a direct transform of the zero-padded h would
  // be O(K L); instead use the forward plan in float on the padded reference, which is what the
  // correlation's round-off budget (1e-4 relative) allows, then conjugate and fold in 1/K.
  filter_ = AlignedBuffer<cf32>(fft_size_);
  for (std::size_t k = 0; k < l; ++k) time0[k] = reference_[k];
  forward_.execute(time0, filter_.data());
  std::memset(static_cast<void*>(time0), 0, fft_size_ * sizeof(cf32));
  const float scale = 1.0f / static_cast<float>(fft_size_);
  for (std::size_t i = 0; i < fft_size_; ++i)
    filter_[i] = cf32(filter_[i].real() * scale, -filter_[i].imag() * scale);
}

void PulseCompressor::process_rows(const cf32* in, cf32* out, std::size_t rows,
                                   std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  cf32* time = ws.time.data();
  float* freq = reinterpret_cast<float*>(ws.freq.data());
  const float* filt = reinterpret_cast<const float*>(filter_.data());
  const std::size_t n = gates_;
  for (std::size_t r = 0; r < rows; ++r) {
    std::memcpy(static_cast<void*>(time), in + r * n, n * sizeof(cf32));
    forward_.execute(time, ws.freq.data());
    // Complex multiply written out: std::complex's operator* calls __mulsc3 without -ffast-math.
    for (std::size_t i = 0; i < fft_size_; ++i) {
      const float a = freq[2 * i], b = freq[2 * i + 1];
      const float c = filt[2 * i], d = filt[2 * i + 1];
      freq[2 * i] = a * c - b * d;
      freq[2 * i + 1] = a * d + b * c;
    }
    inverse_.execute(ws.freq.data(), ws.freq.data());
    std::memcpy(static_cast<void*>(out + r * n), ws.freq.data(), n * sizeof(cf32));
  }
}

void PulseCompressor::process(const Cpi& in, Cpi& out) noexcept {
  process_rows(in.samples.data(), out.samples.data(), in.shape.channels * in.shape.pulses, 0);
}

void PulseCompressor::transforms_only(std::size_t rows, std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  for (std::size_t r = 0; r < rows; ++r) {
    forward_.execute(ws.time.data(), ws.freq.data());
    inverse_.execute(ws.freq.data(), ws.freq.data());
  }
}

}  // namespace radarpipe::cpu
