#include "pipeline/stream/ingest.hpp"

#include <algorithm>
#include <vector>

#include "io/iq_frame.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_security.hpp"
#include "pipeline/stream/link_transport.hpp"

namespace radarpipe::stream {

using io::LinkHeader;
using io::LinkKind;

IngestOutput::IngestOutput(const Mode& mode, zmq::socket_t& to_chain,
                           std::shared_ptr<BufferPool> pool, AssemblerCounters& counters)
    : mode_(mode), out_(to_chain), pool_(std::move(pool)), counters_(counters) {}

void IngestOutput::cpi(const AssembledCpi& a) {
  LinkHeader h;
  h.kind = LinkKind::Cube;
  h.stream_id = a.stream_id;
  h.cpi = a.cpi;
  h.timestamp_ns = a.timestamp_ns;
  h.ingest_ns = utc_now_ns();
  h.dims[0] = static_cast<std::uint32_t>(mode_.radar.channels);
  h.dims[1] = static_cast<std::uint32_t>(mode_.processing.pulses);
  h.dims[2] = static_cast<std::uint32_t>(mode_.radar.range_gates);
  h.center_frequency_hz = a.center_frequency_hz;
  h.cpis_dropped = counters_.cpis_dropped.load();
  h.frames_rejected = counters_.frames_rejected.load();
  // The queue holds every buffer of the pool, so this never waits; if it ever could not take
  // the CPI, the CPI is dropped (and its buffer returned) rather than block the ingest.
  std::atomic<bool> now{true};
  if (!send_link(out_, h, a.buffer, pool_, now)) counters_.drop(CpiDrop::Overrun);
}

void IngestOutput::marker(LinkKind kind, std::uint32_t stream) {
  LinkHeader h;
  h.kind = kind;
  h.stream_id = stream;
  h.cpis_dropped = counters_.cpis_dropped.load();
  h.frames_rejected = counters_.frames_rejected.load();
  std::atomic<bool> never{false};
  send_link(out_, h, nullptr, nullptr, never);
}

zmq::socket_t open_frame_input(zmq::context_t& ctx, const std::string& from, std::size_t cube_bytes,
                               LinkSecurity& security, std::string& input, std::string& bound_at) {
  zmq::socket_t s(ctx, zmq::socket_type::pull);
  s.set(zmq::sockopt::rcvhwm, 64);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize,
        max_message_bytes(std::max<std::size_t>(io::kIqHeaderBytes, cube_bytes)));
  const Endpoint e = parse_endpoint(from, false, "--from");
  const std::string where = attach(s, e, "--from (IQ stream)", security);
  bound_at = e.bind ? where : std::string();
  input = "IQ frames " + std::string(e.bind ? "bound at " : "from ") + where;
  return s;
}

void ingest_loop(const Mode& mode, zmq::socket_t& iq_in, zmq::socket_t& ingest_out,
                 const std::shared_ptr<BufferPool>& shared_pool, AssemblerCounters& counters,
                 const std::atomic<bool>& stopping) {
  IngestOutput out(mode, ingest_out, shared_pool, counters);
  BufferPool& pool = out.pool();
  CpiAssembler assembler(
      mode, counters, [&] { return pool.try_acquire(); }, [&](void* b) { pool.release(b); },
      [&](const AssembledCpi& a) { out.cpi(a); });
  std::vector<zmq::message_t> parts;
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
        out.marker(LinkKind::EndOfStream, stream);
      }
    }
  }
  assembler.abort(CpiDrop::Shutdown);
  out.marker(LinkKind::Shutdown, stream);
}

}  // namespace radarpipe::stream
