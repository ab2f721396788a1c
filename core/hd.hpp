// Marks per-element math that both the CPU build and nvcc compile (ARCHITECTURE.md: "Per-element
// math shared by both sides lives in __host__ __device__ inline functions").
#pragma once

#if defined(__CUDACC__)
#define RP_HD __host__ __device__
#else
#define RP_HD
#endif

namespace radarpipe {

// One rounding per operation on both sides. nvcc contracts a * b + c into one fused multiply-add
// (a single rounding) unless told not to, while the host build (ISO C++, -ffp-contract=off;
// no FMA in the x86-64 baseline) rounds the product and the sum separately; so the shared math
// spells each product and sum with these, and the device computes, bit for bit, what the host
// tests of that math check (tests/kernels/cuda_stage_math_test.cpp).
RP_HD inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

RP_HD inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

RP_HD inline float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

RP_HD inline float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// IEEE division on the device whatever -prec-div or --use_fast_math say.
RP_HD inline float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

}  // namespace radarpipe
