#include "pipeline/commands/expected_snr.hpp"

#include <cmath>

#include "core/pulse.hpp"
#include "core/radar_math.hpp"
#include "kernels/cpu/waveform.hpp"
#include "kernels/cpu/window.hpp"

namespace radarpipe {

using cd = std::complex<double>;

ExpectedSnr::ExpectedSnr(const Mode& mode, std::vector<cd> gains)
    : mode_(mode), geo_(derive_geometry(mode)) {
  const std::vector<cd> s = cpu::sample_waveform(mode.radar.waveform, mode.radar.sample_rate_hz);
  const std::vector<double> w = cpu::make_window(mode.processing.range_window, s.size());
  double energy = 0;
  reference_.resize(s.size());
  for (std::size_t k = 0; k < s.size(); ++k) {
    reference_[k] = w[k] * s[k];
    energy += std::norm(reference_[k]);
  }
  for (cd& h : reference_) h /= std::sqrt(energy);
  doppler_window_ = cpu::make_window(mode.processing.doppler_window, geo_.pulses_after_mti);
  float taps[3];
  const int order = mti_taps(mode.processing.mti == MtiMode::None       ? 0
                             : mode.processing.mti == MtiMode::TwoPulse ? 1
                                                                        : 2,
                             taps);
  for (int j = 0; j <= order; ++j) mti_taps_.push_back(taps[j]);
  const std::size_t C = mode.radar.channels;
  double sum = 0, best = 0;
  for (std::size_t c = 0; c < C; ++c) {
    const double g2 = gains.empty() ? 1.0 : std::norm(gains[c]);
    sum += g2;
    best = std::max(best, g2);
  }
  channel_factor_ = mode.processing.channel_combine == ChannelCombine::Noncoherent
                        ? sum / static_cast<double>(C)
                        : best;
}

double ExpectedSnr::range_gain(double m, double delay, double fd) const {
  // y[m] = sum_k x[m + k] conj(h[k]), x[n] = s((n - delay)/fs) exp(j 2 pi fd n / fs); the noise
  // gain is sum |h|^2 = 1.
  const double fs = mode_.radar.sample_rate_hz;
  cd acc = 0;
  for (std::size_t k = 0; k < reference_.size(); ++k) {
    const double n = m + static_cast<double>(k);
    double re, im;
    pulse_sample(mode_.radar.waveform, (n - delay) / fs, fs, &re, &im);
    acc += cd(re, im) * std::polar(1.0, 2.0 * kPi * fd * n / fs) * std::conj(reference_[k]);
  }
  return std::norm(acc);
}

double ExpectedSnr::doppler_gain(double d, double fd) const {
  // Y_d = sum_q G_d[q] y[q] with G_d[q] = sum_{p + j = q} w[p] taps[j] e^{-j 2 pi p (d - M/2)/M};
  // signal y[q] = e^{j 2 pi fd q PRI}; white noise gain sum_q |G_d[q]|^2.
  const double M = static_cast<double>(mode_.processing.doppler_fft_size);
  const double pri = mode_.radar.pri_s;
  const std::size_t P = mode_.processing.pulses;
  std::vector<cd> g(P, cd(0, 0));
  for (std::size_t p = 0; p < doppler_window_.size(); ++p) {
    const cd e = doppler_window_[p] *
                 std::polar(1.0, -2.0 * kPi * static_cast<double>(p) * (d - M / 2.0) / M);
    for (std::size_t j = 0; j < mti_taps_.size(); ++j) g[p + j] += e * mti_taps_[j];
  }
  cd sig = 0;
  double noise = 0;
  for (std::size_t q = 0; q < P; ++q) {
    sig += g[q] * std::polar(1.0, 2.0 * kPi * fd * static_cast<double>(q) * pri);
    noise += std::norm(g[q]);
  }
  return noise > 0 ? std::norm(sig) / noise : 0.0;
}

void ExpectedSnr::fill(io::TargetTruth& t) const {
  const double snr = std::pow(10.0, t.cpi_snr_db / 10.0) * channel_factor_;
  const double M = static_cast<double>(mode_.processing.doppler_fft_size);
  const double ideal = snr * range_gain(t.range_bin, t.range_bin, t.doppler_hz) *
                       doppler_gain(t.doppler_bin, t.doppler_hz);
  double best_r = 0;
  for (double m = std::floor(t.range_bin) - 1; m <= std::ceil(t.range_bin) + 1; m += 1)
    best_r = std::max(best_r, range_gain(m, t.range_bin, t.doppler_hz));
  double best_d = 0;
  for (double d = std::floor(t.doppler_bin) - 1; d <= std::ceil(t.doppler_bin) + 1; d += 1) {
    const double dd = std::fmod(d + M, M);
    best_d = std::max(best_d, doppler_gain(dd, t.doppler_hz));
  }
  auto db = [](double v) { return v > 0 ? 10.0 * std::log10(v) : -300.0; };
  t.ideal_snr_db = db(ideal);
  t.expected_snr_db = db(snr * best_r * best_d);
}

}  // namespace radarpipe
