// `radarpipe replay`: a digitizer stand-in. Streams a recording's whole CPIs as IQ frames
// (io/iq_frame.hpp) on a PUSH socket, paced by the PRI (real time), a multiple of it, or as
// fast as the receiver takes them. Frames never straddle CPIs, each CPI's first frame carries
// the CPI's own timestamp, and the pulse index counts the pulses sent, so `radarpipe run`
// numbers and stamps the CPIs exactly as `radarpipe process` does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "io/iq_frame.hpp"
#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "pipeline/commands/process.hpp"

namespace radarpipe::stream {

struct ReplayOptions {
  std::string input;
  std::optional<std::string> mode_path;  ///< else the recording's radar extension
  std::string to;                        ///< PUSH endpoint; binds unless '>'
  double rate = 1.0;                     ///< x real time; 0: as fast as the receiver takes it
  bool loop = false;
  std::size_t pulses_per_frame = 8;
  std::uint32_t stream_id = 1;
  io::IqDatatype datatype = io::IqDatatype::Cf32Le;
  bool verify_checksum = true;
  std::uint64_t max_cpis =
      0;                  ///< stop after this many CPIs (0: the recording, or forever with loop)
  int linger_ms = 10000;  ///< time to deliver what is queued when done
  /// Encode every frame of the CPIs to send before the first is sent (memory: those CPIs as
  /// frames), so that sending costs only the pacing and the copy: a sender that a file reader
  /// and encoder would hold back, e.g. to find a receiver's capacity on few cores.
  bool preload = false;
  /// CURVE key files from the command line, over the security: section of the mode given with
  /// --mode (a recording's own mode is not trusted for keys: it may come from another site).
  SecurityConfig security;
};

struct ReplaySummary {
  std::uint64_t frames = 0, cpis = 0, bytes = 0;
  double seconds = 0;             ///< from the first frame to the last
  std::uint64_t late_frames = 0;  ///< frames sent more than one PRI after their due time
  double max_late_s = 0;
  double frames_per_s() const { return seconds > 0 ? static_cast<double>(frames) / seconds : 0; }
  double bytes_per_s() const { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
};

/// Paces a replay: wait(t) sleeps until stream time t (seconds from the start) is due at
/// `rate` x real time (rate 0: never waits); what is already more than `late_after_s` overdue is
/// counted in `sum` (late_frames, max_late_s).
class Pacer {
 public:
  Pacer(double rate, double late_after_s, ReplaySummary& sum)
      : rate_(rate), late_after_s_(late_after_s), sum_(sum) {}
  void wait(double stream_s);

 private:
  double rate_, late_after_s_;
  ReplaySummary& sum_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// What every replay reads (IQ frames here, VITA 49 in vrt_replay.hpp): the recording, its mode
/// (the recording's own, or options.mode_path checked against it) and its whole CPIs. Checks
/// the rate. Throws io::SigmfError, ConfigError, ModeMismatch or std::invalid_argument.
struct ReplayRecording {
  std::unique_ptr<io::SigmfReader> reader;
  ResolvedMode mode;
  std::unique_ptr<io::RecordingCpiSource> source;
};
ReplayRecording open_replay_recording(const ReplayOptions& options);

class Replayer {
 public:
  /// Opens the recording, resolves the mode and binds or connects. Throws io::SigmfError,
  /// ConfigError, ModeMismatch, std::invalid_argument or std::runtime_error.
  Replayer(zmq::context_t& ctx, ReplayOptions options);
  ~Replayer();
  /// The endpoint receivers reach (resolved when bound).
  const std::string& endpoint() const;
  std::size_t cpis_in_recording() const;
  std::string mode_origin() const;
  /// Streams until done or `stop`; waits for a receiver before the first frame.
  ReplaySummary run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace radarpipe::stream
