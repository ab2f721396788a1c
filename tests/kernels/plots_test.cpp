#include "kernels/cpu/plots.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace radarpipe {
namespace {

constexpr double kC = 299792458.0;

struct Fixture {
  std::size_t md = 16, n = 50;
  std::vector<float> map = std::vector<float>(16 * 50, 1.0f);
  std::vector<cpu::CfarCrossing> xs;
  cpu::PlotConfig cfg() const {
    cpu::PlotConfig c;
    c.doppler_bins = md;
    c.gates = n;
    c.first_eclipsed_bin = 45;
    c.window_start_s = 2e-6;
    c.sample_rate_hz = 10e6;
    c.prf_hz = 5000;
    c.wavelength_m = 0.03;
    c.max_crossings = 1000;
    return c;
  }
  void cross(std::size_t d, std::size_t m, float p) {
    map[d * n + m] = p;
    xs.push_back({static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(m), p, 1.0f});
  }
  void sort() {
    std::sort(xs.begin(), xs.end(), [](const auto& a, const auto& b) {
      return a.doppler_bin != b.doppler_bin ? a.doppler_bin < b.doppler_bin
                                            : a.range_bin < b.range_bin;
    });
  }
  std::vector<Detection> run(std::size_t capacity = 100, std::size_t* dropped = nullptr) {
    sort();
    cpu::PlotExtractor pe(cfg());
    std::vector<Detection> out;
    out.reserve(capacity);
    const auto r = pe.extract(xs.data(), xs.size(), map.data(), -1, out);
    if (dropped) *dropped = r.dropped;
    return out;
  }
};

TEST(Plots, SeparateBlobsGiveOneDetectionEach) {
  Fixture f;
  f.cross(3, 10, 50);
  f.cross(3, 11, 80);
  f.cross(4, 11, 60);
  f.cross(9, 30, 40);
  f.cross(9, 32, 45);  // not adjacent to (9, 30): one empty cell between
  const auto dets = f.run();
  ASSERT_EQ(dets.size(), 3u);
  EXPECT_EQ(dets[0].range_bin, 11);
  EXPECT_EQ(dets[0].doppler_bin, 3);
  EXPECT_EQ(dets[0].cells, 3u);
  EXPECT_EQ(dets[0].range_extent_bins, 2u);
}

TEST(Plots, DiagonalNeighboursAreOneCluster) {
  Fixture f;
  f.cross(5, 20, 30);
  f.cross(6, 21, 90);
  f.cross(7, 20, 30);
  f.cross(8, 19, 30);
  const auto dets = f.run();
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].doppler_bin, 6);
  EXPECT_EQ(dets[0].cells, 4u);
}

TEST(Plots, ClustersConnectAcrossTheDopplerWrap) {
  Fixture f;
  f.cross(0, 25, 70);
  f.cross(15, 26, 90);  // last row, diagonal to (0, 25) through the wrap
  f.cross(14, 26, 20);
  const auto dets = f.run();
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0].doppler_bin, 15);
  EXPECT_EQ(dets[0].cells, 3u);
}

TEST(Plots, RangeEdgesDoNotConnect) {
  Fixture f;
  f.cross(4, 0, 20);
  f.cross(5, 49, 20);  // far edge: range does not wrap
  EXPECT_EQ(f.run().size(), 2u);
}

// On a Gaussian peak, log power is exactly a parabola, so the dB fit recovers the offsets.
TEST(Plots, ParabolicInterpolationRecoversSubBinPeak) {
  Fixture f;
  const double m0 = 22.3, d0 = 7.8, sm = 1.3, sd = 0.9;
  for (std::size_t d = 0; d < f.md; ++d)
    for (std::size_t m = 0; m < f.n; ++m)
      f.map[d * f.n + m] =
          1000.0f *
          std::exp(static_cast<float>(-0.5 * std::pow((static_cast<double>(m) - m0) / sm, 2) -
                                      0.5 * std::pow((static_cast<double>(d) - d0) / sd, 2)));
  f.xs.push_back({8, 22, f.map[8 * f.n + 22], 1.0f});
  const auto dets = f.run();
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_NEAR(dets[0].range_bin_frac, m0, 1e-4);
  EXPECT_NEAR(dets[0].doppler_bin_frac, d0, 1e-4);
  // Physical units from the model's mappings, evaluated here.
  const auto c = f.cfg();
  EXPECT_NEAR(dets[0].range_m, kC * (c.window_start_s + m0 / c.sample_rate_hz) / 2, 0.02);
  const double fd = (d0 - 8.0) * c.prf_hz / 16.0;
  EXPECT_NEAR(dets[0].doppler_hz, fd, 0.05);
  EXPECT_NEAR(dets[0].range_rate_mps, -fd * c.wavelength_m / 2, 1e-3);
  EXPECT_NEAR(dets[0].snr_db, 10 * std::log10(f.map[8 * f.n + 22]), 1e-4);
  EXPECT_FALSE(dets[0].eclipsed);
}

TEST(Plots, RangeOffsetShiftsTheDelayEstimate) {
  Fixture f;
  f.cross(2, 30, 50);
  cpu::PlotConfig c = f.cfg();
  c.range_offset_bins = -0.5;
  cpu::PlotExtractor pe(c);
  std::vector<Detection> out;
  out.reserve(4);
  pe.extract(f.xs.data(), f.xs.size(), f.map.data(), -1, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].range_bin, 30);
  EXPECT_DOUBLE_EQ(out[0].range_bin_frac, 29.5);
  EXPECT_NEAR(out[0].range_m, kC * (c.window_start_s + 29.5 / c.sample_rate_hz) / 2, 1e-9);
}

TEST(Plots, PeakInLastBinsIsFlaggedEclipsed) {
  Fixture f;
  f.cross(2, 47, 50);
  const auto dets = f.run();
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_TRUE(dets[0].eclipsed);
}

TEST(Plots, DetectionsBeyondCapacityAreCounted) {
  Fixture f;
  for (std::size_t i = 0; i < 5; ++i) f.cross(2 * i, 3 * i + 1, 10);
  std::size_t dropped = 0;
  const auto dets = f.run(2, &dropped);
  EXPECT_EQ(dets.size(), 2u);
  EXPECT_EQ(dropped, 3u);
}

TEST(Plots, RepeatedCallsGiveTheSameResult) {
  Fixture f;
  f.cross(3, 10, 50);
  f.cross(3, 11, 80);
  f.sort();
  cpu::PlotExtractor pe(f.cfg());
  std::vector<Detection> a, b;
  a.reserve(10);
  b.reserve(10);
  pe.extract(f.xs.data(), f.xs.size(), f.map.data(), 2, a);
  pe.extract(f.xs.data(), f.xs.size(), f.map.data(), 2, b);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].range_bin_frac, b[0].range_bin_frac);
  EXPECT_EQ(a[0].channel, 2);
}

}  // namespace
}  // namespace radarpipe
