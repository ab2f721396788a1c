// Expected post-processing SNR of a simulated target (the `expected_snr_db` / `ideal_snr_db` of
// the truth file), computed in closed form from the mode's processing: the matched filter's
// response to the echo at the true fractional delay (with the echo's intra-pulse Doppler), the
// MTI canceller's and the Doppler window's response at the true Doppler, and the noise gain of
// each (RADAR-MODEL.md; derivation in docs/simulator.md).
#pragma once

#include <complex>
#include <vector>

#include "core/mode.hpp"
#include "io/simulator.hpp"

namespace radarpipe {

class ExpectedSnr {
 public:
  /// gains: the scenario's channel gains (empty = 1 for every channel).
  ExpectedSnr(const Mode& mode, std::vector<std::complex<double>> gains);

  /// Fills t.expected_snr_db (best cell within one bin of the target: straddle included) and
  /// t.ideal_snr_db (exact range and Doppler) from t.cpi_snr_db, t.range_bin, t.doppler_hz.
  void fill(io::TargetTruth& t) const;

  /// Signal-to-noise gain of pulse compression at range bin m for an echo at fractional delay
  /// `delay` samples with Doppler fd: |y[m]|^2 for a unit-amplitude echo (L for a matched,
  /// unwindowed, constant-envelope pulse of L samples).
  double range_gain(double m, double delay, double fd_hz) const;
  /// Signal-to-noise gain of MTI + Doppler at (fractional) shifted bin d for Doppler fd.
  double doppler_gain(double d, double fd_hz) const;

 private:
  Mode mode_;
  ModeGeometry geo_;
  std::vector<std::complex<double>> reference_;  ///< unit-energy windowed reference h[k]
  std::vector<double> doppler_window_;
  std::vector<double> mti_taps_;
  double channel_factor_;  ///< sum |g_c|^2 / C (noncoherent map) or max |g_c|^2 (per channel)
};

}  // namespace radarpipe
