// Memory-traffic helpers for the CPU stages: non-temporal stores for data the next stage reads
// much later (they skip the read-for-ownership of every line they fill).
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

/// A span of memory to prefetch a few cache lines at a time, spread over a loop or between
/// library calls: [at, at + bytes) is what is left. Spread out, the requests fit in the core's
/// miss buffers and arrive while it computes; one burst would stall like the loads it replaces.
struct PrefetchWindow {
  const char* at = nullptr;
  std::size_t bytes = 0;
  /// Issues up to n more lines.
  void lines(std::size_t n) noexcept {
    for (; n > 0 && bytes > 0; --n) {
      __builtin_prefetch(at, 0, 3);
      at += 64;
      bytes = bytes > 64 ? bytes - 64 : 0;
    }
  }
};

/// Orders earlier streaming stores before later stores (and the pool's hand-over).
inline void store_fence() noexcept {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace radarpipe::cpu
