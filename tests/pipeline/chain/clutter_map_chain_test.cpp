// The clutter map through the chain (docs/signal-chain.md "Clutter map"): the demo scene
// simulated, processed and scored, against the same mode without a map; the map's false
// alarms on noise; a restarted chain with the saved map. The stage's own arithmetic is
// tests/kernels/clutter_map_test.cpp's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
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
#include "pipeline/chain/stage_config.hpp"
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

// The demo scene emptied of targets and clutter (its noise, timing and seed kept).
io::Scenario empty_demo_scene(const Mode& mode) {
  io::Scenario s = parse_scenario_yaml(demo_scenario_yaml(), mode, "demo scene");
  s.targets.clear();
  s.clutter.clear();
  return s;
}

// Steady ground at 5.5-6.5 km (every scatterer's amplitude fixed; about 24 dB over the noise
// after the demo mode's processing).
io::ClutterPatch steady_ground() {
  io::ClutterPatch g;
  g.range_start_m = 5500;
  g.range_end_m = 6500;
  g.cnr_db = -20;
  g.spread_hz = 0;
  g.steady_fraction = 1;
  return g;
}

// A steady drone hovering at 6 km, about 20 dB over the noise after processing.
io::ScenarioTarget hover_at_6km() {
  io::ScenarioTarget h;
  h.name = "hover";
  h.range_m = 6000;
  h.snr_db = -21.5;
  return h;
}

// Super-clutter visibility through simulate -> process -> score: the demo mode over steady ground
// (one patch at 5.5-6.5 km, every scatterer's amplitude fixed: buildings, terrain; about 24 dB
// over the noise after processing) with a steady drone (Swerling 0) hovering at 6 km, 10 dB above
// the mean power of its own cell; 1 cm of sway at 3.2 cm wavelength turns its phase against the
// ground's through every angle (its power there spans 4.7 to 17.3 times the ground's) while its
// Doppler (0.03 m/s) stays in the zero bin with the ground. That cell's mean is read from the map
// itself after 64 CPIs of ground alone, and the drone's peak power per dB of snr_db from a run
// of the drone alone, so the drone is placed 10 dB over the ground it hovers over, whatever the
// ground's random level there. From CPI 64 on (past the measured shape's 2 tau = 32 updates):
// - with the measured shape, Pd >= 0.9 over 136 CPIs (binomial sd at 0.9: 0.026), decided by
//   the map, and the ground itself reported at most 0.1 times per CPI;
// - with the noise shape (the factor of a cell that fluctuates like noise: 12.3 dB at 1e-6),
//   Pd < 0.5: the test fails without the spread.
TEST(ClutterMapChain, HoveringDroneTenDecibelsOverSteadyGroundIsFound) {
  const Mode mode = demo_mode();
  const ClutterMapGeometry geo = clutter_map_geometry(mode);
  const io::Scenario base = empty_demo_scene(mode);
  const io::ClutterPatch ground = steady_ground();
  io::ScenarioTarget hover = hover_at_6km();
  hover.micro_motion_m = 0.01;  // its phase against the ground turns; its Doppler stays at zero
  hover.micro_motion_period_s = 2;

  // The drone alone, seen by the CFAR (without a map, which would learn a drone present from its
  // first CPI as ground): its peak cell and peak power at snr_db -21.5 (Swerling 0: the same each
  // CPI but for the sway's range and Doppler straddle; averaged in power).
  io::Scenario alone = base;
  alone.targets.push_back(hover);
  Mode cfar_only = mode;
  cfar_only.processing.clutter_map = ClutterMapConfig{};
  const SceneRun d = run_scene(cfar_only, alone, 24);
  double power = 0, frac = 0;
  std::size_t seen = 0;
  std::int32_t gate = -1, row = -1;
  for (const DetectionReport& r : d.reports) {
    const Detection* peak = nullptr;  // the drone: the strongest in the map's rows (not noise)
    for (const Detection& x : r.detections)
      if (x.doppler_bin >= static_cast<std::int32_t>(geo.first_row) &&
          x.doppler_bin < static_cast<std::int32_t>(geo.first_row + geo.rows) &&
          (!peak || x.power_db > peak->power_db))
        peak = &x;
    if (!peak) continue;
    power += std::pow(10.0, peak->power_db / 10.0);
    frac += peak->range_bin_frac;
    ++seen;
    row = peak->doppler_bin;
  }
  ASSERT_GE(seen, 20u);
  power /= static_cast<double>(seen);
  frac /= static_cast<double>(seen);
  // Centred on its gate (a drone between two gates would put half its power over the weaker
  // ground of the two), the same power at the peak.
  const ModeGeometry mg = derive_geometry(mode);
  hover.range_m -= (frac - std::round(frac)) * mg.range_bin_m;
  gate = static_cast<std::int32_t>(std::lround(frac));

  // The ground alone: the mean power the map learned in the drone's gate and the two beside it
  // (its compressed echo's main lobe); the drone is placed 10 dB over the strongest of them.
  io::Scenario ground_only = base;
  ground_only.clutter.push_back(ground);
  double cell_mean = 0;
  {
    const io::Simulator sim(mode, ground_only);
    CpuChain chain(mode, test::workers(2, 32));
    Cpi cpi;
    io::CpiTruth t;
    for (std::uint64_t k = 0; k < 64; ++k) {
      sim.generate(k, cpi, t);
      chain.process(cpi);
    }
    const ClutterMapState* st = chain.clutter_map();
    ASSERT_NE(st, nullptr);
    for (std::int32_t g = gate - 1; g <= gate + 1; ++g)
      cell_mean = std::max<double>(
          cell_mean, st->mean[(static_cast<std::size_t>(row) - geo.first_row) * geo.gates +
                              static_cast<std::size_t>(g)]);
  }
  ASSERT_GT(cell_mean, 0.0);

  io::Scenario scene = ground_only;
  hover.snr_db += 10 * std::log10(10 * cell_mean / power);
  hover.start_s = 64.0 * static_cast<double>(mode.processing.pulses) * mode.radar.pri_s;
  scene.targets.push_back(hover);
  const std::uint64_t cpis = 200, first = 64;
  double pd[2] = {0, 0};
  for (const ClutterMapShape shape : {ClutterMapShape::Noise, ClutterMapShape::Measured}) {
    Mode m = mode;
    m.processing.clutter_map.shape = shape;
    const SceneRun a = run_scene(m, scene, cpis);
    const Score sc = score_from(a, first);
    const TargetScore& h = target(sc, "hover");
    EXPECT_EQ(h.opportunities, cpis - first);
    pd[shape == ClutterMapShape::Measured] = h.pd();
    if (shape == ClutterMapShape::Measured) {
      EXPECT_LE(static_cast<double>(sc.clutter_detections) / static_cast<double>(sc.cpis), 0.1);
      std::uint64_t by_map = 0;
      for (const DetectionReport& r : a.reports)
        for (const Detection& x : r.detections)
          by_map += r.cpi >= first && x.decided_by == DecidedBy::ClutterMap;
      EXPECT_GE(by_map, h.hits);
    }
  }
  EXPECT_GE(pd[1], 0.9) << "the drone at snr_db " << hover.snr_db << ", its cell's ground "
                        << 10 * std::log10(cell_mean) << " dB";
  EXPECT_LT(pd[0], 0.5);
}

// A rotating antenna keeps a map per azimuth cell. The demo mode turning once every 12 CPIs with
// a 30-degree beam (12 azimuth cells, one update of each a turn; tau 8 scans), over 36 turns:
// steady ground at 5.5-6.5 km (about 24 dB over the noise) in the beam's CPIs of one azimuth
// cell only, noise in the others, and from turn 12 a steady drone at 6 km, 20 dB over the noise,
// in another cell. Each CPI's scene is chosen by the azimuth cell the chain itself assigns it
// (clutter_map_azimuth_cell at the CPI's middle).
// - 12 azimuth cells: past the warm-up the map declares nothing at the ground's ranges in the
//   ground's cell (at most 2 over its 26 CPIs; the CFAR's own false alarms in the other rows are
//   not the map's), and the drone is the map's in >= 90% of its 24 CPIs;
// - one azimuth cell for the whole turn (azimuth_cells: 1): the ground, one CPI in 12, is
//   learned at a twelfth of its power and declared, some 5 cells a CPI (>= 20 over 26 CPIs).
TEST(ClutterMapChain, RotatingAntennaKeepsAMapPerAzimuthCell) {
  Mode mode = demo_mode();
  const ModeGeometry mg = derive_geometry(mode);
  mode.antenna.present = true;
  mode.antenna.scan = ScanType::Rotating;
  mode.antenna.beamwidth_deg = 30;
  mode.antenna.rotation_period_s = 12 * mg.cpi_duration_s;
  ClutterMapConfig& cm = mode.processing.clutter_map;
  cm.in_scans = true;
  cm.time_constant = 8;
  cm.warmup = 0;
  const io::Scenario clear = empty_demo_scene(mode);
  io::Scenario ground = clear, drone = clear;
  ground.clutter.push_back(steady_ground());
  drone.targets.push_back(hover_at_6km());
  const std::size_t turns = 36, cpis = 12 * turns, ground_cell = 3, drone_cell = 7;
  for (const std::size_t cells : {std::size_t{12}, std::size_t{1}}) {
    Mode m = mode;
    m.processing.clutter_map.azimuth_cells = cells == 1 ? 1 : 0;  // 0: 360 / beamwidth
    m.validate();
    const ClutterMapGeometry geo = clutter_map_geometry(m);
    ASSERT_EQ(geo.azimuth_cells, cells);
    const io::Simulator sims[3] = {io::Simulator(m, clear), io::Simulator(m, ground),
                                   io::Simulator(m, drone)};
    CpuChain chain(m, test::workers(2, 32));
    std::size_t ground_cpis = 0, ground_reports = 0, drone_cpis = 0, drone_found = 0;
    Cpi cpi;
    io::CpiTruth truth;
    for (std::uint64_t k = 0; k < cpis; ++k) {
      // The 12-cell map's cell of this CPI decides the scene, in both runs.
      Mode twelve = mode;
      const std::size_t az =
          clutter_map_azimuth_cell(twelve, clutter_map_geometry(twelve), sims[0].timestamp_ns(k));
      const std::size_t turn = k / 12;
      const int which = az == ground_cell ? 1 : (az == drone_cell && turn >= 12 ? 2 : 0);
      sims[which].generate(k, cpi, truth);
      const DetectionReport& r = chain.process(cpi);
      if (turn < 10) continue;  // the warm-up: 8 turns
      if (which == 1) {
        ++ground_cpis;
        for (const Detection& d : r.detections)
          ground_reports +=
              d.range_m > 5400 && d.range_m < 6600 && d.decided_by == DecidedBy::ClutterMap;
      } else if (which == 2) {
        ++drone_cpis;
        bool found = false;
        for (const Detection& d : r.detections)
          found |= std::abs(d.range_m - 6000) < 30 && d.decided_by == DecidedBy::ClutterMap;
        drone_found += found;
      }
    }
    SCOPED_TRACE(std::to_string(cells) + " azimuth cells");
    EXPECT_EQ(ground_cpis, 26u);
    if (cells == 12) {
      EXPECT_LE(ground_reports, 2u);
      EXPECT_EQ(drone_cpis, 24u);
      EXPECT_GE(drone_found, 22u);
    } else {
      EXPECT_GE(ground_reports, 20u);
    }
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
