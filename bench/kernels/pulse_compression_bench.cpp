// Pulse compression of a whole CPI on one thread (bytes: cf32 in + cf32 out).
#include "bench/bench_common.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "kernels/cpu/waveform.hpp"

namespace radarpipe::bench {
namespace {

cpu::PulseCompressionConfig config(const Mode& m) {
  cpu::PulseCompressionConfig c;
  c.gates = m.radar.range_gates;
  c.waveform = cpu::sample_waveform(m.radar.waveform, m.radar.sample_rate_hz);
  c.window = m.processing.range_window;
  c.planning = m.processing.fft_planning;
  return c;
}

void BM_PulseCompression(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  cpu::PulseCompressor pc(config(m));
  const Cpi in = random_cpi(m, 1);
  Cpi out(in.shape);
  for (auto _ : state) {
    pc.process(in, out);
    benchmark::DoNotOptimize(out.samples.data());
  }
  set_rates(state, double(in.shape.size()), 16.0 * double(in.shape.size()));
}

void BM_PulseCompressionFftOnly(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  cpu::PulseCompressor pc(config(m));
  const std::size_t rows = m.radar.channels * m.processing.pulses;
  for (auto _ : state) pc.transforms_only(rows, 0);
  set_rates(state, double(rows * m.radar.range_gates), 16.0 * double(rows * m.radar.range_gates));
}

BENCHMARK(BM_PulseCompression)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PulseCompressionFftOnly)
    ->DenseRange(0, 1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
