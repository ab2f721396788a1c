#include "pipeline/commands/plan.hpp"

#include <chrono>
#include <stdexcept>

#include "kernels/cpu/fft.hpp"
#include "pipeline/chain/cfar_factor_cache.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/chain/fft_wisdom.hpp"

namespace radarpipe {

PlanSummary plan_ffts(const Mode& mode, const std::string& wisdom_override, std::ostream& log,
                      const std::string& cfar_override) {
  mode.validate();
  if (mode.processing.fft_planning == FftPlanning::Estimate)
    throw std::invalid_argument(
        "processing.fft_planning: estimate plans without measuring and needs no wisdom; plan "
        "for a mode with measure or patient");
  PlanSummary sum;
  sum.wisdom_path = fft_wisdom_path(mode, wisdom_override);
  if (sum.wisdom_path.empty())
    throw std::invalid_argument(
        "no wisdom file: processing.fft_wisdom or --fft-wisdom is none, or no home directory "
        "is known (set XDG_CACHE_HOME or give --fft-wisdom PATH)");
  FftWisdom wisdom(sum.wisdom_path, log);
  sum.loaded = wisdom.loaded();
  const std::size_t before = cpu::measured_plans();
  const auto t0 = std::chrono::steady_clock::now();
  {
    // The CFAR's calibrated factors are kept too (pipeline/chain/cfar_factor_cache.hpp).
    ChainOptions co;
    co.cfar_factors = sum.cfar_factors = cfar_factor_cache_path(cfar_override);
    co.log = &log;
    CpuChain chain(mode, co);
    if (mode.processing.cfar.threshold == CfarThreshold::Calibrated) {
      sum.cfar_seconds = chain.cfar().calibration().seconds;
      sum.cfar_stored = chain.cfar().calibration().stored;
    }
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sum.measured = cpu::measured_plans() - before;
  sum.written = wisdom.save(true);
  return sum;
}

}  // namespace radarpipe
