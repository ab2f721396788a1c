#include "pipeline/stream/telemetry_counters.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

void RunCounters::start() {
  std::lock_guard<std::mutex> lock(interval_mutex_);
  start_ = steady::now();
  last_tick_ = start_;
}

void RunCounters::cpi_processed(std::size_t samples) {
  cpis_processed_.fetch_add(1);
  samples_.fetch_add(samples);
  std::int64_t zero = 0;
  first_cpi_ns_.compare_exchange_strong(zero, utc_now_ns());
}

void RunCounters::report_out(const DetectionReport& r, std::int64_t ingest_ns,
                             double cpi_duration_s) {
  const double e2e = static_cast<double>(utc_now_ns() - ingest_ns) * 1e-9;
  e2e_latency_.record(e2e);
  if (e2e > cpi_duration_s) deadline_misses_.fetch_add(1);
  crossings_.fetch_add(r.crossings);
  crossings_last_.store(r.crossings);
  detections_.fetch_add(r.detections.size());
  std::lock_guard<std::mutex> lock(false_alarm_mutex_);
  auto& slot = fa_ring_[fa_next_];
  if (fa_count_ == fa_ring_.size()) {
    fa_cells_ -= slot.first;
    fa_crossings_ -= slot.second;
  } else {
    ++fa_count_;
  }
  slot = {r.cells, r.crossings};
  fa_cells_ += r.cells;
  fa_crossings_ += r.crossings;
  fa_next_ = (fa_next_ + 1) % fa_ring_.size();
}

void RunCounters::set_false_alarm_window(std::size_t cpis) {
  std::lock_guard<std::mutex> lock(false_alarm_mutex_);
  fa_ring_.assign(std::max<std::size_t>(cpis, 1), {0, 0});
  fa_next_ = fa_count_ = 0;
  fa_cells_ = fa_crossings_ = 0;
}

void RunCounters::set_asterix(const AsterixCounts& a) {
  std::lock_guard<std::mutex> lock(asterix_mutex_);
  asterix_ = a;
}

TelemetrySnapshot RunCounters::snapshot(const SnapshotScope& scope, bool advance) const {
  TelemetrySnapshot t;
  t.process = scope.process;
  t.time_ns = utc_now_ns();
  const auto now = steady::now();
  const AssemblerCounters& a = assembler;
  t.frames_received = a.frames_received.load();
  t.frames_rejected = a.frames_rejected.load();
  for (int c = 1; c < io::kFrameRejectCauses; ++c)
    t.frames_rejected_by_cause.push_back(
        {io::to_string(static_cast<io::FrameReject>(c)), a.rejected[c].load()});
  t.sequence_gaps = a.sequence_gaps.load();
  t.frames_missing = a.frames_missing.load();
  t.cpis_assembled = a.cpis_assembled.load();
  t.cpis_processed = cpis_processed_.load();
  t.cpis_dropped = a.cpis_dropped.load();
  for (int c = 0; c < kCpiDropCauses; ++c)
    t.cpis_dropped_by_cause.push_back({to_string(static_cast<CpiDrop>(c)), a.dropped[c].load()});
  t.deadline_misses = deadline_misses_.load();
  t.cpi_duration_ms = scope.cpi_duration_s * 1e3;
  if (scope.has_ingest) t.stage_latency.push_back(queue_latency.summary("queue"));
  for (const auto& seg : scope.segments)
    for (int st = static_cast<int>(seg.first); st <= static_cast<int>(seg.second); ++st)
      t.stage_latency.push_back(stage_latency[st].summary(to_string(static_cast<Stage>(st))));
  t.end_to_end = e2e_latency_.summary("end_to_end");
  t.crossings_last = crossings_last_.load();
  t.reports_published = reports_published.load();
  t.reports_dropped = reports_dropped.load();
  t.link_messages_rejected = link_rejected.load();
  if (vrt_input) {
    VrtInputCounts& v = t.vrt;
    v.present = true;
    v.packets = vrt.packets.load();
    v.data_packets = vrt.data_packets.load();
    v.context_packets = vrt.context_packets.load();
    v.rejected = vrt.rejected.load();
    for (int c = 0; c < kVrtRejectCauses; ++c)
      v.rejected_by_cause.push_back(
          {to_string(static_cast<VrtReject>(c)), vrt.rejected_by[c].load()});
    v.before_epoch = vrt.before_epoch.load();
    v.packets_lost = vrt.packets_lost.load();
    v.samples_lost = vrt.samples_lost.load();
    v.count_errors = vrt.count_errors.load();
    v.resyncs = vrt.resyncs.load();
    v.sample_loss_flags = vrt.sample_loss_flags.load();
    v.over_range_flags = vrt.over_range_flags.load();
    v.invalid_data_flags = vrt.invalid_data_flags.load();
    v.context_mismatches = vrt.context_mismatches.load();
    v.retunes = vrt.retunes.load();
    v.kernel_drops = vrt.kernel_drops.load();
    v.receive_buffer_bytes = vrt.receive_buffer_bytes.load();
    v.connections = vrt.connections.load();
  }
  {
    std::lock_guard<std::mutex> lock(asterix_mutex_);
    t.asterix = asterix_;
  }
  {
    std::lock_guard<std::mutex> lock(false_alarm_mutex_);
    FalseAlarmMonitor& f = t.false_alarms;
    f.window_cpis = fa_ring_.size();
    f.cpis = fa_count_;
    f.cells = fa_cells_;
    f.crossings = fa_crossings_;
    f.design_pfa = scope.design_pfa;
    if (f.cells > 0) {
      const double n = static_cast<double>(f.cells), p = f.design_pfa;
      f.crossings_per_cell = static_cast<double>(f.crossings) / n;
      if (p > 0) f.ratio = f.crossings_per_cell / p;
      const double half = 1.959964 * std::sqrt(p * (1 - p) / n);
      f.expected_low = std::max(0.0, p - half);
      f.expected_high = p + half;
    }
  }

  std::lock_guard<std::mutex> lock(interval_mutex_);
  t.uptime_s = std::chrono::duration<double>(now - start_).count();
  const std::uint64_t smp = samples_.load(), cr = crossings_.load(), det = detections_.load(),
                      done = cpis_processed_.load();
  t.interval_s = std::chrono::duration<double>(now - last_tick_).count();
  if (t.interval_s > 0) t.samples_per_s = static_cast<double>(smp - last_samples_) / t.interval_s;
  if (done > last_processed_) {
    t.crossings_per_cpi =
        static_cast<double>(cr - last_crossings_) / static_cast<double>(done - last_processed_);
    t.detections_per_cpi =
        static_cast<double>(det - last_detections_) / static_cast<double>(done - last_processed_);
  }
  const std::int64_t first = first_cpi_ns_.load();
  if (first > 0 && t.time_ns > first && done > 1)
    t.samples_per_s_mean = static_cast<double>(smp) * static_cast<double>(done - 1) /
                           static_cast<double>(done) /
                           (static_cast<double>(t.time_ns - first) * 1e-9);
  if (advance) {
    last_tick_ = now;
    last_samples_ = smp;
    last_crossings_ = cr;
    last_detections_ = det;
    last_processed_ = done;
  }
  return t;
}

}  // namespace radarpipe::stream
