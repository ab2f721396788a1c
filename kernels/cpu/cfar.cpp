#include "kernels/cpu/cfar.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/hd.hpp"
#include "kernels/cpu/log_sum.hpp"
#include "kernels/cpu/simd.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace radarpipe::cpu {
namespace {

// Every map cell is a sum of L = `looks` independent exponential powers (L = 1 for one channel,
// L = C for C channels combined noncoherently): Gamma(L). Q_L(x) = P(Gamma(L) > x)
// = e^-x sum_{i<L} x^i / i!. Derivations in docs/signal-chain.md ("CFAR with L looks").

// CA: Pfa = P(X > t Y), X ~ Gamma(L), Y ~ Gamma(N L), t = alpha / N
//   = sum_{j<L} C(NL+j-1, j) t^j (1+t)^-(NL+j).
double log_pfa_ca(double alpha, double n, double looks) {
  const double t = alpha / n, b = n * looks;
  if (looks == 1.0) return -n * std::log1p(t);
  LogSum s;
  for (double j = 0; j < looks; j += 1.0)
    s.add(std::lgamma(b + j) - std::lgamma(b) - std::lgamma(j + 1.0) + j * std::log(t) -
          (b + j) * std::log1p(t));
  return s.log();
}

// E[Q_L(U) 1{U < V}], U ~ Gamma(A, scale a), V ~ Gamma(B, scale b), A = n_u L, B = n_v L:
//   sum_{i<L} sum_{j<B} G(A+i+j) / (G(A) i! j!) a^-A b^-j s^-(A+i+j),  s = 1 + 1/a + 1/b.
double log_min_term(double a_shape, double a, double b_shape, double b, double looks) {
  const double ls = std::log(1.0 + 1.0 / a + 1.0 / b), la = std::log(a), lb = std::log(b);
  LogSum sum;
  for (double i = 0; i < looks; i += 1.0) {
    double lt = std::lgamma(a_shape + i) - std::lgamma(a_shape) - std::lgamma(i + 1.0) -
                a_shape * la - (a_shape + i) * ls;
    for (double j = 0; j < b_shape; j += 1.0) {
      sum.add(lt);
      lt += std::log((a_shape + i + j) / (j + 1.0)) - lb - ls;  // term (i, j+1) from (i, j)
    }
  }
  return sum.log();
}

// E[Q_L(U)] for U ~ Gamma(A, scale a): sum_{i<L} G(A+i) / (G(A) i!) a^-A (1 + 1/a)^-(A+i).
double mean_q(double a_shape, double a, double looks) {
  LogSum s;
  for (double i = 0; i < looks; i += 1.0)
    s.add(std::lgamma(a_shape + i) - std::lgamma(a_shape) - std::lgamma(i + 1.0) -
          a_shape * std::log(a) - (a_shape + i) * std::log1p(1.0 / a));
  return std::exp(s.log());
}

// log P(Gamma(L) > x) and log P(Gamma(L) <= x) for integer L, both accurate in their tails.
double log_q(double x, double looks) {
  LogSum s;
  double lt = -x;  // e^-x x^i / i!
  for (double i = 0; i < looks; i += 1.0) {
    s.add(lt);
    lt += std::log(x) - std::log(i + 1.0);
  }
  return s.log();
}
double log_p(double x, double looks) {
  if (x <= 0.0) return -INFINITY;
  if (x > looks + 1.0) return std::log(-std::expm1(log_q(x, looks)));
  // Series e^-x sum_{i>=L} x^i / i! for small x.
  LogSum s;
  double lt = -x + looks * std::log(x) - std::lgamma(looks + 1.0);
  for (double i = looks; i < looks + 400.0; i += 1.0) {
    s.add(lt);
    lt += std::log(x) - std::log(i + 1.0);
    if (lt < s.max - 40.0) break;
  }
  return s.log();
}

// OS: Pfa = prod_{i<k} (N-i)/(N-i+alpha) for one look; for L looks there is no closed form:
// Pfa = int Q_L(alpha x) f_(k)(x) dx with f_(k) the density of the k-th smallest of N Gamma(L),
// integrated by Simpson's rule on 4000 intervals up to where the integrand has vanished.
double log_pfa_os(double alpha, std::size_t n, std::size_t k, double looks) {
  if (looks == 1.0) {
    double acc = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
      const double ni = static_cast<double>(n - i);
      acc += std::log(ni) - std::log(ni + alpha);
    }
    return acc;
  }
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  const double log_coef = std::lgamma(nd + 1.0) - std::lgamma(kd) - std::lgamma(nd - kd + 1.0);
  const double x_max = looks + 40.0 * std::sqrt(looks) + 60.0;
  const int intervals = 4000;
  const double h = x_max / intervals;
  LogSum s;
  for (int i = 1; i <= intervals; ++i) {  // the integrand is 0 at x = 0
    const double x = h * i;
    const double lf = (looks - 1.0) * std::log(x) - x - std::lgamma(looks);
    const double lg = log_coef + (kd - 1.0) * log_p(x, looks) + (nd - kd) * log_q(x, looks) + lf +
                      log_q(alpha * x, looks);
    const double w = (i == intervals) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
    s.add(lg + std::log(w * h / 3.0));
  }
  return s.log();
}

void add_row(double* acc, const float* row, std::size_t n) {
  for (std::size_t m = 0; m < n; ++m) acc[m] += row[m];
}

// band[m] += in[m] - out[m]: one Doppler band moved down by a row (vectorised: no aliasing).
RADARPIPE_AVX2_CLONE void slide_band(double* __restrict band, const float* __restrict in,
                                     const float* __restrict out, std::size_t n) {
  for (std::size_t m = 0; m < n; ++m)
    band[m] += static_cast<double>(in[m]) - static_cast<double>(out[m]);
}

// OS: the minimum of each column over some Doppler rows, lo[m] = min over rows of row[m] (the
// rows given as pointers; vectorised over m).
RADARPIPE_AVX2_CLONE void column_minima(float* __restrict lo, const float* const* rows,
                                        std::size_t count, std::size_t n) {
  for (std::size_t m = 0; m < n; ++m) lo[m] = rows[0][m];
  for (std::size_t r = 1; r < count; ++r) {
    const float* __restrict row = rows[r];
    for (std::size_t m = 0; m < n; ++m) lo[m] = row[m] < lo[m] ? row[m] : lo[m];
  }
}

// A float's bits as an unsigned key that orders like the float (negative values too).
inline std::uint32_t float_key(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// How many of the n keys are <= limit (vectorised).
RADARPIPE_AVX2_CLONE std::size_t count_at_most(const std::uint32_t* __restrict keys, std::size_t n,
                                               std::uint32_t limit) {
  std::uint32_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += keys[i] <= limit ? 1u : 0u;
  return count;
}

// The k-th smallest (1-based) of n floats given as keys, by deciding its key bit by bit from
// the top: 32 counting passes, branch-free and vectorised, about four times faster than
// std::nth_element at the window sizes of a CFAR (the GPU kernel selects the same way:
// kernels/cuda/stage_math.hpp os_select).
float select_kth(const std::uint32_t* keys, std::size_t n, std::size_t k) {
  std::uint32_t t = 0;
  for (int bit = 31; bit >= 0; --bit) {
    const std::uint32_t low = t | ((1u << bit) - 1u);  // this bit 0, the lower bits all 1
    if (count_at_most(keys, n, low) < k) t |= 1u << bit;
  }
  const std::uint32_t u = (t & 0x80000000u) ? (t & 0x7fffffffu) : ~t;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Row d of an M x N map, d taken mod M (Doppler wraps).
inline const float* wrapped_row(const float* map, long d, long md, std::size_t n) {
  long r = d % md;
  if (r < 0) r += md;
  return map + r * static_cast<long>(n);
}

// A crossing into out (in (d, m) order, the first `capacity` kept); every one counted.
inline void emit_crossing(CfarStats& st, CfarCrossing* out, std::size_t capacity, std::size_t d,
                          std::size_t m, float p, double z) {
  if (st.stored < capacity)
    out[st.stored++] = CfarCrossing{static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(m), p,
                                    static_cast<float>(z)};
  ++st.crossings;
}

// OS level 1: acc[m] += sign where row[m] < level (vectorised).
RADARPIPE_AVX2_CLONE void add_below(std::int32_t* __restrict acc, const float* __restrict row,
                                    float level, std::size_t n, int sign) {
  for (std::size_t m = 0; m < n; ++m) acc[m] += row[m] < level ? sign : 0;
}

// OS level 1 for a block of interior CUTs i: the cells below t0 in the window are
// (hi_c[i] - lo_c[i]) - (hi_g[i] - lo_g[i]) (range prefix sums of the column counts); fl[i] = 0
// when t[i] <= t0 and they are fewer than k, else 1. Returns how many are 1 (vectorised).
RADARPIPE_AVX2_CLONE std::size_t level1_flags(std::uint8_t* __restrict fl,
                                              const std::int32_t* __restrict hi_c,
                                              const std::int32_t* __restrict lo_c,
                                              const std::int32_t* __restrict hi_g,
                                              const std::int32_t* __restrict lo_g,
                                              const float* __restrict t, std::size_t c, float t0,
                                              std::int32_t k) {
  std::uint32_t open = 0;
  for (std::size_t i = 0; i < c; ++i) {
    const std::int32_t below = (hi_c[i] - lo_c[i]) - (hi_g[i] - lo_g[i]);
    const std::uint32_t o = (t[i] <= t0 && below < k) ? 0u : 1u;
    fl[i] = static_cast<std::uint8_t>(o);
    open += o;
  }
  return open;
}

// t[i] = power[i] / alpha[i] rounded up to the next float (so t[i] >= the exact quotient, and
// alpha * x < power implies x < t[i]); an infinite or NaN quotient is kept as it is.
RADARPIPE_AVX2_CLONE void threshold_up(float* __restrict t, const float* __restrict power,
                                       const float* __restrict alpha, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const float q = power[i] / alpha[i];
    std::uint32_t u;
    std::memcpy(&u, &q, 4);
    // One unit in the last place up for finite q >= 0 (the bits of a non-negative float order
    // like the floats); a negative q (no power is negative) one towards zero, also up.
    u = (u & 0x7f800000u) == 0x7f800000u ? u
        : (u & 0x80000000u)              ? (u == 0x80000000u ? 1u : u - 1u)
                                         : u + 1u;
    std::memcpy(&t[i], &u, 4);
  }
}

// OS's bound (Cfar::process_rows), for a block of CUTs i = 0..count-1 whose thresholds are t[i]:
// below[i] += w for every column j in [j0, j1] whose group minimum x[i + j] (and, when y is given,
// y[i + j]) is < t[i]. t[i] is P / alpha rounded up, so alpha * x < P implies x < t[i]: a group
// whose minimum is not below holds no training cell below, and the sum bounds the cells below
// from above. Vectorised over i.
RADARPIPE_AVX2_CLONE void add_groups_below(std::int32_t* __restrict below,
                                           const float* __restrict x, const float* __restrict y,
                                           const float* __restrict t, std::size_t count, long j0,
                                           long j1, std::int32_t w) {
  for (long j = j0; j <= j1; ++j) {
    const float* __restrict xj = x + j;
    if (y) {
      const float* __restrict yj = y + j;
      for (std::size_t i = 0; i < count; ++i)
        below[i] += w * ((xj[i] < t[i] ? 1 : 0) + (yj[i] < t[i] ? 1 : 0));
    } else {
      for (std::size_t i = 0; i < count; ++i) below[i] += xj[i] < t[i] ? w : 0;
    }
  }
}

// How the Doppler column sums are kept (Cfar::process_rows): three bands (leading training,
// guard, lagging training: GO and SO need the two halves apart), the whole window and the guard
// band (CA needs only their difference: two slides a row instead of three), or the guard band
// alone (no training rows in Doppler).
enum class Bands { Three, WindowAndGuard, GuardOnly };

// Range suffix sums sf[m] = sum_{i>=m} window[i], sg[m] = sum_{i>=m} guard[i] (sf[n] = sg[n] =
// 0), the window's column sums being lead + guard + lag (Three), lead (WindowAndGuard: `lead`
// holds the whole window) or guard (GuardOnly); a range sum over [a, b) is sf[a] - sf[b].
// Summed from the map's far end: the eclipsed tail's powers fall by orders of magnitude towards
// it, so a difference there is of two small sums. Prefix sums from bin 0 carried the full-gain
// bins' total into every difference, and at the trailing edge its rounding (1e-16 of some
// 10^3 times the noise power) exceeded the lagging half's own sum beside MTI's notch: SO's noise
// estimate came out a fraction of the cells' mean, or negative. Four cells a step with one add
// on each running sum per step: the scan's latency, not its arithmetic, bounds it.
template <Bands kBands>
void suffix_sums(double* __restrict sf, double* __restrict sg, const double* __restrict lead,
                 const double* __restrict guard, const double* __restrict lag, std::size_t n) {
  double rf = 0.0, rg = 0.0;
  sf[n] = sg[n] = 0.0;
  std::size_t m = n;
  auto full = [&](std::size_t i) {
    if (kBands == Bands::Three) return lead[i] + guard[i] + lag[i];
    if (kBands == Bands::WindowAndGuard) return lead[i];
    return guard[i];
  };
  for (; m >= 4; m -= 4) {
    const double f0 = full(m - 1), f1 = f0 + full(m - 2), f2 = f1 + full(m - 3),
                 f3 = f2 + full(m - 4);
    const double g0 = guard[m - 1], g1 = g0 + guard[m - 2], g2 = g1 + guard[m - 3],
                 g3 = g2 + guard[m - 4];
    sf[m - 1] = rf + f0;
    sf[m - 2] = rf + f1;
    sf[m - 3] = rf + f2;
    sf[m - 4] = rf + f3;
    sg[m - 1] = rg + g0;
    sg[m - 2] = rg + g1;
    sg[m - 3] = rg + g2;
    sg[m - 4] = rg + g3;
    rf += f3;
    rg += g3;
  }
  for (; m > 0; --m) {
    rf += full(m - 1);
    rg += guard[m - 1];
    sf[m - 1] = rf;
    sg[m - 1] = rg;
  }
}

}  // namespace

double cfar_pfa(CfarType type, double alpha, std::size_t n_lead, std::size_t n_lag,
                std::size_t os_k, std::size_t looks) {
  const double n1 = static_cast<double>(n_lead), n2 = static_cast<double>(n_lag);
  const double l = static_cast<double>(looks);
  if (alpha <= 0.0) return 1.0;
  switch (type) {
    case CfarType::Ca:
      return std::exp(log_pfa_ca(alpha, n1 + n2, l));
    case CfarType::Go:
    case CfarType::So: {
      if (n_lead == 0 || n_lag == 0) return std::exp(log_pfa_ca(alpha, n1 + n2, l));
      const double a1 = alpha / n1, a2 = alpha / n2;
      const double so = std::exp(log_min_term(n1 * l, a1, n2 * l, a2, l)) +
                        std::exp(log_min_term(n2 * l, a2, n1 * l, a1, l));
      if (type == CfarType::So) return so;
      // Q(max) + Q(min) = Q(U) + Q(V): Pfa_GO = E[Q(U)] + E[Q(V)] - Pfa_SO.
      return mean_q(n1 * l, a1, l) + mean_q(n2 * l, a2, l) - so;
    }
    case CfarType::Os:
      return std::exp(log_pfa_os(alpha, n_lead + n_lag, os_k, l));
  }
  return 1.0;
}

double cfar_alpha(CfarType type, double pfa, std::size_t n_lead, std::size_t n_lag,
                  std::size_t os_k, std::size_t looks) {
  const std::size_t n = n_lead + n_lag;
  if (n == 0) throw std::invalid_argument("cfar: no training cells");
  if (looks < 1) throw std::invalid_argument("cfar: looks must be >= 1");
  const bool ca_like = type == CfarType::Ca || ((type == CfarType::Go || type == CfarType::So) &&
                                                (n_lead == 0 || n_lag == 0));
  if (ca_like && looks == 1) {
    const double nd = static_cast<double>(n);
    return nd * (std::pow(pfa, -1.0 / nd) - 1.0);
  }
  if (type == CfarType::Os && (os_k < 1 || os_k > n))
    throw std::invalid_argument("cfar: OS rank " + std::to_string(os_k) + " not in [1, " +
                                std::to_string(n) + "]");
  // Pfa(alpha) falls monotonically from 1 at alpha = 0; bracket, then bisect on log Pfa.
  const double target = std::log(pfa);
  auto f = [&](double a) {
    return std::log(cfar_pfa(type, a, n_lead, n_lag, os_k, looks)) - target;
  };
  double lo = 0.0, hi = 1.0;
  while (f(hi) > 0.0) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300)
      throw std::invalid_argument("cfar: pfa " + std::to_string(pfa) + " unreachable");
  }
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (f(mid) > 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Cfar::Cfar(const CfarStageConfig& config)
    : cfg_(config.cfar),
      doppler_bins_(config.doppler_bins),
      gates_(config.gates),
      noise_gates_(config.noise_gates == 0 ? config.gates
                                           : std::min(config.noise_gates, config.gates)),
      looks_(config.looks) {
  if (looks_ < 1) throw std::invalid_argument("cfar: looks must be >= 1");
  const std::size_t gr = cfg_.guard_range, gd = cfg_.guard_doppler;
  const std::size_t big_r = gr + cfg_.train_range, big_d = gd + cfg_.train_doppler;
  if (cfg_.interior_training_cells() == 0) throw std::invalid_argument("cfar: no training cells");
  if (2 * big_d + 1 > doppler_bins_)
    throw std::invalid_argument("cfar: Doppler window of " + std::to_string(2 * big_d + 1) +
                                " cells exceeds the " + std::to_string(doppler_bins_) +
                                " Doppler bins");
  if (2 * big_r + 1 > gates_)
    throw std::invalid_argument("cfar: range window of " + std::to_string(2 * big_r + 1) +
                                " cells exceeds the " + std::to_string(gates_) + " range gates");
  if (!(cfg_.pfa > 0.0 && cfg_.pfa < 1.0)) throw std::invalid_argument("cfar: pfa not in (0, 1)");
  if (config.workers < 1) throw std::invalid_argument("cfar: workers must be >= 1");

  alpha_.resize(gates_);
  alpha_f_.resize(gates_);
  lead_.resize(gates_);
  lag_.resize(gates_);
  os_k_.resize(gates_);
  const std::size_t rows_full = 2 * big_d + 1, rows_guard = 2 * gd + 1;
  std::map<std::pair<std::size_t, std::size_t>, std::pair<double, std::size_t>> solved;
  for (std::size_t m = 0; m < gates_; ++m) {
    const std::size_t a = std::min(big_r, m), b = std::min(big_r, gates_ - 1 - m);
    const std::size_t ga = std::min(gr, m), gb = std::min(gr, gates_ - 1 - m);
    const std::size_t n1 = a * rows_full - ga * rows_guard + cfg_.train_doppler;
    const std::size_t n2 = b * rows_full - gb * rows_guard + cfg_.train_doppler;
    auto it = solved.find({n1, n2});
    if (it == solved.end()) {
      const std::size_t n = n1 + n2;
      const long k = std::lround(cfg_.os_rank * static_cast<double>(n));
      const std::size_t kk = static_cast<std::size_t>(std::clamp<long>(k, 1, static_cast<long>(n)));
      it = solved
               .emplace(std::make_pair(n1, n2),
                        std::make_pair(cfar_alpha(cfg_.type, cfg_.pfa, n1, n2, kk, looks_), kk))
               .first;
    }
    alpha_[m] = it->second.first;
    os_k_[m] = static_cast<std::uint32_t>(it->second.second);
    lead_[m] = static_cast<std::uint32_t>(n1);
    lag_[m] = static_cast<std::uint32_t>(n2);
  }
  textbook_alpha_ = alpha_;
  row_factor_.assign(doppler_bins_, 1.0);
  row_class_.assign(gates_, 0);
  calibration_.effective_cells = static_cast<double>(cfg_.interior_training_cells());
  if (cfg_.threshold == CfarThreshold::Calibrated && !config.correlation.empty()) {
    CfarFactorTable t;
    const auto t0 = std::chrono::steady_clock::now();
    std::string key;
    if (config.factor_store) {
      key = calibration_key(cfg_, doppler_bins_, gates_, looks_, config.correlation,
                            textbook_alpha_, os_k_);
      calibration_.stored = config.factor_store->load(key, doppler_bins_, gates_, t);
    }
    if (calibration_.stored) {
      t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } else {
      t = calibrated_factors(cfg_, doppler_bins_, gates_, looks_, config.correlation,
                             textbook_alpha_, os_k_);
      if (config.factor_store) config.factor_store->save(key, t);
    }
    // A stored table is checked by its store; this holds every table to the map's shape.
    const std::size_t classes = t.row_factor.size() / doppler_bins_;
    bool shaped = t.range_alpha.size() == gates_ && t.row_class.size() == gates_ && classes > 0 &&
                  t.row_factor.size() == classes * doppler_bins_;
    for (std::size_t m = 0; shaped && m < gates_; ++m) shaped = t.row_class[m] < classes;
    if (!shaped) throw std::invalid_argument("cfar: the factor table does not fit the map");
    alpha_ = t.range_alpha;
    row_factor_ = t.row_factor;
    row_class_ = t.row_class;
    calibration_.calibrated = true;
    calibration_.exact = t.exact;
    calibration_.solves = t.solves;
    calibration_.seconds = t.seconds;
    if (t.effective_cells > 0) calibration_.effective_cells = t.effective_cells;
    for (double f : row_factor_) calibration_.rows_vary |= f != 1.0;
  }
  if (cfg_.factors.present) {
    // A measured interior factor (radarpipe calibrate): the table keeps its shape (edges, rows)
    // and takes the measured level.
    if (!(std::isfinite(cfg_.factors.alpha) && cfg_.factors.alpha > 0))
      throw std::invalid_argument("cfar: factors.alpha is not a finite factor > 0");
    calibration_.measured_scale = cfg_.factors.alpha / alpha_[big_r];
    for (double& a : alpha_) a *= calibration_.measured_scale;
  }
  for (std::size_t m = 0; m < gates_; ++m) alpha_f_[m] = static_cast<float>(alpha_[m]);
  // OS's noise statistic needs a selection per cell (about 2 us for the default window); it is
  // sampled on a grid of about 256 cells per map, which puts its standard error near 0.03 dB on
  // noise (Z's spread is about 9% of its mean for the default window) and costs some 0.5 ms
  // per map (at 4096 cells the selections took 10 ms, more than the decisions).
  const double cells = static_cast<double>(doppler_bins_ * gates_);
  os_noise_stride_ =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(std::sqrt(cells / 256.0))));

  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.lead_col.resize(gates_);
    ws.guard_col.resize(gates_);
    ws.lag_col.resize(gates_);
    ws.prefix_full.resize(gates_ + 1);
    ws.prefix_guard.resize(gates_ + 1);
    ws.os_keys.resize(cfg_.interior_training_cells());
    if (cfg_.type == CfarType::Os) {
      ws.min_lead.resize(gates_);
      ws.min_guard.resize(gates_);
      ws.min_lag.resize(gates_);
      ws.os_below.resize(kOsBoundBlock);
      ws.os_threshold.resize(kOsBoundBlock);
      ws.os_col.resize(gates_);
      ws.os_gcol.resize(gates_);
      ws.os_prefix.resize(2 * (gates_ + 1));
      ws.os_sample.reserve(2048);
      ws.os_flags.resize(kOsBoundBlock);
      ws.band_rows.resize(std::max(cfg_.train_doppler, 2 * gd + 1));
    }
    if (calibration_.rows_vary) {
      ws.row_alpha.resize(gates_);
      if (cfg_.type == CfarType::Os) ws.row_alpha_f.resize(gates_);
    }
  }
}

const double* Cfar::row_alpha(std::size_t d, Workspace& ws) const noexcept {
  if (!calibration_.rows_vary) return alpha_.data();
  for (std::size_t m = 0; m < gates_; ++m) ws.row_alpha[m] = mul_rn(alpha_[m], row_factor_at(d, m));
  return ws.row_alpha.data();
}

const float* Cfar::row_alpha_f(std::size_t d, Workspace& ws) const noexcept {
  if (!calibration_.rows_vary) return alpha_f_.data();
  for (std::size_t m = 0; m < gates_; ++m)
    ws.row_alpha_f[m] = static_cast<float>(mul_rn(alpha_[m], row_factor_at(d, m)));
  return ws.row_alpha_f.data();
}

// Visits the training cells of (d, m): calls f(row pointer, m_lo, m_hi) for each contiguous
// range segment [m_lo, m_hi] of a row, Doppler row by Doppler row, until f returns false.
template <class F>
static inline void for_each_training_segment(const float* map, std::size_t doppler_bins,
                                             std::size_t gates, const CfarConfig& c, std::size_t d,
                                             std::size_t m, F&& f) {
  const long big_r = static_cast<long>(c.guard_range + c.train_range);
  const long big_d = static_cast<long>(c.guard_doppler + c.train_doppler);
  const long gr = static_cast<long>(c.guard_range), gd = static_cast<long>(c.guard_doppler);
  const long mm = static_cast<long>(m), n = static_cast<long>(gates),
             md = static_cast<long>(doppler_bins);
  const long lo = std::max(0L, mm - big_r), hi = std::min(n - 1, mm + big_r);
  for (long dd = -big_d; dd <= big_d; ++dd) {
    long row = (static_cast<long>(d) + dd) % md;
    if (row < 0) row += md;
    const float* r = map + row * n;
    if (dd >= -gd && dd <= gd) {
      if (mm - gr - 1 >= lo && !f(r, lo, mm - gr - 1)) return;
      if (mm + gr + 1 <= hi && !f(r, mm + gr + 1, hi)) return;
    } else if (!f(r, lo, hi)) {
      return;
    }
  }
}

bool Cfar::os_hit(const float* map, std::size_t d, std::size_t m, float alpha,
                  float power) const noexcept {
  // P > alpha X_(k)  <=>  at least k of the n training cells x have alpha x < P. Counted a row
  // segment at a time, stopping once the answer is known: k cells below settle a hit, n - k + 1
  // at or above a miss. On noise P / alpha lies far down the noise distribution, so a miss is
  // usually settled after a quarter of the window.
  const std::size_t n = lead_[m] + lag_[m], k = os_k_[m];
  std::size_t below = 0, seen = 0;
  for_each_training_segment(map, doppler_bins_, gates_, cfg_, d, m,
                            [&](const float* r, long lo, long hi) {
                              for (long i = lo; i <= hi; ++i) below += (alpha * r[i] < power);
                              seen += static_cast<std::size_t>(hi - lo + 1);
                              return below < k && seen - below <= n - k;
                            });
  return below >= k;
}

float Cfar::os_select(const float* map, std::size_t d, std::size_t m,
                      Workspace& ws) const noexcept {
  std::size_t n = 0;
  std::uint32_t* keys = ws.os_keys.data();
  for_each_training_segment(map, doppler_bins_, gates_, cfg_, d, m,
                            [&](const float* r, long lo, long hi) {
                              for (long i = lo; i <= hi; ++i) keys[n++] = float_key(r[i]);
                              return true;
                            });
  return select_kth(keys, n, os_k_[m]);
}

CfarStats Cfar::os_rows(const float* map, std::size_t d_begin, std::size_t d_end, CfarCrossing* out,
                        std::size_t capacity, Workspace& ws) const noexcept {
  CfarStats st;
  const std::size_t n = gates_;
  const long md = static_cast<long>(doppler_bins_);
  const long gd = static_cast<long>(cfg_.guard_doppler);
  const long big_d = gd + static_cast<long>(cfg_.train_doppler);
  const std::size_t gr = cfg_.guard_range, big_r = gr + cfg_.train_range;
  const std::size_t td = cfg_.train_doppler, guard_rows = 2 * cfg_.guard_doppler + 1;
  auto row_of = [&](long d) { return wrapped_row(map, d, md, n); };
  auto emit = [&](std::size_t d, std::size_t m, float p, double z) {
    emit_crossing(st, out, capacity, d, m, p, z);
  };

  // 1. The level: the median of a sample of these rows' cells (any level is correct; this one
  // makes level 1 settle the most noise cells).
  {
    std::vector<float>& sample = ws.os_sample;
    sample.clear();
    const std::size_t cells = (d_end - d_begin) * n, step = std::max<std::size_t>(1, cells / 1024);
    for (std::size_t i = 0; i < cells && sample.size() < sample.capacity(); i += step)
      sample.push_back(map[d_begin * n + i]);
    std::nth_element(sample.begin(), sample.begin() + sample.size() / 2, sample.end());
  }
  const float t0 = ws.os_sample.empty() ? 0.0f : ws.os_sample[ws.os_sample.size() / 2];
  std::int32_t* col = ws.os_col.data();    // per column: window rows below t0
  std::int32_t* gcol = ws.os_gcol.data();  // per column: guard rows below t0
  std::int32_t* pc = ws.os_prefix.data();  // range prefix sums of col, then of gcol
  std::int32_t* pg = pc + (n + 1);
  auto count_rows = [&](std::int32_t* acc, long d, long from, long to, int sign) {
    for (long dd = from; dd <= to; ++dd) add_below(acc, row_of(d + dd), t0, n, sign);
  };

  const long r = static_cast<long>(big_r), g = static_cast<long>(gr);
  std::int32_t* below = ws.os_below.data();
  float* t = ws.os_threshold.data();
  const float** rows = ws.band_rows.data();
  auto minima = [&](float* lo, long d, long from, long to) {  // rows d + from .. d + to
    std::size_t count = 0;
    for (long dd = from; dd <= to; ++dd) rows[count++] = row_of(d + dd);
    column_minima(lo, rows, count, n);
  };

  for (std::size_t d = d_begin; d < d_end; ++d) {
    const long dl = static_cast<long>(d);
    const float* cut_row = map + d * n;
    st.cells += n;
    const float* alpha_f = row_alpha_f(d, ws);
    // Level 1's column counts: direct at the first row, then slid by a row.
    if (d == d_begin) {
      std::fill(col, col + n, 0);
      std::fill(gcol, gcol + n, 0);
      count_rows(col, dl, -big_d, big_d, 1);
      count_rows(gcol, dl, -gd, gd, 1);
    } else {
      add_below(col, row_of(dl + big_d), t0, n, 1);
      add_below(col, row_of(dl - 1 - big_d), t0, n, -1);
      add_below(gcol, row_of(dl + gd), t0, n, 1);
      add_below(gcol, row_of(dl - 1 - gd), t0, n, -1);
    }
    pc[0] = pg[0] = 0;
    for (std::size_t m = 0; m < n; ++m) {
      pc[m + 1] = pc[m] + col[m];
      pg[m + 1] = pg[m] + gcol[m];
    }
    bool have_minima = false;
    const bool noise_row = d % os_noise_stride_ == 0;
    std::size_t next_sample = noise_row ? 0 : n;
    for (std::size_t block0 = 0; block0 < n; block0 += kOsBoundBlock) {
      const std::size_t block1 = std::min(n, block0 + kOsBoundBlock);
      const std::size_t b0 = std::max(block0, big_r), b1 = std::min(block1, n - big_r);
      // flag[m - block0]: 1 a cell to decide by counting, 2 a noise sample, 0 settled.
      std::uint8_t* flag = ws.os_flags.data();
      std::fill(flag, flag + (block1 - block0), std::uint8_t{0});
      for (std::size_t m = block0; m < std::min(b0, block1); ++m) flag[m - block0] = 1;
      for (std::size_t m = std::max(b1, block0); m < block1; ++m) flag[m - block0] = 1;
      if (b0 < b1) {
        const std::size_t c = b1 - b0;
        std::uint8_t* fl = flag + (b0 - block0);
        threshold_up(t, cut_row + b0, alpha_f + b0, c);
        // Interior CUTs have the interior k (os_k_ varies at the range edges only).
        const std::size_t open =  // interior CUTs level 1 leaves open
            level1_flags(fl, pc + b0 + big_r + 1, pc + b0 - big_r, pg + b0 + gr + 1, pg + b0 - gr,
                         t, c, t0, static_cast<std::int32_t>(os_k_[big_r]));
        // 2. The group bound, when level 1 left enough of the block open to be worth it.
        if (open * 8 > c) {
          if (!have_minima) {
            if (td > 0) {
              minima(ws.min_lead.data(), dl, -big_d, -gd - 1);
              minima(ws.min_lag.data(), dl, gd + 1, big_d);
            }
            minima(ws.min_guard.data(), dl, -gd, gd);
            have_minima = true;
          }
          std::fill(below, below + c, 0);
          if (td > 0)
            add_groups_below(below, ws.min_lead.data() + b0, ws.min_lag.data() + b0, t, c, -r, r,
                             static_cast<std::int32_t>(td));
          const auto gw = static_cast<std::int32_t>(guard_rows);
          add_groups_below(below, ws.min_guard.data() + b0, nullptr, t, c, -r, -g - 1, gw);
          add_groups_below(below, ws.min_guard.data() + b0, nullptr, t, c, g + 1, r, gw);
          for (std::size_t i = 0; i < c; ++i)
            if (fl[i] && static_cast<std::size_t>(below[i]) < os_k_[b0 + i]) fl[i] = 0;
        }
      }
      for (; next_sample < block1; next_sample += os_noise_stride_) flag[next_sample - block0] |= 2;
      // The flagged cells in order (hits leave in (d, m) order), eight flags at a time.
      const std::size_t len = block1 - block0;
      for (std::size_t i = 0; i < len; ++i) {
        if ((i & 7) == 0 && i + 8 <= len) {
          std::uint64_t word;
          std::memcpy(&word, flag + i, 8);
          if (word == 0) {
            i += 7;
            continue;
          }
        }
        if (!flag[i]) continue;
        const std::size_t m = block0 + i;
        const float p = cut_row[m];
        const bool hit = (flag[i] & 1) && os_hit(map, d, m, alpha_f[m], p);
        const bool noise = (flag[i] & 2) && m < noise_gates_;
        if (hit || noise) {
          const float z = os_select(map, d, m, ws);
          if (noise) {
            st.noise_sum += z;
            ++st.noise_cells;
          }
          if (hit) emit(d, m, p, z);
        }
      }
    }
  }
  return st;
}

CfarStats Cfar::process_rows(const float* map, std::size_t d_begin, std::size_t d_end,
                             CfarCrossing* out, std::size_t capacity, std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  if (cfg_.type == CfarType::Os) return os_rows(map, d_begin, d_end, out, capacity, ws);
  CfarStats st;
  const std::size_t n = gates_;
  const long md = static_cast<long>(doppler_bins_);
  const long gd = static_cast<long>(cfg_.guard_doppler);
  const long big_d = gd + static_cast<long>(cfg_.train_doppler);
  const std::size_t gr = cfg_.guard_range, big_r = gr + cfg_.train_range;

  auto emit = [&](std::size_t d, std::size_t m, float p, double z) {
    emit_crossing(st, out, capacity, d, m, p, z);
  };
  auto row_of = [&](long d) { return wrapped_row(map, d, md, n); };

  for (std::size_t d = d_begin; d < d_end; ++d) {
    const float* cut_row = map + d * n;
    st.cells += n;
    const double* alpha = row_alpha(d, ws);

    // Doppler column sums for this row, in double: leading part, guard band, lagging part.
    // Computed directly at the block's first row, then slid by one row (add the row entering,
    // subtract the row leaving each band): 6 row updates per row instead of 2D+1.
    const long dl = static_cast<long>(d);
    double* sf = ws.prefix_full.data();
    double* sg = ws.prefix_guard.data();
    double* lead = ws.lead_col.data();
    double* guard = ws.guard_col.data();
    double* lag = ws.lag_col.data();
    const Bands bands = big_d == gd                 ? Bands::GuardOnly
                        : cfg_.type == CfarType::Ca ? Bands::WindowAndGuard
                                                    : Bands::Three;
    if (d == d_begin) {
      std::fill(ws.lead_col.begin(), ws.lead_col.end(), 0.0);
      std::fill(ws.guard_col.begin(), ws.guard_col.end(), 0.0);
      std::fill(ws.lag_col.begin(), ws.lag_col.end(), 0.0);
      for (long dd = -big_d; dd <= big_d; ++dd) {
        const bool in_guard = dd >= -gd && dd <= gd;
        if (in_guard) add_row(guard, row_of(dl + dd), n);
        if (bands == Bands::WindowAndGuard)
          add_row(lead, row_of(dl + dd), n);
        else if (!in_guard)
          add_row(dd < -gd ? lead : lag, row_of(dl + dd), n);
      }
    } else {
      // Slide the bands of row d-1 to row d: add the row entering each band, subtract the row
      // leaving it.
      slide_band(guard, row_of(dl + gd), row_of(dl - 1 - gd), n);
      if (bands == Bands::WindowAndGuard) {
        slide_band(lead, row_of(dl + big_d), row_of(dl - 1 - big_d), n);
      } else if (bands == Bands::Three) {
        slide_band(lead, row_of(dl - gd - 1), row_of(dl - 1 - big_d), n);
        slide_band(lag, row_of(dl + big_d), row_of(dl + gd), n);
      }
    }
    switch (bands) {
      case Bands::Three:
        suffix_sums<Bands::Three>(sf, sg, lead, guard, lag, n);
        break;
      case Bands::WindowAndGuard:
        suffix_sums<Bands::WindowAndGuard>(sf, sg, lead, guard, lag, n);
        break;
      case Bands::GuardOnly:
        suffix_sums<Bands::GuardOnly>(sf, sg, lead, guard, lag, n);
        break;
    }
    // Leading / lagging half sums of cell m with a (b) range columns before (after) it, of
    // which ga (gb) are guard columns. Column m's own training cells (its Doppler training rows)
    // go to the leading half, and with three bands the lagging rows to the lagging half; CA only
    // needs their sum.
    auto decide = [&](std::size_t m, std::size_t a, std::size_t b, std::size_t ga, std::size_t gb) {
      const double col_lead = bands == Bands::Three            ? lead[m]
                              : bands == Bands::WindowAndGuard ? lead[m] - guard[m]
                                                               : 0.0;
      const double col_lag = bands == Bands::Three ? lag[m] : 0.0;
      const double s1 = (sf[m - a] - sf[m]) - (sg[m - ga] - sg[m]) + col_lead;
      const double s2 = (sf[m + 1] - sf[m + 1 + b]) - (sg[m + 1] - sg[m + 1 + gb]) + col_lag;
      const double n1 = lead_[m], n2 = lag_[m];
      double z;
      if (cfg_.type == CfarType::Ca || n1 == 0 || n2 == 0) {
        z = (s1 + s2) / (n1 + n2);
      } else if (cfg_.type == CfarType::Go) {
        z = std::max(s1 / n1, s2 / n2);
      } else {
        z = std::min(s1 / n1, s2 / n2);
      }
      if (m < noise_gates_) st.noise_sum += z;
      const float p = cut_row[m];
      if (static_cast<double>(p) > alpha[m] * z) emit(d, m, p, z);
    };
    const std::size_t interior_end = n - big_r;  // 2R+1 <= N, so big_r <= interior_end
    for (std::size_t m = 0; m < big_r; ++m)
      decide(m, m, std::min(big_r, n - 1 - m), std::min(gr, m), std::min(gr, n - 1 - m));
    if (cfg_.type == CfarType::Ca) {
      // Interior CA: the whole window minus the guard rectangle, one expression per cell.
      const double inv_n = 1.0 / static_cast<double>(lead_[big_r] + lag_[big_r]);
      auto z_at = [&](std::size_t m) {
        return ((sf[m - big_r] - sf[m + 1 + big_r]) - (sg[m - gr] - sg[m + 1 + gr])) * inv_n;
      };
      // Blocks of 8 cells: Z, the threshold test and the noise sum in SSE2 (8 partial sums, no
      // chain through the row); a block with a crossing is revisited in order to emit it.
      constexpr std::size_t kBlock = 8;
      double partial[kBlock] = {};
      auto cells = [&](std::size_t m0, std::size_t m1, bool noise) {
        std::size_t m = m0;
#if defined(__SSE2__)
        const __m128d inv = _mm_set1_pd(inv_n);
        __m128d acc[kBlock / 2];
        for (std::size_t k = 0; k < kBlock / 2; ++k) acc[k] = _mm_loadu_pd(partial + 2 * k);
        for (; m + kBlock <= m1; m += kBlock) {
          __m128d z[kBlock / 2];
          int hits = 0;
          for (std::size_t k = 0; k < kBlock / 2; ++k) {
            const std::size_t c = m + 2 * k;
            const __m128d full =
                _mm_sub_pd(_mm_loadu_pd(sf + c - big_r), _mm_loadu_pd(sf + c + 1 + big_r));
            const __m128d inner =
                _mm_sub_pd(_mm_loadu_pd(sg + c - gr), _mm_loadu_pd(sg + c + 1 + gr));
            z[k] = _mm_mul_pd(_mm_sub_pd(full, inner), inv);
            const __m128d p = _mm_cvtps_pd(_mm_castpd_ps(
                _mm_load_sd(reinterpret_cast<const double*>(cut_row + c))));  // cells c, c+1
            hits |= _mm_movemask_pd(_mm_cmpgt_pd(p, _mm_mul_pd(_mm_loadu_pd(alpha + c), z[k])))
                    << (2 * k);
          }
          if (noise)
            for (std::size_t k = 0; k < kBlock / 2; ++k) acc[k] = _mm_add_pd(acc[k], z[k]);
          if (hits) {
            double zs[kBlock];
            for (std::size_t k = 0; k < kBlock / 2; ++k) _mm_storeu_pd(zs + 2 * k, z[k]);
            for (std::size_t k = 0; k < kBlock; ++k)
              if (hits >> k & 1) emit(d, m + k, cut_row[m + k], zs[k]);
          }
        }
        for (std::size_t k = 0; k < kBlock / 2; ++k) _mm_storeu_pd(partial + 2 * k, acc[k]);
#else
        for (; m + kBlock <= m1; m += kBlock) {
          double z[kBlock];
          int hits = 0;
          for (std::size_t k = 0; k < kBlock; ++k) {
            z[k] = z_at(m + k);
            hits |= static_cast<double>(cut_row[m + k]) > alpha[m + k] * z[k];
          }
          if (noise)
            for (std::size_t k = 0; k < kBlock; ++k) partial[k] += z[k];
          if (hits)
            for (std::size_t k = 0; k < kBlock; ++k)
              if (static_cast<double>(cut_row[m + k]) > alpha[m + k] * z[k])
                emit(d, m + k, cut_row[m + k], z[k]);
        }
#endif
        for (; m < m1; ++m) {
          const double z = z_at(m);
          if (noise) partial[0] += z;
          if (static_cast<double>(cut_row[m]) > alpha[m] * z) emit(d, m, cut_row[m], z);
        }
      };
      const std::size_t split = std::clamp(noise_gates_, big_r, interior_end);
      cells(big_r, split, true);
      cells(split, interior_end, false);
      double noise = 0.0;
      for (double v : partial) noise += v;
      st.noise_sum += noise;
    } else {
      std::size_t m = big_r;
#if defined(__SSE2__)
      // Interior GO / SO, two cells a step: decide()'s sums and quotients in the same order.
      const double n1 = lead_[big_r], n2 = lag_[big_r];
      if (interior_end > big_r && n1 > 0.0 && n2 > 0.0) {
        const bool go = cfg_.type == CfarType::Go;
        const __m128d vn1 = _mm_set1_pd(n1), vn2 = _mm_set1_pd(n2);
        const std::size_t split = std::clamp(noise_gates_, big_r, interior_end);
        __m128d noise = _mm_setzero_pd();
        double noise_tail = 0.0;
        for (; m + 2 <= interior_end; m += 2) {
          auto at = [](const double* v, std::size_t i) { return _mm_loadu_pd(v + i); };
          const __m128d s1 = _mm_add_pd(_mm_sub_pd(_mm_sub_pd(at(sf, m - big_r), at(sf, m)),
                                                   _mm_sub_pd(at(sg, m - gr), at(sg, m))),
                                        at(lead, m));
          const __m128d s2 = _mm_add_pd(_mm_sub_pd(_mm_sub_pd(at(sf, m + 1), at(sf, m + 1 + big_r)),
                                                   _mm_sub_pd(at(sg, m + 1), at(sg, m + 1 + gr))),
                                        at(lag, m));
          const __m128d q1 = _mm_div_pd(s1, vn1), q2 = _mm_div_pd(s2, vn2);
          const __m128d z = go ? _mm_max_pd(q1, q2) : _mm_min_pd(q1, q2);
          if (m + 2 <= split)
            noise = _mm_add_pd(noise, z);
          else if (m < split)
            noise_tail += _mm_cvtsd_f64(z);
          const __m128d p = _mm_cvtps_pd(
              _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(cut_row + m))));
          const int hits = _mm_movemask_pd(_mm_cmpgt_pd(p, _mm_mul_pd(at(alpha, m), z)));
          if (hits) {
            double zs[2];
            _mm_storeu_pd(zs, z);
            for (std::size_t k = 0; k < 2; ++k)
              if (hits >> k & 1) emit(d, m + k, cut_row[m + k], zs[k]);
          }
        }
        double lanes[2];
        _mm_storeu_pd(lanes, noise);
        st.noise_sum += (lanes[0] + lanes[1]) + noise_tail;
      }
#endif
      for (; m < interior_end; ++m) decide(m, big_r, big_r, gr, gr);
    }
    for (std::size_t m = std::max(interior_end, big_r); m < n; ++m)
      decide(m, std::min(big_r, m), n - 1 - m, std::min(gr, m), std::min(gr, n - 1 - m));
    st.noise_cells += noise_gates_;
  }
  return st;
}

CfarStats Cfar::process(const float* map, CfarCrossing* out, std::size_t capacity) noexcept {
  return process_rows(map, 0, doppler_bins_, out, capacity, 0);
}

}  // namespace radarpipe::cpu
