// The detection stream as JSON (docs/detections.md): one object per CPI, written one per line
// (JSON Lines) by `radarpipe process` and published by `radarpipe run --format json`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/detection.hpp"

namespace radarpipe::io {

inline constexpr const char* kDetectionSchema = "radarpipe.detections";
/// Version 2 added the report's resolutions and each detection's azimuth; readers take 1 and 2.
inline constexpr int kDetectionSchemaVersion = 3;

nlohmann::json detection_to_json(const Detection& d);
nlohmann::json report_to_json(const DetectionReport& r);

/// Parses one report object; throws std::runtime_error naming the field and what was expected
/// (source, e.g. "DETS.jsonl:12", starts the message).
DetectionReport report_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace radarpipe::io
