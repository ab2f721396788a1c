#include "pipeline/stream/vrt_ingest.hpp"

#include <iostream>

#include "pipeline/stream/heartbeat.hpp"
#include "pipeline/stream/ingest.hpp"
#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

using io::LinkKind;

VrtSource::VrtSource(const Mode& mode, const std::string& from, VrtCounters& counters)
    : mode_(mode), ep_(io::parse_vrt_endpoint(from, false, "--from")), counters_(counters) {
  if (mode.radar.channels > 1 && mode.input.vrt.stream_ids.empty())
    throw ConfigError("input.vrt.stream_ids",
                      "a mode of " + std::to_string(mode.radar.channels) +
                          " channels reads VRT only with the stream ID of each channel");
  if (ep_.transport == io::VrtEndpoint::Transport::Udp) {
    udp_ = std::make_unique<io::VrtUdpReceiver>(ep_, mode.input.vrt.receive_buffer_bytes);
    counters_.receive_buffer_bytes = udp_->receive_buffer();
    bound_ = udp_->bound();
  } else {
    tcp_ = std::make_unique<io::VrtTcpReceiver>(ep_);
    bound_ = tcp_->bound();
  }
}

VrtSource::~VrtSource() = default;

std::string VrtSource::describe() const {
  if (udp_)
    return "VRT over udp at " + bound_ + " (receive buffer " +
           std::to_string(udp_->receive_buffer()) + " bytes as the kernel counts it, " +
           std::to_string(mode_.input.vrt.receive_buffer_bytes) + " asked)";
  return std::string("VRT over tcp ") + (ep_.listen ? "listening at " : "from ") + bound_;
}

void VrtSource::run(zmq::socket_t& to_chain, const std::shared_ptr<BufferPool>& shared_pool,
                    AssemblerCounters& frames, const std::atomic<bool>& stopping) {
  IngestOutput out(mode_, to_chain, shared_pool, frames);
  BufferPool& pool = out.pool();
  auto log = [](const std::string& line) { std::cerr << "radarpipe run: " << line << "\n"; };
  VrtAssembler assembler(
      mode_, counters_, frames, [&] { return pool.try_acquire(); },
      [&](void* b) { pool.release(b); }, [&](const AssembledCpi& a) { out.cpi(a); }, log);
  if (udp_) {
    while (!stopping.load()) {
      beat();
      const std::size_t n = udp_->receive(50);
      if (n == 0) continue;
      const std::int64_t now = utc_now_ns();
      for (std::size_t i = 0; i < n; ++i) assembler.push(udp_->datagram(i), udp_->size(i), now);
      counters_.kernel_drops.store(udp_->kernel_drops(), std::memory_order_relaxed);
    }
  } else {
    std::int64_t now = 0;
    auto on_packet = [&](const unsigned char* b, std::size_t size) {
      assembler.push(b, size, now);
    };
    while (!stopping.load()) {
      beat();
      now = utc_now_ns();
      switch (tcp_->poll(50, on_packet)) {
        case io::VrtTcpReceiver::Event::Connected:
          counters_.connections.fetch_add(1, std::memory_order_relaxed);
          log("VRT over tcp: connected (" + bound_ + ")");
          break;
        case io::VrtTcpReceiver::Event::Closed:
        case io::VrtTcpReceiver::Event::Corrupt:
          log("VRT over tcp: " + tcp_->last_error() + "; the stream ends");
          assembler.end_of_stream();
          out.marker(LinkKind::EndOfStream, assembler.stream_id());
          break;
        default:
          break;
      }
    }
  }
  assembler.abort(CpiDrop::Shutdown);
  out.marker(LinkKind::Shutdown, assembler.stream_id());
}

}  // namespace radarpipe::stream
