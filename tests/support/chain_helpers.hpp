// What the chain tests (CPU, CUDA, the chain interface) build their chains from.
#pragma once

#include <cstddef>

#include "pipeline/chain/signal_chain.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe::test {

/// `threads` workers and Doppler tiles of `tile` gates, everything else the default.
inline ChainOptions workers(std::size_t threads, std::size_t tile) {
  ChainOptions o;
  o.threads = threads;
  o.doppler_tile_gates = tile;
  return o;
}

/// A small X-band mode: `gates` gates at 20 MHz (7.5 m bins), 100-sample LFM of 10 MHz,
/// 64 pulses, M = 64, FFTW_ESTIMATE planning (example_mode's other settings).
inline Mode small_chain_mode(std::size_t channels = 1, std::size_t gates = 600) {
  Mode m = example_mode();
  m.radar.channels = channels;
  m.radar.range_gates = gates;
  m.radar.waveform.pulse_width_s = 5e-6;
  m.radar.waveform.bandwidth_hz = 10e6;
  m.processing.pulses = 64;
  m.processing.doppler_fft_size = 64;
  return m;
}

}  // namespace radarpipe::test
