// The CUDA stages' per-element math (kernels/cuda/stage_math.hpp), run on the host: what the
// GPU kernels compute, cell by cell and in the same order, checked against independent
// references (brute-force CFAR, sorting, direct sums) and the CPU stages. Runs in every build,
// with or without a GPU, so the GPU's arithmetic is tested in CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cuda/stage_math.hpp"
#include "pipeline/core/radar_math.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

namespace sm = stage_math;

TEST(CudaStageMath, ComplexProductAndCi16Conversion) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (int i = 0; i < 1000; ++i) {
    const std::complex<double> a(u(rng), u(rng)), b(u(rng), u(rng));
    const sm::Complex r =
        sm::cmul({float(a.real()), float(a.imag())}, {float(b.real()), float(b.imag())});
    const std::complex<double> want = a * b;
    EXPECT_NEAR(r.re, want.real(), 1e-5 * (1 + std::abs(want)));
    EXPECT_NEAR(r.im, want.imag(), 1e-5 * (1 + std::abs(want)));
  }
  const sm::Complex c = sm::ci16_to_complex(-32768, 32767, 1.0f / 32768.0f);
  EXPECT_FLOAT_EQ(c.re, -1.0f);
  EXPECT_FLOAT_EQ(c.im, 32767.0f / 32768.0f);
}

// The MTI + window sample against the canceller written out in double.
TEST(CudaStageMath, MtiWindowSampleIsTheWeightedCancellerOutput) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  std::vector<std::complex<float>> y(40);
  for (auto& v : y) v = {g(rng), g(rng)};
  const double want_taps[3][3] = {{1, 0, 0}, {-1, 1, 0}, {1, -2, 1}};
  for (int mode = 0; mode < 3; ++mode) {
    float taps[3];
    const int order = mti_taps(mode, taps);
    EXPECT_EQ(order, mode);
    auto col = [&](int q) { return sm::Complex{y[q].real(), y[q].imag()}; };
    for (int p = 0; p + order < 40; ++p) {
      const float w = 0.25f + 0.01f * static_cast<float>(p);
      const sm::Complex s = sm::mti_window_sample(col, p, order, taps, w);
      std::complex<double> want = 0;
      for (int j = 0; j <= order; ++j)
        want += want_taps[mode][j] * std::complex<double>(y[p + j].real(), y[p + j].imag());
      want *= w;
      EXPECT_NEAR(s.re, want.real(), 1e-5) << mode << " " << p;
      EXPECT_NEAR(s.im, want.imag(), 1e-5) << mode << " " << p;
    }
  }
}

// Row d of the shifted map shows the FFT bin whose frequency k PRF / M, aliased into
// [-PRF/2, PRF/2), is the model's f_D of row d; every bin appears exactly once.
TEST(CudaStageMath, DopplerSourceBinIsTheFftShift) {
  for (int m : {1, 2, 3, 7, 8, 64, 127, 256}) {
    std::vector<int> seen(m, 0);
    for (int d = 0; d < m; ++d) {
      const int k = sm::doppler_source_bin(d, m);
      ASSERT_GE(k, 0);
      ASSERT_LT(k, m);
      ++seen[k];
      double f = static_cast<double>(k) / m;  // in PRF units
      if (f >= 0.5) f -= 1.0;
      EXPECT_NEAR(doppler_of_bin_hz(d, m, 1.0), f, 1e-12) << "M " << m << " d " << d;
    }
    for (int k = 0; k < m; ++k) EXPECT_EQ(seen[k], 1) << "M " << m;
  }
  EXPECT_EQ(sm::wrap_row(-1, 8), 7);
  EXPECT_EQ(sm::wrap_row(8, 8), 0);
  EXPECT_EQ(sm::wrap_row(-17, 8), 7);
}

TEST(CudaStageMath, FloatOrderKeysSortLikeFloats) {
  std::vector<float> v = {-std::numeric_limits<float>::infinity(),
                          -3.5f,
                          -1e-30f,
                          -0.0f,
                          0.0f,
                          1e-38f,
                          1.0f,
                          2.5f,
                          1e30f,
                          std::numeric_limits<float>::infinity()};
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 10.0f);
  for (int i = 0; i < 500; ++i) v.push_back(g(rng));
  for (float a : v) {
    EXPECT_EQ(sm::float_of_order_key(sm::float_order_key(a)), a);
    for (float b : v) {
      if (a < b) {
        EXPECT_LT(sm::float_order_key(a), sm::float_order_key(b)) << a << " " << b;
      }
    }
  }
}

TEST(CudaStageMath, BitsBelowCountsTheLowerSetBits) {
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    const std::uint32_t w = static_cast<std::uint32_t>(rng());
    std::uint32_t rank = 0;
    for (int b = 0; b < 32; ++b) {
      EXPECT_EQ(sm::bits_below(w, b), rank);
      rank += (w >> b) & 1u;
    }
  }
}

struct Case {
  CfarType type;
  std::size_t doppler_bins, gates, gr, gd, tr, td;
};

CfarConfig config_of(const Case& c) {
  CfarConfig cfg;
  cfg.type = c.type;
  cfg.guard_range = c.gr;
  cfg.guard_doppler = c.gd;
  cfg.train_range = c.tr;
  cfg.train_doppler = c.td;
  cfg.pfa = 1e-2;  // many crossings on noise, so the decisions are exercised
  cfg.os_rank = 0.7;
  return cfg;
}

sm::CfarWindow window_of(const CfarConfig& c) {
  sm::CfarWindow w;
  w.gr = int(c.guard_range);
  w.gd = int(c.guard_doppler);
  w.tr = int(c.train_range);
  w.td = int(c.train_doppler);
  return w;
}

// The GPU kernel's algorithm, cell by cell on the host: band sums per column (zero off the
// map), halves from them, Z and the decision; OS by counting, Z by the bitwise selection.
std::vector<test::RefCrossing> emulate_gpu_cfar(const std::vector<float>& map, const Case& c,
                                                const cpu::Cfar& ref) {
  const CfarConfig cfg = config_of(c);
  const sm::CfarWindow w = window_of(cfg);
  const int md = int(c.doppler_bins), n = int(c.gates);
  auto at = [&](int d, int m) { return map[std::size_t(sm::wrap_row(d, md)) * n + m]; };
  std::vector<test::RefCrossing> out;
  for (int d = 0; d < md; ++d) {
    for (int m = 0; m < n; ++m) {
      const float p = at(d, m);
      if (c.type == CfarType::Os) {
        auto tile = [&](int dd, int col) { return at(d + dd, col); };
        const bool hit = sm::os_count_below(tile, m, n, w, static_cast<float>(ref.alpha_at(m)),
                                            p) >= int(ref.os_rank_at(m));
        if (hit)
          out.push_back({std::size_t(d), std::size_t(m),
                         sm::os_select(tile, m, n, w, int(ref.os_rank_at(m)))});
        continue;
      }
      auto bands = [&](int col, double* lead, double* guard, double* lag) {
        if (col < 0 || col >= n) {
          *lead = *guard = *lag = 0.0;
          return;
        }
        sm::cfar_column_bands([&](int dd) { return at(d + dd, col); }, w, lead, guard, lag);
      };
      auto full = [&](int j) {
        double a, g, b;
        bands(m + j, &a, &g, &b);
        return a + g + b;
      };
      auto guard = [&](int j) {
        double a, g, b;
        bands(m + j, &a, &g, &b);
        return g;
      };
      double lead0, g0, lag0, s1, s2;
      bands(m, &lead0, &g0, &lag0);
      sm::cfar_halves(full, guard, lead0, lag0, w, &s1, &s2);
      const double z = sm::cfar_noise(int(c.type), s1, s2, double(ref.leading_cells_at(m)),
                                      double(ref.lagging_cells_at(m)));
      if (sm::cfar_hit(p, ref.alpha_at(m), z)) out.push_back({std::size_t(d), std::size_t(m), z});
    }
  }
  return out;
}

class CudaCfarMath : public ::testing::TestWithParam<Case> {};

// Identical decisions to the brute-force reference (and so to the CPU stage, which the CFAR
// tests hold to the same reference), Z within float round-off, on exponential noise with
// targets, over range edges and the Doppler wrap.
TEST_P(CudaCfarMath, MatchesBruteForceCellByCell) {
  const Case c = GetParam();
  std::vector<float> map = test::exponential_map(c.doppler_bins * c.gates, 99 + c.gates);
  std::mt19937 rng(static_cast<unsigned>(c.gates));
  for (float& v : map)
    if (rng() % 15 == 0) v *= 30.0f;  // strong cells at random places
  cpu::CfarStageConfig sc;
  sc.cfar = config_of(c);
  sc.doppler_bins = c.doppler_bins;
  sc.gates = c.gates;
  const cpu::Cfar ref(sc);
  std::vector<double> alpha(c.gates);
  std::vector<std::size_t> k(c.gates);
  for (std::size_t m = 0; m < c.gates; ++m) {
    alpha[m] = ref.alpha_at(m);
    k[m] = ref.os_rank_at(m);
  }
  std::vector<test::RefCrossing> want =
      test::brute_force_cfar(map, c.doppler_bins, c.gates, sc.cfar, alpha, k);
  std::vector<test::RefCrossing> got = emulate_gpu_cfar(map, c, ref);
  std::sort(want.begin(), want.end());
  ASSERT_GE(want.size(), std::max<std::size_t>(2, map.size() / 100));  // hits and misses both
  ASSERT_LT(want.size(), map.size() / 2);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].d, want[i].d) << i;
    ASSERT_EQ(got[i].m, want[i].m) << i;
    EXPECT_NEAR(got[i].z, want[i].z, 1e-5 * std::abs(want[i].z)) << i;
  }

  // And the CPU stage's crossings, cell for cell.
  std::vector<cpu::CfarCrossing> xs(map.size());
  cpu::Cfar cpu_stage(sc);
  const cpu::CfarStats st = cpu_stage.process(map.data(), xs.data(), xs.size());
  ASSERT_EQ(st.crossings, got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(xs[i].doppler_bin, got[i].d);
    EXPECT_EQ(xs[i].range_bin, got[i].m);
    EXPECT_NEAR(xs[i].noise, got[i].z, 1e-5 * std::abs(got[i].z));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, CudaCfarMath,
    ::testing::Values(Case{CfarType::Ca, 16, 50, 2, 1, 4, 2},
                      Case{CfarType::Go, 16, 50, 2, 1, 4, 2},
                      Case{CfarType::So, 16, 50, 2, 1, 4, 2},
                      Case{CfarType::Os, 16, 50, 2, 1, 4, 2},
                      // The smallest map the window fits (2R+1 gates, 2D+1 Doppler bins).
                      Case{CfarType::Ca, 7, 13, 1, 1, 5, 2}, Case{CfarType::Go, 7, 13, 1, 1, 5, 2},
                      Case{CfarType::So, 5, 21, 0, 0, 10, 2}, Case{CfarType::Os, 7, 13, 1, 1, 5, 2},
                      // No Doppler training (range-only window), no guard at all.
                      Case{CfarType::Ca, 9, 40, 1, 0, 6, 0}, Case{CfarType::Go, 9, 40, 0, 0, 3, 1},
                      Case{CfarType::Os, 9, 40, 0, 2, 3, 0}));

// The bitwise selection is the k-th smallest for every k, with ties and negative values.
TEST(CudaStageMath, OsSelectIsTheKthSmallest) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> u(-20, 20);
  const int md = 9, n = 23;
  std::vector<float> map(md * n);
  for (float& v : map) v = 0.5f * static_cast<float>(u(rng));  // many ties
  sm::CfarWindow w;
  w.gr = 1;
  w.gd = 1;
  w.tr = 3;
  w.td = 2;
  for (int d : {0, 4, 8}) {
    for (int m : {0, 1, 5, 11, 21, 22}) {
      auto at = [&](int dd, int c) { return map[std::size_t(sm::wrap_row(d + dd, md)) * n + c]; };
      std::vector<float> vals;
      sm::os_for_each_training(at, m, n, w, [&](float x) { vals.push_back(x); });
      std::vector<float> sorted = vals;
      std::sort(sorted.begin(), sorted.end());
      for (int k = 1; k <= int(vals.size()); ++k)
        ASSERT_EQ(sm::os_select(at, m, n, w, k), sorted[k - 1]) << d << " " << m << " " << k;
      const float alpha = 1.5f, p = 3.0f;
      int below = 0;
      for (float x : vals) below += alpha * x < p;
      EXPECT_EQ(sm::os_count_below(at, m, n, w, alpha, p), below);
    }
  }
}

}  // namespace
}  // namespace radarpipe
