// `radarpipe calibrate` (pipeline/commands/calibrate.hpp) on coloured receiver noise: white
// noise through a Gaussian IF filter of 2.5 MHz at 20 MHz sampling (scenario
// noise_bandwidth_hz), narrower than the LFM's 10 MHz, so the white-noise model behind the
// `calibrated` factors no longer holds (CA's rate here is 0.81x the design). The factor
// measured on one recording must give the design rate on a second, independent one (another
// seed), counted by the chain's own CFAR on the chain's maps over the interior windows of the
// full-gain range bins.
//
// Sizing: 500 CPIs of 600 x 64 per recording, 1.5 x 10^7 interior cells, 15400 crossings
// expected at 1e-3. Correlated cells cross in clusters: the count's variance is some 3.3x a
// binomial one at this bandwidth (calibrate's dispersion), and eight recordings of 150 CPIs
// spread their factors about 1.2-1.7x wider again than that predicts. So each recording moves
// the rate by about 0.8% x 1.8 x 1.5 = 2.2%, A's factor and B's count together by 3.1%: +-10%
// is 3.2 of it.

#include "pipeline/commands/calibrate.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kernels/cpu/cfar.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/chain/stage_config.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/config/mode_file.hpp"
#include "tests/support/chain_helpers.hpp"

namespace radarpipe {
namespace {

namespace fs = std::filesystem;

class Calibrate : public ::testing::TestWithParam<CfarType> {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("radarpipe_calibrate_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    const Mode m = mode(CfarType::Ca);
    for (int i = 0; i < 2; ++i) {
      io::Scenario sc;
      sc.seed = 11 + static_cast<std::uint64_t>(i);
      sc.noise_bandwidth_hz = 2.5e6;
      SimulateOptions so;
      so.cpis = 500;
      so.datatype = "cf32_le";
      so.output = path(i == 0 ? "noise_a" : "noise_b");
      simulate_recording(m, sc, so);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string& name) { return (dir_ / name).string(); }

  static Mode mode(CfarType type) {
    Mode m = test::small_chain_mode();
    m.processing.range_window = WindowConfig{WindowType::Hamming};
    m.processing.doppler_window = WindowConfig{WindowType::Hann};
    m.processing.cfar.type = type;
    m.processing.cfar.guard_range = 2;
    m.processing.cfar.guard_doppler = 2;
    m.processing.cfar.pfa = 1e-3;
    return m;
  }

  static std::string write_mode(const Mode& m, const std::string& name) {
    const std::string p = path(name);
    std::ofstream(p) << mode_file_yaml(m);
    return p;
  }

  // Crossings per interior cell of `rec` through the chain with `mode_path`, over the design.
  static double rate_over_design(const std::string& rec, const std::string& mode_path) {
    const Mode m = load_mode_file(mode_path);
    const ModeGeometry g = derive_geometry(m);
    cpu::Cfar counter(cfar_stage_config(m, g));
    const std::size_t big_r = m.processing.cfar.guard_range + m.processing.cfar.train_range;
    const std::size_t end = g.first_eclipsed_bin - big_r;
    std::vector<cpu::CfarCrossing> out(m.processing.doppler_fft_size * m.radar.range_gates);
    PowerMap power;
    double cells = 0, hits = 0;
    ProcessOptions po;
    po.input = rec;
    po.mode_path = mode_path;
    po.output = "";
    po.backend = Backend::Cpu;
    std::ostringstream log;
    process_recording(
        po, log, [&](const DetectionReport&, const io::CpiSlot&, const SignalChain& chain) {
          chain.copy_power(power);
          const cpu::CfarStats st = counter.process(power.map(0), out.data(), out.size());
          EXPECT_EQ(st.stored, st.crossings);
          for (std::size_t j = 0; j < st.stored; ++j)
            hits += out[j].range_bin >= big_r && out[j].range_bin < end;
          cells += static_cast<double>(m.processing.doppler_fft_size * (end - big_r));
        });
    return hits / cells / m.processing.cfar.pfa;
  }

  static fs::path dir_;
};
fs::path Calibrate::dir_;

TEST_P(Calibrate, MeasuredFactorGivesTheDesignRateOnAnotherRecording) {
  const CfarType type = GetParam();
  const std::string name = to_string(type);
  const std::string model_path = write_mode(mode(type), name + ".yaml");
  CalibrateOptions opt;
  opt.input = path("noise_a.sigmf-meta");
  opt.mode_path = model_path;
  opt.output = path(name + "-calibrated.yaml");
  std::ostringstream log;
  const CalibrateResult r = calibrate_recording(opt, log);

  const CfarFactors& f = r.mode.processing.cfar.factors;
  ASSERT_TRUE(f.present);
  EXPECT_EQ(f.cells, 500u * 64u * (600u - 100u + 1u - 2u * 10u));
  EXPECT_NEAR(f.measured_pfa, 1e-3, 1e-6);
  EXPECT_LT(f.alpha_low, f.alpha);
  EXPECT_GT(f.alpha_high, f.alpha);
  EXPECT_LT(f.pfa_low, 1e-3);
  EXPECT_GT(f.pfa_high, 1e-3);

  // The model's factor is off on this noise for CA and GO (the reason to measure; SO's and OS's
  // happen to lie nearer the design here: 1.10x and 0.88x on B)...
  const double model = rate_over_design(path("noise_b.sigmf-meta"), model_path);
  // (CA's is 0.81x on B, GO's 0.75x; 0.90 is 4 of the 2.2% a recording moves them, see
  // Sizing above.)
  if (type == CfarType::Ca || type == CfarType::Go) {
    EXPECT_LT(model, 0.90) << name;
  }
  EXPECT_NEAR(r.model_rate_over_design, model, 0.15) << name;  // A and B: the same noise law
  // ... the measured one holds the design on a recording it has not seen.
  const double measured = rate_over_design(path("noise_b.sigmf-meta"), opt.output);
  std::printf(
      "%s: on recording B the model's factor gives %.3f x the design rate, the measured "
      "one %.3f x (calibrate's own model estimate on A: %.3f x)\n",
      name.c_str(), model, measured, r.model_rate_over_design);
  EXPECT_NEAR(measured, 1.0, 0.10) << name << ": model " << model;
}

INSTANTIATE_TEST_SUITE_P(Variants, Calibrate,
                         ::testing::Values(CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_F(Calibrate, RefusesARecordingTooShortAndSaysHowLong) {
  const std::string model_path = write_mode(mode(CfarType::Ca), "short.yaml");
  CalibrateOptions opt;
  opt.input = path("noise_a.sigmf-meta");
  opt.mode_path = model_path;
  opt.output = path("never.yaml");
  opt.pfa = 1e-6;  // 400 / 1e-6 = 4 x 10^8 cells: 12994 CPIs of 64 x 481 interior cells
  std::ostringstream log;
  try {
    calibrate_recording(opt, log);
    FAIL() << "a 500-CPI recording cannot measure 1e-6";
  } catch (const ModeMismatch& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("holds 500 CPIs"), std::string::npos) << what;
    EXPECT_NE(what.find("at least 12994 CPIs"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(opt.output));
}

// A Pfa whose quantile would need more kept ratios than calibrate holds is refused before it
// keeps any: 8-pulse CPIs zero-padded to 64 Doppler bins make 4000 CPIs of 64 x 481 interior
// cells of the same recording, 0.2 of them 2.5 x 10^7 ratios; 2722 CPIs would fit (with the heap's
// margin of 3 sd).
TEST_F(Calibrate, RefusesToKeepMoreRatiosThanItsBound) {
  Mode m = mode(CfarType::Ca);
  m.processing.pulses = 8;
  CalibrateOptions opt;
  opt.input = path("noise_a.sigmf-meta");
  opt.mode_path = write_mode(m, "bound.yaml");
  opt.output = path("never.yaml");
  opt.pfa = 0.2;
  std::ostringstream log;
  try {
    calibrate_recording(opt, log);
    FAIL() << "2.5 x 10^7 ratios were kept";
  } catch (const ModeMismatch& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("more than the 1.678e+07 calibrate holds"), std::string::npos) << what;
    EXPECT_NE(what.find("at most 2722 CPIs"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(opt.output));
}

TEST_F(Calibrate, AStaleFactorIsRejectedAndRecalibrationReplacesIt) {
  const std::string model_path = write_mode(mode(CfarType::Ca), "stale.yaml");
  CalibrateOptions opt;
  opt.input = path("noise_a.sigmf-meta");
  opt.mode_path = model_path;
  opt.output = path("stale-calibrated.yaml");
  std::ostringstream log;
  const CalibrateResult first = calibrate_recording(opt, log);
  // The same file with another Pfa: its factor belongs to the old map.
  Mode changed = load_mode_file(opt.output);
  changed.processing.cfar.pfa = 2e-3;
  const std::string text = mode_file_yaml(changed);
  try {
    parse_mode_yaml(text, "changed.yaml");
    FAIL() << "a factor measured for 1e-3 was taken for 2e-3";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "processing.cfar.factors.fingerprint");
  }
  // calibrate reads such a file for the mode it describes and measures it afresh.
  const std::string changed_path = path("changed.yaml");
  std::ofstream(changed_path) << text;
  opt.mode_path = changed_path;
  opt.output = path("changed-calibrated.yaml");
  const CalibrateResult second = calibrate_recording(opt, log);
  EXPECT_EQ(second.mode.processing.cfar.pfa, 2e-3);
  EXPECT_LT(second.mode.processing.cfar.factors.alpha, first.mode.processing.cfar.factors.alpha);
  EXPECT_EQ(load_mode_file(opt.output).processing.cfar.factors.alpha,
            second.mode.processing.cfar.factors.alpha);
}

}  // namespace
}  // namespace radarpipe
