// The way out of `radarpipe run` (docs/streaming.md "Reports"): on the last segment's thread a
// report is annotated (retune, azimuth), encoded (protobuf, JSON, ASTERIX over UDP or the PUB
// socket) and handed to the main thread as collector messages; the main thread publishes them
// on the XPUB socket without losing any silently (publish()).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "core/detection.hpp"
#include "core/mode.hpp"
#include "io/asterix.hpp"
#include "io/link_message.hpp"
#include "io/udp_sender.hpp"
#include "pipeline/commands/annotate.hpp"
#include "pipeline/stream/runner.hpp"
#include "pipeline/stream/telemetry_counters.hpp"

namespace radarpipe::stream {

class ReportPublisher {
 public:
  /// For a process that runs the mode's last segment. Opens the ASTERIX UDP sender when the
  /// mode has an asterix: section (opt.asterix_destination overriding its destination; "-"
  /// none), recording where it sends in `bound["asterix"]`.
  ReportPublisher(const RunOptions& opt, const ModeGeometry& geometry, RunCounters& counters,
                  std::map<std::string, std::string>& bound);

  /// One CPI's report, to the main thread over `collector`, in every configured format.
  void report(zmq::socket_t& collector, const DetectionReport& report, const io::LinkHeader& h);
  /// The IQ stream's end (marker h), with the CPIs processed so far.
  void stream_end(zmq::socket_t& collector, const io::LinkHeader& h, std::uint64_t processed);

 private:
  bool json() const { return format_ != RunOptions::Format::Protobuf; }
  bool protobuf() const { return format_ != RunOptions::Format::Json; }

  RunOptions::Format format_;
  bool asterix_on_zmq_;
  double cpi_duration_s_;
  RunCounters& counters_;
  ReportAnnotator annotator_;
  DetectionReport tuned_;  ///< reused: copy-assignment keeps its capacity from CPI to CPI
  std::uint64_t sequence_ = 0;
  std::unique_ptr<io::asterix::Encoder> asterix_;
  std::unique_ptr<io::UdpSender> udp_;
  std::vector<std::vector<std::uint8_t>> datagrams_;
  std::uint64_t udp_errors_ = 0;
};

/// Publishes topic + payload on a PUB/XPUB socket, never waiting: a subscriber whose queue is
/// full loses the message on its own (ZeroMQ drops per subscriber; it sees a gap in the
/// reports' sequence). A send the socket itself refuses is counted as dropped. count: 2 a
/// report (published and dropped are counted), 1 a second copy of a report (only a drop is
/// counted), 0 anything else.
void publish(zmq::socket_t& sock, const std::string& topic, const std::string& payload, int count,
             RunCounters& counters);

}  // namespace radarpipe::stream
