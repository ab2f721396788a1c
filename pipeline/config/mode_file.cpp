#include "pipeline/config/mode_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <vector>

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

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& msg) {
    mark(key, at);
    throw ConfigError(key, msg);
  }

  // Remembers where each key path is, so that errors raised later by Mode::validate() can be
  // located too.
  void mark(const std::string& key, const YAML::Node& n) {
    if (n.Mark().line >= 0) marks_[key] = n.Mark();
  }
  std::string where(std::string key) const {
    for (;;) {
      auto it = marks_.find(key);
      if (it != marks_.end())
        return source_ + ":" + std::to_string(it->second.line + 1) + ":" +
               std::to_string(it->second.column + 1) + ": ";
      const auto dot = key.rfind('.');
      if (dot == std::string::npos) return source_ + ": ";
      key.resize(dot);
    }
  }

  // A mapping whose keys must all be in `allowed`.
  void expect_map(const YAML::Node& n, const std::string& key,
                  std::initializer_list<const char*> allowed) {
    if (!n.IsMap()) fail(n, key, "expected a mapping, got " + describe(n));
    std::vector<std::string> names(allowed.begin(), allowed.end());
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      if (std::find(names.begin(), names.end(), k) != names.end()) continue;
      std::string best;
      std::size_t best_d = 1000;
      for (const std::string& c : names) {
        const std::size_t d = edit_distance(k, c);
        if (d < best_d) best_d = d, best = c;
      }
      const std::string path = key.empty() ? k : key + "." + k;
      mark(path, kv.first);
      std::string msg = "unknown key";
      if (best_d <= std::max<std::size_t>(2, k.size() / 3)) msg += "; did you mean '" + best + "'?";
      msg += " (valid keys: " + join(names) + ")";
      throw ConfigError(path, msg);
    }
  }

  YAML::Node child(const YAML::Node& n, const std::string& key, const char* name, bool required) {
    const std::string path = key.empty() ? name : key + "." + name;
    YAML::Node c = n[name];
    if (!c) {
      if (required) throw ConfigError(path, "required key is missing");
      return c;
    }
    mark(path, c);
    return c;
  }

  double number(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(n, key, "expected a number, got " + describe(n));
    const std::string s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail(n, key, "'" + s + "' is not a number");
    return v;
  }

  std::size_t count(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(n, key, "expected a whole number, got " + describe(n));
    const std::string s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v != std::floor(v) || v > 9.0e15)
      fail(n, key, "'" + s + "' is not a whole number >= 0");
    return static_cast<std::size_t>(v);
  }

  std::string word(const YAML::Node& n, const std::string& key,
                   std::initializer_list<const char*> allowed) {
    if (!n.IsScalar())
      fail(n, key,
           "expected one of " + join({allowed.begin(), allowed.end()}) + ", got " + describe(n));
    const std::string s = n.Scalar();
    for (const char* a : allowed)
      if (s == a) return s;
    fail(n, key, "'" + s + "' is not one of " + join({allowed.begin(), allowed.end()}));
  }

  static std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "nothing";
      case YAML::NodeType::Scalar:
        return "'" + n.Scalar() + "'";
      default:
        return "an undefined value";
    }
  }

 private:
  std::string source_;
  std::map<std::string, YAML::Mark> marks_;
};

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

Mode read_mode(Reader& rd, const YAML::Node& root) {
  Mode mode;
  if (!root || root.IsNull())
    throw ConfigError("", "the file is empty; expected radar: and processing:");
  rd.expect_map(root, "", {"radar", "processing", "backend"});

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
  rd.expect_map(proc, "processing",
                {"pulses", "range_window", "mti", "doppler_window", "doppler_fft_size",
                 "channel_combine", "cfar", "fft_planning", "max_crossings", "max_detections"});
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
  if (auto c = rd.child(proc, "processing", "max_crossings", false))
    p.max_crossings = rd.count(c, "processing.max_crossings");
  if (auto c = rd.child(proc, "processing", "max_detections", false))
    p.max_detections = rd.count(c, "processing.max_detections");

  const YAML::Node cfar = rd.child(proc, "processing", "cfar", true);
  const std::string ck = "processing.cfar";
  rd.expect_map(cfar, ck, {"type", "guard_cells", "training_cells", "pfa", "os_rank"});
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

  if (auto b = rd.child(root, "", "backend", false)) {
    const std::string s = rd.word(b, "backend", {"auto", "cpu", "cuda"});
    mode.backend = s == "auto" ? Backend::Auto : s == "cpu" ? Backend::Cpu : Backend::Cuda;
  }
  return mode;
}

}  // namespace

Mode parse_mode_yaml(const std::string& text, const std::string& source) {
  Reader rd(source);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("", source + ":" + std::to_string(e.mark.line + 1) + ":" +
                              std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
  }
  try {
    Mode mode = read_mode(rd, root);
    mode.validate();
    return mode;
  } catch (const ConfigError& e) {
    throw e.located(rd.where(e.key()));
  } catch (const YAML::Exception& e) {
    throw ConfigError("", source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Mode load_mode_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("", path + ": cannot open the mode file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_mode_yaml(ss.str(), path);
}

}  // namespace radarpipe
