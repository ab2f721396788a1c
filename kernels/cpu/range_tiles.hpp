// The layout of a pulse-compressed cube between pulse compression and Doppler inside the CPU
// chain: range tiles. The cube x[c][p][n] (RADAR-MODEL.md "Layout of a CPI") is cut into tiles
// of T range gates; for each channel c and tile t (gates [t T, t T + T)) the P pulses' T samples
// are contiguous, pulse after pulse:
//
//   x[c][p][n] at ((c * tiles + n / T) * P + p) * T + n % T,   tiles = ceil(N / T)
//
// (the last tile of a channel is padded to T gates). Pulse compression writes each pulse as
// `tiles` runs of T samples with streaming stores; the Doppler stage then reads a tile's P x T
// block front to back, which the hardware prefetchers follow, instead of P runs scattered a
// whole pulse apart.
#pragma once

#include <cstddef>

namespace radarpipe::cpu {

struct RangeTiles {
  std::size_t pulses = 0;      ///< P
  std::size_t gates = 0;       ///< N
  std::size_t tile_gates = 0;  ///< T >= 1

  std::size_t tiles() const { return (gates + tile_gates - 1) / tile_gates; }
  /// Samples one channel occupies (padding included).
  std::size_t channel_size() const { return tiles() * pulses * tile_gates; }
  /// Offset of channel c's tile t (its pulse 0, gate t T).
  std::size_t tile_offset(std::size_t c, std::size_t t) const {
    return (c * tiles() + t) * pulses * tile_gates;
  }
  /// Offset of sample (c, p, n).
  std::size_t offset(std::size_t c, std::size_t p, std::size_t n) const {
    return tile_offset(c, n / tile_gates) + p * tile_gates + n % tile_gates;
  }
};

}  // namespace radarpipe::cpu
