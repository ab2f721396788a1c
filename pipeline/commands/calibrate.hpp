// Empirical CFAR calibration from a noise recording (docs/signal-chain.md "Measured factors"):
// `radarpipe calibrate` runs the mode's chain over a recording of receiver noise (no targets,
// no clutter), measures where its CFAR's crossing rate equals the design Pfa, and writes the
// mode back with that factor as processing.cfar.factors. For receivers whose noise is not white
// (an IF filter narrower than the sample rate, a digitizer's own spectrum), where the model
// behind `calibrated` does not hold.
//
// The measurement: every interior cell (full training window, full-gain range bins) of every
// map gets its ratio r = P / (alpha(d, m) Z) to the mode's own threshold (Z and alpha(d, m)
// exactly as the chain's CFAR forms them, Doppler row factors included); the measured interior
// factor is alpha(R) times the ratio exceeded by a fraction Pfa of the cells: the empirical
// (1 - Pfa) quantile. Only the largest ratios are kept (a bounded heap), so memory does not grow
// with the recording. The intervals come from the spread of the count between CPIs (which are
// independent; the cells within one are not, and cross in clusters). A recording too short to
// expect 400 crossings (+-10% at 95% for independent cells) is refused before anything is
// processed, and one whose clustered crossings leave more than +-10% after it, with the length
// either needs.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "core/mode.hpp"

namespace radarpipe {

struct CalibrateOptions {
  std::string input;          ///< the noise recording
  std::string mode_path;      ///< the mode file (its processing.cfar.factors, if any, is replaced)
  std::optional<double> pfa;  ///< design Pfa to calibrate for; default the mode's
  std::string output;         ///< the mode file to write ("-" stdout)
  std::size_t threads = 0;
  bool verify_checksum = true;
};

/// Crossings a measurement must expect at the design Pfa: the rate's 95% interval is then
/// within +-1.96 / sqrt(400) = +-9.8%.
inline constexpr double kCalibrateMinCrossings = 400;
/// Ratios calibrate keeps at most (about Pfa x cells of them; 2^24 is 256 MiB): a recording
/// longer than that needs is refused, with the length that fits.
inline constexpr double kCalibrateMaxKept = 16777216.0;

struct CalibrateResult {
  Mode mode;                  ///< the mode with its measured factors
  std::string text;           ///< what was written
  double model_alpha = 0;     ///< the interior factor the mode's `threshold` gives
  double textbook_alpha = 0;  ///< the independent-cell interior factor
  /// Crossings per cell at the model's factor on this recording, over the design.
  double model_rate_over_design = 0;
  std::uint64_t cpis = 0;
  /// The count's variance between CPIs over a binomial one's (1: independent cells); the
  /// intervals are widened by its square root.
  double dispersion = 1;
  double seconds = 0;
};

/// Measures and writes. Throws ConfigError (mode), ModeMismatch (recording vs mode, or too
/// short: the message says how many CPIs and seconds it must hold), io::SigmfError, or
/// std::runtime_error.
CalibrateResult calibrate_recording(const CalibrateOptions& options, std::ostream& log);

}  // namespace radarpipe
