// CURVE and the ZAP handler on real ZeroMQ sockets over tcp://127.0.0.1 (link_security.hpp),
// modelled on libzmq's test_security_curve: a client with an authorized key delivers; an
// unknown key, a plaintext client and a client holding another server key are refused and
// deliver nothing, each counted by cause. Waits are handshakes (the handler's counts, the
// client's monitor events), never sleeps.
#include "pipeline/stream/link_security.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <filesystem>
#include <sstream>
#include <zmq.hpp>

#include "io/curve_cert.hpp"
#include "pipeline/stream/endpoint.hpp"

namespace fs = std::filesystem;
using namespace radarpipe;
using namespace radarpipe::stream;
using namespace std::chrono_literals;

namespace {

struct Keys {
  fs::path dir;
  io::CurveCert server, client, stranger;
  Keys() {
    dir = fs::temp_directory_path() / ("radarpipe-zap-" + std::to_string(getpid()) + "-" +
                                       std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir);
    fs::create_directories(dir / "authorized");
    server = io::make_curve_keypair();
    client = io::make_curve_keypair();
    stranger = io::make_curve_keypair();
    io::write_curve_cert_pair((dir / "server").string(), server);
    io::write_curve_cert_pair((dir / "client").string(), client);
    io::write_curve_cert_pair((dir / "stranger").string(), stranger);
    fs::copy_file(dir / "client.key", dir / "authorized" / "client.key");
  }
  ~Keys() { fs::remove_all(dir); }
  SecurityConfig server_side() const {
    SecurityConfig s;
    s.key = (dir / "server.key_secret").string();
    s.authorized_keys = (dir / "authorized").string();
    return s;
  }
  SecurityConfig client_side(const std::string& who, const std::string& server_pub = "server") {
    SecurityConfig s;
    s.key = (dir / (who + ".key_secret")).string();
    s.server_key = (dir / (server_pub + ".key")).string();
    return s;
  }
};

std::uint64_t refused(const SecurityCounts& c, const std::string& cause) {
  for (const CauseCount& k : c.peers_refused_by_cause)
    if (k.cause == cause) return k.count;
  return 0;
}

// A bound CURVE server PULL socket, and its address.
struct Server {
  LinkSecurity security;
  zmq::socket_t pull;
  std::string address;
  Server(zmq::context_t& ctx, const SecurityConfig& cfg, std::ostream& log)
      : security(ctx, cfg, "test server", log), pull(ctx, zmq::socket_type::pull) {
    pull.set(zmq::sockopt::linger, 0);
    address = attach(pull, parse_endpoint("@tcp://127.0.0.1:*", true, "test"), "the test input",
                     security);
  }
  // The next message, waiting up to 10 s.
  std::string next() {
    zmq::pollitem_t item{static_cast<void*>(pull), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, 10s) == 0) return "(nothing in 10 s)";
    zmq::message_t m;
    (void)pull.recv(m, zmq::recv_flags::none);
    return m.to_string();
  }
};

// A PUSH client with `security`, connected to `address`, that has queued `text`.
struct Client {
  LinkSecurity security;
  zmq::socket_t push;
  Client(zmq::context_t& ctx, const SecurityConfig& cfg, const std::string& address,
         const std::string& text, std::ostream& log)
      : security(ctx, cfg, "test client", log), push(ctx, zmq::socket_type::push) {
    push.set(zmq::sockopt::linger, 0);
    attach(push, parse_endpoint(">" + address, false, "test"), "the test output", security);
    (void)push.send(zmq::buffer(text), zmq::send_flags::dontwait);
  }
};

}  // namespace

TEST(LinkSecurity, AnAuthorizedClientDeliversAndAnUnknownKeyDeliversNothing) {
  Keys keys;
  std::ostringstream server_log, client_log;
  {
    zmq::context_t ctx;
    Server server(ctx, keys.server_side(), server_log);
    EXPECT_TRUE(server.security.curve());
    EXPECT_EQ(server.security.public_key(), keys.server.public_key);
    // The stranger knows the server key, but its own key is not authorized: the ZAP handler
    // refuses it, and what it queued is never delivered.
    Client stranger(ctx, keys.client_side("stranger"), server.address, "forged", client_log);
    ASSERT_TRUE(server.security.wait_for(
        [](const SecurityCounts& c) { return refused(c, "unknown_key") >= 1; }, 10s))
        << "the stranger was not refused";
    Client client(ctx, keys.client_side("client"), server.address, "genuine", client_log);
    EXPECT_EQ(server.next(), "genuine");
    const SecurityCounts c = server.security.counts();
    EXPECT_TRUE(c.curve);
    EXPECT_GE(c.peers_accepted, 1u);
    EXPECT_EQ(c.peers_refused, refused(c, "unknown_key"));
    zmq::pollitem_t item{static_cast<void*>(server.pull), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, 0ms), 0) << "something besides the genuine message arrived";
  }
  // Logged once for the stranger, naming its key, address and the socket.
  const std::string log = server_log.str();
  const std::string line =
      "test server: refused a client at 127.0.0.1 on the test input: its "
      "CURVE key " +
      keys.stranger.public_key + " is not among the 1 authorized keys";
  EXPECT_NE(log.find(line), std::string::npos) << log;
  EXPECT_EQ(log.find(line), log.rfind(line)) << log;
}

TEST(LinkSecurity, APlaintextClientIsRefused) {
  Keys keys;
  std::ostringstream log;
  zmq::context_t ctx;
  Server server(ctx, keys.server_side(), log);
  zmq::socket_t plain(ctx, zmq::socket_type::push);
  plain.set(zmq::sockopt::linger, 0);
  plain.connect(server.address);
  (void)plain.send(zmq::str_buffer("end of stream"), zmq::send_flags::dontwait);
  // The server sees the greeting's mechanism (not_curve), or, when the client read the
  // server's CURVE greeting first and hung up, only the hang-up (hung_up).
  ASSERT_TRUE(server.security.wait_for(
      [](const SecurityCounts& c) { return refused(c, "not_curve") + refused(c, "hung_up") >= 1; },
      10s))
      << "a plaintext client was not refused";
  Client client(ctx, keys.client_side("client"), server.address, "genuine", log);
  EXPECT_EQ(server.next(), "genuine");
  EXPECT_EQ(refused(server.security.counts(), "unknown_key"), 0u);
}

TEST(LinkSecurity, AClientHoldingAnotherServerKeyIsRefused) {
  Keys keys;
  std::ostringstream log;
  zmq::context_t ctx;
  Server server(ctx, keys.server_side(), log);
  // An authorized client that was given the wrong server key (the stranger's public key): its
  // hello does not decrypt at this server.
  Client wrong(ctx, keys.client_side("client", "stranger"), server.address, "misdirected", log);
  ASSERT_TRUE(server.security.wait_for(
      [](const SecurityCounts& c) { return refused(c, "handshake") + refused(c, "hung_up") >= 1; },
      10s))
      << "a client with another server key was not refused";
  EXPECT_EQ(refused(server.security.counts(), "unknown_key"), 0u);
  Client client(ctx, keys.client_side("client"), server.address, "genuine", log);
  EXPECT_EQ(server.next(), "genuine");
}

// Two users of one context (two runners in one test process) share its ZAP handler, each with
// its own authorized keys: a client authorized at one is refused at the other.
TEST(LinkSecurity, EachUserOfAContextKeepsItsOwnAuthorizedKeys) {
  Keys keys;
  fs::create_directories(keys.dir / "strangers");
  fs::copy_file(keys.dir / "stranger.key", keys.dir / "strangers" / "stranger.key");
  std::ostringstream log;
  zmq::context_t ctx;
  Server first(ctx, keys.server_side(), log);
  SecurityConfig other = keys.server_side();
  other.authorized_keys = (keys.dir / "strangers").string();
  Server second(ctx, other, log);
  Client a(ctx, keys.client_side("stranger"), second.address, "to the second", log);
  EXPECT_EQ(second.next(), "to the second");
  Client b(ctx, keys.client_side("stranger"), first.address, "to the first", log);
  ASSERT_TRUE(first.security.wait_for(
      [](const SecurityCounts& c) { return refused(c, "unknown_key") >= 1; }, 10s));
  EXPECT_EQ(refused(second.security.counts(), "unknown_key"), 0u);
  EXPECT_GE(second.security.counts().peers_accepted, 1u);
}

TEST(LinkSecurity, WithoutKeysTcpIsWarnedAboutOnceAndInprocNot) {
  std::ostringstream log;
  zmq::context_t ctx;
  LinkSecurity none(ctx, SecurityConfig{}, "radarpipe run", log);
  EXPECT_FALSE(none.curve());
  EXPECT_FALSE(none.counts().curve);
  zmq::socket_t a(ctx, zmq::socket_type::pull), b(ctx, zmq::socket_type::pull),
      c(ctx, zmq::socket_type::pull);
  const Endpoint tcp = parse_endpoint("tcp://127.0.0.1:*", true, "test");
  none.secure(a, tcp, "--publish");
  none.secure(b, tcp, "--publish");
  none.secure(c, parse_endpoint("inproc://x", true, "test"), "--telemetry");
  const std::string w = log.str();
  const std::string line =
      "radarpipe run: WARNING: --publish tcp://127.0.0.1:* is neither "
      "authenticated nor encrypted";
  EXPECT_NE(w.find(line), std::string::npos) << w;
  EXPECT_EQ(w.find(line), w.rfind(line)) << w;
  EXPECT_EQ(w.find("--telemetry"), std::string::npos) << w;
  EXPECT_EQ(a.get(zmq::sockopt::mechanism), ZMQ_NULL);
}

TEST(LinkSecurity, AMissingKeyForARoleIsRefusedByName) {
  Keys keys;
  std::ostringstream log;
  zmq::context_t ctx;
  SecurityConfig on;
  on.curve = CurveUse::On;
  try {
    LinkSecurity s(ctx, on, "t", log);
    FAIL() << "curve: on without a key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("radarpipe keygen"), std::string::npos) << e.what();
  }
  SecurityConfig only_key;
  only_key.key = (keys.dir / "server.key_secret").string();
  LinkSecurity s(ctx, only_key, "t", log);
  zmq::socket_t sock(ctx, zmq::socket_type::pull);
  try {
    s.secure(sock, parse_endpoint("@tcp://127.0.0.1:*", true, "x"), "--publish");
    FAIL() << "a CURVE server without authorized keys was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--publish: binds tcp://127.0.0.1:* under CURVE"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("security.authorized_keys"), std::string::npos);
  }
  try {
    s.secure(sock, parse_endpoint(">tcp://127.0.0.1:5", false, "x"), "--from");
    FAIL() << "a CURVE client without a server key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("security.server_key"), std::string::npos) << e.what();
  }
  // A secret key others can read stops the start.
  ASSERT_EQ(::chmod((keys.dir / "server.key_secret").c_str(), 0644), 0);
  EXPECT_THROW(LinkSecurity(ctx, only_key, "t", log), std::invalid_argument);
}
