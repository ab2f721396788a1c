#include "kernels/cpu/fft.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

namespace radarpipe::cpu {
namespace {
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

std::size_t next_fast_fft_size(std::size_t n) {
  if (n <= 1) return 1;
  for (std::size_t m = n;; ++m) {
    std::size_t r = m;
    for (std::size_t p : {2u, 3u, 5u, 7u})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

unsigned fftw_flags(FftPlanning planning) {
  switch (planning) {
    case FftPlanning::Estimate:
      return FFTW_ESTIMATE;
    case FftPlanning::Measure:
      return FFTW_MEASURE;
    case FftPlanning::Patient:
      return FFTW_PATIENT;
  }
  return FFTW_MEASURE;
}

FftPlan::FftPlan(int n, int howmany, cf32* in, int istride, int idist, cf32* out, int ostride,
                 int odist, int sign, FftPlanning planning, unsigned extra_flags) {
  std::lock_guard<std::mutex> lock(planner_mutex());
  plan_ = fftwf_plan_many_dft(1, &n, howmany, reinterpret_cast<fftwf_complex*>(in), nullptr,
                              istride, idist, reinterpret_cast<fftwf_complex*>(out), nullptr,
                              ostride, odist, sign, fftw_flags(planning) | extra_flags);
  if (!plan_)
    throw std::runtime_error("FFTW could not plan a transform of size " + std::to_string(n) +
                             " x " + std::to_string(howmany));
}

FftPlan& FftPlan::operator=(FftPlan&& o) noexcept {
  std::swap(plan_, o.plan_);
  return *this;
}

FftPlan::~FftPlan() {
  if (plan_) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftwf_destroy_plan(plan_);
  }
}

}  // namespace radarpipe::cpu
