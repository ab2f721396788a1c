#include "io/truth_json.hpp"

#include <cmath>
#include <stdexcept>

#include "io/json_field.hpp"
#include "io/time.hpp"

namespace radarpipe::io {

using nlohmann::json;

namespace {

json number_or_null(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

const char* swerling_name(Swerling s) {
  return s == Swerling::One ? "1" : s == Swerling::Three ? "3" : "0";
}

}  // namespace

json truth_to_json(const Simulator& sim, const std::vector<CpiTruth>& cpis,
                   const std::string& recording) {
  const Mode& mode = sim.mode();
  const ModeGeometry g = derive_geometry(mode);
  const Scenario& sc = sim.scenario();
  json targets = json::array();
  for (const ScenarioTarget& t : sc.targets)
    targets.push_back({{"name", t.name},
                       {"range_m", t.range_m},
                       {"range_rate_mps", t.range_rate_mps},
                       {"acceleration_mps2", t.acceleration_mps2},
                       {"snr_db", t.snr_db},
                       {"swerling", swerling_name(t.swerling)}});
  json clutter = json::array();
  for (const ClutterPatch& c : sc.clutter) {
    json patch = {{"range_start_m", c.range_start_m},
                  {"range_end_m", c.range_end_m},
                  {"cnr_db", c.cnr_db},
                  {"spread_hz", c.spread_hz},
                  {"steady_fraction", c.steady_fraction}};
    if (!std::isnan(c.cnr_end_db)) patch["cnr_end_db"] = c.cnr_end_db;
    clutter.push_back(patch);
  }
  json out_cpis = json::array();
  for (const CpiTruth& c : cpis) {
    json ts = json::array();
    for (const TargetTruth& t : c.targets)
      ts.push_back({{"name", t.name},
                    {"range_m", t.range_m},
                    {"range_rate_mps", t.range_rate_mps},
                    {"apparent_range_rate_mps", t.apparent_range_rate_mps},
                    {"doppler_hz", t.doppler_hz},
                    {"range_bin", t.range_bin},
                    {"doppler_bin", t.doppler_bin},
                    {"snr_db", t.snr_db},
                    {"cpi_snr_db", t.cpi_snr_db},
                    {"expected_snr_db", number_or_null(t.expected_snr_db)},
                    {"ideal_snr_db", number_or_null(t.ideal_snr_db)},
                    {"in_window", t.in_window},
                    {"eclipsed", t.eclipsed}});
    out_cpis.push_back({{"cpi", c.cpi},
                        {"timestamp_ns", c.timestamp_ns},
                        {"time", format_rfc3339_ns(c.timestamp_ns)},
                        {"targets", ts}});
  }
  return {{"schema", kTruthSchema},
          {"version", kTruthSchemaVersion},
          {"recording", recording},
          {"geometry",
           {{"range_bin_m", g.range_bin_m},
            {"velocity_bin_mps", g.velocity_bin_mps},
            {"velocity_span_mps", g.velocity_span_mps},
            {"doppler_bins", mode.processing.doppler_fft_size},
            {"range_gates", mode.radar.range_gates},
            {"waveform_samples", g.waveform_samples},
            {"window_start_s", mode.radar.window_start_s},
            {"sample_rate_hz", mode.radar.sample_rate_hz},
            {"wavelength_m", g.wavelength_m},
            {"prf_hz", g.prf_hz},
            {"pulses", mode.processing.pulses},
            {"channels", mode.radar.channels}}},
          {"scenario",
           {{"start_time", sc.start_time},
            {"seed", sc.seed},
            {"noise_power", sc.noise_power},
            {"targets", targets},
            {"clutter", clutter}}},
          {"cpis", out_cpis}};
}

TruthFile truth_from_json(const json& j, const std::string& source) {
  if (!j.is_object() || j.value("schema", "") != kTruthSchema)
    throw std::runtime_error(source + ": not a radarpipe truth file (schema '" + kTruthSchema +
                             "' expected)");
  TruthFile f;
  const json& g = j.at("geometry");
  const std::string gw = source + ": geometry";
  f.geometry.range_bin_m = json_field<double>(g, "range_bin_m", gw);
  f.geometry.velocity_bin_mps = json_field<double>(g, "velocity_bin_mps", gw);
  f.geometry.velocity_span_mps = json_field<double>(g, "velocity_span_mps", gw);
  f.geometry.doppler_bins = json_field<std::size_t>(g, "doppler_bins", gw);
  f.geometry.range_gates = json_field<std::size_t>(g, "range_gates", gw);
  f.geometry.waveform_samples = json_field<std::size_t>(g, "waveform_samples", gw);
  f.geometry.window_start_s = json_field<double>(g, "window_start_s", gw);
  f.geometry.sample_rate_hz = json_field<double>(g, "sample_rate_hz", gw);
  if (j.contains("scenario") && j["scenario"].contains("clutter"))
    for (const json& c : j["scenario"]["clutter"]) {
      ClutterPatch p;
      p.range_start_m = json_field<double>(c, "range_start_m", source + ": scenario.clutter");
      p.range_end_m = json_field<double>(c, "range_end_m", source + ": scenario.clutter");
      p.cnr_db = json_field_or<double>(c, "cnr_db", 0.0, source);
      p.spread_hz = json_field_or<double>(c, "spread_hz", 0.0, source);
      p.steady_fraction = json_field_or<double>(c, "steady_fraction", 0.0, source);
      if (c.contains("cnr_end_db")) p.cnr_end_db = json_field<double>(c, "cnr_end_db", source);
      f.clutter.push_back(p);
    }
  const json& cpis = j.at("cpis");
  for (std::size_t i = 0; i < cpis.size(); ++i) {
    const std::string w = source + ": cpis[" + std::to_string(i) + "]";
    CpiTruth c;
    c.cpi = json_field<std::uint64_t>(cpis[i], "cpi", w);
    c.timestamp_ns = json_field<std::int64_t>(cpis[i], "timestamp_ns", w);
    for (const json& t : cpis[i].at("targets")) {
      TargetTruth tt;
      tt.name = json_field<std::string>(t, "name", w);
      tt.range_m = json_field<double>(t, "range_m", w);
      tt.range_rate_mps = json_field<double>(t, "range_rate_mps", w);
      tt.apparent_range_rate_mps = json_field<double>(t, "apparent_range_rate_mps", w);
      tt.doppler_hz = json_field<double>(t, "doppler_hz", w);
      tt.range_bin = json_field<double>(t, "range_bin", w);
      tt.doppler_bin = json_field<double>(t, "doppler_bin", w);
      tt.snr_db = json_field<double>(t, "snr_db", w);
      tt.cpi_snr_db = json_field<double>(t, "cpi_snr_db", w);
      if (!t.at("expected_snr_db").is_null())
        tt.expected_snr_db = t["expected_snr_db"].get<double>();
      if (!t.at("ideal_snr_db").is_null()) tt.ideal_snr_db = t["ideal_snr_db"].get<double>();
      tt.in_window = json_field<bool>(t, "in_window", w);
      tt.eclipsed = json_field<bool>(t, "eclipsed", w);
      c.targets.push_back(tt);
    }
    f.cpis.push_back(std::move(c));
  }
  return f;
}

}  // namespace radarpipe::io
