// Fuzz target: the messages `radarpipe listen` and `stats` decode from any publisher on their
// endpoint (io/stream_messages.hpp, io/message_text.hpp, io/detection_json.hpp): reports,
// telemetry and end-of-stream markers, in protobuf and in JSON, then printed as listen and stats
// print them (text and JSON). The first byte chooses the topic; the rest is the payload. Any
// bytes must give a printed message or an exception the subscription drops (MessageError, a
// JSON library error): never a crash, a hang or undefined behaviour.
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>

#include "io/detection_json.hpp"
#include "io/message_text.hpp"
#include "io/stream_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  const std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::ostringstream out;
  try {
    using namespace radarpipe;
    switch (data[0] % 5) {
      case 0: {  // detections (protobuf)
        ReportEnvelope env;
        const DetectionReport r = io::decode_report_pb(payload, &env);
        io::print_report(r, &env, out);
        out << io::report_to_json(r).dump();
        break;
      }
      case 1: {  // detections.json
        const DetectionReport r =
            io::report_from_json(io::parse_message_json("detections.json", payload), "fuzz");
        io::print_report(r, nullptr, out);
        out << io::report_to_json(r).dump();
        break;
      }
      case 2: {  // telemetry (protobuf)
        const TelemetrySnapshot t = io::decode_telemetry_pb(payload);
        io::print_telemetry(t, out);
        out << io::telemetry_to_json(t).dump();
        break;
      }
      case 3:  // end (protobuf)
        out << io::stream_end_to_json(io::decode_stream_end_pb(payload)).dump();
        break;
      default:  // end.json
        out << io::stream_end_to_json(
                   io::stream_end_from_json(io::parse_message_json("end.json", payload), "fuzz"))
                   .dump();
        break;
    }
  } catch (const std::exception&) {
  }
  return 0;
}
