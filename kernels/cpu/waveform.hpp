// Transmitted reference pulses (RADAR-MODEL.md "Waveform"): LFM up/down, Barker, rect.
#pragma once

#include <complex>
#include <vector>

#include "core/hd.hpp"
#include "core/mode.hpp"
#include "core/pulse.hpp"
#include "core/radar_math.hpp"

namespace radarpipe {

namespace cpu {

/// Number of reference samples L = round(duration * fs).
std::size_t waveform_samples(const WaveformConfig& w, double sample_rate_hz);

/// The sampled reference s[k] = s(k / fs), k = 0..L-1, in double precision.
std::vector<std::complex<double>> sample_waveform(const WaveformConfig& w, double sample_rate_hz);

}  // namespace cpu
}  // namespace radarpipe
