#include "pipeline/stream/metrics_server.hpp"

#include <httplib.h>

#include <stdexcept>

#include "io/prometheus_text.hpp"

namespace radarpipe::stream {

MetricsServer::MetricsServer(const std::string& listen, Snapshot snapshot)
    : server_(std::make_unique<httplib::Server>()) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    throw std::invalid_argument("--metrics: '" + listen +
                                "' is not HOST:PORT (HOST an address to listen on, PORT 0 or * "
                                "for a free one)");
  const std::string host = listen.substr(0, colon), port_text = listen.substr(colon + 1);
  int port = 0;
  if (port_text != "*") {
    char* end = nullptr;
    const long p = std::strtol(port_text.c_str(), &end, 10);
    if (*end != '\0' || p < 0 || p > 65535)
      throw std::invalid_argument("--metrics: port '" + port_text + "' is not 0..65535 or *");
    port = static_cast<int>(p);
  }
  httplib::Server& s = *server_;
  // A scraper or a stranger: one thread serves, requests are small and quick.
  s.new_task_queue = [] { return new httplib::ThreadPool(1); };
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.set_keep_alive_max_count(10);
  s.set_payload_max_length(1024);
  s.Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(io::telemetry_to_prometheus(snapshot()), "text/plain; version=0.0.4");
  });
  const int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error("--metrics: cannot listen on " + listen);
  url_ = "http://" + host + ":" + std::to_string(bound) + "/metrics";
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace radarpipe::stream
