#include "kernels/cpu/cfar.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace radarpipe::cpu {
namespace {

// log(Pfa) of CA with N cells: Pfa = (1 + alpha/N)^-N.
double log_pfa_ca(double alpha, double n) {
  return -n * std::log1p(alpha / n);
}

// Pfa of SO with halves of n1, n2 cells, threshold alpha * min(S1/n1, S2/n2) (derivation in
// docs/signal-chain.md): with a_i = alpha / n_i and s = 1 + 1/a1 + 1/a2,
//   Pfa = sum_{j<n2} C(n1+j-1, j) (a1 s)^-n1 (a2 s)^-j + sum_{j<n1} C(n2+j-1, j) (a2 s)^-n2 (a1
//   s)^-j,
// which for n1 = n2 = n is the model's 2 sum_k C(n-1+k, k) (2 + a)^-(n+k).
double pfa_so(double alpha, double n1, double n2) {
  const double a1 = alpha / n1, a2 = alpha / n2;
  const double la1s = std::log(a1 + 1.0 + a1 / a2);
  const double la2s = std::log(a2 + 1.0 + a2 / a1);
  auto half_sum = [](double na, double nb, double l_own, double l_other) {
    double acc = 0.0;
    const double base = -std::lgamma(na);
    for (double j = 0; j < nb; j += 1.0)
      acc += std::exp(std::lgamma(na + j) + base - std::lgamma(j + 1.0) - na * l_own - j * l_other);
    return acc;
  };
  return half_sum(n1, n2, la1s, la2s) + half_sum(n2, n1, la2s, la1s);
}

double log_pfa_os(double alpha, std::size_t n, std::size_t k) {
  double acc = 0.0;
  for (std::size_t i = 0; i < k; ++i) {
    const double ni = static_cast<double>(n - i);
    acc += std::log(ni) - std::log(ni + alpha);
  }
  return acc;
}

void add_row(double* acc, const float* row, std::size_t n) {
  for (std::size_t m = 0; m < n; ++m) acc[m] += row[m];
}

}  // namespace

double cfar_pfa(CfarType type, double alpha, std::size_t n_lead, std::size_t n_lag,
                std::size_t os_k) {
  const double n1 = static_cast<double>(n_lead), n2 = static_cast<double>(n_lag);
  if (alpha <= 0.0) return 1.0;
  switch (type) {
    case CfarType::Ca:
      return std::exp(log_pfa_ca(alpha, n1 + n2));
    case CfarType::Go:
    case CfarType::So: {
      if (n_lead == 0 || n_lag == 0) return std::exp(log_pfa_ca(alpha, n1 + n2));
      const double so = pfa_so(alpha, n1, n2);
      if (type == CfarType::So) return so;
      // exp(-max) + exp(-min) = exp(-u) + exp(-v): Pfa_GO = (1+a1)^-n1 + (1+a2)^-n2 - Pfa_SO.
      return std::exp(-n1 * std::log1p(alpha / n1)) + std::exp(-n2 * std::log1p(alpha / n2)) - so;
    }
    case CfarType::Os:
      return std::exp(log_pfa_os(alpha, n_lead + n_lag, os_k));
  }
  return 1.0;
}

double cfar_alpha(CfarType type, double pfa, std::size_t n_lead, std::size_t n_lag,
                  std::size_t os_k) {
  const std::size_t n = n_lead + n_lag;
  if (n == 0) throw std::invalid_argument("cfar: no training cells");
  if (type == CfarType::Ca ||
      ((type == CfarType::Go || type == CfarType::So) && (n_lead == 0 || n_lag == 0))) {
    const double nd = static_cast<double>(n);
    return nd * (std::pow(pfa, -1.0 / nd) - 1.0);
  }
  if (type == CfarType::Os && (os_k < 1 || os_k > n))
    throw std::invalid_argument("cfar: OS rank " + std::to_string(os_k) + " not in [1, " +
                                std::to_string(n) + "]");
  // Pfa(alpha) falls monotonically from 1 at alpha = 0; bracket, then bisect on log Pfa.
  const double target = std::log(pfa);
  auto f = [&](double a) { return std::log(cfar_pfa(type, a, n_lead, n_lag, os_k)) - target; };
  double lo = 0.0, hi = 1.0;
  while (f(hi) > 0.0) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300)
      throw std::invalid_argument("cfar: pfa " + std::to_string(pfa) + " unreachable");
  }
  for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
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
                                           : std::min(config.noise_gates, config.gates)) {
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
                        std::make_pair(cfar_alpha(cfg_.type, cfg_.pfa, n1, n2, kk), kk))
               .first;
    }
    alpha_[m] = it->second.first;
    alpha_f_[m] = static_cast<float>(it->second.first);
    os_k_[m] = static_cast<std::uint32_t>(it->second.second);
    lead_[m] = static_cast<std::uint32_t>(n1);
    lag_[m] = static_cast<std::uint32_t>(n2);
  }
  // OS's noise statistic needs a selection per cell; it is sampled on a grid of about 4096
  // cells per map (the decision itself needs no selection, see process_rows).
  const double cells = static_cast<double>(doppler_bins_ * gates_);
  os_noise_stride_ =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(std::sqrt(cells / 4096.0))));

  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.lead_col.resize(gates_);
    ws.guard_col.resize(gates_);
    ws.lag_col.resize(gates_);
    ws.prefix_full.resize(gates_ + 1);
    ws.prefix_guard.resize(gates_ + 1);
    ws.os_values.resize(cfg_.interior_training_cells());
  }
}

// Visits the training cells of (d, m): calls f(row pointer, m_lo, m_hi) for each contiguous
// range segment [m_lo, m_hi] of a row.
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
      if (mm - gr - 1 >= lo) f(r, lo, mm - gr - 1);
      if (mm + gr + 1 <= hi) f(r, mm + gr + 1, hi);
    } else {
      f(r, lo, hi);
    }
  }
}

std::size_t Cfar::os_count_below(const float* map, std::size_t d, std::size_t m, float alpha,
                                 float power) const noexcept {
  std::size_t count = 0;
  for_each_training_segment(map, doppler_bins_, gates_, cfg_, d, m,
                            [&](const float* r, long lo, long hi) {
                              for (long i = lo; i <= hi; ++i) count += (alpha * r[i] < power);
                            });
  return count;
}

float Cfar::os_select(const float* map, std::size_t d, std::size_t m,
                      Workspace& ws) const noexcept {
  std::size_t n = 0;
  float* v = ws.os_values.data();
  for_each_training_segment(map, doppler_bins_, gates_, cfg_, d, m,
                            [&](const float* r, long lo, long hi) {
                              for (long i = lo; i <= hi; ++i) v[n++] = r[i];
                            });
  const std::size_t k = os_k_[m];
  std::nth_element(v, v + (k - 1), v + n);
  return v[k - 1];
}

CfarStats Cfar::process_rows(const float* map, std::size_t d_begin, std::size_t d_end,
                             CfarCrossing* out, std::size_t capacity, std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  CfarStats st;
  const std::size_t n = gates_;
  const long md = static_cast<long>(doppler_bins_);
  const long gd = static_cast<long>(cfg_.guard_doppler);
  const long big_d = gd + static_cast<long>(cfg_.train_doppler);
  const std::size_t gr = cfg_.guard_range, big_r = gr + cfg_.train_range;
  const bool os = cfg_.type == CfarType::Os;

  auto emit = [&](std::size_t d, std::size_t m, float p, double z) {
    if (st.stored < capacity)
      out[st.stored++] = CfarCrossing{static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(m),
                                      p, static_cast<float>(z)};
    ++st.crossings;
  };
  auto row_of = [&](long d) {
    long r = d % md;
    if (r < 0) r += md;
    return map + r * static_cast<long>(n);
  };

  for (std::size_t d = d_begin; d < d_end; ++d) {
    const float* cut_row = map + d * n;
    st.cells += n;
    if (os) {
      const bool noise_row = d % os_noise_stride_ == 0;
      for (std::size_t m = 0; m < n; ++m) {
        const float p = cut_row[m];
        // P > alpha * X_(k)  <=>  at least k training cells x have alpha * x < P.
        const bool hit = os_count_below(map, d, m, alpha_f_[m], p) >= os_k_[m];
        const bool sample = noise_row && m % os_noise_stride_ == 0 && m < noise_gates_;
        if (hit || sample) {
          const float z = os_select(map, d, m, ws);
          if (sample) {
            st.noise_sum += z;
            ++st.noise_cells;
          }
          if (hit) emit(d, m, p, z);
        }
      }
      continue;
    }

    // Doppler column sums for this row, in double: leading part, guard band, lagging part.
    // Computed directly at the block's first row, then slid by one row (add the row entering,
    // subtract the row leaving each band): 6 row updates per row instead of 2D+1.
    const long dl = static_cast<long>(d);
    double* pf = ws.prefix_full.data();
    double* pg = ws.prefix_guard.data();
    double* lead = ws.lead_col.data();
    double* guard = ws.guard_col.data();
    double* lag = ws.lag_col.data();
    pf[0] = pg[0] = 0.0;
    if (d == d_begin) {
      std::fill(ws.lead_col.begin(), ws.lead_col.end(), 0.0);
      std::fill(ws.guard_col.begin(), ws.guard_col.end(), 0.0);
      std::fill(ws.lag_col.begin(), ws.lag_col.end(), 0.0);
      for (long dd = -big_d; dd <= big_d; ++dd) {
        double* acc = dd < -gd ? lead : dd > gd ? lag : guard;
        add_row(acc, row_of(dl + dd), n);
      }
      for (std::size_t m = 0; m < n; ++m) {
        pg[m + 1] = pg[m] + guard[m];
        pf[m + 1] = pf[m] + lead[m] + guard[m] + lag[m];
      }
    } else {
      // Slide the bands of row d-1 to row d (add the row entering each band, subtract the row
      // leaving it) and build the range prefix sums in the same pass.
      const float* g_in = row_of(dl + gd);
      const float* g_out = row_of(dl - 1 - gd);
      if (big_d > gd) {
        const float* l_in = row_of(dl - gd - 1);
        const float* l_out = row_of(dl - 1 - big_d);
        const float* t_in = row_of(dl + big_d);
        const float* t_out = row_of(dl + gd);
        for (std::size_t m = 0; m < n; ++m) {
          lead[m] += static_cast<double>(l_in[m]) - static_cast<double>(l_out[m]);
          guard[m] += static_cast<double>(g_in[m]) - static_cast<double>(g_out[m]);
          lag[m] += static_cast<double>(t_in[m]) - static_cast<double>(t_out[m]);
          pg[m + 1] = pg[m] + guard[m];
          pf[m + 1] = pf[m] + lead[m] + guard[m] + lag[m];
        }
      } else {
        for (std::size_t m = 0; m < n; ++m) {
          guard[m] += static_cast<double>(g_in[m]) - static_cast<double>(g_out[m]);
          pg[m + 1] = pg[m] + guard[m];
          pf[m + 1] = pf[m] + guard[m];
        }
      }
    }
    // Leading / lagging half sums of cell m with a (b) range columns before (after) it, of
    // which ga (gb) are guard columns.
    auto decide = [&](std::size_t m, std::size_t a, std::size_t b, std::size_t ga, std::size_t gb) {
      const double s1 = (pf[m] - pf[m - a]) - (pg[m] - pg[m - ga]) + lead[m];
      const double s2 = (pf[m + 1 + b] - pf[m + 1]) - (pg[m + 1 + gb] - pg[m + 1]) + lag[m];
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
      if (static_cast<double>(p) > alpha_[m] * z) emit(d, m, p, z);
    };
    const std::size_t interior_end = n - big_r;  // 2R+1 <= N, so big_r <= interior_end
    for (std::size_t m = 0; m < big_r; ++m)
      decide(m, m, std::min(big_r, n - 1 - m), std::min(gr, m), std::min(gr, n - 1 - m));
    if (cfg_.type == CfarType::Ca) {
      // Interior CA: the whole window minus the guard rectangle, one expression per cell.
      const double inv_n = 1.0 / static_cast<double>(lead_[big_r] + lag_[big_r]);
      const double alpha = interior_end > big_r ? alpha_[big_r] : 0.0;
      double noise = 0.0;
      for (std::size_t m = big_r; m < interior_end; ++m) {
        const double z =
            ((pf[m + 1 + big_r] - pf[m - big_r]) - (pg[m + 1 + gr] - pg[m - gr])) * inv_n;
        if (m < noise_gates_) noise += z;
        const float p = cut_row[m];
        if (static_cast<double>(p) > alpha * z) emit(d, m, p, z);
      }
      st.noise_sum += noise;
    } else {
      for (std::size_t m = big_r; m < interior_end; ++m) decide(m, big_r, big_r, gr, gr);
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
