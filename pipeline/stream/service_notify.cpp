#include "pipeline/stream/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace radarpipe::stream {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket && *socket;
  std::uint64_t usec = 0;
  // > 0 when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is this process).
  if (active_ && sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::ready(const std::string& status) {
  if (active_) sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceNotifier::status(const std::string& status) {
  if (active_) sd_notifyf(0, "STATUS=%s", status.c_str());
}

void ServiceNotifier::stopping() {
  if (active_) sd_notify(0, "STOPPING=1");
}

bool ServiceNotifier::watchdog(bool healthy) {
  if (!active_ || interval_.count() == 0 || !healthy) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < interval_ / 2) return false;
  last_ping_ = now;
  sd_notify(0, "WATCHDOG=1");
  return true;
}

}  // namespace radarpipe::stream
