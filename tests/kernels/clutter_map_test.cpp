// The clutter map stage (kernels/cpu/clutter_map.hpp) against the direct reference written from
// the equations (tests/support/clutter_map_reference.hpp), and its factors against Monte Carlo
// false-alarm rates.
#include "kernels/cpu/clutter_map.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "tests/support/clutter_map_reference.hpp"

namespace radarpipe {
namespace {

cpu::ClutterMapStageConfig small_config() {
  cpu::ClutterMapStageConfig c;
  c.doppler_bins = 8;
  c.gates = 50;
  c.first_row = 3;
  c.rows = 3;
  c.maps = 2;
  c.azimuth_cells = 3;
  c.looks = 1;
  c.time_constant = 6.5;
  c.warmup = 5;
  c.gap = 2;
  c.hold = 9;
  c.pfa = 1e-2;
  return c;
}

// Sum of `looks` unit exponentials.
double gamma_power(std::mt19937_64& rng, std::size_t looks) {
  std::exponential_distribution<double> e(1.0);
  double s = 0;
  for (std::size_t i = 0; i < looks; ++i) s += e(rng);
  return s;
}

// Every cell of every map, azimuth cell and row through 120 CPIs: noise whose level differs per
// cell (the ground), a target that appears at CPI 40 in a few cells and stays (not learned for
// `hold` updates, then learned), one that fades in and out and then leaves (the episode spans
// its fades and ends after `gap` quiet updates), and azimuth cells visited in turn. The stage's
// decisions and averages against the reference, CPI by CPI; rows outside the map untouched.
TEST(ClutterMap, RecursionAndDecisionsMatchTheDirectReference) {
  const cpu::ClutterMapStageConfig cfg = small_config();
  cpu::ClutterMap stage(cfg);
  const std::size_t rows_total = cfg.doppler_bins, n = cfg.gates;
  std::vector<test::ReferenceMapCell> ref(stage.state().cells());
  std::mt19937_64 rng(17);
  std::vector<float> map(rows_total * n);
  std::vector<cpu::CfarCrossing> out(rows_total * n);
  std::size_t declared = 0, learned_while_declared = 0;
  for (int cpi = 0; cpi < 120; ++cpi) {
    const std::size_t az = static_cast<std::size_t>(cpi) % cfg.azimuth_cells;
    for (std::size_t mi = 0; mi < cfg.maps; ++mi) {
      for (std::size_t d = 0; d < rows_total; ++d)
        for (std::size_t m = 0; m < n; ++m) {
          const double level = 1.0 + 100.0 * static_cast<double>((m * 7 + d) % 5 == 0);
          double p = level * gamma_power(rng, 1);
          if (cpi >= 40 && m % 10 == 3) p += 5000.0;  // arrives and stays
          // Fades in every other update of its cell (a gap of 1 < 2 keeps the episode open),
          // then leaves (the episode ends after 2 quiet updates).
          if (cpi >= 40 && cpi < 100 && m % 10 == 7 && (cpi / 3) % 2 == 0) p += 5000.0;
          map[d * n + m] = static_cast<float>(p);
        }
      const cpu::ClutterMapStats st =
          stage.process_rows(map.data(), mi, az, 0, rows_total, out.data(), out.size());
      EXPECT_EQ(st.cells, cfg.rows * n);
      std::size_t k = 0;
      for (std::size_t r = 0; r < cfg.rows; ++r) {
        const std::size_t d = cfg.first_row + r;
        for (std::size_t m = 0; m < n; ++m) {
          const std::size_t i = ((mi * cfg.azimuth_cells + az) * cfg.rows + r) * n + m;
          const double before = ref[i].mean;
          const std::size_t learned_before = ref[i].learned;
          const bool hit =
              test::reference_map_step(ref[i], map[d * n + m], stage.factors(), cfg.time_constant,
                                       cfg.warmup, cfg.gap, cfg.hold);
          if (hit) {
            ++declared;
            learned_while_declared +=
                ref[i].learned != learned_before || learned_before == stage.table_last();
            ASSERT_LT(k, st.stored) << "CPI " << cpi << " d " << d << " m " << m;
            EXPECT_EQ(out[k].doppler_bin, d);
            EXPECT_EQ(out[k].range_bin, m);
            EXPECT_NEAR(out[k].noise, before, 1e-5 * before);
            ++k;
          }
          EXPECT_NEAR(stage.state().mean[i], ref[i].mean, 1e-5 * ref[i].mean + 1e-30)
              << "CPI " << cpi << " cell " << i;
          EXPECT_EQ(stage.state().learned[i], ref[i].learned);
          EXPECT_EQ(stage.state().run[i], ref[i].length);
          EXPECT_EQ(stage.state().quiet[i], ref[i].since_hit);
        }
      }
      EXPECT_EQ(k, st.stored) << "CPI " << cpi;
    }
    stage.finish_cpi();
  }
  EXPECT_EQ(stage.state().cpis, 120u);
  // The targets were declared, and learned once their episode passed `hold`: both paths seen.
  EXPECT_GT(declared, 100u);
  EXPECT_GT(learned_while_declared, 0u);
}

// K(n) against a Monte Carlo of the map's statistic: P and the learned powers Gamma(L), the
// average the stage's weights after n learned powers; at design 1e-2, 2 x 10^5 trials: 2000
// expected crossings, binomial 95% interval +-4.4%; the test allows +-8%.
TEST(ClutterMap, FactorGivesTheDesignPfaOnNoise) {
  for (std::size_t looks : {1u, 3u}) {
    cpu::ClutterMapStageConfig cfg = small_config();
    cfg.looks = looks;
    cfg.time_constant = 8;
    cpu::ClutterMap stage(cfg);
    for (std::size_t n : {1u, 4u, 8u, 20u, 120u}) {
      const std::size_t at = std::min<std::size_t>(n, stage.table_last());
      const double k = stage.factors()[at];
      const std::vector<double> w = cpu::clutter_map_weights(n, cfg.time_constant);
      double sum = 0;
      for (double v : w) sum += v;
      ASSERT_NEAR(sum, 1.0, 1e-9);
      // The exact Pfa of the table's factor is at or just below the design.
      const double exact = cpu::clutter_map_pfa(k, w, looks);
      EXPECT_LE(exact, 1e-2 * (1 + 1e-6)) << "L " << looks << " n " << n;
      EXPECT_GE(exact, 1e-2 * 0.93) << "L " << looks << " n " << n;
      std::mt19937_64 rng(1000 * looks + n);
      const int trials = 200000;
      int hits = 0;
      for (int t = 0; t < trials; ++t) {
        double c = 0;
        for (double v : w) c += v * gamma_power(rng, looks);
        hits += gamma_power(rng, looks) > k * c;
      }
      EXPECT_NEAR(hits / (trials * exact), 1.0, 0.08) << "L " << looks << " n " << n;
    }
  }
  // One learned power, one look: P(E1 > K E2) = 1 / (1 + K).
  EXPECT_NEAR(cpu::clutter_map_pfa(99.0, {1.0}, 1), 0.01, 1e-15);
}

// The whole stage on noise after warm-up: crossings per tested cell at the design. Rows 3 x 2000
// gates x 250 CPIs past a 20-CPI warm-up: 1.5 x 10^6 cells at 1e-3, 1500 expected, binomial 95%
// +-5.1%; the test allows +-10%.
TEST(ClutterMap, NoiseCrossesAtTheDesignRate) {
  cpu::ClutterMapStageConfig cfg = small_config();
  cfg.gates = 2000;
  cfg.maps = 1;
  cfg.azimuth_cells = 1;
  cfg.time_constant = 20;
  cfg.warmup = 20;
  cfg.hold = 0;
  cfg.pfa = 1e-3;
  cpu::ClutterMap stage(cfg);
  std::mt19937_64 rng(5);
  std::exponential_distribution<float> e(1.0f);
  std::vector<float> map(cfg.doppler_bins * cfg.gates);
  std::vector<cpu::CfarCrossing> out(map.size());
  std::uint64_t tested = 0, crossings = 0, warm_crossings = 0;
  for (int cpi = 0; cpi < 270; ++cpi) {
    for (float& v : map) v = 3.0f * e(rng);
    const cpu::ClutterMapStats st = stage.process_rows(map.data(), 0, 0, 0, 8, out.data(), 16);
    if (cpi < 20) {
      EXPECT_EQ(st.tested, 0u) << "CPI " << cpi;
      warm_crossings += st.crossings;
    } else {
      tested += st.tested;
      crossings += st.crossings;
    }
    EXPECT_LE(st.stored, 16u);
  }
  EXPECT_EQ(warm_crossings, 0u);
  EXPECT_EQ(tested, 250u * 3 * 2000);
  EXPECT_NEAR(static_cast<double>(crossings) / (static_cast<double>(tested) * 1e-3), 1.0, 0.10);
}

TEST(ClutterMap, RestoreTakesItsOwnShapeOnly) {
  cpu::ClutterMap stage(small_config());
  ClutterMapState s = stage.state();
  s.mean[7] = 2.5f;
  s.learned[7] = 3;
  stage.restore(s);
  EXPECT_EQ(stage.state().mean[7], 2.5f);
  ClutterMapState wrong = s;
  wrong.gates = 49;
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
  wrong = s;
  wrong.mean.pop_back();
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
  wrong = s;
  wrong.mean[3] = -1.0f;
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
  wrong = s;
  wrong.mean[3] = std::nanf("");
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
  wrong = s;
  wrong.learned[3] = stage.table_last() + 1;
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
  wrong = s;
  wrong.mean[4] = 1.0f;  // a mean without a learned power
  EXPECT_THROW(stage.restore(wrong), std::invalid_argument);
}

TEST(ClutterMap, ConfigurationIsChecked) {
  cpu::ClutterMapStageConfig c = small_config();
  c.first_row = 6;  // 6 + 3 rows > 8
  EXPECT_THROW(cpu::ClutterMap{c}, std::invalid_argument);
  c = small_config();
  c.time_constant = 0.5;
  EXPECT_THROW(cpu::ClutterMap{c}, std::invalid_argument);
  c = small_config();
  c.pfa = 0;
  EXPECT_THROW(cpu::ClutterMap{c}, std::invalid_argument);
  c.factor_db = 13;  // a fixed factor needs no pfa
  const cpu::ClutterMap fixed(c);
  EXPECT_NEAR(fixed.factors()[10], std::pow(10.0, 1.3), 1e-4);
}

}  // namespace
}  // namespace radarpipe
