#include "pipeline/stream/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "io/asterix.hpp"
#include "io/detection_json.hpp"
#include "io/link_message.hpp"
#include "io/stream_messages.hpp"
#include "io/udp_sender.hpp"
#include "pipeline/annotate.hpp"
#include "pipeline/backend.hpp"
#include "pipeline/chain.hpp"
#if defined(RADARPIPE_HAVE_CUDA)
#include "pipeline/cuda_chain.hpp"
#endif
#include "pipeline/process.hpp"
#include "pipeline/stream/assembler.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/latency.hpp"

namespace radarpipe::stream {
namespace {

using steady = std::chrono::steady_clock;
using io::LinkHeader;
using io::LinkKind;

std::int64_t utc_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Collector messages, from the last local segment to the main thread (first part).
constexpr char kReport = 'R';      // R | topic | payload
constexpr char kReportCopy = 'C';  // C | topic | payload: the same report in a second format
constexpr char kEnd = 'E';         // E | topic | payload: the IQ stream ended
constexpr char kAsterix = 'A';     // A | "asterix" | one ASTERIX data block

// Sends a link message: header, then the payload as a zero-copy message that returns `buffer`
// to `pool` once ZeroMQ is done with it. Retries while the peer is at its high-water mark
// until `give_up` is set; returns false (the buffer back in its pool) if it gave up.
bool send_link(zmq::socket_t& s, const LinkHeader& h, void* buffer, BufferPool* pool,
               const std::atomic<bool>& give_up) {
  const auto bytes = io::encode_link_header(h);
  zmq::message_t payload;
  if (buffer) payload = zmq::message_t(buffer, h.payload_bytes(), &BufferPool::release_fn, pool);
  for (;;) {
    zmq::message_t head(bytes.data(), bytes.size());
    if (s.send(head, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      s.send(payload, zmq::send_flags::none);
      return true;
    }
    if (give_up.load()) return false;
    zmq::pollitem_t item{static_cast<void*>(s), 0, ZMQ_POLLOUT, 0};
    poll_some(&item, 1, 50);
  }
}

// Receives one whole multipart message without waiting; false if none is there.
bool recv_message(zmq::socket_t& s, std::vector<zmq::message_t>& parts) {
  parts.clear();
  zmq::message_t part;
  if (!s.recv(part, zmq::recv_flags::dontwait)) return false;
  parts.push_back(std::move(part));
  while (parts.back().more()) {
    zmq::message_t next;
    (void)s.recv(next, zmq::recv_flags::none);
    parts.push_back(std::move(next));
  }
  return true;
}

std::string endpoint_name(const void* self, const char* what) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "inproc://radarpipe-%d-%p-%s", static_cast<int>(getpid()), self,
                what);
  return buf;
}

}  // namespace

struct Segment {
  SegmentConfig cfg;
  std::size_t index = 0;  // in the mode's list
  std::unique_ptr<SignalChain> chain;
  zmq::socket_t in, out;
  bool input_local = false;  // fed by this process (waits for its Shutdown marker)
  bool next_local = false;   // the next segment runs here too
  bool last_local = false;
  bool last_in_mode = false;
  BufferPool* upstream_pool = nullptr;   // the local sender's pool: payloads are used in place
  std::unique_ptr<BufferPool> out_pool;  // for a cube or maps output
  AlignedBuffer<unsigned char> in_copy;  // payloads from another process land here
  LinkKind in_kind = LinkKind::Cube, out_kind = LinkKind::Cube;
  const std::atomic<bool>* upstream_done = nullptr;  // the local sender has exited
  std::atomic<bool> done{false};
  std::uint32_t in_dims[3] = {0, 0, 0}, out_dims[3] = {0, 0, 0};
  std::thread thread;
};

struct StreamRunner::Impl {
  zmq::context_t& ctx;
  RunOptions opt;
  ModeGeometry geometry;
  BackendChoice backend;
  std::size_t cube_bytes = 0, map_bytes = 0;
  std::vector<std::unique_ptr<Segment>> segs;
  bool has_ingest = false, has_output = false;
  std::string process_name;

  zmq::socket_t iq_in, ingest_out, collector_in, pub, tel;
  std::string collector_ep;
  std::unique_ptr<BufferPool> ingest_pool;
  std::thread ingest;

  std::atomic<bool> stopping{false};  // the ingest stops, segments finish and exit
  std::atomic<bool> ingest_done{false};
  std::atomic<int> running{0};

  // Telemetry.
  AssemblerCounters counters;
  std::atomic<std::uint64_t> link_rejected{0}, cpis_processed{0}, samples{0}, crossings{0},
      crossings_last{0}, detections{0}, deadline_misses{0}, reports_published{0},
      reports_dropped{0};
  LatencyWindow stage_latency[kStageCount], queue_latency, e2e_latency;
  steady::time_point start = steady::now();
  std::atomic<std::int64_t> first_cpi_ns{0};
  std::uint64_t report_sequence = 0;  // the last segment's thread only
  DetectionReport tuned;              // the last segment's thread only
  std::unique_ptr<ReportAnnotator> annotator;
  // ASTERIX (the last segment's thread; the counts are copied under asterix_mutex).
  std::unique_ptr<io::asterix::Encoder> asterix;
  std::unique_ptr<io::UdpSender> udp;
  std::vector<std::vector<std::uint8_t>> datagrams;
  std::uint64_t udp_errors = 0;
  mutable std::mutex asterix_mutex;
  AsterixCounts asterix_counts;
  mutable std::mutex interval_mutex;
  mutable steady::time_point last_tick = steady::now();
  mutable std::uint64_t last_samples = 0, last_crossings = 0, last_detections = 0,
                        last_processed = 0;

  Impl(zmq::context_t& c, RunOptions o) : ctx(c), opt(std::move(o)) {}

  void ingest_loop();
  void segment_loop(Segment& s);
  void finish_report(Segment& s, const DetectionReport& r, const LinkHeader& h);
  TelemetrySnapshot snapshot(bool advance_interval) const;
  // count: 2 a report (published and dropped are counted), 1 a second copy of a report (only a
  // drop is counted), 0 anything else.
  void publish(zmq::socket_t& sock, const std::string& topic, const std::string& payload,
               int count);
  bool json() const { return opt.format != RunOptions::Format::Protobuf; }
  bool protobuf() const { return opt.format != RunOptions::Format::Json; }
};

StreamRunner::StreamRunner(zmq::context_t& ctx, RunOptions options)
    : impl_(std::make_unique<Impl>(ctx, std::move(options))) {
  Impl& m = *impl_;
  RunOptions& opt = m.opt;
  opt.mode.validate();
  const Mode& mode = opt.mode;
  m.geometry = derive_geometry(mode);
  m.backend = resolve_backend(mode.backend);
  const auto& all = mode.pipeline.segments;

  // Which segments run here: a contiguous run of the mode's list.
  std::vector<std::size_t> chosen;
  if (opt.segments.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i) chosen.push_back(i);
  } else {
    for (const std::string& name : opt.segments) {
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const SegmentConfig& s) { return s.name == name; });
      if (it == all.end()) {
        std::string names;
        for (const SegmentConfig& s : all) names += (names.empty() ? "" : ", ") + s.name;
        throw std::invalid_argument("--segment " + name + ": the mode has no such segment (" +
                                    names + ")");
      }
      chosen.push_back(static_cast<std::size_t>(it - all.begin()));
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (std::size_t k = 1; k < chosen.size(); ++k)
      if (chosen[k] != chosen[k - 1] + 1)
        throw std::invalid_argument("--segment: " + all[chosen[k - 1]].name + " and " +
                                    all[chosen[k]].name +
                                    " are not neighbours; one process runs a contiguous run of "
                                    "segments");
  }
  for (const auto& kv : opt.link_overrides)
    if (std::none_of(all.begin() + 1, all.end(),
                     [&](const SegmentConfig& s) { return s.name == kv.first; }))
      throw std::invalid_argument("--link " + kv.first + "=" + kv.second +
                                  ": no segment after the first is called " + kv.first);
  m.has_ingest = chosen.front() == 0;
  m.has_output = chosen.back() == all.size() - 1;
  if (m.has_ingest && opt.from.empty())
    throw std::invalid_argument("--from: this process runs the first segment (" + all[0].name +
                                ") and needs the IQ stream's endpoint");
  if (m.has_output && opt.publish.empty())
    throw std::invalid_argument("--publish: this process runs the last segment (" +
                                all.back().name + ") and needs an endpoint to publish on");
  m.annotator = std::make_unique<ReportAnnotator>(mode);
  if (m.has_output && mode.asterix.present) {
    m.asterix = std::make_unique<io::asterix::Encoder>(
        mode.asterix, mode.antenna, m.geometry.range_bin_m, m.geometry.cpi_duration_s);
    const std::string dest =
        opt.asterix_destination.empty() ? mode.asterix.destination : opt.asterix_destination;
    if (!dest.empty() && dest != "-") {
      m.udp = std::make_unique<io::UdpSender>(dest, mode.asterix.ttl, mode.asterix.interface);
      bound_["asterix"] = "udp://" + m.udp->resolved();
    }
    m.datagrams.reserve(16);
  } else if (!opt.asterix_destination.empty() && opt.asterix_destination != "-") {
    throw std::invalid_argument(
        "--asterix " + opt.asterix_destination +
        (m.has_output ? ": the mode has no asterix: section (SAC/SIC, antenna azimuths)"
                      : ": this process does not run the last segment; ASTERIX leaves from the "
                        "process that publishes the reports"));
  }
  if (!(opt.telemetry_interval_s > 0.0))
    throw std::invalid_argument(
        "--telemetry-interval: " + std::to_string(opt.telemetry_interval_s) + " s must be > 0");

  const std::size_t C = mode.radar.channels, P = mode.processing.pulses, N = mode.radar.range_gates,
                    M = mode.processing.doppler_fft_size;
  m.cube_bytes = C * P * N * sizeof(cf32);
  m.map_bytes = m.geometry.maps * M * N * sizeof(float);
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads =
      opt.threads ? opt.threads : std::max<std::size_t>(1, hw / chosen.size());

  m.process_name = "radarpipe run pid " + std::to_string(getpid()) + ", segments ";
  for (std::size_t k = 0; k < chosen.size(); ++k)
    m.process_name += (k ? "+" : "") + all[chosen[k]].name;

  // Plan every local segment.
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    auto s = std::make_unique<Segment>();
    s->cfg = all[chosen[k]];
    s->index = chosen[k];
    s->input_local = k > 0 || m.has_ingest;
    s->next_local = k + 1 < chosen.size();
    s->last_local = k + 1 == chosen.size();
    s->last_in_mode = s->index == all.size() - 1;
    ChainOptions co;
    co.threads = threads;
    co.first = s->cfg.first;
    co.last = s->cfg.last;
    s->chain = make_chain(mode, m.backend, co);
    auto dims_of = [&](LinkKind kind, std::uint32_t* d) {
      d[0] = static_cast<std::uint32_t>(kind == LinkKind::Cube ? C : m.geometry.maps);
      d[1] = static_cast<std::uint32_t>(kind == LinkKind::Cube ? P : M);
      d[2] = static_cast<std::uint32_t>(N);
    };
    s->in_kind = s->cfg.first == Stage::Detection ? LinkKind::Maps : LinkKind::Cube;
    dims_of(s->in_kind, s->in_dims);
    if (s->cfg.last != Stage::Detection) {
      s->out_kind = s->cfg.last == Stage::Doppler ? LinkKind::Maps : LinkKind::Cube;
      dims_of(s->out_kind, s->out_dims);
      s->out_pool = std::make_unique<BufferPool>(
          mode.pipeline.link_queue + 2, s->out_kind == LinkKind::Cube ? m.cube_bytes : m.map_bytes);
    }
    // Over inproc:// from this process the payload is the sender's own pooled buffer; over
    // ipc:// or tcp:// it is ZeroMQ's, and is copied here (aligned) before use.
    auto ov = opt.link_overrides.find(s->cfg.name);
    const std::string link = ov != opt.link_overrides.end() ? ov->second : s->cfg.from;
    const bool in_place =
        s->index == 0 || (s->input_local && link.find("inproc://") != std::string::npos);
    if (!in_place)
      s->in_copy =
          AlignedBuffer<unsigned char>(s->in_kind == LinkKind::Cube ? m.cube_bytes : m.map_bytes);
    m.segs.push_back(std::move(s));
  }
  for (std::size_t k = 1; k < m.segs.size(); ++k) {
    m.segs[k]->upstream_pool = m.segs[k - 1]->out_pool.get();
    m.segs[k]->upstream_done = &m.segs[k - 1]->done;
  }

  // Sockets. Everything that binds does so before anything here connects.
  const int hwm = static_cast<int>(mode.pipeline.link_queue);
  m.collector_ep = endpoint_name(this, "collector");
  m.collector_in = zmq::socket_t(ctx, zmq::socket_type::pull);
  m.collector_in.set(zmq::sockopt::rcvhwm, 0);
  m.collector_in.bind(m.collector_ep);

  std::map<std::string, std::string> resolved;  // segment name -> its input's endpoint
  for (std::size_t k = 0; k < m.segs.size(); ++k) {
    Segment& s = *m.segs[k];
    s.in = zmq::socket_t(ctx, zmq::socket_type::pull);
    s.in.set(zmq::sockopt::rcvhwm, hwm);
    s.in.set(zmq::sockopt::linger, 0);
    if (s.index == 0) {
      const std::string ep = endpoint_name(this, "ingest");
      s.in.bind(ep);
    } else {
      auto ov = opt.link_overrides.find(s.cfg.name);
      const std::string text = ov != opt.link_overrides.end() ? ov->second : s.cfg.from;
      const Endpoint e = parse_endpoint(text, true, "link into segment " + s.cfg.name);
      const std::string where = attach(s.in, e, "link into segment " + s.cfg.name);
      if (e.bind) bound_["link " + s.cfg.name] = where;
      resolved[s.cfg.name] = where;
    }
  }
  for (std::size_t k = 0; k < m.segs.size(); ++k) {
    Segment& s = *m.segs[k];
    s.out = zmq::socket_t(ctx, zmq::socket_type::push);
    s.out.set(zmq::sockopt::linger, opt.linger_ms);
    if (s.last_in_mode) {
      s.out.set(zmq::sockopt::sndhwm, 0);
      s.out.connect(m.collector_ep);
      continue;
    }
    s.out.set(zmq::sockopt::sndhwm, hwm);
    const SegmentConfig& next = all[s.index + 1];
    auto ov = opt.link_overrides.find(next.name);
    const std::string text = ov != opt.link_overrides.end() ? ov->second : next.from;
    // The receiving segment binds unless its endpoint says '>'; this side does the opposite.
    const Endpoint theirs = parse_endpoint(text, true, "link into segment " + next.name);
    Endpoint mine{theirs.address, !theirs.bind};
    // A segment of this process bound it: connect to where it really is (tcp://...:* resolved).
    if (s.next_local && theirs.bind) mine.address = resolved.at(next.name);
    const std::string where = attach(s.out, mine, "link from segment " + s.cfg.name);
    if (mine.bind) bound_["link " + next.name] = where;
  }
  if (m.has_ingest) {
    m.ingest_pool = std::make_unique<BufferPool>(mode.pipeline.cpis_in_flight, m.cube_bytes);
    m.segs.front()->upstream_pool = m.ingest_pool.get();
    m.segs.front()->upstream_done = &m.ingest_done;
    m.ingest_out = zmq::socket_t(ctx, zmq::socket_type::push);
    m.ingest_out.set(zmq::sockopt::sndhwm, static_cast<int>(mode.pipeline.cpis_in_flight) + 2);
    m.ingest_out.set(zmq::sockopt::linger, 0);
    m.ingest_out.connect(endpoint_name(this, "ingest"));
    m.iq_in = zmq::socket_t(ctx, zmq::socket_type::pull);
    m.iq_in.set(zmq::sockopt::rcvhwm, 64);
    m.iq_in.set(zmq::sockopt::linger, 0);
    const Endpoint e = parse_endpoint(opt.from, false, "--from");
    const std::string where = attach(m.iq_in, e, "--from (IQ stream)");
    if (e.bind) bound_["iq"] = where;
  }
  if (m.has_output) {
    m.pub = zmq::socket_t(ctx, zmq::socket_type::xpub);
    m.pub.set(zmq::sockopt::xpub_verbose, 1);
    m.pub.set(zmq::sockopt::xpub_nodrop, 1);
    m.pub.set(zmq::sockopt::sndhwm, 10000);
    m.pub.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.publish, true, "--publish");
    const std::string where = attach(m.pub, e, "--publish");
    bound_["publish"] = where;
  }
  if (!opt.telemetry.empty()) {
    m.tel = zmq::socket_t(ctx, zmq::socket_type::pub);
    m.tel.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.telemetry, true, "--telemetry");
    bound_["telemetry"] = attach(m.tel, e, "--telemetry");
  } else if (!m.has_output && !opt.publish.empty()) {
    // A process without the last segment may still publish telemetry on --publish.
    m.pub = zmq::socket_t(ctx, zmq::socket_type::xpub);
    m.pub.set(zmq::sockopt::xpub_verbose, 1);
    m.pub.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.publish, true, "--publish");
    bound_["publish"] = attach(m.pub, e, "--publish");
  }
}

StreamRunner::~StreamRunner() {
  Impl& m = *impl_;
  m.stopping = true;
  if (m.ingest.joinable()) m.ingest.join();
  for (auto& s : m.segs)
    if (s->thread.joinable()) s->thread.join();
}

std::string StreamRunner::backend() const {
  return std::string(to_string(impl_->backend.chosen)) + " (" + impl_->backend.reason + ")";
}

std::string StreamRunner::segment_names() const {
  std::string n;
  for (const auto& s : impl_->segs) n += (n.empty() ? "" : "+") + s->cfg.name;
  return n;
}

void StreamRunner::Impl::ingest_loop() {
  const Mode& mode = opt.mode;
  auto emit = [&](const AssembledCpi& a) {
    LinkHeader h;
    h.kind = LinkKind::Cube;
    h.stream_id = a.stream_id;
    h.cpi = a.cpi;
    h.timestamp_ns = a.timestamp_ns;
    h.ingest_ns = utc_now_ns();
    h.dims[0] = static_cast<std::uint32_t>(mode.radar.channels);
    h.dims[1] = static_cast<std::uint32_t>(mode.processing.pulses);
    h.dims[2] = static_cast<std::uint32_t>(mode.radar.range_gates);
    h.center_frequency_hz = a.center_frequency_hz;
    h.cpis_dropped = counters.cpis_dropped.load();
    h.frames_rejected = counters.frames_rejected.load();
    // The queue holds every buffer of the pool, so this never waits; if it ever could not take
    // the CPI, the CPI is dropped (and its buffer returned) rather than block the ingest.
    std::atomic<bool> now{true};
    if (!send_link(ingest_out, h, a.buffer, ingest_pool.get(), now))
      counters.drop(CpiDrop::Overrun);
  };
  CpiAssembler assembler(
      mode, counters, [&] { return ingest_pool->try_acquire(); },
      [&](void* b) { ingest_pool->release(b); }, emit);
  std::vector<zmq::message_t> parts;
  auto marker = [&](LinkKind kind, std::uint32_t stream) {
    LinkHeader h;
    h.kind = kind;
    h.stream_id = stream;
    h.cpis_dropped = counters.cpis_dropped.load();
    h.frames_rejected = counters.frames_rejected.load();
    std::atomic<bool> never{false};
    send_link(ingest_out, h, nullptr, nullptr, never);
  };
  std::uint32_t stream = 0;
  while (!stopping.load()) {
    zmq::pollitem_t item{static_cast<void*>(iq_in), 0, ZMQ_POLLIN, 0};
    if (poll_some(&item, 1, 50) == 0) continue;
    // Drain what is there, checking for a stop between messages.
    for (int burst = 0; burst < 256 && !stopping.load(); ++burst) {
      if (!recv_message(iq_in, parts)) break;
      if (parts.size() != 2) {
        assembler.reject_parts(parts.size());
        continue;
      }
      const CpiAssembler::Result r =
          assembler.push(parts[0].data(), parts[0].size(), parts[1].data(), parts[1].size());
      if (r.end_of_stream) {
        stream = r.stream_id;
        marker(LinkKind::EndOfStream, stream);
      }
    }
  }
  assembler.abort(CpiDrop::Shutdown);
  marker(LinkKind::Shutdown, stream);
}

void StreamRunner::Impl::publish(zmq::socket_t& sock, const std::string& topic,
                                 const std::string& payload, int count) {
  // XPUB_NODROP: a subscriber at its high-water mark makes the send fail rather than lose the
  // message silently; wait a little for it, then count the report as dropped.
  const auto deadline = steady::now() + std::chrono::milliseconds(200);
  for (;;) {
    zmq::message_t t(topic.data(), topic.size());
    if (sock.send(t, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      zmq::message_t p(payload.data(), payload.size());
      sock.send(p, zmq::send_flags::none);
      if (count == 2) reports_published.fetch_add(1);
      return;
    }
    if (steady::now() > deadline) {
      if (count > 0) reports_dropped.fetch_add(1);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void StreamRunner::Impl::finish_report(Segment& s, const DetectionReport& report,
                                       const LinkHeader& h) {
  tuned = report;  // copy-assignment keeps tuned's capacity from CPI to CPI
  annotator->apply(tuned, h.center_frequency_hz);
  const DetectionReport* r = &tuned;
  ReportEnvelope env;
  env.stream_id = h.stream_id;
  env.cpis_dropped = h.cpis_dropped;
  env.frames_rejected = h.frames_rejected;
  env.sequence = report_sequence++;
  auto to_collector = [&](char k, const std::string& topic, const void* data, std::size_t size) {
    zmq::message_t kind(&k, 1), t(topic.data(), topic.size()), p(data, size);
    s.out.send(kind, zmq::send_flags::sndmore);
    s.out.send(t, zmq::send_flags::sndmore);
    s.out.send(p, zmq::send_flags::none);
  };
  if (protobuf()) {
    const std::string payload = io::encode_report_pb(*r, env);
    to_collector(kReport, io::kTopicDetections, payload.data(), payload.size());
  }
  if (json()) {
    const std::string payload = io::report_to_json(*r).dump();
    to_collector(protobuf() ? kReportCopy : kReport, std::string(io::kTopicDetections) + ".json",
                 payload.data(), payload.size());
  }
  if (asterix) {
    asterix->encode(*r, datagrams);
    for (const auto& d : datagrams) {
      if (udp && !udp->send(d.data(), d.size())) ++udp_errors;
      if (opt.mode.asterix.zmq) to_collector(kAsterix, io::kTopicAsterix, d.data(), d.size());
    }
    const io::asterix::Counts& c = asterix->counts();
    std::lock_guard<std::mutex> lock(asterix_mutex);
    AsterixCounts& a = asterix_counts;
    a.datagrams = c.datagrams;
    a.bytes = c.bytes;
    a.plots = c.plots;
    a.scan_messages = c.scan_messages;
    a.send_errors = udp_errors;
    auto causes = [](const std::map<std::string, std::uint64_t>& m, std::vector<CauseCount>& v) {
      v.clear();
      for (const auto& kv : m) v.push_back({kv.first, kv.second});
    };
    causes(c.plots_dropped, a.plots_dropped_by_cause);
    causes(c.fields_limited, a.fields_limited_by_cause);
  }

  const double e2e = static_cast<double>(utc_now_ns() - h.ingest_ns) * 1e-9;
  e2e_latency.record(e2e);
  if (e2e > geometry.cpi_duration_s) deadline_misses.fetch_add(1);
  crossings.fetch_add(r->crossings);
  crossings_last.store(r->crossings);
  detections.fetch_add(r->detections.size());
}

void StreamRunner::Impl::segment_loop(Segment& s) {
  const std::size_t samples_per_cpi =
      opt.mode.radar.channels * opt.mode.processing.pulses * opt.mode.radar.range_gates;
  std::vector<zmq::message_t> parts;
  zmq::socket_t to_collector;
  if (!s.last_in_mode && s.last_local) {
    to_collector = zmq::socket_t(ctx, zmq::socket_type::push);
    to_collector.set(zmq::sockopt::sndhwm, 0);
    to_collector.set(zmq::sockopt::linger, 0);
    to_collector.connect(collector_ep);
  }
  auto forward_marker = [&](const LinkHeader& h) {
    LinkHeader out = h;
    std::atomic<bool> stop_trying{false};
    if (s.last_in_mode) {
      if (h.kind != LinkKind::EndOfStream) return;
      StreamEndInfo e{h.stream_id, cpis_processed.load(), h.cpis_dropped, h.frames_rejected};
      auto send_end = [&](const std::string& topic, const std::string& payload) {
        zmq::message_t k(&kEnd, 1), t(topic.data(), topic.size()),
            p(payload.data(), payload.size());
        s.out.send(k, zmq::send_flags::sndmore);
        s.out.send(t, zmq::send_flags::sndmore);
        s.out.send(p, zmq::send_flags::none);
      };
      if (protobuf()) send_end(io::kTopicEnd, io::encode_stream_end_pb(e));
      if (json()) send_end(std::string(io::kTopicEnd) + ".json", io::stream_end_to_json(e).dump());
      return;
    }
    // A Shutdown marker only goes to a segment of this process; an end of stream goes on.
    if (h.kind == LinkKind::EndOfStream || s.next_local)
      send_link(s.out, out, nullptr, nullptr, stopping);
    if (h.kind == LinkKind::EndOfStream && s.last_local) {
      zmq::message_t k(&kEnd, 1), t, p;
      to_collector.send(k, zmq::send_flags::sndmore);
      to_collector.send(t, zmq::send_flags::sndmore);
      to_collector.send(p, zmq::send_flags::none);
    }
  };

#if defined(RADARPIPE_HAVE_CUDA)
  // A whole chain on the GPU keeps up to slots() CPIs in flight: CPI n + 1 is copied and
  // enqueued while CPI n computes; reports leave in CPI order as each is collected.
  CudaChain* gpu = s.chain->backend() == Backend::Cuda && s.cfg.first == Stage::PulseCompression &&
                           s.cfg.last == Stage::Detection
                       ? static_cast<CudaChain*>(s.chain.get())
                       : nullptr;
  std::deque<LinkHeader> in_flight;
  auto collect_one = [&] {
    const DetectionReport& report = gpu->collect();
    const LinkHeader h = in_flight.front();
    in_flight.pop_front();
    const CudaStageTimes& t = gpu->last_stage_times();
    stage_latency[static_cast<int>(Stage::PulseCompression)].record(t.pulse_compression_ms * 1e-3);
    stage_latency[static_cast<int>(Stage::Doppler)].record(t.doppler_ms * 1e-3);
    stage_latency[static_cast<int>(Stage::Detection)].record(
        (t.cfar_ms + t.compaction_ms + t.host_plots_ms) * 1e-3);
    cpis_processed.fetch_add(1);
    samples.fetch_add(samples_per_cpi);
    std::int64_t zero = 0;
    first_cpi_ns.compare_exchange_strong(zero, utc_now_ns());
    finish_report(s, report, h);
  };
  auto drain = [&] {
    while (gpu && gpu->in_flight() > 0) collect_one();
  };
#else
  auto drain = [] {};
#endif

  for (;;) {
    // Input from another process: stop after the CPI in hand. Input from this process: go on
    // until the sender's Shutdown marker (or until the sender has gone and nothing is left).
    if (!s.input_local && stopping.load()) break;
    zmq::pollitem_t item{static_cast<void*>(s.in), 0, ZMQ_POLLIN, 0};
    if (poll_some(&item, 1, 50) == 0) {
      drain();  // the input paused: what is on the device goes out now
      if (stopping.load() && s.upstream_done && s.upstream_done->load()) break;
      continue;
    }
    if (!recv_message(s.in, parts)) continue;
    LinkHeader h;
    std::string err =
        parts.size() != 2
            ? "a message of " + std::to_string(parts.size()) + " parts, expected 2"
            : io::decode_link_header(parts[0].data(), parts[0].size(), parts[1].size(), h);
    if (err.empty() && (h.kind == LinkKind::Cube || h.kind == LinkKind::Maps) &&
        (h.kind != s.in_kind || h.dims[0] != s.in_dims[0] || h.dims[1] != s.in_dims[1] ||
         h.dims[2] != s.in_dims[2]))
      err = std::string("a ") + (h.kind == LinkKind::Cube ? "cube" : "maps") + " of " +
            std::to_string(h.dims[0]) + " x " + std::to_string(h.dims[1]) + " x " +
            std::to_string(h.dims[2]) + ", segment " + s.cfg.name + " takes " +
            (s.in_kind == LinkKind::Cube ? "a cube" : "maps") + " of " +
            std::to_string(s.in_dims[0]) + " x " + std::to_string(s.in_dims[1]) + " x " +
            std::to_string(s.in_dims[2]);
    if (!err.empty()) {
      link_rejected.fetch_add(1);
      counters.drop(CpiDrop::LinkMessage);
      std::cerr << "radarpipe run: segment " << s.cfg.name << ": dropped a link message: " << err
                << "\n";
      continue;
    }
    if (h.kind == LinkKind::Shutdown) {
      drain();
      forward_marker(h);
      break;
    }
    if (h.kind == LinkKind::EndOfStream) {
      drain();
      forward_marker(h);
      continue;
    }

    const std::int64_t started = utc_now_ns();
    if (s.index == 0) queue_latency.record(static_cast<double>(started - h.ingest_ns) * 1e-9);
    const void* in = parts[1].data();
    if (!(s.upstream_pool && s.upstream_pool->owns(in))) {
      if (s.in_copy.size() < parts[1].size()) {  // an inproc payload that is not ours
        link_rejected.fetch_add(1);
        counters.drop(CpiDrop::LinkMessage);
        continue;
      }
      std::memcpy(s.in_copy.data(), in, parts[1].size());
      in = s.in_copy.data();
    }
#if defined(RADARPIPE_HAVE_CUDA)
    if (gpu) {
      if (gpu->in_flight() == gpu->slots()) collect_one();
      gpu->submit_samples(static_cast<const cf32*>(in), h.cpi, h.timestamp_ns);
      in_flight.push_back(h);
      parts.clear();  // copied to pinned memory: the input buffer goes back to its pool
      continue;
    }
#endif
    void* out = nullptr;
    if (s.out_pool) {
      // Back-pressure: wait for the next segment to give a buffer back.
      while (!(out = s.out_pool->acquire(std::chrono::milliseconds(50))))
        if (stopping.load() && !s.next_local) break;
      if (!out) {
        counters.drop(CpiDrop::Shutdown);
        break;
      }
    }
    double stage_s[kStageCount];
    const DetectionReport* report = s.chain->run_stages(in, out, h.cpi, h.timestamp_ns, stage_s);
    parts.clear();  // the input buffer goes back to its pool now
    for (int st = static_cast<int>(s.cfg.first); st <= static_cast<int>(s.cfg.last); ++st)
      stage_latency[st].record(stage_s[st]);
    if (s.last_local) {
      cpis_processed.fetch_add(1);
      samples.fetch_add(samples_per_cpi);
      std::int64_t zero = 0;
      first_cpi_ns.compare_exchange_strong(zero, utc_now_ns());
    }
    if (report) {
      finish_report(s, *report, h);
    } else {
      LinkHeader oh = h;
      oh.kind = s.out_kind;
      std::copy(s.out_dims, s.out_dims + 3, oh.dims);
      if (!send_link(s.out, oh, out, s.out_pool.get(), stopping)) counters.drop(CpiDrop::Shutdown);
    }
  }
  drain();
}

TelemetrySnapshot StreamRunner::Impl::snapshot(bool advance) const {
  TelemetrySnapshot t;
  t.process = process_name;
  t.time_ns = utc_now_ns();
  const auto now = steady::now();
  t.uptime_s = std::chrono::duration<double>(now - start).count();
  t.frames_received = counters.frames_received.load();
  t.frames_rejected = counters.frames_rejected.load();
  for (int c = 1; c < io::kFrameRejectCauses; ++c)
    t.frames_rejected_by_cause.push_back(
        {io::to_string(static_cast<io::FrameReject>(c)), counters.rejected[c].load()});
  t.sequence_gaps = counters.sequence_gaps.load();
  t.frames_missing = counters.frames_missing.load();
  t.cpis_assembled = counters.cpis_assembled.load();
  t.cpis_processed = cpis_processed.load();
  t.cpis_dropped = counters.cpis_dropped.load();
  for (int c = 0; c < kCpiDropCauses; ++c)
    t.cpis_dropped_by_cause.push_back(
        {to_string(static_cast<CpiDrop>(c)), counters.dropped[c].load()});
  t.deadline_misses = deadline_misses.load();
  t.cpi_duration_ms = geometry.cpi_duration_s * 1e3;
  if (has_ingest) t.stage_latency.push_back(queue_latency.summary("queue"));
  for (const auto& s : segs)
    for (int st = static_cast<int>(s->cfg.first); st <= static_cast<int>(s->cfg.last); ++st)
      t.stage_latency.push_back(stage_latency[st].summary(to_string(static_cast<Stage>(st))));
  t.end_to_end = e2e_latency.summary("end_to_end");
  t.crossings_last = crossings_last.load();
  t.reports_published = reports_published.load();
  t.reports_dropped = reports_dropped.load();
  t.link_messages_rejected = link_rejected.load();
  {
    std::lock_guard<std::mutex> lock(asterix_mutex);
    t.asterix = asterix_counts;
  }

  std::lock_guard<std::mutex> lock(interval_mutex);
  const std::uint64_t smp = samples.load(), cr = crossings.load(), det = detections.load(),
                      done = cpis_processed.load();
  t.interval_s = std::chrono::duration<double>(now - last_tick).count();
  if (t.interval_s > 0) t.samples_per_s = static_cast<double>(smp - last_samples) / t.interval_s;
  if (done > last_processed) {
    t.crossings_per_cpi =
        static_cast<double>(cr - last_crossings) / static_cast<double>(done - last_processed);
    t.detections_per_cpi =
        static_cast<double>(det - last_detections) / static_cast<double>(done - last_processed);
  }
  const std::int64_t first = first_cpi_ns.load();
  if (first > 0 && t.time_ns > first && done > 1)
    t.samples_per_s_mean = static_cast<double>(smp) * static_cast<double>(done - 1) /
                           static_cast<double>(done) /
                           (static_cast<double>(t.time_ns - first) * 1e-9);
  if (advance) {
    last_tick = now;
    last_samples = smp;
    last_crossings = cr;
    last_detections = det;
    last_processed = done;
  }
  return t;
}

TelemetrySnapshot StreamRunner::telemetry() const {
  TelemetrySnapshot t = impl_->snapshot(false);
  return t;
}

TelemetrySnapshot StreamRunner::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  auto publish_telemetry = [&](const TelemetrySnapshot& t) {
    zmq::socket_t* sock = m.tel ? &m.tel : (m.pub ? &m.pub : nullptr);
    if (!sock) return;
    if (m.protobuf()) m.publish(*sock, io::kTopicTelemetry, io::encode_telemetry_pb(t), 0);
    if (m.json())
      m.publish(*sock, std::string(io::kTopicTelemetry) + ".json", io::telemetry_to_json(t).dump(),
                0);
  };
  auto drain_subscriptions = [&](std::size_t& subscribers) {
    if (!m.pub) return;
    zmq::message_t msg;
    while (m.pub.recv(msg, zmq::recv_flags::dontwait)) {
      const auto* b = static_cast<const unsigned char*>(msg.data());
      if (msg.size() < 1) continue;
      const std::string topic(reinterpret_cast<const char*>(b + 1), msg.size() - 1);
      const bool reports = std::string(io::kTopicDetections).rfind(topic, 0) == 0 ||
                           topic.rfind(io::kTopicDetections, 0) == 0;
      if (!reports) continue;
      if (b[0] == 1)
        ++subscribers;
      else if (subscribers > 0)
        --subscribers;
    }
  };

  // Hold the input until enough report subscribers are there (slow-joiner handshake).
  std::size_t subscribers = 0;
  while (m.pub && subscribers < m.opt.wait_subscribers && !stop.load()) {
    zmq::pollitem_t item{static_cast<void*>(m.pub), 0, ZMQ_POLLIN, 0};
    poll_some(&item, 1, 50);
    drain_subscriptions(subscribers);
  }

  m.start = steady::now();
  m.last_tick = m.start;
  m.running = static_cast<int>(m.segs.size());
  for (auto& sp : m.segs) {
    Segment* s = sp.get();
    s->thread = std::thread([&m, s] {
      try {
        m.segment_loop(*s);
      } catch (const std::exception& e) {
        std::cerr << "radarpipe run: segment " << s->cfg.name << " stopped: " << e.what() << "\n";
        m.stopping = true;
      }
      s->done = true;
      m.running.fetch_sub(1);
    });
  }
  if (m.has_ingest)
    m.ingest = std::thread([&m] {
      try {
        m.ingest_loop();
      } catch (const std::exception& e) {
        std::cerr << "radarpipe run: ingest stopped: " << e.what() << "\n";
        m.stopping = true;
      }
      m.ingest_done = true;
    });

  const auto interval = std::chrono::duration<double>(m.opt.telemetry_interval_s);
  auto next_tel = steady::now() + std::chrono::duration_cast<steady::duration>(interval);
  bool ended = false;
  std::vector<zmq::message_t> parts;
  for (;;) {
    if ((stop.load() || (ended && m.opt.exit_at_end)) && !m.stopping.load()) m.stopping = true;
    if (m.stopping.load() && m.running.load() == 0) break;
    zmq::pollitem_t items[2] = {{static_cast<void*>(m.collector_in), 0, ZMQ_POLLIN, 0},
                                {m.pub ? static_cast<void*>(m.pub) : nullptr, 0, ZMQ_POLLIN, 0}};
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_tel - steady::now());
    poll_some(items, m.pub ? 2 : 1, std::clamp<long>(static_cast<long>(wait.count()), 0, 50));
    if (m.pub) drain_subscriptions(subscribers);
    for (;;) {
      if (!recv_message(m.collector_in, parts)) break;
      if (parts.size() != 3) continue;
      const char kind = *static_cast<const char*>(parts[0].data());
      if ((kind == kReport || kind == kReportCopy || kind == kAsterix) && m.pub) {
        m.publish(m.pub, parts[1].to_string(), parts[2].to_string(),
                  kind == kReport       ? 2
                  : kind == kReportCopy ? 1
                                        : 0);
      } else if (kind == kEnd) {
        if (m.has_output && m.pub) m.publish(m.pub, parts[1].to_string(), parts[2].to_string(), 0);
        ended = true;
      }
    }
    if (steady::now() >= next_tel) {
      publish_telemetry(m.snapshot(true));
      next_tel = steady::now() + std::chrono::duration_cast<steady::duration>(interval);
    }
  }
  if (m.ingest.joinable()) m.ingest.join();
  for (auto& s : m.segs)
    if (s->thread.joinable()) s->thread.join();
  // Whatever the segments published on their way out.
  for (;;) {
    if (!recv_message(m.collector_in, parts)) break;
    if (parts.size() != 3 || !m.pub) continue;
    const char kind = *static_cast<const char*>(parts[0].data());
    if (kind != kEnd || m.has_output)
      m.publish(m.pub, parts[1].to_string(), parts[2].to_string(),
                kind == kReport       ? 2
                : kind == kReportCopy ? 1
                                      : 0);
  }
  const TelemetrySnapshot final_t = m.snapshot(true);
  publish_telemetry(final_t);
  return final_t;
}

}  // namespace radarpipe::stream
