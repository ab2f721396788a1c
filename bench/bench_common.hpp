// Shared setup for the Google Benchmark programs: the bench modes and seeded random CPIs.
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "core/cpi.hpp"
#include "io/scenario.hpp"
#include "io/sigmf_file.hpp"
#include "pipeline/commands/simulate.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe::bench {

inline const char* kModes[] = {"bench-small", "bench-matx"};

/// configs/<name>.yaml from the source tree.
inline Mode load_bench_mode(int index) {
  return load_mode_file(std::string(RADARPIPE_SOURCE_DIR) + "/configs/" + kModes[index] + ".yaml");
}

/// A simulated ci16 recording of configs/<name>.yaml (one Swerling 1 target at 40% of the
/// instrumented range) in the temporary folder, for the streaming benchmarks: its path, its
/// mode (with `cpis_in_flight` 3) and its LSB.
struct BenchRecording {
  std::string path;
  Mode mode;
  double scale = 1;
};
inline BenchRecording simulate_bench_recording(const std::string& name, std::size_t cpis,
                                               const std::string& tag) {
  BenchRecording r;
  r.mode = load_mode_file(std::string(RADARPIPE_SOURCE_DIR) + "/configs/" + name + ".yaml");
  r.mode.pipeline.cpis_in_flight = 3;
  io::Scenario sc;
  sc.targets = {
      {"t", 0.4 * derive_geometry(r.mode).last_range_m, -20.0, 0.0, 0.0, io::Swerling::One}};
  SimulateOptions so;
  so.cpis = cpis;
  so.datatype = "ci16_le";
  so.output = (std::filesystem::temp_directory_path() /
               ("radarpipe-" + tag + "-" + std::to_string(::getpid()) + "-" + name))
                  .string();
  r.scale = simulate_recording(r.mode, sc, so).scale;
  r.path = so.output;
  return r;
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

inline std::string bench_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/radarpipe-bench";
}

/// A noise recording of `cpis` CPIs of bench mode `mode_index` (ci16_le, no radar extension:
/// give the mode file), made once into $TMPDIR/radarpipe-bench/ and reused while its size fits
/// (bench-matx's 16 CPIs take 1.2 GB).
inline std::string bench_recording(int mode_index, const Mode& m, std::size_t cpis) {
  const std::string base =
      bench_dir() + "/" + kModes[mode_index] + "-" + std::to_string(cpis) + "cpi";
  const std::size_t per_channel = m.processing.pulses * m.radar.range_gates;
  const std::uintmax_t bytes =
      static_cast<std::uintmax_t>(cpis) * per_channel * 4 * m.radar.channels;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(base + ".sigmf-meta") && fs::file_size(base + ".sigmf-data", ec) == bytes)
    return base;
  fs::create_directories(bench_dir());
  io::SigmfMeta meta;
  meta.sample_rate_hz = m.radar.sample_rate_hz;
  meta.num_channels = m.radar.channels;
  meta.captures.push_back(io::SigmfCapture{});
  meta.captures.back().sample_start = 0;
  io::SigmfWriteOptions wo;
  wo.datatype = "ci16_le";
  wo.scale = 1.0 / 2048.0;
  io::SigmfWriter w(base, meta, wo);
  for (std::size_t k = 0; k < cpis; ++k) {
    const Cpi cpi = random_cpi(m, 100 + k);
    w.write(cpi.samples.data(), per_channel, per_channel);
  }
  w.close();
  return base;
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
