// Simulate -> process -> score through files, as a user runs them: every target found in every
// CPI where the model predicts Pd > 0.99, range and velocity within half a bin, false alarms
// consistent with the design Pfa; LFM and Barker, 1 and 2 channels, MTI against clutter.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>

#include "pipeline/commands/process.hpp"
#include "pipeline/commands/score.hpp"
#include "pipeline/commands/simulate.hpp"
#include "tests/support/reference.hpp"

namespace fs = std::filesystem;
using namespace radarpipe;

namespace {

/// CA-CFAR threshold factor for N training cells of L-look (Gamma(L)) noise, by bisection on
/// Pfa(alpha) = sum_{k<L} C(NL+k-1, k) (alpha/N)^k (1 + alpha/N)^-(NL+k) (derived here from
/// P(Gamma(L) > alpha * Gamma(NL)/N)).
double ca_alpha(std::size_t n, std::size_t looks, double pfa) {
  auto pfa_of = [&](double alpha) {
    const double a = alpha / static_cast<double>(n);
    const double nl = static_cast<double>(n * looks);
    double sum = 0, logc = 0;
    for (std::size_t k = 0; k < looks; ++k) {
      if (k > 0) logc += std::log((nl + static_cast<double>(k) - 1) / static_cast<double>(k));
      sum += std::exp(logc + static_cast<double>(k) * std::log(a) -
                      (nl + static_cast<double>(k)) * std::log1p(a));
    }
    return sum;
  };
  double lo = 0, hi = 1e6;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (pfa_of(mid) > pfa ? lo : hi) = mid;
  }
  return hi;
}

/// The SNR (dB, signal power over the map's mean noise per look) at which a non-fluctuating
/// target's Pd reaches `pd` against CA-CFAR, by Monte Carlo of the detector statistic.
double snr_for_pd(std::size_t n, std::size_t looks, double pfa, double pd) {
  const double alpha = ca_alpha(n, looks, pfa);
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal(0, std::sqrt(0.5));
  std::gamma_distribution<double> z_dist(static_cast<double>(n * looks),
                                         1.0 / static_cast<double>(n));
  auto pd_at = [&](double snr_db) {
    const double a = std::sqrt(std::pow(10.0, snr_db / 10.0));
    int hits = 0;
    const int trials = 20000;
    for (int t = 0; t < trials; ++t) {
      double cut = 0;
      for (std::size_t l = 0; l < looks; ++l) {
        const double re = a + normal(rng), im = normal(rng);
        cut += re * re + im * im;
      }
      if (cut > alpha * z_dist(rng)) ++hits;
    }
    return static_cast<double>(hits) / trials;
  };
  double lo = 0, hi = 40;
  for (int i = 0; i < 16; ++i) {
    const double mid = 0.5 * (lo + hi);
    (pd_at(mid) < pd ? lo : hi) = mid;
  }
  return hi;
}

struct Scene {
  const char* name;
  Mode mode;
  io::Scenario scenario;
  std::string datatype;
  bool archive;
  bool expect_no_clutter;
};

Mode base_mode() {
  Mode m = test::example_mode();
  m.radar.range_gates = 800;
  m.radar.window_start_s = 2.0e-6;
  m.radar.waveform.pulse_width_s = 5.0e-6;
  m.radar.waveform.bandwidth_hz = 10.0e6;
  m.processing.pulses = 64;
  m.processing.doppler_fft_size = 64;
  m.processing.range_window = WindowConfig{WindowType::Hamming};
  m.processing.doppler_window = WindowConfig{WindowType::Rect};
  m.processing.cfar.pfa = 1e-4;
  return m;
}

Scene lfm_one_channel() {
  Scene s{"lfm_1ch", base_mode(), {}, "cf32_le", false, false};
  const double span = derive_geometry(s.mode).velocity_span_mps;  // 159.5 m/s
  s.scenario.seed = 11;
  s.scenario.targets = {
      io::ScenarioTarget{"near", 700, -20, 0, -14, io::Swerling::Zero},
      io::ScenarioTarget{"mid", 2600.3, 33.3, 0, -16, io::Swerling::Zero},
      // near the end of the full-gain range (bin 700 of 800, L = 100)
      io::ScenarioTarget{"edge", 5520, 8, 0, -15, io::Swerling::Zero},
      // near +- the unambiguous velocity
      io::ScenarioTarget{"fast", 3900, span / 2 - 0.8, 0, -15, io::Swerling::Zero},
      io::ScenarioTarget{"faster", 4400, -span / 2 + 1.0, 0, -15, io::Swerling::Zero}};
  return s;
}

Scene barker_two_channels() {
  Scene s{"barker_2ch", base_mode(), {}, "ci16_le", true, false};
  s.mode.radar.channels = 2;
  s.mode.radar.waveform.type = WaveformType::Barker;
  s.mode.radar.waveform.barker_length = 13;
  s.mode.radar.waveform.chip_width_s = 0.5e-6;
  s.mode.processing.range_window = WindowConfig{WindowType::Rect};
  s.mode.processing.doppler_window = WindowConfig{WindowType::Hann};
  s.scenario.seed = 22;
  s.scenario.channel_gains = {{1.0, 0.0}, std::polar(0.8, 0.7)};
  s.scenario.targets = {io::ScenarioTarget{"a", 1500, 12, 0, -8, io::Swerling::One},
                        io::ScenarioTarget{"b", 3300, -45, 0, -6, io::Swerling::One},
                        io::ScenarioTarget{"c", 4800.7, 27, 0, -9, io::Swerling::Three}};
  return s;
}

Scene mti_clutter() {
  Scene s{"mti_clutter", base_mode(), {}, "ci16_le", false, true};
  s.mode.processing.mti = MtiMode::ThreePulse;
  s.mode.processing.doppler_window = WindowConfig{WindowType::Hann};
  // Calibrated thresholds hold the noise Pfa inside the canceller's notch too, where the noise
  // is 20-40 dB down and this patch's residue then crosses (docs/signal-chain.md, "MTI's
  // notch"). The scene checks the cancellation itself, with the textbook factors that leave
  // the notch blind.
  s.mode.processing.cfar.threshold = CfarThreshold::Textbook;
  s.scenario.seed = 33;
  io::ClutterPatch c;
  c.range_start_m = 1000;
  c.range_end_m = 4000;
  c.cnr_db = 30;
  c.spread_hz = 2;
  s.scenario.clutter = {c};
  s.scenario.targets = {io::ScenarioTarget{"in-clutter-1", 1800, 25, 0, -13, io::Swerling::Zero},
                        io::ScenarioTarget{"in-clutter-2", 3100, -38, 0, -13, io::Swerling::Zero},
                        io::ScenarioTarget{"clear", 5000, 15, 0, -14, io::Swerling::Zero}};
  return s;
}

}  // namespace

class RecordingEndToEnd : public ::testing::TestWithParam<Scene (*)()> {};

TEST_P(RecordingEndToEnd, SimulateProcessScore) {
  const Scene sc = GetParam()();
  const fs::path dir =
      fs::temp_directory_path() / ("radarpipe_e2e_" + std::to_string(::getpid()) + "_" + sc.name);
  fs::create_directories(dir);
  const std::string base = (dir / "rec").string();
  const std::uint64_t cpis = 10;

  SimulateOptions so;
  so.cpis = cpis;
  so.output = base;
  so.datatype = sc.datatype;
  so.archive = sc.archive;
  const SimulateResult sim = simulate_recording(sc.mode, sc.scenario, so);
  EXPECT_EQ(sim.clipped, 0u);

  ProcessOptions po;
  po.input = sc.archive ? base + ".sigmf" : base;  // no --mode: the recording describes itself
  po.output = base + ".jsonl";
  std::ostringstream log;
  const ProcessSummary ps = process_recording(po, log);
  ASSERT_EQ(ps.cpis, cpis);
  EXPECT_TRUE(ps.checksum_verified);

  const std::vector<DetectionReport> reports = read_detections_jsonl(po.output);
  const io::TruthFile truth = read_truth_file(base + ".truth.json");
  ScoreOptions opt;
  const Score all = score_detections(reports, truth, opt);

  // Targets the model says must be detected (Pd > 0.99 at their expected SNR, 1 dB margin).
  const ModeGeometry g = derive_geometry(sc.mode);
  const std::size_t n_train = sc.mode.processing.cfar.interior_training_cells();
  const double s99 = snr_for_pd(n_train, g.cfar_looks, sc.mode.processing.cfar.pfa, 0.99) + 1.0;
  opt.min_expected_snr_db = s99;
  const Score strong = score_detections(reports, truth, opt);
  EXPECT_GE(strong.opportunities, cpis * sc.scenario.targets.size() * 6 / 10)
      << "too few strong targets for the test to mean anything (S99 = " << s99 << " dB)";
  EXPECT_EQ(strong.hits, strong.opportunities) << sc.name << ": S99 = " << s99 << " dB\n"
                                               << format_score(strong, opt);
  for (const Miss& m : strong.misses)
    ADD_FAILURE() << sc.name << ": missed " << m.name << " in CPI " << m.cpi << " at expected SNR "
                  << m.expected_snr_db << " dB";

  // Every detection of a target within half a bin in range and Doppler.
  EXPECT_LE(all.max_range_error_bins, 0.5) << format_score(all, opt);
  EXPECT_LE(all.max_doppler_error_bins, 0.5) << format_score(all, opt);
  EXPECT_LE(all.range_rmse_m, 0.5 * g.range_bin_m);
  EXPECT_LE(all.velocity_rmse_mps, 0.5 * g.velocity_bin_mps);

  // False alarms: Poisson with mean Pfa x cells. Windows correlate the training cells and
  // raise the realised Pfa up to ~2x the design value (docs/signal-chain.md), so the band is
  // [0.3, 2.5] x the design mean, widened by 4 standard deviations.
  const double lambda = sc.mode.processing.cfar.pfa * static_cast<double>(all.cells);
  EXPECT_LE(static_cast<double>(all.false_alarms), 2.5 * lambda + 4 * std::sqrt(2.5 * lambda) + 1)
      << format_score(all, opt);
  EXPECT_GE(static_cast<double>(all.false_alarms), 0.3 * lambda - 4 * std::sqrt(lambda))
      << format_score(all, opt);
  if (sc.expect_no_clutter) {
    EXPECT_EQ(all.clutter_detections, 0u) << "MTI left clutter residue";
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Scenes, RecordingEndToEnd,
                         ::testing::Values(&lfm_one_channel, &barker_two_channels, &mti_clutter),
                         [](const auto& p) { return std::string(p.param().name); });
