// Memory-traffic helpers for the CPU stages: overlap the compulsory reads and writes of a CPI
// with FFT work (non-temporal stores that skip the read-for-ownership; short inline copies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace radarpipe::cpu {

/// Copies floats to memory that will not be read again soon (the next stage reads it in
/// another order), with streaming stores where the target allows. Call store_fence() before
/// another thread reads dst.
inline void stream_copy(float* dst, const float* src, std::size_t count) noexcept {
#if defined(__SSE2__)
  std::size_t i = 0;
  while (i < count && (reinterpret_cast<std::uintptr_t>(dst + i) & 15u) != 0) {
    dst[i] = src[i];
    ++i;
  }
  for (; i + 4 <= count; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < count; ++i) dst[i] = src[i];
#else
  std::memcpy(dst, src, count * sizeof(float));
#endif
}

/// Copies a short run of floats through the cache, inline (a library memcpy call per run costs
/// more than the run itself when runs are one or a few cache lines).
inline void copy_short(float* __restrict dst, const float* __restrict src,
                       std::size_t count) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= count; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
#endif
  for (; i < count; ++i) dst[i] = src[i];
}

/// Orders earlier streaming stores before later stores (and the pool's hand-over).
inline void store_fence() noexcept {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace radarpipe::cpu
