// Calibrated CFAR factors (kernels/cpu/cfar_calibration.hpp) against references written here:
// the covariance against its defining sums, and every solved factor against a brute-force Monte
// Carlo of the same correlated cells (own Cholesky factor, std::mt19937_64, crossings counted).
#include "kernels/cpu/cfar_calibration.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

using cd = std::complex<double>;

CfarConfig small_cfar(CfarType t, double pfa) {
  CfarConfig c;
  c.type = t;
  c.guard_range = 1;
  c.guard_doppler = 1;
  c.train_range = 3;
  c.train_doppler = 2;
  c.pfa = pfa;
  return c;
}

// A correlated but small chain: a hamming-tapered 6-tap real filter, hann over 16 pulses, M = 16.
cpu::CellCorrelation small_correlation(std::vector<double> mti = {1.0}) {
  cpu::CellCorrelation c;
  for (int k = 0; k < 6; ++k)
    c.range_reference.emplace_back(0.54 - 0.46 * std::cos(2 * M_PI * k / 5), 0.0);
  const std::size_t used = 16 - (mti.size() - 1);
  for (std::size_t p = 0; p < used; ++p)
    c.doppler_window.push_back(0.5 - 0.5 * std::cos(2 * M_PI * (double(p) + 0.5) / double(used)));
  c.mti_taps = mti;
  c.doppler_fft_size = 16;
  c.gates = 40;
  c.rounding_floor = cpu::fft_rounding_floor(45);
  return c;
}

// Lower Cholesky factor of a Hermitian positive definite matrix (n x n, row-major).
std::vector<cd> cholesky(const std::vector<cd>& a, std::size_t n) {
  std::vector<cd> l(n * n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j].real();
    for (std::size_t k = 0; k < j; ++k) d -= std::norm(l[j * n + k]);
    l[j * n + j] = std::sqrt(std::max(d, 1e-300));
    for (std::size_t i = j + 1; i < n; ++i) {
      cd s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= l[i * n + k] * std::conj(l[j * n + k]);
      l[i * n + j] = s / l[j * n + j].real();
    }
  }
  return l;
}

// Brute force: the CUT and its training cells drawn together with their exact covariance (CUT
// power 1; the CUT correlated with its neighbours as the chain makes it, by its own Cholesky
// factor); the decision as cfar.hpp makes it. Returns the crossing count.
std::size_t brute_force_crossings(CfarType type, double alpha, std::size_t looks, std::size_t os_k,
                                  const cpu::WindowCells& w, const std::vector<cd>& kd,
                                  const std::vector<cd>& kr, std::size_t trials,
                                  std::uint64_t seed) {
  std::vector<std::size_t> idx{w.cut_row * w.cols + w.cut_col};  // the CUT first
  for (std::size_t i = 0; i < w.label.size(); ++i)
    if (w.label[i]) idx.push_back(i);
  const std::size_t n = idx.size();
  const double sd = kd[w.cut_row * w.rows + w.cut_row].real();
  const double sr = kr[w.cut_col * w.cols + w.cut_col].real();
  std::vector<cd> k(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t ri = idx[i] / w.cols, ci = idx[i] % w.cols;
      const std::size_t rj = idx[j] / w.cols, cj = idx[j] % w.cols;
      k[i * n + j] = kd[ri * w.rows + rj] / sd * kr[ci * w.cols + cj] / sr;
    }
  const std::vector<cd> l = cholesky(k, n);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, std::sqrt(0.5));
  std::vector<cd> white(n);
  std::vector<double> power(n), sorted;
  std::size_t hits = 0;
  for (std::size_t t = 0; t < trials; ++t) {
    std::fill(power.begin(), power.end(), 0.0);
    double cut = 0.0;
    for (std::size_t look = 0; look < looks; ++look) {
      for (cd& z : white) z = test::draw_complex(g, rng);
      for (std::size_t i = 0; i < n; ++i) {
        cd y = 0.0;
        for (std::size_t j = 0; j <= i; ++j) y += l[i * n + j] * white[j];
        power[i] += std::norm(y);
      }
    }
    cut = power[0];
    double s1 = 0, s2 = 0, n1 = 0, n2 = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (w.label[idx[i]] == 1)
        s1 += power[i], n1 += 1;
      else
        s2 += power[i], n2 += 1;
    }
    double z;
    if (type == CfarType::Os) {
      sorted.assign(power.begin() + 1, power.end());
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(os_k - 1), sorted.end());
      z = sorted[os_k - 1];
    } else if (type == CfarType::Ca || n1 == 0 || n2 == 0) {
      z = (s1 + s2) / (n1 + n2);
    } else if (type == CfarType::Go) {
      z = std::max(s1 / n1, s2 / n2);
    } else {
      z = std::min(s1 / n1, s2 / n2);
    }
    hits += cut > alpha * z;
  }
  return hits;
}

TEST(CfarCalibration, RangeCovarianceIsTheFiltersSumsWithTheEclipse) {
  const cpu::CellCorrelation c = small_correlation();
  const auto& h = c.range_reference;
  double energy = 0;
  for (const cd& v : h) energy += std::norm(v);
  // Interior: K(m1, m2) = sum_k conj(h[k]) h[k + m1 - m2].
  const auto k = cpu::range_covariance(c, 10, 5);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) {
      cd want = 0;
      for (int q = 0; q < 6; ++q)
        if (q + i - j >= 0 && q + i - j < 6) want += std::conj(h[q]) * h[q + i - j];
      EXPECT_NEAR(std::abs(k[i * 5 + j] - want), 0.0, 1e-12);
    }
  EXPECT_NEAR(k[0].real(), energy, 1e-12);
  // The last bins see fewer samples: their power is the energy of h's first N - m taps.
  for (std::size_t m = 35; m < 40; ++m) {
    double want = 0;
    for (std::size_t q = 0; q < 40 - m; ++q) want += std::norm(h[q]);
    EXPECT_NEAR(cpu::range_covariance(c, m, 1)[0].real(), want, 1e-12) << m;
  }
}

// The model's rounding floor against what the float compressor leaves: with a hann taper
// (w[0] = 0) the last bin, y[N-1] = x[N-1] conj(h[0]), is zero in exact arithmetic, so its
// power is the compressor's rounding alone. Over FFT sizes 105 (3 5 7) to 5000 it measured
// 0.6-1.1 of u^2 log2(n); the calibrated factors beside those bins need it within about 2x
// (1e-12, 30x too strong, let the trailing edge's SO cross at 1.7-13x its design).
TEST(CfarCalibration, RoundingFloorIsWhatTheCompressorLeaves) {
  struct Case {
    std::size_t gates, length;
  };
  for (const Case& k : {Case{64, 40}, Case{600, 200}, Case{4000, 1000}}) {
    cpu::PulseCompressionConfig cfg;
    cfg.gates = k.gates;
    std::mt19937_64 rng(k.gates);
    std::uniform_real_distribution<double> phase(0.0, 2 * M_PI);
    for (std::size_t i = 0; i < k.length; ++i) cfg.waveform.push_back(std::polar(1.0, phase(rng)));
    cfg.window = WindowConfig{WindowType::Hann};
    cpu::PulseCompressor pc(cfg);
    ASSERT_EQ(pc.reference()[0], cf32(0.0f, 0.0f));
    const std::size_t rows = 400000 / k.gates;
    std::vector<cf32> in(rows * k.gates), out(in.size());
    std::normal_distribution<float> g(0.0f, 0.70710678f);
    for (cf32& z : in) z = test::draw_complex<float>(g, rng);
    pc.process_rows(in.data(), out.data(), rows, 0);
    double last = 0, full = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      last += std::norm(std::complex<double>(out[r * k.gates + k.gates - 1]));
      full += std::norm(std::complex<double>(out[r * k.gates + k.gates / 4]));
    }
    const double ratio = last / full / cpu::fft_rounding_floor(pc.fft_size());
    EXPECT_GT(ratio, 0.4) << "n = " << pc.fft_size();
    EXPECT_LT(ratio, 2.5) << "n = " << pc.fft_size();
  }
}

TEST(CfarCalibration, DopplerCovarianceIsStationaryWithoutMtiAndNotchedWithIt) {
  const cpu::CellCorrelation c = small_correlation();
  const auto a = cpu::doppler_covariance(c, 3, 2), b = cpu::doppler_covariance(c, 11, 2);
  double w2 = 0;
  for (double v : c.doppler_window) w2 += v * v;
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(std::abs(a[i] - b[i]), 0.0, 1e-12);
  EXPECT_NEAR(a[2 * 5 + 2].real(), w2, 1e-12);
  // Three-pulse MTI: zero Doppler (d = M/2) is the notch; the band edge (d = 0) its peak.
  const cpu::CellCorrelation m = small_correlation({1.0, -2.0, 1.0});
  const double notch = cpu::doppler_covariance(m, 8, 0)[0].real();
  const double peak = cpu::doppler_covariance(m, 0, 0)[0].real();
  EXPECT_LT(notch, 0.05 * peak);
  // Direct: sum_p |sum_j a_j w[p] e^(-j 2 pi p k / M) ...|^2 for k = -8 equals the peak.
  double direct = 0;
  {
    // Y = sum_p w[p] (-1)^p z[p], z[p] = y[p] - 2 y[p+1] + y[p+2]: coefficient of y[q].
    std::vector<cd> coef(16, 0.0);
    for (std::size_t p = 0; p < 14; ++p) {
      const cd e = std::polar(m.doppler_window[p], 2 * M_PI * double(p) * 8.0 / 16.0);
      coef[p] += e;
      coef[p + 1] -= 2.0 * e;
      coef[p + 2] += e;
    }
    for (const cd& v : coef) direct += std::norm(v);
  }
  EXPECT_NEAR(peak, direct, 1e-9 * direct);
}

// The solver's windows are the stage's: the same training cells in each half at every range bin
// of a map whose edges overlap (the stage counts them by its own formula, cfar.cpp).
TEST(CfarCalibration, WindowsHoldTheStagesTrainingCells) {
  for (CfarConfig c : {small_cfar(CfarType::So, 1e-3), CfarConfig{}}) {
    const cpu::Cfar stage({c, 16, 23, 1});
    for (std::size_t m = 0; m < 23; ++m) {
      const cpu::WindowCells w = cpu::window_cells(c, m, 23);
      EXPECT_EQ(w.n_lead, stage.leading_cells_at(m)) << m;
      EXPECT_EQ(w.n_lag, stage.lagging_cells_at(m)) << m;
      EXPECT_EQ(w.label[w.cut_row * w.cols + w.cut_col], 0) << m;
    }
  }
}

TEST(CfarCalibration, IndependentCellsGiveTheTextbookFactors) {
  const cpu::WindowCells w = cpu::window_cells(small_cfar(CfarType::Ca, 1e-3), 10, 40);
  std::vector<cd> kd(w.rows * w.rows, 0.0), kr(w.cols * w.cols, 0.0);
  for (std::size_t i = 0; i < w.rows; ++i) kd[i * w.rows + i] = 1.0;
  for (std::size_t i = 0; i < w.cols; ++i) kr[i * w.cols + i] = 1.0;
  const std::size_t n = w.n_lead + w.n_lag, k = (3 * n + 2) / 4;
  for (CfarType t : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os})
    for (std::size_t looks : {1u, 3u}) {
      const double tb = cpu::cfar_alpha(t, 1e-3, w.n_lead, w.n_lag, k, looks);
      const cpu::CalibratedAlpha a = cpu::solve_calibrated_alpha(t, 1e-3, looks, k, w, kd, kr, tb);
      // CA exact; the Monte Carlo's factor within 3% (its Pfa within about 10%).
      EXPECT_NEAR(a.alpha, tb, (t == CfarType::Ca ? 1e-8 : 0.03) * tb)
          << to_string(t) << ", L = " << looks;
      EXPECT_NEAR(a.effective_cells, double(n), 1e-9);
    }
}

// With MTI every range-edge and tail window has factors of its own, row by row: the table
// (cpu::Cfar, through calibrated_factors) against direct solves of those windows at every row
// (M = 16: every row lies on the exact part of the row grid), the eclipsed tail's full-gain
// floor included. SO's edge rows k and -k differ (one half is then mostly the CUT's own column,
// above or below it), which a table mirrored in k, or the product of one range and one row
// factor (SO's leading edge then crossed at 9x its design through the chain), gets wrong.
TEST(CfarCalibration, MtiEdgeAndTailWindowsHaveRowsOfTheirOwn) {
  const cpu::CellCorrelation c = small_correlation({1.0, -2.0, 1.0});
  double full_gain = 0.0;
  for (const cd& h : c.range_reference) full_gain += std::norm(h);
  const std::size_t big_r = 4, big_d = 3, first_eclipsed = 35;  // 40 gates, 6 taps
  for (CfarType t : {CfarType::Ca, CfarType::So}) {
    const CfarConfig cfg = small_cfar(t, 1e-2);
    cpu::CfarStageConfig sc{cfg, 16, c.gates, 1};
    sc.correlation = c;
    const cpu::Cfar cfar(sc);
    EXPECT_GT(cfar.row_classes(), 1u);
    // Windows with rows solved (32 and 33 lie between tail points and are interpolated).
    for (std::size_t m : {0u, 1u, 3u, 4u, 20u, 30u, 31u, 35u, 37u, 39u}) {
      const cpu::WindowCells w = cpu::window_cells(cfg, m, c.gates);
      std::vector<cd> kr = cpu::range_covariance(c, w.first_gate, w.cols);
      for (std::size_t i = 0; i < w.cols; ++i) kr[i * w.cols + i] += c.rounding_floor * full_gain;
      for (std::size_t d = 0; d < 16; ++d) {
        const auto kd = cpu::doppler_covariance(c, static_cast<long>(d), big_d);
        double expect = cpu::solve_calibrated_alpha(t, 1e-2, 1, cfar.os_rank_at(m), w, kd, kr,
                                                    cfar.textbook_alpha_at(m))
                            .alpha;
        if (m >= first_eclipsed)  // never below the full-gain factor
          expect = std::max(expect, cfar.alpha_at(d, big_r) * cfar.textbook_alpha_at(m) /
                                        cfar.textbook_alpha_at(big_r));
        EXPECT_NEAR(cfar.alpha_at(d, m), expect, 1e-9 * expect)
            << to_string(t) << " d " << d << " m " << m;
      }
    }
    if (t == CfarType::So) {  // rows 3 above and below zero Doppler (bin 8) at the leading edge
      const double up = cfar.alpha_at(11, 0), down = cfar.alpha_at(5, 0);
      EXPECT_GT(std::max(up, down) / std::min(up, down), 1.2) << up << " " << down;
    }
  }
}

// Every variant's calibrated factor, on correlated cells (window-tapered filter, hann, with and
// without MTI, interior and range-edge windows, 1 and 2 looks), gives the design Pfa 1e-2 in a
// brute-force Monte Carlo of 10^5 trials: 1000 expected crossings, binomial sd 31.5 (3.2%);
// the band is +-4 sd plus the solver's own Monte Carlo error for GO/SO/OS (5%).
struct BruteCase {
  CfarType type;
  std::size_t m, looks;
  bool mti;
};
class CfarCalibrationBrute : public ::testing::TestWithParam<BruteCase> {};

TEST_P(CfarCalibrationBrute, SolvedFactorGivesTheDesignPfa) {
  const BruteCase bc = GetParam();
  const double pfa = 1e-2;
  const CfarConfig cfg = small_cfar(bc.type, pfa);
  const cpu::CellCorrelation c = bc.mti ? small_correlation({1.0, -2.0, 1.0}) : small_correlation();
  const cpu::WindowCells w = cpu::window_cells(cfg, bc.m, c.gates);
  const auto kd = cpu::doppler_covariance(c, 5, cfg.guard_doppler + cfg.train_doppler);
  const auto kr = cpu::range_covariance(c, w.first_gate, w.cols);
  const std::size_t n = w.n_lead + w.n_lag, k = (3 * n + 2) / 4;
  const double tb = cpu::cfar_alpha(bc.type, pfa, w.n_lead, w.n_lag, k, bc.looks);
  const cpu::CalibratedAlpha a =
      cpu::solve_calibrated_alpha(bc.type, pfa, bc.looks, k, w, kd, kr, tb);
  EXPECT_LT(a.effective_cells, 0.9 * double(n));  // the cells are correlated
  const std::size_t trials = 100000;
  const double hits =
      double(brute_force_crossings(bc.type, a.alpha, bc.looks, k, w, kd, kr, trials, 7 + bc.m));
  const double expect = pfa * trials, sd = std::sqrt(expect * (1 - pfa));
  const double band = 4 * sd + (a.exact ? 0.0 : 0.05 * expect);
  EXPECT_NEAR(hits, expect, band) << "alpha " << a.alpha << " (textbook " << tb << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Variants, CfarCalibrationBrute,
    ::testing::Values(BruteCase{CfarType::Ca, 10, 1, false}, BruteCase{CfarType::Ca, 0, 1, false},
                      BruteCase{CfarType::Ca, 10, 2, true}, BruteCase{CfarType::Go, 10, 1, false},
                      BruteCase{CfarType::Go, 2, 1, true}, BruteCase{CfarType::So, 10, 1, false},
                      BruteCase{CfarType::So, 0, 1, false}, BruteCase{CfarType::So, 10, 2, true},
                      BruteCase{CfarType::So, 0, 1, true}, BruteCase{CfarType::Go, 0, 1, true},
                      BruteCase{CfarType::Os, 10, 1, false}, BruteCase{CfarType::Os, 1, 2, true}),
    [](const auto& p) {
      return std::string(to_string(p.param.type)) + "_m" + std::to_string(p.param.m) + "_L" +
             std::to_string(p.param.looks) + (p.param.mti ? "_mti" : "");
    });

}  // namespace
}  // namespace radarpipe
