#include "io/udp_sender.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace radarpipe::io {

UdpSender::UdpSender(const std::string& destination, unsigned ttl, const std::string& interface) {
  static_assert(sizeof(sockaddr_in) <= sizeof(addr_));
  const std::string where = "ASTERIX destination '" + destination + "'";
  if (destination.rfind("udp://", 0) != 0)
    throw std::runtime_error(where + ": expected udp://HOST:PORT");
  const std::string rest = destination.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
    throw std::runtime_error(where + ": expected udp://HOST:PORT");
  const std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (*end != '\0' || p < 1 || p > 65535)
    throw std::runtime_error(where + ": port '" + port + "' is not in 1..65535");

  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
    throw std::runtime_error(where + ": cannot resolve '" + host + "' to an IPv4 address (" +
                             gai_strerror(rc) + ")");
  sockaddr_in sin{};
  std::memcpy(&sin, res->ai_addr, sizeof sin);
  freeaddrinfo(res);
  std::memcpy(addr_, &sin, sizeof sin);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
  resolved_ = std::string(text) + ":" + port;
  multicast_ = IN_MULTICAST(ntohl(sin.sin_addr.s_addr));

  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(where + ": socket: " + std::strerror(errno));
  if (multicast_) {
    const unsigned char t = static_cast<unsigned char>(ttl);
    if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof t) != 0) {
      const std::string e = std::strerror(errno);
      ::close(fd_);
      throw std::runtime_error(where + ": cannot set the multicast TTL " + std::to_string(ttl) +
                               ": " + e);
    }
    if (!interface.empty()) {
      in_addr ifa{};
      if (inet_pton(AF_INET, interface.c_str(), &ifa) != 1) {
        ::close(fd_);
        throw std::runtime_error("asterix.interface: '" + interface +
                                 "' is not a dotted IPv4 address");
      }
      if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) != 0) {
        const std::string e = std::strerror(errno);
        ::close(fd_);
        throw std::runtime_error("asterix.interface: cannot send multicast from '" + interface +
                                 "': " + e);
      }
    }
  }
}

UdpSender::~UdpSender() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdpSender::send(const std::uint8_t* data, std::size_t size) {
  const ssize_t n = ::sendto(fd_, data, size, MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(addr_), sizeof(sockaddr_in));
  return n == static_cast<ssize_t>(size);
}

}  // namespace radarpipe::io
