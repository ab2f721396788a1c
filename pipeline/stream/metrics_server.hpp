// Telemetry over HTTP for a site's monitoring (docs/streaming.md "Prometheus"): GET /metrics
// answers with the current snapshot in Prometheus text format (io/prometheus_text.hpp). Built on
// cpp-httplib (Debian's libcpp-httplib-dev): one serving thread, short timeouts, no request body
// taken, anything but GET /metrics answered 404.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/telemetry.hpp"

namespace httplib {
class Server;
}

namespace radarpipe::stream {

class MetricsServer {
 public:
  using Snapshot = std::function<TelemetrySnapshot()>;
  /// Binds HOST:PORT (PORT 0 or *: a free one) and serves from a thread of its own. Throws
  /// std::invalid_argument (the text) or std::runtime_error (the bind failed).
  MetricsServer(const std::string& listen, Snapshot snapshot);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  /// "http://127.0.0.1:PORT/metrics"
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string url_;
};

}  // namespace radarpipe::stream
