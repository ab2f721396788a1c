// The whole CPU chain on all cores, beside the same chain's FFTs alone (same plans, sizes and
// threads): the transform floor. bytes: the cf32 input cube.
#include <chrono>

#include "bench/bench_common.hpp"
#include "pipeline/chain/cpu_chain.hpp"

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

// The chain and its floor alternately, CPI by CPI, so that both see the same machine (on a
// shared VM the speed drifts by 10-20% over seconds). Time: the chain's; counters: the floor's
// time and the ratio of the sums (the chain / floor figure).
void BM_ChainOverFloor(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CpuChain chain(m);
  const Cpi in = random_cpi(m, 4);
  double chain_s = 0.0, floor_s = 0.0;
  std::size_t detections = 0;
  for (auto _ : state) {
    const auto t0 = clock::now();
    detections += chain.process(in).detections.size();
    const auto t1 = clock::now();
    chain.transforms_only();
    const auto t2 = clock::now();
    const double c = std::chrono::duration<double>(t1 - t0).count();
    chain_s += c;
    floor_s += std::chrono::duration<double>(t2 - t1).count();
    state.SetIterationTime(c);
  }
  set_rates(state, double(in.shape.size()), 8.0 * double(in.shape.size()));
  state.counters["threads"] = double(chain.threads());
  state.counters["floor_ms"] =
      benchmark::Counter(1e3 * floor_s, benchmark::Counter::kAvgIterations);
  state.counters["chain_over_floor"] = floor_s > 0.0 ? chain_s / floor_s : 0.0;
  benchmark::DoNotOptimize(detections);
}

// The chain's stages as process() runs them (pulse compression and Doppler through range tiles,
// then CFAR and plots), each stage's wall time as a counter: where the chain's time goes.
void BM_ChainStages(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CpuChain chain(m);
  const Cpi in = random_cpi(m, 4);
  PowerMap maps(chain.geometry().maps, m.processing.doppler_fft_size, m.radar.range_gates);
  double pc_s = 0.0, doppler_s = 0.0, detect_s = 0.0;
  std::size_t detections = 0;
  for (auto _ : state) {
    double s[2];
    chain.compress_doppler(in.samples.data(), maps.data.data(), s);
    const auto t0 = clock::now();
    detections += chain.detect(maps.data.data(), in.id, in.timestamp_ns).detections.size();
    detect_s += std::chrono::duration<double>(clock::now() - t0).count();
    pc_s += s[0];
    doppler_s += s[1];
  }
  set_rates(state, double(in.shape.size()), 8.0 * double(in.shape.size()));
  using C = benchmark::Counter;
  state.counters["pc_ms"] = C(1e3 * pc_s, C::kAvgIterations);
  state.counters["doppler_ms"] = C(1e3 * doppler_s, C::kAvgIterations);
  state.counters["detect_ms"] = C(1e3 * detect_s, C::kAvgIterations);
  benchmark::DoNotOptimize(detections);
}

BENCHMARK(BM_Chain)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ChainFftFloor)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ChainStages)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ChainOverFloor)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace
}  // namespace radarpipe::bench
