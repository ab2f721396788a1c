// The VRT source of `radarpipe run` (docs/streaming.md "VRT source"): VITA 49 packets from a
// UDP socket (recvmmsg batches) or a TCP connection, assembled into CPIs by VrtAssembler and
// handed on like the frame ingest's (ingest.hpp). A TCP connection that closes ends the stream
// (an EndOfStream marker; `run --exit-at-end` then exits); a connecting source reconnects.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "core/mode.hpp"
#include "io/vrt_socket.hpp"
#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/vrt_assembler.hpp"

namespace radarpipe::stream {

class VrtSource {
 public:
  /// Binds (udp, or a listening tcp endpoint) at once: throws std::invalid_argument (the
  /// endpoint's text), ConfigError (the mode cannot read VRT) or std::runtime_error (sockets).
  VrtSource(const Mode& mode, const std::string& from, VrtCounters& counters);
  ~VrtSource();
  /// Where senders reach it ("127.0.0.1:PORT").
  const std::string& bound() const { return bound_; }
  /// One line for the terminal: transport, address, receive buffer asked and granted.
  std::string describe() const;

  /// Runs until `stopping`: packets in, CPIs and markers out on `to_chain`.
  void run(zmq::socket_t& to_chain, const std::shared_ptr<BufferPool>& pool,
           AssemblerCounters& frames, const std::atomic<bool>& stopping);

 private:
  const Mode& mode_;
  io::VrtEndpoint ep_;
  VrtCounters& counters_;
  std::unique_ptr<io::VrtUdpReceiver> udp_;
  std::unique_ptr<io::VrtTcpReceiver> tcp_;
  std::string bound_;
};

}  // namespace radarpipe::stream
