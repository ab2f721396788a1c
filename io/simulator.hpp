// The scenario simulator: a source of IQ CPIs with ground truth. Echoes follow RADAR-MODEL.md
// "Echo of a point target" exactly, with the continuous pulse evaluated at the true (fractional)
// delay, never rounded to whole samples. CPI k is deterministic given (seed, k), so any CPI can
// be regenerated alone.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "io/scenario.hpp"

namespace radarpipe::io {

struct TargetTruth {
  std::string name;
  double range_m = 0;                  ///< true range at the CPI's first pulse
  double range_rate_mps = 0;           ///< true range rate (positive receding)
  double doppler_hz = 0;               ///< f_D = -2 v / lambda
  double apparent_range_rate_mps = 0;  ///< folded into [-span/2, span/2): what can be measured
  double range_bin = 0;    ///< echo delay in samples after the window start, (2R/c - t0) fs
  double doppler_bin = 0;  ///< shifted Doppler bin, fractional, in [-0.5, M - 0.5)
  double snr_db = 0;       ///< the scenario's mean per-sample single-pulse SNR
  double cpi_snr_db = 0;   ///< this CPI's draw of it (Swerling fluctuation)
  bool in_window = false;  ///< the echo's start lies in [0, N): the chain can see it
  bool eclipsed = false;   ///< range_bin beyond N - L: the pulse is partly past the window
  /// Post-processing SNR (signal power over the map's mean noise power) at the best cell
  /// around the target (straddle included), and at the exact range and Doppler (no straddle).
  /// Filled by pipeline/truth.hpp, which knows the windows; NaN until then.
  double expected_snr_db = std::numeric_limits<double>::quiet_NaN();
  double ideal_snr_db = std::numeric_limits<double>::quiet_NaN();
  /// The drawn amplitude |A| and per-channel gains live in the simulator; this is A^2/sigma^2.
  double cpi_snr_linear() const { return std::pow(10.0, cpi_snr_db / 10.0); }
};

struct CpiTruth {
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
  std::vector<TargetTruth> targets;
};

class Simulator {
 public:
  /// Validates the mode and the scenario against each other; throws ConfigError.
  Simulator(const Mode& mode, const Scenario& scenario);

  /// Writes CPI k into `cpi` (reshaped if needed) and its truth.
  void generate(std::uint64_t k, Cpi& cpi, CpiTruth& truth) const;

  CpiShape shape() const;
  /// UTC ns of CPI k's first pulse: start time + k P PRI.
  std::int64_t timestamp_ns(std::uint64_t k) const;
  const Mode& mode() const { return mode_; }
  const Scenario& scenario() const { return scenario_; }
  /// Channel gain g_c (1 when the scenario gives none).
  std::complex<double> gain(std::size_t c) const;
  /// Largest |sample| the scene can produce in expectation (5 sigma of noise plus the targets'
  /// and clutter's amplitudes): a safe full scale for integer recordings.
  double peak_amplitude() const;

 private:
  Mode mode_;
  Scenario scenario_;
  ModeGeometry geo_;
  std::vector<std::complex<double>> pulse_;  ///< s[k] = s(k / fs), k = 0..L-1
  std::vector<double> noise_filter_;         ///< receiver filter taps (empty: white noise)
};

}  // namespace radarpipe::io
