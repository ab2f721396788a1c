// UTC timestamps as int64 nanoseconds since 1970-01-01T00:00:00Z, and their RFC 3339 text form
// (the form of SigMF's core:datetime and of the detection stream's `time`).
#pragma once

#include <cstdint>
#include <string>

namespace radarpipe::io {

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (RFC 3339; 't'/'z' and a space for
/// 'T' accepted). Throws std::invalid_argument naming the text and what was expected.
std::int64_t parse_rfc3339_ns(const std::string& text);

/// "2026-11-21T12:00:00.000123456Z": UTC, always nine fraction digits.
std::string format_rfc3339_ns(std::int64_t ns);

/// Seconds since the epoch as a double, for messages.
inline double ns_to_s(std::int64_t ns) {
  return static_cast<double>(ns) * 1e-9;
}

}  // namespace radarpipe::io
