#include "pipeline/backend.hpp"

#if defined(RADARPIPE_HAVE_CUDA)
#include "kernels/cuda/device.cuh"
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
    // The CUDA library of this version holds device discovery and the shared model math; the
    // GPU signal chain itself is not part of it yet, so the chain runs on the CPU.
    why = "found " + scan.devices[0].name + ", but this version has no CUDA signal chain";
  }
#else
  why = "this build has no CUDA backend (nvcc was not found at configure time)";
#endif
  if (requested == Backend::Cuda) throw ConfigError("backend", "cuda requested: " + why);
  c.reason = why;
  return c;
}

}  // namespace radarpipe
