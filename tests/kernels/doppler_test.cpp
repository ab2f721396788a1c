#include "kernels/cpu/doppler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/radar_math.hpp"
#include "kernels/cpu/range_tiles.hpp"
#include "kernels/cpu/simd.hpp"
#include "kernels/cpu/window.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

using test::cd;

struct Case {
  std::size_t pulses, gates, fft;
  MtiMode mti;
  WindowType window;
  std::size_t tile;
};

class DopplerCases : public ::testing::TestWithParam<Case> {};

// Against a direct DFT of the MTI output times the unit-energy window, zero-padded to M, placed
// so that the frequency k (aliased into [-M/2, M/2)) lands in bin k + M/2.
TEST_P(DopplerCases, MatchesDirectDft) {
  const Case c = GetParam();
  cpu::DopplerConfig cfg;
  cfg.pulses = c.pulses;
  cfg.gates = c.gates;
  cfg.mti = c.mti;
  cfg.window = WindowConfig{c.window};
  cfg.fft_size = c.fft;
  cfg.tile_gates = c.tile;
  cpu::DopplerProcessor dop(cfg);

  const auto y = test::to_cf32(test::complex_noise(c.pulses * c.gates, 1.0, 31 + c.pulses));
  std::vector<cf32> out(c.fft * c.gates);
  dop.spectrum(y.data(), out.data());

  const std::size_t taps = c.mti == MtiMode::TwoPulse ? 1 : c.mti == MtiMode::ThreePulse ? 2 : 0;
  const std::size_t used = c.pulses - taps;
  auto w = cpu::make_window(WindowConfig{c.window}, used);
  double e = 0;
  for (double v : w) e += v * v;
  double err = 0, ref_norm = 0;
  for (std::size_t m = 0; m < c.gates; ++m) {
    std::vector<cd> col(used);
    for (std::size_t p = 0; p < used; ++p) {
      auto at = [&](std::size_t q) {
        return cd(y[q * c.gates + m].real(), y[q * c.gates + m].imag());
      };
      cd v = at(p);
      if (taps == 1) v = at(p + 1) - at(p);
      if (taps == 2) v = at(p + 2) - 2.0 * at(p + 1) + at(p);
      col[p] = v * w[p] / std::sqrt(e);
    }
    const auto spec = test::direct_dft(col, c.fft);
    for (std::size_t k = 0; k < c.fft; ++k) {
      const long ks = static_cast<long>(k) < static_cast<long>((c.fft + 1) / 2)
                          ? static_cast<long>(k)
                          : static_cast<long>(k) - static_cast<long>(c.fft);
      const std::size_t d = static_cast<std::size_t>(ks + static_cast<long>(c.fft / 2));
      const cf32 got = out[d * c.gates + m];
      err += std::norm(cd(got.real(), got.imag()) - spec[k]);
      ref_norm += std::norm(spec[k]);
    }
  }
  EXPECT_LT(std::sqrt(err / ref_norm), 1e-5);

  // Power equals |spectrum|^2, and accumulate adds.
  std::vector<float> map(c.fft * c.gates, 0.0f);
  dop.power(y.data(), map.data(), false);
  dop.power(y.data(), map.data(), true);
  for (std::size_t i = 0; i < map.size(); ++i)
    ASSERT_NEAR(map[i], 2.0f * std::norm(out[i]), 1e-5f * (1.0f + map[i])) << i;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DopplerCases,
    ::testing::Values(Case{8, 5, 8, MtiMode::None, WindowType::Rect, 32},
                      Case{13, 7, 16, MtiMode::None, WindowType::Hann, 3},
                      Case{7, 11, 7, MtiMode::None, WindowType::Taylor, 4},  // odd M
                      Case{17, 9, 32, MtiMode::TwoPulse, WindowType::Hamming, 2},
                      Case{17, 33, 15, MtiMode::ThreePulse, WindowType::Chebyshev, 32},
                      Case{1, 3, 1, MtiMode::None, WindowType::Rect, 1},
                      Case{64, 100, 64, MtiMode::None, WindowType::Blackman, 32},
                      // Full 8-gate blocks with even M (the SIMD path), with each canceller, and
                      // a partial block at the end of the last tile.
                      Case{40, 50, 64, MtiMode::TwoPulse, WindowType::Hann, 16},
                      Case{41, 50, 64, MtiMode::ThreePulse, WindowType::Taylor, 32},
                      Case{33, 24, 48, MtiMode::None, WindowType::Hamming, 8}));

// A slow-time tone of known range rate peaks in the predicted bin, with the model's sign:
// receding (v > 0) -> f_D = -2v/lambda < 0 -> below the zero-Doppler bin M/2.
TEST(Doppler, ToneLandsInPredictedBinWithVelocitySign) {
  const double lambda = 0.03, pri = 1e-4, prf = 1e4;
  const std::size_t p = 64, m_fft = 64, gates = 4;
  cpu::DopplerConfig cfg;
  cfg.pulses = p;
  cfg.gates = gates;
  cfg.window = WindowConfig{WindowType::Hann};
  cfg.fft_size = m_fft;
  cpu::DopplerProcessor dop(cfg);
  const double bin_v = lambda * prf / 2 / m_fft;
  for (double v : {10 * bin_v, -7 * bin_v, 23 * bin_v, 0.0}) {
    const double fd = -2 * v / lambda;
    std::vector<cf32> y(p * gates);
    for (std::size_t q = 0; q < p; ++q)
      for (std::size_t g = 0; g < gates; ++g)
        y[q * gates + g] =
            std::polar(1.0f, static_cast<float>(2 * M_PI * fd * static_cast<double>(q) * pri));
    std::vector<float> map(m_fft * gates);
    dop.power(y.data(), map.data(), false);
    std::size_t best = 0;
    for (std::size_t d = 0; d < m_fft; ++d)
      if (map[d * gates + 1] > map[best * gates + 1]) best = d;
    const long expected = static_cast<long>(m_fft / 2) + std::lround(fd / prf * m_fft);
    EXPECT_EQ(static_cast<long>(best), expected) << "v = " << v;
    const double v_back =
        range_rate_of_doppler_mps(doppler_of_bin_hz(double(best), long(m_fft), prf), lambda);
    EXPECT_NEAR(v_back, v, 1e-9);
    if (v > 0) {
      EXPECT_LT(best, m_fft / 2);
    }
    if (v < 0) {
      EXPECT_GT(best, m_fft / 2);
    }
  }
}

// Unit-energy window: white noise keeps power sigma^2 per Doppler cell.
TEST(Doppler, UnitEnergyWindowKeepsNoisePower) {
  cpu::DopplerConfig cfg;
  cfg.pulses = 100;
  cfg.gates = 2000;
  cfg.window = WindowConfig{WindowType::Taylor};
  cfg.fft_size = 128;
  cpu::DopplerProcessor dop(cfg);
  double e = 0;
  for (float v : dop.window()) e += double(v) * v;
  EXPECT_NEAR(e, 1.0, 1e-6);
  const auto y = test::to_cf32(test::complex_noise(100 * 2000, 1.7, 77));
  std::vector<float> map(128 * 2000);
  dop.power(y.data(), map.data(), false);
  double mean = 0;
  for (float v : map) mean += v;
  mean /= static_cast<double>(map.size());
  EXPECT_NEAR(mean, 1.7, 1.7 * 0.02);
}

TEST(Doppler, TilesOnDifferentWorkersAgree) {
  cpu::DopplerConfig cfg;
  cfg.pulses = 20;
  cfg.gates = 70;
  cfg.fft_size = 32;
  cfg.workers = 2;
  cfg.tile_gates = 16;  // 5 tiles, the last one partial
  cpu::DopplerProcessor dop(cfg);
  const auto y = test::to_cf32(test::complex_noise(20 * 70, 1.0, 5));
  std::vector<float> a(32 * 70), b(32 * 70);
  dop.power(y.data(), a.data(), false);
  for (std::size_t t = 0; t < dop.tiles(); ++t) dop.power_tile(y.data(), b.data(), false, t, t % 2);
  EXPECT_EQ(a, b);
}

// The same cube in range tiles (range_tiles.hpp), tiles as wide as the Doppler tile or of 8
// gates, gives bit-identical power, written and accumulated channel by channel or summed over
// the channels in one call, with every canceller (its taps reach across pulses within a tile's
// block), a partial last tile (70 gates: 16-gate tiles end with 6, 8-gate ones with 6) and a
// transform length that is odd and not a multiple of 4 (the vector paths' leftovers).
TEST(Doppler, RangeTiledInputGivesTheSamePower) {
  for (std::size_t m : {32, 31})
    for (MtiMode mti : {MtiMode::None, MtiMode::TwoPulse, MtiMode::ThreePulse}) {
      for (std::size_t layout_gates : {16, 8}) {
        cpu::DopplerConfig cfg;
        cfg.pulses = 20;
        cfg.gates = 70;
        cfg.fft_size = m;
        cfg.mti = mti;
        cfg.window.type = WindowType::Hann;
        cfg.tile_gates = 16;
        cpu::DopplerProcessor dop(cfg);
        const auto y = test::to_cf32(test::complex_noise(2 * 20 * 70, 1.0, 8));
        const cpu::RangeTiles layout{20, 70, layout_gates};
        ASSERT_TRUE(dop.accepts(layout));
        std::vector<cf32> tiled(2 * layout.channel_size());
        for (std::size_t c = 0; c < 2; ++c)
          for (std::size_t p = 0; p < 20; ++p)
            for (std::size_t n = 0; n < 70; ++n)
              tiled[layout.offset(c, p, n)] = y[(c * 20 + p) * 70 + n];
        std::vector<float> a(m * 70), b(m * 70), combined(m * 70, -1.0f);
        for (std::size_t t = 0; t < dop.tiles(); ++t) {
          for (std::size_t c = 0; c < 2; ++c) {
            dop.power_tile(y.data() + c * 20 * 70, a.data(), c > 0, t, 0);
            dop.power_tile_tiled(tiled.data(), layout, c, b.data(), c > 0, t, 0, 2, true);
          }
          dop.combined_power_tile_tiled(tiled.data(), layout, 2, combined.data(), t, 0);
        }
        EXPECT_EQ(a, b) << "M " << m << " " << to_string(mti) << " layout tiles of "
                        << layout_gates;
        EXPECT_EQ(a, combined) << "M " << m << " " << to_string(mti) << " layout tiles of "
                               << layout_gates;
      }
    }
  cpu::DopplerConfig cfg;
  cfg.pulses = 20;
  cfg.gates = 70;
  cfg.fft_size = 32;
  cfg.tile_gates = 12;
  const cpu::DopplerProcessor dop(cfg);
  EXPECT_TRUE(dop.accepts(cpu::RangeTiles{20, 70, 12}));
  EXPECT_FALSE(dop.accepts(cpu::RangeTiles{20, 70, 8}));  // 12 is not a multiple of 8
  EXPECT_FALSE(dop.accepts(cpu::RangeTiles{21, 70, 12}));
}

// The square law's versions against the test's re^2 + im^2 (then + the accumulator), bit for
// bit, over lengths that leave every tail (SSE2 fours, AVX2 eights), writing and accumulating,
// with prefetch windows shorter and longer than the loop covers.
TEST(Doppler, SquareLawVersionsGiveThePowerBitForBit) {
  std::mt19937 rng(23);
  std::normal_distribution<float> g(0.0f, 2.0f);
  for (std::size_t n : {1, 3, 4, 5, 7, 8, 9, 15, 17, 8195}) {
    for (bool add : {false, true}) {
      std::vector<float> s(2 * n), acc0(n), want(n);
      for (float& v : s) v = g(rng);
      for (std::size_t i = 0; i < n; ++i) {
        acc0[i] = g(rng);
        const float re = s[2 * i], im = s[2 * i + 1];
        const float p = re * re + im * im;
        want[i] = add ? p + acc0[i] : p;
      }
      std::vector<float> acc = acc0;
      cpu::detail::square_law_sse2(s.data(), acc.data(), n, add);
      ASSERT_EQ(acc, want) << "SSE2 n " << n << " add " << add;
      if (!cpu::cpu_has_avx2()) continue;
      acc = acc0;
      cpu::detail::square_law_avx2(s.data(), acc.data(), n, add);
      ASSERT_EQ(acc, want) << "AVX2 n " << n << " add " << add;
    }
  }
}

TEST(Doppler, RejectsFftShorterThanPulsesAfterMti) {
  cpu::DopplerConfig cfg;
  cfg.pulses = 20;
  cfg.gates = 4;
  cfg.fft_size = 18;
  cfg.mti = MtiMode::TwoPulse;
  EXPECT_THROW(cpu::DopplerProcessor{cfg}, std::invalid_argument);
  cfg.mti = MtiMode::ThreePulse;
  EXPECT_NO_THROW(cpu::DopplerProcessor{cfg});
}

}  // namespace
}  // namespace radarpipe
