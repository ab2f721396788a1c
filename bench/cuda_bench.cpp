// The CUDA chain on bench-small and bench-matx (built when nvcc is found; each benchmark skips
// with the reason when no device is present). Device-side times come from CUDA events
// (manual time); every benchmark reports samples/s and bytes/s, where bytes are what the
// code must at least move through device memory (or over PCIe), counted in the stage classes.
//
//   BM_CudaDeviceCopy      device-to-device copy of one cf32 cube: the bandwidth reference
//   BM_CudaHostToDevice    pinned ci16 cube to the device: the PCIe reference
//   BM_CudaChain           the whole chain, data already on the device (no host plots)
//                          + per-stage ms and GB/s counters from the same runs
//   BM_CudaChainFftFloor   the chain's cuFFT calls alone (same plans, same buffers)
//   BM_CudaEndToEndCi16    pinned ci16 in, reports out: copies, kernels and host plot
//                          extraction with two CPIs in flight (wall time per CPI)
//   BM_CudaProcessCf32     CudaChain::process on a pageable Cpi: one CPI at a time, with the
//                          host copy into pinned memory (what a caller without pinned buffers
//                          gets)
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bench/bench_common.hpp"
#include "kernels/cuda/device.cuh"
#include "kernels/cuda/memory.cuh"
#include "pipeline/chain/cuda_chain.hpp"
#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe::bench {
namespace {

bool have_device(benchmark::State& state) {
  const cuda::DeviceScan scan = cuda::scan_devices();
  if (scan.devices.empty()) {
    state.SkipWithError(("no CUDA device: " + scan.reason).c_str());
    return false;
  }
  return true;
}

std::size_t cube_samples(const Mode& m) {
  return m.radar.channels * m.processing.pulses * m.radar.range_gates;
}

void fill_ci16(void* dst, std::size_t samples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 700.0f);
  auto* p = static_cast<std::int16_t*>(dst);
  for (std::size_t i = 0; i < 2 * samples; ++i) p[i] = static_cast<std::int16_t>(g(rng));
}

void BM_CudaDeviceCopy(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  const std::size_t bytes = cube_samples(m) * sizeof(cf32);
  cuda::DeviceBuffer<unsigned char> a(bytes), b(bytes);
  cuda::Stream s;
  cuda::Event t0(true), t1(true);
  for (auto _ : state) {
    t0.record(s.get());
    RP_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, s.get()));
    t1.record(s.get());
    t1.synchronize();
    state.SetIterationTime(cuda::elapsed_ms(t0, t1) * 1e-3);
  }
  set_rates(state, double(cube_samples(m)), 2.0 * double(bytes));  // read + write
}

void BM_CudaHostToDevice(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CudaChain chain(m);
  fill_ci16(chain.next_input(), cube_samples(m), 1);
  const std::size_t bytes = cube_samples(m) * 4;
  for (auto _ : state) state.SetIterationTime(chain.copy_input_on_device(0, bytes) * 1e-3);
  set_rates(state, double(cube_samples(m)), double(bytes));
}

void BM_CudaChain(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CudaChain chain(m);
  const Cpi in = random_cpi(m, 4);
  chain.process(in);  // leaves the CPI in slot 0's device input
  CudaStageTimes sum, t;
  for (auto _ : state) {
    state.SetIterationTime(chain.run_on_device(0, SampleFormat::Cf32, &t) * 1e-3);
    sum.pulse_compression_ms += t.pulse_compression_ms;
    sum.doppler_ms += t.doppler_ms;
    sum.cfar_ms += t.cfar_ms;
    sum.compaction_ms += t.compaction_ms;
  }
  const double n = double(state.iterations());
  const double pc_b = double(chain.pulse_compression_bytes(SampleFormat::Cf32));
  const double dp_b = double(chain.doppler_bytes()), cf_b = double(chain.cfar_bytes());
  set_rates(state, double(cube_samples(m)), pc_b + dp_b + cf_b);
  state.counters["pc_ms"] = sum.pulse_compression_ms / n;
  state.counters["doppler_ms"] = sum.doppler_ms / n;
  state.counters["cfar_ms"] = sum.cfar_ms / n;
  state.counters["compaction_ms"] = sum.compaction_ms / n;
  state.counters["pc_GBps"] = pc_b / (sum.pulse_compression_ms / n * 1e-3) / 1e9;
  state.counters["doppler_GBps"] = dp_b / (sum.doppler_ms / n * 1e-3) / 1e9;
  state.counters["cfar_GBps"] = cf_b / (sum.cfar_ms / n * 1e-3) / 1e9;
  state.counters["pc_bytes"] = pc_b;
  state.counters["doppler_bytes"] = dp_b;
  state.counters["cfar_bytes"] = cf_b;
  state.counters["realtime_factor"] = benchmark::Counter(
      chain.geometry().cpi_duration_s, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CudaChainFftFloor(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CudaChain chain(m);
  for (auto _ : state) state.SetIterationTime(chain.transforms_on_device(0) * 1e-3);
  set_rates(state, double(cube_samples(m)), 8.0 * double(cube_samples(m)));
}

void BM_CudaEndToEndCi16(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CudaChain chain(m);
  // Driven as the runtime drives any chain (SignalChain): each slot's pinned buffer holds a
  // CPI, as a producer writing there (next_input) would leave it.
  SignalChain& sc = chain;
  ChainJob job;
  job.format = SampleFormat::Ci16;
  job.scale = 1.0f / 2048.0f;
  for (std::size_t i = 0; i < sc.depth(); ++i) {
    fill_ci16(sc.next_input(), cube_samples(m), 10 + i);
    job.cpi = i;
    sc.submit(job);
  }
  std::size_t detections = 0;
  for (auto _ : state) {
    detections += sc.collect().report->detections.size();
    ++job.cpi;
    sc.submit(job);
  }
  while (sc.in_flight() > 0) detections += sc.collect().report->detections.size();
  set_rates(state, double(cube_samples(m)), 4.0 * double(cube_samples(m)));
  state.counters["realtime_factor"] = benchmark::Counter(
      chain.geometry().cpi_duration_s, benchmark::Counter::kIsIterationInvariantRate);
  benchmark::DoNotOptimize(detections);
}

void BM_CudaProcessCf32(benchmark::State& state) {
  if (!have_device(state)) return;
  const Mode m = load_bench_mode(static_cast<int>(state.range(0)));
  CudaChain chain(m);
  const Cpi in = random_cpi(m, 4);
  std::size_t detections = 0;
  for (auto _ : state) detections += chain.process(in).detections.size();
  set_rates(state, double(cube_samples(m)), 8.0 * double(cube_samples(m)));
  benchmark::DoNotOptimize(detections);
}

BENCHMARK(BM_CudaDeviceCopy)->DenseRange(0, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaHostToDevice)->DenseRange(0, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaChain)->DenseRange(0, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaChainFftFloor)->DenseRange(0, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaEndToEndCi16)->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaProcessCf32)->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace radarpipe::bench
