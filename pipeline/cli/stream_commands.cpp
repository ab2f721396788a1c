#include "pipeline/cli/stream_commands.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "io/curve_cert.hpp"
#include "io/detection_json.hpp"
#include "io/message_text.hpp"
#include "io/stream_messages.hpp"
#include "io/time.hpp"
#include "io/vrt_socket.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_security.hpp"
#include "pipeline/stream/replay.hpp"
#include "pipeline/stream/runner.hpp"
#include "pipeline/stream/vrt_replay.hpp"

namespace radarpipe::cli {
namespace {

// SIGINT and SIGTERM become a flag: they are blocked in every thread (ZeroMQ's included, so
// create this before the context) and one thread waits for them.
class SignalStop {
 public:
  SignalStop() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    waiter_ = std::thread([this] {
      const timespec tick{0, 50 * 1000 * 1000};
      while (!done_.load()) {
        const int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
          signal_ = sig;
          stop_ = true;
        }
      }
    });
  }
  ~SignalStop() {
    done_ = true;
    waiter_.join();
  }
  const std::atomic<bool>& flag() const { return stop_; }
  int signal() const { return signal_.load(); }

 private:
  sigset_t set_;
  std::atomic<bool> stop_{false}, done_{false};
  std::atomic<int> signal_{0};
  std::thread waiter_;
};

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

double parse_rate(const std::string& s) {
  if (s == "realtime") return 1.0;
  if (s == "max") return 0.0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0.0) || !std::isfinite(v))
    throw std::invalid_argument("--rate: '" + s +
                                "' is not realtime, max or a factor > 0 (2 = twice real time)");
  return v;
}

// Receives [topic, payload] messages on a SUB socket until `handle` says done, a count is
// reached, `timeout_s` of silence passes (exit 1) or a signal (exit 0).
int subscribe_loop(const std::string& endpoint, const std::vector<std::string>& topics,
                   double timeout_s, const char* who, const SecurityConfig& security,
                   const std::function<bool(const std::string&, const std::string&)>& handle) {
  SignalStop signals;
  zmq::context_t ctx(1);
  std::unique_ptr<stream::LinkSecurity> sec;
  try {
    sec = std::make_unique<stream::LinkSecurity>(ctx, security, std::string("radarpipe ") + who,
                                                 std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "radarpipe " << who << ": " << e.what() << "\n";
    return 2;
  }
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  // A publisher that announces a message over 256 MiB is dropped by ZeroMQ before anything is
  // allocated (a report of 65536 detections is about 15 MB of JSON).
  sub.set(zmq::sockopt::maxmsgsize, std::int64_t{256} << 20);
  for (const std::string& t : topics) sub.set(zmq::sockopt::subscribe, t);
  try {
    stream::attach(sub, stream::parse_endpoint(endpoint, false, who), who, *sec);
  } catch (const std::exception& e) {
    std::cerr << "radarpipe " << who << ": " << e.what() << "\n";
    return 2;
  }
  auto last = std::chrono::steady_clock::now();
  while (!signals.flag().load()) {
    zmq::pollitem_t item{static_cast<void*>(sub), 0, ZMQ_POLLIN, 0};
    if (stream::poll_some(&item, 1, 50) == 0) {
      if (timeout_s > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - last).count() >
              timeout_s) {
        std::cerr << "radarpipe " << who << ": nothing from " << endpoint << " in " << timeout_s
                  << " s\n";
        return 1;
      }
      continue;
    }
    zmq::message_t topic, payload;
    if (!sub.recv(topic, zmq::recv_flags::dontwait)) continue;
    if (!topic.more()) continue;
    (void)sub.recv(payload, zmq::recv_flags::none);
    while (payload.more()) (void)sub.recv(payload, zmq::recv_flags::none);
    last = std::chrono::steady_clock::now();
    // A message that does not decode (malformed JSON or protobuf, a field of the wrong type)
    // is dropped and said, and the subscription goes on.
    try {
      if (handle(topic.to_string(), payload.to_string())) return 0;
    } catch (const std::exception& e) {
      std::cerr << "radarpipe " << who << ": dropped a message: " << e.what() << "\n";
    }
    std::cout.flush();
  }
  return 0;
}

// replay --to vrt+...: the recording as VITA 49 packets (vrt_replay.hpp).
int replay_vrt(const stream::ReplayOptions& replay_opt_, stream::VrtReplayOptions replay_vrt_,
               const std::string& replay_vrt_timing_, SignalStop& signals) {
  if (!replay_vrt_timing_.empty()) {
    replay_vrt_.timing_given = true;
    replay_vrt_.timing =
        replay_vrt_timing_ == "gated" ? PulseTiming::Gated : PulseTiming::Continuous;
  }
  stream::VrtReplayer rp(replay_opt_, replay_vrt_);
  std::fprintf(
      stderr,
      "radarpipe replay: streaming %zu CPIs of %s%s as VRT (%s, one LSB = %.9g) to %s at "
      "%s\n",
      rp.cpis_in_recording(), replay_opt_.input.c_str(), replay_opt_.loop ? " (looping)" : "",
      replay_vrt_.format.c_str(), rp.scale(), rp.endpoint().c_str(),
      replay_opt_.rate == 0 ? "the receiver's pace"
                            : (io::two_decimals(replay_opt_.rate) + " x real time").c_str());
  std::fflush(stderr);
  const stream::ReplaySummary s = rp.run(signals.flag());
  std::fprintf(
      stderr, "radarpipe replay: %llu CPIs in %llu packets, %.1f MB in %.2f s (%.1f MB/s)%s\n",
      static_cast<unsigned long long>(s.cpis), static_cast<unsigned long long>(s.frames),
      static_cast<double>(s.bytes) / 1e6, s.seconds, s.bytes_per_s() / 1e6,
      signals.signal() ? (std::string("; stopped by ") + signal_name(signals.signal())).c_str()
                       : "");
  return 0;
}

// The CURVE key files of a command (docs/security.md), over the mode's security: section.
void add_security_options(CLI::App* cmd, SecurityConfig& sec, bool server) {
  cmd->add_option("--key", sec.key,
                  "CURVE: this process's secret certificate (radarpipe keygen's NAME.key_secret); "
                  "default: the mode's security.key");
  cmd->add_option("--server-key", sec.server_key,
                  "CURVE: the public certificate of the endpoints this process connects to");
  if (server)
    cmd->add_option("--authorized-keys", sec.authorized_keys,
                    "CURVE: a folder of public certificates (*.key), or one, that may connect to "
                    "the endpoints this process binds");
}

}  // namespace

StreamCommands::StreamCommands(CLI::App& app) {
  replay_ = app.add_subcommand(
      "replay", "Stream a recording as IQ frames or VITA 49 packets (a digitizer stand-in)");
  replay_->add_option("REC", replay_opt_.input, "recording")->required();
  replay_
      ->add_option("--to", replay_opt_.to,
                   "endpoint to stream on: ZeroMQ (binds unless >ENDPOINT), "
                   "vrt+udp://HOST:PORT or vrt+tcp://HOST:PORT (listens unless >)")
      ->required();
  replay_->add_option("--mode", replay_mode_, "mode file; default: the recording's own");
  replay_->add_option("--rate", replay_rate_, "realtime (PRI pacing), max, or a factor (2 = 2x)");
  replay_->add_flag("--loop", replay_opt_.loop, "start again at the end, until stopped");
  replay_->add_option("--pulses-per-frame", replay_opt_.pulses_per_frame, "pulses in one frame");
  replay_->add_option("--stream-id", replay_opt_.stream_id, "the frames' stream id");
  replay_->add_option("--datatype", replay_datatype_, "cf32_le or ci16_le")
      ->check(CLI::IsMember({"cf32_le", "ci16_le"}));
  replay_->add_option("--cpis", replay_opt_.max_cpis, "stop after this many CPIs");
  replay_->add_flag("--preload", replay_opt_.preload,
                    "encode every frame before sending the first (for rates a reader could not "
                    "feed; memory: the CPIs sent)");
  replay_->add_flag("--skip-checksum", replay_skip_checksum_, "do not verify core:sha512");
  replay_
      ->add_option("--vrt-timing", replay_vrt_timing_,
                   "VRT: gated or continuous (default: the mode's input.vrt.timing)")
      ->check(CLI::IsMember({"gated", "continuous"}));
  replay_
      ->add_option("--vrt-format", replay_vrt_.format,
                   "VRT payload: difi (16-bit, DIFI's format words), sc8, sc12, sc16, cf32")
      ->check(CLI::IsMember({"difi", "sc8", "sc12", "sc16", "cf32"}));
  replay_->add_option("--max-packet-bytes", replay_vrt_.max_packet_bytes,
                      "VRT: largest packet (8972: a 9000-byte MTU)");
  replay_->add_flag("--vrt-trailer", replay_vrt_.trailer,
                    "VRT: a trailer on data packets (valid data, calibrated time)");
  replay_->add_flag("!--vrt-no-class-id", replay_vrt_.class_id,
                    "VRT: packets without class IDs (DIFI's are sent by default)");
  add_security_options(replay_, replay_sec_, true);

  run_ = app.add_subcommand("run", "Run the chain on a live IQ stream, publish detections");
  run_->add_option("--mode", run_mode_, "mode file (YAML)")->required();
  run_->add_option("--from", run_opt_.from, "IQ stream endpoint (connects unless @ENDPOINT)");
  run_->add_option("--publish", run_opt_.publish, "reports endpoint (binds unless >ENDPOINT)");
  run_->add_option("--telemetry", run_opt_.telemetry,
                   "telemetry endpoint (default: on --publish, topic telemetry)");
  run_->add_option("--subscriber-queue", run_opt_.subscriber_queue,
                   "reports queued per subscriber before a stalled one loses the newest (1000)");
  run_->add_option("--metrics", run_opt_.metrics,
                   "HOST:PORT to serve Prometheus metrics on (GET /metrics; PORT 0: a free one)");
  run_->add_option("--format", run_format_, "protobuf, json, or both (each report on both topics)")
      ->check(CLI::IsMember({"protobuf", "json", "both"}));
  run_->add_option("--asterix", run_opt_.asterix_destination,
                   "send ASTERIX to udp://HOST:PORT instead of the mode's asterix.destination "
                   "(- for none)");
  run_->add_option("--segment", run_opt_.segments,
                   "run only this segment of the mode's pipeline (repeatable)");
  run_->add_option("--link", run_links_, "NAME=ENDPOINT: the link into segment NAME (repeatable)");
  run_->add_option("--threads", run_opt_.threads, "chain workers per segment (0: share the cores)");
  run_->add_option("--fft-wisdom", run_opt_.fft_wisdom,
                   "FFT wisdom file (none: none; default: the mode's, else the per-user cache)");
  run_->add_option("--cfar-factors", run_opt_.cfar_factors,
                   "directory of solved CFAR factors (none: solve every start; default: the "
                   "per-user cache)");
  run_->add_option("--clutter-map", run_opt_.clutter_map,
                   "the clutter map's file: loaded at start when it exists, saved every "
                   "--clutter-map-save seconds and at the end (none: not kept; default: the "
                   "mode's processing.clutter_map.file)");
  run_->add_option("--progress-dir", run_opt_.progress_dir,
                   "folder where segments fed from another process keep their last finished CPI, "
                   "so that a restart counts what a killed process lost (lost_in_flight)");
  run_->add_option("--clutter-map-save", run_opt_.clutter_map_save_s,
                   "seconds between saves of the clutter map while running")
      ->check(CLI::Range(1.0, 86400.0));
  run_->add_option("--backend", run_backend_, "auto, cpu or cuda (overrides the mode)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run_->add_option("--telemetry-interval", run_opt_.telemetry_interval_s, "seconds");
  run_->add_option("--false-alarm-window", run_opt_.false_alarm_window_cpis,
                   "CPIs the false-alarm monitor counts over (telemetry false_alarms)")
      ->check(CLI::Range(1, 1000000));
  run_->add_option("--wait-subscribers", run_opt_.wait_subscribers,
                   "hold the input until this many report subscribers are connected");
  run_->add_flag("--exit-at-end", run_opt_.exit_at_end,
                 "exit once the IQ stream ends and its last CPI is published");
  add_security_options(run_, run_sec_, true);

  record_ = app.add_subcommand("record", "Record a live IQ stream (IQ frames or VRT) to SigMF");
  record_->add_option("--mode", record_mode_, "mode file (YAML)")->required();
  record_->add_option("--from", record_opt_.from,
                      "IQ stream endpoint, as run --from (default: the mode's input.from)");
  record_
      ->add_option("-o,--output", record_opt_.output,
                   "recording name: NAME.sigmf-meta and NAME.sigmf-data")
      ->required();
  record_
      ->add_option("--datatype", record_opt_.datatype,
                   "ci16_le or cf32_le (default: ci16_le for integer VRT input, else cf32_le)")
      ->check(CLI::IsMember({"ci16_le", "cf32_le"}));
  record_->add_option("--scale", record_opt_.scale,
                      "ci16_le: the value of one LSB (default: the mode's input.vrt.scale)");
  record_->add_flag("--archive", record_opt_.archive, "write one NAME.sigmf archive");
  record_->add_option("--cpis", record_opt_.max_cpis, "stop after this many CPIs");
  record_->add_flag("--exit-at-end", record_opt_.exit_at_end, "stop when the IQ stream ends");
  add_security_options(record_, record_sec_, true);

  listen_ = app.add_subcommand("listen", "Show the detection reports of a running radarpipe");
  listen_->add_option("ENDPOINT", listen_ep_, "the run's --publish endpoint")->required();
  listen_->add_flag("--json", listen_json_,
                    "print each report as a JSON line (docs/detections.md)");
  listen_->add_option("--count", listen_count_, "exit after this many reports");
  listen_->add_flag("--until-end", listen_until_end_, "exit when the IQ stream ends");
  listen_->add_option("--timeout", listen_timeout_, "exit 1 after this many seconds of silence");
  add_security_options(listen_, listen_sec_, false);

  stats_ = app.add_subcommand("stats", "Show the telemetry of a running radarpipe");
  stats_->add_option("ENDPOINT", stats_ep_, "the run's --telemetry (or --publish) endpoint")
      ->required();
  stats_->add_flag("--json", stats_json_, "print each snapshot as a JSON line");
  stats_->add_option("--count", stats_count_, "exit after this many snapshots");
  stats_->add_option("--timeout", stats_timeout_, "exit 1 after this many seconds of silence");
  add_security_options(stats_, stats_sec_, false);

  keygen_ = app.add_subcommand(
      "keygen", "Make a CURVE key pair: NAME.key (public) and NAME.key_secret (mode 0600)");
  keygen_->add_option("NAME", keygen_stem_, "path and name of the pair, without extension")
      ->required();
}

std::optional<int> StreamCommands::dispatch() {
  if (replay_->parsed()) return replay();
  if (run_->parsed()) return run();
  if (listen_->parsed()) return listen();
  if (record_->parsed()) return record();
  if (stats_->parsed()) return stats();
  if (keygen_->parsed()) return keygen();
  return std::nullopt;
}

int StreamCommands::replay() {
  SignalStop signals;
  try {
    if (!replay_mode_.empty()) replay_opt_.mode_path = replay_mode_;
    replay_opt_.security = replay_sec_;
    replay_opt_.verify_checksum = !replay_skip_checksum_;
    replay_opt_.rate = parse_rate(replay_rate_);
    replay_opt_.datatype =
        replay_datatype_ == "ci16_le" ? io::IqDatatype::Ci16Le : io::IqDatatype::Cf32Le;
    if (io::is_vrt_endpoint(replay_opt_.to))
      return replay_vrt(replay_opt_, replay_vrt_, replay_vrt_timing_, signals);
    zmq::context_t ctx(1);
    stream::Replayer rp(ctx, replay_opt_);
    std::fprintf(stderr, "radarpipe replay: streaming %zu CPIs of %s%s to %s at %s\n",
                 rp.cpis_in_recording(), replay_opt_.input.c_str(),
                 replay_opt_.loop ? " (looping)" : "", rp.endpoint().c_str(),
                 replay_opt_.rate == 0
                     ? "the receiver's pace"
                     : (io::two_decimals(replay_opt_.rate) + " x real time").c_str());
    std::fflush(stderr);
    const stream::ReplaySummary s = rp.run(signals.flag());
    std::fprintf(
        stderr, "radarpipe replay: %llu CPIs in %llu frames, %.1f MB in %.2f s (%.1f MB/s)%s\n",
        static_cast<unsigned long long>(s.cpis), static_cast<unsigned long long>(s.frames),
        static_cast<double>(s.bytes) / 1e6, s.seconds, s.bytes_per_s() / 1e6,
        signals.signal() ? (std::string("; stopped by ") + signal_name(signals.signal())).c_str()
                         : "");
    if (s.late_frames)
      std::fprintf(stderr,
                   "radarpipe replay: %llu frames left more than one PRI late (worst %.3f ms): "
                   "the receiver or this host could not keep the pace\n",
                   static_cast<unsigned long long>(s.late_frames), s.max_late_s * 1e3);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe replay: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "radarpipe replay: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe replay: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int StreamCommands::record() {
  SignalStop signals;
  try {
    record_opt_.mode = load_mode_file(record_mode_);
    record_opt_.mode.security = record_opt_.mode.security.overridden_by(record_sec_);
    zmq::context_t ctx(1);
    stream::Recorder rec(ctx, record_opt_);
    for (const auto& [what, ep] : rec.bound())
      std::fprintf(stderr, "radarpipe record: %s at %s\n", what.c_str(), ep.c_str());
    std::fprintf(stderr, "radarpipe record: input %s\n", rec.input().c_str());
    std::fprintf(stderr, "radarpipe record: ready, recording to %s\n", record_opt_.output.c_str());
    std::fflush(stderr);
    const stream::RecordSummary s = rec.run(signals.flag());
    std::string causes;
    for (const auto& [cause, n] : s.dropped_by_cause)
      causes += (causes.empty() ? "" : ", ") + cause + " " + std::to_string(n);
    std::fprintf(
        stderr,
        "radarpipe record: %llu CPIs (%llu samples per channel) in %llu captures, %llu "
        "gaps; %llu CPIs dropped at the ingest%s%s%s; %llu frames rejected; %.2f s%s\n",
        static_cast<unsigned long long>(s.cpis), static_cast<unsigned long long>(s.samples),
        static_cast<unsigned long long>(s.captures), static_cast<unsigned long long>(s.gaps),
        static_cast<unsigned long long>(s.cpis_dropped), causes.empty() ? "" : " (", causes.c_str(),
        causes.empty() ? "" : ")", static_cast<unsigned long long>(s.frames_rejected), s.seconds,
        signals.signal() ? (std::string("; stopped by ") + signal_name(signals.signal())).c_str()
                         : "");
    for (const std::string& f : s.files) std::printf("%s\n", f.c_str());
    if (s.clipped)
      std::fprintf(stderr, "radarpipe record: %llu ci16 components saturated (--scale)\n",
                   static_cast<unsigned long long>(s.clipped));
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe record: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "radarpipe record: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe record: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int StreamCommands::run() {
  SignalStop signals;
  try {
    run_opt_.mode = load_mode_file(run_mode_);
    run_opt_.mode.security = run_opt_.mode.security.overridden_by(run_sec_);
    if (!run_backend_.empty())
      run_opt_.mode.backend = run_backend_ == "cpu"    ? Backend::Cpu
                              : run_backend_ == "cuda" ? Backend::Cuda
                                                       : Backend::Auto;
    run_opt_.format = run_format_ == "json"   ? stream::RunOptions::Format::Json
                      : run_format_ == "both" ? stream::RunOptions::Format::Both
                                              : stream::RunOptions::Format::Protobuf;
    for (const std::string& l : run_links_) {
      const auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("--link '" + l + "': expected NAME=ENDPOINT");
      run_opt_.link_overrides[l.substr(0, eq)] = l.substr(eq + 1);
    }
    zmq::context_t ctx(1);
    stream::StreamRunner runner(ctx, run_opt_);
    for (const auto& [what, ep] : runner.bound())
      std::fprintf(stderr, "radarpipe run: %s at %s\n", what.c_str(), ep.c_str());
    if (!runner.input().empty())
      std::fprintf(stderr, "radarpipe run: input %s\n", runner.input().c_str());
    std::fprintf(stderr, "radarpipe run: backend %s\n", runner.backend().c_str());
    std::fprintf(stderr, "radarpipe run: ready, segments %s%s\n", runner.segment_names().c_str(),
                 run_opt_.wait_subscribers ? ", waiting for subscribers" : "");
    std::fflush(stderr);
    const TelemetrySnapshot t = runner.run(signals.flag());
    if (signals.signal())
      std::fprintf(stderr, "radarpipe run: %s: stopped after finishing the CPIs in hand\n",
                   signal_name(signals.signal()));
    io::print_telemetry(t, std::cerr);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe run: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "radarpipe run: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe run: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int StreamCommands::listen() {
  std::uint64_t seen = 0;
  int format = -1;  // the first message's (0 protobuf, 1 JSON): `run --format both` sends both
  // Reports this subscriber missed (it fell behind and its queue at the publisher overflowed):
  // gaps in the publisher's sequence numbers, which protobuf reports carry.
  bool have_sequence = false;
  std::uint64_t next_sequence = 0, missed = 0;
  auto say_missed = [&] {
    if (missed)
      std::cerr << "radarpipe listen: " << missed
                << " reports missed in all (gaps in the publisher's sequence)\n";
  };
  const int rc = subscribe_loop(
      listen_ep_, {io::kTopicDetections, io::kTopicEnd}, listen_timeout_, "listen", listen_sec_,
      [&](const std::string& topic, const std::string& payload) {
        const bool json_in = topic.size() > 5 && topic.compare(topic.size() - 5, 5, ".json") == 0;
        if (format < 0) format = json_in ? 1 : 0;
        if (format != (json_in ? 1 : 0)) return false;
        if (topic.rfind(io::kTopicEnd, 0) == 0) {
          const StreamEndInfo e =
              json_in ? io::stream_end_from_json(io::parse_message_json(topic, payload), topic)
                      : io::decode_stream_end_pb(payload);
          std::cerr << "radarpipe listen: stream " << e.stream_id << " ended: " << e.cpis_processed
                    << " CPIs processed, " << e.cpis_dropped << " dropped, " << e.frames_rejected
                    << " frames rejected\n";
          return listen_until_end_;
        }
        DetectionReport r;
        ReportEnvelope env;
        if (json_in) {
          r = io::report_from_json(io::parse_message_json(topic, payload), topic);
        } else {
          r = io::decode_report_pb(payload, &env);
          if (have_sequence && env.sequence > next_sequence) {
            missed += env.sequence - next_sequence;
            std::cerr << "radarpipe listen: " << env.sequence - next_sequence
                      << " reports missed before report " << env.sequence
                      << " (this subscriber fell behind and its queue at the publisher "
                         "overflowed)\n";
          }
          have_sequence = true;
          next_sequence = env.sequence + 1;
        }
        if (listen_json_)
          std::cout << io::report_to_json(r).dump() << "\n";
        else
          io::print_report(r, json_in ? nullptr : &env, std::cout);
        return listen_count_ > 0 && ++seen >= listen_count_;
      });
  say_missed();
  return rc;
}

int StreamCommands::stats() {
  std::uint64_t seen = 0;
  int format = -1;  // as in listen
  return subscribe_loop(stats_ep_, {io::kTopicTelemetry}, stats_timeout_, "stats", stats_sec_,
                        [&](const std::string& topic, const std::string& payload) {
                          const bool json_in = topic == std::string(io::kTopicTelemetry) + ".json";
                          if (format < 0) format = json_in ? 1 : 0;
                          if (format != (json_in ? 1 : 0)) return false;
                          if (json_in) {
                            std::cout << payload << "\n";
                          } else {
                            const TelemetrySnapshot t = io::decode_telemetry_pb(payload);
                            if (stats_json_)
                              std::cout << io::telemetry_to_json(t).dump() << "\n";
                            else
                              io::print_telemetry(t, std::cout);
                          }
                          return stats_count_ > 0 && ++seen >= stats_count_;
                        });
}

int StreamCommands::keygen() {
  try {
    const io::CurveCert cert = io::make_curve_keypair();
    const std::vector<std::string> files = io::write_curve_cert_pair(keygen_stem_, cert);
    std::printf("%s\n%s\n", files[0].c_str(), files[1].c_str());
    std::fprintf(stderr, "radarpipe keygen: public key %s\n", cert.public_key.c_str());
  } catch (const std::invalid_argument& e) {
    std::cerr << "radarpipe keygen: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "radarpipe keygen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace radarpipe::cli
