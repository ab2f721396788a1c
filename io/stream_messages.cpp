#include "io/stream_messages.hpp"

#include <cmath>

#include "radarpipe.pb.h"

namespace radarpipe::io {
namespace {

void to_pb(const Detection& d, v1::Detection* p) {
  p->set_range_m(d.range_m);
  p->set_range_rate_mps(d.range_rate_mps);
  p->set_doppler_hz(d.doppler_hz);
  p->set_snr_db(d.snr_db);
  p->set_power_db(d.power_db);
  p->set_noise_db(d.noise_db);
  p->set_range_bin(d.range_bin);
  p->set_doppler_bin(d.doppler_bin);
  p->set_range_bin_frac(d.range_bin_frac);
  p->set_doppler_bin_frac(d.doppler_bin_frac);
  p->set_channel(d.channel);
  p->set_cells(d.cells);
  p->set_range_extent_bins(d.range_extent_bins);
  p->set_eclipsed(d.eclipsed);
  if (std::isfinite(d.azimuth_deg)) p->set_azimuth_deg(d.azimuth_deg);
  p->set_decided_by(d.decided_by == DecidedBy::ClutterMap ? v1::DECIDED_BY_CLUTTER_MAP
                                                          : v1::DECIDED_BY_CFAR);
}

Detection from_pb(const v1::Detection& p) {
  Detection d;
  d.range_m = p.range_m();
  d.range_rate_mps = p.range_rate_mps();
  d.doppler_hz = p.doppler_hz();
  d.snr_db = p.snr_db();
  d.power_db = p.power_db();
  d.noise_db = p.noise_db();
  d.range_bin = p.range_bin();
  d.doppler_bin = p.doppler_bin();
  d.range_bin_frac = p.range_bin_frac();
  d.doppler_bin_frac = p.doppler_bin_frac();
  d.channel = p.channel();
  d.cells = p.cells();
  d.range_extent_bins = p.range_extent_bins();
  d.eclipsed = p.eclipsed();
  if (p.has_azimuth_deg()) d.azimuth_deg = p.azimuth_deg();
  // An unknown value (a later schema's) reads as the CFAR's.
  d.decided_by =
      p.decided_by() == v1::DECIDED_BY_CLUTTER_MAP ? DecidedBy::ClutterMap : DecidedBy::Cfar;
  return d;
}

void to_pb(const LatencySummary& l, v1::Latency* p) {
  p->set_name(l.name);
  p->set_p50_ms(l.p50_ms);
  p->set_p99_ms(l.p99_ms);
  p->set_max_ms(l.max_ms);
  p->set_count(l.count);
}

LatencySummary from_pb(const v1::Latency& p) {
  return LatencySummary{p.name(), p.p50_ms(), p.p99_ms(), p.max_ms(), p.count()};
}

template <class Repeated>
void causes_to_pb(const std::vector<CauseCount>& v, Repeated* out) {
  for (const CauseCount& c : v) {
    v1::CauseCount* q = out->Add();
    q->set_cause(c.cause);
    q->set_count(c.count);
  }
}

template <class Repeated>
std::vector<CauseCount> causes_from_pb(const Repeated& r) {
  std::vector<CauseCount> v;
  for (const auto& c : r) v.push_back({c.cause(), c.count()});
  return v;
}

template <class M>
void parse(M& m, const std::string& bytes, const char* topic) {
  if (!m.ParseFromString(bytes))
    throw MessageError(std::string(topic) + ": " + std::to_string(bytes.size()) +
                       " bytes that do not parse as radarpipe.v1." + m.GetTypeName());
  if (m.schema_version() < 1)
    throw MessageError(std::string(topic) + ": schema_version " +
                       std::to_string(m.schema_version()) + ", expected 1 or later");
}

nlohmann::json latency_json(const LatencySummary& l) {
  return {{"p50_ms", l.p50_ms}, {"p99_ms", l.p99_ms}, {"max_ms", l.max_ms}, {"count", l.count}};
}

nlohmann::json causes_json(const std::vector<CauseCount>& v) {
  nlohmann::json j = nlohmann::json::object();
  for (const CauseCount& c : v) j[c.cause] = c.count;
  return j;
}

}  // namespace

std::string encode_report_pb(const DetectionReport& r, const ReportEnvelope& env) {
  v1::DetectionReport p;
  p.set_schema_version(kStreamSchemaVersion);
  p.set_stream_id(env.stream_id);
  p.set_cpi(r.cpi);
  p.set_timestamp_ns(r.timestamp_ns);
  p.set_cells(r.cells);
  p.set_crossings(r.crossings);
  p.set_crossings_dropped(r.crossings_dropped);
  p.set_detections_dropped(r.detections_dropped);
  p.set_noise_power_db(r.noise_power_db);
  p.mutable_detections()->Reserve(static_cast<int>(r.detections.size()));
  for (const Detection& d : r.detections) to_pb(d, p.add_detections());
  p.set_cpis_dropped(env.cpis_dropped);
  p.set_frames_rejected(env.frames_rejected);
  p.set_sequence(env.sequence);
  p.set_range_resolution_m(r.range_resolution_m);
  p.set_range_rate_resolution_mps(r.range_rate_resolution_mps);
  if (std::isfinite(r.beamwidth_deg)) p.set_beamwidth_deg(r.beamwidth_deg);
  p.set_design_pfa(r.design_pfa);
  p.set_map_cells(r.map_cells);
  p.set_map_tested(r.map_tested);
  p.set_map_crossings(r.map_crossings);
  return p.SerializeAsString();
}

DetectionReport decode_report_pb(const std::string& bytes, ReportEnvelope* env) {
  v1::DetectionReport p;
  parse(p, bytes, kTopicDetections);
  DetectionReport r;
  r.cpi = p.cpi();
  r.timestamp_ns = p.timestamp_ns();
  r.cells = p.cells();
  r.crossings = p.crossings();
  r.crossings_dropped = p.crossings_dropped();
  r.detections_dropped = p.detections_dropped();
  r.noise_power_db = p.noise_power_db();
  r.range_resolution_m = p.range_resolution_m();
  r.range_rate_resolution_mps = p.range_rate_resolution_mps();
  if (p.has_beamwidth_deg()) r.beamwidth_deg = p.beamwidth_deg();
  r.design_pfa = p.design_pfa();
  r.map_cells = p.map_cells();
  r.map_tested = p.map_tested();
  r.map_crossings = p.map_crossings();
  r.detections.reserve(static_cast<std::size_t>(p.detections_size()));
  for (const v1::Detection& d : p.detections()) r.detections.push_back(from_pb(d));
  if (env)
    *env = ReportEnvelope{p.stream_id(), p.cpis_dropped(), p.frames_rejected(), p.sequence()};
  return r;
}

std::string encode_telemetry_pb(const TelemetrySnapshot& t) {
  v1::Telemetry p;
  p.set_schema_version(kStreamSchemaVersion);
  p.set_process(t.process);
  p.set_time_ns(t.time_ns);
  p.set_uptime_s(t.uptime_s);
  p.set_interval_s(t.interval_s);
  p.set_frames_received(t.frames_received);
  p.set_frames_rejected(t.frames_rejected);
  causes_to_pb(t.frames_rejected_by_cause, p.mutable_frames_rejected_by_cause());
  p.set_sequence_gaps(t.sequence_gaps);
  p.set_frames_missing(t.frames_missing);
  p.set_cpis_assembled(t.cpis_assembled);
  p.set_cpis_processed(t.cpis_processed);
  p.set_cpis_dropped(t.cpis_dropped);
  causes_to_pb(t.cpis_dropped_by_cause, p.mutable_cpis_dropped_by_cause());
  p.set_deadline_misses(t.deadline_misses);
  p.set_cpi_duration_ms(t.cpi_duration_ms);
  for (const LatencySummary& l : t.stage_latency) to_pb(l, p.add_stage_latency());
  to_pb(t.end_to_end, p.mutable_end_to_end());
  p.set_samples_per_s(t.samples_per_s);
  p.set_samples_per_s_mean(t.samples_per_s_mean);
  p.set_crossings_per_cpi(t.crossings_per_cpi);
  p.set_crossings_last(t.crossings_last);
  p.set_detections_per_cpi(t.detections_per_cpi);
  p.set_reports_published(t.reports_published);
  p.set_reports_dropped(t.reports_dropped);
  p.set_link_messages_rejected(t.link_messages_rejected);
  v1::AsterixCounts* a = p.mutable_asterix();
  a->set_datagrams(t.asterix.datagrams);
  a->set_bytes(t.asterix.bytes);
  a->set_plots(t.asterix.plots);
  a->set_scan_messages(t.asterix.scan_messages);
  a->set_send_errors(t.asterix.send_errors);
  causes_to_pb(t.asterix.plots_dropped_by_cause, a->mutable_plots_dropped_by_cause());
  causes_to_pb(t.asterix.fields_limited_by_cause, a->mutable_fields_limited_by_cause());
  const FalseAlarmMonitor& f = t.false_alarms;
  v1::FalseAlarms* fa = p.mutable_false_alarms();
  fa->set_window_cpis(f.window_cpis);
  fa->set_cpis(f.cpis);
  fa->set_cells(f.cells);
  fa->set_crossings(f.crossings);
  fa->set_crossings_per_cell(f.crossings_per_cell);
  fa->set_design_pfa(f.design_pfa);
  fa->set_ratio(f.ratio);
  fa->set_expected_low(f.expected_low);
  fa->set_expected_high(f.expected_high);
  if (t.vrt.present) {
    const VrtInputCounts& v = t.vrt;
    v1::VrtInput* x = p.mutable_vrt();
    x->set_packets(v.packets);
    x->set_data_packets(v.data_packets);
    x->set_context_packets(v.context_packets);
    x->set_rejected(v.rejected);
    causes_to_pb(v.rejected_by_cause, x->mutable_rejected_by_cause());
    x->set_before_epoch(v.before_epoch);
    x->set_packets_lost(v.packets_lost);
    x->set_samples_lost(v.samples_lost);
    x->set_count_errors(v.count_errors);
    x->set_resyncs(v.resyncs);
    x->set_sample_loss_flags(v.sample_loss_flags);
    x->set_over_range_flags(v.over_range_flags);
    x->set_invalid_data_flags(v.invalid_data_flags);
    x->set_context_mismatches(v.context_mismatches);
    x->set_retunes(v.retunes);
    x->set_kernel_drops(v.kernel_drops);
    x->set_receive_buffer_bytes(v.receive_buffer_bytes);
    x->set_connections(v.connections);
  }
  if (t.security.curve || t.security.peers_refused) {
    v1::Security* x = p.mutable_security();
    x->set_curve(t.security.curve);
    x->set_peers_accepted(t.security.peers_accepted);
    x->set_peers_refused(t.security.peers_refused);
    causes_to_pb(t.security.peers_refused_by_cause, x->mutable_peers_refused_by_cause());
  }
  return p.SerializeAsString();
}

TelemetrySnapshot decode_telemetry_pb(const std::string& bytes) {
  v1::Telemetry p;
  parse(p, bytes, kTopicTelemetry);
  TelemetrySnapshot t;
  t.process = p.process();
  t.time_ns = p.time_ns();
  t.uptime_s = p.uptime_s();
  t.interval_s = p.interval_s();
  t.frames_received = p.frames_received();
  t.frames_rejected = p.frames_rejected();
  t.frames_rejected_by_cause = causes_from_pb(p.frames_rejected_by_cause());
  t.sequence_gaps = p.sequence_gaps();
  t.frames_missing = p.frames_missing();
  t.cpis_assembled = p.cpis_assembled();
  t.cpis_processed = p.cpis_processed();
  t.cpis_dropped = p.cpis_dropped();
  t.cpis_dropped_by_cause = causes_from_pb(p.cpis_dropped_by_cause());
  t.deadline_misses = p.deadline_misses();
  t.cpi_duration_ms = p.cpi_duration_ms();
  for (const auto& l : p.stage_latency()) t.stage_latency.push_back(from_pb(l));
  t.end_to_end = from_pb(p.end_to_end());
  t.samples_per_s = p.samples_per_s();
  t.samples_per_s_mean = p.samples_per_s_mean();
  t.crossings_per_cpi = p.crossings_per_cpi();
  t.crossings_last = p.crossings_last();
  t.detections_per_cpi = p.detections_per_cpi();
  t.reports_published = p.reports_published();
  t.reports_dropped = p.reports_dropped();
  t.link_messages_rejected = p.link_messages_rejected();
  const v1::AsterixCounts& a = p.asterix();
  t.asterix.datagrams = a.datagrams();
  t.asterix.bytes = a.bytes();
  t.asterix.plots = a.plots();
  t.asterix.scan_messages = a.scan_messages();
  t.asterix.send_errors = a.send_errors();
  t.asterix.plots_dropped_by_cause = causes_from_pb(a.plots_dropped_by_cause());
  t.asterix.fields_limited_by_cause = causes_from_pb(a.fields_limited_by_cause());
  const v1::FalseAlarms& fa = p.false_alarms();
  t.false_alarms = FalseAlarmMonitor{
      fa.window_cpis(), fa.cpis(),  fa.cells(),        fa.crossings(),    fa.crossings_per_cell(),
      fa.design_pfa(),  fa.ratio(), fa.expected_low(), fa.expected_high()};
  if (p.has_vrt()) {
    const v1::VrtInput& x = p.vrt();
    VrtInputCounts& v = t.vrt;
    v.present = true;
    v.packets = x.packets();
    v.data_packets = x.data_packets();
    v.context_packets = x.context_packets();
    v.rejected = x.rejected();
    v.rejected_by_cause = causes_from_pb(x.rejected_by_cause());
    v.before_epoch = x.before_epoch();
    v.packets_lost = x.packets_lost();
    v.samples_lost = x.samples_lost();
    v.count_errors = x.count_errors();
    v.resyncs = x.resyncs();
    v.sample_loss_flags = x.sample_loss_flags();
    v.over_range_flags = x.over_range_flags();
    v.invalid_data_flags = x.invalid_data_flags();
    v.context_mismatches = x.context_mismatches();
    v.retunes = x.retunes();
    v.kernel_drops = x.kernel_drops();
    v.receive_buffer_bytes = x.receive_buffer_bytes();
    v.connections = x.connections();
  }
  if (p.has_security()) {
    const v1::Security& x = p.security();
    t.security.curve = x.curve();
    t.security.peers_accepted = x.peers_accepted();
    t.security.peers_refused = x.peers_refused();
    t.security.peers_refused_by_cause = causes_from_pb(x.peers_refused_by_cause());
  }
  return t;
}

nlohmann::json telemetry_to_json(const TelemetrySnapshot& t) {
  nlohmann::json stages = nlohmann::json::object();
  for (const LatencySummary& l : t.stage_latency) stages[l.name] = latency_json(l);
  nlohmann::json j = {
      {"schema", "radarpipe.telemetry"},
      {"version", kStreamSchemaVersion},
      {"process", t.process},
      {"time_ns", t.time_ns},
      {"uptime_s", t.uptime_s},
      {"interval_s", t.interval_s},
      {"frames",
       {{"received", t.frames_received},
        {"rejected", t.frames_rejected},
        {"rejected_by_cause", causes_json(t.frames_rejected_by_cause)},
        {"sequence_gaps", t.sequence_gaps},
        {"missing", t.frames_missing}}},
      {"cpis",
       {{"assembled", t.cpis_assembled},
        {"processed", t.cpis_processed},
        {"dropped", t.cpis_dropped},
        {"dropped_by_cause", causes_json(t.cpis_dropped_by_cause)},
        {"deadline_misses", t.deadline_misses},
        {"duration_ms", t.cpi_duration_ms}}},
      {"latency_ms", {{"stages", stages}, {"end_to_end", latency_json(t.end_to_end)}}},
      {"samples_per_s", t.samples_per_s},
      {"samples_per_s_mean", t.samples_per_s_mean},
      {"crossings_per_cpi", t.crossings_per_cpi},
      {"crossings_last", t.crossings_last},
      {"detections_per_cpi", t.detections_per_cpi},
      {"reports_published", t.reports_published},
      {"reports_dropped", t.reports_dropped},
      {"link_messages_rejected", t.link_messages_rejected},
      {"asterix",
       {{"datagrams", t.asterix.datagrams},
        {"bytes", t.asterix.bytes},
        {"plots", t.asterix.plots},
        {"scan_messages", t.asterix.scan_messages},
        {"send_errors", t.asterix.send_errors},
        {"plots_dropped_by_cause", causes_json(t.asterix.plots_dropped_by_cause)},
        {"fields_limited_by_cause", causes_json(t.asterix.fields_limited_by_cause)}}},
      {"false_alarms",
       {{"window_cpis", t.false_alarms.window_cpis},
        {"cpis", t.false_alarms.cpis},
        {"cells", t.false_alarms.cells},
        {"crossings", t.false_alarms.crossings},
        {"crossings_per_cell", t.false_alarms.crossings_per_cell},
        {"design_pfa", t.false_alarms.design_pfa},
        {"ratio", t.false_alarms.ratio},
        {"expected_low", t.false_alarms.expected_low},
        {"expected_high", t.false_alarms.expected_high}}}};
  if (t.vrt.present) {
    const VrtInputCounts& v = t.vrt;
    j["vrt"] = {{"packets", v.packets},
                {"data_packets", v.data_packets},
                {"context_packets", v.context_packets},
                {"rejected", v.rejected},
                {"rejected_by_cause", causes_json(v.rejected_by_cause)},
                {"before_epoch", v.before_epoch},
                {"packets_lost", v.packets_lost},
                {"samples_lost", v.samples_lost},
                {"count_errors", v.count_errors},
                {"resyncs", v.resyncs},
                {"sample_loss_flags", v.sample_loss_flags},
                {"over_range_flags", v.over_range_flags},
                {"invalid_data_flags", v.invalid_data_flags},
                {"context_mismatches", v.context_mismatches},
                {"retunes", v.retunes},
                {"kernel_drops", v.kernel_drops},
                {"receive_buffer_bytes", v.receive_buffer_bytes},
                {"connections", v.connections}};
  }
  j["security"] = {{"curve", t.security.curve},
                   {"peers_accepted", t.security.peers_accepted},
                   {"peers_refused", t.security.peers_refused},
                   {"peers_refused_by_cause", causes_json(t.security.peers_refused_by_cause)}};
  return j;
}

std::string encode_stream_end_pb(const StreamEndInfo& e) {
  v1::StreamEnd p;
  p.set_schema_version(kStreamSchemaVersion);
  p.set_stream_id(e.stream_id);
  p.set_cpis_processed(e.cpis_processed);
  p.set_cpis_dropped(e.cpis_dropped);
  p.set_frames_rejected(e.frames_rejected);
  return p.SerializeAsString();
}

StreamEndInfo decode_stream_end_pb(const std::string& bytes) {
  v1::StreamEnd p;
  parse(p, bytes, kTopicEnd);
  return StreamEndInfo{p.stream_id(), p.cpis_processed(), p.cpis_dropped(), p.frames_rejected()};
}

nlohmann::json stream_end_to_json(const StreamEndInfo& e) {
  return {{"schema", "radarpipe.stream_end"}, {"version", kStreamSchemaVersion},
          {"stream_id", e.stream_id},         {"cpis_processed", e.cpis_processed},
          {"cpis_dropped", e.cpis_dropped},   {"frames_rejected", e.frames_rejected}};
}

}  // namespace radarpipe::io
