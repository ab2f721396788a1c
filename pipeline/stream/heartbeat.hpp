// Liveness of `radarpipe run`'s threads, for the service manager's watchdog (service_notify.hpp):
// each thread (the ingest, every segment) registers a Heartbeat and beats from every loop it
// waits in (poll_some, the VRT receive loops, the wait for a free output buffer). A thread that
// has not beaten for a while is stuck in one place (a deadlock, a hung device call, a CPI taking
// far longer than it should), not waiting on a peer: the watchdog stops pinging and the service
// manager restarts the process.
#pragma once

#include <atomic>
#include <cstdint>

namespace radarpipe::stream {

class Heartbeat {
 public:
  Heartbeat();
  void beat();
  /// Nanoseconds since the last beat (steady clock).
  std::int64_t age_ns() const;

 private:
  std::atomic<std::int64_t> last_ns_;
};

/// The heartbeat this thread beats (nullptr: none; the default).
void set_thread_heartbeat(Heartbeat* h);
/// Beats this thread's heartbeat, if it has one.
void beat();

}  // namespace radarpipe::stream
