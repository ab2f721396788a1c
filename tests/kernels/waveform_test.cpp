#include "kernels/cpu/waveform.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

WaveformConfig lfm(double tau, double b, int dir) {
  WaveformConfig w;
  w.type = WaveformType::Lfm;
  w.pulse_width_s = tau;
  w.bandwidth_hz = b;
  w.direction = dir;
  return w;
}

TEST(Waveform, LfmHasUnitModulusAndRoundedLength) {
  const auto s = cpu::sample_waveform(lfm(10.3e-6, 15e6, 1), 20e6);
  ASSERT_EQ(s.size(), 206u);  // round(10.3 us * 20 MHz)
  for (const auto& v : s) EXPECT_NEAR(std::abs(v), 1.0, 1e-12);
}

// Instantaneous frequency from the phase step between samples: -B/2 -> +B/2 for an up-chirp.
TEST(Waveform, LfmSweepsFromMinusHalfToPlusHalfBandwidth) {
  const double fs = 100e6, b = 20e6;
  for (int dir : {1, -1}) {
    const auto s = cpu::sample_waveform(lfm(10e-6, b, dir), fs);
    auto inst = [&](std::size_t k) {
      return std::arg(s[k + 1] * std::conj(s[k])) * fs / (2 * M_PI);
    };
    EXPECT_NEAR(inst(0), -dir * b / 2, b * 0.01);
    EXPECT_NEAR(inst(s.size() - 2), dir * b / 2, b * 0.01);
    EXPECT_NEAR(inst(s.size() / 2), 0.0, b * 0.01);
  }
}

// Barker codes are defined by their aperiodic autocorrelation: peak = length, |sidelobes| <= 1.
TEST(Waveform, BarkerCodesHaveUnitSidelobes) {
  for (int len : {2, 3, 4, 5, 7, 11, 13}) {
    std::vector<int> c(len);
    for (int i = 0; i < len; ++i) {
      c[i] = barker_chip(len, i);
      ASSERT_TRUE(c[i] == 1 || c[i] == -1) << len;
    }
    for (int lag = 0; lag < len; ++lag) {
      int acc = 0;
      for (int i = 0; i + lag < len; ++i) acc += c[i] * c[i + lag];
      if (lag == 0)
        EXPECT_EQ(acc, len);
      else
        EXPECT_LE(std::abs(acc), 1) << "length " << len << " lag " << lag;
    }
  }
  EXPECT_EQ(barker_chip(6, 0), 0);
  EXPECT_EQ(barker_chip(13, 13), 0);
}

TEST(Waveform, BarkerSamplesHoldEachChipForItsDuration) {
  WaveformConfig w;
  w.type = WaveformType::Barker;
  w.barker_length = 13;
  w.chip_width_s = 1e-6;
  const auto s = cpu::sample_waveform(w, 20e6);  // exactly 20 samples per chip
  ASSERT_EQ(s.size(), 260u);
  for (std::size_t k = 0; k < s.size(); ++k)
    ASSERT_EQ(s[k].real(), barker_chip(13, static_cast<int>(k / 20))) << k;
}

TEST(Waveform, RectIsOnesOfRoundedLength) {
  WaveformConfig w;
  w.type = WaveformType::Rect;
  w.pulse_width_s = 1.04e-6;
  const auto s = cpu::sample_waveform(w, 10e6);
  ASSERT_EQ(s.size(), 10u);
  for (const auto& v : s) EXPECT_EQ(v, std::complex<double>(1.0, 0.0));
}

// The shared pulse_value against the test's own transcription of the model, at random times.
TEST(Waveform, PulseValueMatchesModelAtRandomTimes) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> t(-2e-6, 14e-6);
  WaveformConfig b;
  b.type = WaveformType::Barker;
  b.barker_length = 11;
  b.chip_width_s = 1.1e-6;
  WaveformConfig r;
  r.type = WaveformType::Rect;
  r.pulse_width_s = 3e-6;
  for (const WaveformConfig& w : {lfm(10e-6, 15e6, 1), lfm(7e-6, 5e6, -1), b, r}) {
    for (int i = 0; i < 2000; ++i) {
      const double ti = t(rng);
      double re, im;
      pulse_value(w, ti, &re, &im);
      const auto ref = test::model_pulse(w, ti);
      ASSERT_NEAR(re, ref.real(), 1e-9) << ti;
      ASSERT_NEAR(im, ref.imag(), 1e-9) << ti;
    }
  }
}

}  // namespace
}  // namespace radarpipe
