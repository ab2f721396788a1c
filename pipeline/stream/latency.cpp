#include "pipeline/stream/latency.hpp"

#include <algorithm>
#include <cmath>

namespace radarpipe::stream {

void LatencyWindow::record(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ring_[next_] = seconds;
  next_ = (next_ + 1) % ring_.size();
  filled_ = std::min(filled_ + 1, ring_.size());
  max_ = std::max(max_, seconds);
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  const std::size_t k = std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

LatencySummary LatencyWindow::summary(const std::string& name) const {
  std::vector<double> v;
  double mx;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    v.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(filled_));
    mx = max_;
  }
  LatencySummary s;
  s.name = name;
  s.count = v.size();
  s.p50_ms = 1e3 * percentile(v, 0.50);
  s.p99_ms = 1e3 * percentile(v, 0.99);
  s.max_ms = 1e3 * mx;
  return s;
}

}  // namespace radarpipe::stream
