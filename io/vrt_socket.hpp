// VITA 49 packets over the network (docs/streaming.md "VRT source"): the endpoints
// vrt+udp://HOST:PORT[?interface=IF] and vrt+tcp://HOST:PORT, a UDP receiver that takes datagrams
// in recvmmsg batches into buffers allocated once (with the kernel's own drop count, SO_RXQ_OVFL),
// a TCP receiver that cuts the byte stream into packets by their size fields, and the matching
// senders. Bytes only: what the packets say is the codec's (vrt.hpp) and the assembler's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace radarpipe::io {

struct VrtEndpoint {
  enum class Transport { Udp, Tcp } transport = Transport::Udp;
  std::string host, port;
  std::string interface;  ///< udp multicast: the interface's IPv4 address or name; "" default
  bool listen = false;    ///< tcp: accept connections (else connect); udp receivers always bind
  std::string text;       ///< as given
};

/// Whether `text` names a VRT endpoint ("vrt+udp://", "vrt+tcp://", after an optional '@'/'>').
bool is_vrt_endpoint(const std::string& text);
/// Parses vrt+udp://HOST:PORT[?interface=IF] or vrt+tcp://HOST:PORT; a leading '@' makes a tcp
/// endpoint listen, '>' connect, else `listen_by_default`. Throws std::invalid_argument naming
/// `what`, the text and the accepted forms.
VrtEndpoint parse_vrt_endpoint(const std::string& text, bool listen_by_default,
                               const std::string& what);

/// Datagrams on a bound UDP socket (unicast, or an IPv4 multicast group joined on `interface`).
class VrtUdpReceiver {
 public:
  /// Binds; asks for `receive_buffer_bytes` of SO_RCVBUF (SO_RCVBUFFORCE where the process may).
  /// Throws std::runtime_error naming the endpoint and the call that failed.
  VrtUdpReceiver(const VrtEndpoint& e, std::size_t receive_buffer_bytes, std::size_t batch = 64);
  ~VrtUdpReceiver();
  VrtUdpReceiver(const VrtUdpReceiver&) = delete;
  VrtUdpReceiver& operator=(const VrtUdpReceiver&) = delete;

  /// Waits up to `timeout_ms` for datagrams and takes what is queued, up to the batch. Returns
  /// how many; datagram(i) and size(i) until the next call.
  std::size_t receive(int timeout_ms);
  const unsigned char* datagram(std::size_t i) const;
  std::size_t size(std::size_t i) const;
  /// Datagrams the kernel dropped on this socket (its receive buffer full), since it opened.
  std::uint64_t kernel_drops() const { return drops_; }
  /// SO_RCVBUF as the kernel reports it (it doubles what it grants, for its bookkeeping).
  std::size_t receive_buffer() const { return granted_; }
  /// "127.0.0.1:PORT" as bound.
  const std::string& bound() const { return bound_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t drops_ = 0;
  std::size_t granted_ = 0;
  std::string bound_;
};

/// A TCP byte stream of VRT packets, cut by their size fields. Connects (retrying) or listens
/// and takes one connection at a time.
class VrtTcpReceiver {
 public:
  /// Listening endpoints bind here (throws std::runtime_error); connecting ones connect in
  /// poll().
  explicit VrtTcpReceiver(const VrtEndpoint& e);
  ~VrtTcpReceiver();
  VrtTcpReceiver(const VrtTcpReceiver&) = delete;
  VrtTcpReceiver& operator=(const VrtTcpReceiver&) = delete;

  enum class Event {
    Idle,       ///< nothing within the timeout
    Packets,    ///< packets were handed to the callback
    Connected,  ///< a connection began
    Closed,     ///< the connection ended (the peer closed, or it reset)
    Corrupt,    ///< a size field of 0 words: the stream cannot be followed; it was closed
  };
  using OnPacket = std::function<void(const unsigned char* bytes, std::size_t size)>;
  /// Waits up to `timeout_ms`; connects, accepts or reads, and hands every whole packet read to
  /// `on_packet`.
  Event poll(int timeout_ms, const OnPacket& on_packet);
  bool connected() const;
  /// "127.0.0.1:PORT" (listening: as bound).
  const std::string& bound() const { return bound_; }
  /// What the last Closed or Corrupt event was about.
  const std::string& last_error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bound_, error_;
};

/// Sends VRT packets: UDP datagrams (one packet each; unicast or multicast), or a TCP stream
/// (listening for one receiver, or connecting).
class VrtSender {
 public:
  /// Throws std::runtime_error naming the endpoint.
  VrtSender(const VrtEndpoint& e, unsigned multicast_ttl = 1);
  ~VrtSender();
  VrtSender(const VrtSender&) = delete;
  VrtSender& operator=(const VrtSender&) = delete;

  /// tcp: waits up to `timeout_ms` for the receiver (accepted or connected); udp: true at once.
  bool wait_receiver(int timeout_ms);
  /// Sends one packet; tcp blocks until it is written (false when the receiver went away).
  /// udp: false when the socket refused it.
  bool send(const unsigned char* bytes, std::size_t size);
  /// Where receivers reach it ("127.0.0.1:PORT"; for udp the destination).
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
};

}  // namespace radarpipe::io
