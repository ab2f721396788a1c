#include "pipeline/stream/segment.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <string>
#include <vector>

#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

using io::LinkHeader;
using io::LinkKind;

void segment_loop(Segment& s, const SegmentContext& c) {
  RunCounters& counters = c.counters;
  const std::atomic<bool>& stopping = c.stopping;
  std::vector<zmq::message_t> parts;
  zmq::socket_t to_collector;
  if (!s.last_in_mode && s.last_local) {
    to_collector = zmq::socket_t(c.ctx, zmq::socket_type::push);
    to_collector.set(zmq::sockopt::sndhwm, 0);
    to_collector.set(zmq::sockopt::linger, 0);
    to_collector.connect(c.collector_ep);
  }
  auto forward_marker = [&](const LinkHeader& h) {
    if (s.last_in_mode) {
      if (h.kind == LinkKind::EndOfStream) c.publisher->stream_end(s.out, h, counters.processed());
      return;
    }
    // A Shutdown marker only goes to a segment of this process; an end of stream goes on.
    if (h.kind == LinkKind::EndOfStream || s.next_local)
      send_link(s.out, h, nullptr, nullptr, stopping);
    if (h.kind == LinkKind::EndOfStream && s.last_local)
      send_to_collector(to_collector, kCollectEnd, std::string(), nullptr, 0);
  };

  // Up to depth() CPIs in flight on the chain (the GPU's stream slots): CPI n + 1 is handed
  // over while CPI n computes; results leave in CPI order as each is collected.
  std::deque<LinkHeader> in_flight;
  auto collect_one = [&] {
    const ChainResult r = s.chain->collect();
    const LinkHeader h = in_flight.front();
    in_flight.pop_front();
    for (int st = static_cast<int>(s.cfg.first); st <= static_cast<int>(s.cfg.last); ++st)
      counters.stage_latency[st].record(r.seconds.s[st]);
    if (s.last_local) counters.cpi_processed(c.samples_per_cpi);
    if (s.progress) s.progress->record({h.stream_id, h.cpi + 1, h.cpis_dropped});
    if (r.report) {
      c.publisher->report(s.out, *r.report, h);
      // The map is read only with nothing in flight (the GPU's comes off the device).
      if (s.map_store && s.chain->in_flight() == 0 &&
          std::chrono::steady_clock::now() >= s.next_map_save) {
        s.map_store->save_in_background(*s.chain);
        s.next_map_save = std::chrono::steady_clock::now() + s.map_save_interval;
      }
      return;
    }
    LinkHeader oh = h;
    oh.kind = s.out_kind;
    std::copy(s.out_dims, s.out_dims + 3, oh.dims);
    if (!send_link(s.out, oh, r.out, s.out_pool, stopping))
      counters.assembler.drop(CpiDrop::Shutdown);
  };
  auto drain = [&] {
    while (s.chain->in_flight() > 0) collect_one();
  };

  // CPIs lost in flight between processes: a remote link's CPI numbers skip those a killed
  // upstream held. The skip, less the CPIs the upstream's ingest counted as dropped meanwhile
  // (its count restarts from 0 with a restarted process), is counted here. A backward step or an
  // absurd jump (more than 2^20 CPIs: another numbering, not a loss) starts the count afresh.
  struct LinkSeen {
    bool known = false;
    std::uint32_t stream_id = 0;
    std::uint64_t next_cpi = 0, upstream_dropped = 0;
  } seen;
  auto count_link_gap = [&](const LinkHeader& h) {
    if (seen.known && h.stream_id == seen.stream_id && h.cpi > seen.next_cpi &&
        h.cpi - seen.next_cpi <= (std::uint64_t{1} << 20)) {
      const std::uint64_t skipped = h.cpi - seen.next_cpi;
      const std::uint64_t upstream = h.cpis_dropped >= seen.upstream_dropped
                                         ? h.cpis_dropped - seen.upstream_dropped
                                         : h.cpis_dropped;
      if (skipped > upstream) counters.assembler.drop(CpiDrop::LostInFlight, skipped - upstream);
    }
    seen = {true, h.stream_id, h.cpi + 1, h.cpis_dropped};
  };
  // A restarted process takes up where its predecessor's last finished CPI left the count: what
  // the killed process held (its queues, its chain) is the first link message's skip.
  if (s.progress && s.progress->loaded()) {
    const LinkProgress& p = *s.progress->loaded();
    seen = {true, p.stream_id, p.next_cpi, p.upstream_dropped};
  }

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
      counters.link_rejected.fetch_add(1);
      counters.assembler.drop(CpiDrop::LinkMessage);
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

    if (!s.input_local) count_link_gap(h);
    const std::int64_t started = utc_now_ns();
    if (s.index == 0)
      counters.queue_latency.record(static_cast<double>(started - h.ingest_ns) * 1e-9);
    const void* in = parts[1].data();
    if (!(s.upstream_pool && s.upstream_pool->owns(in))) {
      if (s.in_copy.size() < parts[1].size()) {  // an inproc payload that is not ours
        counters.link_rejected.fetch_add(1);
        counters.assembler.drop(CpiDrop::LinkMessage);
        continue;
      }
      std::memcpy(s.in_copy.data(), in, parts[1].size());
      in = s.in_copy.data();
    }
    void* out = nullptr;
    if (s.out_pool) {
      // Back-pressure: wait for the next segment to give a buffer back.
      while (!(out = s.out_pool->acquire(std::chrono::milliseconds(50)))) {
        beat();  // waiting on the next segment, not stuck
        if (stopping.load() && !s.next_local) break;
      }
      if (!out) {
        counters.assembler.drop(CpiDrop::Shutdown);
        break;
      }
    }
    ChainJob job;
    job.cpi = h.cpi;
    job.timestamp_ns = h.timestamp_ns;
    job.in = in;
    job.out = out;
    s.chain->submit(job);
    in_flight.push_back(h);
    parts.clear();  // the chain is done reading it: the input buffer goes back to its pool
    // A full chain hands its oldest CPI on now: at once for a chain of depth 1 (the CPU's),
    // while the newer CPIs compute for a deeper one (the GPU's slots).
    while (s.chain->in_flight() == s.chain->depth()) collect_one();
  }
  drain();
  if (s.map_store) s.map_store->save(*s.chain);
}

}  // namespace radarpipe::stream
