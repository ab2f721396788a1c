// End to end on the CPU: echoes written from the model by the test's own generator, through the
// whole chain, must come out as one detection per target at the right range and velocity.
#include "pipeline/chain/cpu_chain.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "core/radar_math.hpp"
#include "kernels/cpu/window.hpp"
#include "tests/support/chain_helpers.hpp"
#include "tests/support/reference.hpp"

// Allocation counter for the "process() never allocates" test: every operator new in this test
// program goes through here.
#pragma GCC diagnostic ignored \
    "-Wmismatched-new-delete"  // new and delete are both malloc/free here
static std::atomic<bool> g_counting{false};
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace radarpipe {
namespace {

using test::workers;

using test::Target;

// A small X-band mode: 600 gates at 20 MHz (7.5 m bins), 100-sample LFM, 64 pulses, M = 64.
Mode small_mode() {
  return test::small_chain_mode();
}

double amplitude_for_snr_db(double snr_db) {
  return std::sqrt(std::pow(10.0, snr_db / 10.0));
}

Cpi make_cpi(const Mode& m, const std::vector<Target>& targets, std::uint64_t seed,
             const std::vector<test::cd>& gains = {}) {
  Cpi cpi(CpiShape{m.radar.channels, m.processing.pulses, m.radar.range_gates});
  cpi.id = seed;
  cpi.timestamp_ns = 1700000000000000000LL + static_cast<std::int64_t>(seed);
  test::add_echoes(cpi, m.radar, targets, gains);
  test::add_noise(cpi, 1.0, seed);
  return cpi;
}

double wrap_velocity(double dv, double span) {
  return dv - span * std::round(dv / span);
}

// Each target found exactly once, within half a range bin and half a velocity bin.
void expect_targets(const CpuChain& chain, const DetectionReport& rep,
                    const std::vector<Target>& targets, int channel = -1) {
  const ModeGeometry& g = chain.geometry();
  std::size_t matched = 0;
  for (const Target& t : targets) {
    int found = 0;
    for (const Detection& d : rep.detections) {
      if (d.channel != channel) continue;
      if (std::abs(d.range_m - t.range_m) > 3 * g.range_resolution_m) continue;
      if (std::abs(wrap_velocity(d.range_rate_mps - t.range_rate_mps, g.velocity_span_mps)) >
          3 * g.velocity_bin_mps)
        continue;
      ++found;
      EXPECT_LE(std::abs(d.range_m - t.range_m), 0.5 * g.range_bin_m)
          << "target at " << t.range_m << " m";
      EXPECT_LE(std::abs(wrap_velocity(d.range_rate_mps - t.range_rate_mps, g.velocity_span_mps)),
                0.5 * g.velocity_bin_mps)
          << "target at " << t.range_rate_mps << " m/s";
    }
    EXPECT_EQ(found, 1) << "target at " << t.range_m << " m, " << t.range_rate_mps << " m/s";
    matched += found == 1;
  }
  // Anything else is a noise false alarm: at most one (the modes run Pfa 1e-6 on ~4e4 cells,
  // with thresholds calibrated for the window-correlated cells, docs/signal-chain.md).
  // A split or sidelobe detection near a target would have matched above and failed found == 1.
  std::size_t on_channel = 0;
  for (const Detection& d : rep.detections) on_channel += d.channel == channel;
  EXPECT_LE(on_channel, matched + 1) << "detections that match no target";
}

// The buffers the stages stream (CPI cubes, the compressed cube, maps) start on a 2 MiB
// boundary, so that transparent huge pages can back them whole; small ones on a cache line.
// Both come zeroed, at their full size.
TEST(AlignedBuffer, LargeBuffersStartOnHugePageBoundaries) {
  for (std::size_t n :
       {std::size_t{1}, std::size_t{1000}, (std::size_t{4} << 20) / sizeof(cf32) - 1,
        (std::size_t{4} << 20) / sizeof(cf32), std::size_t{18432000}}) {
    AlignedBuffer<cf32> b(n);
    ASSERT_EQ(b.size(), n);
    const auto addr = reinterpret_cast<std::uintptr_t>(b.data());
    const bool large = n * sizeof(cf32) >= (std::size_t{4} << 20);
    EXPECT_EQ(addr % (large ? (std::size_t{2} << 20) : 64), 0u) << n << " samples at " << addr;
    EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](cf32 v) { return v == cf32(0.0f, 0.0f); })) << n;
    b[n - 1] = cf32(1.0f, -1.0f);  // the last element is ours to write
    AlignedBuffer<cf32> moved(std::move(b));
    EXPECT_EQ(moved.data(), reinterpret_cast<cf32*>(addr));
    EXPECT_EQ(moved[n - 1], cf32(1.0f, -1.0f));
    EXPECT_EQ(b.data(), nullptr);
  }
}

TEST(Chain, TargetsAreReportedOnceAtTheirRangeAndVelocity) {
  const Mode m = small_mode();
  CpuChain chain(m);
  const double a = amplitude_for_snr_db(-5.0);
  const std::vector<Target> targets = {{1234.5, 20.3, a, 0.3},
                                       {2200.0, -35.1, a, 1.1},
                                       {3000.7, 5.0, a, 2.0},
                                       {1900.2, -61.7, a, 0.0}};
  const DetectionReport& rep = chain.process(make_cpi(m, targets, 1));
  expect_targets(chain, rep, targets);
  EXPECT_EQ(rep.cpi, 1u);
  EXPECT_EQ(rep.cells, 600u * 64u);
  EXPECT_EQ(rep.crossings_dropped, 0u);
}

// Near the range edges (first bins; last full-gain bin; inside the eclipsed zone, flagged) and
// near +/- the unambiguous velocity, where the Doppler mainlobe wraps around the map.
TEST(Chain, TargetsNearRangeEdgesAndVelocityLimits) {
  const Mode m = small_mode();
  CpuChain chain(m);
  const ModeGeometry& g = chain.geometry();
  const double a = amplitude_for_snr_db(0.0);
  const double vmax = g.velocity_span_mps / 2;
  const std::vector<Target> targets = {
      {range_of_bin_m(3.3, 0, 20e6), 10.0, a, 0.0},
      {range_of_bin_m(double(g.first_eclipsed_bin) - 2.6, 0, 20e6), -20.0, a, 0.0},
      {2000.0, vmax - 0.4 * g.velocity_bin_mps, a, 0.0},
      {2600.0, -vmax + 0.3 * g.velocity_bin_mps, a, 0.0}};
  // Inside the eclipsed tail only 40 of the 100 pulse samples are recorded: the response is
  // wider and its peak biased, so it must be found and flagged, within a bin rather than half.
  const Target eclipsed{range_of_bin_m(560.2, 0, 20e6), 30.0, a * 2, 0.0};
  std::vector<Target> all = targets;
  all.push_back(eclipsed);
  const DetectionReport& rep = chain.process(make_cpi(m, all, 2));
  expect_targets(chain, rep, targets);
  int found = 0;
  for (const Detection& d : rep.detections) {
    EXPECT_EQ(d.eclipsed, d.range_bin >= 501) << d.range_m;
    if (std::abs(d.range_m - eclipsed.range_m) < 3 * g.range_resolution_m) {
      ++found;
      EXPECT_TRUE(d.eclipsed);
      EXPECT_LE(std::abs(d.range_m - eclipsed.range_m), g.range_bin_m);
    }
  }
  EXPECT_EQ(found, 1);
}

// Noise of variance 1 per input sample stays at 0 dB through both unit-energy stages, and a
// target's SNR estimate matches the model's coherent gain (window losses included).
TEST(Chain, NoiseLevelAndSnrFollowTheNormalisation) {
  const Mode m = small_mode();
  CpuChain chain(m);
  const DetectionReport& noise = chain.process(make_cpi(m, {}, 3));
  EXPECT_NEAR(noise.noise_power_db, 0.0, 0.1);
  EXPECT_LE(noise.detections.size(), 2u);  // Pfa 1e-6 on 38400 cells: expect 0.04

  const double snr_in_db = -12.0;
  // Bin-centred target: range bin 200 exactly, Doppler bin centre.
  const ModeGeometry& g = chain.geometry();
  const Target t{range_of_bin_m(200.0, 0, 20e6), 10 * g.velocity_bin_mps,
                 amplitude_for_snr_db(snr_in_db), 0.0};
  auto gain = [](const std::vector<double>& w) {
    double s = 0, e = 0;
    for (double v : w) s += v, e += v * v;
    return s * s / e;
  };
  const double expected =
      snr_in_db + 10 * std::log10(gain(cpu::make_window(m.processing.range_window, 100)) *
                                  gain(cpu::make_window(m.processing.doppler_window, 64)));
  const DetectionReport& rep = chain.process(make_cpi(m, {t}, 4));
  ASSERT_EQ(rep.detections.size(), 1u);
  EXPECT_NEAR(rep.detections[0].snr_db, expected, 1.5);
}

TEST(Chain, TwoChannelsNoncoherentAndPerChannel) {
  Mode m = small_mode();
  m.radar.channels = 2;
  const std::vector<test::cd> gains = {1.0, std::polar(0.7, 1.1)};
  const double a = amplitude_for_snr_db(-6.0);
  const std::vector<Target> targets = {{1500.0, 12.0, a, 0.0}, {2700.3, -44.0, a, 0.5}};
  const Cpi cpi = make_cpi(m, targets, 5, gains);
  {
    CpuChain chain(m);
    expect_targets(chain, chain.process(cpi), targets, -1);
  }
  m.processing.channel_combine = ChannelCombine::PerChannel;
  CpuChain chain(m);
  const DetectionReport& rep = chain.process(cpi);
  expect_targets(chain, rep, targets, 0);
  expect_targets(chain, rep, targets, 1);
  EXPECT_EQ(rep.cells, 2u * 600u * 64u);
}

// A strong zero-Doppler clutter return is detected without MTI and gone with it; a moving target
// survives both cancellers.
TEST(Chain, MtiRemovesZeroDopplerClutterAndKeepsMovers) {
  Mode m = small_mode();
  const ModeGeometry g0 = derive_geometry(m);
  const Target clutter{1800.0, 0.0, amplitude_for_snr_db(25.0), 0.4};
  const Target mover{2500.0, -g0.velocity_span_mps / 4, amplitude_for_snr_db(-5.0), 0.0};
  auto near_clutter = [&](const DetectionReport& r) {
    int n = 0;
    for (const Detection& d : r.detections) n += std::abs(d.range_m - clutter.range_m) < 30.0;
    return n;
  };
  {
    CpuChain chain(m);
    const DetectionReport& rep = chain.process(make_cpi(m, {clutter, mover}, 6));
    EXPECT_GE(near_clutter(rep), 1);
  }
  for (MtiMode mti : {MtiMode::TwoPulse, MtiMode::ThreePulse}) {
    m.processing.mti = mti;
    m.processing.doppler_fft_size = 64;
    CpuChain chain(m);
    const DetectionReport& rep = chain.process(make_cpi(m, {clutter, mover}, 6));
    EXPECT_EQ(near_clutter(rep), 0) << to_string(mti);
    expect_targets(chain, rep, {mover});
  }
}

TEST(Chain, BarkerWaveformAndOtherCfarVariants) {
  Mode m = small_mode();
  m.radar.waveform = WaveformConfig{};
  m.radar.waveform.type = WaveformType::Barker;
  m.radar.waveform.barker_length = 13;
  m.radar.waveform.chip_width_s = 0.4e-6;  // 8 samples per chip
  m.processing.range_window = WindowConfig{WindowType::Rect};
  // Barker-13 range sidelobes sit 22.3 dB under the peak: a target 25 dB over the noise after
  // integration keeps them under the CFAR threshold (11.5 dB).
  const double a = amplitude_for_snr_db(-12.5);
  const std::vector<Target> targets = {{900.0, 15.0, a, 0.0}, {2100.0, -25.0, a, 1.0}};
  for (CfarType t : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os}) {
    m.processing.cfar.type = t;
    CpuChain chain(m);
    SCOPED_TRACE(to_string(t));
    expect_targets(chain, chain.process(make_cpi(m, targets, 7)), targets);
  }
  // A rect pulse: piecewise constant too, so the same half-sample delay correction applies.
  // 2 samples long, so its triangular response (+/- 2 bins) stays inside the guard cells.
  m.processing.cfar.type = CfarType::Ca;
  m.radar.waveform.type = WaveformType::Rect;
  m.radar.waveform.pulse_width_s = 0.1e-6;
  const double ar = amplitude_for_snr_db(10.0);
  const std::vector<Target> rect_targets = {{1207.7, 8.0, ar, 0.0}, {2951.1, -31.0, ar, 0.0}};
  CpuChain chain(m);
  expect_targets(chain, chain.process(make_cpi(m, rect_targets, 10)), rect_targets);
}

// Four channels combined noncoherently: each map cell sums four looks, and the chain passes that
// to the CFAR, so noise alone crosses at the design rate (with the one-look threshold it would
// be ~0). Rect windows; the 2x range oversampling still correlates neighbouring cells a little,
// hence the asymmetric band (docs/signal-chain.md, "Measured false-alarm rate").
TEST(Chain, NoncoherentChannelsKeepTheDesignPfa) {
  Mode m = small_mode();
  m.radar.channels = 4;
  m.processing.range_window = WindowConfig{WindowType::Rect};
  m.processing.doppler_window = WindowConfig{WindowType::Rect};
  m.processing.cfar.pfa = 1e-3;
  CpuChain chain(m);
  std::uint64_t cells = 0, crossings = 0;
  for (std::uint64_t i = 0; i < 8; ++i) {
    const DetectionReport& r = chain.process(make_cpi(m, {}, 100 + i));
    cells += r.cells;
    crossings += r.crossings;
  }
  const double rate = double(crossings) / double(cells);
  EXPECT_GT(rate, 0.8e-3);
  EXPECT_LT(rate, 1.4e-3);
}

TEST(Chain, ThreadCountDoesNotChangeDetections) {
  const Mode m = small_mode();
  const double a = amplitude_for_snr_db(-8.0);
  const Cpi cpi = make_cpi(m, {{1000.0, 3.0, a, 0.0}, {2000.0, -9.0, a, 0.0}}, 8);
  CpuChain one(m, workers(1, 32));
  CpuChain three(m, workers(3, 7));
  const DetectionReport a1 = one.process(cpi);
  const DetectionReport& a3 = three.process(cpi);
  ASSERT_EQ(a1.detections.size(), a3.detections.size());
  for (std::size_t i = 0; i < a1.detections.size(); ++i) {
    EXPECT_EQ(a1.detections[i].range_bin, a3.detections[i].range_bin);
    EXPECT_EQ(a1.detections[i].doppler_bin, a3.detections[i].doppler_bin);
    EXPECT_DOUBLE_EQ(a1.detections[i].range_m, a3.detections[i].range_m);
  }
  EXPECT_EQ(a1.crossings, a3.crossings);
}

// process() runs pulse compression and Doppler through range tiles (compress_doppler); the stages
// one by one through the row layout must give bit-identical maps, for both combinings and a tile
// width that is not a multiple of the cache line.
TEST(Chain, RangeTiledPairMatchesTheStagesOneByOne) {
  Mode m = small_mode();
  m.radar.channels = 3;
  m.processing.mti = MtiMode::TwoPulse;
  for (ChannelCombine c : {ChannelCombine::Noncoherent, ChannelCombine::PerChannel}) {
    m.processing.channel_combine = c;
    for (std::size_t tile : {32, 7}) {
      CpuChain chain(m, workers(2, tile));
      const Cpi cpi = make_cpi(m, {{1500.0, 12.0, 1.0, 0.0}}, 10);
      Cpi compressed(cpi.shape);
      PowerMap one_by_one(chain.power().maps, chain.power().doppler_bins, chain.power().gates);
      chain.compress(cpi.samples.data(), compressed.samples.data());
      chain.doppler(compressed.samples.data(), one_by_one.data.data());
      chain.process(cpi);
      ASSERT_EQ(chain.power().data.size(), one_by_one.data.size());
      EXPECT_TRUE(
          std::equal(one_by_one.data.begin(), one_by_one.data.end(), chain.power().data.begin()))
          << to_string(c) << " tile " << tile;
    }
  }
}

// run_stages over the whole chain (a streaming segment holding every stage) reports what
// process() reports and times each stage, the pulse-compression / Doppler pair included.
TEST(Chain, RunStagesTimesEveryStageAndMatchesProcess) {
  const Mode m = small_mode();
  const Cpi cpi = make_cpi(m, {{1500.0, 12.0, 1.0, 0.0}, {2500.0, -20.0, 1.0, 0.0}}, 11);
  CpuChain chain(m);
  const DetectionReport want = chain.process(cpi);
  double seconds[kStageCount] = {-1.0, -1.0, -1.0};
  const DetectionReport* got =
      chain.run_stages(cpi.samples.data(), nullptr, cpi.id, cpi.timestamp_ns, seconds);
  ASSERT_NE(got, nullptr);
  ASSERT_EQ(got->detections.size(), want.detections.size());
  for (std::size_t i = 0; i < want.detections.size(); ++i)
    EXPECT_DOUBLE_EQ(got->detections[i].range_m, want.detections[i].range_m);
  EXPECT_EQ(got->crossings, want.crossings);
  for (int s = 0; s < kStageCount; ++s) EXPECT_GT(seconds[s], 0.0) << to_string(Stage(s));
}

TEST(Chain, ProcessDoesNotAllocate) {
  Mode m = small_mode();
  m.radar.channels = 2;
  for (bool map : {false, true})  // with a clutter map, past its warm-up in the counted CPIs
    for (ChannelCombine c : {ChannelCombine::Noncoherent, ChannelCombine::PerChannel}) {
      m.processing.channel_combine = c;
      m.processing.clutter_map.present = map;
      m.processing.clutter_map.time_constant = 1;
      CpuChain chain(m, workers(2, 32));
      const Cpi cpi = make_cpi(m, {{1500.0, 12.0, 1.0, 0.0}}, 9);
      chain.process(cpi);  // first call: nothing left to allocate either, but be generous
      g_allocations = 0;
      g_counting = true;
      std::uint64_t tested = 0;
      for (int i = 0; i < 3; ++i) tested += chain.process(cpi).map_tested;
      g_counting = false;
      EXPECT_EQ(g_allocations.load(), 0) << to_string(c) << (map ? ", clutter map" : "");
      EXPECT_EQ(tested > 0, map);
    }
}

TEST(Chain, RejectsCpiOfWrongShape) {
  const Mode m = small_mode();
  CpuChain chain(m);
  Cpi wrong(CpiShape{1, 64, 599});
  EXPECT_THROW(chain.process(wrong), std::invalid_argument);
}

TEST(Chain, RejectsInvalidMode) {
  Mode m = small_mode();
  m.processing.cfar.pfa = 2.0;
  EXPECT_THROW(CpuChain{m}, ConfigError);
}

}  // namespace
}  // namespace radarpipe
