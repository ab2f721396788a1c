// 2-D CFAR of one noncoherent power map on one thread, every variant (bytes: the map in).
#include "bench/bench_common.hpp"
#include "kernels/cpu/cfar.hpp"

namespace radarpipe::bench {
namespace {

void BM_Cfar(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CfarConfig cc = m.processing.cfar;
  cc.type = static_cast<CfarType>(state.range(1));
  const std::size_t md = m.processing.doppler_fft_size, n = m.radar.range_gates;
  cpu::Cfar cfar({cc, md, n, 1, 0});
  std::vector<float> map(md * n);
  std::mt19937_64 rng(3);
  std::exponential_distribution<float> e(1.0f);
  for (float& v : map) v = e(rng);
  std::vector<cpu::CfarCrossing> out(1 << 16);
  for (auto _ : state) benchmark::DoNotOptimize(cfar.process(map.data(), out.data(), out.size()));
  set_rates(state, double(map.size()), 4.0 * double(map.size()));
  state.SetLabel(std::string(kModes[state.range(0)]) + " " + to_string(cc.type));
}

BENCHMARK(BM_Cfar)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
