#include "kernels/cpu/mti.hpp"

#include <gtest/gtest.h>

#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

std::vector<cf32> random_cube(std::size_t n, std::uint64_t seed) {
  return test::to_cf32(test::complex_noise(n, 1.0, seed));
}

TEST(Mti, OutputPulseCounts) {
  EXPECT_EQ(cpu::mti_output_pulses(MtiMode::None, 8), 8u);
  EXPECT_EQ(cpu::mti_output_pulses(MtiMode::TwoPulse, 8), 7u);
  EXPECT_EQ(cpu::mti_output_pulses(MtiMode::ThreePulse, 8), 6u);
  EXPECT_EQ(cpu::mti_output_pulses(MtiMode::ThreePulse, 2), 0u);
}

// y'[p] = y[p] - y[p-1] and y[p] - 2 y[p-1] + y[p-2], written out per the model.
TEST(Mti, MatchesTheCancellerFormulas) {
  const std::size_t p = 9, n = 13;
  const auto y = random_cube(p * n, 21);
  std::vector<cf32> two((p - 1) * n), three((p - 2) * n);
  cpu::mti(MtiMode::TwoPulse, y.data(), two.data(), p, n);
  cpu::mti(MtiMode::ThreePulse, y.data(), three.data(), p, n);
  for (std::size_t q = 1; q < p; ++q)
    for (std::size_t m = 0; m < n; ++m)
      EXPECT_LT(std::abs(two[(q - 1) * n + m] - (y[q * n + m] - y[(q - 1) * n + m])), 1e-6f);
  for (std::size_t q = 2; q < p; ++q)
    for (std::size_t m = 0; m < n; ++m)
      EXPECT_LT(std::abs(three[(q - 2) * n + m] -
                         (y[q * n + m] - 2.0f * y[(q - 1) * n + m] + y[(q - 2) * n + m])),
                1e-5f);
}

// Zero-Doppler clutter (the same return on every pulse) is cancelled; a linear drift in
// slow time is cancelled by the three-pulse canceller.
TEST(Mti, CancelsStationaryReturns) {
  const std::size_t p = 16, n = 5;
  std::vector<cf32> stat(p * n), ramp(p * n);
  for (std::size_t q = 0; q < p; ++q)
    for (std::size_t m = 0; m < n; ++m) {
      stat[q * n + m] = cf32(3.0f + static_cast<float>(m), -1.0f);
      ramp[q * n + m] = cf32(static_cast<float>(q), 2.0f * static_cast<float>(q));
    }
  std::vector<cf32> out(p * n);
  cpu::mti(MtiMode::TwoPulse, stat.data(), out.data(), p, n);
  for (std::size_t i = 0; i < (p - 1) * n; ++i) EXPECT_EQ(out[i], cf32(0, 0));
  cpu::mti(MtiMode::ThreePulse, ramp.data(), out.data(), p, n);
  for (std::size_t i = 0; i < (p - 2) * n; ++i) EXPECT_EQ(out[i], cf32(0, 0));
}

}  // namespace
}  // namespace radarpipe
