#include "kernels/cpu/waveform.hpp"

#include <cmath>

namespace radarpipe::cpu {

std::size_t waveform_samples(const WaveformConfig& w, double sample_rate_hz) {
  return static_cast<std::size_t>(std::llround(w.duration_s() * sample_rate_hz));
}

std::vector<std::complex<double>> sample_waveform(const WaveformConfig& w, double sample_rate_hz) {
  const std::size_t n = waveform_samples(w, sample_rate_hz);
  std::vector<std::complex<double>> s(n);
  for (std::size_t k = 0; k < n; ++k) {
    double re, im;
    pulse_sample(w, static_cast<double>(k) / sample_rate_hz, sample_rate_hz, &re, &im);
    s[k] = {re, im};
  }
  return s;
}

}  // namespace radarpipe::cpu
