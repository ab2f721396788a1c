#include "tests/support/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace radarpipe::test {
namespace {
constexpr double kC = 299792458.0;
constexpr double kTwoPi = 6.283185307179586476925;
}  // namespace

std::vector<cd> direct_correlation(const std::vector<cd>& x, const std::vector<cd>& h) {
  std::vector<cd> y(x.size());
  for (std::size_t m = 0; m < x.size(); ++m) {
    cd acc = 0;
    for (std::size_t k = 0; k < h.size() && m + k < x.size(); ++k)
      acc += x[m + k] * std::conj(h[k]);
    y[m] = acc;
  }
  return y;
}

std::vector<cd> direct_dft(const std::vector<cd>& x, std::size_t m) {
  std::vector<cd> out(m);
  for (std::size_t k = 0; k < m; ++k) {
    cd acc = 0;
    for (std::size_t p = 0; p < x.size(); ++p)
      acc += x[p] *
             std::polar(1.0, -kTwoPi * static_cast<double>((p * k) % m) / static_cast<double>(m));
    out[k] = acc;
  }
  return out;
}

std::vector<cf32> to_cf32(const std::vector<cd>& x) {
  std::vector<cf32> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    v[i] = cf32(static_cast<float>(x[i].real()), static_cast<float>(x[i].imag()));
  return v;
}

std::vector<cd> complex_noise(std::size_t n, double variance, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, std::sqrt(variance / 2.0));
  std::vector<cd> v(n);
  for (cd& z : v) {
    const double re = g(rng);
    z = cd(re, g(rng));
  }
  return v;
}

std::vector<float> exponential_map(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> e(1.0);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(e(rng));
  return v;
}

std::vector<RefCrossing> brute_force_cfar(const std::vector<float>& map, std::size_t md,
                                          std::size_t n, const CfarConfig& c,
                                          const std::vector<double>& alpha,
                                          const std::vector<std::size_t>& os_k) {
  const long gr = static_cast<long>(c.guard_range), gd = static_cast<long>(c.guard_doppler);
  const long big_r = gr + static_cast<long>(c.train_range);
  const long big_d = gd + static_cast<long>(c.train_doppler);
  std::vector<RefCrossing> out;
  std::vector<float> all;
  for (std::size_t d = 0; d < md; ++d) {
    for (std::size_t m = 0; m < n; ++m) {
      double s_lead = 0, s_lag = 0;
      std::size_t n_lead = 0, n_lag = 0;
      all.clear();
      for (long dr = -big_r; dr <= big_r; ++dr) {
        const long mm = static_cast<long>(m) + dr;
        if (mm < 0 || mm >= static_cast<long>(n)) continue;
        for (long dd = -big_d; dd <= big_d; ++dd) {
          if (std::labs(dr) <= gr && std::labs(dd) <= gd) continue;
          const long row =
              ((static_cast<long>(d) + dd) % static_cast<long>(md) + static_cast<long>(md)) %
              static_cast<long>(md);
          const float v = map[static_cast<std::size_t>(row) * n + static_cast<std::size_t>(mm)];
          all.push_back(v);
          const bool leading = dr < 0 || (dr == 0 && dd < 0);
          if (leading) {
            s_lead += v;
            ++n_lead;
          } else {
            s_lag += v;
            ++n_lag;
          }
        }
      }
      const float p = map[d * n + m];
      double z = 0;
      bool hit = false;
      if (c.type == CfarType::Os) {
        std::sort(all.begin(), all.end());
        const float xk = all[os_k[m] - 1];
        z = xk;
        hit = p > static_cast<float>(alpha[m]) * xk;
      } else {
        const double mean_lead = n_lead ? s_lead / static_cast<double>(n_lead) : 0.0;
        const double mean_lag = n_lag ? s_lag / static_cast<double>(n_lag) : 0.0;
        if (c.type == CfarType::Ca || n_lead == 0 || n_lag == 0)
          z = (s_lead + s_lag) / static_cast<double>(n_lead + n_lag);
        else if (c.type == CfarType::Go)
          z = std::max(mean_lead, mean_lag);
        else
          z = std::min(mean_lead, mean_lag);
        hit = static_cast<double>(p) > alpha[m] * z;
      }
      if (hit) out.push_back({d, m, z});
    }
  }
  return out;
}

cd model_pulse(const WaveformConfig& w, double t) {
  switch (w.type) {
    case WaveformType::Lfm: {
      if (t < 0 || t >= w.pulse_width_s) return 0;
      const double b = w.direction * w.bandwidth_hz;
      return std::polar(1.0, kTwoPi * (-b / 2 * t + b / (2 * w.pulse_width_s) * t * t));
    }
    case WaveformType::Barker: {
      static const char* codes[14] = {nullptr, nullptr,       "+-",      "++-",          "++-+",
                                      "+++-+", nullptr,       "+++--+-", nullptr,        nullptr,
                                      nullptr, "+++---+--+-", nullptr,   "+++++--++-+-+"};
      if (t < 0) return 0;
      const long chip = static_cast<long>(std::floor(t / w.chip_width_s));
      if (chip >= w.barker_length) return 0;
      return codes[w.barker_length][chip] == '+' ? 1.0 : -1.0;
    }
    case WaveformType::Rect:
      return (t >= 0 && t < w.pulse_width_s) ? 1.0 : 0.0;
  }
  return 0;
}

void add_echoes(Cpi& cpi, const RadarConfig& r, const std::vector<Target>& targets,
                const std::vector<cd>& gains) {
  const double lambda = kC / r.center_frequency_hz;
  for (std::size_t c = 0; c < cpi.shape.channels; ++c) {
    const cd g = gains.empty() ? cd(1.0) : gains[c];
    for (std::size_t p = 0; p < cpi.shape.pulses; ++p) {
      cf32* row = cpi.row(c, p);
      for (const Target& tg : targets) {
        const double td = 2.0 * tg.range_m / kC;
        const double fd = -2.0 * tg.range_rate_mps / lambda;
        for (std::size_t n = 0; n < cpi.shape.gates; ++n) {
          const double t = r.window_start_s + static_cast<double>(n) / r.sample_rate_hz;
          const cd s = model_pulse(r.waveform, t - td);
          if (s == cd(0.0)) continue;
          const cd e =
              tg.amplitude * s *
              std::polar(1.0, kTwoPi * fd * (static_cast<double>(p) * r.pri_s + t) + tg.phase_rad) *
              g;
          row[n] += cf32(static_cast<float>(e.real()), static_cast<float>(e.imag()));
        }
      }
    }
  }
}

void add_noise(Cpi& cpi, double sigma2, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, static_cast<float>(std::sqrt(sigma2 / 2.0)));
  for (cf32& z : cpi.samples) {
    const float re = g(rng);
    z += cf32(re, g(rng));
  }
}

Mode example_mode() {
  Mode m;
  m.radar.center_frequency_hz = 9.4e9;
  m.radar.sample_rate_hz = 20.0e6;
  m.radar.pri_s = 100.0e-6;
  m.radar.range_gates = 1800;
  m.radar.window_start_s = 0.0;
  m.radar.channels = 1;
  m.radar.waveform = WaveformConfig{};
  m.radar.waveform.type = WaveformType::Lfm;
  m.radar.waveform.pulse_width_s = 10.0e-6;
  m.radar.waveform.bandwidth_hz = 15.0e6;
  m.processing.pulses = 128;
  m.processing.range_window = WindowConfig{WindowType::Hamming};
  m.processing.doppler_window = WindowConfig{WindowType::Taylor, 4, 35.0};
  m.processing.doppler_fft_size = 128;
  m.processing.fft_planning = FftPlanning::Estimate;
  m.processing.cfar = CfarConfig{};
  return m;
}

std::string source_path(const std::string& relative) {
  const char* root = std::getenv("RADARPIPE_SOURCE_DIR");
  return std::string(root ? root : ".") + "/" + relative;
}

}  // namespace radarpipe::test
