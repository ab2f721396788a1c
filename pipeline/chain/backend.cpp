#include "pipeline/chain/backend.hpp"

#include <cstdio>
#include <iostream>

#include "pipeline/chain/cfar_factor_cache.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/chain/fft_wisdom.hpp"

#if defined(RADARPIPE_HAVE_CUDA)
#include "kernels/cuda/device.cuh"
#include "pipeline/chain/cuda_chain.hpp"
#endif

namespace radarpipe {

bool cuda_built() {
#if defined(RADARPIPE_HAVE_CUDA)
  return true;
#else
  return false;
#endif
}

BackendChoice resolve_backend(Backend requested) {
  BackendChoice c;
  c.requested = requested;
  c.chosen = Backend::Cpu;
  if (requested == Backend::Cpu) {
    c.reason = "cpu requested";
    return c;
  }
  std::string why;
#if defined(RADARPIPE_HAVE_CUDA)
  const cuda::DeviceScan scan = cuda::scan_devices();
  if (scan.devices.empty()) {
    why = scan.reason;
  } else {
    const cuda::DeviceInfo& d = scan.devices[0];
    char line[256];
    std::snprintf(line, sizeof line, "%s requested: device 0, %s, compute %d.%d, %.0f GiB",
                  requested == Backend::Cuda ? "cuda" : "auto", d.name.c_str(), d.compute_major,
                  d.compute_minor, static_cast<double>(d.global_memory_bytes) / (1u << 30));
    c.chosen = Backend::Cuda;
    c.device = 0;
    c.reason = line;
    return c;
  }
#else
  why = "this build has no CUDA backend (nvcc was not found at configure time)";
#endif
  if (requested == Backend::Cuda) throw ConfigError("backend", "cuda requested: " + why);
  c.reason = "auto: " + why;
  return c;
}

std::string describe_devices() {
  std::string out;
  char line[512];
#if defined(RADARPIPE_HAVE_CUDA)
  const cuda::DeviceScan scan = cuda::scan_devices();
  std::snprintf(line, sizeof line, "CUDA runtime %d, driver %d\n", scan.runtime_version,
                scan.driver_version);
  out += line;
  if (scan.devices.empty()) return out + "no device: " + scan.reason + "\n";
  for (const auto& d : scan.devices) {
    std::snprintf(line, sizeof line,
                  "%d: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %.1f MiB, %.0f GB/s (theoretical)\n",
                  d.index, d.name.c_str(), d.compute_major, d.compute_minor, d.multiprocessors,
                  static_cast<double>(d.global_memory_bytes) / 1073741824.0,
                  static_cast<double>(d.l2_cache_bytes) / 1048576.0, d.memory_bandwidth_gbps);
    out += line;
  }
#else
  (void)line;
  out = "this build has no CUDA backend (nvcc was not found at configure time)\n";
#endif
  return out;
}

std::unique_ptr<SignalChain> make_chain(const Mode& mode, const BackendChoice& choice,
                                        const ChainOptions& given) {
  // Solved CFAR factors are kept per user unless the caller named a directory or none.
  ChainOptions options = given;
  options.cfar_factors = cfar_factor_cache_path(given.cfar_factors);
#if defined(RADARPIPE_HAVE_CUDA)
  if (choice.chosen == Backend::Cuda) {
    CudaChainOptions co;
    co.device = choice.device;
    co.first = options.first;
    co.last = options.last;
    co.cfar_factors = options.cfar_factors;
    co.log = options.log;
    return std::make_unique<CudaChain>(mode, co);
  }
#else
  if (choice.chosen == Backend::Cuda)
    throw ConfigError("backend", "cuda chosen, but this build has no CUDA backend");
#endif
  // The CPU chain plans with FFTW: from the machine's wisdom when it has some, else measured
  // once and the wisdom kept for the next start.
  if (mode.processing.fft_planning == FftPlanning::Estimate)
    return std::make_unique<CpuChain>(mode, options);
  FftWisdom wisdom(fft_wisdom_path(mode, options.fft_wisdom),
                   options.log ? *options.log : std::cerr);
  auto chain = std::make_unique<CpuChain>(mode, options);
  wisdom.save();
  return chain;
}

}  // namespace radarpipe
