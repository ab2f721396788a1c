// Scenario files: the shipped ones load; every class of error names file, line, key and value.
#include "pipeline/config/scenario_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "pipeline/config/mode_file.hpp"
#include "tests/support/reference.hpp"

using namespace radarpipe;

namespace {

const char* kValid = R"(start_time: 2026-11-21T12:00:00Z
seed: 3
noise_power: 2.0
targets:
  - {name: a, range_m: 3000, range_rate_mps: -10, snr_db: -5, swerling: 1}
  - {range_m: 4000, snr_db: 0}
clutter:
  - {range_start_m: 100, range_end_m: 900, cnr_db: 20, spread_hz: 2}
)";

std::string error_of(const std::string& text, const Mode& mode) {
  try {
    parse_scenario_yaml(text, mode, "s.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string replace(std::string s, const std::string& a, const std::string& b) {
  const auto p = s.find(a);
  EXPECT_NE(p, std::string::npos) << a;
  return s.replace(p, a.size(), b);
}

}  // namespace

TEST(ScenarioFile, ValidScenarioLoads) {
  const Mode mode = test::example_mode();
  const io::Scenario s = parse_scenario_yaml(kValid, mode);
  ASSERT_EQ(s.targets.size(), 2u);
  EXPECT_EQ(s.targets[0].swerling, io::Swerling::One);
  EXPECT_EQ(s.targets[1].name, "target-2");
  EXPECT_EQ(s.start_ns, 1795262400000000000LL);
  EXPECT_EQ(s.noise_power, 2.0);
  ASSERT_EQ(s.clutter.size(), 1u);
}

TEST(ScenarioFile, ShippedScenariosLoadAgainstTheDemoMode) {
  const Mode mode = load_mode_file(test::source_path("configs/demo.yaml"));
  std::size_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(test::source_path("configs/scenarios"))) {
    EXPECT_NO_THROW(load_scenario_file(e.path().string(), mode)) << e.path();
    ++n;
  }
  EXPECT_GE(n, 1u);
}

TEST(ScenarioFile, ErrorsNameFileLineKeyAndValue) {
  const Mode mode = test::example_mode();
  EXPECT_NE(error_of(replace(kValid, "snr_db: -5", "snr_db: loud"), mode)
                .find("s.yaml:5:59: targets[0].snr_db: 'loud' is not a number"),
            std::string::npos)
      << error_of(replace(kValid, "snr_db: -5", "snr_db: loud"), mode);
  EXPECT_NE(error_of(replace(kValid, "swerling: 1", "swerling: 2"), mode)
                .find("targets[0].swerling: '2' is not one of 0, 1, 3"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "range_rate_mps: -10", "range_rte_mps: -10"), mode)
                .find("did you mean 'range_rate_mps'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "start_time: 2026-11-21T12:00:00Z", "start_time: noon"), mode)
                .find("start_time: 'noon' is not an RFC 3339 UTC time"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "range_end_m: 900", "range_end_m: 50"), mode)
                .find("clutter[0].range_end_m: "),
            std::string::npos);
  EXPECT_NE(
      error_of(replace(kValid, "snr_db: 0}", "snr_db: 300}"), mode).find("targets[1].snr_db: 300"),
      std::string::npos);
  EXPECT_NE(
      error_of(std::string(kValid) + "channel_gains: [{amplitude_db: 0}, {phase_deg: 90}]\n", mode)
          .find("channel_gains: has 2 entries but the mode has radar.channels = 1"),
      std::string::npos);
  EXPECT_NE(error_of("targets: [{range_m: 1}]\n", mode)
                .find("targets[0].snr_db: required key is missing"),
            std::string::npos);
}
