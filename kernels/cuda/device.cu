#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device.cuh"

namespace radarpipe::cuda {

DeviceScan scan_devices() {
  DeviceScan scan;
  cudaRuntimeGetVersion(&scan.runtime_version);
  cudaDriverGetVersion(&scan.driver_version);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    scan.reason = err == cudaErrorNoDevice ? "no CUDA device"
                  : err == cudaErrorInsufficientDriver
                      ? "no CUDA driver (or one older than the runtime)"
                      : std::string(cudaGetErrorString(err));
    cudaGetLastError();  // clear the sticky-free error state for later callers
    return scan;
  }
  if (count == 0) scan.reason = "no CUDA device";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.compute_major = prop.major;
    d.compute_minor = prop.minor;
    d.multiprocessors = prop.multiProcessorCount;
    d.global_memory_bytes = prop.totalGlobalMem;
    d.l2_cache_bytes = static_cast<std::size_t>(prop.l2CacheSize);
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, i) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, i) == cudaSuccess)
      d.memory_bandwidth_gbps = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    scan.devices.push_back(d);
  }
  return scan;
}

}  // namespace radarpipe::cuda
