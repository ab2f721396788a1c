// What a running pipeline says about itself (docs/streaming.md "Telemetry"): plain data, made by
// pipeline/stream and encoded by io/stream_messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radarpipe {

struct CauseCount {
  std::string cause;
  std::uint64_t count = 0;
};

struct LatencySummary {
  std::string name;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::uint64_t count = 0;  ///< CPIs in the window the percentiles are taken over
};

/// ASTERIX output totals (docs/trackers.md).
struct AsterixCounts {
  std::uint64_t datagrams = 0;                      ///< data blocks sent (CAT048 and CAT034)
  std::uint64_t bytes = 0;                          ///< their bytes
  std::uint64_t plots = 0;                          ///< CAT048 target reports
  std::uint64_t scan_messages = 0;                  ///< CAT034 north markers and sector crossings
  std::uint64_t send_errors = 0;                    ///< datagrams the UDP socket refused
  std::vector<CauseCount> plots_dropped_by_cause;   ///< detections not encodable at all
  std::vector<CauseCount> fields_limited_by_cause;  ///< items omitted or clamped
};

/// The false-alarm monitor (docs/streaming.md "Telemetry"): threshold crossings per tested cell
/// over the last CPIs, beside the design Pfa. On receiver noise alone it is the false-alarm rate;
/// echoes (targets, clutter) add their own crossings. A rise or fall across the map shows
/// interference, a receiver fault or a drifting noise floor.
struct FalseAlarmMonitor {
  std::uint64_t window_cpis = 0;  ///< the window it is kept over (run --false-alarm-window)
  std::uint64_t cpis = 0;         ///< CPIs in it now (<= window_cpis)
  std::uint64_t cells = 0;        ///< cells the CFAR tested in them
  std::uint64_t crossings = 0;    ///< cells above the threshold in them
  double crossings_per_cell = 0;  ///< crossings / cells
  double design_pfa = 0;          ///< processing.cfar.pfa
  double ratio = 0;               ///< crossings_per_cell / design_pfa
  /// The design's 95% binomial band for this many cells (crossings per cell); the chain's
  /// correlated cells cross in small clusters, which widens the real spread beyond it.
  double expected_low = 0, expected_high = 0;
};

/// The VRT source's counts since the start (docs/streaming.md "VRT source"); present only when
/// the process reads VITA 49 packets.
struct VrtInputCounts {
  bool present = false;
  std::uint64_t packets = 0, data_packets = 0, context_packets = 0;
  std::uint64_t rejected = 0;
  std::vector<CauseCount> rejected_by_cause;
  std::uint64_t before_epoch = 0;  ///< data packets before the epoch was known (epoch: context)
  std::uint64_t packets_lost = 0;  ///< the 4-bit packet count's gaps where timestamps jumped
  std::uint64_t samples_lost = 0;  ///< positions timestamp gaps skipped
  std::uint64_t count_errors = 0;  ///< packet count out of step where timestamps agree
  std::uint64_t resyncs = 0;       ///< streams restarted (8 packets in a row out of line)
  std::uint64_t sample_loss_flags = 0, over_range_flags = 0, invalid_data_flags = 0;
  std::uint64_t context_mismatches = 0;    ///< context fields contradicting the mode
  std::uint64_t retunes = 0;               ///< RF reference frequency changes
  std::uint64_t kernel_drops = 0;          ///< datagrams the UDP socket dropped (SO_RXQ_OVFL)
  std::uint64_t receive_buffer_bytes = 0;  ///< SO_RCVBUF as the kernel reports it
  std::uint64_t connections = 0;           ///< TCP connections made
};

/// CURVE on the process's ZeroMQ sockets (docs/security.md): peers the ZAP handler let in and
/// connections refused, by cause (unknown_key, not_curve, handshake, hung_up).
struct SecurityCounts {
  bool curve = false;
  std::uint64_t peers_accepted = 0;
  std::uint64_t peers_refused = 0;
  std::vector<CauseCount> peers_refused_by_cause;
};

struct TelemetrySnapshot {
  std::string process;
  std::int64_t time_ns = 0;
  double uptime_s = 0;
  double interval_s = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t frames_rejected = 0;
  std::vector<CauseCount> frames_rejected_by_cause;
  std::uint64_t sequence_gaps = 0;
  std::uint64_t frames_missing = 0;
  std::uint64_t cpis_assembled = 0;
  std::uint64_t cpis_processed = 0;
  std::uint64_t cpis_dropped = 0;
  std::vector<CauseCount> cpis_dropped_by_cause;
  std::uint64_t deadline_misses = 0;
  double cpi_duration_ms = 0;
  std::vector<LatencySummary> stage_latency;
  LatencySummary end_to_end;
  double samples_per_s = 0;
  double samples_per_s_mean = 0;
  double crossings_per_cpi = 0;
  std::uint64_t crossings_last = 0;
  double detections_per_cpi = 0;
  std::uint64_t reports_published = 0;
  std::uint64_t reports_dropped = 0;  ///< not taken by a subscriber at its high-water mark
  std::uint64_t link_messages_rejected = 0;
  AsterixCounts asterix;
  FalseAlarmMonitor false_alarms;
  VrtInputCounts vrt;
  SecurityCounts security;

  std::uint64_t dropped(const std::string& cause) const {
    for (const CauseCount& c : cpis_dropped_by_cause)
      if (c.cause == cause) return c.count;
    return 0;
  }
  std::uint64_t rejected(const std::string& cause) const {
    for (const CauseCount& c : frames_rejected_by_cause)
      if (c.cause == cause) return c.count;
    return 0;
  }
};

/// Stream-level fields a published report carries beside the detection report itself.
struct ReportEnvelope {
  std::uint32_t stream_id = 0;
  std::uint64_t cpis_dropped = 0;
  std::uint64_t frames_rejected = 0;
  std::uint64_t sequence = 0;
};

struct StreamEndInfo {
  std::uint32_t stream_id = 0;
  std::uint64_t cpis_processed = 0;
  std::uint64_t cpis_dropped = 0;
  std::uint64_t frames_rejected = 0;
};

}  // namespace radarpipe
