// The CUDA error reporting (kernels/cuda/check.cuh), on the host: built with the CUDA backend
// and run without a device (CTest label cpu), since naming an error needs no GPU.
#include <cufft.h>
#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/check.cuh"

namespace radarpipe {
namespace {

// Every status cuFFT defines has its name (the library has no string function of its own),
// checked against the enumerators of this toolkit's cufft.h, so a renumbering fails here.
TEST(CudaCheck, EveryCufftStatusIsNamed) {
  const std::pair<cufftResult, const char*> known[] = {
      {CUFFT_SUCCESS, "CUFFT_SUCCESS"},
      {CUFFT_INVALID_PLAN, "CUFFT_INVALID_PLAN"},
      {CUFFT_ALLOC_FAILED, "CUFFT_ALLOC_FAILED"},
      {CUFFT_INVALID_TYPE, "CUFFT_INVALID_TYPE"},
      {CUFFT_INVALID_VALUE, "CUFFT_INVALID_VALUE"},
      {CUFFT_INTERNAL_ERROR, "CUFFT_INTERNAL_ERROR"},
      {CUFFT_EXEC_FAILED, "CUFFT_EXEC_FAILED"},
      {CUFFT_SETUP_FAILED, "CUFFT_SETUP_FAILED"},
      {CUFFT_INVALID_SIZE, "CUFFT_INVALID_SIZE"},
      {CUFFT_UNALIGNED_DATA, "CUFFT_UNALIGNED_DATA"},
      {static_cast<cufftResult>(10), "CUFFT_INCOMPLETE_PARAMETER_LIST"},
      {CUFFT_INVALID_DEVICE, "CUFFT_INVALID_DEVICE"},
      {static_cast<cufftResult>(12), "CUFFT_PARSE_ERROR"},
      {CUFFT_NO_WORKSPACE, "CUFFT_NO_WORKSPACE"},
      {CUFFT_NOT_IMPLEMENTED, "CUFFT_NOT_IMPLEMENTED"},
      {static_cast<cufftResult>(15), "CUFFT_LICENSE_ERROR"},
      {CUFFT_NOT_SUPPORTED, "CUFFT_NOT_SUPPORTED"},
  };
  for (const auto& k : known)
    EXPECT_STREQ(cuda::cufft_result_name(static_cast<int>(k.first)), k.second) << k.first;
  for (int code = 0; code <= 16; ++code)
    EXPECT_STRNE(cuda::cufft_result_name(code), "unknown cuFFT status") << code;
  EXPECT_STREQ(cuda::cufft_result_name(99), "unknown cuFFT status");
}

// An error names the file, the line, the call and the error, as the macro throws it.
TEST(CudaCheck, ErrorsNameTheCallAndTheError) {
  try {
    RP_CUFFT_CHECK(CUFFT_INVALID_SIZE);
    FAIL() << "RP_CUFFT_CHECK did not throw";
  } catch (const cuda::CufftError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cuda_check_test.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("CUFFT_INVALID_SIZE (8)"), std::string::npos) << what;
    EXPECT_EQ(e.code(), 8);
  }
  try {
    RP_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "RP_CUDA_CHECK did not throw";
  } catch (const cuda::CudaError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cudaErrorInvalidValue"), std::string::npos) << what;
    EXPECT_EQ(e.code(), cudaErrorInvalidValue);
  }
}

}  // namespace
}  // namespace radarpipe
