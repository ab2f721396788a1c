#include "io/prometheus_text.hpp"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <utility>

namespace radarpipe::io {

namespace {

// A label value as the format escapes it: backslash, double quote and line feed.
std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

class Writer {
 public:
  /// A metric family: HELP and TYPE once, then samples.
  void family(const char* name, const char* type, const char* help) {
    name_ = name;
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(double v, std::initializer_list<std::pair<const char*, std::string>> labels = {}) {
    out_ += name_;
    if (labels.size()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, val] : labels) {
        out_ += (first ? "" : ",") + std::string(k) + "=\"" + escape(val) + "\"";
        first = false;
      }
      out_ += '}';
    }
    out_ += " " + number(v) + "\n";
  }
  void counter(const char* name, const char* help, double v) {
    family(name, "counter", help);
    sample(v);
  }
  void gauge(const char* name, const char* help, double v) {
    family(name, "gauge", help);
    sample(v);
  }
  void by_cause(const char* name, const char* help, const std::vector<CauseCount>& causes) {
    family(name, "counter", help);
    for (const CauseCount& c : causes) sample(static_cast<double>(c.count), {{"cause", c.cause}});
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_, name_;
};

double d(std::uint64_t v) {
  return static_cast<double>(v);
}

}  // namespace

std::string telemetry_to_prometheus(const TelemetrySnapshot& t) {
  Writer w;
  w.family("radarpipe_info", "gauge", "The process and what it runs (always 1).");
  w.sample(1, {{"process", t.process}});
  w.gauge("radarpipe_uptime_seconds", "Seconds since the run started.", t.uptime_s);
  w.counter("radarpipe_frames_received_total", "IQ frames (or VRT packets) received by the ingest.",
            d(t.frames_received));
  w.counter("radarpipe_frames_rejected_total", "IQ frames (or VRT packets) rejected.",
            d(t.frames_rejected));
  w.by_cause("radarpipe_frames_rejected_by_cause_total", "IQ frames rejected, by cause.",
             t.frames_rejected_by_cause);
  w.counter("radarpipe_sequence_gaps_total", "Gaps in the IQ stream's sequence or timestamps.",
            d(t.sequence_gaps));
  w.counter("radarpipe_cpis_assembled_total", "CPIs assembled by the ingest.", d(t.cpis_assembled));
  w.counter("radarpipe_cpis_processed_total", "CPIs through this process's last segment.",
            d(t.cpis_processed));
  w.counter("radarpipe_cpis_dropped_total", "CPIs dropped whole.", d(t.cpis_dropped));
  w.by_cause("radarpipe_cpis_dropped_by_cause_total", "CPIs dropped whole, by cause.",
             t.cpis_dropped_by_cause);
  w.counter("radarpipe_deadline_misses_total",
            "CPIs whose end-to-end latency exceeded the CPI's own duration.", d(t.deadline_misses));
  w.gauge("radarpipe_cpi_duration_seconds", "A CPI's duration, pulses x PRI.",
          t.cpi_duration_ms * 1e-3);
  w.family("radarpipe_latency_seconds", "gauge",
           "Latency per stage and end to end over the last 4096 CPIs (quantile 0.5, 0.99; "
           "max since the start).");
  std::vector<LatencySummary> all = t.stage_latency;
  all.push_back(t.end_to_end);
  for (const LatencySummary& l : all) {
    w.sample(l.p50_ms * 1e-3, {{"stage", l.name}, {"quantile", "0.5"}});
    w.sample(l.p99_ms * 1e-3, {{"stage", l.name}, {"quantile", "0.99"}});
    w.sample(l.max_ms * 1e-3, {{"stage", l.name}, {"quantile", "max"}});
  }
  w.gauge("radarpipe_samples_per_second",
          "Input complex samples processed per second, last "
          "telemetry interval.",
          t.samples_per_s);
  w.gauge("radarpipe_samples_per_second_mean",
          "Input complex samples per second since the first "
          "CPI.",
          t.samples_per_s_mean);
  w.gauge("radarpipe_crossings_per_cpi", "Threshold crossings per CPI, last interval.",
          t.crossings_per_cpi);
  w.gauge("radarpipe_detections_per_cpi", "Detections per CPI, last interval.",
          t.detections_per_cpi);
  w.counter("radarpipe_reports_published_total", "Reports published.", d(t.reports_published));
  w.counter("radarpipe_reports_dropped_total",
            "Reports the publishing socket refused (a stalled subscriber's own losses show as gaps "
            "in its reports' sequence).",
            d(t.reports_dropped));
  w.counter("radarpipe_link_messages_rejected_total", "Malformed messages between segments.",
            d(t.link_messages_rejected));

  const FalseAlarmMonitor& f = t.false_alarms;
  w.gauge("radarpipe_false_alarm_crossings_per_cell",
          "Crossings per tested cell over the false-alarm window.", f.crossings_per_cell);
  w.gauge("radarpipe_false_alarm_design_pfa", "The design Pfa (processing.cfar.pfa).",
          f.design_pfa);
  w.gauge("radarpipe_false_alarm_ratio", "Crossings per cell over the design Pfa.", f.ratio);
  w.gauge("radarpipe_false_alarm_expected_low", "The design's 95% binomial band, low end.",
          f.expected_low);
  w.gauge("radarpipe_false_alarm_expected_high", "The design's 95% binomial band, high end.",
          f.expected_high);
  w.gauge("radarpipe_false_alarm_window_cpis", "CPIs in the false-alarm window now.", d(f.cpis));

  const AsterixCounts& a = t.asterix;
  w.counter("radarpipe_asterix_datagrams_total", "ASTERIX data blocks sent.", d(a.datagrams));
  w.counter("radarpipe_asterix_bytes_total", "ASTERIX bytes sent.", d(a.bytes));
  w.counter("radarpipe_asterix_plots_total", "CAT048 plots sent.", d(a.plots));
  w.counter("radarpipe_asterix_scan_messages_total", "CAT034 messages sent.", d(a.scan_messages));
  w.counter("radarpipe_asterix_send_errors_total", "Datagrams the UDP socket refused.",
            d(a.send_errors));

  if (t.vrt.present) {
    const VrtInputCounts& v = t.vrt;
    w.family("radarpipe_vrt_packets_total", "counter", "VITA 49 packets received, by kind.");
    w.sample(d(v.data_packets), {{"kind", "data"}});
    w.sample(d(v.context_packets), {{"kind", "context"}});
    w.by_cause("radarpipe_vrt_rejected_total", "VITA 49 packets rejected, by cause.",
               v.rejected_by_cause);
    w.counter("radarpipe_vrt_packets_lost_total",
              "Packets lost, by the 4-bit packet count at timestamp gaps.", d(v.packets_lost));
    w.counter("radarpipe_vrt_samples_lost_total", "Sample positions timestamp gaps skipped.",
              d(v.samples_lost));
    w.counter("radarpipe_vrt_kernel_drops_total",
              "Datagrams the UDP socket's receive buffer dropped (SO_RXQ_OVFL).",
              d(v.kernel_drops));
    w.gauge("radarpipe_vrt_receive_buffer_bytes", "SO_RCVBUF as the kernel reports it.",
            d(v.receive_buffer_bytes));
    w.family("radarpipe_vrt_trailer_flags_total", "counter",
             "Data packets whose trailer flagged sample loss, over-range or invalid data.");
    w.sample(d(v.sample_loss_flags), {{"flag", "sample_loss"}});
    w.sample(d(v.over_range_flags), {{"flag", "over_range"}});
    w.sample(d(v.invalid_data_flags), {{"flag", "invalid_data"}});
    w.counter("radarpipe_vrt_context_mismatches_total", "Context fields contradicting the mode.",
              d(v.context_mismatches));
    w.counter("radarpipe_vrt_retunes_total", "RF reference frequency changes.", d(v.retunes));
    w.counter("radarpipe_vrt_resyncs_total", "Streams restarted by their sender.", d(v.resyncs));
    w.counter("radarpipe_vrt_connections_total", "TCP connections made.", d(v.connections));
  }
  const SecurityCounts& s = t.security;
  w.gauge("radarpipe_curve_enabled", "1 when the process's tcp and ipc sockets use CURVE.",
          s.curve ? 1.0 : 0.0);
  w.counter("radarpipe_peers_accepted_total", "CURVE handshakes the ZAP handler let in.",
            d(s.peers_accepted));
  w.by_cause("radarpipe_peers_refused_total", "Connections refused, by cause.",
             s.peers_refused_by_cause);
  return w.take();
}

}  // namespace radarpipe::io
