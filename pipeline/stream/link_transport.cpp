#include "pipeline/stream/link_transport.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "pipeline/stream/endpoint.hpp"

namespace radarpipe::stream {

std::int64_t utc_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool send_link(zmq::socket_t& s, const io::LinkHeader& h, void* buffer,
               const std::shared_ptr<BufferPool>& pool, const std::atomic<bool>& give_up) {
  const auto bytes = io::encode_link_header(h);
  zmq::message_t payload;
  if (buffer)
    payload = zmq::message_t(buffer, h.payload_bytes(), &BufferPool::release_shared_fn,
                             BufferPool::shared_hint(pool));
  for (;;) {
    zmq::message_t head(bytes.data(), bytes.size());
    if (s.send(head, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      s.send(payload, zmq::send_flags::none);
      return true;
    }
    if (give_up.load()) return false;
    zmq::pollitem_t item{static_cast<void*>(s), 0, ZMQ_POLLOUT, 0};
    poll_some(&item, 1, 50);
  }
}

bool recv_message(zmq::socket_t& s, std::vector<zmq::message_t>& parts) {
  parts.clear();
  zmq::message_t part;
  if (!s.recv(part, zmq::recv_flags::dontwait)) return false;
  parts.push_back(std::move(part));
  // The rest of a message is there as soon as its first part is (ZeroMQ delivers messages
  // whole), except perhaps when its peer is dropped in the middle of it (a second part over
  // ZMQ_MAXMSGSIZE after the first was delivered): waiting for a rest that never comes would
  // block this thread, and with it every later frame of the real stream. So the parts are taken
  // without waiting, and a message cut short comes back with the parts it has (the caller
  // rejects it by its part count).
  while (parts.back().more()) {
    zmq::message_t next;
    if (!s.recv(next, zmq::recv_flags::dontwait)) break;
    parts.push_back(std::move(next));
  }
  return true;
}

std::string inproc_endpoint(const void* owner, const char* what) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "inproc://radarpipe-%d-%p-%s", static_cast<int>(getpid()), owner,
                what);
  return buf;
}

void send_to_collector(zmq::socket_t& s, CollectorKind kind, const std::string& topic,
                       const void* data, std::size_t size) {
  const char k = kind;
  zmq::message_t km(&k, 1), t(topic.data(), topic.size()), p(data, size);
  s.send(km, zmq::send_flags::sndmore);
  s.send(t, zmq::send_flags::sndmore);
  s.send(p, zmq::send_flags::none);
}

}  // namespace radarpipe::stream
