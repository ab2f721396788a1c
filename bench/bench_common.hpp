// Shared setup for the Google Benchmark programs: the bench modes and seeded random CPIs.
#pragma once

#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "core/cpi.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe::bench {

inline const char* kModes[] = {"bench-small", "bench-matx"};

/// configs/<name>.yaml from the source tree.
inline Mode load_bench_mode(int index) {
  return load_mode_file(std::string(RADARPIPE_SOURCE_DIR) + "/configs/" + kModes[index] + ".yaml");
}

/// A CPI of circular Gaussian noise (never zeros: they hide work and can run faster).
inline Cpi random_cpi(const Mode& m, std::uint64_t seed) {
  Cpi cpi(CpiShape{m.radar.channels, m.processing.pulses, m.radar.range_gates});
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.7071f);
  for (cf32& z : cpi.samples) {
    const float re = g(rng);
    z = cf32(re, g(rng));
  }
  return cpi;
}

/// Samples/s and bytes/s counters (bytes: what the stage must read plus write at least).
inline void set_rates(benchmark::State& state, double samples_per_iter, double bytes_per_iter) {
  state.counters["samples_per_s"] =
      benchmark::Counter(samples_per_iter, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] =
      benchmark::Counter(bytes_per_iter, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kModes[state.range(0)]);
}

}  // namespace radarpipe::bench
