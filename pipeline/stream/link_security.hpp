// CURVE on the ZeroMQ sockets that cross a process, and the ZAP handler that decides which
// clients get in (docs/security.md). One LinkSecurity per command (run, record, replay,
// listen, stats); every tcp:// and ipc:// socket passes through secure() before it binds or
// connects (endpoint.hpp's attach() does it).
//
// - A socket that binds is a CURVE server (RFC 26): its clients must know its public key, and
//   their own public keys are checked by the ZAP handler (RFC 27) against the mode's
//   security.authorized_keys. libzmq lets any client with the server key in when no handler is
//   bound, so the handler is bound on the context before the first server socket exists.
// - A socket that connects is a CURVE client of security.server_key.
// - inproc:// never leaves the process and is left alone.
// - Without CURVE, each tcp:// endpoint is warned about once at start-up: anyone who reaches it
//   can read what it carries and inject into it. ipc:// socket files are the owner's (0700,
//   attach()).
//
// Refused peers are counted by cause (telemetry `security`): a key not authorized
// (unknown_key), a client without CURVE (not_curve: its greeting offered another mechanism), a
// handshake that failed otherwise (handshake: most often a client holding another server key), a
// peer that closed mid-handshake (hung_up: a plaintext client that saw the mismatch first).
// Each refused peer is logged once (a peer: its address and key; the last two causes name no
// peer in libzmq's events, so once per socket and cause).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "core/mode.hpp"
#include "core/telemetry.hpp"

namespace radarpipe::stream {

struct Endpoint;

/// What ZMQ_MAXMSGSIZE must allow for a message part of `part_bytes`: under CURVE the limit
/// applies to the encrypted MESSAGE command, 33 bytes longer than the part (RFC 26: command
/// name 8, nonce 8, MAC 16, flags 1); the margin is taken with or without CURVE.
constexpr std::int64_t max_message_bytes(std::size_t part_bytes) {
  return static_cast<std::int64_t>(part_bytes) + 64;
}

class LinkSecurity {
 public:
  /// Reads the key files `cfg` names (throws std::invalid_argument naming the key, the file and
  /// what is wrong) and, with CURVE, joins the context's ZAP handler (starting it if this is
  /// the first). `who` starts every message ("radarpipe run").
  LinkSecurity(zmq::context_t& ctx, const SecurityConfig& cfg, std::string who, std::ostream& log);
  ~LinkSecurity();
  LinkSecurity(const LinkSecurity&) = delete;
  LinkSecurity& operator=(const LinkSecurity&) = delete;

  bool curve() const;
  /// This process's public key (Z85); empty without CURVE.
  std::string public_key() const;

  /// Before `s` binds or connects to `e` (`what` names it in messages, e.g. "--publish").
  /// Throws std::invalid_argument when CURVE is on and the key this role needs is missing:
  /// authorized_keys to bind, server_key to connect.
  void secure(zmq::socket_t& s, const Endpoint& e, const std::string& what);

  SecurityCounts counts() const;
  /// Waits until `pred` holds for the counts (they change on the handler's thread), or the
  /// timeout. Returns whether it held.
  bool wait_for(const std::function<bool(const SecurityCounts&)>& pred,
                std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace radarpipe::stream
