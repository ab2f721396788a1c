#include "io/message_text.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ostream>

#include "io/json_depth.hpp"
#include "io/time.hpp"

namespace radarpipe::io {

nlohmann::json parse_message_json(const std::string& topic, const std::string& payload) {
  if (const std::string deep = json_depth_error(payload); !deep.empty())
    throw MessageError(topic + ": " + deep);
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw MessageError(topic + ": not a JSON object");
  return j;
}

StreamEndInfo stream_end_from_json(const nlohmann::json& j, const std::string& topic) {
  auto count = [&](const char* field, std::uint64_t most) -> std::uint64_t {
    const auto it = j.find(field);
    if (it == j.end()) return 0;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0))
      throw MessageError(topic + ": " + field + " is " + it->dump().substr(0, 40) +
                         ", expected an integer >= 0");
    const std::uint64_t v = it->get<std::uint64_t>();
    if (v > most)
      throw MessageError(topic + ": " + field + " is " + std::to_string(v) + ", expected at most " +
                         std::to_string(most));
    return v;
  };
  StreamEndInfo e;
  e.stream_id = static_cast<std::uint32_t>(count("stream_id", 0xffffffffu));
  const std::uint64_t any = std::numeric_limits<std::uint64_t>::max();
  e.cpis_processed = count("cpis_processed", any);
  e.cpis_dropped = count("cpis_dropped", any);
  e.frames_rejected = count("frames_rejected", any);
  return e;
}

std::string two_decimals(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

void print_telemetry(const TelemetrySnapshot& t, std::ostream& os) {
  os << t.process << "  up " << two_decimals(t.uptime_s) << " s\n";
  os << "  frames   received " << t.frames_received << ", rejected " << t.frames_rejected;
  for (const CauseCount& c : t.frames_rejected_by_cause)
    if (c.count) os << " (" << c.cause << " " << c.count << ")";
  os << ", sequence gaps " << t.sequence_gaps << " (" << t.frames_missing << " frames)\n";
  os << "  CPIs     assembled " << t.cpis_assembled << ", processed " << t.cpis_processed
     << ", dropped " << t.cpis_dropped;
  for (const CauseCount& c : t.cpis_dropped_by_cause)
    if (c.count) os << " (" << c.cause << " " << c.count << ")";
  os << ", deadline misses " << t.deadline_misses << " (CPI " << two_decimals(t.cpi_duration_ms)
     << " ms)\n";
  os << "  rate     " << two_decimals(t.samples_per_s / 1e6) << " M samples/s (mean "
     << two_decimals(t.samples_per_s_mean / 1e6) << "), crossings/CPI "
     << two_decimals(t.crossings_per_cpi) << ", detections/CPI "
     << two_decimals(t.detections_per_cpi) << "\n";
  const FalseAlarmMonitor& f = t.false_alarms;
  if (f.cells > 0) {
    char b[200];
    std::snprintf(b, sizeof b,
                  "  false alarms  %.3g crossings per cell over the last %llu CPIs: %.3g x the "
                  "design %.3g (binomial 95%% %.3g .. %.3g)\n",
                  f.crossings_per_cell, static_cast<unsigned long long>(f.cpis), f.ratio,
                  f.design_pfa, f.expected_low, f.expected_high);
    os << b;
  }
  os << "  latency  ms        p50       p99       max\n";
  auto row = [&](const LatencySummary& l) {
    char b[160];
    std::snprintf(b, sizeof b, "    %-18s %9.3f %9.3f %9.3f  (%llu CPIs)\n", l.name.c_str(),
                  l.p50_ms, l.p99_ms, l.max_ms, static_cast<unsigned long long>(l.count));
    os << b;
  };
  for (const LatencySummary& l : t.stage_latency) row(l);
  row(t.end_to_end);
  os << "  reports  published " << t.reports_published << ", dropped " << t.reports_dropped
     << "; link messages rejected " << t.link_messages_rejected << "\n";
  const AsterixCounts& a = t.asterix;
  if (a.datagrams || a.send_errors) {
    os << "  asterix  " << a.plots << " plots, " << a.scan_messages << " scan messages in "
       << a.datagrams << " data blocks (" << a.bytes << " bytes), send errors " << a.send_errors;
    for (const CauseCount& c : a.plots_dropped_by_cause)
      os << ", dropped " << c.cause << " " << c.count;
    for (const CauseCount& c : a.fields_limited_by_cause) os << ", " << c.cause << " " << c.count;
    os << "\n";
  }
  const SecurityCounts& s = t.security;
  if (s.curve || s.peers_refused) {
    os << "  security " << (s.curve ? "CURVE" : "none") << ", peers accepted " << s.peers_accepted
       << ", refused " << s.peers_refused;
    for (const CauseCount& c : s.peers_refused_by_cause)
      os << " (" << c.cause << " " << c.count << ")";
    os << "\n";
  }
}

void print_report(const DetectionReport& r, const ReportEnvelope* env, std::ostream& os) {
  os << "CPI " << r.cpi << "  " << format_rfc3339_ns(r.timestamp_ns) << "  " << r.detections.size()
     << " detection(s), " << r.crossings << " crossings, noise " << two_decimals(r.noise_power_db)
     << " dB";
  if (r.map_cells > 0)
    os << ", clutter map " << r.map_crossings << " of " << r.map_tested << " tested";
  if (env && (env->cpis_dropped || env->frames_rejected))
    os << "  [stream " << env->stream_id << ": " << env->cpis_dropped << " CPIs dropped, "
       << env->frames_rejected << " frames rejected so far]";
  os << "\n";
  for (const Detection& d : r.detections) {
    char b[200];
    char az[32] = "";
    if (std::isfinite(d.azimuth_deg)) std::snprintf(az, sizeof az, "  az %6.2f deg", d.azimuth_deg);
    std::snprintf(b, sizeof b, "  range %10.1f m  velocity %8.2f m/s  SNR %6.1f dB  ch %2d%s%s%s\n",
                  d.range_m, d.range_rate_mps, d.snr_db, d.channel, az,
                  d.eclipsed ? "  eclipsed" : "",
                  d.decided_by == DecidedBy::ClutterMap ? "  clutter map" : "");
    os << b;
  }
}

}  // namespace radarpipe::io
