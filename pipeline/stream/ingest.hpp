// The ingest of `radarpipe run` (docs/streaming.md "Ingest"): IQ from the --from endpoint is
// assembled into CPIs in a fixed pool of cube buffers and handed to the first segment as link
// messages. It never waits for the chain: with no free buffer the CPI is dropped whole and
// counted (overrun). Stream ends become EndOfStream markers; a Shutdown marker goes last, when
// `stopping` is set. Two sources: IQ frames on a ZeroMQ socket (ingest_loop, assembler.hpp) and
// VITA 49 packets over UDP or TCP (vrt_ingest.hpp).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "core/mode.hpp"
#include "io/link_message.hpp"
#include "pipeline/stream/assembler.hpp"
#include "pipeline/stream/buffer_pool.hpp"

namespace radarpipe::stream {

/// What every source hands the first segment: assembled CPIs and markers, as link messages.
class IngestOutput {
 public:
  IngestOutput(const Mode& mode, zmq::socket_t& to_chain, std::shared_ptr<BufferPool> pool,
               AssemblerCounters& counters);
  /// Sends the CPI (its buffer goes with the message); dropped and counted (overrun) if the
  /// queue could not take it.
  void cpi(const AssembledCpi& a);
  void marker(io::LinkKind kind, std::uint32_t stream);
  BufferPool& pool() { return *pool_; }

 private:
  const Mode& mode_;
  zmq::socket_t& out_;
  std::shared_ptr<BufferPool> pool_;
  AssemblerCounters& counters_;
};

class LinkSecurity;

/// The PULL socket IQ frames arrive on (`run --from`, `record --from`), bound or connected as
/// the endpoint says. A frame part is at most a header or the pulses of one CPI in cf32
/// (`cube_bytes`): ZeroMQ drops a peer announcing a larger part before anything is allocated
/// (64 parts at most queued). `input` gets the line the terminal shows; `bound_at` the resolved
/// endpoint when it binds, else "". CURVE as `security` says (link_security.hpp).
zmq::socket_t open_frame_input(zmq::context_t& ctx, const std::string& from, std::size_t cube_bytes,
                               LinkSecurity& security, std::string& input, std::string& bound_at);

/// Runs until `stopping`: frames from `iq_in`, CPIs (and markers) out on `to_chain`.
void ingest_loop(const Mode& mode, zmq::socket_t& iq_in, zmq::socket_t& to_chain,
                 const std::shared_ptr<BufferPool>& pool, AssemblerCounters& counters,
                 const std::atomic<bool>& stopping);

}  // namespace radarpipe::stream
