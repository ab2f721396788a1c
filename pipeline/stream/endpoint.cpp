#include "pipeline/stream/endpoint.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <stdexcept>

#include "pipeline/stream/heartbeat.hpp"
#include "pipeline/stream/link_security.hpp"

namespace radarpipe::stream {

Endpoint parse_endpoint(const std::string& text, bool bind_by_default, const std::string& what) {
  Endpoint e;
  e.bind = bind_by_default;
  e.address = text;
  if (!text.empty() && (text[0] == '@' || text[0] == '>')) {
    e.bind = text[0] == '@';
    e.address = text.substr(1);
  }
  const bool known = e.address.rfind("tcp://", 0) == 0 || e.address.rfind("ipc://", 0) == 0 ||
                     e.address.rfind("inproc://", 0) == 0;
  const auto sep = e.address.find("://");
  if (!known || sep == std::string::npos || e.address.size() <= sep + 3)
    throw std::invalid_argument(what + ": '" + text +
                                "' is not a ZeroMQ endpoint; expected tcp://HOST:PORT, "
                                "ipc://PATH or inproc://NAME, optionally prefixed by @ (bind) "
                                "or > (connect)");
  return e;
}

std::string attach(zmq::socket_t& s, const Endpoint& e, const std::string& what,
                   LinkSecurity& security) {
  security.secure(s, e, what);
  try {
    if (e.bind) {
      // An ipc socket file is the owner's alone (0700): any local user who can write to it can
      // connect. libzmq creates it inside bind, on this thread, with the process's umask; the
      // umask is narrowed for that call only (binds happen at start-up, before other threads
      // create files).
      const bool ipc = e.address.rfind("ipc://", 0) == 0;
      const mode_t old = ipc ? ::umask(077) : 0;
      try {
        s.bind(e.address);
      } catch (...) {
        if (ipc) ::umask(old);
        throw;
      }
      if (ipc) ::umask(old);
      return s.get(zmq::sockopt::last_endpoint);
    }
    s.connect(e.address);
    return e.address;
  } catch (const zmq::error_t& err) {
    throw std::runtime_error(what + ": cannot " + (e.bind ? "bind " : "connect to ") + e.address +
                             ": " + err.what());
  }
}

int poll_some(zmq::pollitem_t* items, std::size_t n, long timeout_ms) {
  beat();  // every waiting loop of run's threads comes through here (heartbeat.hpp)
  const int rc = zmq_poll(items, static_cast<int>(n), timeout_ms);
  if (rc < 0) {
    if (zmq_errno() == EINTR) return 0;
    throw zmq::error_t();
  }
  return rc;
}

}  // namespace radarpipe::stream
