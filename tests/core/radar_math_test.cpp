// The shared per-element math (core/radar_math.hpp), compiled for the host here and
// for the device in kernels/cuda/shared_math.cu.
#include "core/radar_math.hpp"

#include <gtest/gtest.h>

namespace radarpipe {
namespace {

TEST(RadarMath, RangeOfBinIsHalfTheRoundTrip) {
  EXPECT_DOUBLE_EQ(range_of_bin_m(0, 0, 20e6), 0.0);
  EXPECT_NEAR(range_of_bin_m(1, 0, 20e6), 299792458.0 / 40e6, 1e-9);
  EXPECT_NEAR(range_of_bin_m(100.5, 5e-6, 10e6), 299792458.0 * (5e-6 + 100.5 / 10e6) / 2, 1e-9);
  EXPECT_NEAR(bin_of_range(range_of_bin_m(123.25, 3e-6, 7e6), 3e-6, 7e6), 123.25, 1e-9);
}

TEST(RadarMath, DopplerBinsMapAroundZeroAtHalfM) {
  EXPECT_DOUBLE_EQ(doppler_of_bin_hz(64, 128, 1e4), 0.0);
  EXPECT_DOUBLE_EQ(doppler_of_bin_hz(0, 128, 1e4), -5e3);
  EXPECT_DOUBLE_EQ(doppler_of_bin_hz(3, 7, 7e3), 0.0);  // odd M: zero Doppler at floor(M/2)
  for (double f : {-4999.0, -1234.5, 0.0, 77.7, 4900.0})
    EXPECT_NEAR(doppler_of_bin_hz(bin_of_doppler(f, 128, 1e4), 128, 1e4), f, 1e-9);
  // A Doppler beyond PRF/2 aliases.
  EXPECT_NEAR(bin_of_doppler(1e4 + 100.0, 128, 1e4), bin_of_doppler(100.0, 128, 1e4), 1e-9);
}

TEST(RadarMath, RecedingTargetsHaveNegativeDoppler) {
  EXPECT_LT(doppler_of_range_rate_hz(10.0, 0.03), 0.0);
  EXPECT_NEAR(doppler_of_range_rate_hz(15.0, 0.03), -1000.0, 1e-9);
  EXPECT_NEAR(range_rate_of_doppler_mps(doppler_of_range_rate_hz(-7.5, 0.031), 0.031), -7.5, 1e-12);
}

TEST(RadarMath, ParabolicOffsetOnExactParabolas) {
  for (double x0 : {-0.45, -0.2, 0.0, 0.1, 0.49}) {
    auto f = [&](double x) { return 5.0 - 2.0 * (x - x0) * (x - x0); };
    EXPECT_NEAR(parabolic_offset(f(-1), f(0), f(1)), x0, 1e-12);
  }
  EXPECT_EQ(parabolic_offset(1, 1, 1), 0.0);       // flat
  EXPECT_EQ(parabolic_offset(2, 1, 2), 0.0);       // a minimum, not a peak
  EXPECT_EQ(parabolic_offset(0, 1, 100), 0.0);     // concave-up: no peak between
  EXPECT_EQ(parabolic_offset(12, 10, -50), -0.5);  // clamped
}

TEST(RadarMath, MtiTaps) {
  float t[3];
  EXPECT_EQ(mti_taps(0, t), 0);
  EXPECT_EQ(mti_taps(1, t), 1);
  EXPECT_EQ(t[0] + t[1], 0.0f);
  EXPECT_EQ(mti_taps(2, t), 2);
  EXPECT_EQ(t[0] + t[1] + t[2], 0.0f);
  EXPECT_EQ(t[1], -2.0f);
}

}  // namespace
}  // namespace radarpipe
