#include "pipeline/stream/ingest.hpp"

#include <vector>

#include "io/link_message.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

using io::LinkHeader;
using io::LinkKind;

void ingest_loop(const Mode& mode, zmq::socket_t& iq_in, zmq::socket_t& ingest_out,
                 const std::shared_ptr<BufferPool>& shared_pool, AssemblerCounters& counters,
                 const std::atomic<bool>& stopping) {
  BufferPool& pool = *shared_pool;
  auto emit = [&](const AssembledCpi& a) {
    LinkHeader h;
    h.kind = LinkKind::Cube;
    h.stream_id = a.stream_id;
    h.cpi = a.cpi;
    h.timestamp_ns = a.timestamp_ns;
    h.ingest_ns = utc_now_ns();
    h.dims[0] = static_cast<std::uint32_t>(mode.radar.channels);
    h.dims[1] = static_cast<std::uint32_t>(mode.processing.pulses);
    h.dims[2] = static_cast<std::uint32_t>(mode.radar.range_gates);
    h.center_frequency_hz = a.center_frequency_hz;
    h.cpis_dropped = counters.cpis_dropped.load();
    h.frames_rejected = counters.frames_rejected.load();
    // The queue holds every buffer of the pool, so this never waits; if it ever could not take
    // the CPI, the CPI is dropped (and its buffer returned) rather than block the ingest.
    std::atomic<bool> now{true};
    if (!send_link(ingest_out, h, a.buffer, shared_pool, now)) counters.drop(CpiDrop::Overrun);
  };
  CpiAssembler assembler(
      mode, counters, [&] { return pool.try_acquire(); }, [&](void* b) { pool.release(b); }, emit);
  std::vector<zmq::message_t> parts;
  auto marker = [&](LinkKind kind, std::uint32_t stream) {
    LinkHeader h;
    h.kind = kind;
    h.stream_id = stream;
    h.cpis_dropped = counters.cpis_dropped.load();
    h.frames_rejected = counters.frames_rejected.load();
    std::atomic<bool> never{false};
    send_link(ingest_out, h, nullptr, nullptr, never);
  };
  std::uint32_t stream = 0;
  while (!stopping.load()) {
    zmq::pollitem_t item{static_cast<void*>(iq_in), 0, ZMQ_POLLIN, 0};
    if (poll_some(&item, 1, 50) == 0) continue;
    // Drain what is there, checking for a stop between messages.
    for (int burst = 0; burst < 256 && !stopping.load(); ++burst) {
      if (!recv_message(iq_in, parts)) break;
      if (parts.size() != 2) {
        assembler.reject_parts(parts.size());
        continue;
      }
      const CpiAssembler::Result r =
          assembler.push(parts[0].data(), parts[0].size(), parts[1].data(), parts[1].size());
      if (r.end_of_stream) {
        stream = r.stream_id;
        marker(LinkKind::EndOfStream, stream);
      }
    }
  }
  assembler.abort(CpiDrop::Shutdown);
  marker(LinkKind::Shutdown, stream);
}

}  // namespace radarpipe::stream
