// `radarpipe run`: the chain as a streaming process (docs/streaming.md). An ingest thread pulls
// IQ frames and assembles CPIs into a fixed pool of cube buffers; each segment of the mode's
// pipeline that runs here has its own thread and chain; segments hand CPIs on as link messages
// (inproc:// zero-copy, or ipc:// / tcp:// to another process); the main thread publishes
// reports, stream ends and telemetry. The ingest never waits for the chain: when no buffer is
// free the CPI is dropped whole and counted (overrun). Segments downstream of the ingest wait
// for each other (back-pressure), so the only place CPIs are dropped for load is the ingest.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "core/mode.hpp"
#include "core/telemetry.hpp"

namespace radarpipe::stream {

struct RunOptions {
  Mode mode;
  /// IQ in, needed with the first segment (else the mode's input.from): IQ frames (PULL;
  /// connects unless '@'), or VITA 49 packets (vrt+udp://, vrt+tcp://; vrt_ingest.hpp).
  std::string from;
  std::string publish;    ///< reports (XPUB; binds unless '>'); needed with the last segment
  std::string telemetry;  ///< telemetry's own PUB endpoint; empty: on the publish socket
  /// HOST:PORT for Prometheus metrics over HTTP (GET /metrics; metrics_server.hpp); empty: none
  std::string metrics;
  /// What reports, stream ends and telemetry are published as: protobuf (topics "detections",
  /// "end", "telemetry"), JSON (the same with ".json"), or both.
  enum class Format { Protobuf, Json, Both } format = Format::Protobuf;
  /// Overrides asterix.destination (udp://HOST:PORT); "-" turns UDP off.
  std::string asterix_destination;
  std::vector<std::string> segments;                  ///< names to run here; empty: every segment
  std::map<std::string, std::string> link_overrides;  ///< segment name -> its `from` endpoint
  std::size_t threads = 0;   ///< chain workers per segment; 0: the cores shared among segments
  std::string fft_wisdom;    ///< FFT wisdom file overriding the mode's ("none": none)
  std::string cfar_factors;  ///< solved CFAR factors' directory ("": per-user cache, "none")
  /// The clutter map's file ("": the mode's processing.clutter_map.file, "none": none): loaded
  /// at start when it exists, saved every clutter_map_save_s and when the run ends.
  std::string clutter_map;
  double clutter_map_save_s = 60.0;
  /// A folder for the progress of segments fed from another process (link_progress.hpp), so a
  /// restarted process counts the CPIs its killed predecessor lost; empty: not kept.
  std::string progress_dir;
  double telemetry_interval_s = 1.0;
  std::size_t false_alarm_window_cpis = 100;  ///< the false-alarm monitor's window, >= 1
  std::size_t wait_subscribers = 0;  ///< hold the IQ input until this many report subscriptions
  /// Reports queued per subscriber (per format) before a stalled one loses the newest.
  std::size_t subscriber_queue = 1000;
  bool exit_at_end = false;  ///< return once the IQ stream ends (a frame flagged so)
  int linger_ms = 1000;      ///< bound on flushing unsent messages at close
};

class StreamRunner {
 public:
  /// Validates the options, plans every local segment's chain, creates and binds/connects every
  /// socket. Throws ConfigError, std::invalid_argument (options) or std::runtime_error (sockets).
  StreamRunner(zmq::context_t& ctx, RunOptions options);
  ~StreamRunner();
  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  /// What this runner listens on, resolved: {"publish", "telemetry", "iq", "link NAME"}.
  const std::map<std::string, std::string>& bound() const { return bound_; }
  /// What the ingest reads ("" without the first segment): "VRT over udp at ...", "IQ frames ...".
  std::string input() const;
  /// Names of the segments running here.
  std::string segment_names() const;
  /// The backend the segments run on, and why: "cuda (auto requested: device 0, ...)".
  std::string backend() const;

  /// Runs until `stop` becomes true, or (exit_at_end) until the IQ stream has ended and every
  /// CPI before the end is published. Then: the ingest stops, the CPIs already accepted are
  /// finished and published, final telemetry goes out and the sockets close with the linger.
  /// Returns the final telemetry.
  TelemetrySnapshot run(const std::atomic<bool>& stop);

  /// A snapshot now (any thread).
  TelemetrySnapshot telemetry() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::map<std::string, std::string> bound_;
};

}  // namespace radarpipe::stream
