// `radarpipe run` under systemd (docs/streaming.md "Running as a service"): with Type=notify it
// says READY=1 once its sockets are bound and its chains planned, STATUS= lines with what it has
// done, STOPPING=1 when it stops, and, with WatchdogSec=, WATCHDOG=1 every half interval while
// every thread of the runtime is alive (heartbeat.hpp). Through libsystemd's sd_notify; without
// NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace radarpipe::stream {

class ServiceNotifier {
 public:
  ServiceNotifier();
  /// Under a service manager that listens (NOTIFY_SOCKET).
  bool active() const { return active_; }
  /// The watchdog interval systemd asked for (0: none).
  std::chrono::microseconds watchdog_interval() const { return interval_; }
  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping();
  /// Pings WATCHDOG=1 when half the interval has passed since the last ping, if `healthy`.
  /// Returns whether it pinged.
  bool watchdog(bool healthy);

 private:
  bool active_ = false;
  std::chrono::microseconds interval_{0};
  std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace radarpipe::stream
