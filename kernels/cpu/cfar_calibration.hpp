// Calibrated CFAR threshold factors (RADAR-MODEL.md "CFAR", docs/signal-chain.md "Calibrated
// thresholds"): the factor alpha that gives the design Pfa when the map's cells are correlated
// the way the chain's own linear stages correlate them on white Gaussian receiver noise.
//
// The cells are Y[d][m] = sum_p w[p] e^(-j 2 pi p k_d / M) sum_j a_j y[p + j][m] with
// y[p][m] = sum_k x[p][m + k] conj(h[k]) (x white, zero beyond the recorded gates), so on noise
// the covariance of two cells factors into a Doppler part and a range part:
//   E[Y[d1][m1] conj Y[d2][m2]] = K_D(d1, d2) K_R(m1, m2).
// K_R is stationary except in the partially eclipsed tail; K_D is stationary except with MTI
// (the canceller's notch makes the noise power vary along Doppler).
//
// For each window the solver takes the covariance of the CUT and its training cells,
// normalised to a CUT of unit power, the CUT's correlation with its training cells included
// (beyond the guard cells it is small in the interior of a well-sampled map, and large in the
// eclipsed tail, where the last bins share their few samples, and between zero-padded Doppler
// bins). CA is exact: with A = diag(1, -alpha/N, ...) the CUT crosses when the Gaussian
// quadratic form y^H A y > 0, whose eigenvalues (one positive, by Sylvester) follow from the
// training cells' eigen-decomposition and a secular equation; Pfa is then the Laplace-transform
// sum of CA's textbook form over them (one look: a product). GO, SO and OS are solved by
// conditional Monte Carlo: seeded correlated samples of the window (exponentially tilted towards
// low noise estimates and boosted along the CUT's predictor, weighted back), the CUT given the
// training cells a complex Gaussian about its predicted mean, and Pfa(alpha) = E[P(CUT > alpha
// Z | training cells)] (a noncentral Gamma tail) averaged over them, solved for alpha with the
// samples fixed. SO takes both halves' exact CA terms and only GO's joint term sampled.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/mode.hpp"

namespace radarpipe::cpu {

/// The chain's linear stages between white receiver noise and the power map: the coefficients
/// the stages themselves use (pulse compression's reference, MTI taps, Doppler window).
struct CellCorrelation {
  std::vector<std::complex<double>> range_reference;  ///< h[k]: y[m] = sum_k x[m+k] conj(h[k])
  std::vector<double> mti_taps{1.0};                  ///< a_j, oldest pulse first ({1}: none)
  std::vector<double> doppler_window;                 ///< w[p], one per pulse after MTI
  std::size_t doppler_fft_size = 0;                   ///< M
  std::size_t gates = 0;                              ///< N (the recorded gates: the eclipse)
  /// The float fast convolution's rounding, a white floor relative to the full-gain noise
  /// power sum |h|^2 (fft_rounding_floor): added to K_R's diagonal by calibrated_factors.
  double rounding_floor = 0;
  bool empty() const { return range_reference.empty(); }
};

/// The rounding floor of a float fast convolution of FFT size n, relative to its full-gain
/// output noise power: u^2 log2(n), u = 2^-24 (the rms error of a float FFT grows as
/// u sqrt(log2 n)). It is all the last bins of a taper ending in zeros (blackman, hann) hold.
/// The CPU chain measured 0.6-1.1 of it at n = 105 to 10^4 (cfar_calibration_test); the
/// factors of the windows that hold those bins move by a few percent for a factor 2 in it.
double fft_rounding_floor(std::size_t fft_size);

/// Covariance (unit input noise) of the range bins m_lo .. m_lo + count - 1 of one pulse after
/// pulse compression, row-major count x count: K_R(m1, m2) = sum over k with m1 + k < N and
/// 0 <= k + m1 - m2 < L of conj(h[k]) h[k + m1 - m2].
std::vector<std::complex<double>> range_covariance(const CellCorrelation& c, std::size_t m_lo,
                                                   std::size_t count);

/// Covariance (unit input noise) of the Doppler rows d - half .. d + half (mod M) of one range
/// bin, row-major (2 half + 1)^2: K_D(d1, d2) = sum_{p1, p2} v1[p1] conj(v2[p2]) R(p1 - p2),
/// v_i[p] = w[p] e^(-j 2 pi p (d_i - M/2) / M), R(t) = sum_j a_j a_{j+t}.
std::vector<std::complex<double>> doppler_covariance(const CellCorrelation& c, long d,
                                                     std::size_t half);

/// One CUT's window: a rows x cols rectangle of the map (rows = 2D + 1, Doppler wrapped; cols:
/// the range bins that exist within R of the CUT). label: 0 CUT or guard, 1 leading half,
/// 2 lagging half (the halves of cfar.hpp: dr < 0 or dr = 0, dd < 0 leads).
struct WindowCells {
  std::size_t rows = 0, cols = 0, cut_row = 0, cut_col = 0;
  std::size_t first_gate = 0;  ///< the map's range bin of column 0
  std::vector<std::uint8_t> label;
  std::size_t n_lead = 0, n_lag = 0;
};
WindowCells window_cells(const CfarConfig& cfar, std::size_t m, std::size_t gates);

/// alpha for one window given its covariance factors (kd: rows x rows, kr: cols x cols, any
/// common scale). os_k: OS rank. textbook_alpha: the independent-cell factor (the Monte Carlo's
/// tilt). effective_cells, when given, gets (tr K_T)^2 / tr(K_T^2) of the training cells.
struct CalibratedAlpha {
  double alpha = 0;
  double effective_cells = 0;
  bool exact = false;  ///< CA by eigenvalues; false: conditional Monte Carlo
};
CalibratedAlpha solve_calibrated_alpha(CfarType type, double pfa, std::size_t looks,
                                       std::size_t os_k, const WindowCells& w,
                                       const std::vector<std::complex<double>>& kd,
                                       const std::vector<std::complex<double>>& kr,
                                       double textbook_alpha);

/// Every threshold factor of one map:
///   alpha(d, m) = range_alpha[m] * row_factor[row_class[m] * M + d].
/// Without MTI there is one class, all ones. With MTI each range window whose cells differ from
/// the interior's (the leading edge's, the tail's) has its own row factors: class 0 is the
/// interior window's.
struct CfarFactorTable {
  std::vector<double> range_alpha;       ///< per range bin, on the reference Doppler row
  std::vector<double> row_factor;        ///< classes x M, row-major
  std::vector<std::uint32_t> row_class;  ///< per range bin
  std::size_t doppler_bins = 0;          ///< M
  double effective_cells = 0;            ///< interior window, reference row
  std::size_t solves = 0;                ///< windows solved (the rest interpolated or shared)
  double seconds = 0;                    ///< wall time of the whole table
  bool exact = false;                    ///< every window solved exactly (CA by eigenvalues)
};

/// Every input that determines calibrated_factors' table, as bytes (with the solver's version):
/// the key under which a CfarFactorStore keeps it.
std::string calibration_key(const CfarConfig& cfar, std::size_t doppler_bins, std::size_t gates,
                            std::size_t looks, const CellCorrelation& corr,
                            const std::vector<double>& textbook_alpha,
                            const std::vector<std::uint32_t>& os_k);

/// Somewhere solved tables outlive the process (pipeline/chain/cfar_factor_cache.hpp: a file
/// per table), so that a chain built again on the same machine does not solve again.
class CfarFactorStore {
 public:
  virtual ~CfarFactorStore() = default;
  /// The table kept under `key` for a map of doppler_bins x gates into `out`; false when there
  /// is none (or what there is was rejected).
  virtual bool load(const std::string& key, std::size_t doppler_bins, std::size_t gates,
                    CfarFactorTable& out) = 0;
  /// Keeps `table` under `key`; a failure to keep it is not an error.
  virtual void save(const std::string& key, const CfarFactorTable& table) = 0;
};

/// The calibrated table. textbook_alpha and os_k per range bin as cfar.cpp computed them.
CfarFactorTable calibrated_factors(const CfarConfig& cfar, std::size_t doppler_bins,
                                   std::size_t gates, std::size_t looks,
                                   const CellCorrelation& corr,
                                   const std::vector<double>& textbook_alpha,
                                   const std::vector<std::uint32_t>& os_k);

}  // namespace radarpipe::cpu
