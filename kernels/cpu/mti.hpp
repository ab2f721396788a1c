// MTI pulse cancellers (RADAR-MODEL.md "MTI"): two-pulse y[p] - y[p-1] (P-1 outputs) and
// three-pulse y[p] - 2y[p-1] + y[p-2] (P-2 outputs). The Doppler stage applies the same taps
// (radar_math.hpp mti_taps) while it gathers pulses, so the chain never runs this on its own;
// this standalone form is the stage's specification and what the tests check against.
#pragma once

#include <cstddef>

#include "core/cpi.hpp"
#include "core/mode.hpp"

namespace radarpipe::cpu {

/// Pulses left after the canceller: P, P-1 or P-2 (0 if P is too short).
std::size_t mti_output_pulses(MtiMode mode, std::size_t pulses);

/// One channel: in is pulses x gates, out is mti_output_pulses(mode, pulses) x gates.
void mti(MtiMode mode, const cf32* in, cf32* out, std::size_t pulses, std::size_t gates) noexcept;

/// Integer code of a mode for the shared per-element math (0 none, 1 two-pulse, 2 three-pulse).
inline int mti_code(MtiMode mode) {
  return mode == MtiMode::TwoPulse ? 1 : mode == MtiMode::ThreePulse ? 2 : 0;
}

}  // namespace radarpipe::cpu
