#include "pipeline/demo.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "io/image.hpp"
#include "io/time.hpp"
#include "pipeline/chain.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/config/scenario_file.hpp"
#include "pipeline/demo_configs.hpp"
#include "pipeline/expected_snr.hpp"
#include "pipeline/process.hpp"
#include "pipeline/rd_map_image.hpp"
#include "pipeline/score.hpp"
#include "pipeline/simulate.hpp"

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
  std::vector<DetectionReport> reports;
  const ProcessSummary ps = process_recording(
      po, log, [&](const DetectionReport& r, const io::CpiSlot&) { reports.push_back(r); });
  std::snprintf(line, sizeof line,
                "processed  %llu CPIs on %s: %llu detections, %.1f M samples/s\n",
                static_cast<unsigned long long>(ps.cpis), ps.backend.c_str(),
                static_cast<unsigned long long>(ps.detections), ps.samples_per_s() / 1e6);
  out << line;

  const io::TruthFile truth = read_truth_file(base + ".truth.json");
  const Score score = score_detections(reports, truth);

  // The last CPI: detections against truth.
  const DetectionReport& last = reports.back();
  const io::CpiTruth& last_truth = truth.cpis.back();
  std::snprintf(
      line, sizeof line, "\nCPI %llu at %s: %zu detections, mean CFAR noise estimate %.1f dB\n",
      static_cast<unsigned long long>(last.cpi), io::format_rfc3339_ns(last.timestamp_ns).c_str(),
      last.detections.size(), last.noise_power_db);
  out << line;
  std::snprintf(line, sizeof line, "%-10s %10s %9s | %10s %9s %8s %8s | %8s %8s | %7s\n", "target",
                "range m", "rate m/s", "det. m", "rate m/s", "err m", "err m/s", "SNR dB",
                "expected", "Pd");
  out << line << std::string(std::char_traits<char>::length(line) - 1, '-') << "\n";
  std::vector<bool> matched(last.detections.size(), false);
  for (const io::TargetTruth& t : last_truth.targets) {
    std::ptrdiff_t best = -1;
    double best_d = 1e300;
    for (std::size_t i = 0; i < last.detections.size(); ++i) {
      const Detection& d = last.detections[i];
      const double dr = d.range_bin_frac - t.range_bin;
      double dd = std::remainder(d.doppler_bin_frac - t.doppler_bin,
                                 static_cast<double>(mode.processing.doppler_fft_size));
      if (std::fabs(dr) <= 2 && std::fabs(dd) <= 2 && std::hypot(dr, dd) < best_d)
        best_d = std::hypot(dr, dd), best = static_cast<std::ptrdiff_t>(i);
    }
    double pd = 0;
    for (const TargetScore& ts : score.targets)
      if (ts.name == t.name) pd = ts.pd();
    if (best >= 0) {
      const Detection& d = last.detections[static_cast<std::size_t>(best)];
      matched[static_cast<std::size_t>(best)] = true;
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
  // Unmatched detections: near-zero Doppler within a clutter patch (plus the pulse length its
  // range sidelobes reach) are clutter, summarised in one row; the rest are listed.
  std::size_t clutter = 0;
  double clutter_lo = 1e300, clutter_hi = 0;
  const double half_m = static_cast<double>(mode.processing.doppler_fft_size) / 2.0;
  for (std::size_t i = 0; i < last.detections.size(); ++i) {
    if (matched[i]) continue;
    const Detection& d = last.detections[i];
    bool in_clutter = false;
    for (const io::ClutterPatch& p : truth.clutter)
      if (std::fabs(d.doppler_bin_frac - half_m) <= 3 &&
          d.range_m <= p.range_end_m + geo.transmit_eclipse_range_m)
        in_clutter = true;
    if (in_clutter) {
      ++clutter;
      clutter_lo = std::min(clutter_lo, d.range_m);
      clutter_hi = std::max(clutter_hi, d.range_m);
      continue;
    }
    std::snprintf(line, sizeof line, "%-10s %10s %9s | %10.1f %9.2f %8s %8s | %8.1f %8s |\n",
                  "(no truth)", "", "", d.range_m, d.range_rate_mps, "", "", d.snr_db, "");
    out << line;
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

  // The picture: the last CPI of the recording through the chain again, for its power map.
  io::SigmfReader reader(base);
  io::RecordingCpiSource source(reader, mode.processing.pulses, mode.radar.range_gates,
                                mode.radar.pri_s);
  Cpi cpi;
  source.read(source.slots().size() - 1, cpi);
  ChainOptions co;
  co.threads = opt.threads;
  CpuChain chain(mode, co);
  const DetectionReport& again = chain.process(cpi);
  MapImageOptions mo;
  char title[200];
  std::snprintf(title, sizeof title, "radarpipe demo - CPI %llu - %zu detections - %s",
                static_cast<unsigned long long>(last.cpi), again.detections.size(),
                io::format_rfc3339_ns(last.timestamp_ns).substr(0, 23).c_str());
  mo.title = title;
  const io::Image img =
      render_range_doppler_map(chain.power(), 0, mode, again.detections, last_truth.targets, mo);
  const std::string png = base + ".png";
  io::write_png(png, img);
  out << "\nwrote " << sim.files[0] << ", " << sim.files[1] << " (recording), " << sim.files[2]
      << " (truth),\n      " << po.output << " (detections), " << png << " (range-Doppler map)\n";
  return 0;
}

}  // namespace radarpipe
