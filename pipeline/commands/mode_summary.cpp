#include "pipeline/commands/mode_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/doppler.hpp"
#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/window.hpp"
#include "pipeline/chain/stage_config.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe {

nlohmann::json mode_summary(const Mode& mode) {
  const ModeGeometry g = derive_geometry(mode);
  const RadarConfig& r = mode.radar;
  const ProcessingConfig& p = mode.processing;
  const CfarConfig& c = p.cfar;
  nlohmann::json j;
  j["radar"] = {{"center_frequency_hz", r.center_frequency_hz},
                {"wavelength_m", g.wavelength_m},
                {"sample_rate_hz", r.sample_rate_hz},
                {"pri_s", r.pri_s},
                {"prf_hz", g.prf_hz},
                {"range_gates", r.range_gates},
                {"window_start_s", r.window_start_s},
                {"channels", r.channels},
                {"waveform",
                 {{"type", to_string(r.waveform.type)},
                  {"duration_s", r.waveform.duration_s()},
                  {"samples", g.waveform_samples},
                  {"resolution_bandwidth_hz", r.waveform.resolution_bandwidth_hz()}}}};
  const long k = std::lround(c.os_rank * static_cast<double>(c.interior_training_cells()));
  // Both factors of the interior window (the reference Doppler row's), whatever the mode uses:
  // the CFAR stage as the chains build it, with calibrated thresholds.
  cpu::CfarStageConfig cc = cfar_stage_config(mode, g);
  cc.cfar.threshold = CfarThreshold::Calibrated;
  cc.cfar.factors = CfarFactors{};  // the model's own factors; a measured one is shown beside
  const cpu::Cfar cfar(cc);
  const std::size_t interior = std::min(c.guard_range + c.train_range, r.range_gates - 1);
  const double textbook = cfar.textbook_alpha_at(interior);
  const double calibrated = cfar.alpha_at(interior);
  const CfarFactors& measured = c.factors;
  const double alpha = measured.present                           ? measured.alpha
                       : c.threshold == CfarThreshold::Calibrated ? calibrated
                                                                  : textbook;
  const cpu::CfarCalibration& cal = cfar.calibration();
  double row_min = 1.0, row_max = 1.0;
  for (std::size_t d = 0; d < p.doppler_fft_size; ++d) {  // the interior window's rows
    row_min = std::min(row_min, cfar.row_factor_at(d, interior));
    row_max = std::max(row_max, cfar.row_factor_at(d, interior));
  }
  // Coherent integration gain: pulse compression (sum |w s|)^2 / sum |w s|^2 <= L, times the
  // Doppler window's (sum w)^2 / sum w^2 <= P'. Losses against L and P' are the window losses.
  auto gain = [](const std::vector<double>& w) {
    double s = 0, e = 0;
    for (double v : w) s += v, e += v * v;
    return e > 0 ? s * s / e : 0.0;
  };
  const double pc_gain = gain(cpu::make_window(p.range_window, g.waveform_samples));
  const double dop_gain = gain(cpu::make_window(p.doppler_window, g.pulses_after_mti));
  j["processing"] = {
      {"pulses", p.pulses},
      {"pulses_after_mti", g.pulses_after_mti},
      {"mti", to_string(p.mti)},
      {"range_window", to_string(p.range_window.type)},
      {"doppler_window", to_string(p.doppler_window.type)},
      {"doppler_window_normalisation", "unit_energy"},
      {"doppler_fft_size", p.doppler_fft_size},
      {"pulse_compression_fft_size",
       cpu::next_fast_fft_size(r.range_gates + g.waveform_samples - 1)},
      {"channel_combine", to_string(p.channel_combine)},
      {"maps", g.maps},
      {"cells_per_cpi", g.cells_per_cpi},
      {"fft_planning", to_string(p.fft_planning)},
      {"integration_gain_db", 10.0 * std::log10(pc_gain * dop_gain)},
      {"cfar",
       {{"type", to_string(c.type)},
        {"pfa", c.pfa},
        {"guard_cells", {{"range", c.guard_range}, {"doppler", c.guard_doppler}}},
        {"training_cells", {{"range", c.train_range}, {"doppler", c.train_doppler}}},
        {"interior_training_cells", c.interior_training_cells()},
        {"effective_training_cells", cal.effective_cells},
        {"threshold", to_string(c.threshold)},
        {"threshold_factor", alpha},
        {"threshold_factor_db", 10.0 * std::log10(alpha)},
        {"textbook_threshold_factor", textbook},
        {"calibrated_threshold_factor", calibrated},
        {"calibration",
         {{"method", cal.exact ? "exact" : "monte_carlo"},
          {"windows_solved", cal.solves},
          {"seconds", cal.seconds},
          {"doppler_row_factor_min", row_min},
          {"doppler_row_factor_max", row_max}}},
        {"expected_false_alarms_per_cpi", c.pfa * static_cast<double>(g.cells_per_cpi)}}}};
  if (c.type == CfarType::Os) j["processing"]["cfar"]["os_rank_k"] = std::max(1L, k);
  if (measured.present)
    j["processing"]["cfar"]["measured_threshold_factor"] = {
        {"alpha", measured.alpha},           {"alpha_low", measured.alpha_low},
        {"alpha_high", measured.alpha_high}, {"measured_pfa", measured.measured_pfa},
        {"pfa_low", measured.pfa_low},       {"pfa_high", measured.pfa_high},
        {"cells", measured.cells},           {"source", measured.source}};
  j["derived"] = {{"range_bin_m", g.range_bin_m},
                  {"range_resolution_m", g.range_resolution_m},
                  {"first_range_m", g.first_range_m},
                  {"last_range_m", g.last_range_m},
                  {"last_full_gain_range_m", g.last_full_gain_range_m},
                  {"first_eclipsed_bin", g.first_eclipsed_bin},
                  {"transmit_eclipse_range_m", g.transmit_eclipse_range_m},
                  {"unambiguous_range_m", g.unambiguous_range_m},
                  {"unambiguous_velocity_mps", g.velocity_span_mps / 2.0},
                  {"velocity_span_mps", g.velocity_span_mps},
                  {"velocity_bin_mps", g.velocity_bin_mps},
                  {"doppler_bin_hz", g.doppler_bin_hz},
                  {"cpi_duration_s", g.cpi_duration_s},
                  {"cpi_rate_hz", 1.0 / g.cpi_duration_s},
                  {"input_samples_per_s", g.input_samples_per_s},
                  {"input_bytes_per_s_cf32", 8.0 * g.input_samples_per_s},
                  {"input_bytes_per_s_ci16", 4.0 * g.input_samples_per_s}};
  const ClutterMapGeometry cm = clutter_map_geometry(mode);
  if (cm.present) {
    const cpu::ClutterMap map(clutter_map_stage_config(mode));
    const double half = static_cast<double>(cm.rows / 2);
    const double k_warm = map.factors()[std::min<std::size_t>(cm.warmup_updates, map.table_last())];
    const double k_steady = map.factors()[map.table_last()];
    // The steady factor for each Gamma order of the measured shape's grid (docs/signal-chain.md).
    nlohmann::json by_order = nlohmann::json::object();
    for (std::size_t o = 0; o < map.shape_orders().size(); ++o)
      by_order[std::to_string(map.shape_orders()[o])] =
          10.0 * std::log10(map.factors()[(o + 2) * (map.table_last() + 1) - 1]);
    j["processing"]["clutter_map"] = {
        {"first_row", cm.first_row},
        {"rows", cm.rows},
        {"velocity_mps", half * g.velocity_bin_mps},  // the rows' centres reach +- this
        {"azimuth_cells", cm.azimuth_cells},
        {"cells", cm.cells()},
        {"state_bytes", cm.cells() * 20},
        {"time_constant_updates", cm.time_constant_updates},
        {"updates_per_second", cm.updates_per_second},
        {"warmup_updates", cm.warmup_updates},
        {"warmup_s", static_cast<double>(cm.warmup_updates) / cm.updates_per_second},
        {"hold_updates", cm.hold_updates},
        {"factor_at_warmup_db", 10.0 * std::log10(k_warm)},
        {"factor_steady_db", 10.0 * std::log10(k_steady)},
        {"shape", to_string(cm.shape)},
        {"factor_steady_db_by_order", by_order},
        {"design_pfa", cm.pfa},
        {"solve_seconds", map.solve_seconds()},
        {"expected_false_alarms_per_cpi",
         cm.pfa * static_cast<double>(cm.maps * cm.rows * cm.gates)}};
    if (!mode.processing.clutter_map.file.empty())
      j["processing"]["clutter_map"]["file"] = mode.processing.clutter_map.file;
  }
  j["backend"] = to_string(mode.backend);
  const nlohmann::json file = mode_file_json(mode);
  if (file.contains("antenna")) j["antenna"] = file["antenna"];
  if (file.contains("asterix")) j["asterix"] = file["asterix"];
  if (file.contains("input")) j["input"] = file["input"];
  return j;
}

namespace {
std::string fmt(const char* f, double a) {
  char b[128];
  std::snprintf(b, sizeof b, f, a);
  return b;
}
std::string fmt2(const char* f, double a, double b2) {
  char b[160];
  std::snprintf(b, sizeof b, f, a, b2);
  return b;
}
}  // namespace

std::string format_mode_summary(const nlohmann::json& j) {
  const auto& r = j["radar"];
  const auto& p = j["processing"];
  const auto& d = j["derived"];
  const auto& c = p["cfar"];
  std::string s;
  auto line = [&](const std::string& k, const std::string& v) {
    std::string key = "  " + k;
    key.resize(30, ' ');
    s += key + v + "\n";
  };
  s += "radar\n";
  line("carrier",
       fmt2("%.6g GHz (wavelength %.4g mm)", r["center_frequency_hz"].get<double>() / 1e9,
            r["wavelength_m"].get<double>() * 1e3));
  line("sample rate", fmt("%.6g MHz", r["sample_rate_hz"].get<double>() / 1e6));
  line("PRI / PRF",
       fmt2("%.6g us / %.6g Hz", r["pri_s"].get<double>() * 1e6, r["prf_hz"].get<double>()));
  line("range gates x channels", std::to_string(r["range_gates"].get<std::size_t>()) + " x " +
                                     std::to_string(r["channels"].get<std::size_t>()));
  line("waveform",
       r["waveform"]["type"].get<std::string>() +
           fmt2(", %.6g us, %.0f samples", r["waveform"]["duration_s"].get<double>() * 1e6,
                r["waveform"]["samples"].get<double>()) +
           fmt(", %.6g MHz", r["waveform"]["resolution_bandwidth_hz"].get<double>() / 1e6));
  s += "processing\n";
  line("pulses per CPI", std::to_string(p["pulses"].get<std::size_t>()) + " (" +
                             std::to_string(p["pulses_after_mti"].get<std::size_t>()) +
                             " after MTI " + p["mti"].get<std::string>() + ")");
  line("windows", "range " + p["range_window"].get<std::string>() + ", Doppler " +
                      p["doppler_window"].get<std::string>() + " (unit energy)");
  line("FFT sizes", "pulse compression " +
                        std::to_string(p["pulse_compression_fft_size"].get<std::size_t>()) +
                        ", Doppler " + std::to_string(p["doppler_fft_size"].get<std::size_t>()));
  line("channel combining", p["channel_combine"].get<std::string>() + " (" +
                                std::to_string(p["maps"].get<std::size_t>()) + " map(s), " +
                                std::to_string(p["cells_per_cpi"].get<std::size_t>()) +
                                " cells per CPI)");
  line("integration gain", fmt("%.2f dB", p["integration_gain_db"].get<double>()));
  line("CFAR", c["type"].get<std::string>() + fmt(", Pfa %.3g", c["pfa"].get<double>()) + ", " +
                   std::to_string(c["interior_training_cells"].get<std::size_t>()) +
                   " training cells");
  line("CFAR threshold factor",
       fmt2("alpha = %.6g (%.3f dB), ", c["threshold_factor"].get<double>(),
            c["threshold_factor_db"].get<double>()) +
           (c.contains("measured_threshold_factor") ? "measured (radarpipe calibrate) on the "
                                                    : "") +
           c["threshold"].get<std::string>() +
           (c.contains("measured_threshold_factor") ? " shape" : ""));
  if (c.contains("measured_threshold_factor")) {
    const auto& m = c["measured_threshold_factor"];
    line("  measured",
         fmt2("95%% %.6g .. %.6g; ", m["alpha_low"].get<double>(), m["alpha_high"].get<double>()) +
             fmt("Pfa %.4g", m["measured_pfa"].get<double>()) + " over " +
             std::to_string(m["cells"].get<std::uint64_t>()) + " cells of " +
             m["source"].get<std::string>());
  }
  const auto& cal = c["calibration"];
  line("  textbook / calibrated", fmt2("%.6g / %.6g", c["textbook_threshold_factor"].get<double>(),
                                       c["calibrated_threshold_factor"].get<double>()) +
                                      " (interior window)");
  line("  effective training cells",
       fmt2("%.1f of %.0f", c["effective_training_cells"].get<double>(),
            c["interior_training_cells"].get<double>()));
  if (cal["doppler_row_factor_min"].get<double>() != 1.0 ||
      cal["doppler_row_factor_max"].get<double>() != 1.0)
    line("  Doppler row factors",
         fmt2("%.4g .. %.4g (MTI)", cal["doppler_row_factor_min"].get<double>(),
              cal["doppler_row_factor_max"].get<double>()));
  line("  calibration solve", fmt("%.3f s, ", cal["seconds"].get<double>()) +
                                  std::to_string(cal["windows_solved"].get<std::size_t>()) +
                                  " windows, " + cal["method"].get<std::string>());
  line("expected false alarms",
       fmt("%.4g per CPI (Pfa x cells)", c["expected_false_alarms_per_cpi"].get<double>()));
  if (p.contains("clutter_map")) {
    const auto& m = p["clutter_map"];
    line("clutter map", std::to_string(m["rows"].get<std::size_t>()) + " zero-Doppler rows (" +
                            fmt("+/- %.4g m/s), ", m["velocity_mps"].get<double>()) +
                            std::to_string(m["cells"].get<std::size_t>()) + " cells (" +
                            std::to_string(m["azimuth_cells"].get<std::size_t>()) +
                            " azimuth cells), " +
                            fmt("%.3g MB of state", m["state_bytes"].get<double>() / 1e6));
    line("  learning",
         fmt("time constant %.4g updates, ", m["time_constant_updates"].get<double>()) +
             fmt2("warm-up %.0f updates (%.3g s)", m["warmup_updates"].get<double>(),
                  m["warmup_s"].get<double>()));
    line("  factor over the map",
         fmt2("%.2f dB at warm-up, %.2f dB steady", m["factor_at_warmup_db"].get<double>(),
              m["factor_steady_db"].get<double>()) +
             (m["design_pfa"].get<double>() > 0
                  ? fmt(" (Pfa %.3g)", m["design_pfa"].get<double>()) +
                        fmt(", %.4g false alarms per CPI",
                            m["expected_false_alarms_per_cpi"].get<double>())
                  : std::string(" (fixed)")));
    // The measured shape's steady factors, from the steadiest order to the least steady.
    const auto& by = m["factor_steady_db_by_order"];
    if (!by.empty()) {
      int lo = 1 << 30, hi = 0;
      for (auto it = by.begin(); it != by.end(); ++it) {
        lo = std::min(lo, std::stoi(it.key()));
        hi = std::max(hi, std::stoi(it.key()));
      }
      line("  steady ground",
           "factor from each cell's spread (shape: measured), " +
               fmt2("%.2f dB at nu %.0f", by[std::to_string(lo)].get<double>(), lo) +
               fmt2(" to %.2f dB at nu %.0f", by[std::to_string(hi)].get<double>(), hi));
    } else if (m["design_pfa"].get<double>() > 0) {
      line("  steady ground", m["shape"] == "noise"
                                  ? std::string("the noise factor (shape: noise)")
                                  : std::string("the noise factor (the measured shape needs a "
                                                "time constant of 16 updates or more)"));
    }
    if (m.contains("file")) line("  kept in", m["file"].get<std::string>());
  }
  s += "derived\n";
  line("range bin spacing", fmt("%.4f m", d["range_bin_m"].get<double>()));
  line("range resolution", fmt("%.4f m", d["range_resolution_m"].get<double>()));
  line("instrumented range",
       fmt2("%.2f .. %.2f m", d["first_range_m"].get<double>(), d["last_range_m"].get<double>()) +
           fmt(" (full gain to %.2f m,", d["last_full_gain_range_m"].get<double>()) +
           " bins >= " + std::to_string(d["first_eclipsed_bin"].get<std::size_t>()) + " eclipsed)");
  line("transmit eclipse", fmt("%.2f m", d["transmit_eclipse_range_m"].get<double>()));
  line("unambiguous range", fmt("%.2f m", d["unambiguous_range_m"].get<double>()));
  line("unambiguous velocity",
       fmt2("+/- %.4f m/s (span %.4f m/s)", d["unambiguous_velocity_mps"].get<double>(),
            d["velocity_span_mps"].get<double>()));
  line("velocity bin", fmt2("%.5f m/s (%.5g Hz)", d["velocity_bin_mps"].get<double>(),
                            d["doppler_bin_hz"].get<double>()));
  line("CPI duration", fmt2("%.6g ms (%.4g CPI/s)", d["cpi_duration_s"].get<double>() * 1e3,
                            d["cpi_rate_hz"].get<double>()));
  line("input data rate",
       fmt("%.6g MS/s, ", d["input_samples_per_s"].get<double>() / 1e6) +
           fmt("%.6g MB/s cf32, ", d["input_bytes_per_s_cf32"].get<double>() / 1e6) +
           fmt("%.6g MB/s ci16", d["input_bytes_per_s_ci16"].get<double>() / 1e6));
  if (j.contains("antenna")) {
    const auto& a = j["antenna"];
    std::string v = a["scan"].get<std::string>() +
                    fmt(", azimuth %.6g deg", a["azimuth_deg"].get<double>()) +
                    fmt(", beamwidth %.4g deg", a["beamwidth_deg"].get<double>());
    if (a["scan"] == "rotating")
      v += fmt(", %.6g s per turn ", a["rotation_period_s"].get<double>()) +
           a["direction"].get<std::string>() + ", " +
           std::to_string(a["sectors"].get<std::size_t>()) + " sectors";
    if (a.contains("channel_azimuths_deg"))
      v += ", " + std::to_string(a["channel_azimuths_deg"].size()) + " channel beams";
    line("antenna", v);
  } else {
    line("antenna", "none (detections carry no azimuth)");
  }
  if (j.contains("input")) {
    const auto& x = j["input"];
    const auto& v = x["vrt"];
    std::string ids;
    if (v.contains("stream_ids"))
      for (const auto& id : v["stream_ids"])
        ids += (ids.empty() ? "" : ", ") + std::to_string(id.get<std::uint32_t>());
    line("input", (x.contains("from") ? x["from"].get<std::string>() : std::string("--from")) +
                      "; VRT " + v["timing"].get<std::string>() + ", epoch " +
                      v["epoch"].get<std::string>() + ", " +
                      v["payload_format"].get<std::string>() + " until a context says" +
                      (ids.empty() ? std::string(", the first stream") : ", streams " + ids));
  }
  if (j.contains("asterix")) {
    const auto& x = j["asterix"];
    line("ASTERIX", "SAC " + std::to_string(x["sac"].get<unsigned>()) + " SIC " +
                        std::to_string(x["sic"].get<unsigned>()) + ", to " +
                        (x.contains("destination") ? x["destination"].get<std::string>()
                                                   : std::string("no UDP destination")) +
                        (x["zmq"].get<bool>() ? " and the asterix topic" : "") +
                        (x["cat034"].get<bool>() ? ", CAT048 + CAT034" : ", CAT048"));
  }
  return s;
}

}  // namespace radarpipe
