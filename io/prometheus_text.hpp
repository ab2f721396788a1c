// Telemetry as Prometheus text exposition format 0.0.4 (docs/streaming.md "Prometheus"), so a
// site's existing monitoring scrapes `radarpipe run` over HTTP (pipeline/stream/metrics_server).
// Counters are the snapshot's totals since the start (`_total`); rates, latencies and the
// false-alarm monitor are gauges over their own windows, as the telemetry defines them.
#pragma once

#include <string>

#include "core/telemetry.hpp"

namespace radarpipe::io {

/// Every metric of the snapshot, each with its HELP and TYPE lines.
std::string telemetry_to_prometheus(const TelemetrySnapshot& t);

}  // namespace radarpipe::io
