// MTI + window + Doppler FFT + power + noncoherent combining of a whole CPI on one thread
// (bytes: cf32 cube in + one float map out).
#include "bench/bench_common.hpp"
#include "kernels/cpu/doppler.hpp"

namespace radarpipe::bench {
namespace {

void BM_DopplerPower(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  cpu::DopplerConfig c;
  c.pulses = m.processing.pulses;
  c.gates = m.radar.range_gates;
  c.mti = m.processing.mti;
  c.window = m.processing.doppler_window;
  c.fft_size = m.processing.doppler_fft_size;
  c.planning = m.processing.fft_planning;
  c.tile_gates = static_cast<std::size_t>(state.range(1));
  cpu::DopplerProcessor dop(c);
  const Cpi in = random_cpi(m, 2);
  PowerMap map(1, c.fft_size, c.gates);
  for (auto _ : state) {
    for (std::size_t ch = 0; ch < in.shape.channels; ++ch)
      dop.power(in.channel(ch), map.map(0), ch > 0);
    benchmark::DoNotOptimize(map.data.data());
  }
  set_rates(state, double(in.shape.size()),
            8.0 * double(in.shape.size()) + 4.0 * double(map.data.size()));
  state.SetLabel(std::string(kModes[state.range(0)]) + " tile " + std::to_string(state.range(1)));
}

BENCHMARK(BM_DopplerPower)
    ->ArgsProduct({{0, 1}, {16, 32, 64}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
