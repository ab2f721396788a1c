// The radarpipe command line, run as a program.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/chain/backend.hpp"
#include "tests/support/command.hpp"
#include "tests/support/reference.hpp"

namespace {

using radarpipe::test::CliRun;
using radarpipe::test::run_cli;

// Every derived number of the demo mode, recomputed here from RADAR-MODEL.md.
TEST(Cli, ConfigCheckJsonReportsTheDerivedQuantities) {
  const CliRun r =
      run_cli("config check --json " + radarpipe::test::source_path("configs/demo.yaml"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const double c = 299792458.0, fs = 20e6, fc = 9.4e9, pri = 100e-6, lambda = c / fc;
  const auto& d = j["derived"];
  EXPECT_NEAR(d["range_bin_m"].get<double>(), c / (2 * fs), 1e-9);
  EXPECT_NEAR(d["range_resolution_m"].get<double>(), c / (2 * 15e6), 1e-9);
  EXPECT_NEAR(d["last_range_m"].get<double>(), c * (1799 / fs) / 2, 1e-6);
  EXPECT_NEAR(d["unambiguous_range_m"].get<double>(), c * pri / 2, 1e-6);
  EXPECT_NEAR(d["unambiguous_velocity_mps"].get<double>(), lambda / pri / 4, 1e-9);
  EXPECT_NEAR(d["velocity_bin_mps"].get<double>(), lambda / pri / 2 / 128, 1e-9);
  EXPECT_NEAR(d["cpi_duration_s"].get<double>(), 128 * pri, 1e-12);
  EXPECT_NEAR(d["input_samples_per_s"].get<double>(), 1800 / pri, 1e-3);
  EXPECT_NEAR(d["input_bytes_per_s_cf32"].get<double>(), 8 * 1800 / pri, 1e-3);
  EXPECT_EQ(d["first_eclipsed_bin"].get<int>(), 1800 - 200 + 1);
  const double n = 216, alpha = n * (std::pow(1e-6, -1 / n) - 1);
  const auto& cf = j["processing"]["cfar"];
  EXPECT_NEAR(cf["textbook_threshold_factor"].get<double>(), alpha, 1e-9 * alpha);
  // Calibrated (the default): the window-correlated cells need a higher factor for CA, solved
  // exactly; the effective number of independent training cells is far below the 216.
  EXPECT_EQ(cf["threshold"], "calibrated");
  EXPECT_EQ(cf["threshold_factor"].get<double>(), cf["calibrated_threshold_factor"].get<double>());
  EXPECT_GT(cf["calibrated_threshold_factor"].get<double>(), 1.02 * alpha);
  EXPECT_LT(cf["effective_training_cells"].get<double>(), 150.0);
  EXPECT_GT(cf["effective_training_cells"].get<double>(), 10.0);
  EXPECT_EQ(cf["calibration"]["method"], "exact");
  EXPECT_NEAR(cf["expected_false_alarms_per_cpi"].get<double>(), 1e-6 * 1800 * 128, 1e-9);
  // The clutter map: +-2 bins (5 rows), 16-CPI time constant. Its steady factor solved here
  // from the definition: prod_i (1 + K b (1 - b)^i)^-1 = 1e-6, b = 1 - exp(-1/16).
  const auto& cm = j["processing"]["clutter_map"];
  EXPECT_EQ(cm["rows"].get<int>(), 5);
  EXPECT_EQ(cm["first_row"].get<int>(), 62);
  EXPECT_EQ(cm["cells"].get<int>(), 5 * 1800);
  EXPECT_EQ(cm["warmup_updates"].get<int>(), 16);
  const double b = 1 - std::exp(-1.0 / 16);
  double lo = 1, hi = 1e4;
  for (int it = 0; it < 100; ++it) {
    const double k = std::sqrt(lo * hi);
    double log_pfa = 0;
    for (int i = 0; i < 4000; ++i) log_pfa -= std::log1p(k * b * std::pow(1 - b, i));
    (log_pfa > std::log(1e-6) ? lo : hi) = k;
  }
  EXPECT_NEAR(cm["factor_steady_db"].get<double>(), 10 * std::log10(hi), 0.01);
  EXPECT_NEAR(cm["expected_false_alarms_per_cpi"].get<double>(), 1e-6 * 5 * 1800, 1e-12);
  // The measured shape (the default): a steady factor per Gamma order, falling with the order
  // and below the noise factor; 20 bytes of state a cell.
  EXPECT_EQ(cm["shape"], "measured");
  EXPECT_EQ(cm["state_bytes"].get<int>(), 20 * 5 * 1800);
  const auto& by = cm["factor_steady_db_by_order"];
  ASSERT_EQ(by.size(), 12u);
  double last = cm["factor_steady_db"].get<double>();
  for (int nu : {4, 5, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128}) {
    const double v = by.at(std::to_string(nu)).get<double>();
    EXPECT_LT(v, last) << "nu " << nu;
    last = v;
  }
  // auto: CUDA where this build has it and a device is present, the CPU elsewhere.
  const radarpipe::BackendChoice here = radarpipe::resolve_backend(radarpipe::Backend::Auto);
  EXPECT_EQ(j["backend_resolved"]["chosen"], radarpipe::to_string(here.chosen));
  EXPECT_EQ(j["backend_resolved"]["reason"], here.reason);
}

TEST(Cli, ConfigCheckTextNamesEveryQuantity) {
  const CliRun r =
      run_cli("config check " + radarpipe::test::source_path("configs/bench-matx.yaml"));
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s : {"range bin spacing", "range resolution", "instrumented range",
                        "unambiguous range", "unambiguous velocity", "velocity bin", "CPI duration",
                        "input data rate", "MS/s", "MB/s", "CFAR threshold factor", "backend"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(Cli, InvalidModeExitsNonZeroWithTheMessage) {
  const std::string path =
      std::string(std::getenv("RADARPIPE_BINARY_DIR") ? std::getenv("RADARPIPE_BINARY_DIR") : ".") +
      "/cli_test_bad.yaml";
  std::ifstream in(radarpipe::test::source_path("configs/demo.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("pfa: 1.0e-6", text.find("cfar: {")), 11, "pfa: 1.5");
  std::ofstream(path) << text;
  const CliRun r = run_cli("config check " + path);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("processing.cfar.pfa: 1.5 is not in (0, 1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cli_test_bad.yaml:"), std::string::npos) << r.out;
  const CliRun missing = run_cli("config check /nonexistent.yaml");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("/nonexistent.yaml: cannot open the mode file"), std::string::npos);
}

}  // namespace
