// One checking macro for every CUDA runtime call and kernel launch (ARCHITECTURE.md "Errors"):
// failures throw radarpipe::cuda::CudaError naming the file, the line, the call and the error.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace radarpipe::cuda {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const char* call, const char* file, int line)
      : std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                           " failed: " + cudaGetErrorName(code) + " (" + cudaGetErrorString(code) +
                           ")"),
        code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

}  // namespace radarpipe::cuda

#define RP_CUDA_CHECK(call)                                                   \
  do {                                                                        \
    const cudaError_t rp_err_ = (call);                                       \
    if (rp_err_ != cudaSuccess)                                               \
      throw ::radarpipe::cuda::CudaError(rp_err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: the launch error, and with RADARPIPE_CUDA_SYNC_DEBUG a synchronise
// so that an asynchronous fault is reported at the kernel that caused it.
#if defined(RADARPIPE_CUDA_SYNC_DEBUG)
#define RP_CUDA_CHECK_LAUNCH()              \
  do {                                      \
    RP_CUDA_CHECK(cudaGetLastError());      \
    RP_CUDA_CHECK(cudaDeviceSynchronize()); \
  } while (0)
#else
#define RP_CUDA_CHECK_LAUNCH() RP_CUDA_CHECK(cudaGetLastError())
#endif
