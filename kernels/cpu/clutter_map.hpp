// The clutter map of the zero-Doppler filters (docs/signal-chain.md "Clutter map"): the Moving
// Target Detector's answer to targets that barely move (Muehe and Labitt, Lincoln Laboratory;
// Skolnik, Radar Handbook, the MTI/MTD chapter). The Doppler rows around zero are decided
// against a per-cell recursive average of the cell's own past power, which learns where the
// ground is and how strong, instead of against the CFAR's neighbours (which the ground fills).
//
// Per cell, with n powers learned and their average C (both from earlier CPIs only):
//   declare  P > K(n) C            when n >= warm-up (before, the cell declares nothing)
//   learn    C <- C + b(n+1) (P - C),  n <- n + 1,   b(j) = max(1/j, 1 - exp(-1/tau))
// so the first tau powers are averaged plainly (the map is ready after one time constant) and
// later ones exponentially. A declaration opens an episode in which the cell is not learned (a
// hovering target would otherwise teach the map its own echo, in the CPIs where it fades as
// much as in those where it is declared); the episode ends after `gap` updates without a
// declaration, and the cell is learned again anyway once the episode is longer than `hold`
// updates: a new lasting reflector becomes ground after that.
//
// K(n) is solved for the weights the average then holds: on noise P and the learned powers are
// independent Gamma(L) (L looks), so Pfa(K) = E[Q_L(K C)] = sum_{j<L} (-1)^j phi^(j)(1) / j!,
// phi(t) = prod_i (1 + t K w_i)^-L, exact (no correlation between CPIs in noise).
//
// Steady ground (buildings, terrain) fluctuates far less than noise: its power is Rician, with
// nu = E[P]^2 / var P of some tens at 20 dB over the noise. With the measured shape (tau >= 16)
// the cell also keeps V, the recursive average of its learned powers' relative innovations
// ((P - C) / C)^2 against the average before each, and once n >= max(warm-up, 2 tau) declares
// against K(n; nu), the factor solved as above for Gamma(nu) powers, nu the largest of a grid
// (4, 5, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128 above L) at or below nu^ / m, nu^ = 1 / V,
// m = 1 + 0.08 max(0, log10(1 / Pfa) - 3). The innovation (not the powers' own variance) is
// what the test meets: it holds the average's own error and any drift the average lags. A
// Gamma of the Rician's two moments has the heavier tail (it decays as exp(-nu x / E[P]), the
// Rician as exp(-x / sigma^2), sigma^2 < E[P] / nu); nu^ is a noisy estimate (some 25% at
// 2 tau innovations), and an overestimate costs more the deeper the design: m and the 2 tau
// were sized from the exact conditional Pfa averaged over simulated cell states (noise and
// Rician ground, K-factor 3 to infinity, 7 to 20 dB; 1e-3 to 1e-8: at most 1.07x the design
// at tau 16, 0.2-0.7x on the ground typically; docs/signal-chain.md "Clutter map").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/clutter_map_state.hpp"
#include "core/hd.hpp"
#include "kernels/cpu/cfar.hpp"

namespace radarpipe::cpu {

/// The rules a cell follows besides its tables (ClutterMapStageConfig's, in updates).
struct ClutterMapRules {
  std::uint32_t last;        ///< the tables' last index (learned saturates there)
  std::uint32_t warmup;      ///< powers learned before the cell may declare
  std::uint32_t gap;         ///< updates without a declaration that end an episode
  std::uint32_t hold;        ///< an episode longer than this is learned anyway
  std::uint32_t shape_from;  ///< powers learned before the measured shape applies
};

/// The stage's tables (device or host pointers alike).
struct ClutterMapTables {
  const float* factor;  ///< (shapes + 1) rows of last + 1: row 0 the looks', row j nu_j's K(n)
  const float* rate;    ///< b(n), n = 0 .. last
  const float* limit;   ///< shapes entries, falling: row j + 1 applies while V <= limit[j]
  std::uint32_t shapes;
};

/// ((P - C) / C)^2, bounded (a power that starts a map from nothing, or C = 0, counts as 10^6:
/// a spread no grid point accepts, and finite so the average can recover from it).
RP_HD inline float clutter_map_innovation(float p, float mean) {
  if (!(mean > 0.0f)) return p == mean ? 0.0f : 1e6f;
  const float r = div_rn(sub_rn(p, mean), mean);
  const float r2 = mul_rn(r, r);
  return r2 < 1e6f ? r2 : 1e6f;
}

/// One cell of one CPI (both backends: the CUDA kernel calls this too). Returns whether the cell
/// is declared.
RP_HD inline bool clutter_map_step(float p, float& mean, float& spread, std::uint32_t& learned,
                                   std::uint32_t& run, std::uint32_t& quiet,
                                   const ClutterMapTables& t, const ClutterMapRules& r) {
  const std::uint32_t last = r.last;
  const std::uint32_t n = learned < last ? learned : last;
  // The limits fall, so the count of those at or above the spread is the row, counted without a
  // branch on the spread (which cells' spreads pass is data: a branch there mispredicts).
  std::uint32_t row = 0;
  if (n >= r.shape_from)
    for (std::uint32_t j = 0; j < t.shapes; ++j) row += spread <= t.limit[j] ? 1u : 0u;
  const bool hit = n >= r.warmup && mul_rn(t.factor[row * (last + 1) + n], mean) < p;
  if (hit) {
    run = run < 0xffffffffu ? run + 1 : run;
    quiet = 0;
  } else if (run > 0) {
    if (++quiet > r.gap) {
      run = 0;  // the episode is over: this power is the cell's own again
      quiet = 0;
    } else {
      run = run < 0xffffffffu ? run + 1 : run;
    }
  }
  if (run == 0 || run > r.hold) {
    // The n-th innovation (against an average of n powers) at rate b(n): averaged plainly first.
    if (n >= 1)
      spread = add_rn(spread, mul_rn(t.rate[n], sub_rn(clutter_map_innovation(p, mean), spread)));
    const std::uint32_t next = n < last ? n + 1 : last;
    mean = add_rn(mean, mul_rn(t.rate[next], sub_rn(p, mean)));
    learned = next;
  }
  return hit;
}

/// Pfa of `P > K C` for C = sum_i w_i G_i, with P and every G_i independent sums of `looks`
/// unit exponentials (a common scale cancels).
double clutter_map_pfa(double k, const std::vector<double>& weights, std::size_t looks);

/// The measured shape's margin m on nu^ for a design Pfa (module comment).
double clutter_map_shape_margin(double pfa);

/// The weights of the average after n learned powers, oldest first (they sum to 1).
std::vector<double> clutter_map_weights(std::size_t n, double time_constant);

struct ClutterMapStageConfig {
  std::size_t doppler_bins = 0;         ///< M of the power map
  std::size_t gates = 0;                ///< N
  std::size_t first_row = 0, rows = 1;  ///< the map's Doppler rows
  std::size_t maps = 1;                 ///< power maps per CPI
  std::size_t azimuth_cells = 1;
  std::size_t looks = 1;       ///< Gamma order of a noise cell (CFAR looks)
  double time_constant = 20;   ///< tau in updates, 1 .. 10^4
  std::size_t warmup = 20;     ///< updates before a cell may declare, >= 1
  std::size_t gap = 20;        ///< updates without a declaration that end an episode
  std::size_t hold = 0;        ///< an episode longer than this is learned anyway
  double pfa = 1e-6;           ///< design Pfa per cell (used when factor_db is 0)
  double factor_db = 0;        ///< > 0: K fixed at 10^(factor_db / 10)
  bool measured_shape = true;  ///< K(n; nu) from each cell's spread (pfa only, tau >= 16)
};

struct ClutterMapStats {
  std::uint64_t cells = 0;      ///< cells of the map's rows this CPI
  std::uint64_t tested = 0;     ///< of them past warm-up
  std::uint64_t crossings = 0;  ///< declared
  std::uint64_t stored = 0;     ///< written to the output (<= capacity)
  void add(const ClutterMapStats& o) {
    cells += o.cells;
    tested += o.tested;
    crossings += o.crossings;
    stored += o.stored;
  }
};

class ClutterMap {
 public:
  /// Validates, solves the factor table (bounded: tau <= 10^4), allocates the state (reset).
  /// Throws std::invalid_argument naming the field.
  explicit ClutterMap(const ClutterMapStageConfig& config);

  const ClutterMapStageConfig& config() const { return cfg_; }
  std::size_t first_row() const { return cfg_.first_row; }
  std::size_t end_row() const { return cfg_.first_row + cfg_.rows; }
  bool governs(std::size_t d) const { return d >= first_row() && d < end_row(); }
  /// K(n) and b(n) for n = 0 .. table_last(); n >= table_last() uses the last entry. factors()
  /// holds shape_orders().size() + 1 rows of table_last() + 1: row 0 the looks', row j + 1
  /// shape_orders()[j]'s.
  const std::vector<float>& factors() const { return factor_; }
  const std::vector<float>& rates() const { return rate_; }
  /// The measured shape's grid: Gamma orders nu_j and the spreads limit_j = 1 / (m nu_j) at or
  /// below which they apply (empty with the noise shape, a fixed factor or tau < 16).
  const std::vector<std::uint32_t>& shape_orders() const { return order_; }
  const std::vector<float>& shape_limits() const { return limit_; }
  std::uint32_t shape_from() const { return shape_from_; }
  ClutterMapTables tables() const {
    return {factor_.data(), rate_.data(), limit_.data(), static_cast<std::uint32_t>(order_.size())};
  }
  ClutterMapRules rules() const;
  std::uint32_t table_last() const { return static_cast<std::uint32_t>(rate_.size() - 1); }
  double solve_seconds() const { return seconds_; }

  /// Decides and learns the map's rows [d_begin, d_end) (absolute map rows, within the map's)
  /// of power map `map` (M x N, range fastest) for `map_index` at `azimuth_cell`. Crossings go to
  /// out in (d, m) order with noise = the cell's average before this CPI. Distinct row ranges may
  /// run at once. No allocation, no throw.
  ClutterMapStats process_rows(const float* map, std::size_t map_index, std::size_t azimuth_cell,
                               std::size_t d_begin, std::size_t d_end, CfarCrossing* out,
                               std::size_t capacity) noexcept;
  /// Counts one CPI into state().cpis (call once per CPI, after its rows).
  void finish_cpi() { ++state_.cpis; }

  const ClutterMapState& state() const { return state_; }
  /// std::invalid_argument unless `s` could be this map's state: its shape, and every cell's
  /// values possible (a finite mean >= 0, a spread in [0, 10^6] and 0 until two powers are
  /// learned, learned within the table and 0 with a mean of 0, no more quiet updates than the
  /// episode has).
  void check(const ClutterMapState& s) const;
  /// Replaces the state, check()ed first.
  void restore(const ClutterMapState& s);
  void reset() { state_.reset(); }

 private:
  ClutterMapStageConfig cfg_;
  std::vector<float> factor_, rate_, limit_;
  std::vector<std::uint32_t> order_;
  std::uint32_t shape_from_ = 0xffffffffu;
  double seconds_ = 0;
  ClutterMapState state_;
};

}  // namespace radarpipe::cpu
