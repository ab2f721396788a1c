// The streaming runtime over real ZeroMQ sockets on loopback: a recording replayed over tcp
// through `run` gives the reports `process` gives, with the chain in one segment, in two
// segments over inproc and in three over inproc and ipc; a sender that skips a frame loses that
// CPI only; malformed frames are counted by cause and the process stays up. Handshakes, not
// sleeps: the runner holds its input until the test's subscriber is there, and the replayer
// starts when the runner is connected.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <zmq.hpp>

#include "io/detection_json.hpp"
#include "io/iq_frame.hpp"
#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "io/stream_messages.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_security.hpp"
#include "pipeline/stream/replay.hpp"
#include "pipeline/stream/runner.hpp"
#include "tests/support/stream_mode.hpp"

namespace fs = std::filesystem;

namespace radarpipe::stream {
namespace {

const std::string kMode = test::kStreamMode;

constexpr std::size_t kCpis = 8;
constexpr std::size_t kThreads = 2;

class Streaming : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("radarpipe_streaming_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    mode_ = parse_mode_yaml(kMode);
    io::Scenario sc;
    sc.seed = 11;
    sc.targets = {{"a", 900.0, 30.0, 0.0, 3.0, io::Swerling::Zero},
                  {"b", 2100.0, -55.0, 0.0, 0.0, io::Swerling::One}};
    SimulateOptions so;
    so.cpis = kCpis;
    so.output = (dir_ / "rec").string();
    so.datatype = "cf32_le";
    simulate_recording(mode_, sc, so);
    // The reference: file-mode processing of the same recording with the same mode.
    fs::path mode_file = dir_ / "mode.yaml";
    std::ofstream(mode_file) << kMode;
    ProcessOptions po;
    po.input = so.output;
    po.mode_path = mode_file.string();
    po.output = (dir_ / "ref.jsonl").string();
    po.threads = kThreads;
    std::ostringstream log;
    process_recording(po, log,
                      [&](const DetectionReport& r, const io::CpiSlot&, const SignalChain&) {
                        reference_.push_back(io::report_to_json(r).dump());
                      });
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static fs::path dir_;
  static Mode mode_;
  static std::vector<std::string> reference_;
};
fs::path Streaming::dir_;
Mode Streaming::mode_;
std::vector<std::string> Streaming::reference_;

// Reports (as JSON strings) and the stream's end, from a SUB socket.
struct Received {
  std::vector<std::string> reports;
  std::vector<ReportEnvelope> envelopes;
  bool ended = false;
  StreamEndInfo end;
};

Received collect(zmq::socket_t& sub, double timeout_s = 60) {
  Received r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!r.ended && std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{static_cast<void*>(sub), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
    zmq::message_t topic, payload;
    (void)sub.recv(topic);
    (void)sub.recv(payload);
    if (topic.to_string() == io::kTopicDetections) {
      ReportEnvelope env;
      r.reports.push_back(
          io::report_to_json(io::decode_report_pb(payload.to_string(), &env)).dump());
      r.envelopes.push_back(env);
    } else if (topic.to_string() == "detections.json") {
      r.reports.push_back(nlohmann::json::parse(payload.to_string()).dump());
    } else if (topic.to_string() == io::kTopicEnd) {
      r.end = io::decode_stream_end_pb(payload.to_string());
      r.ended = true;
    } else if (topic.to_string() == "end.json") {
      r.end.cpis_processed = nlohmann::json::parse(payload.to_string()).at("cpis_processed");
      r.ended = true;
    }
  }
  return r;
}

// Starts `runner` on its own thread, connects a subscriber and waits (through the runner's
// --wait-subscribers handshake) until it is seen; returns the subscriber.
zmq::socket_t subscribe(zmq::context_t& ctx, StreamRunner& runner) {
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, io::kTopicDetections);
  sub.set(zmq::sockopt::subscribe, io::kTopicEnd);
  sub.set(zmq::sockopt::linger, 0);
  sub.connect(runner.bound().at("publish"));
  return sub;
}

struct RunResult {
  Received got;
  TelemetrySnapshot telemetry;
};

RunResult replay_through(const Mode& mode, const std::string& recording, bool json = false,
                         std::size_t false_alarm_window = 100) {
  zmq::context_t ctx(1);
  ReplayOptions ro;
  ro.input = recording;
  ro.to = "tcp://127.0.0.1:*";
  ro.rate = 1.0;
  ro.pulses_per_frame = 5;  // frames do not divide the 32-pulse CPIs
  Replayer replayer(ctx, ro);
  RunOptions opt;
  opt.mode = mode;
  opt.from = replayer.endpoint();
  opt.publish = "tcp://127.0.0.1:*";
  opt.threads = kThreads;
  opt.wait_subscribers = 1;
  opt.exit_at_end = true;
  opt.format = json ? stream::RunOptions::Format::Json : stream::RunOptions::Format::Protobuf;
  opt.telemetry_interval_s = 0.05;
  opt.false_alarm_window_cpis = false_alarm_window;
  StreamRunner runner(ctx, opt);
  std::atomic<bool> stop{false};
  RunResult res;
  std::thread run_thread([&] { res.telemetry = runner.run(stop); });
  zmq::socket_t sub = subscribe(ctx, runner);
  std::thread replay_thread([&] { replayer.run(stop); });
  res.got = collect(sub);
  stop = true;  // only matters if something went wrong and the end never came
  replay_thread.join();
  run_thread.join();
  return res;
}

// An ipc socket file a process binds is its owner's alone (0700), whatever the umask; another
// socket of the same user still connects and delivers.
TEST(StreamingEndpoint, IpcSocketFilesAreTheOwnersAlone) {
  const fs::path file =
      fs::temp_directory_path() / ("radarpipe-ipc-" + std::to_string(getpid()) + ".sock");
  const mode_t old = ::umask(0);  // the loosest a site could run with
  zmq::context_t ctx;
  LinkSecurity none(ctx, SecurityConfig{}, "test", std::cerr);
  zmq::socket_t pull(ctx, zmq::socket_type::pull), push(ctx, zmq::socket_type::push);
  attach(pull, parse_endpoint("ipc://" + file.string(), true, "test"), "test", none);
  EXPECT_EQ(::umask(old), 0u);  // attach gave the process's umask back
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  push.connect("ipc://" + file.string());
  push.send(zmq::str_buffer("x"), zmq::send_flags::none);
  zmq::message_t m;
  ASSERT_TRUE(pull.recv(m));
  EXPECT_EQ(m.to_string(), "x");
  pull.close();
  push.close();
  fs::remove(file);
}

TEST_F(Streaming, OneSegmentOverTcpEqualsProcess) {
  ASSERT_EQ(reference_.size(), kCpis);
  const RunResult r = replay_through(mode_, (dir_ / "rec").string());
  EXPECT_TRUE(r.got.ended);
  EXPECT_EQ(r.got.reports, reference_);  // same detections, same order, bit for bit
  EXPECT_EQ(r.got.end.cpis_processed, kCpis);
  EXPECT_EQ(r.telemetry.cpis_processed, kCpis);
  EXPECT_EQ(r.telemetry.cpis_dropped, 0u);
  EXPECT_EQ(r.telemetry.frames_rejected, 0u);
  EXPECT_EQ(r.telemetry.frames_received, kCpis * 7 + 1);  // ceil(32 / 5) per CPI + the end
  EXPECT_EQ(r.telemetry.end_to_end.count, kCpis);
  EXPECT_GT(r.telemetry.end_to_end.p50_ms, 0.0);
  EXPECT_LE(r.telemetry.end_to_end.p50_ms, r.telemetry.end_to_end.p99_ms);
  EXPECT_LE(r.telemetry.end_to_end.p99_ms, r.telemetry.end_to_end.max_ms);
  ASSERT_EQ(r.telemetry.stage_latency.size(), 4u);  // queue + 3 stages
  EXPECT_EQ(r.telemetry.stage_latency[1].name, "pulse_compression");
  EXPECT_EQ(r.telemetry.stage_latency[1].count, kCpis);
  for (std::size_t i = 0; i < r.got.envelopes.size(); ++i) {
    EXPECT_EQ(r.got.envelopes[i].stream_id, 1u);
    EXPECT_EQ(r.got.envelopes[i].sequence, i);
  }
}

// The false-alarm monitor counts the reports' own cells and crossings over its window of the
// last CPIs (the reports themselves, decoded by the subscriber, are the reference), beside the
// design Pfa every report carries.
TEST_F(Streaming, TheFalseAlarmMonitorCountsTheLastCpis) {
  for (std::size_t window : {std::size_t{100}, std::size_t{3}}) {
    const RunResult r = replay_through(mode_, (dir_ / "rec").string(), false, window);
    ASSERT_EQ(r.got.reports.size(), kCpis);
    std::uint64_t cells = 0, crossings = 0;
    const std::size_t first = kCpis - std::min(window, kCpis);
    for (std::size_t i = 0; i < kCpis; ++i) {
      const nlohmann::json j = nlohmann::json::parse(r.got.reports[i]);
      EXPECT_EQ(j.at("design_pfa").get<double>(), mode_.processing.cfar.pfa);
      if (i < first) continue;
      cells += j.at("cells").get<std::uint64_t>();
      crossings += j.at("crossings").get<std::uint64_t>();
    }
    const FalseAlarmMonitor& f = r.telemetry.false_alarms;
    EXPECT_EQ(f.window_cpis, window);
    EXPECT_EQ(f.cpis, kCpis - first);
    EXPECT_EQ(f.cells, cells);
    EXPECT_EQ(f.crossings, crossings);
    EXPECT_GT(f.cells, 0u);
    EXPECT_EQ(f.design_pfa, mode_.processing.cfar.pfa);
    EXPECT_DOUBLE_EQ(f.crossings_per_cell,
                     static_cast<double>(crossings) / static_cast<double>(cells));
    EXPECT_DOUBLE_EQ(f.ratio, f.crossings_per_cell / f.design_pfa);
    EXPECT_LT(f.expected_low, f.design_pfa);
    EXPECT_GT(f.expected_high, f.design_pfa);
  }
}

TEST_F(Streaming, JsonFormatPublishesTheJsonLinesObjects) {
  const RunResult r = replay_through(mode_, (dir_ / "rec").string(), true);
  EXPECT_EQ(r.got.reports, reference_);
}

TEST_F(Streaming, TwoSegmentsOverInprocAndThreeOverInprocAndIpcEqualProcess) {
  Mode two = mode_;
  two.pipeline.segments = {
      {"compress", Stage::PulseCompression, Stage::PulseCompression, ""},
      {"detect", Stage::Doppler, Stage::Detection, "inproc://streaming-test-detect"}};
  RunResult r = replay_through(two, (dir_ / "rec").string());
  EXPECT_EQ(r.got.reports, reference_);
  EXPECT_EQ(r.telemetry.cpis_dropped, 0u);
  EXPECT_EQ(r.telemetry.link_messages_rejected, 0u);

  Mode three = mode_;
  const std::string ipc = "ipc://" + (dir_ / "cfar.ipc").string();
  three.pipeline.segments = {
      {"compress", Stage::PulseCompression, Stage::PulseCompression, ""},
      {"doppler", Stage::Doppler, Stage::Doppler, "inproc://streaming-test-doppler"},
      {"cfar", Stage::Detection, Stage::Detection, ipc}};
  r = replay_through(three, (dir_ / "rec").string());
  EXPECT_EQ(r.got.reports, reference_);
  EXPECT_EQ(r.telemetry.cpis_dropped, 0u);
}

// The test's own digitizer: the recording's CPIs as frames, with whatever the test does to them.
class Sender {
 public:
  /// Binds a tcp endpoint of its own, or connects to `connect_to` (a runner's bound input).
  Sender(zmq::context_t& ctx, const std::string& recording, const Mode& mode,
         const std::string& connect_to = {})
      : sock_(ctx, zmq::socket_type::push),
        reader_(recording),
        mode_(mode),
        source_(reader_, mode.processing.pulses, mode.radar.range_gates, mode.radar.pri_s) {
    sock_.set(zmq::sockopt::linger, 5000);
    // Connection events of this socket, for tests that need to know a peer came back.
    const std::string monitor = "inproc://sender-monitor-" + std::to_string(++instances_);
    zmq_socket_monitor(sock_.handle(), monitor.c_str(),
                       ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    events_ = zmq::socket_t(ctx, zmq::socket_type::pair);
    events_.set(zmq::sockopt::rcvtimeo, 30000);
    events_.connect(monitor);
    if (!connect_to.empty()) {
      sock_.connect(connect_to);
      endpoint_ = connect_to;
      return;
    }
    sock_.bind("tcp://127.0.0.1:*");
    endpoint_ = sock_.get(zmq::sockopt::last_endpoint);
  }
  const std::string& endpoint() const { return endpoint_; }
  /// Waits for the next connection event `event` (ZMQ_EVENT_ACCEPTED, ZMQ_EVENT_CONNECTED,
  /// ZMQ_EVENT_DISCONNECTED); false after 30 s without it.
  bool await_event(int event) {
    for (;;) {
      zmq::message_t head, address;
      if (!events_.recv(head, zmq::recv_flags::none)) return false;
      (void)events_.recv(address, zmq::recv_flags::none);
      std::uint16_t got;
      std::memcpy(&got, head.data(), 2);
      if (got == event) return true;
    }
  }

  void send_parts(const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      sock_.send(zmq::buffer(parts[i]),
                 i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  // CPI k in frames of `per_frame` pulses; returns the frames as [header, payload].
  std::vector<std::vector<std::string>> frames_of(std::size_t k, std::size_t per_frame) {
    Cpi cpi;
    source_.read(k, cpi);
    std::vector<std::vector<std::string>> out;
    const std::size_t P = mode_.processing.pulses, C = mode_.radar.channels,
                      N = mode_.radar.range_gates;
    for (std::size_t p0 = 0; p0 < P; p0 += per_frame) {
      io::IqFrameHeader h;
      h.stream_id = 4;
      h.sequence = seq_++;
      h.first_pulse = k * P + p0;
      h.pulses = static_cast<std::uint32_t>(std::min(per_frame, P - p0));
      h.gates = static_cast<std::uint32_t>(N);
      h.channels = static_cast<std::uint32_t>(C);
      h.timestamp_ns = source_.slots()[k].timestamp_ns +
                       std::llround(static_cast<double>(p0) * mode_.radar.pri_s * 1e9);
      const auto head = io::encode_iq_header(h);
      std::string payload(h.payload_bytes(), '\0');
      for (std::size_t i = 0; i < h.pulses; ++i)
        for (std::size_t c = 0; c < C; ++c)
          std::memcpy(&payload[((i * C + c) * N) * 8], cpi.row(c, p0 + i), N * 8);
      out.push_back({std::string(head.begin(), head.end()), payload});
    }
    return out;
  }
  void end() {
    io::IqFrameHeader h;
    h.stream_id = 4;
    h.sequence = seq_++;
    h.gates = static_cast<std::uint32_t>(mode_.radar.range_gates);
    h.channels = static_cast<std::uint32_t>(mode_.radar.channels);
    h.flags = io::kIqEndOfStream;
    const auto head = io::encode_iq_header(h);
    send_parts({std::string(head.begin(), head.end()), std::string()});
  }

 private:
  zmq::socket_t sock_, events_;
  static inline int instances_ = 0;
  io::SigmfReader reader_;
  Mode mode_;
  io::RecordingCpiSource source_;
  std::string endpoint_;
  std::uint64_t seq_ = 0;
};

// One segment fed from `from`, publishing on loopback, until the stream ends.
RunOptions one_segment(const Mode& mode, const std::string& from) {
  RunOptions opt;
  opt.mode = mode;
  opt.from = from;
  opt.publish = "tcp://127.0.0.1:*";
  opt.threads = kThreads;
  opt.wait_subscribers = 1;
  opt.exit_at_end = true;
  return opt;
}

// Runs `send` against a runner; returns what a subscriber got and the final telemetry.
RunResult with_sender(const Mode& mode, const std::string& recording,
                      const std::function<void(Sender&)>& send) {
  zmq::context_t ctx(1);
  Sender sender(ctx, recording, mode);
  StreamRunner runner(ctx, one_segment(mode, sender.endpoint()));
  std::atomic<bool> stop{false};
  RunResult res;
  std::thread run_thread([&] { res.telemetry = runner.run(stop); });
  zmq::socket_t sub = subscribe(ctx, runner);
  std::thread send_thread([&] { send(sender); });
  res.got = collect(sub);
  stop = true;
  send_thread.join();
  run_thread.join();
  return res;
}

// `run` binding its IQ input: a stranger connects and sends a message part larger than any
// frame can be (one CPI in cf32); ZeroMQ drops that peer before the part is allocated
// (ZMQ_MAXMSGSIZE) and the input stays open: the digitizer that connects next streams every CPI
// through, and the oversized part never counts as received.
TEST_F(Streaming, AnOversizedMessageDropsItsPeerNotTheInput) {
  zmq::context_t ctx(1);
  StreamRunner runner(ctx, one_segment(mode_, "@tcp://127.0.0.1:*"));
  std::atomic<bool> stop{false};
  RunResult r;
  std::thread run_thread([&] { r.telemetry = runner.run(stop); });
  zmq::socket_t sub = subscribe(ctx, runner);
  const std::string input = runner.bound().at("iq");
  const std::string rec = (dir_ / "rec").string();
  const std::size_t cube_bytes =
      mode_.radar.channels * mode_.processing.pulses * mode_.radar.range_gates * sizeof(cf32);
  Sender stranger(ctx, rec, mode_, input);
  ASSERT_TRUE(stranger.await_event(ZMQ_EVENT_CONNECTED));
  // One byte over what the input allows (a cube's pulses, plus CURVE's framing margin).
  const auto over = static_cast<std::size_t>(max_message_bytes(cube_bytes)) + 1;
  stranger.send_parts({stranger.frames_of(0, 8)[0][0], std::string(over, 'x')});
  EXPECT_TRUE(stranger.await_event(ZMQ_EVENT_DISCONNECTED));
  std::thread send_thread([&] {
    Sender digitizer(ctx, rec, mode_, input);
    EXPECT_TRUE(digitizer.await_event(ZMQ_EVENT_CONNECTED));  // a handshake, not a guess
    for (std::size_t k = 0; k < kCpis; ++k)
      for (const auto& f : digitizer.frames_of(k, 8)) digitizer.send_parts(f);
    digitizer.end();
  });
  r.got = collect(sub);
  stop = true;
  send_thread.join();
  run_thread.join();
  EXPECT_EQ(r.got.reports, reference_);
  EXPECT_EQ(r.telemetry.cpis_dropped, 0u);
  EXPECT_EQ(r.telemetry.frames_rejected, 0u);
  EXPECT_EQ(r.telemetry.frames_received, kCpis * 4 + 1);  // the oversized one never arrived
}

TEST_F(Streaming, ASkippedFrameDropsThatCpiAndLaterCpisAreRight) {
  const RunResult r = with_sender(mode_, (dir_ / "rec").string(), [](Sender& s) {
    for (std::size_t k = 0; k < kCpis; ++k) {
      const auto frames = s.frames_of(k, 8);
      for (std::size_t f = 0; f < frames.size(); ++f)
        if (!(k == 2 && f == 1)) s.send_parts(frames[f]);
    }
    s.end();
  });
  std::vector<std::string> want = reference_;
  want.erase(want.begin() + 2);
  EXPECT_EQ(r.got.reports, want);
  EXPECT_EQ(r.telemetry.cpis_dropped, 1u);
  EXPECT_EQ(r.telemetry.dropped("sequence_gap"), 1u);
  EXPECT_EQ(r.telemetry.sequence_gaps, 1u);
  EXPECT_EQ(r.telemetry.frames_missing, 1u);
  // Reports after the drop say so.
  ASSERT_EQ(r.got.envelopes.size(), kCpis - 1);
  EXPECT_EQ(r.got.envelopes[1].cpis_dropped, 0u);
  EXPECT_EQ(r.got.envelopes[2].cpis_dropped, 1u);
}

TEST_F(Streaming, MalformedFramesAreCountedByCauseAndTheProcessStaysUp) {
  const RunResult r = with_sender(mode_, (dir_ / "rec").string(), [](Sender& s) {
    auto frames = s.frames_of(0, 8);
    for (const auto& f : frames) s.send_parts(f);
    const auto good = s.frames_of(1, 32)[0];  // a whole CPI in one frame: its parts to corrupt
    auto with_header_byte = [&](std::size_t at, char v) {
      std::string h = good[0];
      h[at] = v;
      return std::vector<std::string>{h, good[1]};
    };
    s.send_parts(with_header_byte(0, 'X'));                          // magic
    s.send_parts(with_header_byte(4, 7));                            // version
    s.send_parts(with_header_byte(52, 5));                           // datatype
    s.send_parts(with_header_byte(46, 0x7f));                        // gates absurd
    s.send_parts({good[0], good[1].substr(0, good[1].size() - 8)});  // truncated payload
    s.send_parts({good[0].substr(0, 40), good[1]});                  // truncated header
    s.send_parts({good[0]});                                         // one part
    s.send_parts({good[0], good[1], "x"});                           // three parts
    // CPI 1 whole (the corrupt copies above did not advance the sequence), then CPI 2 with a
    // frame whose size disagrees with its header: CPI 2 is dropped, CPI 3 is right.
    for (const auto& f : s.frames_of(1, 8)) s.send_parts(f);
    auto c2 = s.frames_of(2, 8);
    c2[2][1].resize(c2[2][1].size() / 2);
    for (const auto& f : c2) s.send_parts(f);
    for (const auto& f : s.frames_of(3, 8)) s.send_parts(f);
    s.end();
  });
  EXPECT_EQ(r.got.reports, (std::vector<std::string>{reference_[0], reference_[1], reference_[3]}));
  const TelemetrySnapshot& t = r.telemetry;
  EXPECT_EQ(t.rejected("magic"), 1u);
  EXPECT_EQ(t.rejected("version"), 1u);
  EXPECT_EQ(t.rejected("datatype"), 1u);
  EXPECT_EQ(t.rejected("dimensions"), 1u);
  EXPECT_EQ(t.rejected("payload_size"), 2u);
  EXPECT_EQ(t.rejected("header_size"), 1u);
  EXPECT_EQ(t.rejected("parts"), 2u);
  EXPECT_EQ(t.frames_rejected, 9u);
  EXPECT_EQ(t.dropped("rejected_frame"), 1u);
  EXPECT_EQ(t.cpis_dropped, 1u);
  EXPECT_EQ(t.cpis_processed, 3u);
}

TEST(StreamingLinks, InprocHandsThePooledBufferItselfOver) {
  zmq::context_t ctx(1);
  BufferPool pool(2, 4096);
  zmq::socket_t pull(ctx, zmq::socket_type::pull), push(ctx, zmq::socket_type::push);
  pull.bind("inproc://zero-copy-test");
  push.connect("inproc://zero-copy-test");
  void* buf = pool.try_acquire();
  std::memset(buf, 0x5a, 4096);
  zmq::message_t m(buf, 4096, &BufferPool::release_fn, &pool);
  push.send(m, zmq::send_flags::none);
  EXPECT_EQ(pool.available(), 1u);  // in flight
  {
    zmq::message_t got;
    ASSERT_TRUE(pull.recv(got));
    EXPECT_EQ(got.data(), buf);  // the same memory, not a copy
    EXPECT_EQ(pool.available(), 1u);
  }
  EXPECT_EQ(pool.available(), 2u);  // back in the pool when the receiver lets go
}

TEST(StreamingOptions, BadOptionsNameWhatIsWrong) {
  zmq::context_t ctx(1);
  RunOptions opt;
  opt.mode = parse_mode_yaml(kMode);
  opt.publish = "tcp://127.0.0.1:*";
  auto error = [&](RunOptions o) {
    try {
      StreamRunner r(ctx, o);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(opt).find("--from: this process runs the first segment"), std::string::npos);
  opt.from = "udp://x";
  EXPECT_NE(error(opt).find("'udp://x' is not a ZeroMQ endpoint"), std::string::npos);
  opt.from = "tcp://127.0.0.1:1";
  opt.segments = {"nope"};
  EXPECT_NE(error(opt).find("--segment nope: the mode has no such segment (chain)"),
            std::string::npos);
  opt.segments = {};
  opt.publish = "@tcp://256.0.0.1:5";
  EXPECT_NE(error(opt).find("--publish: cannot bind tcp://256.0.0.1:5"), std::string::npos)
      << error(opt);
}

}  // namespace
}  // namespace radarpipe::stream
