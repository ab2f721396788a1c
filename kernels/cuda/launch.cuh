// Launch geometry shared by the CUDA stages (device-compiled files only).
#pragma once

#include <cuda_runtime.h>

namespace radarpipe::cuda {

/// Grid for a kernel that walks `rows` rows of `width` elements with 256-thread blocks: x covers
/// a row (grid-stride beyond 64 blocks), y the rows (grid-stride beyond 65535).
inline dim3 row_grid(int width, int rows) {
  int bx = (width + 255) / 256;
  if (bx > 64) bx = 64;
  if (bx < 1) bx = 1;
  int by = rows < 65535 ? rows : 65535;
  if (by < 1) by = 1;
  return dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by));
}

}  // namespace radarpipe::cuda
