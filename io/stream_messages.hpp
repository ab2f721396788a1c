// Encoders and decoders for what `radarpipe run` publishes (docs/streaming.md): detection
// reports, telemetry and stream ends, as protobuf (io/proto/radarpipe.proto, package
// radarpipe.v1) or as JSON. Topics: "detections", "telemetry", "end", with ".json" appended
// for the JSON form; subscribers filter on the prefix.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "core/detection.hpp"
#include "core/telemetry.hpp"

namespace radarpipe::io {

inline constexpr const char* kTopicDetections = "detections";
inline constexpr const char* kTopicTelemetry = "telemetry";
inline constexpr const char* kTopicEnd = "end";
inline constexpr const char* kTopicAsterix = "asterix";  ///< raw ASTERIX data blocks
/// 2: azimuths and resolutions in reports, ASTERIX counts in telemetry; 3: the clutter map's
/// report fields; 4: the VRT source's counts in telemetry; 5: CURVE's counts in telemetry.
/// Readers take 1 and later.
inline constexpr std::uint32_t kStreamSchemaVersion = 5;

/// A message that does not decode; what() names the topic and the problem.
class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string encode_report_pb(const DetectionReport& r, const ReportEnvelope& env);
DetectionReport decode_report_pb(const std::string& bytes, ReportEnvelope* env = nullptr);

std::string encode_telemetry_pb(const TelemetrySnapshot& t);
TelemetrySnapshot decode_telemetry_pb(const std::string& bytes);
nlohmann::json telemetry_to_json(const TelemetrySnapshot& t);

std::string encode_stream_end_pb(const StreamEndInfo& e);
StreamEndInfo decode_stream_end_pb(const std::string& bytes);
nlohmann::json stream_end_to_json(const StreamEndInfo& e);

}  // namespace radarpipe::io
