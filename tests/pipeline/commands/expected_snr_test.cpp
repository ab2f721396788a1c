// The truth file's expected SNR against a measurement through the chain: the peak power of a
// noise-free echo (test-side generator) over the mean noise power per cell of a noise-only CPI.
#include "pipeline/commands/expected_snr.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/radar_math.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "tests/support/reference.hpp"

using namespace radarpipe;

namespace {

struct Case {
  const char* name;
  WaveformType waveform;
  MtiMode mti;
  WindowType range_window, doppler_window;
  double range_m, range_rate_mps;
};

}  // namespace

class ExpectedSnrCase : public ::testing::TestWithParam<Case> {};

TEST_P(ExpectedSnrCase, MatchesTheChainsMeasuredSnr) {
  const Case c = GetParam();
  Mode mode = test::example_mode();
  mode.radar.range_gates = 400;
  mode.processing.pulses = 32;
  mode.processing.doppler_fft_size = 64;
  mode.radar.waveform.type = c.waveform;
  mode.radar.waveform.pulse_width_s = 3e-6;
  mode.radar.waveform.barker_length = 13;
  mode.radar.waveform.chip_width_s = 0.2e-6;
  mode.processing.mti = c.mti;
  mode.processing.range_window = WindowConfig{c.range_window};
  mode.processing.doppler_window = WindowConfig{c.doppler_window, 4, 35.0};
  mode.processing.cfar.pfa = 1e-3;
  ChainOptions one_worker;
  one_worker.threads = 1;
  CpuChain chain(mode, one_worker);
  const ModeGeometry g = derive_geometry(mode);

  // The echo alone, amplitude 0.1 (input SNR -20 dB against sigma^2 = 1): its peak cell.
  Cpi echo(CpiShape{1, 32, 400});
  test::add_echoes(echo, mode.radar, {{c.range_m, c.range_rate_mps, 0.1, 0.3}});
  chain.process(echo);
  std::size_t peak = 0;
  const AlignedBuffer<float>& map = chain.power().data;
  for (std::size_t i = 0; i < map.size(); ++i)
    if (map[i] > map[peak]) peak = i;
  const double ps = map[peak];
  const std::size_t peak_d = peak / 400;

  // Noise only (sigma^2 = 1): the mean power per cell of the peak's Doppler row (MTI colours
  // the noise across Doppler, so the row's own level is the one the CFAR sees), averaged over
  // independent CPIs.
  double pn = 0;
  std::size_t cells = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Cpi noise(CpiShape{1, 32, 400});
    test::add_noise(noise, 1.0, seed);
    chain.process(noise);
    // Without MTI every Doppler row has the same noise level: use them all (a long rect pulse
    // correlates the compressed noise over its length in range, so one row is not enough).
    for (std::size_t d = 0; d < 64; ++d) {
      if (c.mti != MtiMode::None && d != peak_d) continue;
      for (std::size_t m = 0; m < g.first_eclipsed_bin; ++m, ++cells)
        pn += chain.power().at(0, d, m);
    }
  }
  pn /= static_cast<double>(cells);
  const double measured_db = 10.0 * std::log10(ps / pn);

  io::TargetTruth t;
  t.cpi_snr_db = -20.0;
  t.range_bin =
      (2.0 * c.range_m / kSpeedOfLight_mps - mode.radar.window_start_s) * mode.radar.sample_rate_hz;
  t.doppler_hz = doppler_of_range_rate_hz(c.range_rate_mps, g.wavelength_m);
  double db = bin_of_doppler(t.doppler_hz, 64, g.prf_hz);
  t.doppler_bin = std::fmod(db + 64.0, 64.0);
  ExpectedSnr(mode, {}).fill(t);
  // The noise mean is estimated from ~6000 range-correlated cells: about 0.1 dB.
  EXPECT_NEAR(t.expected_snr_db, measured_db, 0.25) << c.name;
  // Without MTI the noise is white across Doppler and the exact position is the best one.
  if (c.mti == MtiMode::None) {
    EXPECT_GE(t.ideal_snr_db, t.expected_snr_db - 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ExpectedSnrCase,
    ::testing::Values(Case{"lfm_rect", WaveformType::Lfm, MtiMode::None, WindowType::Rect,
                           WindowType::Rect, 1503.3, 11.0},
                      Case{"lfm_windows", WaveformType::Lfm, MtiMode::None, WindowType::Hamming,
                           WindowType::Taylor, 1777.7, -23.4},
                      Case{"lfm_mti2", WaveformType::Lfm, MtiMode::TwoPulse, WindowType::Hann,
                           WindowType::Hann, 1234.5, 31.0},
                      Case{"barker_mti3", WaveformType::Barker, MtiMode::ThreePulse,
                           WindowType::Rect, WindowType::Hamming, 2000.2, -41.0},
                      Case{"rect_pulse", WaveformType::Rect, MtiMode::None, WindowType::Rect,
                           WindowType::Blackman, 1650.0, 5.0}),
    [](const auto& p) { return std::string(p.param.name); });
