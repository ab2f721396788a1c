// How CPIs and reports move between the threads and processes of `radarpipe run`
// (docs/streaming.md): link messages (a header, then a pooled payload handed over zero-copy)
// between segments, and collector messages from the last local segment to the runner's main
// thread, which owns the publishing sockets.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "io/link_message.hpp"
#include "pipeline/stream/buffer_pool.hpp"

namespace radarpipe::stream {

/// UTC now, ns (the ingest and end-to-end latency clock).
std::int64_t utc_now_ns();

/// Sends a link message: header, then the payload as a zero-copy message that returns `buffer`
/// to `pool` once ZeroMQ is done with it (the message holds the pool: a message still queued
/// when the runtime is gone frees into a live pool). Retries while the peer is at its
/// high-water mark until `give_up` is set; returns false (the buffer back in its pool) if it
/// gave up.
bool send_link(zmq::socket_t& s, const io::LinkHeader& h, void* buffer,
               const std::shared_ptr<BufferPool>& pool, const std::atomic<bool>& give_up);

/// Receives one multipart message without waiting; false if none is there. A message cut short
/// (its peer dropped in the middle of it) comes back with the parts that arrived.
bool recv_message(zmq::socket_t& s, std::vector<zmq::message_t>& parts);

/// An inproc:// endpoint private to `owner` in this process ("ingest", "collector").
std::string inproc_endpoint(const void* owner, const char* what);

/// Collector messages: three parts, kind | topic | payload.
enum CollectorKind : char {
  kCollectReport = 'R',  ///< a report (counted as published or dropped)
  kCollectCopy = 'C',    ///< the same report in a second format (only a drop is counted)
  kCollectEnd = 'E',     ///< the IQ stream ended (topic and payload empty: nothing to publish)
  kCollectAsterix = 'A'  ///< one ASTERIX data block, topic "asterix"
};
void send_to_collector(zmq::socket_t& s, CollectorKind kind, const std::string& topic,
                       const void* data, std::size_t size);

}  // namespace radarpipe::stream
