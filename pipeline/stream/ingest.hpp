// The ingest of `radarpipe run` (docs/streaming.md "Ingest"): IQ frames from the --from socket
// are assembled into CPIs in a fixed pool of cube buffers and handed to the first segment as
// link messages. It never waits for the chain: with no free buffer the CPI is dropped whole and
// counted (overrun). End-of-stream frames become EndOfStream markers; a Shutdown marker goes
// last, when `stopping` is set.
#pragma once

#include <atomic>
#include <memory>
#include <zmq.hpp>

#include "core/mode.hpp"
#include "pipeline/stream/assembler.hpp"
#include "pipeline/stream/buffer_pool.hpp"

namespace radarpipe::stream {

/// Runs until `stopping`: frames from `iq_in`, CPIs (and markers) out on `to_chain`.
void ingest_loop(const Mode& mode, zmq::socket_t& iq_in, zmq::socket_t& to_chain,
                 const std::shared_ptr<BufferPool>& pool, AssemblerCounters& counters,
                 const std::atomic<bool>& stopping);

}  // namespace radarpipe::stream
