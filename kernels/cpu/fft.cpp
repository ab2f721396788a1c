#include "kernels/cpu/fft.hpp"

#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace radarpipe::cpu {
namespace {
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}
std::function<void()>& planning_notice() {
  static std::function<void()> f;
  return f;
}
std::size_t g_measured = 0;
}  // namespace

std::string export_wisdom() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  char* text = fftwf_export_wisdom_to_string();
  if (!text) return {};
  std::string out(text);
  fftwf_free(text);
  return out;
}

bool import_wisdom(const std::string& text) {
  std::lock_guard<std::mutex> lock(planner_mutex());
  return fftwf_import_wisdom_from_string(text.c_str()) != 0;
}

bool import_system_wisdom() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  return fftwf_import_system_wisdom() != 0;
}

void set_planning_notice(std::function<void()> notice) {
  std::lock_guard<std::mutex> lock(planner_mutex());
  planning_notice() = std::move(notice);
}

std::size_t measured_plans() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  return g_measured;
}

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
  auto plan = [&](unsigned flags) {
    return fftwf_plan_many_dft(1, &n, howmany, reinterpret_cast<fftwf_complex*>(in), nullptr,
                               istride, idist, reinterpret_cast<fftwf_complex*>(out), nullptr,
                               ostride, odist, sign, flags);
  };
  const unsigned flags = fftw_flags(planning) | extra_flags;
  if (planning != FftPlanning::Estimate) {
    // From wisdom when it covers this transform (no measuring, the arrays untouched);
    // otherwise say so once the runtime asked to know, and measure.
    plan_ = plan(flags | FFTW_WISDOM_ONLY);
    if (!plan_) {
      if (planning_notice()) planning_notice()();
      plan_ = plan(flags);
      if (plan_) ++g_measured;
    }
  } else {
    plan_ = plan(flags);
  }
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
