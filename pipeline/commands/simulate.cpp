#include "pipeline/commands/simulate.hpp"

#include <cstdio>
#include <fstream>

#include "io/sigmf_file.hpp"
#include "io/time.hpp"
#include "io/truth_json.hpp"
#include "pipeline/commands/expected_snr.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe {

SimulateResult simulate_recording(const Mode& mode, const io::Scenario& scenario,
                                  const SimulateOptions& opt) {
  io::Simulator sim(mode, scenario);
  ExpectedSnr snr(mode, scenario.channel_gains);
  SimulateResult res;

  io::SigmfMeta meta;
  meta.global["core:description"] =
      opt.description.empty() ? "radarpipe simulated scenario" : opt.description;
  meta.global["core:recorder"] = "radarpipe simulate 0.1.0";
  set_radar_extension(meta, mode.radar, 1.0);
  meta.global["radar:processing"] = mode_file_json(mode)["processing"];
  io::SigmfCapture cap;
  cap.sample_start = 0;
  cap.frequency_hz = mode.radar.center_frequency_hz;
  cap.datetime = io::format_rfc3339_ns(scenario.start_ns);
  cap.datetime_ns = scenario.start_ns;
  meta.captures.push_back(cap);

  io::SigmfWriteOptions wo;
  wo.datatype = opt.datatype;
  wo.archive = opt.archive;
  // ci16 full scale: the largest amplitude the scene is expected to produce maps to ~30000.
  res.scale = opt.datatype == "ci16_le" ? sim.peak_amplitude() / 30000.0 : 1.0;
  wo.scale = res.scale;
  io::SigmfWriter writer(opt.output, meta, wo);

  const std::uint64_t per_cpi = mode.processing.pulses * mode.radar.range_gates;
  Cpi cpi(sim.shape());
  for (std::uint64_t k = 0; k < opt.cpis; ++k) {
    io::CpiTruth truth;
    sim.generate(k, cpi, truth);
    for (io::TargetTruth& t : truth.targets) {
      snr.fill(t);
      io::SigmfAnnotation a;
      a.sample_start = k * per_cpi;
      a.sample_count = per_cpi;
      char comment[200];
      std::snprintf(comment, sizeof comment,
                    "CPI %llu: range %.2f m, range rate %.3f m/s, expected SNR %.1f dB",
                    static_cast<unsigned long long>(k), t.range_m, t.range_rate_mps,
                    t.expected_snr_db);
      a.fields = {{"core:label", t.name},
                  {"core:comment", comment},
                  {"core:generator", "radarpipe simulate"}};
      writer.meta().annotations.push_back(a);
    }
    writer.write(cpi);
    res.truth.push_back(std::move(truth));
  }
  writer.close();
  res.samples = writer.samples_written();
  res.clipped = writer.clipped();
  res.files = writer.outputs();

  const std::string base = io::sigmf_base(opt.output);
  const std::string truth_path = base + ".truth.json";
  std::ofstream tf(truth_path, std::ios::trunc);
  tf << io::truth_to_json(sim, res.truth, res.files.front()).dump(1) << "\n";
  if (!tf) throw std::runtime_error(truth_path + ": cannot write the truth file");
  res.files.push_back(truth_path);
  return res;
}

}  // namespace radarpipe
