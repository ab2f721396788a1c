// FFTW single-precision plumbing shared by the CPU stages: aligned buffers, RAII plans made at
// construction (never from a hidden cache), planner flags, and FFT-friendly sizes.
#pragma once

#include <fftw3.h>

#include <cstddef>
#include <functional>
#include <string>

#include "core/cpi.hpp"
#include "core/mode.hpp"

namespace radarpipe::cpu {

/// Smallest n' >= n whose prime factors are all in {2, 3, 5, 7} (sizes FFTW's codelets cover).
std::size_t next_fast_fft_size(std::size_t n);

/// FFTW planner flags for a planning effort (FFTW_ESTIMATE / MEASURE / PATIENT).
unsigned fftw_flags(FftPlanning planning);

// ---- FFTW wisdom: what measured planning learned, so a machine plans once ------------------
// In memory only (files are the runtime's business: pipeline/chain/fft_wisdom.hpp). Every call
// holds the planner lock.

/// The accumulated wisdom as FFTW's text.
std::string export_wisdom();
/// Adds wisdom text; false when FFTW rejects it (malformed), in which case nothing is added.
bool import_wisdom(const std::string& text);
/// Adds the system's wisdom (/etc/fftw/wisdomf); false when there is none.
bool import_system_wisdom();
/// Set by the runtime: called before FFTW measures a transform the loaded wisdom does not
/// cover (planning FFTW_MEASURE or PATIENT takes seconds), so it can say so once. Not called
/// for plans the wisdom covers, nor for FFTW_ESTIMATE.
void set_planning_notice(std::function<void()> notice);
/// Plans made by measuring (not from wisdom) since the program started.
std::size_t measured_plans();

/// Owns one fftwf_plan. Creation goes through a global lock (the FFTW planner is not
/// thread-safe); execution with new arrays (fftwf_execute_dft) is thread-safe and is what the
/// stages call from their workers, on buffers aligned like the ones the plan was made on.
class FftPlan {
 public:
  FftPlan() = default;
  /// Batched complex transform: fftwf_plan_many_dft with the given layout.
  ///   n : transform size >= 1; howmany : batch >= 1; sign : FFTW_FORWARD or FFTW_BACKWARD;
  ///   extra_flags : planner flags added to the effort's (FFTW_UNALIGNED for a plan that will
  ///   run on arrays aligned unlike in and out)
  FftPlan(int n, int howmany, cf32* in, int istride, int idist, cf32* out, int ostride, int odist,
          int sign, FftPlanning planning, unsigned extra_flags = 0);
  FftPlan(const FftPlan&) = delete;
  FftPlan& operator=(const FftPlan&) = delete;
  FftPlan(FftPlan&& o) noexcept : plan_(o.plan_) { o.plan_ = nullptr; }
  FftPlan& operator=(FftPlan&& o) noexcept;
  ~FftPlan();

  /// Runs the plan on other arrays of the same layout and alignment.
  void execute(cf32* in, cf32* out) const noexcept {
    fftwf_execute_dft(plan_, reinterpret_cast<fftwf_complex*>(in),
                      reinterpret_cast<fftwf_complex*>(out));
  }

 private:
  fftwf_plan plan_ = nullptr;
};

}  // namespace radarpipe::cpu
