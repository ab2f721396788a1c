// Run-time SIMD choice for the CPU stages. The project compiles for the x86-64 baseline (SSE2);
// the few loops where AVX2 measured faster have an AVX2 version beside the SSE2 one, with the
// same operations in the same order (no FMA), so that every version gives the same bits.
#pragma once

namespace radarpipe::cpu {

/// True when the CPU running this program has AVX2 (and the compiler can target it).
inline bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

}  // namespace radarpipe::cpu

/// An AVX2 clone of a plain (auto-vectorised) function next to the baseline one, picked when the
/// program loads.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define RADARPIPE_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define RADARPIPE_AVX2_CLONE
#endif
