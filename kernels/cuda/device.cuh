// CUDA device discovery: what `backend: auto` looks at, and what `radarpipe devices` prints.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace radarpipe::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int multiprocessors = 0;
  std::size_t global_memory_bytes = 0;
  std::size_t l2_cache_bytes = 0;
  double memory_bandwidth_gbps = 0;  ///< theoretical, from clock and bus width (0 if unknown)
};

struct DeviceScan {
  std::vector<DeviceInfo> devices;
  /// Why there are none: "no CUDA driver", "no CUDA device", or the runtime's error; empty if
  /// devices were found.
  std::string reason;
  int runtime_version = 0;
  int driver_version = 0;
};

/// Never throws: a machine without a GPU or driver yields an empty list and a reason.
DeviceScan scan_devices();

}  // namespace radarpipe::cuda
