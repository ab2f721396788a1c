#include "kernels/cpu/window.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>

namespace radarpipe {
namespace {

void expect_vec(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

WindowConfig win(WindowType t, int nbar = 4, double sll = 35, double att = 60) {
  return WindowConfig{t, nbar, sll, att};
}

TEST(Window, ClosedFormCosineWindows) {
  expect_vec(cpu::make_window(win(WindowType::Hamming), 5), {0.08, 0.54, 1.0, 0.54, 0.08}, 1e-15);
  expect_vec(cpu::make_window(win(WindowType::Hann), 5), {0.0, 0.5, 1.0, 0.5, 0.0}, 1e-15);
  expect_vec(cpu::make_window(win(WindowType::Rect), 3), {1, 1, 1}, 0);
  expect_vec(cpu::make_window(win(WindowType::Hann), 1), {1.0}, 0);
}

// Reference values printed by scipy.signal.windows (tests/support/reference_windows.py).
TEST(Window, MatchesScipyReferenceValues) {
  expect_vec(cpu::make_window(win(WindowType::Blackman), 7),
             {0.0, 0.13, 0.63, 1.0, 0.63, 0.13, 0.0}, 1e-14);
  expect_vec(cpu::make_window(win(WindowType::Taylor, 4, 35), 9),
             {0.19908888948480907, 0.4096634320417182, 0.6881493509751084, 0.9118861574816508, 1.0,
              0.9118861574816508, 0.6881493509751084, 0.4096634320417182, 0.19908888948480907},
             1e-12);
  expect_vec(cpu::make_window(win(WindowType::Taylor, 5, 40), 8),
             {0.15143066785291612, 0.41169504104977533, 0.738365757237468, 0.967934002139391,
              0.967934002139391, 0.738365757237468, 0.41169504104977533, 0.15143066785291612},
             1e-12);
  expect_vec(cpu::make_window(win(WindowType::Chebyshev, 4, 35, 60), 9),
             {0.05186856359432399, 0.22712393362332237, 0.5379172015600897, 0.8604844373949189, 1.0,
              0.8604844373949189, 0.5379172015600897, 0.22712393362332237, 0.05186856359432399},
             1e-12);
  expect_vec(cpu::make_window(win(WindowType::Chebyshev, 4, 35, 50), 8),
             {0.0945513179021363, 0.34937507989817923, 0.71822374676015, 1.0, 1.0, 0.71822374676015,
              0.34937507989817923, 0.0945513179021363},
             1e-12);
}

// Peak sidelobe (dB below the mainlobe) of a window, from a 64x zero-padded direct DFT.
double peak_sidelobe_db(const std::vector<double>& w) {
  const std::size_t m = w.size() * 64;
  std::vector<double> mag(m / 2);
  for (std::size_t k = 0; k < m / 2; ++k) {
    std::complex<double> acc = 0;
    for (std::size_t n = 0; n < w.size(); ++n)
      acc +=
          w[n] * std::polar(1.0, -2 * M_PI * static_cast<double>(n * k) / static_cast<double>(m));
    mag[k] = std::abs(acc);
  }
  std::size_t k = 1;
  while (k + 1 < mag.size() && mag[k + 1] < mag[k]) ++k;  // walk down the mainlobe to its null
  double side = 0;
  for (; k < mag.size(); ++k) side = std::max(side, mag[k]);
  return 20 * std::log10(side / mag[0]);
}

TEST(Window, TaylorPeakSidelobeIsTheRequestedLevel) {
  for (double sll : {30.0, 35.0, 45.0}) {
    const double psl = peak_sidelobe_db(cpu::make_window(win(WindowType::Taylor, 6, sll), 128));
    EXPECT_LT(psl, -sll + 0.6) << sll;
    EXPECT_GT(psl, -sll - 1.5) << sll;
  }
}

TEST(Window, ChebyshevSidelobesAreAllAtTheAttenuation) {
  for (std::size_t n : {31u, 64u}) {
    const double psl = peak_sidelobe_db(cpu::make_window(win(WindowType::Chebyshev, 4, 35, 60), n));
    EXPECT_NEAR(psl, -60.0, 0.3) << n;
  }
}

TEST(Window, NormalizeEnergyGivesUnitEnergy) {
  auto w = cpu::make_window(win(WindowType::Taylor), 37);
  cpu::normalize_energy(w);
  double e = 0;
  for (double v : w) e += v * v;
  EXPECT_NEAR(e, 1.0, 1e-14);
}

TEST(Window, AllWindowsAreSymmetric) {
  for (WindowType t : {WindowType::Hann, WindowType::Hamming, WindowType::Blackman,
                       WindowType::Taylor, WindowType::Chebyshev}) {
    for (std::size_t n : {2u, 7u, 16u, 33u}) {
      const auto w = cpu::make_window(win(t), n);
      for (std::size_t i = 0; i < n; ++i)
        EXPECT_NEAR(w[i], w[n - 1 - i], 1e-12) << to_string(t) << n;
    }
  }
}

}  // namespace
}  // namespace radarpipe
