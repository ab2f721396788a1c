#include "pipeline/stream/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "io/iq_frame.hpp"
#include "io/link_message.hpp"
#include "io/stream_messages.hpp"
#include "pipeline/chain/backend.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/ingest.hpp"
#include "pipeline/stream/link_security.hpp"
#include "pipeline/stream/link_transport.hpp"
#include "pipeline/stream/metrics_server.hpp"
#include "pipeline/stream/publisher.hpp"
#include "pipeline/stream/segment.hpp"
#include "pipeline/stream/service_notify.hpp"
#include "pipeline/stream/telemetry_counters.hpp"
#include "pipeline/stream/vrt_ingest.hpp"

namespace radarpipe::stream {

using io::LinkKind;
using steady = std::chrono::steady_clock;

// The runner's parts (docs/streaming.md "Inside `radarpipe run`"): the ingest thread
// (ingest.cpp), one thread per local segment (segment.cpp), and this main thread, which
// publishes what the segments hand it (publisher.cpp) and the telemetry (telemetry_counters).
struct StreamRunner::Impl {
  zmq::context_t& ctx;
  RunOptions opt;
  ModeGeometry geometry;
  BackendChoice backend;
  std::size_t cube_bytes = 0, map_bytes = 0;
  std::unique_ptr<LinkSecurity> security;  // outlives every socket below
  std::vector<std::unique_ptr<Segment>> segs;
  bool has_ingest = false, has_output = false;
  SnapshotScope scope;

  zmq::socket_t iq_in, ingest_out, collector_in, pub, tel;
  std::string collector_ep;
  std::shared_ptr<BufferPool> ingest_pool;  // the messages in flight hold it too
  std::unique_ptr<VrtSource> vrt;           // --from vrt+udp:// or vrt+tcp://
  std::thread ingest;

  std::atomic<bool> stopping{false};  // the ingest stops, segments finish and exit
  std::atomic<bool> ingest_done{false};
  Heartbeat ingest_heartbeat;  // the ingest thread's (heartbeat.hpp)
  std::atomic<int> running{0};

  RunCounters counters;
  std::string input;                           // what the ingest reads, for the terminal
  std::unique_ptr<ReportPublisher> publisher;  // the process with the mode's last segment
  std::unique_ptr<SegmentContext> context;     // what the segment threads share (run())
  std::unique_ptr<MetricsServer> metrics;      // last: it reads the counters until it stops

  Impl(zmq::context_t& c, RunOptions o) : ctx(c), opt(std::move(o)) {}

  bool json() const { return opt.format != RunOptions::Format::Protobuf; }
  bool protobuf() const { return opt.format != RunOptions::Format::Json; }
  TelemetrySnapshot snapshot(bool advance) const {
    TelemetrySnapshot t = counters.snapshot(scope, advance);
    t.security = security->counts();
    return t;
  }
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
  if (opt.from.empty()) opt.from = mode.input.from;
  if (m.has_ingest && opt.from.empty())
    throw std::invalid_argument("--from: this process runs the first segment (" + all[0].name +
                                ") and needs the IQ stream's endpoint (or the mode's input.from)");
  if (m.has_output && opt.publish.empty())
    throw std::invalid_argument("--publish: this process runs the last segment (" +
                                all.back().name + ") and needs an endpoint to publish on");
  if (m.has_output) {
    m.publisher = std::make_unique<ReportPublisher>(opt, m.geometry, m.counters, bound_);
  }
  if ((!m.has_output || !mode.asterix.present) && !opt.asterix_destination.empty() &&
      opt.asterix_destination != "-")
    throw std::invalid_argument(
        "--asterix " + opt.asterix_destination +
        (m.has_output ? ": the mode has no asterix: section (SAC/SIC, antenna azimuths)"
                      : ": this process does not run the last segment; ASTERIX leaves from the "
                        "process that publishes the reports"));
  if (opt.subscriber_queue < 1 || opt.subscriber_queue > 1000000)
    throw std::invalid_argument("--subscriber-queue: " + std::to_string(opt.subscriber_queue) +
                                " reports is not in [1, 1000000]");
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

  m.scope.process = "radarpipe run pid " + std::to_string(getpid()) + ", segments ";
  for (std::size_t k = 0; k < chosen.size(); ++k)
    m.scope.process += (k ? "+" : "") + all[chosen[k]].name;
  m.scope.has_ingest = m.has_ingest;
  m.scope.cpi_duration_s = m.geometry.cpi_duration_s;
  m.scope.design_pfa = mode.processing.cfar.pfa;
  if (opt.false_alarm_window_cpis < 1 || opt.false_alarm_window_cpis > 1000000)
    throw std::invalid_argument(
        "--false-alarm-window: " + std::to_string(opt.false_alarm_window_cpis) +
        " CPIs is not in [1, 1000000]");
  m.counters.set_false_alarm_window(opt.false_alarm_window_cpis);
  for (std::size_t k : chosen) m.scope.segments.emplace_back(all[k].first, all[k].last);

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
    co.fft_wisdom = opt.fft_wisdom;
    co.cfar_factors = opt.cfar_factors;
    co.first = s->cfg.first;
    co.last = s->cfg.last;
    s->chain = make_chain(mode, m.backend, co);
    if (s->chain->clutter_map()) {
      s->map_store = std::make_unique<ClutterMapStore>(clutter_map_path(mode, opt.clutter_map),
                                                       mode, std::cerr);
      if (s->map_store->path().empty()) {
        s->map_store.reset();
      } else if (s->map_store->load(*s->chain)) {
        std::cerr << "radarpipe run: clutter map from " << s->map_store->path() << " ("
                  << s->map_store->loaded_cpis() << " CPIs learned)\n";
      }
      if (s->map_store) {
        s->map_save_interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(std::max(opt.clutter_map_save_s, 1.0)));
        s->next_map_save = std::chrono::steady_clock::now() + s->map_save_interval;
      }
    }
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
      s->out_pool = std::make_shared<BufferPool>(
          mode.pipeline.link_queue + 2, s->out_kind == LinkKind::Cube ? m.cube_bytes : m.map_bytes);
    }
    // Over inproc:// from this process the payload is the sender's own pooled buffer; over
    // ipc:// or tcp:// it is ZeroMQ's, and is copied here (aligned) before use.
    auto ov = opt.link_overrides.find(s->cfg.name);
    const std::string link = ov != opt.link_overrides.end() ? ov->second : s->cfg.from;
    const bool in_place =
        s->index == 0 || (s->input_local && link.find("inproc://") != std::string::npos);
    if (!s->input_local && !opt.progress_dir.empty()) {
      s->progress = std::make_unique<LinkProgressFile>(opt.progress_dir, s->cfg.name, std::cerr);
      // next_cpi 0 (no CPI finished yet, or a file that says so) has no last CPI to name.
      const std::optional<LinkProgress>& p = s->progress->loaded();
      if (p && p->next_cpi > 0)
        std::cerr << "radarpipe run: segment " << s->cfg.name
                  << ": the last CPI finished before this start was CPI " << p->next_cpi - 1
                  << " of stream " << p->stream_id << " (" << s->progress->path() << ")\n";
    }
    if (!in_place)
      s->in_copy =
          AlignedBuffer<unsigned char>(s->in_kind == LinkKind::Cube ? m.cube_bytes : m.map_bytes);
    m.segs.push_back(std::move(s));
  }
  for (std::size_t k = 1; k < m.segs.size(); ++k) {
    m.segs[k]->upstream_pool = m.segs[k - 1]->out_pool.get();
    m.segs[k]->upstream_done = &m.segs[k - 1]->done;
  }

  // Sockets. Everything that binds does so before anything here connects. CURVE first: the ZAP
  // handler is bound before any server socket (link_security.hpp).
  m.security = std::make_unique<LinkSecurity>(ctx, mode.security, "radarpipe run", std::cerr);
  const int hwm = static_cast<int>(mode.pipeline.link_queue);
  m.collector_ep = inproc_endpoint(this, "collector");
  m.collector_in = zmq::socket_t(ctx, zmq::socket_type::pull);
  m.collector_in.set(zmq::sockopt::rcvhwm, 0);
  m.collector_in.bind(m.collector_ep);

  std::map<std::string, std::string> resolved;  // segment name -> its input's endpoint
  for (std::size_t k = 0; k < m.segs.size(); ++k) {
    Segment& s = *m.segs[k];
    s.in = zmq::socket_t(ctx, zmq::socket_type::pull);
    s.in.set(zmq::sockopt::rcvhwm, hwm);
    s.in.set(zmq::sockopt::linger, 0);
    // No message part larger than a link message can be: a header, or the segment's cube or
    // maps. ZeroMQ drops a peer that announces more, before anything is allocated for it, so a
    // peer cannot make this process hold more than the high-water mark of such messages.
    s.in.set(zmq::sockopt::maxmsgsize,
             max_message_bytes(std::max<std::size_t>(
                 io::kLinkHeaderBytes, s.in_kind == LinkKind::Cube ? m.cube_bytes : m.map_bytes)));
    if (s.index == 0) {
      const std::string ep = inproc_endpoint(this, "ingest");
      s.in.bind(ep);
    } else {
      auto ov = opt.link_overrides.find(s.cfg.name);
      const std::string text = ov != opt.link_overrides.end() ? ov->second : s.cfg.from;
      const Endpoint e = parse_endpoint(text, true, "link into segment " + s.cfg.name);
      const std::string where = attach(s.in, e, "link into segment " + s.cfg.name, *m.security);
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
    const std::string where = attach(s.out, mine, "link from segment " + s.cfg.name, *m.security);
    if (mine.bind) bound_["link " + next.name] = where;
  }
  if (m.has_ingest) {
    m.ingest_pool = std::make_shared<BufferPool>(mode.pipeline.cpis_in_flight, m.cube_bytes);
    m.segs.front()->upstream_pool = m.ingest_pool.get();
    m.segs.front()->upstream_done = &m.ingest_done;
    m.ingest_out = zmq::socket_t(ctx, zmq::socket_type::push);
    m.ingest_out.set(zmq::sockopt::sndhwm, static_cast<int>(mode.pipeline.cpis_in_flight) + 2);
    m.ingest_out.set(zmq::sockopt::linger, 0);
    m.ingest_out.connect(inproc_endpoint(this, "ingest"));
    if (io::is_vrt_endpoint(opt.from)) {
      m.vrt = std::make_unique<VrtSource>(mode, opt.from, m.counters.vrt);
      m.counters.vrt_input = true;
      bound_["iq"] = m.vrt->bound();
      m.input = m.vrt->describe();
    }
  }
  if (m.has_ingest && !m.vrt) {
    std::string bound_at;
    m.iq_in = open_frame_input(ctx, opt.from, m.cube_bytes, *m.security, m.input, bound_at);
    if (!bound_at.empty()) bound_["iq"] = bound_at;
  }
  if (m.has_output) {
    m.pub = zmq::socket_t(ctx, zmq::socket_type::xpub);
    m.pub.set(zmq::sockopt::xpub_verbose, 1);
    // Each subscriber has its own queue of subscriber_queue reports (both formats with
    // --format both): one that stalls loses what overflows its own queue, the others and the
    // telemetry go on, and memory stays bounded by the queues (docs/streaming.md
    // "Subscribers"). The subscriber sees its losses as gaps in the reports' sequence.
    // The kernel's share too: a stalled subscriber's TCP connection holds 256 KiB of send buffer.
    m.pub.set(zmq::sockopt::sndbuf, 256 << 10);
    m.pub.set(zmq::sockopt::sndhwm,
              static_cast<int>(std::min<std::size_t>(opt.subscriber_queue, 1000000) * 2 *
                               (opt.format == RunOptions::Format::Both ? 2 : 1)));
    m.pub.set(zmq::sockopt::maxmsgsize, std::int64_t{4096});  // subscriptions: topic names
    m.pub.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.publish, true, "--publish");
    const std::string where = attach(m.pub, e, "--publish", *m.security);
    bound_["publish"] = where;
  }
  if (!opt.telemetry.empty()) {
    m.tel = zmq::socket_t(ctx, zmq::socket_type::pub);
    m.tel.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.telemetry, true, "--telemetry");
    bound_["telemetry"] = attach(m.tel, e, "--telemetry", *m.security);
  } else if (!m.has_output && !opt.publish.empty()) {
    // A process without the last segment may still publish telemetry on --publish.
    m.pub = zmq::socket_t(ctx, zmq::socket_type::xpub);
    m.pub.set(zmq::sockopt::xpub_verbose, 1);
    m.pub.set(zmq::sockopt::maxmsgsize, std::int64_t{4096});
    m.pub.set(zmq::sockopt::linger, opt.linger_ms);
    const Endpoint e = parse_endpoint(opt.publish, true, "--publish");
    bound_["publish"] = attach(m.pub, e, "--publish", *m.security);
  }
  if (!opt.metrics.empty()) {
    Impl* impl = &m;
    m.metrics =
        std::make_unique<MetricsServer>(opt.metrics, [impl] { return impl->snapshot(false); });
    bound_["metrics"] = m.metrics->url();
  }
}

StreamRunner::~StreamRunner() {
  impl_->metrics.reset();
  Impl& m = *impl_;
  m.stopping = true;
  if (m.ingest.joinable()) m.ingest.join();
  for (auto& s : m.segs)
    if (s->thread.joinable()) s->thread.join();
}

std::string StreamRunner::backend() const {
  return std::string(to_string(impl_->backend.chosen)) + " (" + impl_->backend.reason + ")";
}

std::string StreamRunner::input() const {
  return impl_->input;
}

std::string StreamRunner::segment_names() const {
  std::string n;
  for (const auto& s : impl_->segs) n += (n.empty() ? "" : "+") + s->cfg.name;
  return n;
}

TelemetrySnapshot StreamRunner::telemetry() const {
  TelemetrySnapshot t = impl_->snapshot(false);
  return t;
}

namespace {
// What publish() counts for a collector message (publisher.hpp).
int count_of(char kind) {
  return kind == kCollectReport ? 2 : kind == kCollectCopy ? 1 : 0;
}
}  // namespace

TelemetrySnapshot StreamRunner::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  auto publish_telemetry = [&](const TelemetrySnapshot& t) {
    zmq::socket_t* sock = m.tel ? &m.tel : (m.pub ? &m.pub : nullptr);
    if (!sock) return;
    if (m.protobuf())
      publish(*sock, io::kTopicTelemetry, io::encode_telemetry_pb(t), 0, m.counters);
    if (m.json())
      publish(*sock, std::string(io::kTopicTelemetry) + ".json", io::telemetry_to_json(t).dump(), 0,
              m.counters);
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

  // systemd (Type=notify, WatchdogSec=): ready now, bound and planned; WATCHDOG=1 while every
  // thread beats. A thread silent for half the watchdog interval (at least 1 s) is stuck: the
  // pings stop and the service manager restarts the process (docs/streaming.md "Running as a
  // service").
  ServiceNotifier notifier;
  notifier.ready("running segments " + segment_names());

  // Hold the input until enough report subscribers are there (slow-joiner handshake).
  std::size_t subscribers = 0;
  while (m.pub && subscribers < m.opt.wait_subscribers && !stop.load()) {
    zmq::pollitem_t item{static_cast<void*>(m.pub), 0, ZMQ_POLLIN, 0};
    poll_some(&item, 1, 50);
    drain_subscriptions(subscribers);
    notifier.watchdog(true);  // no thread of the runtime runs yet
  }

  m.counters.start();
  m.context = std::make_unique<SegmentContext>(SegmentContext{
      m.ctx, m.collector_ep, m.stopping, m.counters, m.publisher.get(),
      m.opt.mode.radar.channels * m.opt.mode.processing.pulses * m.opt.mode.radar.range_gates});
  m.running = static_cast<int>(m.segs.size());
  // The heartbeats count from the threads' start, not from the planning before.
  m.ingest_heartbeat.beat();
  for (auto& sp : m.segs) sp->heartbeat.beat();
  for (auto& sp : m.segs) {
    Segment* s = sp.get();
    s->thread = std::thread([&m, s] {
      set_thread_heartbeat(&s->heartbeat);
      try {
        segment_loop(*s, *m.context);
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
      set_thread_heartbeat(&m.ingest_heartbeat);
      try {
        if (m.vrt)
          m.vrt->run(m.ingest_out, m.ingest_pool, m.counters.assembler, m.stopping);
        else
          ingest_loop(m.opt.mode, m.iq_in, m.ingest_out, m.ingest_pool, m.counters.assembler,
                      m.stopping);
      } catch (const std::exception& e) {
        std::cerr << "radarpipe run: ingest stopped: " << e.what() << "\n";
        m.stopping = true;
      }
      m.ingest_done = true;
    });

  const auto interval = std::chrono::duration<double>(m.opt.telemetry_interval_s);
  auto next_tel = steady::now() + std::chrono::duration_cast<steady::duration>(interval);

  const std::int64_t stale_ns = std::max<std::int64_t>(
      1000000000,
      std::chrono::duration_cast<std::chrono::nanoseconds>(notifier.watchdog_interval()).count() /
          2);
  std::string stuck_reported;
  auto healthy = [&] {
    std::string stuck;
    if (m.has_ingest && !m.ingest_done.load() && m.ingest_heartbeat.age_ns() > stale_ns)
      stuck = "the ingest";
    for (const auto& s : m.segs)
      if (stuck.empty() && !s->done.load() && s->heartbeat.age_ns() > stale_ns)
        stuck = "segment " + s->cfg.name;
    if (!stuck.empty() && stuck != stuck_reported)
      std::cerr << "radarpipe run: " << stuck << " has not moved for "
                << static_cast<double>(stale_ns) * 1e-9
                << " s: the service manager's watchdog is no longer pinged\n";
    stuck_reported = stuck;
    return stuck.empty();
  };
  auto status_line = [&] {
    return "CPIs processed " + std::to_string(m.counters.processed()) + ", dropped " +
           std::to_string(m.counters.assembler.cpis_dropped.load()) + ", reports " +
           std::to_string(m.counters.reports_published.load());
  };
  notifier.status(status_line());
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
      if ((kind == kCollectReport || kind == kCollectCopy || kind == kCollectAsterix) && m.pub) {
        publish(m.pub, parts[1].to_string(), parts[2].to_string(), count_of(kind), m.counters);
      } else if (kind == kCollectEnd) {
        if (m.has_output && m.pub)
          publish(m.pub, parts[1].to_string(), parts[2].to_string(), 0, m.counters);
        ended = true;
      }
    }
    if (notifier.active()) notifier.watchdog(healthy());
    if (steady::now() >= next_tel) {
      notifier.status(status_line());
      publish_telemetry(m.snapshot(true));
      next_tel = steady::now() + std::chrono::duration_cast<steady::duration>(interval);
    }
  }
  notifier.stopping();
  if (m.ingest.joinable()) m.ingest.join();
  for (auto& s : m.segs)
    if (s->thread.joinable()) s->thread.join();
  // Whatever the segments published on their way out.
  for (;;) {
    if (!recv_message(m.collector_in, parts)) break;
    if (parts.size() != 3 || !m.pub) continue;
    const char kind = *static_cast<const char*>(parts[0].data());
    if (kind != kCollectEnd || m.has_output)
      publish(m.pub, parts[1].to_string(), parts[2].to_string(), count_of(kind), m.counters);
  }
  const TelemetrySnapshot final_t = m.snapshot(true);
  publish_telemetry(final_t);
  return final_t;
}

}  // namespace radarpipe::stream
