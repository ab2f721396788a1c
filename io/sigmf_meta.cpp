#include "io/sigmf_meta.hpp"

#include <cmath>

#include "io/json_depth.hpp"
#include "io/time.hpp"

namespace radarpipe::io {
namespace {

using nlohmann::json;

struct Ctx {
  const std::string& source;
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw SigmfError(source + ": " + path + ": " + msg);
  }
};

std::string show(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

double get_number(const Ctx& ctx, const json& obj, const std::string& path, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_number()) ctx.fail(path + "." + key, show(v) + " is not a number");
  return v.get<double>();
}

std::uint64_t get_count(const Ctx& ctx, const json& obj, const std::string& path, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    ctx.fail(path + "." + key, show(v) + " is not a non-negative integer");
  return v.get<std::uint64_t>();
}

std::string get_string(const Ctx& ctx, const json& obj, const std::string& path, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_string()) ctx.fail(path + "." + key, show(v) + " is not a string");
  return v.get<std::string>();
}

/// 1-based line and column of a byte offset.
std::pair<std::size_t, std::size_t> line_col(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

WaveformConfig parse_waveform(const Ctx& ctx, const json& w, const std::string& path) {
  if (!w.is_object()) ctx.fail(path, show(w) + " is not an object");
  WaveformConfig out;
  const std::string type = w.contains("type") ? get_string(ctx, w, path, "type") : "";
  if (type == "lfm") {
    out.type = WaveformType::Lfm;
    out.pulse_width_s = get_number(ctx, w, path, "pulse_width_s");
    out.bandwidth_hz = get_number(ctx, w, path, "bandwidth_hz");
    const std::string dir = w.contains("direction") ? get_string(ctx, w, path, "direction") : "up";
    if (dir != "up" && dir != "down")
      ctx.fail(path + ".direction", "'" + dir + "' is not one of up, down");
    out.direction = dir == "up" ? +1 : -1;
  } else if (type == "barker") {
    out.type = WaveformType::Barker;
    out.barker_length = static_cast<int>(get_count(ctx, w, path, "length"));
    out.chip_width_s = get_number(ctx, w, path, "chip_width_s");
  } else if (type == "rect") {
    out.type = WaveformType::Rect;
    out.pulse_width_s = get_number(ctx, w, path, "pulse_width_s");
  } else {
    ctx.fail(path + ".type", show(w.value("type", json())) + " is not one of lfm, barker, rect");
  }
  return out;
}

json waveform_json(const WaveformConfig& w) {
  switch (w.type) {
    case WaveformType::Lfm:
      return {{"type", "lfm"},
              {"pulse_width_s", w.pulse_width_s},
              {"bandwidth_hz", w.bandwidth_hz},
              {"direction", w.direction < 0 ? "down" : "up"}};
    case WaveformType::Barker:
      return {{"type", "barker"}, {"length", w.barker_length}, {"chip_width_s", w.chip_width_s}};
    case WaveformType::Rect:
      break;
  }
  return {{"type", "rect"}, {"pulse_width_s", w.pulse_width_s}};
}

bool declares_radar(const json& global) {
  auto it = global.find("core:extensions");
  if (it == global.end() || !it->is_array()) return false;
  for (const json& e : *it)
    if (e.is_object() && e.value("name", "") == "radar") return true;
  return false;
}

}  // namespace

SigmfMeta parse_sigmf_meta(const std::string& text, const std::string& source) {
  const Ctx ctx{source};
  if (const std::string deep = json_depth_error(text); !deep.empty())
    throw SigmfError(source + ": " + deep + "; SigMF metadata nests a few levels");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    const auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string msg = e.what();
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error ..."; keep the part after the location.
    const std::size_t colon = msg.find(": ", msg.find("parse error"));
    if (colon != std::string::npos) msg = msg.substr(colon + 2);
    throw SigmfError(source + ":" + std::to_string(line) + ":" + std::to_string(col) +
                     ": invalid JSON: " + msg);
  }
  if (!doc.is_object()) throw SigmfError(source + ": the metadata is not a JSON object");
  if (!doc.contains("global")) throw SigmfError(source + ": global: required object is missing");
  const json& g = doc["global"];
  if (!g.is_object()) ctx.fail("global", show(g) + " is not an object");

  SigmfMeta meta;
  meta.global = g;
  for (const char* key : {"core:datatype", "core:version"})
    if (!g.contains(key)) ctx.fail(std::string("global.") + key, "required field is missing");
  const std::string dt = get_string(ctx, g, "global", "core:datatype");
  try {
    meta.format = parse_datatype(dt);
  } catch (const std::invalid_argument& e) {
    ctx.fail("global.core:datatype", e.what());
  }
  if (!meta.format.is_complex)
    ctx.fail("global.core:datatype", "'" + dt +
                                         "' holds real samples; radarpipe needs complex "
                                         "baseband IQ (a datatype starting with c, e.g. ci16_le)");
  meta.version = get_string(ctx, g, "global", "core:version");
  if (g.contains("core:sample_rate")) {
    meta.sample_rate_hz = get_number(ctx, g, "global", "core:sample_rate");
    if (!(meta.sample_rate_hz > 0))
      ctx.fail("global.core:sample_rate", show(g["core:sample_rate"]) + " is not > 0");
  }
  if (g.contains("core:num_channels")) {
    meta.num_channels = get_count(ctx, g, "global", "core:num_channels");
    if (meta.num_channels < 1 || meta.num_channels > 1024)
      ctx.fail("global.core:num_channels",
               std::to_string(meta.num_channels) + " is not in [1, 1024]");
  }
  if (g.contains("core:sha512")) {
    meta.sha512 = get_string(ctx, g, "global", "core:sha512");
    if (meta.sha512->size() != 128)
      ctx.fail("global.core:sha512", "'" + *meta.sha512 + "' is not 128 hex digits");
  }
  if (g.contains("core:dataset"))
    ctx.fail("global.core:dataset",
             "non-conforming datasets are not supported; convert the recording to a "
             ".sigmf-data file");

  // The radar extension.
  bool any_radar_key = false;
  for (auto it = g.begin(); it != g.end(); ++it)
    if (it.key().rfind("radar:", 0) == 0) any_radar_key = true;
  if (declares_radar(g)) {
    RadarExtension ext;
    for (const char* key :
         {"radar:center_frequency_hz", "radar:pri_s", "radar:range_gates", "radar:waveform"})
      if (!g.contains(key))
        ctx.fail(std::string("global.") + key,
                 "required by the radar extension (declared in core:extensions) but missing");
    if (meta.sample_rate_hz <= 0)
      ctx.fail("global.core:sample_rate", "required by the radar extension but missing");
    ext.radar.center_frequency_hz = get_number(ctx, g, "global", "radar:center_frequency_hz");
    ext.radar.pri_s = get_number(ctx, g, "global", "radar:pri_s");
    ext.radar.range_gates = get_count(ctx, g, "global", "radar:range_gates");
    ext.radar.window_start_s = g.contains("radar:window_start_s")
                                   ? get_number(ctx, g, "global", "radar:window_start_s")
                                   : 0.0;
    ext.radar.waveform = parse_waveform(ctx, g["radar:waveform"], "global.radar:waveform");
    ext.radar.sample_rate_hz = meta.sample_rate_hz;
    ext.radar.channels = meta.num_channels;
    if (g.contains("radar:sample_scale")) {
      ext.sample_scale = get_number(ctx, g, "global", "radar:sample_scale");
      if (!(ext.sample_scale > 0) || !std::isfinite(ext.sample_scale))
        ctx.fail("global.radar:sample_scale", show(g["radar:sample_scale"]) + " is not > 0");
    }
    meta.radar = ext;
  } else if (any_radar_key) {
    ctx.fail("global.core:extensions",
             "radar: keys are present but the radar extension is not declared (add {\"name\": "
             "\"radar\", \"version\": \"1.0.0\", \"optional\": true})");
  }

  // Captures: sorted by sample_start (SigMF requires it).
  if (doc.contains("captures")) {
    const json& caps = doc["captures"];
    if (!caps.is_array()) ctx.fail("captures", show(caps) + " is not an array");
    for (std::size_t i = 0; i < caps.size(); ++i) {
      const std::string path = "captures[" + std::to_string(i) + "]";
      const json& c = caps[i];
      if (!c.is_object()) ctx.fail(path, show(c) + " is not an object");
      SigmfCapture cap;
      cap.fields = c;
      if (!c.contains("core:sample_start"))
        ctx.fail(path + ".core:sample_start", "required field is missing");
      cap.sample_start = get_count(ctx, c, path, "core:sample_start");
      if (c.contains("core:frequency"))
        cap.frequency_hz = get_number(ctx, c, path, "core:frequency");
      if (c.contains("core:datetime")) {
        cap.datetime = get_string(ctx, c, path, "core:datetime");
        try {
          cap.datetime_ns = parse_rfc3339_ns(*cap.datetime);
        } catch (const std::invalid_argument& e) {
          ctx.fail(path + ".core:datetime", e.what());
        }
      }
      if (c.contains("radar:cpi")) {
        cap.cpi = get_count(ctx, c, path, "radar:cpi");
        if (*cap.cpi > (std::uint64_t{1} << 53))
          ctx.fail(path + ".radar:cpi", std::to_string(*cap.cpi) + " is more than 2^53");
      }
      if (c.contains("core:header_bytes") && get_count(ctx, c, path, "core:header_bytes") != 0)
        ctx.fail(path + ".core:header_bytes",
                 "capture headers inside the data file are not supported");
      if (!meta.captures.empty() && cap.sample_start <= meta.captures.back().sample_start)
        ctx.fail(path + ".core:sample_start",
                 std::to_string(cap.sample_start) + " is not after captures[" +
                     std::to_string(i - 1) + "].core:sample_start " +
                     std::to_string(meta.captures.back().sample_start) +
                     " (captures must be sorted by sample_start)");
      meta.captures.push_back(std::move(cap));
    }
  }
  if (meta.captures.empty()) {
    SigmfCapture cap;
    cap.fields = {{"core:sample_start", 0}};
    meta.captures.push_back(cap);
  }

  if (doc.contains("annotations")) {
    const json& anns = doc["annotations"];
    if (!anns.is_array()) ctx.fail("annotations", show(anns) + " is not an array");
    for (std::size_t i = 0; i < anns.size(); ++i) {
      const std::string path = "annotations[" + std::to_string(i) + "]";
      const json& a = anns[i];
      if (!a.is_object()) ctx.fail(path, show(a) + " is not an object");
      SigmfAnnotation ann;
      ann.fields = a;
      if (!a.contains("core:sample_start"))
        ctx.fail(path + ".core:sample_start", "required field is missing");
      ann.sample_start = get_count(ctx, a, path, "core:sample_start");
      if (a.contains("core:sample_count"))
        ann.sample_count = get_count(ctx, a, path, "core:sample_count");
      meta.annotations.push_back(std::move(ann));
    }
  }
  return meta;
}

void set_radar_extension(SigmfMeta& meta, const RadarConfig& radar, double sample_scale) {
  RadarExtension ext;
  ext.radar = radar;
  ext.sample_scale = sample_scale;
  meta.radar = ext;
  meta.sample_rate_hz = radar.sample_rate_hz;
  meta.num_channels = radar.channels;
}

nlohmann::json sigmf_meta_to_json(const SigmfMeta& meta) {
  json g = meta.global.is_object() ? meta.global : json::object();
  g["core:datatype"] = meta.format.name;
  g["core:version"] = meta.version;
  if (meta.sample_rate_hz > 0) g["core:sample_rate"] = meta.sample_rate_hz;
  g["core:num_channels"] = meta.num_channels;
  if (meta.sha512)
    g["core:sha512"] = *meta.sha512;
  else
    g.erase("core:sha512");
  if (meta.radar) {
    const RadarConfig& r = meta.radar->radar;
    g["radar:center_frequency_hz"] = r.center_frequency_hz;
    g["radar:pri_s"] = r.pri_s;
    g["radar:range_gates"] = r.range_gates;
    g["radar:window_start_s"] = r.window_start_s;
    g["radar:waveform"] = waveform_json(r.waveform);
    g["radar:sample_scale"] = meta.radar->sample_scale;
    json exts = g.value("core:extensions", json::array());
    bool found = false;
    for (json& e : exts)
      if (e.is_object() && e.value("name", "") == "radar") found = true;
    if (!found)
      exts.push_back({{"name", "radar"}, {"version", kRadarExtensionVersion}, {"optional", true}});
    g["core:extensions"] = exts;
  }
  json caps = json::array();
  for (const SigmfCapture& c : meta.captures) {
    json o = c.fields.is_object() ? c.fields : json::object();
    o["core:sample_start"] = c.sample_start;
    if (c.frequency_hz) o["core:frequency"] = *c.frequency_hz;
    if (c.datetime) o["core:datetime"] = *c.datetime;
    if (c.cpi) o["radar:cpi"] = *c.cpi;
    caps.push_back(o);
  }
  json anns = json::array();
  for (const SigmfAnnotation& a : meta.annotations) {
    json o = a.fields.is_object() ? a.fields : json::object();
    o["core:sample_start"] = a.sample_start;
    if (a.sample_count) o["core:sample_count"] = *a.sample_count;
    anns.push_back(o);
  }
  return {{"global", g}, {"captures", caps}, {"annotations", anns}};
}

}  // namespace radarpipe::io
