#include "io/detection_json.hpp"

#include <cmath>
#include <stdexcept>

#include "io/json_field.hpp"
#include "io/time.hpp"

namespace radarpipe::io {

using nlohmann::json;

json detection_to_json(const Detection& d) {
  json j = {{"range_m", d.range_m},
            {"range_rate_mps", d.range_rate_mps},
            {"doppler_hz", d.doppler_hz},
            {"snr_db", d.snr_db},
            {"power_db", d.power_db},
            {"noise_db", d.noise_db},
            {"range_bin", d.range_bin},
            {"doppler_bin", d.doppler_bin},
            {"range_bin_frac", d.range_bin_frac},
            {"doppler_bin_frac", d.doppler_bin_frac},
            {"channel", d.channel},
            {"cells", d.cells},
            {"range_extent_bins", d.range_extent_bins},
            {"eclipsed", d.eclipsed},
            {"decided_by", to_string(d.decided_by)}};
  if (std::isfinite(d.azimuth_deg)) j["azimuth_deg"] = d.azimuth_deg;
  return j;
}

json report_to_json(const DetectionReport& r) {
  json dets = json::array();
  for (const Detection& d : r.detections) dets.push_back(detection_to_json(d));
  json j = {{"schema", kDetectionSchema},
            {"version", kDetectionSchemaVersion},
            {"cpi", r.cpi},
            {"timestamp_ns", r.timestamp_ns},
            {"time", format_rfc3339_ns(r.timestamp_ns)},
            {"cells", r.cells},
            {"crossings", r.crossings},
            {"crossings_dropped", r.crossings_dropped},
            {"detections_dropped", r.detections_dropped},
            {"noise_power_db", r.noise_power_db},
            {"detections", dets}};
  if (r.range_resolution_m > 0) j["range_resolution_m"] = r.range_resolution_m;
  if (r.range_rate_resolution_mps > 0) j["range_rate_resolution_mps"] = r.range_rate_resolution_mps;
  if (std::isfinite(r.beamwidth_deg)) j["beamwidth_deg"] = r.beamwidth_deg;
  if (r.design_pfa > 0) j["design_pfa"] = r.design_pfa;
  if (r.map_cells > 0) {
    j["map_cells"] = r.map_cells;
    j["map_tested"] = r.map_tested;
    j["map_crossings"] = r.map_crossings;
  }
  return j;
}

DetectionReport report_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw std::runtime_error(source + ": a report must be a JSON object");
  if (j.contains("version") && !(j["version"].is_number_integer() && j["version"] >= 1 &&
                                 j["version"] <= kDetectionSchemaVersion))
    throw std::runtime_error(source + ": schema version " + j["version"].dump() +
                             " is not supported (this radarpipe reads versions 1 to " +
                             std::to_string(kDetectionSchemaVersion) + ")");
  DetectionReport r;
  r.cpi = json_field<std::uint64_t>(j, "cpi", source);
  r.timestamp_ns = json_field<std::int64_t>(j, "timestamp_ns", source);
  r.cells = json_field<std::uint64_t>(j, "cells", source);
  r.crossings = json_field<std::uint64_t>(j, "crossings", source);
  r.crossings_dropped = json_field_or<std::uint64_t>(j, "crossings_dropped", 0, source);
  r.detections_dropped = json_field_or<std::uint64_t>(j, "detections_dropped", 0, source);
  r.noise_power_db = json_field<double>(j, "noise_power_db", source);
  r.range_resolution_m = json_field_or<double>(j, "range_resolution_m", 0.0, source);
  r.range_rate_resolution_mps = json_field_or<double>(j, "range_rate_resolution_mps", 0.0, source);
  if (j.contains("beamwidth_deg")) r.beamwidth_deg = json_field<double>(j, "beamwidth_deg", source);
  if (j.contains("design_pfa")) r.design_pfa = json_field<double>(j, "design_pfa", source);
  r.map_cells = json_field_or<std::uint64_t>(j, "map_cells", 0, source);
  r.map_tested = json_field_or<std::uint64_t>(j, "map_tested", 0, source);
  r.map_crossings = json_field_or<std::uint64_t>(j, "map_crossings", 0, source);
  const json& dets = j.contains("detections") ? j["detections"] : json();
  if (!dets.is_array()) throw std::runtime_error(source + ": field 'detections' is not an array");
  for (std::size_t i = 0; i < dets.size(); ++i) {
    const std::string w = source + ": detections[" + std::to_string(i) + "]";
    const json& o = dets[i];
    Detection d;
    d.range_m = json_field<double>(o, "range_m", w);
    d.range_rate_mps = json_field<double>(o, "range_rate_mps", w);
    d.doppler_hz = json_field<double>(o, "doppler_hz", w);
    d.snr_db = json_field<double>(o, "snr_db", w);
    d.power_db = json_field<double>(o, "power_db", w);
    d.noise_db = json_field_or<double>(o, "noise_db", 0.0, w);
    d.range_bin = json_field<std::int32_t>(o, "range_bin", w);
    d.doppler_bin = json_field<std::int32_t>(o, "doppler_bin", w);
    d.range_bin_frac = json_field<double>(o, "range_bin_frac", w);
    d.doppler_bin_frac = json_field<double>(o, "doppler_bin_frac", w);
    d.channel = json_field<std::int32_t>(o, "channel", w);
    d.cells = json_field_or<std::uint32_t>(o, "cells", 0, w);
    d.range_extent_bins = json_field_or<std::uint32_t>(o, "range_extent_bins", 0, w);
    d.eclipsed = json_field_or<bool>(o, "eclipsed", false, w);
    if (o.contains("azimuth_deg")) d.azimuth_deg = json_field<double>(o, "azimuth_deg", w);
    if (o.contains("decided_by")) {
      const std::string by = json_field<std::string>(o, "decided_by", w);
      if (by == "clutter_map")
        d.decided_by = DecidedBy::ClutterMap;
      else if (by != "cfar")
        throw std::runtime_error(w + ": decided_by '" + by + "' is not cfar or clutter_map");
    }
    r.detections.push_back(d);
  }
  return r;
}

}  // namespace radarpipe::io
