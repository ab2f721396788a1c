// The model's continuous transmitted pulse s(t) (RADAR-MODEL.md "Waveform"), shared by the
// reference sampler (kernels/cpu/waveform), the CUDA kernels and the simulator (io/).
#pragma once

#include <math.h>

#include "core/hd.hpp"
#include "core/mode.hpp"
#include "core/radar_math.hpp"

namespace radarpipe {

/// The continuous pulse s(t) of the model, amplitude 1, zero outside [0, duration).
/// Writes the real and imaginary parts; shared by the reference sampler and the simulator.
///   t_s : time since the pulse start (s)
RP_HD inline void pulse_value(const WaveformConfig& w, double t_s, double* re, double* im) {
  *re = 0.0;
  *im = 0.0;
  if (w.type == WaveformType::Lfm) {
    if (t_s < 0.0 || t_s >= w.pulse_width_s) return;
    const double ph = lfm_phase_rad(t_s, w.bandwidth_hz, w.pulse_width_s, w.direction);
    *re = cos(ph);
    *im = sin(ph);
  } else if (w.type == WaveformType::Barker) {
    if (t_s < 0.0) return;
    const int chip = static_cast<int>(floor(t_s / w.chip_width_s));
    *re = barker_chip(w.barker_length, chip);  // 0 beyond the last chip
  } else {
    if (t_s >= 0.0 && t_s < w.pulse_width_s) *re = 1.0;
  }
}

/// s(t) at a sampling instant t = (n - delay) / fs. For Barker the instant is nudged by 1e-9
/// samples, so that an instant that is a whole number of chips falls in its own chip despite
/// round-off (chip_width * fs is often an integer). The reference sampler, the simulator and
/// the expected-SNR computation all sample through here.
RP_HD inline void pulse_sample(const WaveformConfig& w, double t_s, double sample_rate_hz,
                               double* re, double* im) {
  if (w.type == WaveformType::Barker) t_s += 1e-9 / sample_rate_hz;
  pulse_value(w, t_s, re, im);
}

}  // namespace radarpipe
