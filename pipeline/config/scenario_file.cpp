#include "pipeline/config/scenario_file.hpp"

#include <fstream>
#include <sstream>

#include "core/radar_math.hpp"
#include "io/time.hpp"
#include "pipeline/config/yaml_reader.hpp"

namespace radarpipe {
namespace {

using config::Reader;

io::Scenario read_scenario(Reader& rd, const YAML::Node& root) {
  io::Scenario sc;
  if (!root || root.IsNull()) throw ConfigError("", "the file is empty; expected targets:");
  rd.expect_map(root, "",
                {"start_time", "seed", "noise_power", "noise_bandwidth_hz", "channel_gains",
                 "targets", "clutter"});
  if (auto c = rd.child(root, "", "start_time", false)) {
    if (!c.IsScalar())
      rd.fail(c, "start_time", "expected an RFC 3339 time, got " + Reader::describe(c));
    sc.start_time = c.Scalar();
    try {
      sc.start_ns = io::parse_rfc3339_ns(sc.start_time);
    } catch (const std::invalid_argument& e) {
      rd.fail(c, "start_time", e.what());
    }
  }
  if (auto c = rd.child(root, "", "seed", false)) sc.seed = rd.count(c, "seed");
  if (auto c = rd.child(root, "", "noise_power", false))
    sc.noise_power = rd.number(c, "noise_power");
  if (auto c = rd.child(root, "", "noise_bandwidth_hz", false))
    sc.noise_bandwidth_hz = rd.number(c, "noise_bandwidth_hz");
  if (auto gains = rd.child(root, "", "channel_gains", false)) {
    if (!gains.IsSequence())
      rd.fail(gains, "channel_gains", "expected a list, got " + Reader::describe(gains));
    for (std::size_t i = 0; i < gains.size(); ++i) {
      const std::string key = "channel_gains[" + std::to_string(i) + "]";
      const YAML::Node g = gains[i];
      rd.mark(key, g);
      rd.expect_map(g, key, {"amplitude_db", "phase_deg"});
      double amp_db = 0, phase_deg = 0;
      if (auto a = rd.child(g, key, "amplitude_db", false))
        amp_db = rd.number(a, key + ".amplitude_db");
      if (auto p = rd.child(g, key, "phase_deg", false))
        phase_deg = rd.number(p, key + ".phase_deg");
      sc.channel_gains.push_back(
          std::polar(std::pow(10.0, amp_db / 20.0), phase_deg * kPi / 180.0));
    }
  }
  if (auto targets = rd.child(root, "", "targets", false)) {
    if (!targets.IsSequence())
      rd.fail(targets, "targets", "expected a list, got " + Reader::describe(targets));
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const std::string key = "targets[" + std::to_string(i) + "]";
      const YAML::Node t = targets[i];
      rd.mark(key, t);
      rd.expect_map(t, key,
                    {"name", "range_m", "range_rate_mps", "acceleration_mps2", "snr_db", "swerling",
                     "start_s", "end_s", "micro_motion_m", "micro_motion_period_s"});
      io::ScenarioTarget tg;
      tg.name = "target-" + std::to_string(i + 1);
      if (auto n = rd.child(t, key, "name", false)) {
        if (!n.IsScalar()) rd.fail(n, key + ".name", "expected a name, got " + Reader::describe(n));
        tg.name = n.Scalar();
      }
      tg.range_m = rd.number(rd.child(t, key, "range_m", true), key + ".range_m");
      if (auto c = rd.child(t, key, "range_rate_mps", false))
        tg.range_rate_mps = rd.number(c, key + ".range_rate_mps");
      if (auto c = rd.child(t, key, "acceleration_mps2", false))
        tg.acceleration_mps2 = rd.number(c, key + ".acceleration_mps2");
      tg.snr_db = rd.number(rd.child(t, key, "snr_db", true), key + ".snr_db");
      if (auto c = rd.child(t, key, "swerling", false)) {
        const std::string s = rd.word(c, key + ".swerling", {"0", "1", "3"});
        tg.swerling = s == "0"   ? io::Swerling::Zero
                      : s == "1" ? io::Swerling::One
                                 : io::Swerling::Three;
      }
      if (auto c = rd.child(t, key, "start_s", false)) tg.start_s = rd.number(c, key + ".start_s");
      if (auto c = rd.child(t, key, "end_s", false)) tg.end_s = rd.number(c, key + ".end_s");
      if (auto c = rd.child(t, key, "micro_motion_m", false))
        tg.micro_motion_m = rd.number(c, key + ".micro_motion_m");
      if (auto c = rd.child(t, key, "micro_motion_period_s", false))
        tg.micro_motion_period_s = rd.number(c, key + ".micro_motion_period_s");
      sc.targets.push_back(tg);
    }
  }
  if (auto clutter = rd.child(root, "", "clutter", false)) {
    if (!clutter.IsSequence())
      rd.fail(clutter, "clutter", "expected a list, got " + Reader::describe(clutter));
    for (std::size_t i = 0; i < clutter.size(); ++i) {
      const std::string key = "clutter[" + std::to_string(i) + "]";
      const YAML::Node c = clutter[i];
      rd.mark(key, c);
      rd.expect_map(
          c, key,
          {"range_start_m", "range_end_m", "cnr_db", "cnr_end_db", "spread_hz", "steady_fraction"});
      io::ClutterPatch p;
      p.range_start_m = rd.number(rd.child(c, key, "range_start_m", true), key + ".range_start_m");
      p.range_end_m = rd.number(rd.child(c, key, "range_end_m", true), key + ".range_end_m");
      p.cnr_db = rd.number(rd.child(c, key, "cnr_db", true), key + ".cnr_db");
      if (auto e = rd.child(c, key, "cnr_end_db", false))
        p.cnr_end_db = rd.number(e, key + ".cnr_end_db");
      if (auto s = rd.child(c, key, "steady_fraction", false))
        p.steady_fraction = rd.number(s, key + ".steady_fraction");
      if (auto s = rd.child(c, key, "spread_hz", false))
        p.spread_hz = rd.number(s, key + ".spread_hz");
      sc.clutter.push_back(p);
    }
  }
  return sc;
}

}  // namespace

io::Scenario parse_scenario_yaml(const std::string& text, const Mode& mode,
                                 const std::string& source) {
  return config::parse_yaml_with(text, source, [&](Reader& rd, const YAML::Node& root) {
    io::Scenario sc = read_scenario(rd, root);
    sc.validate(mode);
    return sc;
  });
}

io::Scenario load_scenario_file(const std::string& path, const Mode& mode) {
  std::ifstream in(path);
  if (!in) throw ConfigError("", path + ": cannot open the scenario file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario_yaml(ss.str(), mode, path);
}

}  // namespace radarpipe
