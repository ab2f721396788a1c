// The VRT source's ingest (docs/streaming.md "VRT source"): 8972-byte datagrams (a 9000-byte
// MTU) of 16-bit complex samples (2236 per packet, DIFI's 7-word prologue) on loopback UDP, one
// continuous 200 MS/s stream (an X310-class channel: 6.4 Gb/s of samples), its timestamps
// advancing as a digitizer's would.
//
// BM_VrtIngest/<what>/<rate>: what 0 is a bare recvmmsg loop on the source's own socket
// (io::VrtUdpReceiver: 64 datagrams a call, the kernel's drop count read), 1 the same socket
// feeding the assembler (VrtAssembler: parse, timestamps to positions, continuous windows cut
// straight into pooled CPI buffers, which a consumer hands back at once); both in the same run.
// A sender thread sends with sendmmsg, as fast as it can (rate 0) or paced at `rate` thousand
// packets/s. Each iteration is one second of receiving. Counters: packets/s and Gb/s received
// (the packets' bytes), the fraction the kernel dropped (receive buffer full: the receiver was
// slower than the sender), and for the assembler the CPIs assembled and dropped. Unpaced, the
// receiver is saturated and its rate is its capacity; paced below that, zero drops says the rate
// is sustained.
//
// BM_VrtEndToEnd/<mode>/<rate x 100>: mode 0 the demo, 1 bench-small; a simulated recording
// replayed as VRT (radarpipe replay's DIFI sender, gated, over UDP on loopback) at rate x real
// time into `radarpipe run` in this process (the whole chain behind the VRT source); counters:
// CPIs dropped (by the ingest: no free buffer, or packets the kernel dropped), the kernel's
// drops, deadline misses, end-to-end latency and samples/s. The sender shares the two cores.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "bench/bench_common.hpp"
#include "io/be.hpp"
#include "io/scenario.hpp"
#include "io/vrt.hpp"
#include "io/vrt_socket.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/runner.hpp"
#include "pipeline/stream/vrt_assembler.hpp"
#include "pipeline/stream/vrt_replay.hpp"

namespace radarpipe::bench {
namespace {

namespace vrt = io::vrt;

constexpr double kFs = 200e6;
constexpr std::size_t kSamples = 2236;  // (8972 - 28) / 4
constexpr std::uint32_t kSecond = 1800000000;

Mode ingest_mode() {
  Mode m;
  m.radar.sample_rate_hz = kFs;
  m.radar.pri_s = 100e-6;  // 20000 samples
  m.radar.window_start_s = 1e-6;
  m.radar.range_gates = 16384;
  m.radar.channels = 1;
  m.radar.waveform.pulse_width_s = 1e-6;
  m.radar.waveform.bandwidth_hz = 50e6;
  m.processing.pulses = 16;
  m.processing.doppler_fft_size = 16;
  m.input.vrt.timing = PulseTiming::Continuous;
  m.validate();
  return m;
}

// A sender of one continuous stream: packet j holds samples j x 2236 .., stamped so.
class Sender {
 public:
  Sender(const std::string& to, double rate_pps) : rate_(rate_pps) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    const int sndbuf = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    const io::VrtEndpoint e = io::parse_vrt_endpoint("vrt+udp://" + to, false, "bench");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(e.port)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    // One packet's bytes, samples of a noise-like pattern; each send rewrites count and time.
    std::vector<cf32> s(kSamples);
    for (std::size_t i = 0; i < kSamples; ++i)
      s[i] = cf32(static_cast<float>((i * 7919) % 4001) - 2000.0f,
                  static_cast<float>((i * 104729) % 3001) - 1500.0f);
    std::vector<unsigned char> payload(vrt::payload_bytes(vrt::PayloadFormat::sc16(), kSamples));
    vrt::encode_payload(vrt::PayloadFormat::sc16(), s.data(), kSamples, payload.data());
    vrt::Prologue p;
    p.stream_id = 1;
    p.class_id = vrt::ClassId{0, 0x6A621E, 0, 0};
    p.tsi = vrt::Tsi::Other;
    p.tsf = vrt::Tsf::RealTime;
    p.not_v49_0 = false;
    packet_.resize(9000);
    packet_.resize(vrt::encode_data(p, payload.data(), payload.size(), std::nullopt, packet_.data(),
                                    packet_.size()));
    for (auto& b : batch_) b = packet_;
    thread_ = std::thread([this] { loop(); });
  }
  ~Sender() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::uint64_t sent() const { return sent_.load(); }
  std::size_t packet_bytes() const { return packet_.size(); }

 private:
  void loop() {
    using clock = std::chrono::steady_clock;
    constexpr std::size_t kBatch = 32;
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    const auto start = clock::now();
    std::uint64_t j = 0;
    while (!stop_.load()) {
      for (std::size_t i = 0; i < kBatch; ++i, ++j) {
        unsigned char* b = batch_[i].data();
        const std::uint32_t head = io::be::get<std::uint32_t>(b);
        io::be::put<std::uint32_t>(b, (head & ~0xF0000u) | static_cast<std::uint32_t>(j & 15)
                                                               << 16);
        // Sample j x 2236 at 5 ns a sample: picoseconds since kSecond.
        const std::uint64_t ps = j * kSamples * 5000;
        io::be::put<std::uint32_t>(b + 16,
                                   kSecond + static_cast<std::uint32_t>(ps / 1000000000000));
        io::be::put<std::uint64_t>(b + 20, ps % 1000000000000);
        iov[i] = {b, packet_.size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      std::size_t done = 0;
      while (done < kBatch && !stop_.load()) {
        const int n = sendmmsg(fd_, msgs + done, static_cast<unsigned>(kBatch - done), 0);
        if (n > 0) done += static_cast<std::size_t>(n);
      }
      sent_.fetch_add(done);
      if (rate_ > 0) {
        const auto due = start + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(j) / rate_));
        std::this_thread::sleep_until(due);
      }
    }
  }
  int fd_ = -1;
  double rate_;
  std::vector<unsigned char> packet_;
  std::vector<unsigned char> batch_[32];
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

void BM_VrtIngest(benchmark::State& state) {
  const bool assemble = state.range(0) == 1;
  const double rate = static_cast<double>(state.range(1)) * 1000.0;
  static const Mode mode = ingest_mode();
  io::VrtEndpoint ep = io::parse_vrt_endpoint("vrt+udp://127.0.0.1:*", false, "bench");
  io::VrtUdpReceiver rx(ep, 64u << 20);
  const std::size_t cube = mode.processing.pulses * mode.radar.range_gates;
  stream::BufferPool pool(4, cube * sizeof(cf32));
  stream::VrtCounters counters;
  stream::AssemblerCounters frames;
  stream::VrtAssembler assembler(
      mode, counters, frames, [&] { return pool.try_acquire(); }, [&](void* b) { pool.release(b); },
      [&](const stream::AssembledCpi& a) { pool.release(a.buffer); },  // the chain, at once
      nullptr);
  Sender tx(rx.bound(), rate);
  std::uint64_t packets = 0, bytes = 0;
  double seconds = 0;
  const std::uint64_t drops0 = rx.kernel_drops(), sent0 = tx.sent();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1)) {
      const std::size_t n = rx.receive(10);
      for (std::size_t i = 0; i < n; ++i) {
        bytes += rx.size(i);
        if (assemble) assembler.push(rx.datagram(i), rx.size(i), 0);
      }
      packets += n;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds += s;
    state.SetIterationTime(s);
  }
  const double sent = static_cast<double>(tx.sent() - sent0);
  state.counters["packets_per_s"] = static_cast<double>(packets) / seconds;
  state.counters["gbit_per_s"] = static_cast<double>(bytes) * 8e-9 / seconds;
  state.counters["samples_per_s"] = static_cast<double>(packets * kSamples) / seconds;
  state.counters["sent_per_s"] = sent / seconds;
  state.counters["kernel_dropped_fraction"] =
      sent > 0 ? static_cast<double>(rx.kernel_drops() - drops0) / sent : 0.0;
  state.counters["x310_channels"] = static_cast<double>(packets * kSamples) / seconds / kFs;
  if (assemble) {
    state.counters["cpis_assembled"] = static_cast<double>(frames.cpis_assembled.load());
    state.counters["cpis_dropped"] = static_cast<double>(frames.cpis_dropped.load());
  }
  state.counters["receive_buffer_bytes"] = static_cast<double>(rx.receive_buffer());
}
// Unpaced (the receiver's capacity), then paced at 100 k, 200 k and 300 k packets/s (7.2, 14.4
// and 21.5 Gb/s of packets).
BENCHMARK(BM_VrtIngest)
    ->ArgsProduct({{0, 1}, {0, 100, 200, 300}})
    ->ArgNames({"assemble", "kpps"})
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

struct VrtRecording {
  std::string path;
  Mode mode;
};

const VrtRecording& vrt_recording(int which) {
  static VrtRecording recs[2];
  VrtRecording& r = recs[which];
  if (!r.path.empty()) return r;
  const BenchRecording b = simulate_bench_recording(which == 0 ? "demo" : "bench-small",
                                                    which == 0 ? 40 : 12, "vrt-bench");
  r.path = b.path;
  r.mode = b.mode;
  for (std::size_t c = 0; c < r.mode.radar.channels; ++c)
    r.mode.input.vrt.stream_ids.push_back(static_cast<std::uint32_t>(100 + c));
  r.mode.input.vrt.scale = b.scale;
  return r;
}

void BM_VrtEndToEnd(benchmark::State& state) {
  const VrtRecording& rec = vrt_recording(static_cast<int>(state.range(0)));
  const double rate = static_cast<double>(state.range(1)) / 100.0;
  TelemetrySnapshot t;
  stream::ReplaySummary rs;
  for (auto _ : state) {
    zmq::context_t ctx(1);
    stream::RunOptions opt;
    opt.mode = rec.mode;
    opt.from = "vrt+udp://127.0.0.1:*";
    opt.publish = "tcp://127.0.0.1:*";
    stream::StreamRunner runner(ctx, opt);
    stream::ReplayOptions ro;
    ro.input = rec.path;
    ro.rate = rate;
    ro.to = "vrt+udp://" + runner.bound().at("iq");
    ro.stream_id = 100;  // the stream IDs the mode names (the recording's own mode has none)
    stream::VrtReplayer replayer(ro, stream::VrtReplayOptions{});
    std::atomic<bool> stop{false}, sent{false};
    std::thread run_thread([&] { t = runner.run(stop); });
    rs = replayer.run(sent);
    // UDP has no end: wait until every CPI is processed or dropped (2 s at most), then stop.
    const std::uint64_t want = replayer.cpis_in_recording();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      const TelemetrySnapshot now = runner.telemetry();
      if (now.cpis_processed + now.cpis_dropped >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
    run_thread.join();
  }
  const double cpis = static_cast<double>(t.cpis_processed + t.cpis_dropped);
  state.counters["rate_x_realtime"] = rate;
  state.counters["cpis"] = cpis;
  state.counters["cpis_dropped"] = static_cast<double>(t.cpis_dropped);
  state.counters["kernel_drops"] = static_cast<double>(t.vrt.kernel_drops);
  state.counters["deadline_misses"] = static_cast<double>(t.deadline_misses);
  state.counters["e2e_p50_ms"] = t.end_to_end.p50_ms;
  state.counters["e2e_p99_ms"] = t.end_to_end.p99_ms;
  state.counters["samples_per_s"] = t.samples_per_s_mean;
  state.counters["achieved_x_realtime"] =
      rs.seconds > 0 ? cpis * derive_geometry(rec.mode).cpi_duration_s / rs.seconds : 0.0;
  state.SetLabel(state.range(0) == 0 ? "demo" : "bench-small");
}
BENCHMARK(BM_VrtEndToEnd)
    ->ArgsProduct({{0}, {50, 100, 200, 300}})
    ->ArgsProduct({{1}, {25, 50, 75, 100, 150}})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace radarpipe::bench
