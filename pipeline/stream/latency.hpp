// Latency percentiles over a window of the most recent CPIs (exact order statistics, not a
// histogram), plus the largest value since the start. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "core/telemetry.hpp"

namespace radarpipe::stream {

class LatencyWindow {
 public:
  explicit LatencyWindow(std::size_t window = 4096) : ring_(window) {}
  void record(double seconds);
  /// p50 and p99 over the window (nearest rank), max over all time, in ms.
  LatencySummary summary(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> ring_;
  std::size_t next_ = 0, filled_ = 0;
  double max_ = 0;
};

/// Nearest-rank percentile (0 < q <= 1) of `v` (reordered).
double percentile(std::vector<double>& v, double q);

}  // namespace radarpipe::stream
