// One checking macro for every CUDA runtime call and kernel launch, one for every cuFFT call
// (ARCHITECTURE.md "Errors"): failures throw radarpipe::cuda::CudaError naming the file, the line,
// the call and the error.
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

namespace radarpipe::cuda {

/// The name of a cuFFT status code (cufftResult has no string function of its own).
inline const char* cufft_result_name(int r) {
  switch (r) {
    case 0:
      return "CUFFT_SUCCESS";
    case 1:
      return "CUFFT_INVALID_PLAN";
    case 2:
      return "CUFFT_ALLOC_FAILED";
    case 3:
      return "CUFFT_INVALID_TYPE";
    case 4:
      return "CUFFT_INVALID_VALUE";
    case 5:
      return "CUFFT_INTERNAL_ERROR";
    case 6:
      return "CUFFT_EXEC_FAILED";
    case 7:
      return "CUFFT_SETUP_FAILED";
    case 8:
      return "CUFFT_INVALID_SIZE";
    case 9:
      return "CUFFT_UNALIGNED_DATA";
    case 10:
      return "CUFFT_INCOMPLETE_PARAMETER_LIST";
    case 11:
      return "CUFFT_INVALID_DEVICE";
    case 12:
      return "CUFFT_PARSE_ERROR";
    case 13:
      return "CUFFT_NO_WORKSPACE";
    case 14:
      return "CUFFT_NOT_IMPLEMENTED";
    case 15:
      return "CUFFT_LICENSE_ERROR";
    case 16:
      return "CUFFT_NOT_SUPPORTED";
    default:
      return "unknown cuFFT status";
  }
}

class CufftError : public std::runtime_error {
 public:
  CufftError(int code, const char* call, const char* file, int line)
      : std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call +
                           " failed: " + cufft_result_name(code) + " (" + std::to_string(code) +
                           ")"),
        code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace radarpipe::cuda

#define RP_CUFFT_CHECK(call)                                                                   \
  do {                                                                                         \
    const int rp_res_ = static_cast<int>(call);                                                \
    if (rp_res_ != 0) throw ::radarpipe::cuda::CufftError(rp_res_, #call, __FILE__, __LINE__); \
  } while (0)

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
