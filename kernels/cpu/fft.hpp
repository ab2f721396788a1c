// FFTW single-precision plumbing shared by the CPU stages: aligned buffers, RAII plans made at
// construction (never from a hidden cache), planner flags, and FFT-friendly sizes.
#pragma once

#include <fftw3.h>

#include <cstddef>

#include "core/cpi.hpp"
#include "core/mode.hpp"

namespace radarpipe::cpu {

/// Smallest n' >= n whose prime factors are all in {2, 3, 5, 7} (sizes FFTW's codelets cover).
std::size_t next_fast_fft_size(std::size_t n);

/// FFTW planner flags for a planning effort (FFTW_ESTIMATE / MEASURE / PATIENT).
unsigned fftw_flags(FftPlanning planning);

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
