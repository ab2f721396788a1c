#include "pipeline/stream/link_security.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "io/curve_cert.hpp"
#include "pipeline/stream/endpoint.hpp"

namespace radarpipe::stream {
namespace {

constexpr const char* kCauses[] = {"unknown_key", "not_curve", "handshake", "hung_up"};
enum Cause { UnknownKey = 0, NotCurve = 1, Handshake = 2, HungUp = 3 };
constexpr int kNumCauses = 4;
// Distinct refused peers remembered for logging once each; past this a peer cycling keys
// would grow memory, so further ones are counted only (and that is said once).
constexpr std::size_t kLoggedPeers = 1024;

// What one LinkSecurity counts, shared with the handler's thread.
struct Domain {
  std::string who;
  std::ostream* log = nullptr;
  std::string authorized_from;                 // the folder or file, for messages
  std::unordered_set<std::string> authorized;  // Z85 public keys

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  SecurityCounts counts;
  std::uint64_t by_cause[kNumCauses] = {};
  std::set<std::string> logged;
  bool said_too_many = false;

  void accepted() {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++counts.peers_accepted;
    }
    cv.notify_all();
  }
  // `peer` identifies what is logged once; `message` is said the first time.
  void refused(Cause cause, const std::string& peer, const std::string& message) {
    std::string say;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++counts.peers_refused;
      ++by_cause[cause];
      if (logged.count(peer) == 0) {
        if (logged.size() < kLoggedPeers) {
          logged.insert(peer);
          say = who + ": " + message + "\n";
        } else if (!said_too_many) {
          said_too_many = true;
          say = who + ": more than " + std::to_string(kLoggedPeers) +
                " refused peers; further ones are counted (telemetry security), not logged\n";
        }
      }
    }
    cv.notify_all();
    if (!say.empty() && log) *log << say << std::flush;
  }
  SecurityCounts snapshot() const {
    std::lock_guard<std::mutex> lock(mu);
    return snapshot_locked();
  }
  SecurityCounts snapshot_locked() const {
    SecurityCounts c = counts;
    c.peers_refused_by_cause.clear();
    for (int k = 0; k < kNumCauses; ++k)
      if (by_cause[k]) c.peers_refused_by_cause.push_back({kCauses[k], by_cause[k]});
    return c;
  }
};

// The ZAP handler of one context (RFC 27 at inproc://zeromq.zap.01), shared by every
// LinkSecurity on that context, each with its own ZAP domain "radarpipe-ID:WHAT". Its thread
// also reads the handshake-failure events of the server sockets (zmq_socket_monitor), which
// are the refusals ZAP never sees: a client without CURVE, or one with another server key.
class ZapHandler {
 public:
  explicit ZapHandler(zmq::context_t& ctx) : ctx_(ctx), rep_(ctx, zmq::socket_type::rep) {
    rep_.set(zmq::sockopt::linger, 0);
    rep_.bind("inproc://zeromq.zap.01");
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    thread_ = std::thread([this] { loop(); });
  }
  ~ZapHandler() {
    stop_ = true;
    wake();
    thread_.join();
    ::close(wake_);
  }

  // The handler of `ctx`, started by the first user and stopped with the last.
  static ZapHandler* acquire(zmq::context_t& ctx) {
    std::lock_guard<std::mutex> lock(registry_mu());
    Entry& e = registry()[ctx.handle()];
    if (!e.handler) e.handler = std::make_unique<ZapHandler>(ctx);
    ++e.users;
    return e.handler.get();
  }
  static void release(zmq::context_t& ctx) {
    std::lock_guard<std::mutex> lock(registry_mu());
    auto it = registry().find(ctx.handle());
    if (it == registry().end() || --it->second.users > 0) return;
    registry().erase(it);  // joins the thread and closes its sockets
  }

  std::uint64_t add_domain(Domain* d) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::uint64_t id = next_id_++;
    domains_[id] = d;
    return id;
  }
  // Returns once the handler's thread has let go of the domain and closed its monitors.
  void remove_domain(std::uint64_t id) {
    std::unique_lock<std::mutex> lock(mu_);
    removing_.push_back(id);
    wake();
    cv_.wait(lock, [&] { return domains_.count(id) == 0; });
  }
  // Watches `s` (about to bind) for failed handshakes.
  void monitor(zmq::socket_t& s, std::uint64_t id, const std::string& what) {
    static std::atomic<std::uint64_t> counter{0};
    const std::string ep = "inproc://radarpipe-handshake-monitor-" + std::to_string(counter++);
    if (zmq_socket_monitor(
            s.handle(), ep.c_str(),
            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0)
      throw zmq::error_t();
    // Connected here, before `s` binds, so no event is lost; the handler's thread owns it from
    // now on (handed over under the mutex, as ZeroMQ allows for a socket moved between threads).
    zmq::socket_t pair(ctx_, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(ep);
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(Monitor{std::move(pair), id, what});
    wake();
  }

 private:
  struct Entry {
    std::unique_ptr<ZapHandler> handler;
    int users = 0;
  };
  static std::mutex& registry_mu() {
    static std::mutex m;
    return m;
  }
  static std::map<void*, Entry>& registry() {
    static std::map<void*, Entry> r;
    return r;
  }
  struct Monitor {
    zmq::socket_t pair;
    std::uint64_t id;
    std::string what;
  };

  void wake() {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }

  void loop() {
    std::vector<Monitor> monitors;
    while (!stop_.load()) {
      std::vector<zmq::pollitem_t> items;
      items.push_back({static_cast<void*>(rep_), 0, ZMQ_POLLIN, 0});
      items.push_back({nullptr, wake_, ZMQ_POLLIN, 0});
      for (Monitor& m : monitors) items.push_back({static_cast<void*>(m.pair), 0, ZMQ_POLLIN, 0});
      if (zmq_poll(items.data(), static_cast<int>(items.size()), -1) < 0) {
        if (zmq_errno() == EINTR) continue;
        if (zmq_errno() == ETERM) return;
        throw zmq::error_t();
      }
      if (items[1].revents & ZMQ_POLLIN) {
        std::uint64_t n;
        (void)!::read(wake_, &n, sizeof n);
        std::lock_guard<std::mutex> lock(mu_);
        for (Monitor& m : pending_) monitors.push_back(std::move(m));
        pending_.clear();
        for (std::uint64_t id : removing_) {
          domains_.erase(id);
          for (std::size_t k = monitors.size(); k-- > 0;)
            if (monitors[k].id == id) monitors.erase(monitors.begin() + static_cast<long>(k));
        }
        if (!removing_.empty()) {
          removing_.clear();
          cv_.notify_all();
        }
        continue;  // the monitor list changed: the poll items are stale
      }
      if (items[0].revents & ZMQ_POLLIN) answer();
      for (std::size_t k = 0; k < monitors.size(); ++k)
        if (items[k + 2].revents & ZMQ_POLLIN) event(monitors[k]);
    }
  }

  // One ZAP request (RFC 27): version, request id, domain, address, routing id, mechanism,
  // credentials. libzmq writes it, but its fields come from the peer: sizes are checked.
  void answer() {
    std::vector<zmq::message_t> parts;
    zmq::message_t part;
    do {
      if (!rep_.recv(part, zmq::recv_flags::none)) return;
      const bool more = part.more();
      if (parts.size() < 16) parts.push_back(std::move(part));
      if (!more) break;
    } while (true);
    auto text = [&](std::size_t k) { return k < parts.size() ? parts[k].to_string() : ""; };
    std::string status = "400", reason;
    std::string user;
    if (parts.size() < 6 || text(0) != "1.0") {
      status = "500";
      reason = "malformed ZAP request";
    } else {
      const std::string domain = text(2), address = text(3), mechanism = text(5);
      std::lock_guard<std::mutex> lock(mu_);
      Domain* d = nullptr;
      std::string what;
      if (domain.rfind("radarpipe-", 0) == 0) {
        const auto colon = domain.find(':');
        try {
          const std::uint64_t id = std::stoull(domain.substr(10, colon - 10));
          auto it = domains_.find(id);
          if (it != domains_.end()) d = it->second;
        } catch (const std::exception&) {
        }
        if (colon != std::string::npos) what = domain.substr(colon + 1);
      }
      if (!d) {
        reason = "unknown ZAP domain";
      } else if (mechanism != "CURVE" || parts.size() < 7 || parts[6].size() != 32) {
        reason = "CURVE required";
        d->refused(NotCurve, "mechanism " + what + " " + address,
                   "refused a client at " + address + " on " + what + ": mechanism '" + mechanism +
                       "', CURVE required");
      } else {
        const std::string key = io::z85_key(static_cast<const unsigned char*>(parts[6].data()));
        if (d->authorized.count(key)) {
          status = "200";
          reason = "OK";
          user = key;
          d->accepted();
        } else {
          reason = "key not authorized";
          d->refused(UnknownKey, key + " " + address,
                     "refused a client at " + address + " on " + what + ": its CURVE key " + key +
                         " is not among the " + std::to_string(d->authorized.size()) +
                         " authorized keys (" + d->authorized_from + ")");
        }
      }
    }
    rep_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
    rep_.send(
        parts.size() > 1 ? zmq::message_t(parts[1].data(), parts[1].size()) : zmq::message_t(),
        zmq::send_flags::sndmore);
    rep_.send(zmq::buffer(status), zmq::send_flags::sndmore);
    rep_.send(zmq::buffer(reason), zmq::send_flags::sndmore);
    rep_.send(zmq::buffer(user), zmq::send_flags::sndmore);
    rep_.send(zmq::message_t(), zmq::send_flags::none);
  }

  // A monitor event (zmq_socket_monitor): 6 bytes (event, value) and the endpoint.
  void event(Monitor& m) {
    zmq::message_t head, addr;
    if (!m.pair.recv(head, zmq::recv_flags::dontwait)) return;
    if (head.more()) (void)m.pair.recv(addr, zmq::recv_flags::none);
    while (addr.more()) (void)m.pair.recv(addr, zmq::recv_flags::none);
    if (head.size() < 6) return;
    std::uint16_t ev;
    std::uint32_t value;
    std::memcpy(&ev, head.data(), 2);
    std::memcpy(&value, static_cast<const char*>(head.data()) + 2, 4);
    const std::string where = addr.to_string();
    Cause cause = Handshake;
    std::string why;
    if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
        (value == EPIPE || value == ECONNRESET || value == ECONNABORTED)) {
      // Both sides send their greetings at once: a plaintext client that reads this side's
      // CURVE greeting first hangs up, and this side sees only the hang-up. So does a port
      // scan.
      cause = HungUp;
      why =
          "the peer hung up during the handshake (a client without CURVE or with another "
          "server key that saw the mismatch first, or a port scan)";
    } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
               value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
      cause = NotCurve;
      why = "its greeting offered another security mechanism than CURVE (a plaintext client?)";
    } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
               value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) {
      why = "its CURVE hello did not decrypt (it holds another server key than this one's)";
    } else {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%x", value);
      why = std::string("the handshake failed (event 0x") +
            (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "2000, protocol error " : "800, ") + hex +
            ")";
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = domains_.find(m.id);
    if (it == domains_.end()) return;
    it->second->refused(cause, std::string(kCauses[cause]) + " " + m.what,
                        "refused a connection on " + m.what + " (" + where + "): " + why +
                            "; such refusals name no peer, they are counted (telemetry "
                            "security) and said once per socket and cause");
  }

  zmq::context_t& ctx_;
  zmq::socket_t rep_;
  int wake_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Domain*> domains_;
  std::uint64_t next_id_ = 1;
  std::vector<Monitor> pending_;
  std::vector<std::uint64_t> removing_;
  std::thread thread_;
};

std::string raw_key(const std::string& z85) {
  std::string raw(32, '\0');
  if (z85.size() != 40 ||
      zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), z85.c_str()) == nullptr)
    throw std::logic_error("a checked key did not decode");
  return raw;
}

}  // namespace

struct LinkSecurity::Impl {
  zmq::context_t& ctx;
  SecurityConfig cfg;
  bool curve = false;
  io::CurveCert own;
  std::string server_key;  // Z85
  Domain domain;
  ZapHandler* zap = nullptr;
  std::uint64_t id = 0;
  std::set<std::string> warned;
  Impl(zmq::context_t& c, SecurityConfig s) : ctx(c), cfg(std::move(s)) {}
};

LinkSecurity::LinkSecurity(zmq::context_t& ctx, const SecurityConfig& cfg, std::string who,
                           std::ostream& log)
    : impl_(std::make_unique<Impl>(ctx, cfg)) {
  Impl& m = *impl_;
  m.domain.who = std::move(who);
  m.domain.log = &log;
  m.curve = cfg.enabled();
  if (!m.curve) return;
  if (cfg.key.empty())
    throw std::invalid_argument(
        "security.curve is on, but no key pair names this process (security.key or --key; "
        "make one with radarpipe keygen)");
  m.own = io::read_curve_cert(cfg.key, true, "security.key");
  if (!cfg.server_key.empty())
    m.server_key = io::read_curve_cert(cfg.server_key, false, "security.server_key").public_key;
  if (!cfg.authorized_keys.empty()) {
    m.domain.authorized_from = "security.authorized_keys " + cfg.authorized_keys;
    for (const io::AuthorizedKey& k :
         io::read_authorized_keys(cfg.authorized_keys, "security.authorized_keys"))
      m.domain.authorized.insert(k.public_key);
  }
  m.domain.counts.curve = true;
  m.zap = ZapHandler::acquire(ctx);
  m.id = m.zap->add_domain(&m.domain);
}

LinkSecurity::~LinkSecurity() {
  Impl& m = *impl_;
  if (!m.zap) return;
  m.zap->remove_domain(m.id);
  ZapHandler::release(m.ctx);
}

bool LinkSecurity::curve() const {
  return impl_->curve;
}

std::string LinkSecurity::public_key() const {
  return impl_->own.public_key;
}

void LinkSecurity::secure(zmq::socket_t& s, const Endpoint& e, const std::string& what) {
  Impl& m = *impl_;
  const bool tcp = e.address.rfind("tcp://", 0) == 0;
  const bool ipc = e.address.rfind("ipc://", 0) == 0;
  if (!tcp && !ipc) return;
  if (!m.curve) {
    if (tcp && m.warned.insert(what + " " + e.address).second)
      *m.domain.log << m.domain.who << ": WARNING: " << what << " " << e.address
                    << " is neither authenticated nor encrypted: any process that reaches it "
                       "can read what it carries and inject into it. Give the mode a security: "
                       "section (radarpipe keygen; docs/security.md).\n"
                    << std::flush;
    return;
  }
  if (e.bind) {
    if (m.domain.authorized.empty())
      throw std::invalid_argument(what + ": binds " + e.address +
                                  " under CURVE, so it needs the keys of the clients it lets in: "
                                  "security.authorized_keys (or --authorized-keys)");
    s.set(zmq::sockopt::curve_server, 1);
    const std::string secret = raw_key(m.own.secret_key);
    s.set(zmq::sockopt::curve_secretkey, zmq::buffer(secret));
    s.set(zmq::sockopt::zap_domain, "radarpipe-" + std::to_string(m.id) + ":" + what);
    m.zap->monitor(s, m.id, what);
    return;
  }
  if (m.server_key.empty())
    throw std::invalid_argument(what + ": connects to " + e.address +
                                " under CURVE, so it needs that server's public key: "
                                "security.server_key (or --server-key)");
  s.set(zmq::sockopt::curve_serverkey, zmq::buffer(raw_key(m.server_key)));
  s.set(zmq::sockopt::curve_publickey, zmq::buffer(raw_key(m.own.public_key)));
  s.set(zmq::sockopt::curve_secretkey, zmq::buffer(raw_key(m.own.secret_key)));
}

SecurityCounts LinkSecurity::counts() const {
  return impl_->domain.snapshot();
}

bool LinkSecurity::wait_for(const std::function<bool(const SecurityCounts&)>& pred,
                            std::chrono::milliseconds timeout) const {
  const Domain& d = impl_->domain;
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(d.mu);
  return d.cv.wait_until(lock, until, [&] { return pred(d.snapshot_locked()); });
}

}  // namespace radarpipe::stream
