// The simulator against the test-side echo generator (tests/support, written from
// RADAR-MODEL.md), Swerling statistics, clutter power, determinism and truth geometry.
#include "io/simulator.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/radar_math.hpp"
#include "tests/support/reference.hpp"

using namespace radarpipe;
using namespace radarpipe::io;

namespace {

Mode small_mode(WaveformType type) {
  Mode m = test::example_mode();
  m.radar.range_gates = 300;
  m.processing.pulses = 16;
  m.processing.doppler_fft_size = 16;
  m.radar.waveform.type = type;
  if (type == WaveformType::Barker) {
    m.radar.waveform.barker_length = 13;
    m.radar.waveform.chip_width_s = 0.5e-6;
  } else {
    m.radar.waveform.pulse_width_s = 2.0e-6;
    m.radar.waveform.bandwidth_hz = 10.0e6;
  }
  return m;
}

// Noise of 1e-8 and one clutter patch from 1000 m of 80 dB CNR (scatterer power 1).
Scenario clutter_scene(double range_end_m) {
  Scenario sc;
  sc.noise_power = 1e-8;
  ClutterPatch p;
  p.range_start_m = 1000;
  p.range_end_m = range_end_m;
  p.cnr_db = 80;
  sc.clutter = {p};
  return sc;
}

}  // namespace

class SimulatorEcho : public ::testing::TestWithParam<WaveformType> {};

TEST_P(SimulatorEcho, MatchesTheModelAtAFractionalDelay) {
  Mode mode = small_mode(GetParam());
  mode.radar.channels = 2;
  mode.radar.window_start_s = 1.0e-6;
  Scenario sc;
  sc.noise_power = 1e-10;  // noise far below the tolerance
  sc.channel_gains = {{1.0, 0.0}, {0.3, -0.4}};
  ScenarioTarget t;
  t.range_m = 1234.567;  // a delay of 164.7... samples: fractional
  t.range_rate_mps = -37.0;
  t.snr_db = 100.0;  // A^2 = 1e10 * 1e-10 = 1
  sc.targets = {t};
  Simulator sim(mode, sc);
  Cpi cpi;
  CpiTruth truth;
  sim.generate(3, cpi, truth);
  ASSERT_EQ(truth.targets.size(), 1u);
  const TargetTruth& tt = truth.targets[0];
  const double t_cpi = 3.0 * 16 * mode.radar.pri_s;
  EXPECT_NEAR(tt.range_m, t.range_m + t.range_rate_mps * t_cpi, 1e-9);
  EXPECT_NEAR(
      tt.range_bin,
      (2 * tt.range_m / kSpeedOfLight_mps - mode.radar.window_start_s) * mode.radar.sample_rate_hz,
      1e-9);
  EXPECT_GT(std::fabs(tt.range_bin - std::round(tt.range_bin)), 0.05);

  // The reference echo with phase 0; the simulator's random phase is one complex factor.
  Cpi ref(cpi.shape);
  test::add_echoes(ref, mode.radar, {{tt.range_m, tt.range_rate_mps, 1.0, 0.0}},
                   {{1.0, 0.0}, {0.3, -0.4}});
  std::size_t peak = 0;
  for (std::size_t i = 0; i < ref.samples.size(); ++i)
    if (std::abs(ref.samples[i]) > std::abs(ref.samples[peak])) peak = i;
  const std::complex<double> k =
      std::complex<double>(cpi.samples[peak]) / std::complex<double>(ref.samples[peak]);
  EXPECT_NEAR(std::abs(k), 1.0, 1e-4);
  double max_err = 0;
  for (std::size_t i = 0; i < ref.samples.size(); ++i)
    max_err = std::max(max_err, std::abs(std::complex<double>(cpi.samples[i]) -
                                         k * std::complex<double>(ref.samples[i])));
  EXPECT_LT(max_err, 2e-4);
}

INSTANTIATE_TEST_SUITE_P(Waveforms, SimulatorEcho,
                         ::testing::Values(WaveformType::Lfm, WaveformType::Barker,
                                           WaveformType::Rect));

TEST(Simulator, CpisAreDeterministicAndIndependentOfOrder) {
  const Mode mode = small_mode(WaveformType::Lfm);
  Scenario sc;
  sc.targets = {ScenarioTarget{"a", 800, 10, 0, 10, Swerling::One}};
  Simulator sim(mode, sc);
  Cpi a, b;
  CpiTruth ta, tb;
  sim.generate(5, a, ta);
  sim.generate(0, b, tb);
  sim.generate(5, b, tb);
  for (std::size_t i = 0; i < a.samples.size(); ++i) ASSERT_EQ(a.samples[i], b.samples[i]);
  EXPECT_EQ(ta.targets[0].cpi_snr_db, tb.targets[0].cpi_snr_db);
  EXPECT_EQ(a.timestamp_ns, sc.start_ns + 5LL * 16 * 100000);
}

// A scenario and seed are a recording: the same samples from every build. Pinned here by a
// hash of every sample's bytes (CPIs 0 and 3) of a scene that draws from every generator: white
// and coloured receiver noise, a Swerling 1 target, clutter with a steady part. The values are
// those of the gcc build; the sanitized clang build in CI must give the same (it did not while
// the simulator drew I and Q as a constructor's two arguments, whose order of evaluation is
// unspecified: clang drew them the other way round).
TEST(Simulator, ASeedGivesTheSameSamplesWithEveryCompiler) {
  Mode mode = small_mode(WaveformType::Lfm);
  for (const bool coloured : {false, true}) {
    Scenario sc;
    sc.seed = 77;
    sc.noise_power = 1.0;
    if (coloured) sc.noise_bandwidth_hz = 2.5e6;
    sc.targets = {ScenarioTarget{"a", 800, 10, 0, 10, Swerling::One}};
    ClutterPatch p;
    p.range_start_m = 1000;
    p.range_end_m = 1500;
    p.cnr_db = 20;
    p.spread_hz = 2;
    p.steady_fraction = 0.5;
    sc.clutter = {p};
    Simulator sim(mode, sc);
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits
    for (std::uint64_t k : {0u, 3u}) {
      Cpi cpi;
      CpiTruth t;
      sim.generate(k, cpi, t);
      const auto* b = reinterpret_cast<const unsigned char*>(cpi.samples.data());
      for (std::size_t i = 0; i < cpi.samples.size() * sizeof(cf32); ++i)
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    const std::uint64_t expected = coloured ? 0x077de36e206a5b11ull : 0xb26b41dffe3590e3ull;
    EXPECT_EQ(h, expected) << (coloured ? "coloured" : "white") << " noise: 0x" << std::hex << h;
  }
}

TEST(Simulator, SwerlingDrawsHaveTheModelsMoments) {
  Mode mode = small_mode(WaveformType::Lfm);
  mode.radar.range_gates = 64;
  mode.processing.pulses = 2;
  mode.processing.doppler_fft_size = 2;
  mode.processing.cfar.guard_doppler = 0;
  mode.processing.cfar.train_doppler = 0;
  mode.radar.waveform.pulse_width_s = 1e-6;
  Scenario sc;
  sc.targets = {ScenarioTarget{"s0", 100, 0, 0, 10, Swerling::Zero},
                ScenarioTarget{"s1", 100, 0, 0, 10, Swerling::One},
                ScenarioTarget{"s3", 100, 0, 0, 10, Swerling::Three}};
  Simulator sim(mode, sc);
  const int n = 4000;
  double sum[3] = {}, sum2[3] = {};
  Cpi cpi;
  CpiTruth t;
  for (int k = 0; k < n; ++k) {
    sim.generate(static_cast<std::uint64_t>(k), cpi, t);
    for (int i = 0; i < 3; ++i) {
      const double x = t.targets[static_cast<std::size_t>(i)].cpi_snr_linear() / 10.0;
      sum[i] += x;
      sum2[i] += x * x;
    }
  }
  // Mean power 1 (the scenario's SNR); variance 0, 1 (exponential), 1/2 (chi-square 4 dof).
  const double expected_var[3] = {0.0, 1.0, 0.5};
  for (int i = 0; i < 3; ++i) {
    const double mean = sum[i] / n, var = sum2[i] / n - mean * mean;
    // Standard error of the mean sqrt(var/n) <= 0.016; of the variance about 0.1 for Swerling 1.
    EXPECT_NEAR(mean, 1.0, 0.06) << i;
    EXPECT_NEAR(var, expected_var[i], 0.12 + 0.2 * expected_var[i]) << i;
  }
}

TEST(Simulator, ClutterPowerInsideThePatchAndNothingOutside) {
  Mode mode = small_mode(WaveformType::Lfm);
  mode.radar.range_gates = 600;
  Scenario sc = clutter_scene(2000);
  sc.clutter[0].spread_hz = 2;
  Simulator sim(mode, sc);
  const double fs = mode.radar.sample_rate_hz;
  const double L = std::round(mode.radar.waveform.pulse_width_s * fs);  // 40
  const double first = std::ceil(bin_of_range(1000, 0, fs)),
               last = std::floor(bin_of_range(2000, 0, fs));
  Cpi cpi;
  CpiTruth t;
  double inside = 0, outside = 0;
  std::size_t n_in = 0, n_out = 0;
  for (int k = 0; k < 20; ++k) {
    sim.generate(static_cast<std::uint64_t>(k), cpi, t);
    for (std::size_t pulse = 0; pulse < 16; ++pulse)
      for (std::size_t n = 0; n < 600; ++n) {
        const double pw = std::norm(std::complex<double>(cpi.row(0, pulse)[n]));
        if (static_cast<double>(n) >= first + L && static_cast<double>(n) <= last) {
          inside += pw;
          ++n_in;
        } else if (static_cast<double>(n) < first || static_cast<double>(n) > last + L) {
          outside += pw;
          ++n_out;
        }
      }
  }
  // Every sample inside sums L independent unit-power scatterers times |s| = 1.
  EXPECT_NEAR(inside / static_cast<double>(n_in), L, 0.1 * L);
  EXPECT_LT(outside / static_cast<double>(n_out), 1e-7);  // noise only (1e-8)
}

TEST(Simulator, ScenarioValidationNamesTheKey) {
  const Mode mode = small_mode(WaveformType::Lfm);
  Scenario sc;
  sc.targets = {ScenarioTarget{"x", 100, 0, 0, 150, Swerling::Zero}};
  try {
    Simulator sim(mode, sc);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "targets[0].snr_db");
  }
  sc.targets.clear();
  sc.channel_gains = {{1, 0}, {1, 0}};
  try {
    Simulator sim(mode, sc);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "channel_gains");
  }
}

// Receiver noise of bandwidth B (noise_bandwidth_hz): its power stays sigma^2 and samples t
// apart correlate as a Gaussian spectrum of -3 dB width B says, exp(-pi^2 (B t / fs)^2 /
// (4 ln 2)) (scenario.hpp). Seeded; 1.2 x 10^6 complex samples per estimate: at fs/64 the
// samples decorrelate over some 30 of them, leaving about 4 x 10^4 independent ones, so the
// standard error is near 0.005 and the +-0.015 band is 3 of it (tighter at wider bandwidths).
TEST(Simulator, ReceiverNoiseHasTheBandwidthItIsGiven) {
  Mode mode = small_mode(WaveformType::Lfm);
  mode.processing.pulses = 4096;
  mode.processing.doppler_fft_size = 4096;
  const double fs = mode.radar.sample_rate_hz;
  for (double bw : {fs / 64, 0.125 * fs, 0.25 * fs}) {
    Scenario sc;
    sc.noise_power = 2.0;
    sc.noise_bandwidth_hz = bw;
    Simulator sim(mode, sc);
    Cpi cpi(sim.shape());
    CpiTruth truth;
    sim.generate(0, cpi, truth);
    const std::size_t n = cpi.shape.gates;
    for (std::size_t lag : {0u, 1u, 2u, 5u}) {
      std::complex<double> acc = 0;
      std::size_t count = 0;
      for (std::size_t p = 0; p < cpi.shape.pulses; ++p) {
        const cf32* x = cpi.row(0, p);
        for (std::size_t m = 0; m + lag < n; ++m, ++count)
          acc += std::complex<double>(x[m + lag]) * std::conj(std::complex<double>(x[m]));
      }
      const double u = bw / fs * static_cast<double>(lag);
      const double ideal = std::exp(-kPi * kPi * u * u / (4.0 * std::log(2.0)));
      EXPECT_NEAR(acc.real() / static_cast<double>(count) / sc.noise_power, ideal, 0.015)
          << "B = " << bw << " Hz, lag " << lag;
      EXPECT_NEAR(acc.imag() / static_cast<double>(count) / sc.noise_power, 0.0, 0.015);
    }
  }
  Scenario bad;
  bad.noise_bandwidth_hz = 0.3 * fs;
  try {
    Simulator sim(mode, bad);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "noise_bandwidth_hz");
  }
}

// A target present from start_s until before end_s: truth and echo only in those CPIs (CPI k
// starts at k P PRI = k 1.6 ms); its sway moves it A sin(2 pi t / T) in range, and its rate
// with it.
TEST(Simulator, TargetsArriveLeaveAndSway) {
  const Mode mode = small_mode(WaveformType::Lfm);
  Scenario sc;
  sc.noise_power = 1e-8;  // the echo's amplitude is SNR x noise; the noise itself ~10^-5 here
  ScenarioTarget t{"hover", 600, 0, 0, 80, Swerling::Zero};
  t.start_s = 0.0032;  // CPI 2
  t.end_s = 0.008;     // before CPI 5
  t.micro_motion_m = 0.5;
  t.micro_motion_period_s = 0.02;
  sc.targets = {t};
  Simulator sim(mode, sc);
  Cpi cpi;
  CpiTruth truth;
  const double pi = std::acos(-1.0);
  for (std::uint64_t k = 0; k < 7; ++k) {
    sim.generate(k, cpi, truth);
    double energy = 0;
    for (const cf32& x : cpi.samples) energy += std::norm(std::complex<double>(x));
    const bool present = k >= 2 && k < 5;
    EXPECT_EQ(truth.targets.size(), present ? 1u : 0u) << k;
    EXPECT_EQ(energy > 1.0, present) << k << ": " << energy;
    if (present) {
      const double tk = static_cast<double>(k) * 16 * mode.radar.pri_s;
      EXPECT_NEAR(truth.targets[0].range_m, 600 + 0.5 * std::sin(2 * pi * tk / 0.02), 1e-9);
      EXPECT_NEAR(truth.targets[0].range_rate_mps,
                  0.5 * 2 * pi / 0.02 * std::cos(2 * pi * tk / 0.02), 1e-9);
    }
  }
  sc.targets[0].end_s = 0.001;  // before start_s
  EXPECT_THROW(Simulator(mode, sc), ConfigError);
}

// A patch whose CNR runs from 80 dB at its start to 60 dB at its end: the raw samples' power
// (L scatterers of the local CNR under each) follows the ramp in dB, within 0.5 dB over 20 CPIs.
TEST(Simulator, ClutterCnrRunsAlongRange) {
  Mode mode = small_mode(WaveformType::Lfm);
  mode.radar.range_gates = 600;
  Scenario sc = clutter_scene(3000);
  sc.clutter[0].cnr_end_db = 60;
  Simulator sim(mode, sc);
  const double fs = mode.radar.sample_rate_hz;
  const double first = std::ceil(bin_of_range(1000, 0, fs));
  const double last = std::floor(bin_of_range(3000, 0, fs));
  const std::size_t L = 40;
  Cpi cpi;
  CpiTruth t;
  std::vector<double> power(600, 0.0);
  for (int k = 0; k < 20; ++k) {
    sim.generate(static_cast<std::uint64_t>(k), cpi, t);
    for (std::size_t pulse = 0; pulse < 16; ++pulse)
      for (std::size_t n = 0; n < 600; ++n)
        power[n] += std::norm(std::complex<double>(cpi.row(0, pulse)[n])) / 320.0;
  }
  for (std::size_t n = static_cast<std::size_t>(first) + L; static_cast<double>(n + 20) <= last;
       n += 60) {
    double got = 0, want = 0;
    for (std::size_t j = n; j < n + 20; ++j) {
      got += power[j];
      // The L scatterers under sample j are at j - L + 1 .. j, each at its range's CNR.
      for (std::size_t s = j - L + 1; s <= j; ++s) {
        const double u = (range_of_bin_m(static_cast<double>(s), 0, fs) - 1000) / 2000;
        want += std::pow(10.0, (80 - 20 * u) / 10.0) * 1e-8;
      }
    }
    EXPECT_NEAR(10 * std::log10(got / want), 0.0, 0.5) << "sample " << n;
  }
}

// Steady ground: a patch with steady_fraction s holds the same complex amplitude share s of its
// power in every CPI, so a sample's correlation between two CPIs is s (0 for the default, all
// fluctuating). 20 CPIs x 16 pulses x 200 samples: the estimate's spread is near 0.02.
TEST(Simulator, SteadyGroundCorrelatesFromCpiToCpi) {
  for (double s : {0.0, 0.9}) {
    Mode mode = small_mode(WaveformType::Lfm);
    mode.radar.range_gates = 600;
    Scenario sc = clutter_scene(3000);
    sc.clutter[0].spread_hz = 0;
    sc.clutter[0].steady_fraction = s;
    Simulator sim(mode, sc);
    Cpi a, b;
    CpiTruth t;
    std::complex<double> cross = 0;
    double pa = 0, pb = 0;
    for (std::uint64_t k = 0; k < 20; ++k) {
      sim.generate(k, a, t);
      sim.generate(k + 20, b, t);
      for (std::size_t pulse = 0; pulse < 16; ++pulse)
        for (std::size_t n = 250; n < 450; ++n) {
          const std::complex<double> x(a.row(0, pulse)[n]), y(b.row(0, pulse)[n]);
          cross += x * std::conj(y);
          pa += std::norm(x);
          pb += std::norm(y);
        }
    }
    EXPECT_NEAR(std::abs(cross) / std::sqrt(pa * pb), s, 0.06) << "steady_fraction " << s;
  }
}
