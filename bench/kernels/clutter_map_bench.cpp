// The clutter map's rows of one power map per CPI on one thread (decide and learn): the
// bench modes with a map of +-2 Doppler bins (5 rows x every gate), past its warm-up, for a
// fixed beam (one azimuth cell) and a rotating one (360 cells, each CPI in the next: the state
// comes from memory, not cache). Bytes: the rows' powers in and the state read and written.
#include "bench/bench_common.hpp"
#include "kernels/cpu/clutter_map.hpp"

namespace radarpipe::bench {
namespace {

void BM_ClutterMap(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  const std::size_t md = m.processing.doppler_fft_size, n = m.radar.range_gates;
  cpu::ClutterMapStageConfig c;
  c.doppler_bins = md;
  c.gates = n;
  c.first_row = md / 2 - 2;
  c.rows = 5;
  c.azimuth_cells = static_cast<std::size_t>(state.range(1));
  c.time_constant = 16;
  c.warmup = 16;
  c.gap = 16;
  c.hold = 1000;
  c.pfa = 1e-6;
  cpu::ClutterMap map(c);
  // Noise: two independent exponential maps in turn (every cell's spread about 1: no shape row
  // applies, the row search stops at once); steady: the same map every CPI (every cell's spread
  // 0: the search runs the whole grid, the slowest case).
  const bool noise = state.range(2) == 1;
  std::vector<float> powers(md * n), other(md * n);
  std::mt19937_64 rng(3);
  std::exponential_distribution<float> e(1.0f);
  for (float& v : powers) v = e(rng);
  for (float& v : other) v = noise ? e(rng) : 0.0f;
  if (!noise) other = powers;
  std::vector<cpu::CfarCrossing> out(1 << 16);
  // Past the warm-up and the measured shape's 2 tau everywhere.
  for (std::size_t k = 0; k < 40 * c.azimuth_cells; ++k)
    map.process_rows((k / c.azimuth_cells) % 2 ? other.data() : powers.data(), 0,
                     k % c.azimuth_cells, 0, md, out.data(), out.size());
  std::size_t az = 0, k = 0;
  for (auto _ : state) {
    const float* p = (k++ / c.azimuth_cells) % 2 ? other.data() : powers.data();
    benchmark::DoNotOptimize(map.process_rows(p, 0, az, 0, md, out.data(), out.size()));
    az = (az + 1) % c.azimuth_cells;
  }
  const double cells = 5.0 * double(n);
  set_rates(state, cells, cells * (4.0 + 2 * 20.0));  // the power, the state read and written
  state.SetLabel(std::string(kModes[state.range(0)]) + ", " + std::to_string(c.azimuth_cells) +
                 " azimuth cells, " + (noise ? "noise" : "steady"));
}

BENCHMARK(BM_ClutterMap)
    ->ArgsProduct({{0, 1}, {1, 360}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
