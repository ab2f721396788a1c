#include "pipeline/commands/process.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "core/radar_math.hpp"
#include "io/asterix.hpp"
#include "io/detection_json.hpp"
#include "pipeline/chain/backend.hpp"
#include "pipeline/chain/clutter_map_store.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/commands/annotate.hpp"
#include "pipeline/commands/recording_reader.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

bool differs(double a, double b) {
  return std::fabs(a - b) > 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

void check_against(const Mode& mode, const std::string& mode_name, const io::SigmfReader& rec) {
  const io::SigmfMeta& meta = rec.meta();
  const std::string rec_name = rec.location().meta_name;
  auto fail = [&](const std::string& key, const std::string& ours, const std::string& field,
                  const std::string& theirs) {
    throw ModeMismatch(mode_name + ": " + key + " = " + ours + " contradicts the recording " +
                       rec_name + " (" + field + " = " + theirs +
                       "); process it without --mode to use the recording's own mode, or fix one "
                       "of them");
  };
  const RadarConfig& r = mode.radar;
  if (meta.sample_rate_hz > 0 && differs(r.sample_rate_hz, meta.sample_rate_hz))
    fail("radar.sample_rate_hz", num(r.sample_rate_hz), "global.core:sample_rate",
         num(meta.sample_rate_hz));
  if (r.channels != meta.num_channels)
    fail("radar.channels", std::to_string(r.channels), "global.core:num_channels",
         std::to_string(meta.num_channels));
  if (!meta.radar) return;
  const RadarConfig& x = meta.radar->radar;
  if (differs(r.center_frequency_hz, x.center_frequency_hz))
    fail("radar.center_frequency_hz", num(r.center_frequency_hz),
         "global.radar:center_frequency_hz", num(x.center_frequency_hz));
  if (differs(r.pri_s, x.pri_s))
    fail("radar.pri_s", num(r.pri_s), "global.radar:pri_s", num(x.pri_s));
  if (r.range_gates != x.range_gates)
    fail("radar.range_gates", std::to_string(r.range_gates), "global.radar:range_gates",
         std::to_string(x.range_gates));
  if (differs(r.window_start_s, x.window_start_s) &&
      std::fabs(r.window_start_s - x.window_start_s) > 1e-15)
    fail("radar.window_start_s", num(r.window_start_s), "global.radar:window_start_s",
         num(x.window_start_s));
  const WaveformConfig &a = r.waveform, &b = x.waveform;
  if (a.type != b.type)
    fail("radar.waveform.type", to_string(a.type), "global.radar:waveform.type", to_string(b.type));
  if (a.type == WaveformType::Barker) {
    if (a.barker_length != b.barker_length)
      fail("radar.waveform.length", std::to_string(a.barker_length), "global.radar:waveform.length",
           std::to_string(b.barker_length));
    if (differs(a.chip_width_s, b.chip_width_s))
      fail("radar.waveform.chip_width_s", num(a.chip_width_s), "global.radar:waveform.chip_width_s",
           num(b.chip_width_s));
  } else {
    if (differs(a.pulse_width_s, b.pulse_width_s))
      fail("radar.waveform.pulse_width_s", num(a.pulse_width_s),
           "global.radar:waveform.pulse_width_s", num(b.pulse_width_s));
  }
  if (a.type == WaveformType::Lfm) {
    if (differs(a.bandwidth_hz, b.bandwidth_hz))
      fail("radar.waveform.bandwidth_hz", num(a.bandwidth_hz), "global.radar:waveform.bandwidth_hz",
           num(b.bandwidth_hz));
    if (a.direction != b.direction)
      fail("radar.waveform.direction", a.direction > 0 ? "up" : "down",
           "global.radar:waveform.direction", b.direction > 0 ? "up" : "down");
  }
}

class Progress {
 public:
  Progress(bool enabled, std::uint64_t total) : enabled_(enabled), total_(total) {}
  void update(std::uint64_t done, double samples_per_s) {
    if (!enabled_ || total_ == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (done != total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::fprintf(stderr, "\r[%.*s%.*s] %llu/%llu CPIs  %.1f MS/s", filled,
                 "##############################", kWidth - filled,
                 "..............................", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), samples_per_s / 1e6);
    if (done == total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void retune_range_rates(DetectionReport& report, double tuned_hz, double mode_hz) {
  if (!(tuned_hz > 0) || !differs(tuned_hz, mode_hz)) return;
  for (Detection& d : report.detections)
    d.range_rate_mps = range_rate_of_doppler_mps(d.doppler_hz, kSpeedOfLight_mps / tuned_hz);
}

ResolvedMode mode_for_recording(const io::SigmfReader& rec, const Mode& mode,
                                const std::string& origin) {
  ResolvedMode out;
  out.mode = mode;
  out.origin = origin;
  check_against(out.mode, origin, rec);
  return out;
}

ResolvedMode mode_for_recording(const io::SigmfReader& rec,
                                const std::optional<std::string>& mode_path) {
  ResolvedMode out;
  if (mode_path) {
    out.mode = load_mode_file(*mode_path);
    out.origin = *mode_path;
    check_against(out.mode, *mode_path, rec);
    return out;
  }
  const io::SigmfMeta& meta = rec.meta();
  if (!meta.radar)
    throw ModeMismatch(rec.location().meta_name +
                       ": the recording does not describe its radar mode (no radar extension in "
                       "global.core:extensions); give one with --mode FILE");
  nlohmann::json doc;
  doc["radar"] = radar_section_json(meta.radar->radar);
  auto it = meta.global.find("radar:processing");
  if (it != meta.global.end()) {
    doc["processing"] = *it;
  } else {
    Mode defaults;
    defaults.radar = meta.radar->radar;
    defaults.processing.doppler_fft_size = 1;
    while (defaults.processing.doppler_fft_size < defaults.processing.pulses)
      defaults.processing.doppler_fft_size *= 2;
    doc["processing"] = mode_file_json(defaults)["processing"];
    out.note = "the recording gives no radar:processing; using the default processing (" +
               std::to_string(defaults.processing.pulses) + " pulses per CPI, CA-CFAR, Pfa 1e-6)";
  }
  out.origin = rec.location().meta_name + " (radar extension)";
  out.mode = parse_mode_yaml(doc.dump(), out.origin);
  return out;
}

ProcessSummary process_recording(const ProcessOptions& opt, std::ostream& log,
                                 const ReportObserver& observer) {
  const auto t_start = std::chrono::steady_clock::now();
  io::SigmfReadOptions ro;
  ro.verify_checksum = opt.verify_checksum;
  ro.checksum_while_reading = true;  // one pass over the data: hashed as the CPIs are read
  io::SigmfReader reader(opt.input, ro);
  ResolvedMode rm = opt.mode ? mode_for_recording(reader, *opt.mode, opt.mode_path.value_or("mode"))
                             : mode_for_recording(reader, opt.mode_path);
  if (opt.backend) rm.mode.backend = *opt.backend;
  const BackendChoice backend = resolve_backend(rm.mode.backend);
  if (!rm.note.empty()) log << "radarpipe: note: " << rm.note << "\n";

  ProcessSummary sum;
  sum.mode_origin = rm.origin;
  sum.design_pfa = rm.mode.processing.cfar.pfa;
  sum.backend = std::string(to_string(backend.chosen)) + " (" + backend.reason + ")";

  // Nothing is planned or allocated for a mode the data cannot fill: metadata that declares a
  // huge CPI over a few bytes of data is refused here, before FFTW plans for minutes or the
  // buffers take gigabytes.
  const std::uint64_t per_cpi =
      static_cast<std::uint64_t>(rm.mode.processing.pulses) * rm.mode.radar.range_gates;
  if (reader.samples() < per_cpi)
    throw ModeMismatch(reader.location().data_name + ": holds " + std::to_string(reader.samples()) +
                       " samples per channel; one CPI of the mode (" + rm.origin + ") needs " +
                       std::to_string(per_cpi) + " (processing.pulses " +
                       std::to_string(rm.mode.processing.pulses) + " x radar.range_gates " +
                       std::to_string(rm.mode.radar.range_gates) + "): nothing to process");

  ChainOptions co;
  co.threads = opt.threads;
  co.fft_wisdom = opt.fft_wisdom;
  co.cfar_factors = opt.cfar_factors;
  co.log = &log;
  const std::unique_ptr<SignalChain> chain = make_chain(rm.mode, backend, co);
  ClutterMapStore map_store(clutter_map_path(rm.mode, opt.clutter_map), rm.mode, log);
  sum.clutter_map_file = map_store.path();
  sum.clutter_map_loaded = map_store.load(*chain);
  sum.clutter_map_loaded_cpis = map_store.loaded_cpis();
  io::RecordingCpiSource source(reader, rm.mode.processing.pulses, rm.mode.radar.range_gates,
                                rm.mode.radar.pri_s);
  sum.leftover_samples = source.leftover_samples();
  sum.leftover_bytes = source.leftover_bytes();

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (opt.output.empty()) {
    out = nullptr;
  } else if (opt.output != "-") {
    file.open(opt.output, std::ios::trunc);
    if (!file) throw std::runtime_error(opt.output + ": cannot create the output file");
    out = &file;
  }
  std::ofstream ast;
  std::unique_ptr<io::asterix::Encoder> encoder;
  std::vector<std::vector<std::uint8_t>> datagrams;
  if (!opt.asterix_output.empty()) {
    if (!rm.mode.asterix.present)
      throw ConfigError("asterix", rm.origin +
                                       ": --asterix needs an asterix: section (SAC/SIC) and an "
                                       "antenna: section (azimuths) in the mode");
    ast.open(opt.asterix_output, std::ios::binary | std::ios::trunc);
    if (!ast) throw std::runtime_error(opt.asterix_output + ": cannot create the ASTERIX output");
    const ModeGeometry g = derive_geometry(rm.mode);
    encoder = std::make_unique<io::asterix::Encoder>(rm.mode.asterix, rm.mode.antenna,
                                                     g.range_bin_m, g.cpi_duration_s);
  }
  const ReportAnnotator annotate(rm.mode);
  Progress progress(opt.progress, source.slots().size());
  const auto t_loop = std::chrono::steady_clock::now();
  DetectionReport r;  // reused: copy-assignment keeps its capacity from CPI to CPI
  const std::size_t samples_per_cpi =
      rm.mode.radar.channels * rm.mode.processing.pulses * rm.mode.radar.range_gates;
  auto handle = [&](const DetectionReport& report, const io::CpiSlot& slot) {
    r = report;
    annotate.apply(r, slot.frequency_hz ? *slot.frequency_hz : 0.0);
    if (observer) observer(r, slot, *chain);
    if (out) {
      *out << io::report_to_json(r).dump() << "\n";
      if (!*out) throw std::runtime_error(opt.output + ": write error (disk full?)");
    }
    if (encoder) {
      encoder->encode(r, datagrams);
      for (const auto& d : datagrams)
        ast.write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
      if (!ast) throw std::runtime_error(opt.asterix_output + ": write error (disk full?)");
    }
    if (sum.cpis == 0)
      sum.first_report_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    ++sum.cpis;
    sum.detections += r.detections.size();
    sum.cells += r.cells;
    sum.crossings += r.crossings;
    sum.map_cells += r.map_cells;
    sum.map_tested += r.map_tested;
    sum.map_crossings += r.map_crossings;
    sum.samples += samples_per_cpi;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_loop).count();
    progress.update(sum.cpis, s > 0 ? static_cast<double>(sum.samples) / s : 0);
  };
  // The recording is read once, ahead of the chain: while the chain computes CPI k, the
  // reader reads CPI k + 1, hashing and converting it in the same pass. A chain that computes
  // inside submit() (depth 1: the CPU's) gets two buffers of ours, one read while the other is
  // computed; a deeper chain (the GPU's slots) is read into straight where it reads from
  // (next_input(): pinned memory), while the device computes the CPI before.
  const SampleFormat format = reader.stored_as_ci16() && chain->accepts(SampleFormat::Ci16)
                                  ? SampleFormat::Ci16
                                  : SampleFormat::Cf32;
  const bool own_buffers = chain->depth() == 1;
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t reader_threads = opt.reader_threads ? opt.reader_threads
                                     : own_buffers      ? std::min<std::size_t>(2, hw)
                                                        : std::max<std::size_t>(2, hw / 2);
  RecordingReader ahead(reader, source, format, reader_threads);
  std::vector<AlignedBuffer<unsigned char>> buffers;
  if (own_buffers)
    for (int i = 0; i < 2; ++i) buffers.emplace_back(ahead.cpi_bytes(), kUninitialised);
  const std::vector<io::CpiSlot>& slots = source.slots();
  std::deque<std::size_t> pending;  // the CPIs in flight, oldest first
  auto collect_one = [&] {
    handle(*chain->collect().report, slots[pending.front()]);
    pending.pop_front();
  };
  try {
    if (!slots.empty()) ahead.start(0, own_buffers ? buffers[0].data() : chain->next_input());
    for (std::size_t k = 0; k < slots.size(); ++k) {
      ahead.wait();
      ChainJob job;
      job.cpi = slots[k].cpi;
      job.timestamp_ns = slots[k].timestamp_ns;
      job.format = format;
      job.scale = ahead.scale();
      job.in = own_buffers ? buffers[k % 2].data() : nullptr;  // null: in next_input() already
      const bool more = k + 1 < slots.size();
      if (own_buffers && more) ahead.start(k + 1, buffers[(k + 1) % 2].data());
      chain->submit(job);
      pending.push_back(k);
      if (chain->in_flight() == chain->depth()) collect_one();
      if (!own_buffers && more) ahead.start(k + 1, chain->next_input());
    }
    while (chain->in_flight() > 0) collect_one();
    sum.checksum_verified = ahead.finish();
  } catch (const std::exception& e) {
    // The reports written so far stay; the last line says they are not the whole recording
    // (docs/detections.md "Incomplete output").
    if (out && out->good()) {
      nlohmann::json last;
      last["incomplete"] = {
          {"cpis_written", sum.cpis}, {"cpis_in_recording", slots.size()}, {"error", e.what()}};
      *out << last.dump() << "\n";
      out->flush();
    }
    throw;
  }
  if (out) out->flush();
  sum.clutter_map_saved = map_store.save(*chain);
  if (encoder) {
    ast.flush();
    if (!ast) throw std::runtime_error(opt.asterix_output + ": write error (disk full?)");
    const io::asterix::Counts& c = encoder->counts();
    sum.asterix_datagrams = c.datagrams;
    sum.asterix_plots = c.plots;
    for (const auto& kv : c.plots_dropped) sum.asterix_plots_dropped += kv.second;
  }
  const auto t_end = std::chrono::steady_clock::now();
  sum.seconds = std::chrono::duration<double>(t_end - t_start).count();
  sum.loop_seconds = std::chrono::duration<double>(t_end - t_loop).count();
  sum.setup_seconds = std::chrono::duration<double>(t_loop - t_start).count();
  return sum;
}

}  // namespace radarpipe
