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

/// Orders earlier streaming stores before later stores (and the pool's hand-over).
inline void store_fence() noexcept {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace radarpipe::cpu
