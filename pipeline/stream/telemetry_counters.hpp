// What `radarpipe run` counts while it runs, written by the ingest, segment and main threads,
// and the telemetry snapshot made from it (core/telemetry.hpp; docs/streaming.md "Telemetry").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/detection.hpp"
#include "core/mode.hpp"
#include "core/telemetry.hpp"
#include "pipeline/stream/assembler.hpp"
#include "pipeline/stream/latency.hpp"
#include "pipeline/stream/vrt_assembler.hpp"

namespace radarpipe::stream {

/// What a snapshot describes: this process, the stages it runs, its CPI duration.
struct SnapshotScope {
  std::string process;  ///< "radarpipe run pid N, segments a+b"
  bool has_ingest = false;
  std::vector<std::pair<Stage, Stage>> segments;  ///< first..last of each local segment
  double cpi_duration_s = 0;
  double design_pfa = 0;  ///< processing.cfar.pfa, for the false-alarm monitor
};

class RunCounters {
 public:
  AssemblerCounters assembler;  ///< frames and CPIs, by cause (ingest and segments)
  VrtCounters vrt;              ///< the VRT source's, when vrt_input
  bool vrt_input = false;
  std::atomic<std::uint64_t> link_rejected{0};
  std::atomic<std::uint64_t> reports_published{0}, reports_dropped{0};
  LatencyWindow stage_latency[kStageCount], queue_latency;

  /// Restarts the clock of uptime and of the first interval (when the run starts).
  void start();
  /// One CPI through this process's last segment (samples: complex samples of all channels).
  void cpi_processed(std::size_t samples);
  /// One report out: end-to-end latency from its ingest time, deadline, crossings, detections.
  void report_out(const DetectionReport& r, std::int64_t ingest_ns, double cpi_duration_s);
  void set_asterix(const AsterixCounts& a);
  /// The false-alarm monitor's window in CPIs (>= 1; before the run starts).
  void set_false_alarm_window(std::size_t cpis);
  std::uint64_t processed() const { return cpis_processed_.load(); }

  /// The counters now; `advance` starts the next interval (the periodic telemetry does).
  TelemetrySnapshot snapshot(const SnapshotScope& scope, bool advance) const;

 private:
  using steady = std::chrono::steady_clock;
  std::atomic<std::uint64_t> cpis_processed_{0}, samples_{0}, crossings_{0}, crossings_last_{0},
      detections_{0}, deadline_misses_{0};
  std::atomic<std::int64_t> first_cpi_ns_{0};
  LatencyWindow e2e_latency_;
  mutable std::mutex asterix_mutex_;
  AsterixCounts asterix_;
  // The false-alarm monitor: (cells, crossings) of the last reports, a ring, and its sums.
  mutable std::mutex false_alarm_mutex_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> fa_ring_ =
      std::vector<std::pair<std::uint64_t, std::uint64_t>>(100);
  std::size_t fa_next_ = 0, fa_count_ = 0;
  std::uint64_t fa_cells_ = 0, fa_crossings_ = 0;
  mutable std::mutex interval_mutex_;
  steady::time_point start_ = steady::now();
  mutable steady::time_point last_tick_ = steady::now();
  mutable std::uint64_t last_samples_ = 0, last_crossings_ = 0, last_detections_ = 0,
                        last_processed_ = 0;
};

}  // namespace radarpipe::stream
