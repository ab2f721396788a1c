// The CUDA stages' per-element math (kernels/cuda/stage_math.hpp), run on the host: what the
// GPU kernels compute, cell by cell and in the same order, checked against independent
// references (brute-force CFAR, sorting, direct sums) and the CPU stages. Runs in every build,
// with or without a GPU, so the GPU's arithmetic is tested in CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/radar_math.hpp"
#include "kernels/cpu/cfar.hpp"
#include "kernels/cuda/stage_math.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

namespace sm = stage_math;

TEST(CudaStageMath, ComplexProductAndCi16Conversion) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (int i = 0; i < 1000; ++i) {
    const std::complex<double> a = test::draw_complex(u, rng);
    const std::complex<double> b = test::draw_complex(u, rng);
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
                                                const cpu::Cfar& ref, double* noise_sum = nullptr) {
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
      if (noise_sum) *noise_sum += z;
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

// The CFAR kernel's tiling, emulated on the host block by block and thread by thread as
// kernels/cuda/cfar.cu runs it: every map cell is decided by exactly one (block, thread, row);
// every tile load reads a row inside the map (Doppler wrapped) and a column inside it or marks
// it off the map; and every window cell a CUT reads lies inside its block's tile and holds
// P[d + dd mod M][m + j] (0 off the map). Geometries: Doppler sizes not a multiple of the rows
// per block (the last block's wrapped halo), gate counts that are multiples of 32 and 128 and
// not, 1..8 rows per block (windows that need more than 48 KB, or a small shared limit), a
// window as wide as the map, and a bench-matx-sized map.
TEST(CudaStageMath, CfarTilesCoverEveryCellOnceAndHalosStayInTheMap) {
  struct Geometry {
    int doppler_bins, gates, maps, gr, gd, tr, td;
    bool os;
    std::size_t shared_limit;
  };
  const std::size_t k48 = 48 * 1024, k227 = 227 * 1024;  // default and H100/H200 opt-in
  const std::vector<Geometry> cases = {
      {64, 600, 1, 2, 2, 8, 4, false, k227},    // the demo's window
      {61, 600, 2, 2, 2, 8, 4, false, k227},    // M not a multiple of 8
      {13, 128, 1, 1, 1, 4, 2, false, k227},    // one x block exactly
      {17, 256, 3, 0, 0, 3, 1, true, k227},     // multiple of 128, OS
      {9, 96, 1, 1, 2, 5, 2, false, k227},      // multiple of 32, not 128
      {7, 13, 1, 1, 1, 5, 2, false, k227},      // window as wide as the map (2R + 1 = 13)
      {33, 300, 1, 4, 4, 40, 12, false, k227},  // > 48 KB at 8 rows: fewer rows per block
      {33, 300, 1, 4, 4, 40, 12, false, k48},   // a device with 48 KB: 1 or 2 rows
      {5, 21, 2, 0, 0, 10, 2, true, k48},       // M smaller than the rows per block
      {256, 9000, 1, 2, 2, 8, 4, false, k227},  // bench-matx
  };
  for (const Geometry& g : cases) {
    sm::CfarWindow w;
    w.gr = g.gr;
    w.gd = g.gd;
    w.tr = g.tr;
    w.td = g.td;
    const int rows = sm::cfar_rows_per_block(g.shared_limit, w, g.os);
    ASSERT_GE(rows, 1);
    ASSERT_LE(rows, 8);
    if (rows < 8) {  // the largest that fits
      EXPECT_GT(sm::cfar_shared_bytes(rows * 2, w, g.os), g.shared_limit);
    }
    EXPECT_LE(sm::cfar_shared_bytes(rows, w, g.os), g.shared_limit) << g.gates;
    ASSERT_EQ(sm::cfar_grid_error(g.doppler_bins, g.gates, g.maps, rows), "");
    const sm::CfarGrid grid = sm::cfar_grid(g.doppler_bins, g.gates, g.maps, rows);
    const int tw = sm::cfar_tile_width(w), tile_rows = rows + 2 * w.big_d();
    std::vector<std::uint8_t> decided(std::size_t(g.maps) * g.doppler_bins * g.gates, 0);
    // The map's cell values are their own indices + 1, so a read can be checked by value.
    auto value = [&](int d, int m) { return float(d * g.gates + m + 1); };
    std::vector<float> tile(std::size_t(tile_rows) * tw);
    for (long long z = 0; z < grid.z; ++z) {
      for (long long by = 0; by < grid.y; ++by) {
        for (long long bx = 0; bx < grid.x; ++bx) {
          const int d0 = int(by) * rows, m0 = int(bx) * sm::kCfarTileGates;
          for (int i = 0; i < tile_rows * tw; ++i) {
            int row, col;
            bool inside;
            sm::cfar_tile_source(i, w, d0, m0, g.doppler_bins, g.gates, &row, &col, &inside);
            ASSERT_GE(row, 0);
            ASSERT_LT(row, g.doppler_bins);
            if (inside) {
              ASSERT_GE(col, 0);
              ASSERT_LT(col, g.gates);
            }
            tile[std::size_t(i)] = inside ? value(row, col) : 0.0f;
          }
          for (int tid = 0; tid < sm::kCfarTileGates; ++tid) {
            const int m = m0 + tid;
            for (int r = 0; r < rows; ++r) {
              const int d = d0 + r;
              if (d >= g.doppler_bins) break;
              if (m >= g.gates) continue;
              ++decided[(std::size_t(z) * g.doppler_bins + d) * g.gates + m];
              // Every window cell the CUT's decision reads, at its tile position.
              for (int dd = -w.big_d(); dd <= w.big_d(); ++dd) {
                for (int j = -w.big_r(); j <= w.big_r(); ++j) {
                  const int tr = r + w.big_d() + dd, tc = tid + w.big_r() + j;
                  ASSERT_GE(tr, 0);
                  ASSERT_LT(tr, tile_rows);
                  ASSERT_GE(tc, 0);
                  ASSERT_LT(tc, tw);
                  const int c = m + j;
                  const float want =
                      c >= 0 && c < g.gates ? value(sm::wrap_row(d + dd, g.doppler_bins), c) : 0.0f;
                  ASSERT_EQ(tile[std::size_t(tr) * tw + tc], want)
                      << "M " << g.doppler_bins << " N " << g.gates << " d " << d << " m " << m
                      << " dd " << dd << " j " << j;
                }
              }
            }
          }
        }
      }
    }
    for (std::size_t i = 0; i < decided.size(); ++i)
      ASSERT_EQ(decided[i], 1) << "cell " << i << " of M " << g.doppler_bins << " N " << g.gates;
  }
}

// A grid CUDA cannot launch is refused with its reason at construction (cuda::Cfar calls this).
TEST(CudaStageMath, CfarGridBeyondCudaLimitsIsRefusedWithTheReason) {
  EXPECT_EQ(sm::cfar_grid_error(65535LL * 8, 1000, 1, 8), "");
  const std::string rows = sm::cfar_grid_error(65535LL * 8 + 1, 1000, 1, 8);
  EXPECT_NE(rows.find("524281 Doppler bins"), std::string::npos) << rows;
  EXPECT_NE(rows.find("65535"), std::string::npos) << rows;
  EXPECT_EQ(sm::cfar_grid_error(65535, 1000, 1, 1), "");
  EXPECT_NE(sm::cfar_grid_error(65536, 1000, 1, 1), "");
  const std::string maps = sm::cfar_grid_error(64, 1000, 65536, 8);
  EXPECT_NE(maps.find("65536 maps"), std::string::npos) << maps;
}

// The CA noise estimate Z differs between the backends only by round-off: the CPU stage forms
// interior sums from range prefix sums times 1/n, the GPU kernel sums each window directly and
// divides. Decisions are identical here, and the noise statistic (the sum of Z over every
// cell, in double, which the reports' noise_power_db comes from) agrees to 1e-11 relative on a
// bench-matx-wide map with strong cells, where the prefix sums are large against a window's
// sum (docs/signal-chain.md states this tolerance).
TEST(CudaStageMath, CaNoiseEstimateAgreesWithTheCpuStage) {
  const Case c{CfarType::Ca, 16, 9000, 2, 2, 8, 4};
  std::vector<float> map = test::exponential_map(c.doppler_bins * c.gates, 4242);
  std::mt19937 rng(7);
  for (float& v : map)
    if (rng() % 50 == 0) v *= 1000.0f;  // clutter-like cells: large prefix sums
  cpu::CfarStageConfig sc;
  sc.cfar = config_of(c);
  sc.doppler_bins = c.doppler_bins;
  sc.gates = c.gates;
  cpu::Cfar cpu_stage(sc);
  std::vector<cpu::CfarCrossing> xs(map.size());
  const cpu::CfarStats st = cpu_stage.process(map.data(), xs.data(), xs.size());
  double gpu_noise = 0.0;
  const std::vector<test::RefCrossing> got = emulate_gpu_cfar(map, c, cpu_stage, &gpu_noise);
  ASSERT_GT(st.crossings, 100u);
  ASSERT_EQ(got.size(), st.crossings);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(xs[i].doppler_bin, got[i].d);
    ASSERT_EQ(xs[i].range_bin, got[i].m);
  }
  ASSERT_EQ(st.noise_cells, map.size());
  const double rel = std::abs(st.noise_sum - gpu_noise) / gpu_noise;
  std::printf("noise statistic: relative difference %.3g over %zu cells\n", rel, map.size());
  EXPECT_LT(rel, 1e-11);
}

}  // namespace
}  // namespace radarpipe
