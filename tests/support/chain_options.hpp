// Chain options for the chain tests.
#pragma once

#include <cstddef>

#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe::test {

/// `threads` workers and Doppler tiles of `tile` gates, everything else the default.
inline ChainOptions workers(std::size_t threads, std::size_t tile) {
  ChainOptions o;
  o.threads = threads;
  o.doppler_tile_gates = tile;
  return o;
}

}  // namespace radarpipe::test
