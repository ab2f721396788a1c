#include "io/simulator.hpp"

#include <algorithm>
#include <random>

#include "core/pulse.hpp"
#include "core/radar_math.hpp"

namespace radarpipe::io {
namespace {

using cd = std::complex<double>;

// One complex draw, Q's number drawn before I's. Drawn in sequence because a constructor's
// arguments (cd(d(rng), d(rng))) are evaluated in an unspecified order: the same seed gave
// other samples under clang than under gcc. The order is gcc's (right to left), so that a
// scenario and seed give the recordings they gave before, now with every compiler.
template <class Dist, class Rng>
cd draw_iq(Dist& d, Rng& rng) {
  const double q = d(rng);
  const double i = d(rng);
  return {i, q};
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

cd pulse_at(const WaveformConfig& w, double t_s, double fs) {
  double re, im;
  pulse_sample(w, t_s, fs, &re, &im);
  return {re, im};
}

}  // namespace

void Scenario::validate(const Mode& mode) const {
  auto fail = [](const std::string& key, const std::string& msg) { throw ConfigError(key, msg); };
  if (!(noise_power >= 0) || !std::isfinite(noise_power))
    fail("noise_power", std::to_string(noise_power) + " is not >= 0");
  const double fs = mode.radar.sample_rate_hz;
  if (!(noise_bandwidth_hz == 0 || (noise_bandwidth_hz >= fs / 64 && noise_bandwidth_hz <= fs / 4)))
    fail("noise_bandwidth_hz", std::to_string(noise_bandwidth_hz) +
                                   " is neither 0 (white) nor in [fs/64, fs/4] = [" +
                                   std::to_string(fs / 64) + ", " + std::to_string(fs / 4) + "]");
  if (!channel_gains.empty() && channel_gains.size() != mode.radar.channels)
    fail("channel_gains",
         "has " + std::to_string(channel_gains.size()) +
             " entries but the mode has radar.channels = " + std::to_string(mode.radar.channels));
  const double vmax = kSpeedOfLight_mps / 100.0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const ScenarioTarget& t = targets[i];
    const std::string key = "targets[" + std::to_string(i) + "]";
    if (!(t.range_m >= 0) || !std::isfinite(t.range_m))
      fail(key + ".range_m", std::to_string(t.range_m) + " is not >= 0");
    if (!(std::fabs(t.range_rate_mps) < vmax))
      fail(key + ".range_rate_mps",
           std::to_string(t.range_rate_mps) + " is not in (-c/100, c/100)");
    if (!(std::fabs(t.acceleration_mps2) <= 1000))
      fail(key + ".acceleration_mps2",
           std::to_string(t.acceleration_mps2) + " is not in [-1000, 1000]");
    if (!(t.snr_db >= -100 && t.snr_db <= 100))
      fail(key + ".snr_db", std::to_string(t.snr_db) + " is not in [-100, 100]");
    if (!(t.start_s >= 0 && t.start_s <= 1e9))
      fail(key + ".start_s", std::to_string(t.start_s) + " is not in [0, 10^9] s");
    if (!(t.end_s == 0 || (t.end_s > t.start_s && t.end_s <= 1e9)))
      fail(key + ".end_s", std::to_string(t.end_s) + " is neither 0 (never) nor after start_s (" +
                               std::to_string(t.start_s) + " s) and <= 10^9 s");
    if (!(t.micro_motion_m >= 0 && t.micro_motion_m <= 100))
      fail(key + ".micro_motion_m", std::to_string(t.micro_motion_m) + " is not in [0, 100] m");
    if (!(t.micro_motion_period_s >= 0.01 && t.micro_motion_period_s <= 1e6))
      fail(key + ".micro_motion_period_s",
           std::to_string(t.micro_motion_period_s) + " is not in [0.01, 10^6] s");
  }
  const double prf = 1.0 / mode.radar.pri_s;
  for (std::size_t i = 0; i < clutter.size(); ++i) {
    const ClutterPatch& c = clutter[i];
    const std::string key = "clutter[" + std::to_string(i) + "]";
    if (!(c.range_start_m >= 0))
      fail(key + ".range_start_m", std::to_string(c.range_start_m) + " is not >= 0");
    if (!(c.range_end_m > c.range_start_m))
      fail(key + ".range_end_m", std::to_string(c.range_end_m) + " is not > range_start_m (" +
                                     std::to_string(c.range_start_m) + ")");
    if (!(c.cnr_db >= -100 && c.cnr_db <= 100))
      fail(key + ".cnr_db", std::to_string(c.cnr_db) + " is not in [-100, 100]");
    if (!std::isnan(c.cnr_end_db) && !(c.cnr_end_db >= -100 && c.cnr_end_db <= 100))
      fail(key + ".cnr_end_db", std::to_string(c.cnr_end_db) + " is not in [-100, 100]");
    if (!(c.steady_fraction >= 0 && c.steady_fraction <= 1))
      fail(key + ".steady_fraction", std::to_string(c.steady_fraction) + " is not in [0, 1]");
    if (!(c.spread_hz >= 0 && c.spread_hz < prf / 2))
      fail(key + ".spread_hz",
           std::to_string(c.spread_hz) + " is not in [0, PRF/2 = " + std::to_string(prf / 2) + ")");
  }
}

Simulator::Simulator(const Mode& mode, const Scenario& scenario)
    : mode_(mode), scenario_(scenario) {
  mode_.validate();
  scenario_.validate(mode_);
  geo_ = derive_geometry(mode_);
  pulse_.resize(geo_.waveform_samples);
  for (std::size_t k = 0; k < pulse_.size(); ++k)
    pulse_[k] = pulse_at(mode_.radar.waveform, static_cast<double>(k) / mode_.radar.sample_rate_hz,
                         mode_.radar.sample_rate_hz);
  if (scenario_.noise_bandwidth_hz > 0) {
    // A Gaussian IF filter of -3 dB (two-sided) bandwidth B: |H(f)|^2 = exp(-4 ln2 f^2 / B^2),
    // impulse response h(t) ~ exp(-t^2 / (2 s^2)) with s = sqrt(ln 2) / (pi B), taken over
    // +-6 s (the tails below 1e-8 of the peak), scaled to unit energy so the noise keeps sigma^2.
    const double s_samples = std::sqrt(std::log(2.0)) / (kPi * scenario_.noise_bandwidth_hz) *
                             mode_.radar.sample_rate_hz;
    const std::size_t half = static_cast<std::size_t>(std::ceil(6.0 * s_samples));
    noise_filter_.resize(2 * half + 1);
    double energy = 0;
    for (std::size_t t = 0; t < noise_filter_.size(); ++t) {
      const double u = (static_cast<double>(t) - static_cast<double>(half)) / s_samples;
      noise_filter_[t] = std::exp(-0.5 * u * u);
      energy += noise_filter_[t] * noise_filter_[t];
    }
    for (double& h : noise_filter_) h /= std::sqrt(energy);
  }
}

CpiShape Simulator::shape() const {
  return {mode_.radar.channels, mode_.processing.pulses, mode_.radar.range_gates};
}

std::int64_t Simulator::timestamp_ns(std::uint64_t k) const {
  const double t =
      static_cast<double>(k) * static_cast<double>(mode_.processing.pulses) * mode_.radar.pri_s;
  return scenario_.start_ns + static_cast<std::int64_t>(std::llround(t * 1e9));
}

std::complex<double> Simulator::gain(std::size_t c) const {
  return scenario_.channel_gains.empty() ? cd(1.0, 0.0) : scenario_.channel_gains[c];
}

double Simulator::peak_amplitude() const {
  double a = 5.0 * std::sqrt(scenario_.noise_power);
  double g = 1.0;
  for (std::size_t c = 0; c < mode_.radar.channels; ++c) g = std::max(g, std::abs(gain(c)));
  for (const ScenarioTarget& t : scenario_.targets)
    a += 2.0 * g * std::sqrt(scenario_.noise_power * std::pow(10.0, t.snr_db / 10.0));
  // A clutter sample sums the L scatterers under the pulse: complex Gaussian of power L CNR
  // sigma^2; 4.5 of its standard deviations are exceeded with probability e^-20.
  for (const ClutterPatch& p : scenario_.clutter)
    a += 4.5 * g *
         std::sqrt(scenario_.noise_power *
                   std::pow(10.0, std::fmax(p.cnr_db,
                                            std::isnan(p.cnr_end_db) ? p.cnr_db : p.cnr_end_db) /
                                      10.0) *
                   static_cast<double>(geo_.waveform_samples));
  return a;
}

void Simulator::generate(std::uint64_t k, Cpi& cpi, CpiTruth& truth) const {
  const CpiShape s = shape();
  if (!(cpi.shape == s)) cpi = Cpi(s);
  const RadarConfig& r = mode_.radar;
  const double fs = r.sample_rate_hz, pri = r.pri_s, t0 = r.window_start_s;
  const double lambda = geo_.wavelength_m;
  const std::size_t N = s.gates, P = s.pulses, C = s.channels, L = geo_.waveform_samples;
  const auto M = static_cast<long>(mode_.processing.doppler_fft_size);
  const double t_cpi = static_cast<double>(k) * static_cast<double>(P) * pri;

  cpi.id = k;
  cpi.timestamp_ns = timestamp_ns(k);
  truth.cpi = k;
  truth.timestamp_ns = cpi.timestamp_ns;
  truth.targets.clear();

  std::mt19937_64 rng(splitmix(scenario_.seed ^ splitmix(k + 1)));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  // Noise: circular complex Gaussian, variance sigma^2 per complex sample; through the
  // receiver filter when it has a bandwidth (each row filtered from samples of its own that
  // start before it, so every sample of the row is a steady-state output).
  const double sn = std::sqrt(scenario_.noise_power / 2.0);
  if (noise_filter_.empty()) {
    for (cf32& x : cpi.samples) {
      const double q = normal(rng), i = normal(rng);  // in this order: see draw_iq's comment
      x = cf32(static_cast<float>(sn * i), static_cast<float>(sn * q));
    }
  } else {
    const std::size_t taps = noise_filter_.size();
    std::vector<cd> white(N + taps - 1);
    for (std::size_t row = 0; row < C * P; ++row) {
      for (cd& w : white) w = sn * draw_iq(normal, rng);
      cf32* x = cpi.samples.data() + row * N;
      for (std::size_t n = 0; n < N; ++n) {
        cd acc = 0;
        for (std::size_t t = 0; t < taps; ++t) acc += noise_filter_[t] * white[n + t];
        x[n] = cf32(static_cast<float>(acc.real()), static_cast<float>(acc.imag()));
      }
    }
  }

  std::vector<cd> row(N);
  // Targets: x[c][p][n] += A s(t0 + n/fs - t_d) exp(j 2 pi f_D (p PRI + t0 + n/fs)) e^{j phi} g_c.
  for (const ScenarioTarget& tg : scenario_.targets) {
    if (t_cpi < tg.start_s - 1e-12 || (tg.end_s > 0 && t_cpi >= tg.end_s - 1e-12)) continue;
    const double sway = 2.0 * kPi / tg.micro_motion_period_s;
    const double range = tg.range_m + tg.range_rate_mps * t_cpi +
                         0.5 * tg.acceleration_mps2 * t_cpi * t_cpi +
                         tg.micro_motion_m * std::sin(sway * t_cpi);
    const double rate = tg.range_rate_mps + tg.acceleration_mps2 * t_cpi +
                        tg.micro_motion_m * sway * std::cos(sway * t_cpi);
    const double fd = doppler_of_range_rate_hz(rate, lambda);
    double power = std::pow(10.0, tg.snr_db / 10.0);
    if (tg.swerling == Swerling::One) {
      power *= -std::log(1.0 - uniform(rng));  // exponential, mean 1
    } else if (tg.swerling == Swerling::Three) {
      power *=
          0.5 * (-std::log(1.0 - uniform(rng)) - std::log(1.0 - uniform(rng)));  // Gamma(2, 1/2)
    }
    const double phi = 2.0 * kPi * uniform(rng);
    const double amp = std::sqrt(power * scenario_.noise_power);

    TargetTruth t;
    t.name = tg.name;
    t.range_m = range;
    t.range_rate_mps = rate;
    t.doppler_hz = fd;
    const double delay_s = 2.0 * range / kSpeedOfLight_mps;
    t.range_bin = (delay_s - t0) * fs;
    double db = bin_of_doppler(fd, M, geo_.prf_hz);
    db = std::fmod(db, static_cast<double>(M));
    if (db < 0) db += static_cast<double>(M);
    if (db >= static_cast<double>(M) - 0.5) db -= static_cast<double>(M);
    t.doppler_bin = db;
    t.apparent_range_rate_mps =
        range_rate_of_doppler_mps(doppler_of_bin_hz(db, M, geo_.prf_hz), lambda);
    t.snr_db = tg.snr_db;
    t.cpi_snr_db = 10.0 * std::log10(std::max(power, 1e-300));
    t.in_window = t.range_bin > -0.5 && t.range_bin < static_cast<double>(N) - 0.5;
    t.eclipsed = t.range_bin > static_cast<double>(N) - static_cast<double>(L);
    truth.targets.push_back(t);

    // Samples n where the pulse is on: 0 <= t0 + n/fs - t_d < duration.
    const double dur = mode_.radar.waveform.duration_s();
    const double n_lo = std::ceil(t.range_bin - 1e-9);
    const double n_hi = std::ceil((delay_s + dur - t0) * fs);
    const long lo = static_cast<long>(std::max(0.0, n_lo));
    const long hi = static_cast<long>(std::min(static_cast<double>(N), n_hi));
    if (hi <= lo || power == 0.0) continue;
    const cd a0 = amp * std::polar(1.0, phi);
    for (long n = lo; n < hi; ++n) {
      const double tn = t0 + static_cast<double>(n) / fs;
      row[static_cast<std::size_t>(n)] =
          a0 * pulse_at(r.waveform, tn - delay_s, fs) * std::polar(1.0, 2.0 * kPi * fd * tn);
    }
    for (std::size_t c = 0; c < C; ++c) {
      const cd g = gain(c);
      for (std::size_t p = 0; p < P; ++p) {
        const cd rot = g * std::polar(1.0, 2.0 * kPi * fd * static_cast<double>(p) * pri);
        cf32* x = cpi.row(c, p);
        for (long n = lo; n < hi; ++n) {
          const cd v = rot * row[static_cast<std::size_t>(n)];
          x[n] += cf32(static_cast<float>(v.real()), static_cast<float>(v.imag()));
        }
      }
    }
  }

  // Clutter: one scatterer per range sample, each a sum of K random Doppler components.
  constexpr int kComponents = 8;
  std::vector<cd> series(P);
  for (std::size_t pi = 0; pi < scenario_.clutter.size(); ++pi) {
    const ClutterPatch& patch = scenario_.clutter[pi];
    const double first = std::ceil(bin_of_range(patch.range_start_m, t0, fs));
    const double last = std::floor(bin_of_range(patch.range_end_m, t0, fs));
    const long m_lo = static_cast<long>(std::max(first, -static_cast<double>(L) + 1.0));
    const long m_hi = static_cast<long>(std::min(last, static_cast<double>(N) - 1.0));
    const bool ramp = !std::isnan(patch.cnr_end_db);
    for (long m = m_lo; m <= m_hi; ++m) {
      // The CNR (dB) at this scatterer's range: linear from range_start_m to range_end_m.
      double cnr_db = patch.cnr_db;
      if (ramp) {
        const double at_m = range_of_bin_m(static_cast<double>(m), t0, fs);
        const double u = std::clamp(
            (at_m - patch.range_start_m) / (patch.range_end_m - patch.range_start_m), 0.0, 1.0);
        cnr_db += u * (patch.cnr_end_db - patch.cnr_db);
      }
      const double power = scenario_.noise_power * std::pow(10.0, cnr_db / 10.0);
      const double comp_sigma =
          std::sqrt(power * (1.0 - patch.steady_fraction) / kComponents / 2.0);
      // The steady part: one amplitude per scatterer for the whole scenario, from a generator
      // of its own (so the fluctuating draws are those of a patch without one).
      cd steady(0.0, 0.0);
      if (patch.steady_fraction > 0) {
        std::mt19937_64 ground(splitmix(scenario_.seed ^ splitmix(0x5bd1e995ULL + pi) ^
                                        splitmix(static_cast<std::uint64_t>(m - m_lo))));
        std::normal_distribution<double> g(0.0, std::sqrt(power * patch.steady_fraction / 2.0));
        steady = draw_iq(g, ground);
      }
      std::fill(series.begin(), series.end(), steady);
      for (int i = 0; i < kComponents; ++i) {
        const double f = patch.spread_hz * normal(rng);
        const cd a = comp_sigma * draw_iq(normal, rng);
        for (std::size_t p = 0; p < P; ++p)
          series[p] += a * std::polar(1.0, 2.0 * kPi * f * static_cast<double>(p) * pri);
      }
      const long k_lo = std::max(0L, -m);
      const long k_hi = std::min(static_cast<long>(L), static_cast<long>(N) - m);
      for (std::size_t c = 0; c < C; ++c) {
        const cd g = gain(c);
        for (std::size_t p = 0; p < P; ++p) {
          const cd v0 = g * series[p];
          cf32* x = cpi.row(c, p) + m;
          for (long kk = k_lo; kk < k_hi; ++kk) {
            const cd v = v0 * pulse_[static_cast<std::size_t>(kk)];
            x[kk] += cf32(static_cast<float>(v.real()), static_cast<float>(v.imag()));
          }
        }
      }
    }
  }
}

}  // namespace radarpipe::io
