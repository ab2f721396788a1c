#include "pipeline/stream/heartbeat.hpp"

#include <chrono>

namespace radarpipe::stream {

namespace {
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
thread_local Heartbeat* t_heartbeat = nullptr;
}  // namespace

Heartbeat::Heartbeat() : last_ns_(steady_ns()) {}

void Heartbeat::beat() {
  last_ns_.store(steady_ns(), std::memory_order_relaxed);
}

std::int64_t Heartbeat::age_ns() const {
  return steady_ns() - last_ns_.load(std::memory_order_relaxed);
}

void set_thread_heartbeat(Heartbeat* h) {
  t_heartbeat = h;
}

void beat() {
  if (t_heartbeat) t_heartbeat->beat();
}

}  // namespace radarpipe::stream
