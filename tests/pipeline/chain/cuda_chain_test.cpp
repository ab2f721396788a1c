// The CUDA chain against the CPU chain (CTest label gpu): each stage on seeded random CPIs and
// maps, within stated float32 tolerances; the whole chain on simulated scenarios, with
// identical detections (same cells, same count); all CFAR variants; 1, 2 and 16 channels; odd
// sizes. Every test skips with the reason when no CUDA device is present.
#include "pipeline/chain/cuda_chain.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/radar_math.hpp"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device.cuh"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/config/mode_file.hpp"
#include "tests/support/chain_helpers.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

using test::Target;

class CudaChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::DeviceScan scan = cuda::scan_devices();
    if (scan.devices.empty()) GTEST_SKIP() << "no CUDA device: " << scan.reason;
  }
};

// 600 gates (7.5 m bins), 100-sample LFM, 64 pulses, M = 64; options below vary it.
Mode small_mode(std::size_t channels = 1, std::size_t gates = 600) {
  return test::small_chain_mode(channels, gates);
}

Cpi random_cpi(const Mode& m, std::uint64_t seed) {
  Cpi cpi(CpiShape{m.radar.channels, m.processing.pulses, m.radar.range_gates});
  cpi.id = seed;
  cpi.timestamp_ns = 1700000000000000000LL + static_cast<std::int64_t>(seed);
  test::add_noise(cpi, 1.0, seed);
  return cpi;
}

Cpi scenario_cpi(const Mode& m, const std::vector<Target>& targets, std::uint64_t seed) {
  Cpi cpi(CpiShape{m.radar.channels, m.processing.pulses, m.radar.range_gates});
  cpi.id = seed;
  cpi.timestamp_ns = 1700000000000000000LL + static_cast<std::int64_t>(seed);
  test::add_echoes(cpi, m.radar, targets, {});
  test::add_noise(cpi, 1.0, seed);
  return cpi;
}

ChainOptions cpu_stages(Stage first, Stage last) {
  ChainOptions o;
  o.threads = 2;
  o.first = first;
  o.last = last;
  return o;
}

CudaChainOptions gpu_stages(Stage first, Stage last) {
  CudaChainOptions o;
  o.first = first;
  o.last = last;
  return o;
}

// max |a - b| / max |b|: the error relative to the signal's scale.
template <class T>
double relative_error(const T* a, const T* b, std::size_t n) {
  double err = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    err = std::max(err, static_cast<double>(std::abs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::abs(b[i])));
  }
  return scale > 0 ? err / scale : err;
}

void expect_same_detections(const DetectionReport& gpu, const DetectionReport& cpu) {
  EXPECT_EQ(gpu.cpi, cpu.cpi);
  EXPECT_EQ(gpu.cells, cpu.cells);
  EXPECT_EQ(gpu.crossings, cpu.crossings);
  EXPECT_EQ(gpu.crossings_dropped, cpu.crossings_dropped);
  EXPECT_EQ(gpu.detections_dropped, cpu.detections_dropped);
  EXPECT_NEAR(gpu.noise_power_db, cpu.noise_power_db, 1e-3);
  ASSERT_EQ(gpu.detections.size(), cpu.detections.size());
  for (std::size_t i = 0; i < cpu.detections.size(); ++i) {
    const Detection& g = gpu.detections[i];
    const Detection& c = cpu.detections[i];
    EXPECT_EQ(g.range_bin, c.range_bin) << i;
    EXPECT_EQ(g.doppler_bin, c.doppler_bin) << i;
    EXPECT_EQ(g.channel, c.channel) << i;
    EXPECT_EQ(g.cells, c.cells) << i;
    EXPECT_NEAR(g.range_m, c.range_m, 1e-3) << i;
    EXPECT_NEAR(g.range_rate_mps, c.range_rate_mps, 1e-3) << i;
    EXPECT_NEAR(g.power_db, c.power_db, 1e-3) << i;
    EXPECT_NEAR(g.snr_db, c.snr_db, 1e-3) << i;
  }
}

// Pulse compression: the compressed cube within 1e-5 of its peak, for odd and prime gate
// counts, a one-sample waveform and one as long as the gate count; 1, 2 and 16 channels.
TEST_F(CudaChainTest, PulseCompressionMatchesCpu) {
  struct Shape {
    std::size_t channels, gates;
    double pulse_width_s;
  };
  for (const Shape& sh : {Shape{1, 600, 5e-6}, Shape{2, 997, 5e-6}, Shape{16, 257, 3e-6},
                          Shape{1, 101, 0.05e-6}, Shape{1, 100, 5e-6}}) {
    Mode m = small_mode(sh.channels, sh.gates);
    m.radar.waveform.pulse_width_s = sh.pulse_width_s;
    if (sh.pulse_width_s < 1e-7) {  // one sample at 20 MHz: a rect pulse
      m.radar.waveform.type = WaveformType::Rect;
      m.processing.range_window.type = WindowType::Rect;
    }
    CpuChain cpu(m, cpu_stages(Stage::PulseCompression, Stage::PulseCompression));
    CudaChain gpu(m, gpu_stages(Stage::PulseCompression, Stage::PulseCompression));
    EXPECT_EQ(gpu.depth(), 1u);  // a segment runs one CPI at a time
    // Twice on the same chain: the second CPI finds the first's buffers (the zero padding of
    // the transforms must have stayed zero).
    for (std::uint64_t rep = 0; rep < 2; ++rep) {
      const Cpi in = random_cpi(m, 5 + sh.gates + 1000 * rep);
      Cpi want(in.shape), got(in.shape);
      double t[kStageCount];
      cpu.run_stages(in.samples.data(), want.samples.data(), in.id, 0, t);
      gpu.run_stages(in.samples.data(), got.samples.data(), in.id, 0, t);
      EXPECT_LT(relative_error(got.samples.data(), want.samples.data(), in.shape.size()), 1e-5)
          << sh.channels << " x " << sh.gates << ", run " << rep;
    }
  }
}

// ci16 input converted on the device gives the cube the CPU computes from the same values.
TEST_F(CudaChainTest, Ci16InputIsConvertedOnTheDevice) {
  const Mode m = small_mode(2, 600);
  const CpiShape shape{2, 64, 600};
  std::vector<std::int16_t> raw(2 * shape.size());
  std::uint32_t x = 12345;
  for (auto& v : raw) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<std::int16_t>(static_cast<std::int32_t>(x >> 16) - 32768);
  }
  const float scale = 1.0f / 4096.0f;
  Cpi in(shape);
  for (std::size_t i = 0; i < shape.size(); ++i)
    in.samples[i] = cf32(raw[2 * i] * scale, raw[2 * i + 1] * scale);
  CpuChain cpu(m);
  const DetectionReport want = cpu.process(in);
  CudaChain gpu(m);
  std::memcpy(gpu.next_input(), raw.data(), raw.size() * sizeof(std::int16_t));
  ChainJob job;
  job.cpi = in.id;
  job.timestamp_ns = in.timestamp_ns;
  job.format = SampleFormat::Ci16;
  job.scale = scale;
  gpu.submit(job);
  const DetectionReport& got = *gpu.collect().report;
  Cpi gpu_cube, cpu_cube(shape);
  gpu.copy_compressed(gpu_cube);
  cpu.compress(in.samples.data(), cpu_cube.samples.data());
  EXPECT_LT(relative_error(gpu_cube.samples.data(), cpu_cube.samples.data(), shape.size()), 1e-5);
  expect_same_detections(got, want);
}

// MTI + window + Doppler FFT + power + combining: maps within 1e-5 of their peak, for every
// MTI, both combinings, an odd FFT size and M > P'.
TEST_F(CudaChainTest, DopplerMatchesCpu) {
  struct Shape {
    std::size_t channels, fft;
    MtiMode mti;
    ChannelCombine combine;
  };
  for (const Shape& sh : {Shape{1, 64, MtiMode::None, ChannelCombine::Noncoherent},
                          Shape{2, 64, MtiMode::TwoPulse, ChannelCombine::Noncoherent},
                          Shape{16, 128, MtiMode::ThreePulse, ChannelCombine::Noncoherent},
                          Shape{2, 75, MtiMode::TwoPulse, ChannelCombine::PerChannel},
                          Shape{16, 64, MtiMode::None, ChannelCombine::PerChannel}}) {
    Mode m = small_mode(sh.channels, 333);
    m.processing.doppler_fft_size = sh.fft;
    m.processing.mti = sh.mti;
    m.processing.channel_combine = sh.combine;
    CpuChain cpu(m, cpu_stages(Stage::Doppler, Stage::Doppler));
    CudaChain gpu(m, gpu_stages(Stage::Doppler, Stage::Doppler));
    const ModeGeometry g = derive_geometry(m);
    const std::size_t cells = g.maps * sh.fft * 333;
    for (std::uint64_t rep = 0; rep < 2; ++rep) {  // twice: the zero-padded rows stay zero
      const Cpi in = random_cpi(m, 17 + sh.fft + 1000 * rep);
      std::vector<float> want(cells), got(cells);
      double t[kStageCount];
      cpu.run_stages(in.samples.data(), want.data(), 0, 0, t);
      gpu.run_stages(in.samples.data(), got.data(), 0, 0, t);
      EXPECT_LT(relative_error(got.data(), want.data(), cells), 1e-5)
          << sh.channels << " channels, M " << sh.fft << ", run " << rep;
    }
  }
}

// CFAR + plots on the same maps: identical crossings and detections for every variant, one
// map and sixteen, including a capacity overflow (the first crossings in (d, m) order kept).
TEST_F(CudaChainTest, CfarAndPlotsMatchCpuOnTheSameMaps) {
  for (CfarType type : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os}) {
    for (std::size_t channels : {std::size_t{1}, std::size_t{16}}) {
      for (std::size_t capacity : {std::size_t{1} << 16, std::size_t{40}}) {
        Mode m = small_mode(channels, 301);
        m.processing.channel_combine = ChannelCombine::PerChannel;
        m.processing.cfar.type = type;
        m.processing.cfar.pfa = 1e-3;
        m.processing.max_crossings = capacity;
        const ModeGeometry g = derive_geometry(m);
        std::vector<float> maps = test::exponential_map(g.maps * 64 * 301, 7 + channels);
        for (std::size_t i = 0; i < maps.size(); i += 101) maps[i] *= 200.0f;  // targets
        CpuChain cpu(m, cpu_stages(Stage::Detection, Stage::Detection));
        CudaChain gpu(m, gpu_stages(Stage::Detection, Stage::Detection));
        SCOPED_TRACE(std::string(to_string(type)) + ", " + std::to_string(channels) +
                     " maps, capacity " + std::to_string(capacity));
        EXPECT_EQ(gpu.crossing_capacity(),
                  std::min(g.maps * capacity, std::max<std::size_t>(capacity, 65536)));
        for (int rep = 0; rep < 2; ++rep) {  // twice: the noise sums and lists start afresh
          if (rep == 1)
            for (float& v : maps) v *= 1.5f;
          double t[kStageCount];
          const DetectionReport want = *cpu.run_stages(maps.data(), nullptr, 3, 4, t);
          const DetectionReport* got = gpu.run_stages(maps.data(), nullptr, 3, 4, t);
          ASSERT_NE(got, nullptr);
          EXPECT_GT(want.crossings, 0u);
          expect_same_detections(*got, want);
        }
      }
    }
  }
}

// The clutter map on the device against the CPU stage: maps whose zero-Doppler rows hold
// ground of a level that differs per gate, a target that arrives and stays, 40 CPIs through the
// warm-up and beyond, 1 and 16 channels per channel and combined, an odd gate count, through
// the detection segment. Identical decisions, counts and detections CPI by CPI, the same state
// after, and the state reloaded into a fresh chain.
TEST_F(CudaChainTest, ClutterMapMatchesCpu) {
  for (std::size_t channels : {std::size_t{1}, std::size_t{16}}) {
    for (ChannelCombine combine : {ChannelCombine::Noncoherent, ChannelCombine::PerChannel}) {
      Mode m = small_mode(channels, 301);
      m.processing.channel_combine = combine;
      m.processing.cfar.pfa = 1e-3;
      m.processing.clutter_map.present = true;
      m.processing.clutter_map.doppler_bins = 2;
      m.processing.clutter_map.time_constant = 6;
      m.processing.clutter_map.pfa = 1e-3;
      m.processing.clutter_map.hold_s = 0.05;
      m.validate();
      const ModeGeometry g = derive_geometry(m);
      SCOPED_TRACE(std::to_string(channels) + " channels, " + to_string(combine));
      CpuChain cpu(m, cpu_stages(Stage::Detection, Stage::Detection));
      CudaChain gpu(m, gpu_stages(Stage::Detection, Stage::Detection));
      for (std::uint64_t k = 0; k < 40; ++k) {
        std::vector<float> maps = test::exponential_map(g.maps * 64 * 301, 100 + k);
        for (std::size_t map = 0; map < g.maps; ++map)
          for (std::size_t d = 30; d <= 34; ++d)
            for (std::size_t n = 0; n < 301; ++n) {
              float& v = maps[(map * 64 + d) * 301 + n];
              v *= 1.0f + 50.0f * static_cast<float>(n % 7 == 0);  // ground
              if (k >= 20 && n == 150) v += 400.0f;                // arrives and stays
            }
        double t[kStageCount];
        const DetectionReport want = *cpu.run_stages(maps.data(), nullptr, k, 4, t);
        const DetectionReport* got = gpu.run_stages(maps.data(), nullptr, k, 4, t);
        ASSERT_NE(got, nullptr);
        expect_same_detections(*got, want);
        EXPECT_EQ(got->map_cells, want.map_cells);
        EXPECT_EQ(got->map_tested, want.map_tested);
        EXPECT_EQ(got->map_crossings, want.map_crossings);
        for (std::size_t i = 0; i < want.detections.size(); ++i)
          EXPECT_EQ(got->detections[i].decided_by, want.detections[i].decided_by) << i;
      }
      const ClutterMapState& a = *cpu.clutter_map();
      const ClutterMapState& b = *gpu.clutter_map();
      EXPECT_EQ(a.mean, b.mean);
      EXPECT_EQ(a.spread, b.spread);
      EXPECT_EQ(a.learned, b.learned);
      EXPECT_EQ(a.run, b.run);
      EXPECT_EQ(a.quiet, b.quiet);
      // Reloaded into a fresh device chain, the state is the same.
      CudaChain again(m, gpu_stages(Stage::Detection, Stage::Detection));
      again.restore_clutter_map(a);
      EXPECT_EQ(again.clutter_map()->mean, a.mean);
      EXPECT_EQ(again.clutter_map()->spread, a.spread);
    }
  }
}

// The CFAR kernel's tiling on the device, in the geometries its launch arithmetic can get
// wrong (the same tiling is emulated on the host in cuda_stage_math_test): Doppler sizes not a
// multiple of the rows per block (the last block's wrapped halo), gate counts that are
// multiples of 32 and of 128 and neither, a window needing more than 48 KB of shared memory at
// 8 rows, one needing more than the opt-in maximum at 8 rows (fewer rows per block), and a
// bench-matx-sized map. Identical crossings and detections to the CPU stage.
TEST_F(CudaChainTest, CfarGeometriesMatchCpu) {
  struct Geometry {
    std::size_t doppler_bins, gates, gr, gd, tr, td;
    CfarType type;
    const char* what;
  };
  const std::vector<Geometry> cases = {
      {61, 600, 2, 1, 8, 4, CfarType::Ca, "M = 61, not a multiple of 8"},
      {67, 333, 1, 1, 4, 2, CfarType::Os, "M = 67, OS"},
      {64, 256, 2, 1, 8, 4, CfarType::Go, "N = 256, a multiple of 128"},
      {64, 96, 1, 1, 4, 2, CfarType::So, "N = 96, a multiple of 32"},
      {64, 600, 4, 4, 40, 12, CfarType::Ca, "a window over 48 KB at 8 rows"},
      {96, 600, 4, 4, 200, 36, CfarType::Ca, "a window over the opt-in maximum at 8 rows"},
      {256, 9000, 2, 1, 8, 4, CfarType::Ca, "bench-matx's map"},
  };
  for (const Geometry& c : cases) {
    SCOPED_TRACE(c.what);
    Mode m = small_mode(1, c.gates);
    m.processing.pulses = std::min<std::size_t>(64, c.doppler_bins);
    m.processing.doppler_fft_size = c.doppler_bins;
    m.processing.cfar.type = c.type;
    m.processing.cfar.guard_range = c.gr;
    m.processing.cfar.guard_doppler = c.gd;
    m.processing.cfar.train_range = c.tr;
    m.processing.cfar.train_doppler = c.td;
    m.processing.cfar.pfa = 1e-3;
    std::vector<float> maps = test::exponential_map(c.doppler_bins * c.gates, 31 + c.gates);
    for (std::size_t i = 0; i < maps.size(); i += 97) maps[i] *= 300.0f;
    CpuChain cpu(m, cpu_stages(Stage::Detection, Stage::Detection));
    CudaChain gpu(m, gpu_stages(Stage::Detection, Stage::Detection));
    double t[kStageCount];
    const DetectionReport want = *cpu.run_stages(maps.data(), nullptr, 1, 2, t);
    const DetectionReport* got = gpu.run_stages(maps.data(), nullptr, 1, 2, t);
    ASSERT_NE(got, nullptr);
    EXPECT_GT(want.crossings, 0u);
    expect_same_detections(*got, want);
  }
}

// One bench-matx CPI (16 x 128 x 9000, 1000-sample LFM, M = 256) with targets through both
// whole chains: the same detections.
TEST_F(CudaChainTest, BenchMatxCpiGivesTheSameDetections) {
  const char* src = std::getenv("RADARPIPE_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  Mode m = load_mode_file(std::string(src) + "/configs/bench-matx.yaml");
  m.processing.fft_planning = FftPlanning::Estimate;
  const Cpi cpi = scenario_cpi(m, {{2000.0, 30.0, 0.2, 0.0}, {9000.0, -60.0, 0.2, 0.0}}, 77);
  CpuChain cpu(m);
  CudaChain gpu(m);
  const DetectionReport want = cpu.process(cpi);
  EXPECT_GE(want.detections.size(), 2u);
  expect_same_detections(gpu.process(cpi), want);
}

// The whole chain on scenarios: the same detections as the CPU chain, for every CFAR variant,
// 1, 2 and 16 channels and an odd gate count.
TEST_F(CudaChainTest, WholeChainMatchesCpuOnScenarios) {
  const std::vector<Target> targets = {{1234.5, 20.3, 0.6, 0.3},
                                       {2200.0, -35.1, 0.6, 1.1},
                                       {3000.7, 5.0, 0.8, 2.0},
                                       {1900.2, -61.7, 0.5, 0.0}};
  for (CfarType type : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os}) {
    for (std::size_t channels : {std::size_t{1}, std::size_t{2}, std::size_t{16}}) {
      Mode m = small_mode(channels, channels == 2 ? 611 : 600);
      m.processing.cfar.type = type;
      if (channels == 16) m.processing.channel_combine = ChannelCombine::PerChannel;
      CpuChain cpu(m);
      CudaChain gpu(m);
      for (std::uint64_t seed : {1u, 2u}) {
        const Cpi cpi = scenario_cpi(m, targets, seed + 10 * channels);
        const DetectionReport want = cpu.process(cpi);
        SCOPED_TRACE(std::string(to_string(type)) + ", " + std::to_string(channels) +
                     " channels, seed " + std::to_string(seed));
        EXPECT_GE(want.detections.size(), channels == 16 ? 16 * 3u : 3u);
        expect_same_detections(gpu.process(cpi), want);
      }
    }
  }
}

// Two CPIs in flight: submit / collect gives the same reports, in order, as one at a time.
TEST_F(CudaChainTest, PipelinedCpisComeBackInOrderAndUnchanged) {
  const Mode m = small_mode(2, 600);
  CpuChain cpu(m);
  CudaChain gpu(m);
  ASSERT_EQ(gpu.slots(), 2u);
  std::vector<Cpi> cpis;
  for (std::uint64_t i = 0; i < 5; ++i)
    cpis.push_back(
        scenario_cpi(m, {{1500.0 + 100.0 * static_cast<double>(i), 10.0, 1.0, 0.0}}, 40 + i));
  std::size_t next = 0;
  for (const Cpi& c : cpis) {
    if (gpu.in_flight() == gpu.slots()) {
      expect_same_detections(*gpu.collect().report, cpu.process(cpis[next++]));
    }
    gpu.submit(c);
  }
  EXPECT_THROW(gpu.submit(cpis[0]), std::logic_error);
  EXPECT_THROW(gpu.next_input(), std::logic_error);  // every slot's pinned buffer is in use
  while (gpu.in_flight() > 0)
    expect_same_detections(*gpu.collect().report, cpu.process(cpis[next++]));
  EXPECT_EQ(next, cpis.size());
  const CudaStageTimes& t = gpu.last_stage_times();
  EXPECT_GT(t.pulse_compression_ms, 0.0);
  EXPECT_GT(t.doppler_ms, 0.0);
  EXPECT_GT(t.cfar_ms, 0.0);
  EXPECT_THROW(gpu.collect(), std::logic_error);
}

TEST_F(CudaChainTest, BadInputAndBadDeviceAreNamed) {
  const Mode m = small_mode();
  CudaChain gpu(m);
  Cpi wrong(CpiShape{1, 64, 599});
  try {
    gpu.process(wrong);
    FAIL() << "no error for a CPI of the wrong shape";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("1x64x599"), std::string::npos) << e.what();
  }
  CudaChainOptions o;
  o.device = 99;
  try {
    CudaChain bad(m, o);
    FAIL() << "no error for device 99";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("device 99"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace radarpipe
