// Mode files (configs/*.yaml) -> Mode. Every error names the file, line and column, the key
// path, the value and what is allowed; unknown keys are rejected with the nearest valid name.
// Range and consistency rules live in Mode::validate() alone; this loader checks shapes and types.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/mode.hpp"

namespace radarpipe {

/// What to do with a measured CFAR factor (processing.cfar.factors) in the file.
enum class MeasuredFactors {
  Keep,  ///< read and validated (its fingerprint must match the mode)
  Drop   ///< read for shape, then dropped: radarpipe calibrate measures the mode afresh
};

/// Reads and validates a mode file. Throws ConfigError ("FILE:LINE:COL: key: message").
Mode load_mode_file(const std::string& path, MeasuredFactors factors = MeasuredFactors::Keep);

/// Parses and validates mode YAML text; source names it in messages.
Mode parse_mode_yaml(const std::string& text, const std::string& source = "<string>",
                     MeasuredFactors factors = MeasuredFactors::Keep);

/// The mode in the mode file's own key structure (radar:, processing:, backend:), as JSON. JSON
/// is YAML, so parse_mode_yaml(mode_file_json(m).dump()) gives m back.
nlohmann::json mode_file_json(const Mode& mode);

/// The mode as mode-file YAML (the keys of mode_file_json), each line of `comment` first as a
/// # comment. parse_mode_yaml(mode_file_yaml(m, ...)) gives m back.
std::string mode_file_yaml(const Mode& mode, const std::string& comment = "");

/// The radar: section alone.
nlohmann::json radar_section_json(const RadarConfig& radar);

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace radarpipe
