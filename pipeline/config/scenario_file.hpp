// Scenario files (YAML, next to a mode) -> io::Scenario, with the mode file's error style:
// "FILE:LINE:COL: targets[1].snr_db: 'x' is not a number". Documented in docs/simulator.md.
#pragma once

#include <string>

#include "core/mode.hpp"
#include "io/scenario.hpp"

namespace radarpipe {

/// Reads a scenario and validates it against the mode. Throws ConfigError.
io::Scenario load_scenario_file(const std::string& path, const Mode& mode);
io::Scenario parse_scenario_yaml(const std::string& text, const Mode& mode,
                                 const std::string& source = "<string>");

}  // namespace radarpipe
