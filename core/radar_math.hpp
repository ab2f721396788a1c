// The signal model's per-element math (RADAR-MODEL.md), shared by the CPU kernels, the CUDA
// kernels and the simulator. Everything here is a pure inline function of scalars so that nvcc
// and the host compiler build the same code and the CPU test suite covers it.
#pragma once

#include <math.h>

#include "core/hd.hpp"

namespace radarpipe {

constexpr double kSpeedOfLight_mps = 299792458.0;
constexpr double kPi = 3.14159265358979323846;

/// Range of a (fractional) pulse-compressed range bin m: R_m = c*(t0 + m/fs)/2.
///   bin : range bin, may be fractional;  window_start_s : t0 >= 0;  sample_rate_hz : fs > 0
RP_HD inline double range_of_bin_m(double bin, double window_start_s, double sample_rate_hz) {
  return 0.5 * kSpeedOfLight_mps * (window_start_s + bin / sample_rate_hz);
}

/// Inverse of range_of_bin_m: the fractional bin holding an echo from range_m.
RP_HD inline double bin_of_range(double range_m, double window_start_s, double sample_rate_hz) {
  return (2.0 * range_m / kSpeedOfLight_mps - window_start_s) * sample_rate_hz;
}

/// Index of zero Doppler after the fftshift: floor(M/2) (= M/2 for even M, as in the model).
RP_HD inline long doppler_zero_bin(long fft_size) {
  return fft_size / 2;
}

/// Doppler frequency of a (fractional) shifted Doppler bin d: f_D = (d - M/2) * PRF / M.
RP_HD inline double doppler_of_bin_hz(double bin, long fft_size, double prf_hz) {
  return (bin - static_cast<double>(doppler_zero_bin(fft_size))) * prf_hz /
         static_cast<double>(fft_size);
}

/// Inverse of doppler_of_bin_hz, folded into [0, M): the shifted bin of Doppler f_D.
RP_HD inline double bin_of_doppler(double doppler_hz, long fft_size, double prf_hz) {
  const double m = static_cast<double>(fft_size);
  double k = doppler_hz / prf_hz * m;  // unshifted, may be outside [-M/2, M/2)
  k = k - m * floor(k / m);            // alias into [0, M)
  double d = k + static_cast<double>(doppler_zero_bin(fft_size));
  return d - m * floor(d / m);
}

/// Range rate (positive = receding) of Doppler frequency f_D: v = -f_D * lambda / 2.
RP_HD inline double range_rate_of_doppler_mps(double doppler_hz, double wavelength_m) {
  return -0.5 * doppler_hz * wavelength_m;
}

/// Doppler frequency of a range rate: f_D = -2 v / lambda.
RP_HD inline double doppler_of_range_rate_hz(double range_rate_mps, double wavelength_m) {
  return -2.0 * range_rate_mps / wavelength_m;
}

/// Sub-bin offset of a peak from three samples around it (3-point parabolic interpolation):
/// delta = 0.5 (l - r) / (l - 2c + r), clamped to |delta| <= 0.5; 0 when the three samples
/// do not form a maximum (flat or concave-up). The caller passes the samples on the scale it
/// fits (radarpipe fits log power, i.e. dB; see docs/signal-chain.md).
RP_HD inline double parabolic_offset(double left, double centre, double right) {
  const double den = left - 2.0 * centre + right;
  if (!(den < 0.0)) return 0.0;
  double delta = 0.5 * (left - right) / den;
  if (delta > 0.5) delta = 0.5;
  if (delta < -0.5) delta = -0.5;
  return delta;
}

/// The Barker code of length 2, 3, 4, 5, 7, 11 or 13: chip i in {+1, -1}; 0 if out of range.
RP_HD inline int barker_chip(int length, int i) {
  // Bit i (from the most significant of `length` bits) set means +1.
  unsigned bits = 0;
  switch (length) {
    case 2:
      bits = 0x2u;
      break;  // + -
    case 3:
      bits = 0x6u;
      break;  // + + -
    case 4:
      bits = 0xDu;
      break;  // + + - +
    case 5:
      bits = 0x1Du;
      break;  // + + + - +
    case 7:
      bits = 0x72u;
      break;  // + + + - - + -
    case 11:
      bits = 0x712u;
      break;  // + + + - - - + - - + -
    case 13:
      bits = 0x1F35u;
      break;  // + + + + + - - + + - + - +
    default:
      return 0;
  }
  if (i < 0 || i >= length) return 0;
  return ((bits >> (length - 1 - i)) & 1u) ? 1 : -1;
}

/// Phase (rad) of the LFM pulse at time t in [0, tau): 2 pi (-B/2 t + B/(2 tau) t^2), with B
/// negated for a down-chirp (direction -1). Instantaneous frequency runs -B/2 -> +B/2 (up).
RP_HD inline double lfm_phase_rad(double t_s, double bandwidth_hz, double pulse_width_s,
                                  int direction) {
  const double b = direction < 0 ? -bandwidth_hz : bandwidth_hz;
  return 2.0 * kPi * (-0.5 * b * t_s + 0.5 * b / pulse_width_s * t_s * t_s);
}

/// Square-law power of a complex sample (each product and the sum rounded: core/hd.hpp).
RP_HD inline float power_of(float re, float im) {
  return add_rn(mul_rn(re, re), mul_rn(im, im));
}

}  // namespace radarpipe

namespace radarpipe {

/// MTI canceller taps (RADAR-MODEL.md "MTI"), applied oldest pulse first:
/// output p' = sum_j taps[j] * y[p' + j], j = 0..order. Two-pulse y[p] - y[p-1] is {-1, +1};
/// three-pulse y[p] - 2y[p-1] + y[p-2] is {+1, -2, +1}. Returns the order (taps - 1): the
/// number of pulses the canceller consumes.
RP_HD inline int mti_taps(int mode /* 0 none, 1 two-pulse, 2 three-pulse */, float taps[3]) {
  taps[0] = 1.0f;
  taps[1] = 0.0f;
  taps[2] = 0.0f;
  if (mode == 1) {
    taps[0] = -1.0f;
    taps[1] = 1.0f;
    return 1;
  }
  if (mode == 2) {
    taps[0] = 1.0f;
    taps[1] = -2.0f;
    taps[2] = 1.0f;
    return 2;
  }
  return 0;
}

}  // namespace radarpipe
