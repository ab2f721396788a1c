#include "pipeline/stream/recorder.hpp"

#include <chrono>
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "io/iq_frame.hpp"
#include "io/link_message.hpp"
#include "io/sigmf_file.hpp"
#include "io/time.hpp"
#include "io/vrt_socket.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/ingest.hpp"
#include "pipeline/stream/link_security.hpp"
#include "pipeline/stream/link_transport.hpp"
#include "pipeline/stream/vrt_ingest.hpp"

namespace radarpipe::stream {

using io::LinkKind;

struct Recorder::Impl {
  RecordOptions opt;
  std::size_t cube_bytes = 0;
  std::shared_ptr<BufferPool> pool;
  std::unique_ptr<LinkSecurity> security;  // outlives the sockets
  zmq::socket_t iq_in, ingest_out, cubes_in;
  std::unique_ptr<VrtSource> vrt;
  VrtCounters vrt_counters;
  AssemblerCounters frames;
  std::map<std::string, std::string> bound;
  std::string input;
  std::unique_ptr<io::SigmfWriter> writer;
  std::atomic<bool> stopping{false};
};

Recorder::Recorder(zmq::context_t& ctx, RecordOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = std::move(options);
  RecordOptions& opt = m.opt;
  opt.mode.validate();
  const Mode& mode = opt.mode;
  if (opt.from.empty()) opt.from = mode.input.from;
  if (opt.from.empty())
    throw std::invalid_argument("--from: the IQ stream's endpoint (or the mode's input.from)");
  if (opt.output.empty()) throw std::invalid_argument("-o: the recording's name is required");
  const bool vrt = io::is_vrt_endpoint(opt.from);
  if (opt.datatype.empty())
    opt.datatype = vrt && mode.input.vrt.payload_format != VrtPayload::Cf32 ? "ci16_le" : "cf32_le";
  if (opt.datatype != "ci16_le" && opt.datatype != "cf32_le")
    throw std::invalid_argument("--datatype: '" + opt.datatype + "' is not ci16_le or cf32_le");
  if (opt.scale == 0) opt.scale = mode.input.vrt.scale;
  if (!(opt.scale > 0) || !std::isfinite(opt.scale))
    throw std::invalid_argument("--scale: " + std::to_string(opt.scale) + " must be > 0");

  const std::size_t C = mode.radar.channels, P = mode.processing.pulses, N = mode.radar.range_gates;
  m.cube_bytes = C * P * N * sizeof(cf32);
  m.pool = std::make_shared<BufferPool>(mode.pipeline.cpis_in_flight, m.cube_bytes);
  const std::string cubes = inproc_endpoint(this, "record");
  m.cubes_in = zmq::socket_t(ctx, zmq::socket_type::pull);
  m.cubes_in.set(zmq::sockopt::rcvhwm, static_cast<int>(mode.pipeline.cpis_in_flight) + 2);
  m.cubes_in.bind(cubes);
  m.ingest_out = zmq::socket_t(ctx, zmq::socket_type::push);
  m.ingest_out.set(zmq::sockopt::sndhwm, static_cast<int>(mode.pipeline.cpis_in_flight) + 2);
  m.ingest_out.set(zmq::sockopt::linger, 0);
  m.ingest_out.connect(cubes);
  if (vrt) {
    m.vrt = std::make_unique<VrtSource>(mode, opt.from, m.vrt_counters);
    m.bound["iq"] = m.vrt->bound();
    m.input = m.vrt->describe();
  } else {
    std::string bound_at;
    m.security = std::make_unique<LinkSecurity>(ctx, mode.security, "radarpipe record", std::cerr);
    m.iq_in = open_frame_input(ctx, opt.from, m.cube_bytes, *m.security, m.input, bound_at);
    if (!bound_at.empty()) m.bound["iq"] = bound_at;
  }

  io::SigmfMeta meta;
  meta.global["core:description"] = "live IQ recorded by radarpipe from " + opt.from;
  meta.global["core:recorder"] = "radarpipe record 0.1.0";
  set_radar_extension(meta, mode.radar, opt.datatype == "ci16_le" ? opt.scale : 1.0);
  meta.global["radar:processing"] = mode_file_json(mode)["processing"];
  meta.captures.clear();
  io::SigmfWriteOptions wo;
  wo.datatype = opt.datatype;
  wo.scale = opt.datatype == "ci16_le" ? opt.scale : 1.0;
  wo.archive = opt.archive;
  m.writer = std::make_unique<io::SigmfWriter>(opt.output, meta, wo);
}

Recorder::~Recorder() = default;

const std::map<std::string, std::string>& Recorder::bound() const {
  return impl_->bound;
}

std::string Recorder::input() const {
  return impl_->input;
}

RecordSummary Recorder::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  const Mode& mode = m.opt.mode;
  const std::size_t P = mode.processing.pulses, N = mode.radar.range_gates;
  const double cpi_ns = static_cast<double>(P) * mode.radar.pri_s * 1e9;
  RecordSummary sum;
  const auto start = std::chrono::steady_clock::now();

  std::thread ingest([&m] {
    try {
      if (m.vrt)
        m.vrt->run(m.ingest_out, m.pool, m.frames, m.stopping);
      else
        ingest_loop(m.opt.mode, m.iq_in, m.ingest_out, m.pool, m.frames, m.stopping);
    } catch (const std::exception& e) {
      std::cerr << "radarpipe record: ingest stopped: " << e.what() << "\n";
      m.stopping = true;
    }
  });

  // The capture being written: the CPI it starts at, its time and frequency.
  bool have_capture = false;
  std::uint64_t capture_cpi = 0, next_cpi = 0;
  std::int64_t capture_ns = 0;
  double capture_hz = 0;
  // The ingest's drop count as each CPI left it (link headers carry it), for the gaps.
  std::uint64_t dropped_at_last = 0;
  auto write_cpi = [&](const io::LinkHeader& h, const cf32* cube) {
    const double hz =
        h.center_frequency_hz > 0 ? h.center_frequency_hz : mode.radar.center_frequency_hz;
    // The reader dates CPI j of a capture at its time + round(j P PRI) ns (recording_source.cpp):
    // a CPI that the rule would misdate, or that does not follow on, or is tuned elsewhere,
    // starts a capture of its own.
    const bool follows =
        have_capture && h.cpi == next_cpi && hz == capture_hz &&
        h.timestamp_ns ==
            capture_ns + std::llround(static_cast<double>(h.cpi - capture_cpi) * cpi_ns);
    io::SigmfMeta& meta = m.writer->meta();
    const std::uint64_t at = m.writer->samples_written();
    if (have_capture && h.cpi != next_cpi) {
      io::SigmfAnnotation a;
      a.sample_start = at;
      a.fields = {
          {"core:label", "gap"},
          {"core:comment", "CPIs " + std::to_string(next_cpi) + " .. " + std::to_string(h.cpi - 1) +
                               " not recorded; the ingest counted " +
                               std::to_string(h.cpis_dropped - dropped_at_last) +
                               " CPIs dropped meanwhile (by cause for the whole recording: "
                               "radar:cpis_dropped_by_cause)"},
          {"core:generator", "radarpipe record"}};
      meta.annotations.push_back(a);
      ++sum.gaps;
    }
    dropped_at_last = h.cpis_dropped;
    if (!follows) {
      io::SigmfCapture cap;
      cap.sample_start = at;
      cap.frequency_hz = hz;
      cap.datetime = io::format_rfc3339_ns(h.timestamp_ns);
      cap.datetime_ns = h.timestamp_ns;
      cap.cpi = h.cpi;
      if (!meta.captures.empty() && meta.captures.back().sample_start == at)
        meta.captures.back() = cap;
      else
        meta.captures.push_back(cap);
      have_capture = true;
      capture_cpi = h.cpi;
      capture_ns = h.timestamp_ns;
      capture_hz = hz;
    }
    m.writer->write(cube, P * N, P * N);
    next_cpi = h.cpi + 1;
    ++sum.cpis;
  };

  std::vector<zmq::message_t> parts;
  bool shutdown_seen = false;
  while (!shutdown_seen) {
    if ((stop.load() || (m.opt.max_cpis && sum.cpis >= m.opt.max_cpis)) && !m.stopping.load())
      m.stopping = true;
    zmq::pollitem_t item{static_cast<void*>(m.cubes_in), 0, ZMQ_POLLIN, 0};
    if (poll_some(&item, 1, 50) == 0) continue;
    while (recv_message(m.cubes_in, parts)) {
      io::LinkHeader h;
      if (parts.size() != 2 ||
          !io::decode_link_header(parts[0].data(), parts[0].size(), parts[1].size(), h).empty())
        continue;  // the ingest's own messages: cannot happen
      if (h.kind == LinkKind::Shutdown) {
        shutdown_seen = true;
        break;
      }
      if (h.kind == LinkKind::EndOfStream) {
        if (m.opt.exit_at_end) m.stopping = true;
        continue;
      }
      if (h.kind != LinkKind::Cube) continue;
      if (m.opt.max_cpis && sum.cpis >= m.opt.max_cpis) continue;
      write_cpi(h, static_cast<const cf32*>(parts[1].data()));
    }
  }
  ingest.join();
  if (have_capture && m.frames.cpis_dropped.load() > dropped_at_last) {
    io::SigmfAnnotation a;
    a.sample_start = m.writer->samples_written();
    a.fields = {
        {"core:label", "gap"},
        {"core:comment", "CPIs after " + std::to_string(next_cpi - 1) +
                             " not recorded; the ingest counted " +
                             std::to_string(m.frames.cpis_dropped.load() - dropped_at_last) +
                             " CPIs dropped after it"},
        {"core:generator", "radarpipe record"}};
    m.writer->meta().annotations.push_back(a);
    ++sum.gaps;
  }
  nlohmann::json by_cause = nlohmann::json::object();
  for (int c = 0; c < kCpiDropCauses; ++c)
    if (m.frames.dropped[c].load())
      by_cause[to_string(static_cast<CpiDrop>(c))] = m.frames.dropped[c].load();
  m.writer->meta().global["radar:cpis_dropped_by_cause"] = by_cause;
  m.writer->meta().global["radar:frames_rejected"] = m.frames.frames_rejected.load();
  if (m.writer->meta().captures.empty()) {
    io::SigmfCapture cap;  // nothing recorded: an empty, valid recording
    cap.fields = {{"core:sample_start", 0}};
    m.writer->meta().captures.push_back(cap);
  }
  sum.captures = m.writer->meta().captures.size();
  m.writer->close();
  sum.samples = m.writer->samples_written();
  sum.clipped = m.writer->clipped();
  sum.files = m.writer->outputs();
  sum.cpis_dropped = m.frames.cpis_dropped.load();
  for (int c = 0; c < kCpiDropCauses; ++c)
    if (m.frames.dropped[c].load())
      sum.dropped_by_cause[to_string(static_cast<CpiDrop>(c))] = m.frames.dropped[c].load();
  sum.frames_rejected = m.frames.frames_rejected.load();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return sum;
}

}  // namespace radarpipe::stream
