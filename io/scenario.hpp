// A simulated scene for the simulator (io/simulator.hpp): point targets, noise, clutter and
// channel gains, next to a radar mode. Loaded from YAML by pipeline/config/scenario_file.hpp;
// validate() holds the ranges, like Mode::validate().
#pragma once

#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/mode.hpp"

namespace radarpipe::io {

/// Swerling fluctuation model of the target's radar cross-section. The amplitude is drawn once
/// per CPI (the CPI is the "scan" of the classical models): 0 constant; 1 power exponential
/// (chi-square, 2 degrees of freedom); 3 power chi-square with 4 degrees of freedom.
enum class Swerling { Zero = 0, One = 1, Three = 3 };

struct ScenarioTarget {
  std::string name;              ///< label in truth and reports
  double range_m = 1000;         ///< range at the scenario's start, >= 0
  double range_rate_mps = 0;     ///< positive receding, |v| < c/100
  double acceleration_mps2 = 0;  ///< along the line of sight, |a| <= 1000
  double snr_db = 10;            ///< mean per-sample single-pulse SNR A^2/sigma^2, [-100, 100]
  Swerling swerling = Swerling::Zero;
  /// Present from this time (s after the scenario's start, at a CPI's first pulse) until before
  /// end_s (0: to the end); absent CPIs have no echo and no truth. 0 <= start_s, end_s.
  double start_s = 0, end_s = 0;
  /// A hovering drone's sway: range(t) += amplitude sin(2 pi t / period) (and its rate), both
  /// >= 0; amplitude 0 (the default) for none; |amplitude| <= 100 m, period >= 0.01 s.
  double micro_motion_m = 0, micro_motion_period_s = 1;
};

/// Zero-Doppler (ground) clutter: a scatterer at every range sample in [start, end], each a
/// complex Gaussian process over the pulses with a Gaussian Doppler spectrum of std spread_hz.
struct ClutterPatch {
  double range_start_m = 0;  ///< >= 0
  double range_end_m = 0;    ///< > range_start_m
  double cnr_db = 20;        ///< mean per-sample clutter-to-noise ratio per scatterer, [-100, 100]
  /// The CNR at range_end_m, [-100, 100]; the patch's CNR in dB runs linearly in range from
  /// cnr_db to it (ground that grows weaker or stronger with range). NaN: cnr_db throughout.
  double cnr_end_db = std::numeric_limits<double>::quiet_NaN();
  double spread_hz = 1;  ///< Doppler spread (std), 0 <= spread < PRF/2
  /// The share of each scatterer's power that is steady: the same complex amplitude in every
  /// CPI at zero Doppler (terrain, buildings), the rest drawn afresh each CPI with the spread
  /// (vegetation, sea); [0, 1]. 0: all fluctuating (the default).
  double steady_fraction = 0;
};

struct Scenario {
  std::string start_time = "2026-01-01T00:00:00Z";  ///< RFC 3339 UTC time of the first pulse
  std::int64_t start_ns = 1767225600000000000LL;    ///< the same, parsed
  std::uint64_t seed = 1;                           ///< everything random derives from it
  double noise_power = 1.0;                         ///< sigma^2 per complex sample, >= 0
  /// The receiver noise's bandwidth (Hz): 0 white (the default); else fs/64 <= B <= fs/4, white
  /// noise through a Gaussian IF filter of -3 dB two-sided bandwidth B (sigma^2 kept): samples
  /// t apart correlate as exp(-pi^2 (B t / fs)^2 / (4 ln 2)), as behind a real receiver whose
  /// filter is narrower than the digitizer's rate. Targets and clutter are not filtered.
  double noise_bandwidth_hz = 0;
  std::vector<std::complex<double>> channel_gains;  ///< g_c, empty = 1 for every channel
  std::vector<ScenarioTarget> targets;
  std::vector<ClutterPatch> clutter;

  /// Throws ConfigError naming the key path (targets[2].snr_db) against the mode.
  void validate(const Mode& mode) const;
};

}  // namespace radarpipe::io
