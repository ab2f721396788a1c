// The whole chain as the runtime drives it (pipeline/chain/signal_chain.hpp): the backend
// `auto` resolves to here (the CUDA chain on a GPU machine, the CPU chain elsewhere), built
// by make_chain, fed through next_input() with up to depth() CPIs in flight, reports
// collected in order. Wall time per CPI, host input already in the chain's input buffers (each
// filled once, as a producer writing in place would leave it). The label names the backend.
#include <cstring>
#include <memory>

#include "bench/bench_common.hpp"
#include "pipeline/chain/backend.hpp"
#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe::bench {
namespace {

void BM_SignalChain(benchmark::State& state) {
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  const BackendChoice backend = resolve_backend(Backend::Auto);
  const std::unique_ptr<SignalChain> chain = make_chain(m, backend, ChainOptions{});
  const Cpi in = random_cpi(m, 4);
  const std::size_t bytes = chain->input_bytes(SampleFormat::Cf32);
  ChainJob job;
  std::size_t filled = 0, detections = 0;
  auto submit_next = [&] {
    void* buffer = chain->next_input();
    if (filled < chain->depth()) {  // each of the chain's input buffers once
      std::memcpy(buffer, in.samples.data(), bytes);
      ++filled;
    }
    chain->submit(job);
    ++job.cpi;
  };
  while (chain->in_flight() < chain->depth()) submit_next();
  for (auto _ : state) {
    detections += chain->collect().report->detections.size();
    submit_next();
  }
  while (chain->in_flight() > 0) detections += chain->collect().report->detections.size();
  set_rates(state, double(in.shape.size()), 8.0 * double(in.shape.size()));
  state.SetLabel(std::string(kModes[state.range(0)]) + " " + to_string(backend.chosen));
  state.counters["depth"] = double(chain->depth());
  state.counters["realtime_factor"] = benchmark::Counter(
      derive_geometry(m).cpi_duration_s, benchmark::Counter::kIsIterationInvariantRate);
  benchmark::DoNotOptimize(detections);
}

BENCHMARK(BM_SignalChain)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace radarpipe::bench
