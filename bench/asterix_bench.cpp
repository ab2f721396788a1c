// ASTERIX encoding (io/asterix): CAT048 records and data blocks for a report of N plots, the
// work `radarpipe run` adds per CPI when the mode has an asterix: section. Items: plots/s and
// bytes/s of data blocks written.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "io/asterix.hpp"

namespace {

using namespace radarpipe;

void BM_AsterixEncode(benchmark::State& state) {
  const auto plots = static_cast<std::size_t>(state.range(0));
  AsterixConfig cfg;
  cfg.present = true;
  cfg.sac = 25;
  cfg.sic = 201;
  AntennaConfig ant;
  ant.present = true;
  ant.scan = ScanType::Rotating;
  ant.beamwidth_deg = 1.5;
  ant.rotation_period_s = 4.0;
  io::asterix::Encoder enc(cfg, ant, 7.49481145, 0.0128);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> r(100, 400000), az(0, 360), v(-300, 300), p(0, 60);
  DetectionReport report;
  report.timestamp_ns = 1795262400000000000LL;
  for (std::size_t i = 0; i < plots; ++i) {
    Detection d;
    d.range_m = r(rng);
    d.azimuth_deg = az(rng);
    d.range_rate_mps = v(rng);
    d.power_db = p(rng);
    d.snr_db = p(rng);
    d.range_extent_bins = 3;
    d.cells = 7;
    report.detections.push_back(d);
  }
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    enc.encode(report, out);
    for (const auto& b : out) bytes += b.size();
    benchmark::DoNotOptimize(out.data());
    report.timestamp_ns += 12800000;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * plots));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["blocks_per_report"] = static_cast<double>(out.size());
}
BENCHMARK(BM_AsterixEncode)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
