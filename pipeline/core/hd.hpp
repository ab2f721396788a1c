// Marks per-element math that both the CPU build and nvcc compile (ARCHITECTURE.md: "Per-element
// math shared by both sides lives in __host__ __device__ inline functions").
#pragma once

#if defined(__CUDACC__)
#define RP_HD __host__ __device__
#else
#define RP_HD
#endif
