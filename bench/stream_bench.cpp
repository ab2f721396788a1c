// Streaming (docs/streaming.md): ZeroMQ transport of IQ-sized messages, and the whole CPU chain
// fed by a replayed recording at a given rate.
//
// BM_Transport/<link>/<bytes>/<framing>: link 0 inproc, 1 ipc, 2 tcp (loopback); framing 0 is
// radarpipe's (an 80-byte header part plus a zero-copy payload part from a buffer pool), 1 is
// libzmq's own throughput test method (perf/remote_thr: one zmq_msg_init_size message of the
// same size, no header), measured in the same run. A receiver thread drains; each iteration
// sends a batch and waits until the receiver has it all.
//
// BM_StreamCapacity/<mode>/<preload>/<depth>: mode 0 bench-small, 1 bench-matx. The chain alone
// is timed first (its real-time factor, CPIs per CPI duration), then `radarpipe run` is fed over
// tcp loopback at fractions of that rate (0.5 .. 1.1), each fraction two trials, each a fresh
// replay of 240 CPIs (bench-small, 4 s of radar time) or 48 (bench-matx), looping a shorter
// recording; a fraction holds when both trials dropped nothing. Counters: capacity_over_chain,
// the highest fraction held with every fraction below it (the figure; 0 if none),
// chain_x_realtime, the drops at the first failing fraction, and drop_rate_at_1 (the share of
// CPIs dropped when fed at the chain's own rate). preload 1 sends frames encoded beforehand
// (ReplayOptions::preload), 0 reads and encodes while sending: on a 2-core machine the sender
// shares the cores with the chain, so the two say which limit holds. depth is the mode's
// pipeline.cpis_in_flight (3 by default): the CPIs the ingest can hold while the chain is held
// up, so the length of a stall it rides out.
//
// BM_StreamEndToEnd/<mode>/<rate x 100>: mode 0 the demo, 1 bench-small; a simulated
// recording is replayed over tcp at rate x real time into `radarpipe run` in this process (one
// segment); counters: CPIs dropped, deadline misses, end-to-end latency p50/p99/max (ms) and
// the samples/s processed. The highest rate with zero drops is the chain's live capacity here.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include "bench/bench_common.hpp"
#include "io/iq_frame.hpp"
#include "io/scenario.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/replay.hpp"
#include "pipeline/stream/runner.hpp"

namespace radarpipe::bench {
namespace {

const char* kLinks[] = {"inproc", "ipc", "tcp"};

void BM_Transport(benchmark::State& state) {
  const int link = static_cast<int>(state.range(0));
  const std::size_t bytes = static_cast<std::size_t>(state.range(1));
  const bool raw = state.range(2) == 1;
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull), push(ctx, zmq::socket_type::push);
  std::string ep = link == 0   ? "inproc://bench-transport"
                   : link == 1 ? "ipc:///tmp/radarpipe-bench-" + std::to_string(getpid())
                               : "tcp://127.0.0.1:*";
  pull.set(zmq::sockopt::rcvhwm, 64);
  push.set(zmq::sockopt::sndhwm, 64);
  pull.bind(ep);
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> done{false};
  std::thread rx([&] {
    zmq::message_t m;
    while (!done.load()) {
      zmq::pollitem_t item{static_cast<void*>(pull), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
      while (pull.recv(m, zmq::recv_flags::dontwait))
        if (!m.more()) received.fetch_add(1);
    }
  });
  stream::BufferPool pool(16, bytes);
  for (int i = 0; i < 16; ++i) {  // touch the buffers
    void* b = pool.try_acquire();
    std::memset(b, 0x11, bytes);
    pool.release(b);
  }
  const auto header = io::encode_iq_header(io::IqFrameHeader{});
  constexpr int kBatch = 64;
  std::uint64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      if (raw) {
        zmq::message_t m(bytes);
        push.send(m, zmq::send_flags::none);
      } else {
        void* b = pool.acquire(std::chrono::seconds(10));
        zmq::message_t h(header.data(), header.size());
        zmq::message_t p(b, bytes, &stream::BufferPool::release_fn, &pool);
        push.send(h, zmq::send_flags::sndmore);
        push.send(p, zmq::send_flags::none);
      }
    }
    sent += kBatch;
    while (received.load() < sent) std::this_thread::yield();
  }
  done = true;
  rx.join();
  const double per_iter = static_cast<double>(kBatch) * static_cast<double>(bytes);
  state.counters["bytes_per_s"] =
      benchmark::Counter(per_iter, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["msgs_per_s"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples_per_s"] = benchmark::Counter(
      per_iter / 8.0, benchmark::Counter::kIsIterationInvariantRate);  // cf32 samples
  state.SetLabel(std::string(kLinks[link]) + (raw ? " libzmq remote_thr" : " radarpipe framing"));
}

// 14.4 kB: one demo pulse; 115 kB: 8 pulses (replay's default frame); 1.84 MB: a demo CPI.
BENCHMARK(BM_Transport)
    ->ArgsProduct({{0, 1, 2}, {14400, 115200, 1843200}, {0, 1}})
    ->UseRealTime()
    ->MinTime(0.3);

struct Recording {
  std::string path;
  Mode mode;
};

const Recording& recording(int which) {
  static Recording recs[2];
  Recording& r = recs[which];
  if (!r.path.empty()) return r;
  const BenchRecording b =
      simulate_bench_recording(which == 0 ? "demo" : "bench-small", which == 0 ? 40 : 12, "bench");
  r.path = b.path;
  r.mode = b.mode;
  return r;
}

// One trial: `ro` replayed over tcp loopback into `radarpipe run` (one segment, this process)
// until the stream ends; the run's final telemetry (and the replay's summary into rs).
TelemetrySnapshot replay_into_run(stream::ReplayOptions ro, const Mode& mode,
                                  stream::ReplaySummary* rs) {
  zmq::context_t ctx(1);
  ro.to = "tcp://127.0.0.1:*";
  stream::Replayer replayer(ctx, ro);
  stream::RunOptions opt;
  opt.mode = mode;
  opt.from = replayer.endpoint();
  opt.publish = "tcp://127.0.0.1:*";
  opt.exit_at_end = true;
  stream::StreamRunner runner(ctx, opt);
  std::atomic<bool> stop{false};
  TelemetrySnapshot t;
  std::thread run_thread([&] { t = runner.run(stop); });
  const stream::ReplaySummary sum = replayer.run(stop);
  run_thread.join();
  if (rs) *rs = sum;
  return t;
}

void BM_StreamEndToEnd(benchmark::State& state) {
  const Recording& rec = recording(static_cast<int>(state.range(0)));
  const double rate = static_cast<double>(state.range(1)) / 100.0;
  TelemetrySnapshot t;
  stream::ReplaySummary rs;
  for (auto _ : state) {
    stream::ReplayOptions ro;
    ro.input = rec.path;
    ro.rate = rate;
    t = replay_into_run(ro, rec.mode, &rs);
  }
  const double cpis = static_cast<double>(t.cpis_processed + t.cpis_dropped);
  state.counters["rate_x_realtime"] = rate;
  state.counters["cpis"] = cpis;
  state.counters["cpis_dropped"] = static_cast<double>(t.cpis_dropped);
  state.counters["deadline_misses"] = static_cast<double>(t.deadline_misses);
  state.counters["e2e_p50_ms"] = t.end_to_end.p50_ms;
  state.counters["e2e_p99_ms"] = t.end_to_end.p99_ms;
  state.counters["e2e_max_ms"] = t.end_to_end.max_ms;
  state.counters["samples_per_s"] = t.samples_per_s_mean;
  state.counters["replay_late_frames"] = static_cast<double>(rs.late_frames);
  // What the replay achieved (the replayer shares the cores with the chain): recording time
  // streamed over wall time.
  state.counters["achieved_x_realtime"] =
      rs.seconds > 0 ? cpis * derive_geometry(rec.mode).cpi_duration_s / rs.seconds : 0.0;
  state.SetLabel(state.range(0) == 0 ? "demo" : "bench-small");
}

void BM_StreamCapacity(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const bool preload = state.range(1) == 1;
  const std::size_t depth = static_cast<std::size_t>(state.range(2));
  // Enough CPIs that a rate 10% over capacity overflows the ingest's buffers before the end
  // (the recording is shorter and replayed in a loop).
  const std::size_t recorded = which == 0 ? 48 : 24;
  const std::size_t cpis = which == 0 ? 240 : 48;
  constexpr int kTrials = 2;
  Mode mode = load_bench_mode(which);
  mode.processing.fft_planning = FftPlanning::Estimate;  // no planning in every trial
  mode.pipeline.cpis_in_flight = depth;
  const std::string mode_path = bench_dir() + "/" + kModes[which] + "-estimate.yaml";
  std::ofstream(mode_path) << mode_file_json(mode).dump(2);
  struct {
    std::string path;
    Mode mode;
  } rec{bench_recording(which, mode, recorded), mode};
  const double cpi_s = derive_geometry(rec.mode).cpi_duration_s;
  double capacity = 0.0, chain_rf = 0.0, dropped_above = 0.0, drop_rate_at_1 = -1.0;
  for (auto _ : state) {
    {  // the chain alone, same mode, same machine, this moment
      CpuChain chain(rec.mode);
      const Cpi in = random_cpi(rec.mode, 9);
      chain.process(in);
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t k = 0; k < recorded; ++k) chain.process(in);
      const double per_cpi =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
          double(recorded);
      chain_rf = cpi_s / per_cpi;
    }
    capacity = 0.0;
    bool held_so_far = true;
    for (double f : {0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1}) {
      std::uint64_t dropped = 0, fed = 0;
      for (int trial = 0; trial < kTrials; ++trial) {
        stream::ReplayOptions ro;
        ro.input = rec.path;
        ro.mode_path = mode_path;
        ro.verify_checksum = false;
        ro.rate = f * chain_rf;
        ro.datatype = io::IqDatatype::Ci16Le;
        ro.preload = preload;
        ro.loop = true;
        ro.max_cpis = cpis;
        const TelemetrySnapshot t = replay_into_run(ro, rec.mode, nullptr);
        dropped += t.cpis_dropped;
        fed += t.cpis_processed + t.cpis_dropped;
        if (t.cpis_dropped > 0 && held_so_far) {
          dropped_above = static_cast<double>(t.cpis_dropped);
          for (const CauseCount& c : t.cpis_dropped_by_cause)
            if (c.count) state.counters["dropped_" + c.cause] = static_cast<double>(c.count);
        }
        if (t.cpis_dropped == 0 && held_so_far && trial == kTrials - 1 && dropped == 0) {
          for (const LatencySummary& l : t.stage_latency)
            state.counters[l.name + "_p99_ms"] = l.p99_ms;
          state.counters["e2e_p99_ms"] = t.end_to_end.p99_ms;
        }
      }
      if (f == 1.0 && fed > 0) drop_rate_at_1 = double(dropped) / double(fed);
      if (dropped > 0) held_so_far = false;
      if (held_so_far) capacity = f;
      if (!held_so_far && f >= 1.0) break;
    }
  }
  state.counters["capacity_over_chain"] = capacity;
  state.counters["chain_x_realtime"] = chain_rf;
  state.counters["capacity_x_realtime"] = capacity * chain_rf;
  state.counters["dropped_above"] = dropped_above;
  state.counters["drop_rate_at_1"] = drop_rate_at_1;
  state.counters["cpis_in_flight"] = static_cast<double>(depth);
  state.SetLabel(std::string(kModes[which]) + (preload ? " preloaded sender" : " reading sender") +
                 " depth " + std::to_string(depth));
}

BENCHMARK(BM_StreamCapacity)
    ->ArgsProduct({{0, 1}, {0, 1}, {3, 8}})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_StreamEndToEnd)
    ->ArgsProduct({{0}, {50, 100, 150, 200, 300, 400}})
    ->ArgsProduct({{1}, {25, 50, 75, 100, 150, 200}})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace radarpipe::bench
