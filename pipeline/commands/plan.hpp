// `radarpipe plan`: the FFT plans of a mode's CPU chain made ahead of time and kept as FFTW
// wisdom (pipeline/chain/fft_wisdom.hpp), for a site's install step, so that the first
// `process` or `run` on the machine starts without measuring.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "core/mode.hpp"

namespace radarpipe {

struct PlanSummary {
  std::string wisdom_path;   ///< the file written ("" when wisdom is off)
  bool loaded = false;       ///< an accepted wisdom file was there before
  std::size_t measured = 0;  ///< transforms FFTW measured now (0: the wisdom covered them all)
  double seconds = 0;        ///< planning time
  bool written = false;      ///< the file was (re)written
  std::string cfar_factors;  ///< the CFAR factor directory ("" when none)
  double cfar_seconds = 0;   ///< the CFAR factors' solve (or load) time
  bool cfar_stored = false;  ///< they were kept from an earlier run
};

/// Plans every transform of the mode's whole CPU chain at its fft_planning effort (estimate
/// needs no wisdom: std::invalid_argument naming the key), loading and saving the wisdom at
/// fft_wisdom_path(mode, wisdom_override); the CFAR's calibrated factors are solved and kept
/// at cfar_factor_cache_path(cfar_override) likewise. Notes and warnings go to `log`.
PlanSummary plan_ffts(const Mode& mode, const std::string& wisdom_override, std::ostream& log,
                      const std::string& cfar_override = {});

}  // namespace radarpipe
