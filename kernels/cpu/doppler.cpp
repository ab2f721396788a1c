#include "kernels/cpu/doppler.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/mti.hpp"
#include "kernels/cpu/window.hpp"
#include "pipeline/core/radar_math.hpp"

namespace radarpipe::cpu {

DopplerProcessor::DopplerProcessor(const DopplerConfig& config)
    : pulses_(config.pulses),
      gates_(config.gates),
      fft_size_(config.fft_size),
      tile_gates_(std::min(config.tile_gates, std::max<std::size_t>(config.gates, 1))),
      mti_code_(mti_code(config.mti)) {
  const std::size_t used = mti_output_pulses(config.mti, config.pulses);
  if (config.gates < 1) throw std::invalid_argument("doppler: gates must be >= 1, got 0");
  if (used < 1)
    throw std::invalid_argument("doppler: " + std::to_string(config.pulses) +
                                " pulses leave none after MTI " + to_string(config.mti));
  if (config.fft_size < used)
    throw std::invalid_argument("doppler: fft_size " + std::to_string(config.fft_size) +
                                " is shorter than the " + std::to_string(used) +
                                " pulses left after MTI");
  if (config.workers < 1 || config.tile_gates < 1)
    throw std::invalid_argument("doppler: workers and tile_gates must be >= 1");

  std::vector<double> w = make_window(config.window, used);
  normalize_energy(w);
  double energy = 0.0;
  for (double v : w) energy += v * v;
  if (!(energy > 0.0))
    throw std::invalid_argument(std::string("doppler: the ") + to_string(config.window.type) +
                                " window of length " + std::to_string(used) + " is all zeros");
  window_.assign(w.begin(), w.end());

  const std::size_t tile_size = fft_size_ * tile_gates_;
  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.gathered = AlignedBuffer<cf32>(tile_size);
    ws.spectrum = AlignedBuffer<cf32>(tile_size);
  }
  const int m = static_cast<int>(fft_size_), t = static_cast<int>(tile_gates_);
  // M-point transforms down the columns of a [p][g] tile: stride T, batch T, distance 1.
  plan_ = FftPlan(m, t, workspaces_[0].gathered.data(), t, 1, workspaces_[0].spectrum.data(), t, 1,
                  FFTW_FORWARD, config.planning);
  for (Workspace& ws : workspaces_)
    std::memset(static_cast<void*>(ws.gathered.data()), 0, tile_size * sizeof(cf32));
}

std::size_t DopplerProcessor::gather(const cf32* in, std::size_t tile, Workspace& ws) const noexcept {
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t width = std::min(tile_gates_, gates_ - g0);
  float taps[3];
  const int order = mti_taps(mti_code_, taps);
  const std::size_t used = window_.size();
  for (std::size_t p = 0; p < used; ++p) {
    float* dst = reinterpret_cast<float*>(ws.gathered.data() + p * tile_gates_);
    const float wp = window_[p];
    const float* r0 = reinterpret_cast<const float*>(in + p * gates_ + g0);
    if (order == 0) {
      for (std::size_t i = 0; i < 2 * width; ++i) dst[i] = wp * r0[i];
    } else {
      const float* r1 = reinterpret_cast<const float*>(in + (p + 1) * gates_ + g0);
      if (order == 1) {
        for (std::size_t i = 0; i < 2 * width; ++i) dst[i] = wp * (taps[0] * r0[i] + taps[1] * r1[i]);
      } else {
        const float* r2 = reinterpret_cast<const float*>(in + (p + 2) * gates_ + g0);
        for (std::size_t i = 0; i < 2 * width; ++i)
          dst[i] = wp * (taps[0] * r0[i] + taps[1] * r1[i] + taps[2] * r2[i]);
      }
    }
  }
  return width;
}

void DopplerProcessor::spectrum_tile(const cf32* in, cf32* out, std::size_t tile,
                                     std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t width = gather(in, tile, ws);
  plan_.execute(ws.gathered.data(), ws.spectrum.data());
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t shift = static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(fft_size_)));
  for (std::size_t k = 0; k < fft_size_; ++k) {
    const std::size_t d = (k + shift) % fft_size_;
    std::memcpy(static_cast<void*>(out + d * gates_ + g0), ws.spectrum.data() + k * tile_gates_,
                width * sizeof(cf32));
  }
}

void DopplerProcessor::power_tile(const cf32* in, float* map, bool accumulate, std::size_t tile,
                                  std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t width = gather(in, tile, ws);
  plan_.execute(ws.gathered.data(), ws.spectrum.data());
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t shift = static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(fft_size_)));
  for (std::size_t k = 0; k < fft_size_; ++k) {
    const std::size_t d = (k + shift) % fft_size_;
    const float* src = reinterpret_cast<const float*>(ws.spectrum.data() + k * tile_gates_);
    float* dst = map + d * gates_ + g0;
    if (accumulate) {
      for (std::size_t i = 0; i < width; ++i) dst[i] += power_of(src[2 * i], src[2 * i + 1]);
    } else {
      for (std::size_t i = 0; i < width; ++i) dst[i] = power_of(src[2 * i], src[2 * i + 1]);
    }
  }
}

void DopplerProcessor::spectrum(const cf32* in, cf32* out) noexcept {
  for (std::size_t t = 0; t < tiles(); ++t) spectrum_tile(in, out, t, 0);
}

void DopplerProcessor::power(const cf32* in, float* map, bool accumulate) noexcept {
  for (std::size_t t = 0; t < tiles(); ++t) power_tile(in, map, accumulate, t, 0);
}

void DopplerProcessor::transforms_only(std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  plan_.execute(ws.gathered.data(), ws.spectrum.data());
}

}  // namespace radarpipe::cpu
