#include "io/vrt_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/be.hpp"

namespace radarpipe::io {

namespace {

std::string strip_role(const std::string& text, char* role) {
  *role = 0;
  if (!text.empty() && (text[0] == '@' || text[0] == '>')) {
    *role = text[0];
    return text.substr(1);
  }
  return text;
}

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The IPv4 address of HOST:PORT (a name or a dotted address; "*" or empty: any).
sockaddr_in resolve(const std::string& host, const std::string& port, const std::string& what) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  const std::string h = host == "*" ? "0.0.0.0" : host;
  if (const int rc = getaddrinfo(h.empty() ? "0.0.0.0" : h.c_str(), port.c_str(), &hints, &res);
      rc != 0 || !res)
    throw std::runtime_error(what + ": cannot resolve '" + host + ":" + port +
                             "' to an IPv4 address (" + gai_strerror(rc) + ")");
  std::memcpy(&a, res->ai_addr, sizeof a);
  freeaddrinfo(res);
  return a;
}

std::string to_text(const sockaddr_in& a) {
  char b[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, b, sizeof b);
  return std::string(b) + ":" + std::to_string(ntohs(a.sin_port));
}

std::string local_name(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return to_text(a);
}

bool multicast(const sockaddr_in& a) {
  return (ntohl(a.sin_addr.s_addr) >> 28) == 0xE;
}

// An interface by IPv4 address or name.
ip_mreqn interface_request(const std::string& iface, const std::string& what) {
  ip_mreqn r{};
  if (iface.empty()) return r;
  if (inet_pton(AF_INET, iface.c_str(), &r.imr_address) == 1) return r;
  const unsigned index = if_nametoindex(iface.c_str());
  if (index == 0)
    throw std::runtime_error(what + ": interface '" + iface +
                             "' is neither an IPv4 address nor an interface's name");
  r.imr_ifindex = static_cast<int>(index);
  return r;
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A TCP socket listening on `a` for one connection at a time.
int listen_on(const sockaddr_in& a, const std::string& what) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(sys_error(what + ": socket"));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1) != 0) {
    const std::string msg = sys_error(what + ": listening on " + to_text(a));
    close(fd);
    throw std::runtime_error(msg);
  }
  return fd;
}

}  // namespace

bool is_vrt_endpoint(const std::string& text) {
  char role = 0;
  const std::string t = strip_role(text, &role);
  return t.rfind("vrt+udp://", 0) == 0 || t.rfind("vrt+tcp://", 0) == 0;
}

VrtEndpoint parse_vrt_endpoint(const std::string& text, bool listen_by_default,
                               const std::string& what) {
  const std::string forms =
      "vrt+udp://HOST:PORT[?interface=IF] or [@|>]vrt+tcp://HOST:PORT (HOST a name or IPv4 "
      "address, * for any; IF an IPv4 address or interface name)";
  char role = 0;
  std::string t = strip_role(text, &role);
  VrtEndpoint e;
  e.text = text;
  if (t.rfind("vrt+udp://", 0) == 0) {
    e.transport = VrtEndpoint::Transport::Udp;
    t = t.substr(10);
  } else if (t.rfind("vrt+tcp://", 0) == 0) {
    e.transport = VrtEndpoint::Transport::Tcp;
    t = t.substr(10);
  } else {
    throw std::invalid_argument(what + ": '" + text + "' is not " + forms);
  }
  const std::size_t q = t.find('?');
  if (q != std::string::npos) {
    const std::string opt = t.substr(q + 1);
    t = t.substr(0, q);
    if (e.transport != VrtEndpoint::Transport::Udp || opt.rfind("interface=", 0) != 0 ||
        opt.size() == 10)
      throw std::invalid_argument(what + ": '" + text + "': the only option is ?interface=IF, " +
                                  "for udp; expected " + forms);
    e.interface = opt.substr(10);
  }
  const std::size_t colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == t.size())
    throw std::invalid_argument(what + ": '" + text + "' has no HOST:PORT; expected " + forms);
  e.host = t.substr(0, colon);
  e.port = t.substr(colon + 1);
  if (e.port != "*") {
    char* end = nullptr;
    const long p = std::strtol(e.port.c_str(), &end, 10);
    if (*end != '\0' || p < 0 || p > 65535)
      throw std::invalid_argument(what + ": port '" + e.port + "' of '" + text +
                                  "' is not 0..65535 or *");
  } else {
    e.port = "0";
  }
  e.listen = role == '@' ? true : role == '>' ? false : listen_by_default;
  return e;
}

// ---- UDP receiver ----

struct VrtUdpReceiver::Impl {
  int fd = -1;
  std::size_t batch = 0;
  static constexpr std::size_t kMaxDatagram = 65536;
  std::vector<unsigned char> buffers;  // batch x kMaxDatagram, allocated once
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iov;
  std::vector<unsigned char> control;  // batch x kControl
  static constexpr std::size_t kControl = CMSG_SPACE(sizeof(std::uint32_t));
};

VrtUdpReceiver::VrtUdpReceiver(const VrtEndpoint& e, std::size_t receive_buffer_bytes,
                               std::size_t batch)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string what = "--from " + e.text;
  if (e.transport != VrtEndpoint::Transport::Udp)
    throw std::runtime_error(what + ": not a udp endpoint");
  sockaddr_in a = resolve(e.host, e.port, what);
  m.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (m.fd < 0) throw std::runtime_error(sys_error(what + ": socket"));
  const int one = 1;
  // The kernel's count of datagrams dropped on this socket, with every datagram.
  setsockopt(m.fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  const int want = static_cast<int>(std::min<std::size_t>(receive_buffer_bytes, 1u << 30));
  if (setsockopt(m.fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    setsockopt(m.fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  int got = 0;
  socklen_t len = sizeof got;
  getsockopt(m.fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
  granted_ = static_cast<std::size_t>(std::max(got, 0));
  const bool group = multicast(a);
  if (group) setsockopt(m.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(m.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string msg = sys_error(what + ": bind " + to_text(a));
    close(m.fd);
    throw std::runtime_error(msg);
  }
  if (group) {
    ip_mreqn r = interface_request(e.interface, what);
    r.imr_multiaddr = a.sin_addr;
    if (setsockopt(m.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &r, sizeof r) != 0) {
      const std::string msg = sys_error(what + ": joining group " + e.host);
      close(m.fd);
      throw std::runtime_error(msg);
    }
  } else if (!e.interface.empty()) {
    close(m.fd);
    throw std::runtime_error(what + ": ?interface= is for a multicast group (224.0.0.0/4); " +
                             e.host + " is not one");
  }
  bound_ = local_name(m.fd);
  m.batch = std::max<std::size_t>(1, batch);
  m.buffers.resize(m.batch * Impl::kMaxDatagram);
  m.msgs.resize(m.batch);
  m.iov.resize(m.batch);
  m.control.resize(m.batch * Impl::kControl);
}

VrtUdpReceiver::~VrtUdpReceiver() {
  if (impl_->fd >= 0) close(impl_->fd);
}

std::size_t VrtUdpReceiver::receive(int timeout_ms) {
  Impl& m = *impl_;
  pollfd p{m.fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return 0;
  for (std::size_t i = 0; i < m.batch; ++i) {
    m.iov[i] = {m.buffers.data() + i * Impl::kMaxDatagram, Impl::kMaxDatagram};
    msghdr& h = m.msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &m.iov[i];
    h.msg_iovlen = 1;
    h.msg_control = m.control.data() + i * Impl::kControl;
    h.msg_controllen = Impl::kControl;
    m.msgs[i].msg_len = 0;
  }
  const int n =
      recvmmsg(m.fd, m.msgs.data(), static_cast<unsigned>(m.batch), MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  // The drop count rides on every datagram; the last one's is the newest.
  msghdr& last = m.msgs[static_cast<std::size_t>(n) - 1].msg_hdr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&last); c; c = CMSG_NXTHDR(&last, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      std::uint32_t d = 0;
      std::memcpy(&d, CMSG_DATA(c), sizeof d);
      drops_ = d;
    }
  return static_cast<std::size_t>(n);
}

const unsigned char* VrtUdpReceiver::datagram(std::size_t i) const {
  return impl_->buffers.data() + i * Impl::kMaxDatagram;
}

std::size_t VrtUdpReceiver::size(std::size_t i) const {
  return impl_->msgs[i].msg_len;
}

// ---- TCP receiver ----

struct VrtTcpReceiver::Impl {
  VrtEndpoint ep;
  sockaddr_in addr{};
  int listen_fd = -1, fd = -1;
  bool connecting = false;
  // The largest packet is 65535 words; the buffer holds two, so a whole one always fits after
  // the bytes of the one before are consumed.
  std::vector<unsigned char> buf = std::vector<unsigned char>(2 * 65536 * 4);
  std::size_t have = 0;
  void drop() {
    if (fd >= 0) close(fd);
    fd = -1;
    connecting = false;
    have = 0;
  }
};

VrtTcpReceiver::VrtTcpReceiver(const VrtEndpoint& e) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.ep = e;
  const std::string what = "--from " + e.text;
  if (e.transport != VrtEndpoint::Transport::Tcp)
    throw std::runtime_error(what + ": not a tcp endpoint");
  m.addr = resolve(e.host, e.port, what);
  if (e.listen) {
    m.listen_fd = listen_on(m.addr, what);
    set_nonblocking(m.listen_fd);
    bound_ = local_name(m.listen_fd);
  } else {
    bound_ = to_text(m.addr);
  }
}

VrtTcpReceiver::~VrtTcpReceiver() {
  impl_->drop();
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
}

bool VrtTcpReceiver::connected() const {
  return impl_->fd >= 0 && !impl_->connecting;
}

VrtTcpReceiver::Event VrtTcpReceiver::poll(int timeout_ms, const OnPacket& on_packet) {
  Impl& m = *impl_;
  if (m.fd < 0) {
    if (m.ep.listen) {
      pollfd p{m.listen_fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return Event::Idle;
      m.fd = accept4(m.listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (m.fd < 0) return Event::Idle;
      m.have = 0;
      return Event::Connected;
    }
    m.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m.fd < 0) return Event::Idle;
    m.have = 0;
    if (connect(m.fd, reinterpret_cast<sockaddr*>(&m.addr), sizeof m.addr) == 0) {
      return Event::Connected;
    }
    if (errno != EINPROGRESS) {
      m.drop();
      ::poll(nullptr, 0, std::min(timeout_ms, 200));  // the digitizer is not there yet
      return Event::Idle;
    }
    m.connecting = true;
  }
  if (m.connecting) {
    pollfd p{m.fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return Event::Idle;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(m.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      m.drop();
      ::poll(nullptr, 0, std::min(timeout_ms, 200));
      return Event::Idle;
    }
    m.connecting = false;
    return Event::Connected;
  }
  pollfd p{m.fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return Event::Idle;
  const ssize_t r = read(m.fd, m.buf.data() + m.have, m.buf.size() - m.have);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
    error_ = r == 0 ? "the sender closed the connection" : sys_error("read");
    m.drop();
    return Event::Closed;
  }
  if (r < 0) return Event::Idle;
  m.have += static_cast<std::size_t>(r);
  std::size_t at = 0;
  bool any = false;
  while (m.have - at >= 4) {
    const std::size_t words = be::get<std::uint32_t>(m.buf.data() + at) & 0xffffu;
    if (words == 0) {
      error_ = "a packet header with a size field of 0 words at stream byte offset " +
               std::to_string(at) + ": the stream cannot be followed";
      m.drop();
      return Event::Corrupt;
    }
    if (m.have - at < words * 4) break;
    on_packet(m.buf.data() + at, words * 4);
    any = true;
    at += words * 4;
  }
  if (at > 0) {
    std::memmove(m.buf.data(), m.buf.data() + at, m.have - at);
    m.have -= at;
  }
  return any ? Event::Packets : Event::Idle;
}

// ---- sender ----

struct VrtSender::Impl {
  VrtEndpoint ep;
  sockaddr_in addr{};
  int fd = -1, listen_fd = -1;
};

VrtSender::VrtSender(const VrtEndpoint& e, unsigned multicast_ttl)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.ep = e;
  const std::string what = "--to " + e.text;
  m.addr = resolve(e.host, e.port, what);
  if (e.transport == VrtEndpoint::Transport::Udp) {
    m.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (m.fd < 0) throw std::runtime_error(sys_error(what + ": socket"));
    const int sndbuf = 8 << 20;
    setsockopt(m.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (multicast(m.addr)) {
      const unsigned char ttl = static_cast<unsigned char>(std::min(multicast_ttl, 255u));
      setsockopt(m.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
      if (!e.interface.empty()) {
        const ip_mreqn r = interface_request(e.interface, what);
        setsockopt(m.fd, IPPROTO_IP, IP_MULTICAST_IF, &r, sizeof r);
      }
    }
    if (connect(m.fd, reinterpret_cast<sockaddr*>(&m.addr), sizeof m.addr) != 0) {
      const std::string msg = sys_error(what + ": connect");
      close(m.fd);
      throw std::runtime_error(msg);
    }
    endpoint_ = to_text(m.addr);
    return;
  }
  if (e.listen) {
    m.listen_fd = listen_on(m.addr, what);
    endpoint_ = local_name(m.listen_fd);
  } else {
    endpoint_ = to_text(m.addr);
  }
}

VrtSender::~VrtSender() {
  if (impl_->fd >= 0) close(impl_->fd);
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
}

bool VrtSender::wait_receiver(int timeout_ms) {
  Impl& m = *impl_;
  if (m.ep.transport == VrtEndpoint::Transport::Udp || m.fd >= 0) return true;
  if (m.ep.listen) {
    pollfd p{m.listen_fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    m.fd = accept4(m.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    return m.fd >= 0;
  }
  m.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m.fd >= 0 && connect(m.fd, reinterpret_cast<sockaddr*>(&m.addr), sizeof m.addr) == 0)
    return true;
  if (m.fd >= 0) close(m.fd);
  m.fd = -1;
  ::poll(nullptr, 0, std::min(timeout_ms, 100));
  return false;
}

bool VrtSender::send(const unsigned char* bytes, std::size_t size) {
  Impl& m = *impl_;
  if (m.fd < 0) return false;
  if (m.ep.transport == VrtEndpoint::Transport::Udp)
    return ::send(m.fd, bytes, size, 0) == static_cast<ssize_t>(size);
  while (size > 0) {
    const ssize_t w = ::send(m.fd, bytes, size, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes += w;
    size -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace radarpipe::io
