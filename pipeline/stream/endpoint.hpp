// ZeroMQ endpoints as radarpipe's commands take them: "@tcp://..." binds, ">tcp://..." connects,
// a bare endpoint does what the socket's role does by default (docs/streaming.md "Endpoints").
#pragma once

#include <string>
#include <zmq.hpp>

namespace radarpipe::stream {

struct Endpoint {
  std::string address;
  bool bind = false;
};

/// Throws std::invalid_argument naming `what`, the text and the accepted forms.
Endpoint parse_endpoint(const std::string& text, bool bind_by_default, const std::string& what);

class LinkSecurity;

/// Binds or connects `s`, first giving it the process's CURVE role for the endpoint
/// (`security`, link_security.hpp). Returns the endpoint others reach it at: for a bind the
/// resolved one (tcp://127.0.0.1:* becomes tcp://127.0.0.1:PORT), else the address. Throws
/// std::runtime_error naming `what` and the endpoint on failure.
std::string attach(zmq::socket_t& s, const Endpoint& e, const std::string& what,
                   LinkSecurity& security);

/// zmq::poll that treats EINTR as "nothing ready"; beats the calling thread's heartbeat.
int poll_some(zmq::pollitem_t* items, std::size_t n, long timeout_ms);

}  // namespace radarpipe::stream
