// The simulator's truth file (NAME.truth.json, docs/detections.md): the scene's geometry and, for
// every CPI and target, where the chain should find it and how strong it should be.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/scenario.hpp"
#include "io/simulator.hpp"

namespace radarpipe::io {

inline constexpr const char* kTruthSchema = "radarpipe.truth";
inline constexpr int kTruthSchemaVersion = 1;

/// What scoring needs besides the per-CPI truth.
struct TruthGeometry {
  double range_bin_m = 0;       ///< c / (2 fs)
  double velocity_bin_mps = 0;  ///< lambda PRF / (2 M)
  double velocity_span_mps = 0;
  std::size_t doppler_bins = 0;  ///< M
  std::size_t range_gates = 0;   ///< N
  std::size_t waveform_samples = 0;
  double window_start_s = 0;
  double sample_rate_hz = 0;
};

struct TruthFile {
  TruthGeometry geometry;
  std::vector<ClutterPatch> clutter;
  std::vector<CpiTruth> cpis;
};

nlohmann::json truth_to_json(const Simulator& sim, const std::vector<CpiTruth>& cpis,
                             const std::string& recording);
TruthFile truth_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace radarpipe::io
