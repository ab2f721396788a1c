#include "kernels/cpu/cfar.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

CfarConfig cfar(CfarType t, std::size_t gr, std::size_t gd, std::size_t tr, std::size_t td,
                double pfa, double rank = 0.75) {
  CfarConfig c;
  c.type = t;
  c.guard_range = gr;
  c.guard_doppler = gd;
  c.train_range = tr;
  c.train_doppler = td;
  c.pfa = pfa;
  c.os_rank = rank;
  return c;
}

double binom(double n, double k) {
  return std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1));
}

// ---- Threshold factors ------------------------------------------------------------------

TEST(CfarAlpha, CaIsTheClosedForm) {
  for (std::size_t n : {1u, 8u, 216u}) {
    const double a = cpu::cfar_alpha(CfarType::Ca, 1e-6, n / 2, n - n / 2, 1);
    const double nd = static_cast<double>(n);
    EXPECT_NEAR(a, nd * (std::pow(1e-6, -1.0 / nd) - 1.0), 1e-9 * a);
    EXPECT_NEAR(cpu::cfar_pfa(CfarType::Ca, a, n / 2, n - n / 2, 1), 1e-6, 1e-15);
  }
}

// The model's equal-halves formulas, transcribed here, against the general implementation.
TEST(CfarAlpha, GoSoEqualHalvesMatchTheModelFormulas) {
  for (std::size_t n : {4u, 16u, 108u}) {
    for (double alpha : {2.0, 8.0, 20.0}) {
      const double a = alpha / double(n);
      double so = 0;
      for (std::size_t k = 0; k < n; ++k)
        so += binom(double(n - 1 + k), double(k)) * std::pow(2 + a, -double(n + k));
      so *= 2;
      const double go = 2 * std::pow(1 + a, -double(n)) - so;
      EXPECT_NEAR(cpu::cfar_pfa(CfarType::So, alpha, n, n, 1), so, 1e-12 + 1e-9 * so);
      EXPECT_NEAR(cpu::cfar_pfa(CfarType::Go, alpha, n, n, 1), go, 1e-12 + 1e-9 * go);
    }
  }
}

TEST(CfarAlpha, OsMatchesTheProductFormula) {
  const std::size_t n = 24, k = 18;
  const double alpha = 9.5;
  double pfa = 1;
  for (std::size_t i = 0; i < k; ++i) pfa *= double(n - i) / (double(n - i) + alpha);
  EXPECT_NEAR(cpu::cfar_pfa(CfarType::Os, alpha, 12, 12, k), pfa, 1e-15);
}

// With one look the general L-look paths reduce to the model's formulas.
TEST(CfarAlpha, MoreLooksNeedLowerThresholdFactors) {
  for (CfarType t : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os}) {
    const double a1 = cpu::cfar_alpha(t, 1e-6, 108, 108, 162, 1);
    const double a4 = cpu::cfar_alpha(t, 1e-6, 108, 108, 162, 4);
    EXPECT_LT(a4, a1) << to_string(t);  // a sum of 4 looks fluctuates less around its mean
    EXPECT_NEAR(std::log(cpu::cfar_pfa(t, a4, 108, 108, 162, 4)), std::log(1e-6), 1e-6)
        << to_string(t);
  }
}

TEST(CfarAlpha, SolvedAlphaReproducesThePfa) {
  for (CfarType t : {CfarType::Go, CfarType::So, CfarType::Os}) {
    for (auto halves : {std::pair<std::size_t, std::size_t>{108, 108}, {5, 17}, {40, 3}}) {
      for (double pfa : {1e-2, 1e-6, 1e-9}) {
        const std::size_t k = std::max<std::size_t>(1, (halves.first + halves.second) * 3 / 4);
        const double a = cpu::cfar_alpha(t, pfa, halves.first, halves.second, k);
        EXPECT_NEAR(std::log(cpu::cfar_pfa(t, a, halves.first, halves.second, k)), std::log(pfa),
                    1e-9)
            << to_string(t) << " " << halves.first << "/" << halves.second;
      }
    }
  }
}

// The unequal-halves GO/SO formula (used at range edges) against Monte Carlo.
TEST(CfarAlpha, UnequalHalvesPfaMatchesMonteCarlo) {
  const std::size_t n1 = 5, n2 = 17, trials = 400000;
  std::mt19937_64 rng(123);
  std::exponential_distribution<double> e(1.0);
  for (CfarType t : {CfarType::Go, CfarType::So}) {
    const double pfa = 0.01;
    const double alpha = cpu::cfar_alpha(t, pfa, n1, n2, 1);
    std::size_t hits = 0;
    for (std::size_t i = 0; i < trials; ++i) {
      double s1 = 0, s2 = 0;
      for (std::size_t j = 0; j < n1; ++j) s1 += e(rng);
      for (std::size_t j = 0; j < n2; ++j) s2 += e(rng);
      const double z = t == CfarType::Go ? std::max(s1 / n1, s2 / n2) : std::min(s1 / n1, s2 / n2);
      hits += e(rng) > alpha * z;
    }
    const double sigma = std::sqrt(trials * pfa * (1 - pfa));
    EXPECT_NEAR(double(hits), trials * pfa, 5 * sigma) << to_string(t);
  }
}

// ---- Decisions against the brute-force reference ----------------------------------------

struct MapCase {
  std::size_t doppler, gates;
  CfarConfig cfg;
};

class CfarBruteForce : public ::testing::TestWithParam<std::tuple<CfarType, int>> {};

TEST_P(CfarBruteForce, IdenticalDecisionsIncludingEdgesAndWrap) {
  const auto [type, shape] = GetParam();
  // Shapes: range edges dominate (N = 2R+1 + a few), the Doppler window exactly M (2D+1 = M),
  // odd sizes, no Doppler training, no range training.
  const MapCase cases[] = {
      {16, 40, cfar(type, 2, 1, 8, 4, 1e-2)},      {9, 23, cfar(type, 1, 1, 10, 3, 2e-2)},
      {31, 57, cfar(type, 0, 0, 3, 2, 5e-2, 0.5)}, {12, 64, cfar(type, 2, 2, 6, 0, 1e-2, 1.0)},
      {10, 33, cfar(type, 1, 0, 0, 4, 3e-2, 0.3)},
  };
  const MapCase& mc = cases[shape];
  cpu::CfarStageConfig sc{mc.cfg, mc.doppler, mc.gates, 1};
  cpu::Cfar cf(sc);

  auto map = test::exponential_map(mc.doppler * mc.gates, 1000 + static_cast<std::uint64_t>(shape));
  // Strong targets, one straddling the Doppler wrap and one at each range edge.
  std::mt19937_64 rng(shape);
  for (int i = 0; i < 6; ++i) map[rng() % map.size()] = 500.0f;
  map[0 * mc.gates + 0] = 600.0f;
  map[(mc.doppler - 1) * mc.gates + mc.gates - 1] = 550.0f;

  std::vector<double> alpha(mc.gates);
  std::vector<std::size_t> k(mc.gates);
  for (std::size_t m = 0; m < mc.gates; ++m) {
    alpha[m] = cf.alpha_at(m);
    k[m] = cf.os_rank_at(m);
  }
  const auto ref = test::brute_force_cfar(map, mc.doppler, mc.gates, mc.cfg, alpha, k);
  std::vector<cpu::CfarCrossing> got(map.size());
  const cpu::CfarStats st = cf.process(map.data(), got.data(), got.size());
  ASSERT_EQ(st.crossings, ref.size());
  ASSERT_EQ(st.stored, ref.size());
  EXPECT_EQ(st.cells, map.size());
  ASSERT_GE(ref.size(), 3u);  // the injected targets at least
  for (std::size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(got[i].doppler_bin, ref[i].d) << i;
    EXPECT_EQ(got[i].range_bin, ref[i].m) << i;
    EXPECT_NEAR(got[i].noise, ref[i].z, 1e-5 * ref[i].z) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, CfarBruteForce,
                         ::testing::Combine(::testing::Values(CfarType::Ca, CfarType::Go,
                                                              CfarType::So, CfarType::Os),
                                            ::testing::Range(0, 5)),
                         [](const auto& param_info) {
                           return std::string(to_string(std::get<0>(param_info.param))) + "_shape" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

// A map whose powers fall by twelve orders of magnitude over its last bins (a blackman taper's
// eclipsed tail beside MTI's notch): every noise estimate against the brute force's, within
// 1e-6 of itself. With range sums taken as differences of prefix sums from bin 0, the full-gain
// bins' total (some 10^3) left rounding of 1e-13 in every difference, above the last bins'
// lagging halves themselves: SO's Z came out a fraction of the cells' mean, or negative.
TEST(Cfar, NoiseEstimatesHoldWhereTheMapFallsByOrdersOfMagnitude) {
  for (CfarType type : {CfarType::Ca, CfarType::Go, CfarType::So}) {
    const std::size_t md = 16, n = 300;
    const CfarConfig c = cfar(type, 2, 2, 8, 4, 0.5);  // Pfa 0.5: most cells cross, Z at each
    cpu::CfarStageConfig sc{c, md, n, 1};
    cpu::Cfar cf(sc);
    auto map = test::exponential_map(md * n, 77);
    for (std::size_t d = 0; d < md; ++d)
      for (std::size_t m = n - 30; m < n; ++m)
        map[d * n + m] *= static_cast<float>(std::pow(10.0, -12.0 * double(m - (n - 30)) / 29.0));
    std::vector<double> alpha(n);
    std::vector<std::size_t> k(n, 1);
    for (std::size_t m = 0; m < n; ++m) alpha[m] = cf.alpha_at(m);
    const auto ref = test::brute_force_cfar(map, md, n, c, alpha, k);
    std::vector<cpu::CfarCrossing> got(map.size());
    const cpu::CfarStats st = cf.process(map.data(), got.data(), got.size());
    ASSERT_EQ(st.stored, ref.size()) << to_string(type);
    std::size_t tail = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      ASSERT_EQ(got[i].range_bin, ref[i].m);
      EXPECT_GT(got[i].noise, 0.0f) << to_string(type) << " m " << ref[i].m;
      EXPECT_NEAR(got[i].noise, ref[i].z, 1e-6 * ref[i].z) << to_string(type) << " m " << ref[i].m;
      tail += ref[i].m >= n - 10;
    }
    if (type == CfarType::So) {
      EXPECT_GT(tail, 10u);  // its lagging half there is the tail alone
    }
  }
}

// Training counts at the range edge follow from the window geometry.
// OS settles most cells with two upper bounds before counting (kernels/cpu/cfar.cpp os_rows:
// a level t0 with sliding counts, and per-column group minima); every decision must still be
// the brute force's. Maps that push cells to each path: noise; a clutter patch 30 dB up (its
// CUTs above the level, its windows below it); a region 20 dB down (windows all below the
// level: level 1 cannot settle, the group bound and the count must); zeros and many ties at
// exactly representable values (thresholds landing on cell values); a constant row. Several
// row blocks (t0 is chosen per block) and one worker count per block split.
TEST(Cfar, OsBoundsNeverChangeADecision) {
  const std::size_t md = 48, n = 700;
  std::vector<float> map = test::exponential_map(md * n, 77);
  std::mt19937 rng(78);
  for (std::size_t d = 0; d < md; ++d)
    for (std::size_t m = 0; m < n; ++m) {
      float& v = map[d * n + m];
      if (m >= 100 && m < 160 && d >= 10 && d < 30) v *= 1000.0f;  // clutter
      if (m >= 300 && m < 420) v *= 0.01f;                         // a quieter stretch
      if (m >= 500 && m < 540) v = std::round(v * 4.0f) / 4.0f;    // ties and zeros
      if (d == 40) v = 2.0f;                                       // a constant row
      if (rng() % 97 == 0) v *= 200.0f;                            // targets
    }
  for (double pfa : {1e-2, 1e-4}) {
    for (const CfarConfig& c :
         {cfar(CfarType::Os, 2, 1, 8, 4, pfa), cfar(CfarType::Os, 0, 0, 6, 0, pfa),
          cfar(CfarType::Os, 1, 2, 4, 3, pfa, 0.5)}) {
      cpu::CfarStageConfig sc{c, md, n, 1, 0};
      sc.workers = 3;
      cpu::Cfar stage(sc);
      std::vector<double> alpha(n);
      std::vector<std::size_t> k(n);
      for (std::size_t m = 0; m < n; ++m) {
        alpha[m] = stage.alpha_at(m);
        k[m] = stage.os_rank_at(m);
      }
      auto want = test::brute_force_cfar(map, md, n, c, alpha, k);
      std::sort(want.begin(), want.end());
      std::vector<cpu::CfarCrossing> got(map.size());
      std::size_t count = 0;
      for (auto [d0, d1, w] : {std::array<std::size_t, 3>{0, 17, 0}, {17, 40, 1}, {40, md, 2}}) {
        const cpu::CfarStats st =
            stage.process_rows(map.data(), d0, d1, got.data() + count, got.size() - count, w);
        count += st.stored;
      }
      ASSERT_EQ(count, want.size()) << "pfa " << pfa << ", window " << c.train_range;
      ASSERT_GT(count, 10u);
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(got[i].doppler_bin, want[i].d) << i;
        ASSERT_EQ(got[i].range_bin, want[i].m) << i;
        EXPECT_EQ(got[i].noise, static_cast<float>(want[i].z)) << i;
      }
    }
  }
}

TEST(Cfar, EdgeTrainingCountsAndSplitRowBlocks) {
  cpu::Cfar cf({cfar(CfarType::Ca, 2, 1, 8, 4, 1e-6), 32, 100, 2});
  EXPECT_EQ(cf.leading_cells_at(50) + cf.lagging_cells_at(50), 216u);
  EXPECT_EQ(cf.leading_cells_at(0), 4u);  // only the CUT's own column above it
  EXPECT_EQ(cf.lagging_cells_at(0), 108u);
  EXPECT_EQ(cf.leading_cells_at(1), 4u + 11u - 3u);  // one range column, minus its guard rows
  EXPECT_GT(cf.alpha_at(0), cf.alpha_at(50));        // fewer cells, higher threshold
  const auto map = test::exponential_map(32 * 100, 3);
  std::vector<cpu::CfarCrossing> whole(3200), a(3200), b(3200);
  const auto s = cf.process(map.data(), whole.data(), whole.size());
  const auto s1 = cf.process_rows(map.data(), 0, 13, a.data(), a.size(), 0);
  const auto s2 = cf.process_rows(map.data(), 13, 32, b.data(), b.size(), 1);
  EXPECT_EQ(s.cells, s1.cells + s2.cells);
  EXPECT_EQ(s.crossings, s1.crossings + s2.crossings);
  EXPECT_NEAR(s.noise_sum, s1.noise_sum + s2.noise_sum, 1e-9 * s.noise_sum);
}

TEST(Cfar, CountsCrossingsBeyondCapacity) {
  cpu::Cfar cf({cfar(CfarType::Ca, 1, 1, 4, 2, 0.2), 16, 64, 1});
  const auto map = test::exponential_map(16 * 64, 9);
  std::vector<cpu::CfarCrossing> out(5);
  const auto st = cf.process(map.data(), out.data(), out.size());
  EXPECT_GT(st.crossings, 5u);
  EXPECT_EQ(st.stored, 5u);
}

// ---- Measured false-alarm rate on exponential noise ---------------------------------------

// Tolerance from the binomial spread: 5 standard deviations of the count (decisions of nearby
// cells share training cells, a weak positive correlation that 5 sigma covers).
void expect_pfa(const CfarConfig& c, std::size_t doppler, std::size_t gates, std::size_t maps,
                std::uint64_t seed, std::size_t looks = 1) {
  cpu::Cfar cf({c, doppler, gates, 1, 0, looks});
  std::vector<cpu::CfarCrossing> out(16);
  std::uint64_t cells = 0, hits = 0;
  for (std::size_t i = 0; i < maps; ++i) {
    auto map = test::exponential_map(doppler * gates, seed + i);
    // L looks: each cell the sum of L independent exponential powers (noncoherent channels).
    for (std::size_t l = 1; l < looks; ++l) {
      const auto more = test::exponential_map(doppler * gates, 7919 * l + seed + i);
      for (std::size_t j = 0; j < map.size(); ++j) map[j] += more[j];
    }
    const auto st = cf.process(map.data(), out.data(), out.size());
    cells += st.cells;
    hits += st.crossings;
  }
  ASSERT_GE(cells, 1000000u);
  const double expected = double(cells) * c.pfa;
  const double sigma = std::sqrt(expected * (1 - c.pfa));
  EXPECT_NEAR(double(hits), expected, 5 * sigma)
      << to_string(c.type) << ", " << looks << " looks: " << hits << " crossings in " << cells
      << " cells";
}

class CfarPfa : public ::testing::TestWithParam<CfarType> {};

TEST_P(CfarPfa, InteriorRateMatchesDesign) {
  expect_pfa(cfar(GetParam(), 2, 1, 8, 4, 1e-3), 128, 8192, 1, 42);
}

// A map only as wide as the CFAR window: every cell but one per row is a range-edge cell, so
// this checks the recomputed edge thresholds (including GO/SO with unequal halves).
TEST_P(CfarPfa, EdgeRateMatchesDesign) {
  expect_pfa(cfar(GetParam(), 2, 1, 8, 4, 1e-3), 64, 21, 745, 7);
}

// Noncoherently combined channels: every cell is Gamma(L), and the threshold factors must hold
// the design Pfa for it (the one-look factors would give ~1e-5 for L = 2 and ~0 for L = 4).
TEST_P(CfarPfa, RateMatchesDesignWithSeveralLooks) {
  expect_pfa(cfar(GetParam(), 2, 1, 8, 4, 1e-3), 128, 4096, 2, 11, 2);
  expect_pfa(cfar(GetParam(), 2, 1, 8, 4, 1e-3), 128, 4096, 2, 13, 4);
  expect_pfa(cfar(GetParam(), 1, 1, 4, 2, 1e-3), 64, 11, 1421, 17, 3);  // range edges, L = 3
}

INSTANTIATE_TEST_SUITE_P(AllVariants, CfarPfa,
                         ::testing::Values(CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

}  // namespace
}  // namespace radarpipe
