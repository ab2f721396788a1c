// A UDP datagram sender for ASTERIX (docs/trackers.md "UDP"): unicast or IPv4 multicast, with
// the multicast TTL and sending interface of the mode's asterix: section.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace radarpipe::io {

class UdpSender {
 public:
  /// `destination`: udp://HOST:PORT (a name or dotted IPv4 address; a group in 224.0.0.0/4 is
  /// multicast). `ttl`: multicast hops. `interface`: IPv4 address of the sending interface for
  /// multicast, empty for the default route. Throws std::runtime_error naming the destination,
  /// the value and what was expected.
  UdpSender(const std::string& destination, unsigned ttl, const std::string& interface);
  ~UdpSender();
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  /// Sends one datagram; false when the socket refuses it (the caller counts it).
  bool send(const std::uint8_t* data, std::size_t size);

  bool multicast() const { return multicast_; }
  /// "127.0.0.1:8600" as resolved.
  const std::string& resolved() const { return resolved_; }

 private:
  int fd_ = -1;
  bool multicast_ = false;
  std::string resolved_;
  unsigned char addr_[16] = {};  ///< sockaddr_in
};

}  // namespace radarpipe::io
