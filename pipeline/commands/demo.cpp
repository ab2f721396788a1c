#include "pipeline/commands/demo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "io/image.hpp"
#include "io/time.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/commands/demo_configs.hpp"
#include "pipeline/commands/expected_snr.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/commands/rd_map_image.hpp"
#include "pipeline/commands/score.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/config/scenario_file.hpp"

namespace radarpipe {

const char* demo_mode_yaml() {
  return embedded::kDemoMode;
}
const char* demo_scenario_yaml() {
  return embedded::kDemoScenario;
}

int run_demo(const DemoOptions& opt, std::ostream& out, std::ostream& log) {
  namespace fs = std::filesystem;
  fs::create_directories(opt.output_dir);
  const Mode mode = parse_mode_yaml(demo_mode_yaml(), "configs/demo.yaml (embedded)");
  const io::Scenario scenario =
      parse_scenario_yaml(demo_scenario_yaml(), mode, "configs/scenarios/demo.yaml (embedded)");
  const ModeGeometry geo = derive_geometry(mode);
  const std::string base = (fs::path(opt.output_dir) / "demo").string();
  char line[512];

  out << "radarpipe demo: X-band counter-drone scene, " << scenario.targets.size()
      << " targets, ground clutter, noise\n";
  SimulateOptions so;
  so.cpis = opt.cpis;
  so.output = base;
  so.datatype = "ci16_le";
  so.description = "radarpipe demo scene (configs/scenarios/demo.yaml)";
  const SimulateResult sim = simulate_recording(mode, scenario, so);
  std::snprintf(line, sizeof line, "simulated  %llu CPIs of %zu x %zu x %zu (%.1f ms each), ci16\n",
                static_cast<unsigned long long>(opt.cpis), mode.radar.channels,
                mode.processing.pulses, mode.radar.range_gates, geo.cpi_duration_s * 1e3);
  out << line;

  ProcessOptions po;
  po.input = base;
  po.output = base + ".detections.jsonl";
  po.threads = opt.threads;
  // The last CPI's power map is kept (one copy, once) for the picture drawn after the loop,
  // so drawing does not count in the processing rate.
  std::vector<DetectionReport> reports;
  PowerMap last_map;
  const ProcessSummary ps = process_recording(
      po, log, [&](const DetectionReport& r, const io::CpiSlot& slot, const SignalChain& chain) {
        reports.push_back(r);
        if (slot.cpi + 1 == opt.cpis) chain.copy_power(last_map);
      });
  std::snprintf(line, sizeof line,
                "processed  %llu CPIs on %s: %llu detections, %.1f M samples/s\n",
                static_cast<unsigned long long>(ps.cpis), ps.backend.c_str(),
                static_cast<unsigned long long>(ps.detections), ps.samples_per_s() / 1e6);
  out << line;

  const io::TruthFile truth = read_truth_file(base + ".truth.json");
  const Score score = score_detections(reports, truth);

  // The last CPI: detections against truth, associated as `radarpipe score` does.
  const DetectionReport& last = reports.back();
  const io::CpiTruth& last_truth = truth.cpis.at(last.cpi);
  const CpiAssociation assoc = associate_cpi(last, last_truth, truth);
  std::snprintf(
      line, sizeof line, "\nCPI %llu at %s: %zu detections, mean CFAR noise estimate %.1f dB\n",
      static_cast<unsigned long long>(last.cpi), io::format_rfc3339_ns(last.timestamp_ns).c_str(),
      last.detections.size(), last.noise_power_db);
  out << line;
  std::snprintf(line, sizeof line, "%-10s %10s %9s | %10s %9s %8s %8s | %8s %8s | %7s\n", "target",
                "range m", "rate m/s", "det. m", "rate m/s", "err m", "err m/s", "SNR dB",
                "expected", "Pd");
  out << line << std::string(std::char_traits<char>::length(line) - 1, '-') << "\n";
  for (std::size_t k = 0; k < last_truth.targets.size(); ++k) {
    const io::TargetTruth& t = last_truth.targets[k];
    double pd = 0;
    for (const TargetScore& ts : score.targets)
      if (ts.name == t.name) pd = ts.pd();
    if (assoc.target_detection[k] >= 0) {
      const Detection& d = last.detections[static_cast<std::size_t>(assoc.target_detection[k])];
      std::snprintf(line, sizeof line,
                    "%-10s %10.1f %9.2f | %10.1f %9.2f %8.2f %8.2f | %8.1f %8.1f | %7.2f\n",
                    t.name.c_str(), t.range_m, t.apparent_range_rate_mps, d.range_m,
                    d.range_rate_mps, d.range_m - t.range_m,
                    d.range_rate_mps - t.apparent_range_rate_mps, d.snr_db, t.expected_snr_db, pd);
    } else {
      std::snprintf(line, sizeof line,
                    "%-10s %10.1f %9.2f | %10s %9s %8s %8s | %8s %8.1f | %7.2f\n", t.name.c_str(),
                    t.range_m, t.apparent_range_rate_mps, "missed", "", "", "", "",
                    t.expected_snr_db, pd);
    }
    out << line;
  }
  // Detections on clutter are summarised in one row; the rest are listed.
  std::size_t clutter = 0;
  double clutter_lo = 1e300, clutter_hi = 0;
  for (std::size_t i = 0; i < last.detections.size(); ++i) {
    const Detection& d = last.detections[i];
    if (assoc.detection_kind[i] == DetectionKind::Clutter) {
      ++clutter;
      clutter_lo = std::min(clutter_lo, d.range_m);
      clutter_hi = std::max(clutter_hi, d.range_m);
    } else if (assoc.detection_kind[i] == DetectionKind::FalseAlarm) {
      std::snprintf(line, sizeof line, "%-10s %10s %9s | %10.1f %9.2f %8s %8s | %8.1f %8s |\n",
                    "(no truth)", "", "", d.range_m, d.range_rate_mps, "", "", d.snr_db, "");
      out << line;
    }
  }
  if (clutter) {
    std::snprintf(line, sizeof line,
                  "%-10s %zu detections at zero Doppler from %.0f to %.0f m (ground clutter and "
                  "its range sidelobes)\n",
                  "(clutter)", clutter, clutter_lo, clutter_hi);
    out << line;
  }
  std::snprintf(line, sizeof line,
                "\nover %llu CPIs: Pd %.3f, %llu false alarms (%.2f per CPI; design Pfa %.0e x "
                "%zu cells = %.2f), %llu clutter detections\n"
                "range RMSE %.2f m (bin %.2f m), velocity RMSE %.3f m/s (bin %.3f m/s)\n",
                static_cast<unsigned long long>(score.cpis), score.pd(),
                static_cast<unsigned long long>(score.false_alarms), score.false_alarms_per_cpi(),
                mode.processing.cfar.pfa, geo.cells_per_cpi,
                mode.processing.cfar.pfa * static_cast<double>(geo.cells_per_cpi),
                static_cast<unsigned long long>(score.clutter_detections), score.range_rmse_m,
                geo.range_bin_m, score.velocity_rmse_mps, geo.velocity_bin_mps);
  out << line;

  MapImageOptions mo;
  char title[200];
  std::snprintf(title, sizeof title, "radarpipe demo - CPI %llu - %zu detections - %s",
                static_cast<unsigned long long>(last.cpi), last.detections.size(),
                io::format_rfc3339_ns(last.timestamp_ns).substr(0, 23).c_str());
  mo.title = title;
  const std::string png = base + ".png";
  io::write_png(
      png, render_range_doppler_map(last_map, 0, mode, last.detections, last_truth.targets, mo));
  out << "\nwrote " << sim.files[0] << ", " << sim.files[1] << " (recording), " << sim.files[2]
      << " (truth),\n      " << po.output << " (detections), " << png << " (range-Doppler map)\n";
  return 0;
}

}  // namespace radarpipe
