// The whole CPU chain on all cores, beside the same chain's FFTs alone (same plans, sizes and
// threads): the transform floor. bytes: the cf32 input cube.
#include "bench/bench_common.hpp"
#include "pipeline/chain.hpp"

namespace radarpipe::bench {
namespace {

void BM_Chain(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CpuChain chain(m);
  const Cpi in = random_cpi(m, 4);
  std::size_t detections = 0;
  for (auto _ : state) detections += chain.process(in).detections.size();
  set_rates(state, double(in.shape.size()), 8.0 * double(in.shape.size()));
  state.counters["threads"] = double(chain.threads());
  // CPI duration over processing time: above 1 keeps up with the radar.
  state.counters["realtime_factor"] = benchmark::Counter(
      chain.geometry().cpi_duration_s, benchmark::Counter::kIsIterationInvariantRate);
  benchmark::DoNotOptimize(detections);
}

void BM_ChainFftFloor(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CpuChain chain(m);
  const std::size_t samples = m.radar.channels * m.processing.pulses * m.radar.range_gates;
  for (auto _ : state) chain.transforms_only();
  set_rates(state, double(samples), 8.0 * double(samples));
  state.counters["threads"] = double(chain.threads());
}

BENCHMARK(BM_Chain)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ChainFftFloor)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
