// One segment of the mode's pipeline running in this process (docs/streaming.md "Segments"):
// its chain (any backend, driven through SignalChain alone), the link it reads CPIs from and
// the one it hands them on to (or the collector, for the mode's last segment), and the loop
// that runs on its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "io/link_message.hpp"
#include "pipeline/chain/clutter_map_store.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/heartbeat.hpp"
#include "pipeline/stream/link_progress.hpp"
#include "pipeline/stream/publisher.hpp"
#include "pipeline/stream/telemetry_counters.hpp"

namespace radarpipe::stream {

struct Segment {
  SegmentConfig cfg;
  std::size_t index = 0;  ///< in the mode's list
  std::unique_ptr<SignalChain> chain;
  zmq::socket_t in, out;
  bool input_local = false;  ///< fed by this process (waits for its Shutdown marker)
  bool next_local = false;   ///< the next segment runs here too
  bool last_local = false;
  bool last_in_mode = false;
  BufferPool* upstream_pool = nullptr;   ///< the local sender's pool: payloads are used in place
  std::shared_ptr<BufferPool> out_pool;  ///< for a cube or maps output (messages hold it too)
  AlignedBuffer<unsigned char> in_copy;  ///< payloads from another process land here
  io::LinkKind in_kind = io::LinkKind::Cube, out_kind = io::LinkKind::Cube;
  const std::atomic<bool>* upstream_done = nullptr;  ///< the local sender has exited
  std::atomic<bool> done{false};
  Heartbeat heartbeat;  ///< the segment's thread beats it from every loop (heartbeat.hpp)
  std::uint32_t in_dims[3] = {0, 0, 0}, out_dims[3] = {0, 0, 0};
  /// The detection segment's clutter map file (none: no map or not kept), saved every
  /// map_save_interval while the chain is idle between CPIs, and at the segment's end.
  std::unique_ptr<ClutterMapStore> map_store;
  std::chrono::steady_clock::duration map_save_interval{};
  std::chrono::steady_clock::time_point next_map_save{};
  /// A segment fed from another process, with run --progress-dir: the last CPI it finished,
  /// kept for its successor after a kill (link_progress.hpp).
  std::unique_ptr<LinkProgressFile> progress;
  std::thread thread;
};

/// What every segment thread shares.
struct SegmentContext {
  zmq::context_t& ctx;
  std::string collector_ep;           ///< the main thread's collector (inproc)
  const std::atomic<bool>& stopping;  ///< the run is ending: finish the CPIs in hand
  RunCounters& counters;
  ReportPublisher* publisher;  ///< reports and stream ends (the mode's last segment only)
  std::size_t samples_per_cpi;
};

/// Receives link messages (CPIs and markers), checks them (a bad one is dropped and counted),
/// runs the chain with up to depth() CPIs in flight, and hands each result on in CPI order:
/// a cube or maps to the next segment (waiting for a free output buffer: back-pressure), or a
/// report to the publisher. Returns after the Shutdown marker, or at a stop when its input
/// comes from another process.
void segment_loop(Segment& s, const SegmentContext& c);

}  // namespace radarpipe::stream
