// Scoring detections against the simulator's truth: probability of detection, false alarms per
// CPI, range and velocity RMSE. A truth target is detected in a CPI when a detection lies
// within the gate (in bins, Doppler circular) of its expected range and Doppler bins; each
// detection serves one target (nearest first). Unmatched detections inside a clutter patch at
// near-zero Doppler are counted as clutter detections, the rest as false alarms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/detection.hpp"
#include "io/truth_json.hpp"

namespace radarpipe {

struct ScoreOptions {
  double range_gate_bins = 2.0;       ///< |detected - expected range bin| <= gate
  double doppler_gate_bins = 2.0;     ///< circular |detected - expected Doppler bin| <= gate
  double clutter_doppler_bins = 3.0;  ///< |d - M/2| within this (and range in a patch): clutter
  /// Targets whose expected post-processing SNR is below this do not count toward Pd.
  double min_expected_snr_db = -std::numeric_limits<double>::infinity();
};

struct TargetScore {
  std::string name;
  std::uint64_t opportunities = 0;  ///< CPIs in which the target was in the window (and strong)
  std::uint64_t hits = 0;
  double range_rmse_m = 0, velocity_rmse_mps = 0;
  double max_range_error_bins = 0, max_doppler_error_bins = 0;
  double pd() const {
    return opportunities ? static_cast<double>(hits) / static_cast<double>(opportunities) : 0.0;
  }
};

struct Miss {
  std::uint64_t cpi;
  std::string name;
  double expected_snr_db;
};

struct Score {
  std::uint64_t cpis = 0;           ///< CPIs present in both files
  std::uint64_t cpis_missing = 0;   ///< truth CPIs with no report
  std::uint64_t opportunities = 0;  ///< target-CPI pairs that count toward Pd
  std::uint64_t hits = 0;
  std::uint64_t false_alarms = 0;
  std::uint64_t clutter_detections = 0;
  std::uint64_t cells = 0;  ///< CFAR cells tested over the scored CPIs
  double range_rmse_m = 0, velocity_rmse_mps = 0;
  double max_range_error_bins = 0, max_doppler_error_bins = 0;
  std::vector<TargetScore> targets;
  std::vector<Miss> misses;
  double pd() const {
    return opportunities ? static_cast<double>(hits) / static_cast<double>(opportunities) : 0.0;
  }
  double false_alarms_per_cpi() const {
    return cpis ? static_cast<double>(false_alarms) / static_cast<double>(cpis) : 0.0;
  }
  /// False alarms over cells tested: compare with the design Pfa.
  double false_alarm_rate() const {
    return cells ? static_cast<double>(false_alarms) / static_cast<double>(cells) : 0.0;
  }
};

enum class DetectionKind { Target, Clutter, FalseAlarm };

/// One CPI's association of detections to truth.
struct CpiAssociation {
  std::vector<std::ptrdiff_t> target_detection;  ///< per truth target: detection index or -1
  std::vector<DetectionKind> detection_kind;     ///< per detection
};

/// Associates one CPI's detections with its truth (the rules in this file's header); what
/// score_detections() counts and what the demo's table shows.
CpiAssociation associate_cpi(const DetectionReport& report, const io::CpiTruth& cpi_truth,
                             const io::TruthFile& truth, const ScoreOptions& options = {});

/// Reads a JSON Lines detection file; throws std::runtime_error with FILE:LINE on bad input.
std::vector<DetectionReport> read_detections_jsonl(const std::string& path);
/// Reads a truth file; throws std::runtime_error naming the file.
io::TruthFile read_truth_file(const std::string& path);

Score score_detections(const std::vector<DetectionReport>& reports, const io::TruthFile& truth,
                       const ScoreOptions& options = {});

/// The score as text (the `radarpipe score` output) and as JSON.
std::string format_score(const Score& s, const ScoreOptions& options);
std::string score_json(const Score& s);

}  // namespace radarpipe
