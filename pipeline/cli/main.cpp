// The radarpipe command line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "io/time.hpp"
#include "pipeline/chain/backend.hpp"
#include "pipeline/cli/stream_commands.hpp"
#include "pipeline/commands/calibrate.hpp"
#include "pipeline/commands/demo.hpp"
#include "pipeline/commands/mode_summary.hpp"
#include "pipeline/commands/plan.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/commands/score.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/config/scenario_file.hpp"

namespace {

int config_check(const std::string& path, bool json) {
  using namespace radarpipe;
  Mode mode;
  try {
    mode = load_mode_file(path);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe: invalid mode: " << e.what() << "\n";
    return 2;
  }
  nlohmann::json summary = mode_summary(mode);
  BackendChoice b;
  try {
    b = resolve_backend(mode.backend);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe: " << path << ": " << e.what() << "\n";
    return 2;
  }
  summary["backend_resolved"] = {
      {"requested", to_string(b.requested)}, {"chosen", to_string(b.chosen)}, {"reason", b.reason}};
  if (json) {
    std::cout << summary.dump(2) << "\n";
  } else {
    std::cout << "mode " << path << ": valid\n" << format_mode_summary(summary);
    std::cout << "backend\n  " << to_string(b.requested) << " -> " << to_string(b.chosen) << " ("
              << b.reason << ")\n";
  }
  return 0;
}

int devices() {
  std::fputs(radarpipe::describe_devices().c_str(), stdout);
  return 0;
}

int simulate(const std::string& mode_path, const std::string& scenario_path,
             radarpipe::SimulateOptions opt) {
  using namespace radarpipe;
  Mode mode;
  io::Scenario scenario;
  try {
    mode = load_mode_file(mode_path);
    scenario = load_scenario_file(scenario_path, mode);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe simulate: " << e.what() << "\n";
    return 2;
  }
  try {
    const SimulateResult r = simulate_recording(mode, scenario, opt);
    std::cout << "simulated " << opt.cpis << " CPIs (" << r.samples << " samples per channel, "
              << opt.datatype;
    if (opt.datatype == "ci16_le")
      std::cout << ", LSB " << r.scale << ", " << r.clipped << " components clipped";
    std::cout << ")\n";
    for (const std::string& f : r.files) std::cout << "  " << f << "\n";
  } catch (const std::exception& e) {
    std::cerr << "radarpipe simulate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int process(radarpipe::ProcessOptions opt, const std::string& backend) {
  using namespace radarpipe;
  if (!backend.empty())
    opt.backend = backend == "cpu"    ? Backend::Cpu
                  : backend == "cuda" ? Backend::Cuda
                                      : Backend::Auto;
  opt.progress = isatty(STDERR_FILENO) != 0;
  try {
    const ProcessSummary s = process_recording(opt, std::cerr);
    std::fprintf(stderr,
                 "radarpipe process: %llu CPIs, %llu detections, %.3g samples in %.2f s "
                 "(%.1f M samples/s; set-up %.2f s, first report at %.2f s) on %s\n"
                 "  mode: %s%s\n",
                 static_cast<unsigned long long>(s.cpis),
                 static_cast<unsigned long long>(s.detections), static_cast<double>(s.samples),
                 s.seconds, s.samples_per_s() / 1e6, s.setup_seconds, s.first_report_seconds,
                 s.backend.c_str(), s.mode_origin.c_str(),
                 s.checksum_verified ? "; core:sha512 verified" : "");
    if (s.cells > 0)
      std::fprintf(stderr,
                   "radarpipe process: %llu threshold crossings in %llu cells: %.3g per cell, "
                   "%.3g x the design Pfa %.3g (targets and clutter included)\n",
                   static_cast<unsigned long long>(s.crossings),
                   static_cast<unsigned long long>(s.cells),
                   static_cast<double>(s.crossings) / static_cast<double>(s.cells),
                   static_cast<double>(s.crossings) / static_cast<double>(s.cells) / s.design_pfa,
                   s.design_pfa);
    if (s.map_cells > 0) {
      const std::string kept =
          s.clutter_map_file.empty() ? "not kept (no file)"
          : s.clutter_map_loaded     ? "started from " + s.clutter_map_file + " (" +
                                       std::to_string(s.clutter_map_loaded_cpis) + " CPIs learned)"
                                 : "learned afresh (" + s.clutter_map_file + " not used)";
      std::fprintf(stderr,
                   "radarpipe process: clutter map: %llu of %llu cells tested (past warm-up), "
                   "%llu declared; %s%s%s\n",
                   static_cast<unsigned long long>(s.map_tested),
                   static_cast<unsigned long long>(s.map_cells),
                   static_cast<unsigned long long>(s.map_crossings), kept.c_str(),
                   s.clutter_map_saved ? "; saved to " : "",
                   s.clutter_map_saved ? s.clutter_map_file.c_str() : "");
    }
    if (!opt.asterix_output.empty())
      std::fprintf(stderr,
                   "radarpipe process: ASTERIX: %llu plots in %llu data blocks to %s; %llu "
                   "detections could not be encoded (see docs/trackers.md)\n",
                   static_cast<unsigned long long>(s.asterix_plots),
                   static_cast<unsigned long long>(s.asterix_datagrams), opt.asterix_output.c_str(),
                   static_cast<unsigned long long>(s.asterix_plots_dropped));
    if (s.leftover_samples || s.leftover_bytes)
      std::fprintf(stderr,
                   "radarpipe process: %llu samples per channel (and %llu bytes) left over: not "
                   "a whole CPI, not processed\n",
                   static_cast<unsigned long long>(s.leftover_samples),
                   static_cast<unsigned long long>(s.leftover_bytes));
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe process: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe process: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int calibrate(const radarpipe::CalibrateOptions& opt) {
  using namespace radarpipe;
  try {
    const CalibrateResult r = calibrate_recording(opt, std::cerr);
    const CfarFactors& f = r.mode.processing.cfar.factors;
    std::fprintf(stderr,
                 "radarpipe calibrate: %s CFAR, design Pfa %.3g: measured factor %.6g (95%%: "
                 "%.6g to %.6g) over %llu interior cells of %llu CPIs in %.1f s; crossings' "
                 "dispersion %.3g\n"
                 "  the mode's %s factor %.6g gave %.3g x the design on this noise; textbook "
                 "%.6g\n  written to %s\n",
                 to_string(r.mode.processing.cfar.type), r.mode.processing.cfar.pfa, f.alpha,
                 f.alpha_low, f.alpha_high, static_cast<unsigned long long>(f.cells),
                 static_cast<unsigned long long>(r.cpis), r.seconds, r.dispersion,
                 to_string(r.mode.processing.cfar.threshold), r.model_alpha,
                 r.model_rate_over_design, r.textbook_alpha, opt.output.c_str());
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe calibrate: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe calibrate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int plan_command(const std::string& mode_path, const std::string& wisdom,
                 const std::string& cfar_factors) {
  using namespace radarpipe;
  try {
    const Mode mode = load_mode_file(mode_path);
    const PlanSummary s = plan_ffts(mode, wisdom, std::cerr, cfar_factors);
    std::printf("fft wisdom %s: %zu transform(s) measured in %.2f s%s; %s\n", s.wisdom_path.c_str(),
                s.measured, s.seconds, s.loaded ? " (the rest from the wisdom already there)" : "",
                s.written ? "written" : "NOT written (see the warning above)");
    if (mode.processing.cfar.threshold == CfarThreshold::Calibrated && !s.cfar_factors.empty())
      std::printf("cfar factors %s: %s in %.2f s\n", s.cfar_factors.c_str(),
                  s.cfar_stored ? "loaded" : "solved and kept", s.cfar_seconds);
    return s.written ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe plan: " << e.what() << "\n";
    return 1;
  }
}

int inspect(const std::string& path, bool json, bool verify) {
  using namespace radarpipe;
  try {
    io::SigmfReadOptions ro;
    ro.verify_checksum = verify;
    io::SigmfReader rec(path, ro);
    const io::SigmfMeta& m = rec.meta();
    nlohmann::json j;
    j["metadata"] = rec.location().meta_name;
    j["data"] = rec.location().data_name;
    j["archive"] = rec.location().archive;
    j["datatype"] = m.format.name;
    j["sample_rate_hz"] = m.sample_rate_hz;
    j["channels"] = m.num_channels;
    j["samples_per_channel"] = rec.samples();
    j["data_bytes"] = rec.location().data_bytes;
    j["leftover_bytes"] = rec.leftover_bytes();
    j["duration_s"] =
        m.sample_rate_hz > 0 ? static_cast<double>(rec.samples()) / m.sample_rate_hz : 0.0;
    j["sha512"] =
        m.sha512 ? (rec.checksum_verified() ? "verified" : "present, not checked") : "absent";
    j["description"] = m.global.value("core:description", "");
    nlohmann::json caps = nlohmann::json::array();
    for (const io::SigmfCapture& c : m.captures) caps.push_back(c.fields);
    j["captures"] = caps;
    nlohmann::json anns = nlohmann::json::array();
    for (const io::SigmfAnnotation& a : m.annotations) anns.push_back(a.fields);
    j["annotations"] = anns;
    std::optional<ResolvedMode> rm;
    std::string mode_error;
    try {
      rm = mode_for_recording(rec, std::nullopt);
    } catch (const std::exception& e) {
      mode_error = e.what();
    }
    if (rm) {
      const ModeGeometry g = derive_geometry(rm->mode);
      io::RecordingCpiSource src(rec, rm->mode.processing.pulses, rm->mode.radar.range_gates,
                                 rm->mode.radar.pri_s);
      j["radar"] = mode_file_json(rm->mode)["radar"];
      j["cpis"] = src.slots().size();
      j["pulses_per_cpi"] = rm->mode.processing.pulses;
      j["leftover_samples"] = src.leftover_samples();
      j["range_bin_m"] = g.range_bin_m;
      j["instrumented_range_m"] = {g.first_range_m, g.last_range_m};
      j["velocity_span_mps"] = g.velocity_span_mps;
      if (!src.slots().empty()) {
        j["first_cpi_time"] = io::format_rfc3339_ns(src.slots().front().timestamp_ns);
        j["last_cpi_time"] = io::format_rfc3339_ns(src.slots().back().timestamp_ns);
      }
    } else {
      j["radar"] = nullptr;
      j["radar_note"] = mode_error;
    }
    if (json) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::printf("recording   %s\n", rec.location().meta_name.c_str());
    std::printf("data        %s (%llu bytes%s)\n", rec.location().data_name.c_str(),
                static_cast<unsigned long long>(rec.location().data_bytes),
                rec.location().archive ? ", in the archive" : "");
    if (!j["description"].get<std::string>().empty())
      std::printf("description %s\n", j["description"].get<std::string>().c_str());
    std::printf("samples     %s, %zu channel(s), %.6g MHz, %llu samples per channel (%.6g s)\n",
                m.format.name.c_str(), m.num_channels, m.sample_rate_hz / 1e6,
                static_cast<unsigned long long>(rec.samples()), j["duration_s"].get<double>());
    if (rec.leftover_bytes())
      std::printf("            %llu trailing bytes do not make a whole sample of every channel\n",
                  static_cast<unsigned long long>(rec.leftover_bytes()));
    std::printf("sha512      %s\n", j["sha512"].get<std::string>().c_str());
    std::printf("captures    %zu\n", m.captures.size());
    for (std::size_t i = 0; i < m.captures.size() && i < 8; ++i) {
      const io::SigmfCapture& c = m.captures[i];
      std::printf("  [%zu] sample %llu", i, static_cast<unsigned long long>(c.sample_start));
      if (c.frequency_hz) std::printf(", %.6g GHz", *c.frequency_hz / 1e9);
      if (c.datetime) std::printf(", %s", c.datetime->c_str());
      std::printf("\n");
    }
    std::printf("annotations %zu", m.annotations.size());
    std::map<std::string, int> labels;
    for (const io::SigmfAnnotation& a : m.annotations) labels[a.fields.value("core:label", "")]++;
    const char* sep = " (";
    for (const auto& [label, n] : labels) {
      std::printf("%s%s x%d", sep, label.empty() ? "unlabelled" : label.c_str(), n);
      sep = ", ";
    }
    std::printf("%s\n", m.annotations.empty() ? "" : ")");
    if (rm) {
      const RadarConfig& r = rm->mode.radar;
      std::printf("radar       %.6g GHz, PRI %.6g us, %zu gates from %.6g us, %s waveform\n",
                  r.center_frequency_hz / 1e9, r.pri_s * 1e6, r.range_gates, r.window_start_s * 1e6,
                  to_string(r.waveform.type));
      std::printf("CPIs        %zu of %zu pulses (%llu samples per channel left over)\n",
                  j["cpis"].get<std::size_t>(), rm->mode.processing.pulses,
                  static_cast<unsigned long long>(j["leftover_samples"].get<std::uint64_t>()));
      if (j.contains("first_cpi_time"))
        std::printf("time        %s .. %s\n", j["first_cpi_time"].get<std::string>().c_str(),
                    j["last_cpi_time"].get<std::string>().c_str());
    } else {
      std::printf("radar       not described: %s\n", mode_error.c_str());
    }
  } catch (const std::exception& e) {
    std::cerr << "radarpipe inspect: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int score(const std::string& dets, const std::string& truth_path, bool json,
          radarpipe::ScoreOptions opt) {
  using namespace radarpipe;
  try {
    const std::vector<DetectionReport> reports = read_detections_jsonl(dets);
    const io::TruthFile truth = read_truth_file(truth_path);
    const Score s = score_detections(reports, truth, opt);
    std::cout << (json ? score_json(s) + "\n" : format_score(s, opt));
  } catch (const std::exception& e) {
    std::cerr << "radarpipe score: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"radarpipe: real-time pulse-Doppler radar signal processor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "radarpipe 0.1.0");

  CLI::App* config = app.add_subcommand("config", "Radar mode files");
  config->require_subcommand(1);
  CLI::App* check =
      config->add_subcommand("check", "Validate a mode file and print what it implies");
  std::string mode_path;
  bool json = false;
  check->add_option("FILE", mode_path, "mode file (YAML)")->required();
  check->add_flag("--json", json, "print the summary as JSON");

  app.add_subcommand("devices", "List CUDA devices");

  CLI::App* sim =
      app.add_subcommand("simulate", "Simulate a scenario into a SigMF recording + truth");
  std::string sim_mode, sim_scenario;
  radarpipe::SimulateOptions sim_opt;
  sim->add_option("--mode", sim_mode, "mode file (YAML)")->required();
  sim->add_option("--scenario", sim_scenario, "scenario file (YAML)")->required();
  sim->add_option("--cpis", sim_opt.cpis, "CPIs to simulate")
      ->required()
      ->check(CLI::Range(1, 1000000));
  sim->add_option("-o,--output", sim_opt.output,
                  "output name: NAME.sigmf-meta/-data, NAME.truth.json")
      ->required();
  sim->add_option("--datatype", sim_opt.datatype, "ci16_le or cf32_le")
      ->check(CLI::IsMember({"ci16_le", "cf32_le"}));
  sim->add_flag("--archive", sim_opt.archive, "write a NAME.sigmf archive instead of the pair");

  CLI::App* proc =
      app.add_subcommand("process", "Process a SigMF recording into JSON Lines detections");
  radarpipe::ProcessOptions proc_opt;
  std::string proc_mode, proc_backend;
  bool skip_checksum = false;
  proc->add_option("-i,--input", proc_opt.input, "recording (NAME, NAME.sigmf-meta or NAME.sigmf)")
      ->required();
  proc->add_option("--mode", proc_mode, "mode file; default: the recording's radar extension");
  proc->add_option("--backend", proc_backend, "auto, cpu or cuda (overrides the mode)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  proc->add_option("-o,--output", proc_opt.output, "JSON Lines output, - for stdout")->required();
  proc->add_option("--asterix", proc_opt.asterix_output,
                   "also write ASTERIX CAT048/CAT034 data blocks to this file (needs the mode's "
                   "asterix: and antenna: sections)");
  proc->add_option("--threads", proc_opt.threads, "worker threads (0: all cores)");
  proc->add_option("--fft-wisdom", proc_opt.fft_wisdom,
                   "FFT wisdom file (none: none; default: the mode's, else the per-user cache)");
  proc->add_option("--cfar-factors", proc_opt.cfar_factors,
                   "directory of solved CFAR factors (none: solve every start; default: the "
                   "per-user cache)");
  proc->add_flag("--skip-checksum", skip_checksum, "do not verify core:sha512");
  proc->add_option("--clutter-map", proc_opt.clutter_map,
                   "the clutter map's file: loaded when it exists, saved at the end (none: not "
                   "kept; default: the mode's processing.clutter_map.file)");

  CLI::App* cal = app.add_subcommand(
      "calibrate", "Measure the CFAR factor on a noise recording; write the mode with it");
  radarpipe::CalibrateOptions cal_opt;
  double cal_pfa = 0;
  bool cal_skip = false;
  cal->add_option("-i,--input", cal_opt.input, "noise recording (receiver noise only)")->required();
  cal->add_option("--mode", cal_opt.mode_path, "mode file (YAML)")->required();
  cal->add_option("--pfa", cal_pfa, "design Pfa (default: the mode's processing.cfar.pfa)");
  cal->add_option("-o,--output", cal_opt.output, "mode file to write, - for stdout")->required();
  cal->add_option("--threads", cal_opt.threads, "worker threads (0: all cores)");
  cal->add_flag("--skip-checksum", cal_skip, "do not verify core:sha512");

  CLI::App* plan = app.add_subcommand(
      "plan", "Plan a mode's FFTs for this machine ahead of time (kept as FFTW wisdom)");
  std::string plan_mode, plan_wisdom, plan_cfar;
  plan->add_option("--mode", plan_mode, "mode file (YAML)")->required();
  plan->add_option("--fft-wisdom", plan_wisdom,
                   "wisdom file (default: the mode's processing.fft_wisdom, else the per-user "
                   "cache)");
  plan->add_option("--cfar-factors", plan_cfar,
                   "directory of solved CFAR factors (none: none; default: the per-user cache)");

  CLI::App* insp = app.add_subcommand("inspect", "Summarise a SigMF recording");
  std::string insp_path;
  bool insp_json = false, insp_skip = false;
  insp->add_option("REC", insp_path, "recording")->required();
  insp->add_flag("--json", insp_json, "print JSON");
  insp->add_flag("--skip-checksum", insp_skip, "do not verify core:sha512");

  CLI::App* sc = app.add_subcommand("score", "Score detections against simulator truth");
  std::string sc_dets, sc_truth;
  bool sc_json = false;
  radarpipe::ScoreOptions sc_opt;
  sc->add_option("DETS", sc_dets, "detections (JSON Lines from radarpipe process)")->required();
  sc->add_option("TRUTH", sc_truth, "truth file (NAME.truth.json from radarpipe simulate)")
      ->required();
  sc->add_option("--range-gate", sc_opt.range_gate_bins, "association gate in range bins");
  sc->add_option("--doppler-gate", sc_opt.doppler_gate_bins, "association gate in Doppler bins");
  sc->add_option("--min-snr", sc_opt.min_expected_snr_db,
                 "count only targets with at least this expected SNR (dB) toward Pd");
  sc->add_flag("--json", sc_json, "print JSON");

  CLI::App* demo =
      app.add_subcommand("demo", "Simulate, process and score the embedded demo scene");
  radarpipe::DemoOptions demo_opt;
  demo->add_option("-o,--output-dir", demo_opt.output_dir, "where the files go");
  demo->add_option("--cpis", demo_opt.cpis, "CPIs to simulate")->check(CLI::Range(1, 100000));
  demo->add_option("--threads", demo_opt.threads, "worker threads (0: all cores)");

  radarpipe::cli::StreamCommands streaming(app);

  CLI11_PARSE(app, argc, argv);
  if (const std::optional<int> rc = streaming.dispatch()) return *rc;
  if (check->parsed()) return config_check(mode_path, json);
  if (app.got_subcommand("devices")) return devices();
  if (sim->parsed()) return simulate(sim_mode, sim_scenario, sim_opt);
  if (proc->parsed()) {
    if (!proc_mode.empty()) proc_opt.mode_path = proc_mode;
    proc_opt.verify_checksum = !skip_checksum;
    return process(proc_opt, proc_backend);
  }
  if (cal->parsed()) {
    if (cal->count("--pfa")) cal_opt.pfa = cal_pfa;
    cal_opt.verify_checksum = !cal_skip;
    return calibrate(cal_opt);
  }
  if (plan->parsed()) return plan_command(plan_mode, plan_wisdom, plan_cfar);
  if (insp->parsed()) return inspect(insp_path, insp_json, !insp_skip);
  if (sc->parsed()) return score(sc_dets, sc_truth, sc_json, sc_opt);
  if (demo->parsed()) {
    try {
      return radarpipe::run_demo(demo_opt, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "radarpipe demo: " << e.what() << "\n";
      return 1;
    }
  }
  return 1;
}
