// What `radarpipe listen` and `stats` make of the messages a running radarpipe publishes: the
// JSON topics' objects (depth-limited), the end-of-stream marker from JSON, and the reports and
// telemetry as text for a terminal. These meet bytes from any publisher on the endpoint, so they
// never trust a field's type or size: a message that does not decode is io::MessageError (or a
// JSON library exception) naming the topic, and the subscription drops it and goes on. Fuzzed
// with the protobuf decoders (tests/fuzz/fuzz_stream_message.cpp).
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "core/detection.hpp"
#include "core/telemetry.hpp"
#include "io/stream_messages.hpp"

namespace radarpipe::io {

/// A JSON message: an object nested at most kMaxJsonDepth deep, or MessageError naming `topic`.
nlohmann::json parse_message_json(const std::string& topic, const std::string& payload);

/// The end-of-stream marker's JSON form (stream_end_to_json's): absent counts are 0; a count
/// that is not a non-negative integer in range is MessageError naming the topic and field.
StreamEndInfo stream_end_from_json(const nlohmann::json& j, const std::string& topic);

/// A report as listen prints it: one line for the CPI (and the stream's drops so far when the
/// envelope has them), one per detection.
void print_report(const DetectionReport& r, const ReportEnvelope* env, std::ostream& os);

/// A telemetry snapshot as stats (and run, at its end) prints it.
void print_telemetry(const TelemetrySnapshot& t, std::ostream& os);

/// v with two decimals ("%.2f").
std::string two_decimals(double v);

}  // namespace radarpipe::io
