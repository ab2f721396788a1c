// What `radarpipe config check` prints: the resolved mode and everything it implies.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/mode.hpp"

namespace radarpipe {

/// The resolved mode and its derived quantities (SI units, names with unit suffixes).
nlohmann::json mode_summary(const Mode& mode);

/// The same as an aligned, human-readable text table.
std::string format_mode_summary(const nlohmann::json& summary);

}  // namespace radarpipe
