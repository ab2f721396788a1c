// Independent references for the tests: written from RADAR-MODEL.md directly, in double
// precision, with the obvious O(N^2) algorithms, and sharing no code with kernels/.
#pragma once

#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"

namespace radarpipe::test {

using cd = std::complex<double>;

/// y[m] = sum_k x[m+k] conj(h[k]) for m in [0, n), x taken as zero beyond its end.
std::vector<cd> direct_correlation(const std::vector<cd>& x, const std::vector<cd>& h);

/// X[k] = sum_p x[p] exp(-j 2 pi p k / m) for k in [0, m), x zero-padded to m.
std::vector<cd> direct_dft(const std::vector<cd>& x, std::size_t m);

/// The same values in single precision (the pipeline's sample type).
std::vector<cf32> to_cf32(const std::vector<cd>& x);

/// One complex number of two draws of `d`, the imaginary part's drawn first. In sequence, never
/// as a constructor's two arguments (cd(d(rng), d(rng))), whose order of evaluation is
/// unspecified: gcc and clang drew the same seed's numbers the other way round. The order is
/// gcc's, so the seeded data of the tests stay what they were.
template <class T = double, class Dist, class Rng>
std::complex<T> draw_complex(Dist& d, Rng& rng) {
  const T im = static_cast<T>(d(rng));
  const T re = static_cast<T>(d(rng));
  return {re, im};
}

/// Seeded circular complex Gaussian noise of the given variance per complex sample.
std::vector<cd> complex_noise(std::size_t n, double variance, std::uint64_t seed);

/// Exponential(1) samples, the square-law noise power of the CFAR model.
std::vector<float> exponential_map(std::size_t n, std::uint64_t seed);

/// One CFAR crossing of the brute-force reference.
struct RefCrossing {
  std::size_t d, m;
  double z;
  bool operator<(const RefCrossing& o) const { return d != o.d ? d < o.d : m < o.m; }
};

/// Brute-force CFAR, per cell, visiting the window offset by offset (RADAR-MODEL.md "CFAR"):
/// the training cells are enumerated explicitly, split into halves by the sign of (dr, dd),
/// Z computed by the variant's definition, detection if P > alpha(m) * Z. alpha and the OS
/// rank per range bin are inputs (the threshold factor is what the Pfa tests check).
std::vector<RefCrossing> brute_force_cfar(const std::vector<float>& map, std::size_t doppler_bins,
                                          std::size_t gates, const CfarConfig& cfg,
                                          const std::vector<double>& alpha_at_m,
                                          const std::vector<std::size_t>& os_k_at_m);

/// A point target for the echo generator.
struct Target {
  double range_m = 0;
  double range_rate_mps = 0;  ///< positive receding
  double amplitude = 1;       ///< A, per-sample single-pulse amplitude
  double phase_rad = 0;
};

/// The model's continuous pulse s(t), written here from RADAR-MODEL.md "Waveform".
cd model_pulse(const WaveformConfig& w, double t_s);

/// Adds the echoes of targets to every channel c of cpi (RADAR-MODEL.md "Echo of a point
/// target"), with channel gains g (size channels, or empty for 1).
void add_echoes(Cpi& cpi, const RadarConfig& radar, const std::vector<Target>& targets,
                const std::vector<cd>& gains = {});

/// Adds circular complex Gaussian noise of variance sigma2 to every sample.
void add_noise(Cpi& cpi, double sigma2, std::uint64_t seed);

/// A mode with the example values, modified by the tests.
Mode example_mode();

/// Path of a file in the source tree (RADARPIPE_SOURCE_DIR set by CTest).
std::string source_path(const std::string& relative);

}  // namespace radarpipe::test
