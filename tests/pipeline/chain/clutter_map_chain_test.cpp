// The clutter map through the chain (docs/signal-chain.md "Clutter map"): the demo scene
// simulated, processed and scored, against the same mode without a map; the map's false
// alarms on noise; a restarted chain with the saved map. The stage's own arithmetic is
// tests/kernels/clutter_map_test.cpp's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/clutter_map_file.hpp"
#include "io/simulator.hpp"
#include "io/truth_json.hpp"
#include "pipeline/chain/clutter_map_store.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/commands/demo.hpp"
#include "pipeline/commands/score.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/config/scenario_file.hpp"
#include "tests/support/chain_helpers.hpp"

namespace radarpipe {
namespace {

namespace fs = std::filesystem;

struct SceneRun {
  std::vector<DetectionReport> reports;
  io::TruthFile truth;
};

// CPIs [0, cpis) of the scene through a CPU chain of the mode.
SceneRun run_scene(const Mode& mode, const io::Scenario& scene, std::size_t cpis) {
  const io::Simulator sim(mode, scene);
  CpuChain chain(mode, test::workers(2, 32));
  SceneRun r;
  std::vector<io::CpiTruth> truths(cpis);
  Cpi cpi;
  for (std::size_t k = 0; k < cpis; ++k) {
    sim.generate(k, cpi, truths[k]);
    r.reports.push_back(chain.process(cpi));
  }
  r.truth = io::truth_from_json(io::truth_to_json(sim, truths, "memory"), "memory");
  return r;
}

// The reports and truth of CPIs >= first only.
Score score_from(const SceneRun& r, std::uint64_t first) {
  SceneRun late;
  late.truth.geometry = r.truth.geometry;
  late.truth.clutter = r.truth.clutter;
  for (const DetectionReport& rep : r.reports)
    if (rep.cpi >= first) late.reports.push_back(rep);
  for (const io::CpiTruth& t : r.truth.cpis)
    if (t.cpi >= first) late.truth.cpis.push_back(t);
  return score_detections(late.reports, late.truth);
}

const TargetScore& target(const Score& s, const std::string& name) {
  for (const TargetScore& t : s.targets)
    if (t.name == name) return t;
  throw std::runtime_error("no target " + name);
}

Mode demo_mode() {
  return parse_mode_yaml(demo_mode_yaml(), "configs/demo.yaml");
}

// The demo scene with a steady hovering drone at 20 dB post-processing SNR over clear ground
// from CPI 24 on (past the map's 16-CPI warm-up), 200 CPIs scored after the warm-up.
// - ground: the map reports at most 0.1 clutter detections per CPI (without a map the same
//   scene reports tens per CPI: the test can fail);
// - the hovering drone: Pd >= 0.9 over 176 CPIs (binomial sd at 0.9: 0.023; a steady target at
//   20 dB against the map's 12.3 dB factor is found in nearly every CPI);
// - the moving drones and the airliner (away from zero Doppler): the same hits with and
//   without the map, within 3 (the CFAR's decisions there do not change; only clusters that
//   straddle the map's rows could).
TEST(ClutterMapChain, GroundGoneHoveringDroneFoundMovingTargetsUnchanged) {
  const Mode with = demo_mode();
  ASSERT_TRUE(with.processing.clutter_map.present);
  Mode without = with;
  without.processing.clutter_map = ClutterMapConfig{};
  io::Scenario scene = parse_scenario_yaml(demo_scenario_yaml(), with, "demo scene");
  scene.targets.erase(scene.targets.begin() + 3);  // the demo's own hover (Swerling 1)
  io::ScenarioTarget hover;
  hover.name = "hover-20db";
  hover.range_m = 4700;  // clear: beyond the ground's range sidelobes (2.2 km + the 1.5 km pulse)
  hover.snr_db = -21.5;  // + 10 log10(200 x 128) less the windows' losses: about 20 dB
  hover.start_s = 0.3;   // CPI 24
  hover.micro_motion_m = 0.3;
  hover.micro_motion_period_s = 2;
  scene.targets.push_back(hover);
  const std::uint64_t cpis = 200, warm = 24;
  const SceneRun a = run_scene(with, scene, cpis), b = run_scene(without, scene, cpis);
  const Score sa = score_from(a, warm), sb = score_from(b, warm);
  const double n = static_cast<double>(sa.cpis);
  EXPECT_LE(static_cast<double>(sa.clutter_detections) / n, 0.1);
  EXPECT_GT(static_cast<double>(sb.clutter_detections) / n, 10.0);
  const TargetScore& h = target(sa, "hover-20db");
  EXPECT_EQ(h.opportunities, cpis - warm);
  EXPECT_GE(h.pd(), 0.9) << h.hits << " of " << h.opportunities;
  std::uint64_t by_map = 0;
  for (const DetectionReport& r : a.reports)
    for (const Detection& d : r.detections) by_map += d.decided_by == DecidedBy::ClutterMap;
  EXPECT_GE(by_map, h.hits);  // the hover is the map's
  for (const char* name : {"drone-1", "drone-2", "drone-3", "airliner"}) {
    const TargetScore& x = target(sa, name);
    const TargetScore& y = target(sb, name);
    EXPECT_NEAR(static_cast<double>(x.hits), static_cast<double>(y.hits), 3.0) << name;
    EXPECT_GT(y.pd(), 0.8) << name;
  }
}

// Noise only: the map's crossings over its tested cells at its design Pfa 1e-3. 5 rows x 600
// gates x 240 CPIs past a 10-CPI warm-up = 7.2 x 10^5 cells, 720 expected: binomial 95%
// +-7.3%; the map's cells of neighbouring gates correlate (the matched filter), so +-15%.
TEST(ClutterMapChain, MapFalseAlarmsOnNoiseAtTheDesign) {
  Mode m = test::small_chain_mode();
  m.processing.clutter_map.present = true;
  m.processing.clutter_map.doppler_bins = 2;
  m.processing.clutter_map.time_constant = 10;
  m.processing.clutter_map.pfa = 1e-3;
  m.validate();
  CpuChain chain(m, test::workers(2, 32));
  std::uint64_t tested = 0, crossings = 0;
  for (std::uint64_t k = 0; k < 250; ++k) {
    Cpi cpi(CpiShape{1, 64, 600});
    cpi.id = k;
    test::add_noise(cpi, 1.0, 1000 + k);
    const DetectionReport& r = chain.process(cpi);
    EXPECT_EQ(r.map_cells, 5u * 600u);
    if (k < 10) {
      EXPECT_EQ(r.map_tested, 0u) << k;
    }
    tested += r.map_tested;
    crossings += r.map_crossings;
  }
  EXPECT_EQ(tested, 240u * 5u * 600u);
  EXPECT_NEAR(static_cast<double>(crossings) / (static_cast<double>(tested) * 1e-3), 1.0, 0.15);
}

// A chain restarted from the saved map reports, from its first CPI, what the chain that never
// stopped reports (the map file written and read through ClutterMapStore).
TEST(ClutterMapChain, RestartedWithTheSavedMapReportsTheSame) {
  const Mode mode = demo_mode();
  const io::Scenario scene = parse_scenario_yaml(demo_scenario_yaml(), mode, "demo scene");
  const io::Simulator sim(mode, scene);
  const fs::path file =
      fs::temp_directory_path() / ("radarpipe-map-" + std::to_string(getpid()) + ".map");
  CpuChain whole(mode, test::workers(2, 32)), first(mode, test::workers(2, 32));
  std::vector<Cpi> cpis(40);
  io::CpiTruth truth;
  for (std::uint64_t k = 0; k < 40; ++k) sim.generate(k, cpis[k], truth);
  std::vector<DetectionReport> want;
  for (const Cpi& c : cpis) want.push_back(whole.process(c));
  for (std::uint64_t k = 0; k < 30; ++k) first.process(cpis[k]);
  std::ostringstream log;
  ClutterMapStore(file.string(), mode, log).save(first);
  CpuChain restarted(mode, test::workers(2, 32));
  ClutterMapStore store(file.string(), mode, log);
  ASSERT_TRUE(store.load(restarted)) << log.str();
  EXPECT_EQ(store.loaded_cpis(), 30u);
  for (std::uint64_t k = 30; k < 40; ++k) {
    const DetectionReport& got = restarted.process(cpis[k]);
    ASSERT_EQ(got.detections.size(), want[k].detections.size()) << k;
    EXPECT_EQ(got.map_crossings, want[k].map_crossings) << k;
    EXPECT_EQ(got.map_tested, want[k].map_tested) << k;
    for (std::size_t i = 0; i < got.detections.size(); ++i) {
      EXPECT_EQ(got.detections[i].range_bin, want[k].detections[i].range_bin);
      EXPECT_EQ(got.detections[i].power_db, want[k].detections[i].power_db);
      EXPECT_EQ(got.detections[i].decided_by, want[k].detections[i].decided_by);
    }
  }
  // Another mode's map (a different time constant) is refused by its key, and counted.
  Mode other = mode;
  other.processing.clutter_map.time_constant = 12;
  CpuChain third(other, test::workers(1, 32));
  ClutterMapStore refused(file.string(), other, log);
  EXPECT_FALSE(refused.load(third));
  EXPECT_EQ(refused.rejected().at("key"), 1u);
  EXPECT_NE(log.str().find("was saved for another mode"), std::string::npos) << log.str();
  fs::remove(file);
}

}  // namespace
}  // namespace radarpipe
