#include "kernels/cpu/pulse_compression.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/cpu/simd.hpp"
#include "kernels/cpu/window.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

using test::cd;

struct Size {
  std::size_t gates, length;
};

double rel_error(const std::vector<cd>& ref, const cf32* got) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num += std::norm(cd(got[i].real(), got[i].imag()) - ref[i]);
    den += std::norm(ref[i]);
  }
  return std::sqrt(num / den);
}

class PulseCompressionSizes : public ::testing::TestWithParam<std::tuple<Size, WindowType>> {};

// Against the direct correlation with the test's own unit-energy reference, on random data
// and a random complex waveform, over sizes including odd, prime, L = 1 and L = N.
TEST_P(PulseCompressionSizes, MatchesDirectCorrelation) {
  const auto [sz, wt] = GetParam();
  const auto s = test::complex_noise(sz.length, 1.0, 11 + sz.length);
  cpu::PulseCompressionConfig cfg;
  cfg.gates = sz.gates;
  cfg.waveform = s;
  cfg.window = WindowConfig{wt};
  cpu::PulseCompressor pc(cfg);

  // h = w s / ||w s||, built here from the definition.
  const auto w = cpu::make_window(WindowConfig{wt}, sz.length);
  std::vector<cd> h(sz.length);
  double e = 0;
  for (std::size_t k = 0; k < sz.length; ++k) e += std::norm(h[k] = w[k] * s[k]);
  for (cd& v : h) v /= std::sqrt(e);

  const std::size_t rows = 3;
  const std::vector<cf32> in =
      test::to_cf32(test::complex_noise(rows * sz.gates, 2.0, 99 + sz.gates));
  std::vector<cf32> out(in.size());
  pc.process_rows(in.data(), out.data(), rows, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<cd> xr(in.begin() + r * sz.gates, in.begin() + (r + 1) * sz.gates);
    const auto ref = test::direct_correlation(xr, h);
    EXPECT_LT(rel_error(ref, out.data() + r * sz.gates), 1e-4) << "row " << r;
  }
  EXPECT_EQ(pc.first_eclipsed_bin(), sz.gates - sz.length + 1);
  EXPECT_GE(pc.fft_size(), sz.gates + sz.length - 1);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, PulseCompressionSizes,
    ::testing::Combine(::testing::Values(Size{1, 1}, Size{7, 1}, Size{7, 7}, Size{13, 5},
                                         Size{97, 31}, Size{101, 101}, Size{256, 64},
                                         Size{1000, 200}, Size{1801, 211}),
                       ::testing::Values(WindowType::Rect, WindowType::Hamming)));

TEST(PulseCompression, ReferenceHasUnitEnergy) {
  cpu::PulseCompressionConfig cfg;
  cfg.gates = 500;
  cfg.waveform = test::complex_noise(77, 3.0, 5);
  cfg.window = WindowConfig{WindowType::Taylor};
  cpu::PulseCompressor pc(cfg);
  double e = 0;
  for (const cf32& v : pc.reference()) e += std::norm(v);
  EXPECT_NEAR(e, 1.0, 1e-6);
}

// Unit energy means white noise keeps its power: mean |y|^2 = sigma^2 in the full-gain bins.
TEST(PulseCompression, PreservesWhiteNoisePower) {
  cpu::PulseCompressionConfig cfg;
  cfg.gates = 4096;
  cfg.waveform = test::complex_noise(64, 1.0, 3);
  cfg.window = WindowConfig{WindowType::Hamming};
  cpu::PulseCompressor pc(cfg);
  const std::size_t rows = 64;
  const std::vector<cf32> in = test::to_cf32(test::complex_noise(rows * cfg.gates, 2.5, 17));
  std::vector<cf32> out(in.size());
  pc.process_rows(in.data(), out.data(), rows, 0);
  double p = 0;
  std::size_t n = 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t m = 0; m < pc.first_eclipsed_bin(); ++m, ++n)
      p += std::norm(out[r * cfg.gates + m]);
  // ~260k samples, correlated over 64 lags: relative spread ~ sqrt(64/260k) = 1.6%; allow 8%.
  EXPECT_NEAR(p / static_cast<double>(n), 2.5, 2.5 * 0.08);
}

// A delayed copy of the waveform compresses to sqrt(L) A at the delay bin (rect window).
TEST(PulseCompression, EchoPeaksAtItsDelayWithFullGain) {
  const std::size_t n = 300, l = 40, delay = 123;
  cpu::PulseCompressionConfig cfg;
  cfg.gates = n;
  cfg.waveform = test::complex_noise(l, 1.0, 8);
  for (cd& v : cfg.waveform) v /= std::abs(v);  // unit-modulus code
  cfg.window = WindowConfig{WindowType::Rect};
  cpu::PulseCompressor pc(cfg);
  std::vector<cf32> in(n), out(n);
  for (std::size_t k = 0; k < l; ++k)
    in[delay + k] = 3.0f * cf32(static_cast<float>(cfg.waveform[k].real()),
                                static_cast<float>(cfg.waveform[k].imag()));
  pc.process_rows(in.data(), out.data(), 1, 0);
  std::size_t peak = 0;
  for (std::size_t m = 1; m < n; ++m)
    if (std::abs(out[m]) > std::abs(out[peak])) peak = m;
  EXPECT_EQ(peak, delay);
  EXPECT_NEAR(std::abs(out[peak]), 3.0 * std::sqrt(double(l)), 1e-4 * 3.0 * std::sqrt(double(l)));
}

TEST(PulseCompression, WorkersComputeTheSame) {
  cpu::PulseCompressionConfig cfg;
  cfg.gates = 333;
  cfg.waveform = test::complex_noise(50, 1.0, 2);
  cfg.workers = 3;
  cpu::PulseCompressor pc(cfg);
  const std::vector<cf32> in = test::to_cf32(test::complex_noise(333, 1.0, 4));
  std::vector<cf32> a(333), b(333);
  pc.process_rows(in.data(), a.data(), 1, 0);
  pc.process_rows(in.data(), b.data(), 1, 2);
  EXPECT_EQ(a, b);
}

// Range-tiled output (range_tiles.hpp): every sample lands at its tiled offset with the value
// the row layout gets, for a partial last tile, an odd tile width, and tasks shorter and longer
// than the four pulses stored together, some straddling a channel boundary.
TEST(PulseCompression, TiledOutputHoldsTheRowOutputInRangeTiles) {
  cpu::PulseCompressionConfig cfg;
  cfg.gates = 70;
  cfg.waveform = test::complex_noise(9, 1.0, 3);
  cfg.workers = 2;
  cpu::PulseCompressor pc(cfg);
  const std::size_t channels = 2, pulses = 5, rows = channels * pulses;
  const std::vector<cf32> in = test::to_cf32(test::complex_noise(rows * 70, 1.0, 6));
  std::vector<cf32> rows_out(rows * 70);
  pc.process_rows(in.data(), rows_out.data(), rows, 0);
  for (std::size_t task : {3, 7})
    for (std::size_t t_gates : {16, 7, 70, 1}) {
      const cpu::RangeTiles layout{pulses, 70, t_gates};
      std::vector<cf32> tiled(channels * layout.channel_size(), cf32(-9.0f, -9.0f));
      for (std::size_t r0 = 0; r0 < rows; r0 += task)
        pc.process_rows_tiled(in.data() + r0 * 70, r0, std::min(task, rows - r0), layout,
                              tiled.data(), r0 % 2);
      for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < pulses; ++p)
          for (std::size_t n = 0; n < 70; ++n)
            ASSERT_EQ(tiled[layout.offset(c, p, n)], rows_out[(c * pulses + p) * 70 + n])
                << "task " << task << " T " << t_gates << " c " << c << " p " << p << " n " << n;
    }
}

// The filter multiply's versions against the test's complex product, bit for bit, over lengths
// that leave every tail (SSE2 pairs, AVX2 quads), with a prefetch window of any size.
TEST(PulseCompression, MultiplyVersionsGiveTheProductBitForBit) {
  std::mt19937 rng(17);
  std::normal_distribution<float> g(0.0f, 3.0f);
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 31, 2250, 10001}) {
    AlignedBuffer<cf32> f(n), h(n), f_sse(n), f_avx(n);
    std::vector<cf32> want(n);
    for (std::size_t i = 0; i < n; ++i) {
      f[i] = test::draw_complex<float>(g, rng);
      h[i] = test::draw_complex<float>(g, rng);
      const float a = f[i].real(), b = f[i].imag(), c = h[i].real(), d = h[i].imag();
      want[i] = cf32(a * c - b * d, b * c + a * d);
      f_sse[i] = f_avx[i] = f[i];
    }
    cpu::detail::multiply_spectrum_sse2(
        reinterpret_cast<float*>(f_sse.data()), reinterpret_cast<const float*>(h.data()), n,
        reinterpret_cast<const char*>(want.data()), n * sizeof(cf32));
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(f_sse[i], want[i]) << "SSE2 n " << n << " i " << i;
    if (!cpu::cpu_has_avx2()) continue;
    cpu::detail::multiply_spectrum_avx2(reinterpret_cast<float*>(f_avx.data()),
                                        reinterpret_cast<const float*>(h.data()), n, nullptr, 0);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(f_avx[i], want[i]) << "AVX2 n " << n << " i " << i;
  }
}

TEST(PulseCompression, RejectsWaveformLongerThanGates) {
  cpu::PulseCompressionConfig cfg;
  cfg.gates = 10;
  cfg.waveform = test::complex_noise(11, 1.0, 1);
  EXPECT_THROW(cpu::PulseCompressor{cfg}, std::invalid_argument);
}

TEST(PulseCompression, FastSizesHaveOnlySmallFactors) {
  EXPECT_EQ(cpu::next_fast_fft_size(9999), 10000u);
  EXPECT_EQ(cpu::next_fast_fft_size(1), 1u);
  EXPECT_EQ(cpu::next_fast_fft_size(11), 12u);
  EXPECT_EQ(cpu::next_fast_fft_size(2049), 2058u);  // 2 * 3 * 7^3
}

}  // namespace
}  // namespace radarpipe
