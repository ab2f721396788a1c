// `radarpipe simulate`: a scenario and a mode -> a SigMF recording (ci16_le or cf32_le, pair or
// archive) that describes its own mode (radar extension, with radar:processing), plus the
// truth file NAME.truth.json.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/mode.hpp"
#include "io/scenario.hpp"
#include "io/simulator.hpp"

namespace radarpipe {

struct SimulateOptions {
  std::uint64_t cpis = 10;
  std::string output;                ///< NAME: NAME.sigmf-meta/-data (or .sigmf), NAME.truth.json
  std::string datatype = "ci16_le";  ///< ci16_le or cf32_le
  bool archive = false;
  std::string description;  ///< core:description
};

struct SimulateResult {
  std::vector<std::string> files;
  std::uint64_t samples = 0;  ///< per channel
  std::uint64_t clipped = 0;  ///< ci16 components that saturated
  double scale = 1;           ///< ci16 LSB value
  std::vector<io::CpiTruth> truth;
};

SimulateResult simulate_recording(const Mode& mode, const io::Scenario& scenario,
                                  const SimulateOptions& options);

}  // namespace radarpipe
