#include "pipeline/stream/publisher.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "io/detection_json.hpp"
#include "io/stream_messages.hpp"
#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

ReportPublisher::ReportPublisher(const RunOptions& opt, const ModeGeometry& geometry,
                                 RunCounters& counters, std::map<std::string, std::string>& bound)
    : format_(opt.format),
      asterix_on_zmq_(opt.mode.asterix.zmq),
      cpi_duration_s_(geometry.cpi_duration_s),
      counters_(counters),
      annotator_(opt.mode) {
  const Mode& mode = opt.mode;
  if (!mode.asterix.present) return;
  asterix_ = std::make_unique<io::asterix::Encoder>(mode.asterix, mode.antenna,
                                                    geometry.range_bin_m, geometry.cpi_duration_s);
  const std::string dest =
      opt.asterix_destination.empty() ? mode.asterix.destination : opt.asterix_destination;
  if (!dest.empty() && dest != "-") {
    udp_ = std::make_unique<io::UdpSender>(dest, mode.asterix.ttl, mode.asterix.interface);
    bound["asterix"] = "udp://" + udp_->resolved();
  }
  datagrams_.reserve(16);
}

void ReportPublisher::report(zmq::socket_t& collector, const DetectionReport& report,
                             const io::LinkHeader& h) {
  tuned_ = report;
  annotator_.apply(tuned_, h.center_frequency_hz);
  const DetectionReport& r = tuned_;
  ReportEnvelope env;
  env.stream_id = h.stream_id;
  env.cpis_dropped = h.cpis_dropped;
  env.frames_rejected = h.frames_rejected;
  env.sequence = sequence_++;
  if (protobuf()) {
    const std::string payload = io::encode_report_pb(r, env);
    send_to_collector(collector, kCollectReport, io::kTopicDetections, payload.data(),
                      payload.size());
  }
  if (json()) {
    const std::string payload = io::report_to_json(r).dump();
    send_to_collector(collector, protobuf() ? kCollectCopy : kCollectReport,
                      std::string(io::kTopicDetections) + ".json", payload.data(), payload.size());
  }
  if (asterix_) {
    asterix_->encode(r, datagrams_);
    for (const auto& d : datagrams_) {
      if (udp_ && !udp_->send(d.data(), d.size())) ++udp_errors_;
      if (asterix_on_zmq_)
        send_to_collector(collector, kCollectAsterix, io::kTopicAsterix, d.data(), d.size());
    }
    const io::asterix::Counts& c = asterix_->counts();
    AsterixCounts a;
    a.datagrams = c.datagrams;
    a.bytes = c.bytes;
    a.plots = c.plots;
    a.scan_messages = c.scan_messages;
    a.send_errors = udp_errors_;
    for (const auto& kv : c.plots_dropped)
      a.plots_dropped_by_cause.push_back({kv.first, kv.second});
    for (const auto& kv : c.fields_limited)
      a.fields_limited_by_cause.push_back({kv.first, kv.second});
    counters_.set_asterix(a);
  }
  counters_.report_out(r, h.ingest_ns, cpi_duration_s_);
}

void ReportPublisher::stream_end(zmq::socket_t& collector, const io::LinkHeader& h,
                                 std::uint64_t processed) {
  const StreamEndInfo e{h.stream_id, processed, h.cpis_dropped, h.frames_rejected};
  if (protobuf()) {
    const std::string p = io::encode_stream_end_pb(e);
    send_to_collector(collector, kCollectEnd, io::kTopicEnd, p.data(), p.size());
  }
  if (json()) {
    const std::string p = io::stream_end_to_json(e).dump();
    send_to_collector(collector, kCollectEnd, std::string(io::kTopicEnd) + ".json", p.data(),
                      p.size());
  }
}

void publish(zmq::socket_t& sock, const std::string& topic, const std::string& payload, int count,
             RunCounters& counters) {
  zmq::message_t t(topic.data(), topic.size());
  if (sock.send(t, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    zmq::message_t p(payload.data(), payload.size());
    sock.send(p, zmq::send_flags::none);
    if (count == 2) counters.reports_published.fetch_add(1);
    return;
  }
  if (count > 0) counters.reports_dropped.fetch_add(1);
}

}  // namespace radarpipe::stream
