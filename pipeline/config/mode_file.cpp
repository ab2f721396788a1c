#include "pipeline/config/mode_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <vector>

#include "io/time.hpp"
#include "pipeline/config/yaml_reader.hpp"

namespace radarpipe {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1u : 0u)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

using config::Reader;

WindowConfig read_window(Reader& rd, const YAML::Node& n, const std::string& key) {
  WindowConfig w;
  static const std::initializer_list<const char*> kTypes = {"rect",     "hann",   "hamming",
                                                            "blackman", "taylor", "chebyshev"};
  std::string type;
  if (n.IsScalar()) {
    type = rd.word(n, key, kTypes);
  } else {
    rd.expect_map(n, key, {"type", "nbar", "sll_db", "attenuation_db"});
    type = rd.word(rd.child(n, key, "type", true), key + ".type", kTypes);
  }
  const std::map<std::string, WindowType> types = {
      {"rect", WindowType::Rect},       {"hann", WindowType::Hann},
      {"hamming", WindowType::Hamming}, {"blackman", WindowType::Blackman},
      {"taylor", WindowType::Taylor},   {"chebyshev", WindowType::Chebyshev}};
  w.type = types.at(type);
  if (!n.IsMap()) return w;
  auto only_for = [&](const char* name, const char* owner) {
    if (n[name])
      throw ConfigError(key + "." + name,
                        std::string("only applies to the ") + owner + " window, not " + type);
  };
  if (w.type == WindowType::Taylor) {
    if (auto c = rd.child(n, key, "nbar", false)) {
      const std::size_t v = rd.count(c, key + ".nbar");
      w.nbar = v > 1000 ? 1000 : static_cast<int>(v);
    }
    if (auto c = rd.child(n, key, "sll_db", false))
      w.sll_db = std::fabs(rd.number(c, key + ".sll_db"));
  } else {
    only_for("nbar", "taylor");
    only_for("sll_db", "taylor");
  }
  if (w.type == WindowType::Chebyshev) {
    if (auto c = rd.child(n, key, "attenuation_db", false))
      w.attenuation_db = std::fabs(rd.number(c, key + ".attenuation_db"));
  } else {
    only_for("attenuation_db", "chebyshev");
  }
  return w;
}

WaveformConfig read_waveform(Reader& rd, const YAML::Node& n, const std::string& key) {
  WaveformConfig w;
  if (!n.IsMap()) rd.fail(n, key, "expected a mapping with a type, got " + Reader::describe(n));
  const std::string type =
      rd.word(rd.child(n, key, "type", true), key + ".type", {"lfm", "barker", "rect"});
  if (type == "lfm") {
    rd.expect_map(n, key, {"type", "pulse_width_s", "bandwidth_hz", "direction"});
    w.type = WaveformType::Lfm;
    w.pulse_width_s = rd.number(rd.child(n, key, "pulse_width_s", true), key + ".pulse_width_s");
    w.bandwidth_hz = rd.number(rd.child(n, key, "bandwidth_hz", true), key + ".bandwidth_hz");
    if (auto c = rd.child(n, key, "direction", false))
      w.direction = rd.word(c, key + ".direction", {"up", "down"}) == "up" ? 1 : -1;
  } else if (type == "barker") {
    rd.expect_map(n, key, {"type", "length", "chip_width_s"});
    w.type = WaveformType::Barker;
    const std::size_t len = rd.count(rd.child(n, key, "length", true), key + ".length");
    w.barker_length = len > 1000 ? 1000 : static_cast<int>(len);
    w.chip_width_s = rd.number(rd.child(n, key, "chip_width_s", true), key + ".chip_width_s");
  } else {
    rd.expect_map(n, key, {"type", "pulse_width_s"});
    w.type = WaveformType::Rect;
    w.pulse_width_s = rd.number(rd.child(n, key, "pulse_width_s", true), key + ".pulse_width_s");
  }
  return w;
}

// pipeline: {cpis_in_flight, link_queue, segments: [{name, stages: [...], from}]}. Stage names:
// pulse_compression, mti and doppler (one stage: MTI runs inside Doppler processing), cfar and
// plots (one stage), or detection for cfar + plots.
void read_pipeline(Reader& rd, const YAML::Node& n, PipelineConfig& pl) {
  rd.expect_map(n, "pipeline", {"cpis_in_flight", "link_queue", "segments"});
  if (auto c = rd.child(n, "pipeline", "cpis_in_flight", false))
    pl.cpis_in_flight = rd.count(c, "pipeline.cpis_in_flight");
  if (auto c = rd.child(n, "pipeline", "link_queue", false))
    pl.link_queue = rd.count(c, "pipeline.link_queue");
  const YAML::Node segs = rd.child(n, "pipeline", "segments", false);
  if (!segs) return;
  if (!segs.IsSequence() || segs.size() == 0)
    rd.fail(segs, "pipeline.segments",
            "expected a list of segments, got " + Reader::describe(segs));
  pl.segments.clear();
  const std::map<std::string, Stage> stage_of = {{"pulse_compression", Stage::PulseCompression},
                                                 {"mti", Stage::Doppler},
                                                 {"doppler", Stage::Doppler},
                                                 {"cfar", Stage::Detection},
                                                 {"plots", Stage::Detection},
                                                 {"detection", Stage::Detection}};
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string key = "pipeline.segments[" + std::to_string(i) + "]";
    const YAML::Node s = segs[i];
    rd.mark(key, s);
    rd.expect_map(s, key, {"name", "stages", "from"});
    SegmentConfig seg;
    const YAML::Node name = rd.child(s, key, "name", true);
    if (!name.IsScalar())
      rd.fail(name, key + ".name", "expected a name, got " + Reader::describe(name));
    seg.name = name.Scalar();
    if (auto f = rd.child(s, key, "from", false)) {
      if (!f.IsScalar())
        rd.fail(f, key + ".from", "expected an endpoint, got " + Reader::describe(f));
      seg.from = f.Scalar();
    }
    const YAML::Node stages = rd.child(s, key, "stages", true);
    if (!stages.IsSequence() || stages.size() == 0)
      rd.fail(stages, key + ".stages",
              "expected a list of stages, got " + Reader::describe(stages));
    std::vector<Stage> list;
    for (std::size_t k = 0; k < stages.size(); ++k) {
      const std::string sk = key + ".stages[" + std::to_string(k) + "]";
      const std::string w = rd.word(
          stages[k], sk, {"pulse_compression", "mti", "doppler", "cfar", "plots", "detection"});
      if (std::find(seen.begin(), seen.end(), w) != seen.end())
        rd.fail(stages[k], sk, "'" + w + "' is listed twice");
      seen.push_back(w);
      const Stage st = stage_of.at(w);
      if (!list.empty() && st != list.back() &&
          static_cast<int>(st) != static_cast<int>(list.back()) + 1)
        rd.fail(stages[k], sk,
                "'" + w + "' does not follow " + to_string(list.back()) +
                    " in the chain (pulse_compression, mti, doppler, cfar, plots)");
      list.push_back(st);
    }
    seg.first = list.front();
    seg.last = list.back();
    pl.segments.push_back(seg);
  }
  // mti belongs to Doppler processing and plots to CFAR: they cannot be cut apart.
  for (std::size_t i = 0; i + 1 < pl.segments.size(); ++i)
    if (pl.segments[i].last == pl.segments[i + 1].first)
      rd.fail(segs[i + 1], "pipeline.segments[" + std::to_string(i + 1) + "].stages",
              std::string("cuts ") + to_string(pl.segments[i].last) +
                  " apart (mti runs inside doppler, plots inside cfar: keep each pair in one "
                  "segment)");
}

// antenna: {scan: fixed|rotating, azimuth_deg, channel_azimuths_deg, beamwidth_deg,
// rotation_period_s, direction: clockwise|anticlockwise, sectors}
void read_antenna(Reader& rd, const YAML::Node& n, AntennaConfig& a) {
  const std::string k = "antenna";
  rd.expect_map(n, k,
                {"scan", "azimuth_deg", "channel_azimuths_deg", "beamwidth_deg",
                 "rotation_period_s", "direction", "sectors"});
  a.present = true;
  a.scan = rd.word(rd.child(n, k, "scan", true), k + ".scan", {"fixed", "rotating"}) == "fixed"
               ? ScanType::Fixed
               : ScanType::Rotating;
  if (auto c = rd.child(n, k, "azimuth_deg", false))
    a.azimuth_deg = rd.number(c, k + ".azimuth_deg");
  a.beamwidth_deg = rd.number(rd.child(n, k, "beamwidth_deg", true), k + ".beamwidth_deg");
  auto rotating_only = [&](const char* name) {
    if (a.scan == ScanType::Fixed && n[name])
      rd.fail(n[name], k + "." + name, "only applies to scan: rotating");
  };
  rotating_only("rotation_period_s");
  rotating_only("direction");
  rotating_only("sectors");
  if (auto c = rd.child(n, k, "channel_azimuths_deg", false)) {
    if (!c.IsSequence())
      rd.fail(c, k + ".channel_azimuths_deg",
              "expected a list of azimuths, got " + Reader::describe(c));
    for (std::size_t i = 0; i < c.size(); ++i)
      a.channel_azimuths_deg.push_back(
          rd.number(c[i], k + ".channel_azimuths_deg[" + std::to_string(i) + "]"));
  }
  if (a.scan == ScanType::Rotating) {
    a.rotation_period_s =
        rd.number(rd.child(n, k, "rotation_period_s", true), k + ".rotation_period_s");
    if (auto c = rd.child(n, k, "direction", false))
      a.direction =
          rd.word(c, k + ".direction", {"clockwise", "anticlockwise"}) == "clockwise" ? 1 : -1;
    if (auto c = rd.child(n, k, "sectors", false)) a.sectors = rd.count(c, k + ".sectors");
  }
}

// asterix: {sac, sic, destination, ttl, interface, zmq, max_datagram_bytes,
// amplitude_offset_db, cat034}
void read_asterix(Reader& rd, const YAML::Node& n, AsterixConfig& x) {
  const std::string k = "asterix";
  rd.expect_map(n, k,
                {"sac", "sic", "destination", "ttl", "interface", "zmq", "max_datagram_bytes",
                 "amplitude_offset_db", "cat034"});
  x.present = true;
  x.sac = static_cast<unsigned>(
      std::min<std::size_t>(rd.count(rd.child(n, k, "sac", true), k + ".sac"), 1u << 20));
  x.sic = static_cast<unsigned>(
      std::min<std::size_t>(rd.count(rd.child(n, k, "sic", true), k + ".sic"), 1u << 20));
  auto text = [&](const char* name) {
    const YAML::Node c = rd.child(n, k, name, false);
    if (!c) return std::string();
    if (!c.IsScalar()) rd.fail(c, k + "." + name, "expected text, got " + Reader::describe(c));
    return c.Scalar();
  };
  auto flag = [&](const char* name, bool dflt) {
    const YAML::Node c = rd.child(n, k, name, false);
    if (!c) return dflt;
    return rd.word(c, k + "." + name, {"true", "false"}) == "true";
  };
  x.destination = text("destination");
  x.interface = text("interface");
  if (auto c = rd.child(n, k, "ttl", false))
    x.ttl = static_cast<unsigned>(std::min<std::size_t>(rd.count(c, k + ".ttl"), 1u << 20));
  if (auto c = rd.child(n, k, "max_datagram_bytes", false))
    x.max_datagram_bytes = rd.count(c, k + ".max_datagram_bytes");
  if (auto c = rd.child(n, k, "amplitude_offset_db", false))
    x.amplitude_offset_db = rd.number(c, k + ".amplitude_offset_db");
  x.zmq = flag("zmq", false);
  x.cat034 = flag("cat034", true);
}

// security: {curve, key, server_key, authorized_keys} (docs/security.md)
void read_security(Reader& rd, const YAML::Node& n, SecurityConfig& sec) {
  rd.expect_map(n, "security", {"curve", "key", "server_key", "authorized_keys"});
  if (auto c = rd.child(n, "security", "curve", false)) {
    const std::string w = rd.word(c, "security.curve", {"auto", "on", "off"});
    sec.curve = w == "on" ? CurveUse::On : w == "off" ? CurveUse::Off : CurveUse::Auto;
  }
  auto path = [&](const char* name, std::string& out) {
    if (auto c = rd.child(n, "security", name, false)) {
      if (!c.IsScalar() || c.Scalar().empty())
        rd.fail(c, std::string("security.") + name,
                "expected a file path, got " + Reader::describe(c));
      out = c.Scalar();
    }
  };
  path("key", sec.key);
  path("server_key", sec.server_key);
  path("authorized_keys", sec.authorized_keys);
}

// input: {from, vrt: {timing, epoch, stream_ids, payload_format, scale, gps_leap_seconds,
// receive_buffer_bytes}}
void read_input(Reader& rd, const YAML::Node& n, InputConfig& in) {
  rd.expect_map(n, "input", {"from", "vrt"});
  if (auto c = rd.child(n, "input", "from", false)) {
    if (!c.IsScalar() || c.Scalar().empty())
      rd.fail(c, "input.from", "expected an endpoint, got " + Reader::describe(c));
    in.from = c.Scalar();
  }
  const YAML::Node v = rd.child(n, "input", "vrt", false);
  if (!v) return;
  const std::string k = "input.vrt";
  rd.expect_map(v, k,
                {"timing", "epoch", "stream_ids", "payload_format", "scale", "gps_leap_seconds",
                 "receive_buffer_bytes"});
  VrtInputConfig& x = in.vrt;
  if (auto c = rd.child(v, k, "timing", false))
    x.timing = rd.word(c, k + ".timing", {"gated", "continuous"}) == "gated"
                   ? PulseTiming::Gated
                   : PulseTiming::Continuous;
  if (auto c = rd.child(v, k, "epoch", false)) {
    if (!c.IsScalar()) rd.fail(c, k + ".epoch", "expected first_packet, context or a UTC time");
    const std::string e = c.Scalar();
    if (e == "first_packet") {
      x.epoch = VrtEpoch::FirstPacket;
    } else if (e == "context") {
      x.epoch = VrtEpoch::Context;
    } else {
      try {
        x.epoch_ns = io::parse_rfc3339_ns(e);
      } catch (const std::exception& err) {
        rd.fail(c, k + ".epoch",
                "'" + e + "' is not first_packet, context or an RFC 3339 UTC time (" + err.what() +
                    ")");
      }
      x.epoch = VrtEpoch::Time;
    }
  }
  if (auto c = rd.child(v, k, "stream_ids", false)) {
    if (!c.IsSequence())
      rd.fail(c, k + ".stream_ids", "expected a list, got " + Reader::describe(c));
    if (c.size() > 1024)
      rd.fail(c, k + ".stream_ids", std::to_string(c.size()) + " entries, more than 1024 channels");
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::string key = k + ".stream_ids[" + std::to_string(i) + "]";
      const std::size_t id = rd.count(c[i], key);
      if (id > 0xffffffffu) rd.fail(c[i], key, std::to_string(id) + " does not fit 32 bits");
      x.stream_ids.push_back(static_cast<std::uint32_t>(id));
    }
  }
  if (auto c = rd.child(v, k, "payload_format", false)) {
    const std::string f = rd.word(c, k + ".payload_format", {"sc8", "sc12", "sc16", "cf32"});
    x.payload_format = f == "sc8"    ? VrtPayload::Sc8
                       : f == "sc12" ? VrtPayload::Sc12
                       : f == "sc16" ? VrtPayload::Sc16
                                     : VrtPayload::Cf32;
  }
  if (auto c = rd.child(v, k, "scale", false)) x.scale = rd.number(c, k + ".scale");
  if (auto c = rd.child(v, k, "gps_leap_seconds", false))
    x.gps_leap_seconds =
        static_cast<int>(std::min<std::size_t>(rd.count(c, k + ".gps_leap_seconds"), 1000));
  if (auto c = rd.child(v, k, "receive_buffer_bytes", false))
    x.receive_buffer_bytes = rd.count(c, k + ".receive_buffer_bytes");
}

// processing.cfar.factors: {alpha, fingerprint, measured_pfa, cells, crossings, pfa_low,
// pfa_high, alpha_low, alpha_high, source} as radarpipe calibrate writes it.
void read_factors(Reader& rd, const YAML::Node& n, CfarFactors& f) {
  const std::string k = "processing.cfar.factors";
  rd.expect_map(n, k,
                {"alpha", "fingerprint", "measured_pfa", "cells", "crossings", "pfa_low",
                 "pfa_high", "alpha_low", "alpha_high", "source"});
  auto text = [&](const char* name, bool required) {
    const YAML::Node c = rd.child(n, k, name, required);
    if (!c) return std::string();
    if (!c.IsScalar()) rd.fail(c, k + "." + name, "expected text, got " + Reader::describe(c));
    return c.Scalar();
  };
  auto number = [&](const char* name, double& v) {
    if (auto c = rd.child(n, k, name, false)) v = rd.number(c, k + "." + name);
  };
  f.present = true;
  f.alpha = rd.number(rd.child(n, k, "alpha", true), k + ".alpha");
  f.fingerprint = text("fingerprint", true);
  f.source = text("source", false);
  number("measured_pfa", f.measured_pfa);
  number("pfa_low", f.pfa_low);
  number("pfa_high", f.pfa_high);
  number("alpha_low", f.alpha_low);
  number("alpha_high", f.alpha_high);
  if (auto c = rd.child(n, k, "cells", false)) f.cells = rd.count(c, k + ".cells");
  if (auto c = rd.child(n, k, "crossings", false)) f.crossings = rd.count(c, k + ".crossings");
}

// processing.clutter_map: {doppler_bins | velocity_mps, time_constant_cpis |
// time_constant_scans, warmup_cpis | warmup_scans, pfa | factor_db, shape, hold_s, azimuth_cells,
// file}
void read_clutter_map(Reader& rd, const YAML::Node& n, ClutterMapConfig& m) {
  const std::string k = "processing.clutter_map";
  rd.expect_map(
      n, k,
      {"doppler_bins", "velocity_mps", "time_constant_cpis", "time_constant_scans", "warmup_cpis",
       "warmup_scans", "pfa", "factor_db", "shape", "hold_s", "azimuth_cells", "file"});
  m.present = true;
  auto one_of = [&](const char* a, const char* b, bool required) {
    if (n[a] && n[b]) rd.fail(n[b], k + "." + b, std::string("and ") + a + " both given; give one");
    if (required && !n[a] && !n[b]) rd.fail(n, k, std::string("needs ") + a + " or " + b);
    return n[b] ? std::string(b) : std::string(a);
  };
  one_of("doppler_bins", "velocity_mps", false);
  if (auto c = rd.child(n, k, "doppler_bins", false))
    m.doppler_bins = rd.count(c, k + ".doppler_bins");
  if (auto c = rd.child(n, k, "velocity_mps", false))
    m.velocity_mps = rd.number(c, k + ".velocity_mps");
  const std::string tau = one_of("time_constant_cpis", "time_constant_scans", true);
  m.in_scans = tau == "time_constant_scans";
  m.time_constant = rd.number(rd.child(n, k, tau.c_str(), true), k + "." + tau);
  const std::string warm = m.in_scans ? "warmup_scans" : "warmup_cpis";
  const std::string other = m.in_scans ? "warmup_cpis" : "warmup_scans";
  if (n[other])
    rd.fail(n[other], k + "." + other, "is in the other unit than " + tau + "; give " + warm);
  if (auto c = rd.child(n, k, warm.c_str(), false)) {
    m.warmup = rd.number(c, k + "." + warm);
    if (!(m.warmup >= 1e-9))
      rd.fail(c, k + "." + warm, "must be > 0 (leave it out for one time constant)");
  }
  one_of("pfa", "factor_db", false);
  if (auto c = rd.child(n, k, "pfa", false)) {
    m.pfa = rd.number(c, k + ".pfa");
    if (!(m.pfa > 0.0)) rd.fail(c, k + ".pfa", "must be > 0");
  }
  if (auto c = rd.child(n, k, "factor_db", false)) {
    m.factor_db = rd.number(c, k + ".factor_db");
    if (!(m.factor_db > 0.0)) rd.fail(c, k + ".factor_db", "must be > 0 dB");
  }
  if (auto c = rd.child(n, k, "shape", false)) {
    if (n["factor_db"])
      rd.fail(c, k + ".shape", "applies to a factor from pfa; factor_db fixes the factor");
    m.shape = rd.word(c, k + ".shape", {"measured", "noise"}) == "noise"
                  ? ClutterMapShape::Noise
                  : ClutterMapShape::Measured;
  }
  if (auto c = rd.child(n, k, "hold_s", false)) m.hold_s = rd.number(c, k + ".hold_s");
  if (auto c = rd.child(n, k, "azimuth_cells", false)) {
    m.azimuth_cells = rd.count(c, k + ".azimuth_cells");
    if (m.azimuth_cells == 0) rd.fail(c, k + ".azimuth_cells", "must be >= 1");
  }
  if (auto c = rd.child(n, k, "file", false)) {
    if (!c.IsScalar() || c.Scalar().empty())
      rd.fail(c, k + ".file", "expected a file path, got " + Reader::describe(c));
    m.file = c.Scalar();
  }
}

Mode read_mode(Reader& rd, const YAML::Node& root) {
  Mode mode;
  if (!root || root.IsNull())
    throw ConfigError("", "the file is empty; expected radar: and processing:");
  rd.expect_map(
      root, "",
      {"radar", "processing", "backend", "pipeline", "antenna", "asterix", "input", "security"});

  const YAML::Node radar = rd.child(root, "", "radar", true);
  rd.expect_map(radar, "radar",
                {"center_frequency_hz", "sample_rate_hz", "pri_s", "range_gates", "window_start_s",
                 "channels", "waveform"});
  RadarConfig& r = mode.radar;
  r.center_frequency_hz =
      rd.number(rd.child(radar, "radar", "center_frequency_hz", true), "radar.center_frequency_hz");
  r.sample_rate_hz =
      rd.number(rd.child(radar, "radar", "sample_rate_hz", true), "radar.sample_rate_hz");
  r.pri_s = rd.number(rd.child(radar, "radar", "pri_s", true), "radar.pri_s");
  r.range_gates = rd.count(rd.child(radar, "radar", "range_gates", true), "radar.range_gates");
  if (auto c = rd.child(radar, "radar", "window_start_s", false))
    r.window_start_s = rd.number(c, "radar.window_start_s");
  if (auto c = rd.child(radar, "radar", "channels", false))
    r.channels = rd.count(c, "radar.channels");
  r.waveform = read_waveform(rd, rd.child(radar, "radar", "waveform", true), "radar.waveform");

  const YAML::Node proc = rd.child(root, "", "processing", true);
  rd.expect_map(
      proc, "processing",
      {"pulses", "range_window", "mti", "doppler_window", "doppler_fft_size", "channel_combine",
       "cfar", "fft_planning", "fft_wisdom", "max_crossings", "max_detections", "clutter_map"});
  ProcessingConfig& p = mode.processing;
  p.pulses = rd.count(rd.child(proc, "processing", "pulses", true), "processing.pulses");
  p.range_window = WindowConfig{WindowType::Rect};
  if (auto c = rd.child(proc, "processing", "range_window", false))
    p.range_window = read_window(rd, c, "processing.range_window");
  if (auto c = rd.child(proc, "processing", "mti", false)) {
    const std::string m = rd.word(c, "processing.mti", {"none", "two_pulse", "three_pulse"});
    p.mti = m == "none"        ? MtiMode::None
            : m == "two_pulse" ? MtiMode::TwoPulse
                               : MtiMode::ThreePulse;
  }
  p.doppler_window = WindowConfig{WindowType::Rect};
  if (auto c = rd.child(proc, "processing", "doppler_window", false))
    p.doppler_window = read_window(rd, c, "processing.doppler_window");
  if (auto c = rd.child(proc, "processing", "doppler_fft_size", false)) {
    p.doppler_fft_size = rd.count(c, "processing.doppler_fft_size");
  } else {
    // Default: the next power of two that holds the pulses left after MTI.
    const std::size_t taps = p.mti == MtiMode::TwoPulse ? 1 : p.mti == MtiMode::ThreePulse ? 2 : 0;
    const std::size_t used = p.pulses > taps ? p.pulses - taps : 1;
    p.doppler_fft_size = 1;
    while (p.doppler_fft_size < used) p.doppler_fft_size *= 2;
  }
  if (auto c = rd.child(proc, "processing", "channel_combine", false))
    p.channel_combine =
        rd.word(c, "processing.channel_combine", {"noncoherent", "per_channel"}) == "noncoherent"
            ? ChannelCombine::Noncoherent
            : ChannelCombine::PerChannel;
  if (auto c = rd.child(proc, "processing", "fft_planning", false)) {
    const std::string f = rd.word(c, "processing.fft_planning", {"estimate", "measure", "patient"});
    p.fft_planning = f == "estimate"  ? FftPlanning::Estimate
                     : f == "measure" ? FftPlanning::Measure
                                      : FftPlanning::Patient;
  }
  if (auto c = rd.child(proc, "processing", "fft_wisdom", false)) {
    if (!c.IsScalar() || c.Scalar().empty())
      rd.fail(c, "processing.fft_wisdom",
              "expected a file path or none, got " + Reader::describe(c));
    p.fft_wisdom = c.Scalar();
  }
  if (auto c = rd.child(proc, "processing", "max_crossings", false))
    p.max_crossings = rd.count(c, "processing.max_crossings");
  if (auto c = rd.child(proc, "processing", "max_detections", false))
    p.max_detections = rd.count(c, "processing.max_detections");

  if (auto c = rd.child(proc, "processing", "clutter_map", false))
    read_clutter_map(rd, c, p.clutter_map);

  const YAML::Node cfar = rd.child(proc, "processing", "cfar", true);
  const std::string ck = "processing.cfar";
  rd.expect_map(
      cfar, ck,
      {"type", "guard_cells", "training_cells", "pfa", "os_rank", "threshold", "factors"});
  CfarConfig& c = p.cfar;
  const std::string t =
      rd.word(rd.child(cfar, ck, "type", true), ck + ".type", {"ca", "go", "so", "os"});
  c.type = t == "ca"   ? CfarType::Ca
           : t == "go" ? CfarType::Go
           : t == "so" ? CfarType::So
                       : CfarType::Os;
  const YAML::Node guard = rd.child(cfar, ck, "guard_cells", true);
  rd.expect_map(guard, ck + ".guard_cells", {"range", "doppler"});
  c.guard_range =
      rd.count(rd.child(guard, ck + ".guard_cells", "range", true), ck + ".guard_cells.range");
  c.guard_doppler =
      rd.count(rd.child(guard, ck + ".guard_cells", "doppler", true), ck + ".guard_cells.doppler");
  const YAML::Node train = rd.child(cfar, ck, "training_cells", true);
  rd.expect_map(train, ck + ".training_cells", {"range", "doppler"});
  c.train_range = rd.count(rd.child(train, ck + ".training_cells", "range", true),
                           ck + ".training_cells.range");
  c.train_doppler = rd.count(rd.child(train, ck + ".training_cells", "doppler", true),
                             ck + ".training_cells.doppler");
  c.pfa = rd.number(rd.child(cfar, ck, "pfa", true), ck + ".pfa");
  if (auto o = rd.child(cfar, ck, "os_rank", false)) c.os_rank = rd.number(o, ck + ".os_rank");
  if (auto o = rd.child(cfar, ck, "threshold", false))
    c.threshold = rd.word(o, ck + ".threshold", {"calibrated", "textbook"}) == "calibrated"
                      ? CfarThreshold::Calibrated
                      : CfarThreshold::Textbook;
  if (auto f = rd.child(cfar, ck, "factors", false)) read_factors(rd, f, c.factors);

  if (auto b = rd.child(root, "", "backend", false)) {
    const std::string s = rd.word(b, "backend", {"auto", "cpu", "cuda"});
    mode.backend = s == "auto" ? Backend::Auto : s == "cpu" ? Backend::Cpu : Backend::Cuda;
  }
  if (auto pl = rd.child(root, "", "pipeline", false)) read_pipeline(rd, pl, mode.pipeline);
  if (auto a = rd.child(root, "", "antenna", false)) read_antenna(rd, a, mode.antenna);
  if (auto x = rd.child(root, "", "asterix", false)) read_asterix(rd, x, mode.asterix);
  if (auto in = rd.child(root, "", "input", false)) read_input(rd, in, mode.input);
  if (auto sec = rd.child(root, "", "security", false)) read_security(rd, sec, mode.security);
  return mode;
}

}  // namespace

Mode parse_mode_yaml(const std::string& text, const std::string& source, MeasuredFactors factors) {
  return config::parse_yaml_with(text, source, [factors](Reader& rd, const YAML::Node& root) {
    Mode mode = read_mode(rd, root);
    if (factors == MeasuredFactors::Drop) mode.processing.cfar.factors = CfarFactors{};
    mode.validate();
    return mode;
  });
}

namespace {

nlohmann::json window_json(const WindowConfig& w) {
  nlohmann::json j = {{"type", to_string(w.type)}};
  if (w.type == WindowType::Taylor) {
    j["nbar"] = w.nbar;
    j["sll_db"] = w.sll_db;
  }
  if (w.type == WindowType::Chebyshev) j["attenuation_db"] = w.attenuation_db;
  return j;
}

}  // namespace

nlohmann::json radar_section_json(const RadarConfig& r) {
  nlohmann::json w = {{"type", to_string(r.waveform.type)}};
  switch (r.waveform.type) {
    case WaveformType::Lfm:
      w["pulse_width_s"] = r.waveform.pulse_width_s;
      w["bandwidth_hz"] = r.waveform.bandwidth_hz;
      w["direction"] = r.waveform.direction < 0 ? "down" : "up";
      break;
    case WaveformType::Barker:
      w["length"] = r.waveform.barker_length;
      w["chip_width_s"] = r.waveform.chip_width_s;
      break;
    case WaveformType::Rect:
      w["pulse_width_s"] = r.waveform.pulse_width_s;
      break;
  }
  return {{"center_frequency_hz", r.center_frequency_hz},
          {"sample_rate_hz", r.sample_rate_hz},
          {"pri_s", r.pri_s},
          {"range_gates", r.range_gates},
          {"window_start_s", r.window_start_s},
          {"channels", r.channels},
          {"waveform", w}};
}

nlohmann::json mode_file_json(const Mode& mode) {
  const ProcessingConfig& p = mode.processing;
  const CfarConfig& c = p.cfar;
  nlohmann::json cfar = {
      {"type", to_string(c.type)},
      {"guard_cells", {{"range", c.guard_range}, {"doppler", c.guard_doppler}}},
      {"training_cells", {{"range", c.train_range}, {"doppler", c.train_doppler}}},
      {"pfa", c.pfa},
      {"os_rank", c.os_rank},
      {"threshold", to_string(c.threshold)}};
  if (c.factors.present) {
    const CfarFactors& f = c.factors;
    cfar["factors"] = {
        {"alpha", f.alpha},       {"fingerprint", f.fingerprint}, {"measured_pfa", f.measured_pfa},
        {"cells", f.cells},       {"crossings", f.crossings},     {"pfa_low", f.pfa_low},
        {"pfa_high", f.pfa_high}, {"alpha_low", f.alpha_low},     {"alpha_high", f.alpha_high}};
    if (!f.source.empty()) cfar["factors"]["source"] = f.source;
  }
  nlohmann::json proc = {{"pulses", p.pulses},
                         {"range_window", window_json(p.range_window)},
                         {"mti", to_string(p.mti)},
                         {"doppler_window", window_json(p.doppler_window)},
                         {"doppler_fft_size", p.doppler_fft_size},
                         {"channel_combine", to_string(p.channel_combine)},
                         {"cfar", cfar},
                         {"fft_planning", to_string(p.fft_planning)},
                         {"max_crossings", p.max_crossings},
                         {"max_detections", p.max_detections}};
  if (!p.fft_wisdom.empty()) proc["fft_wisdom"] = p.fft_wisdom;
  if (p.clutter_map.present) {
    const ClutterMapConfig& m = p.clutter_map;
    nlohmann::json j;
    if (m.velocity_mps > 0.0)
      j["velocity_mps"] = m.velocity_mps;
    else
      j["doppler_bins"] = m.doppler_bins;
    j[m.in_scans ? "time_constant_scans" : "time_constant_cpis"] = m.time_constant;
    if (m.warmup > 0.0) j[m.in_scans ? "warmup_scans" : "warmup_cpis"] = m.warmup;
    if (m.factor_db > 0.0) j["factor_db"] = m.factor_db;
    if (m.pfa > 0.0) j["pfa"] = m.pfa;
    if (m.factor_db <= 0.0) j["shape"] = to_string(m.shape);
    j["hold_s"] = m.hold_s;
    if (m.azimuth_cells) j["azimuth_cells"] = m.azimuth_cells;
    if (!m.file.empty()) j["file"] = m.file;
    proc["clutter_map"] = j;
  }
  nlohmann::json segments = nlohmann::json::array();
  for (const SegmentConfig& s : mode.pipeline.segments) {
    nlohmann::json stages = nlohmann::json::array();
    for (int st = static_cast<int>(s.first); st <= static_cast<int>(s.last); ++st) {
      if (st == static_cast<int>(Stage::Detection)) {
        stages.push_back("cfar");
        stages.push_back("plots");
      } else {
        stages.push_back(to_string(static_cast<Stage>(st)));
      }
    }
    nlohmann::json seg = {{"name", s.name}, {"stages", stages}};
    if (!s.from.empty()) seg["from"] = s.from;
    segments.push_back(seg);
  }
  nlohmann::json doc = {{"radar", radar_section_json(mode.radar)},
                        {"processing", proc},
                        {"backend", to_string(mode.backend)},
                        {"pipeline",
                         {{"cpis_in_flight", mode.pipeline.cpis_in_flight},
                          {"link_queue", mode.pipeline.link_queue},
                          {"segments", segments}}}};
  const AntennaConfig& a = mode.antenna;
  if (a.present) {
    nlohmann::json j = {{"scan", to_string(a.scan)},
                        {"azimuth_deg", a.azimuth_deg},
                        {"beamwidth_deg", a.beamwidth_deg}};
    if (!a.channel_azimuths_deg.empty()) j["channel_azimuths_deg"] = a.channel_azimuths_deg;
    if (a.scan == ScanType::Rotating) {
      j["rotation_period_s"] = a.rotation_period_s;
      j["direction"] = a.direction > 0 ? "clockwise" : "anticlockwise";
      j["sectors"] = a.sectors;
    }
    doc["antenna"] = j;
  }
  const AsterixConfig& x = mode.asterix;
  if (x.present) {
    nlohmann::json j = {{"sac", x.sac},
                        {"sic", x.sic},
                        {"ttl", x.ttl},
                        {"zmq", x.zmq},
                        {"max_datagram_bytes", x.max_datagram_bytes},
                        {"amplitude_offset_db", x.amplitude_offset_db},
                        {"cat034", x.cat034}};
    if (!x.destination.empty()) j["destination"] = x.destination;
    if (!x.interface.empty()) j["interface"] = x.interface;
    doc["asterix"] = j;
  }
  const InputConfig& in = mode.input;
  const VrtInputConfig& v = in.vrt;
  const VrtInputConfig d;
  if (!in.from.empty() || v.timing != d.timing || v.epoch != d.epoch || !v.stream_ids.empty() ||
      v.payload_format != d.payload_format || v.scale != d.scale ||
      v.gps_leap_seconds != d.gps_leap_seconds ||
      v.receive_buffer_bytes != d.receive_buffer_bytes) {
    static const char* kFormats[] = {"sc8", "sc12", "sc16", "cf32"};
    nlohmann::json j = {
        {"timing", v.timing == PulseTiming::Gated ? "gated" : "continuous"},
        {"epoch", v.epoch == VrtEpoch::FirstPacket ? std::string("first_packet")
                  : v.epoch == VrtEpoch::Context   ? std::string("context")
                                                   : io::format_rfc3339_ns(v.epoch_ns)},
        {"payload_format", kFormats[static_cast<int>(v.payload_format)]},
        {"scale", v.scale},
        {"gps_leap_seconds", v.gps_leap_seconds},
        {"receive_buffer_bytes", v.receive_buffer_bytes}};
    if (!v.stream_ids.empty()) j["stream_ids"] = v.stream_ids;
    doc["input"] = {{"vrt", j}};
    if (!in.from.empty()) doc["input"]["from"] = in.from;
  }
  const SecurityConfig& sec = mode.security;
  if (sec.curve != CurveUse::Auto || !sec.key.empty() || !sec.server_key.empty() ||
      !sec.authorized_keys.empty()) {
    nlohmann::json j = {{"curve", sec.curve == CurveUse::On    ? "on"
                                  : sec.curve == CurveUse::Off ? "off"
                                                               : "auto"}};
    if (!sec.key.empty()) j["key"] = sec.key;
    if (!sec.server_key.empty()) j["server_key"] = sec.server_key;
    if (!sec.authorized_keys.empty()) j["authorized_keys"] = sec.authorized_keys;
    doc["security"] = j;
  }
  return doc;
}

namespace {

// Our own JSON (mode_file_json), so its depth is the mode's: no attacker controls it.
void emit_yaml(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_yaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : j) emit_yaml(out, v);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    // Text that a YAML reader would take for a number, a flag or null stays text: quoted.
    const std::string& v = j.get_ref<const std::string&>();
    char* end = nullptr;
    const bool numeric = !v.empty() && (std::strtod(v.c_str(), &end), *end == '\0');
    const bool word = v.empty() || v == "true" || v == "false" || v == "null" || v == "~";
    if (numeric || word)
      out << YAML::DoubleQuoted << v;
    else
      out << v;
  } else {
    out << j.dump();  // numbers and flags: JSON's shortest exact text is plain YAML
  }
}

}  // namespace

std::string mode_file_yaml(const Mode& mode, const std::string& comment) {
  YAML::Emitter out;
  emit_yaml(out, mode_file_json(mode));
  std::string text;
  std::istringstream lines(comment);
  for (std::string line; std::getline(lines, line);) text += "# " + line + "\n";
  return text + out.c_str() + "\n";
}

Mode load_mode_file(const std::string& path, MeasuredFactors factors) {
  std::ifstream in(path);
  if (!in) throw ConfigError("", path + ": cannot open the mode file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_mode_yaml(ss.str(), path, factors);
}

}  // namespace radarpipe
