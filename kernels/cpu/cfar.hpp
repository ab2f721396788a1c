// 2-D CFAR on a square-law power map P[d][m] (RADAR-MODEL.md "CFAR"): CA, GO, SO, OS.
//
// Window around the cell under test (d, m): offsets |dr| <= R = g_r + t_r in range and
// |dd| <= D = g_d + t_d in Doppler, minus the guard rectangle |dr| <= g_r, |dd| <= g_d. Doppler
// wraps (row d + dd is taken mod M); range does not: near the range edges only the cells that
// exist are used and the threshold factor alpha is recomputed for their count, exactly, for every
// variant (cfar_alpha below, including GO/SO with unequal halves).
//
// GO/SO halves: the leading half is dr < 0 plus the CUT's own range column above it (dr = 0,
// dd < 0); the lagging half is dr > 0 plus dr = 0, dd > 0. In the interior both hold N/2 cells.
// If an edge leaves a half empty, GO and SO use the other half alone (CA on it).
// OS: k = round(rank * N_eff), clamped to [1, N_eff].
//
// Decision: detect when P(CUT) > alpha(d, m) * Z. CA/GO/SO evaluate Z and the product in double;
// OS compares in float (alpha_f * x < P), the same arithmetic as its reference.
//
// Threshold factors (CfarConfig::threshold): `textbook` solves the formulas above for
// independent exponential cells; `calibrated` (the default) solves them for the correlation the
// chain's linear stages put between the cells (CfarStageConfig::correlation,
// kernels/cpu/cfar_calibration.hpp). alpha(d, m) = range factor alpha_at(m) times the Doppler
// row's factor row_factor_at(d, m) (1 except with MTI, where the range-edge and tail windows
// have rows of their own: row_factor(row_class_at(m), d)), one double multiplication, formed the
// same way by the CUDA kernel; OS's float factor is that product rounded to float. A measured
// factor (CfarConfig::factors, from `radarpipe calibrate`) scales the whole table so that its
// interior factor (range bin R, reference row) is the measured one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cpu/cfar_calibration.hpp"

namespace radarpipe::cpu {

/// Probability of false alarm for threshold factor alpha when every cell of the map is noise
/// summed over `looks` independent exponential powers (Gamma(looks): 1 for a single channel, C
/// for C channels combined noncoherently).
///   n_lead, n_lag : training cells in the leading and lagging halves (CA uses their sum)
///   os_k : rank of the order statistic, 1 <= k <= n_lead + n_lag (OS only)
double cfar_pfa(CfarType type, double alpha, std::size_t n_lead, std::size_t n_lag,
                std::size_t os_k, std::size_t looks = 1);

/// alpha giving the design pfa (closed form for CA with one look, bisection on cfar_pfa
/// otherwise).
double cfar_alpha(CfarType type, double pfa, std::size_t n_lead, std::size_t n_lag,
                  std::size_t os_k, std::size_t looks = 1);

/// One cell above threshold.
struct CfarCrossing {
  std::uint32_t doppler_bin;  ///< d
  std::uint32_t range_bin;    ///< m
  float power;                ///< P(d, m)
  float noise;                ///< Z: the CFAR's noise estimate for the cell
};

struct CfarStats {
  std::uint64_t cells = 0;      ///< cells tested
  std::uint64_t crossings = 0;  ///< cells above threshold (stored or not)
  std::uint64_t stored = 0;     ///< crossings written to the output (<= capacity)
  double noise_sum = 0.0;       ///< sum of Z over the cells it was evaluated on
  std::uint64_t noise_cells = 0;
  void add(const CfarStats& o) {
    cells += o.cells;
    crossings += o.crossings;
    stored += o.stored;
    noise_sum += o.noise_sum;
    noise_cells += o.noise_cells;
  }
};

struct CfarStageConfig {
  CfarConfig cfar;               ///< type, guard and training cells, pfa, os_rank (mode.hpp)
  std::size_t doppler_bins = 0;  ///< M >= 2 D + 1
  std::size_t gates = 0;         ///< N >= 2 R + 1
  std::size_t workers = 1;       ///< threads that may process row blocks at once, >= 1
  /// Range bins [0, noise_gates) feed the noise statistic (CfarStats::noise_sum); the chain
  /// passes the full-gain bins so that the eclipsed tail's lower noise does not bias it.
  /// 0 means all gates.
  std::size_t noise_gates = 0;
  /// Independent exponential powers summed in each map cell (>= 1): the channel count for
  /// noncoherent combining, 1 otherwise. The threshold factors hold the design Pfa for it.
  std::size_t looks = 1;
  /// The chain's linear stages on white noise, for cfar.threshold = calibrated. Empty: the
  /// cells are independent (calibrated and textbook factors are then the same).
  CellCorrelation correlation{};
  /// Where solved tables are kept between runs (none: solved every time). Not owned; used
  /// during construction only.
  CfarFactorStore* factor_store = nullptr;
};

/// How the factors of a Cfar were made (config check reports it).
struct CfarCalibration {
  bool calibrated = false;     ///< factors solved for correlated cells
  bool exact = false;          ///< CA by eigenvalues (else conditional Monte Carlo)
  std::size_t solves = 0;      ///< windows solved
  double seconds = 0;          ///< the solve's (or the load's) wall time
  bool stored = false;         ///< the table came from the factor store, not a solve
  double effective_cells = 0;  ///< interior training cells' (tr K)^2 / tr(K^2); N if independent
  bool rows_vary = false;      ///< Doppler rows have their own factors (MTI)
  /// cfar.factors present: the measured interior factor over the table's (1 otherwise).
  double measured_scale = 1;
};

class Cfar {
 public:
  explicit Cfar(const CfarStageConfig& config);

  const CfarConfig& config() const { return cfg_; }
  std::size_t doppler_bins() const { return doppler_bins_; }
  std::size_t gates() const { return gates_; }
  /// Range bins [0, noise_gates()) feed the noise statistic.
  std::size_t noise_gates() const { return noise_gates_; }
  std::size_t workers() const { return workspaces_.size(); }
  /// Threshold factor, training cells (leading, lagging) and OS rank used at range bin m.
  /// alpha_at(m) is the range factor; the factor at (d, m) is alpha_at(m) * row_factor_at(d, m).
  double alpha_at(std::size_t m) const { return alpha_[m]; }
  double alpha_at(std::size_t d, std::size_t m) const { return alpha_[m] * row_factor_at(d, m); }
  double row_factor_at(std::size_t d, std::size_t m) const {
    return row_factor_[row_class_[m] * doppler_bins_ + d];
  }
  /// The row factors' table: row_classes() x doppler_bins(), and each range bin's class.
  std::size_t row_classes() const { return row_factor_.size() / doppler_bins_; }
  std::uint32_t row_class_at(std::size_t m) const { return row_class_[m]; }
  double row_factor(std::size_t row_class, std::size_t d) const {
    return row_factor_[row_class * doppler_bins_ + d];
  }
  /// The independent-cell factor at range bin m (what `textbook` uses).
  double textbook_alpha_at(std::size_t m) const { return textbook_alpha_[m]; }
  const CfarCalibration& calibration() const { return calibration_; }
  std::size_t leading_cells_at(std::size_t m) const { return lead_[m]; }
  std::size_t lagging_cells_at(std::size_t m) const { return lag_[m]; }
  std::size_t os_rank_at(std::size_t m) const { return os_k_[m]; }
  /// OS only: the noise statistic Z is evaluated on cells whose d and m are multiples of this.
  std::size_t os_noise_stride() const { return os_noise_stride_; }

  /// Tests Doppler rows [d_begin, d_end) of map (M x N, range fastest). Crossings go to out in
  /// (d, m) order, at most `capacity`; all are counted. No allocation, no throw.
  CfarStats process_rows(const float* map, std::size_t d_begin, std::size_t d_end,
                         CfarCrossing* out, std::size_t capacity, std::size_t worker) noexcept;
  /// The whole map on worker 0.
  CfarStats process(const float* map, CfarCrossing* out, std::size_t capacity) noexcept;

 private:
  struct Workspace {
    std::vector<double> lead_col;                     ///< sum over dd in [-D, -g_d-1] of P[d+dd][m]
    std::vector<double> guard_col;                    ///< sum over |dd| <= g_d
    std::vector<double> lag_col;                      ///< sum over dd in [g_d+1, D]
    std::vector<double> prefix_full, prefix_guard;    ///< range suffix sums of full / guard columns
    std::vector<std::uint32_t> os_keys;               ///< OS: one cell's training values as keys
    std::vector<float> min_lead, min_guard, min_lag;  ///< OS: per column, each band's minimum
    std::vector<std::int32_t> os_below;               ///< OS: the bound, for a block of CUTs
    std::vector<float> os_threshold;                  ///< OS: P / alpha rounded up, per CUT
    std::vector<std::int32_t> os_col, os_gcol;        ///< OS: window / guard rows below t0
    std::vector<std::int32_t> os_prefix;              ///< OS: range prefix sums of the two
    std::vector<float> os_sample;                     ///< OS: cells whose median is t0
    std::vector<std::uint8_t> os_flags;               ///< OS: cells to count / to sample
    std::vector<const float*> band_rows;              ///< OS: the rows of one band
    std::vector<double> row_alpha;                    ///< alpha(d, m) of one row (MTI)
    std::vector<float> row_alpha_f;                   ///< the same, rounded to float (OS)
  };
  /// alpha(d, .) for row d: alpha_ itself unless the rows have factors of their own.
  const double* row_alpha(std::size_t d, Workspace& ws) const noexcept;
  const float* row_alpha_f(std::size_t d, Workspace& ws) const noexcept;
  /// OS: CUTs bounded at a time (their group counts stay in L1).
  static constexpr std::size_t kOsBoundBlock = 512;

  float os_select(const float* map, std::size_t d, std::size_t m, Workspace& ws) const noexcept;
  /// process_rows for OS (bounds, then counting where they do not settle the cell).
  CfarStats os_rows(const float* map, std::size_t d_begin, std::size_t d_end, CfarCrossing* out,
                    std::size_t capacity, Workspace& ws) const noexcept;
  /// OS decision at (d, m): at least os_k_[m] training cells x with alpha x < power.
  bool os_hit(const float* map, std::size_t d, std::size_t m, float alpha,
              float power) const noexcept;

  CfarConfig cfg_;
  std::size_t doppler_bins_, gates_;
  std::vector<double> alpha_, textbook_alpha_;
  std::vector<double> row_factor_;        ///< row classes x M
  std::vector<std::uint32_t> row_class_;  ///< per range bin
  std::vector<float> alpha_f_;
  CfarCalibration calibration_;
  std::vector<std::uint32_t> lead_, lag_, os_k_;
  std::size_t os_noise_stride_ = 1;
  std::size_t noise_gates_;
  std::size_t looks_;
  std::vector<Workspace> workspaces_;
};

}  // namespace radarpipe::cpu
