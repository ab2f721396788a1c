#include "kernels/cpu/cfar_calibration.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "kernels/cpu/log_sum.hpp"

namespace radarpipe::cpu {
namespace {

using cd = std::complex<double>;

// log Q_L(x) = log P(Gamma(L) > x) = log(e^-x sum_{i<L} x^i / i!).
double log_q(double x, std::size_t looks) {
  if (x <= 0.0) return 0.0;
  LogSum s;
  double lt = -x;
  for (std::size_t i = 0; i < looks; ++i) {
    s.add(lt);
    lt += std::log(x) - std::log(static_cast<double>(i + 1));
  }
  return s.log();
}

// Bisection on log alpha of a monotonically falling log Pfa(alpha) for the target log pfa.
template <class F>
double solve_falling(F&& log_pfa, double target, double start) {
  double lo = start, hi = start;
  for (int i = 0; i < 200 && log_pfa(lo) < target; ++i) lo *= 0.5;
  for (int i = 0; i < 200 && log_pfa(hi) > target; ++i) hi *= 2.0;
  for (int it = 0; it < 100 && hi - lo > 1e-10 * hi; ++it) {
    const double mid = std::sqrt(lo * hi);
    (log_pfa(mid) > target ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

// The covariance of the window's cells as Eigen matrices, normalised to a CUT of unit power.
struct Factors {
  Eigen::MatrixXcd kd, kr;
};
Factors normalised(const WindowCells& w, const std::vector<cd>& kd, const std::vector<cd>& kr) {
  Factors f;
  f.kd.resize(static_cast<Eigen::Index>(w.rows), static_cast<Eigen::Index>(w.rows));
  f.kr.resize(static_cast<Eigen::Index>(w.cols), static_cast<Eigen::Index>(w.cols));
  const double sd = kd[w.cut_row * w.rows + w.cut_row].real();
  const double sr = kr[w.cut_col * w.cols + w.cut_col].real();
  for (std::size_t i = 0; i < w.rows; ++i)
    for (std::size_t j = 0; j < w.rows; ++j)
      f.kd(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = kd[i * w.rows + j] / sd;
  for (std::size_t i = 0; i < w.cols; ++i)
    for (std::size_t j = 0; j < w.cols; ++j)
      f.kr(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = kr[i * w.cols + j] / sr;
  return f;
}

// The training cells' covariance K_T (Kronecker product restricted to the labelled cells).
Eigen::MatrixXcd training_covariance(const WindowCells& w, const Factors& f) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> cells;
  for (std::size_t r = 0; r < w.rows; ++r)
    for (std::size_t c = 0; c < w.cols; ++c)
      if (w.label[r * w.cols + c] != 0)
        cells.emplace_back(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
  const auto n = static_cast<Eigen::Index>(cells.size());
  Eigen::MatrixXcd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      k(i, j) = f.kd(cells[i].first, cells[j].first) * f.kr(cells[i].second, cells[j].second);
  return k;
}

// Eigenvalues of the covariance of the training cells labelled `label` (0: every training cell).
std::vector<double> half_eigenvalues(const WindowCells& w, const Factors& f, int label) {
  WindowCells h = w;
  for (auto& l : h.label)
    if (label != 0 && l != label) l = 0;
  const Eigen::MatrixXcd k = training_covariance(h, f);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> es(k, Eigen::EigenvaluesOnly);
  std::vector<double> lambda(static_cast<std::size_t>(k.rows()));
  for (Eigen::Index i = 0; i < k.rows(); ++i)
    lambda[static_cast<std::size_t>(i)] = std::max(0.0, es.eigenvalues()(i));
  return lambda;
}

// CA, exact. With s = alpha / N and q_i = s lambda_i / (1 + s lambda_i):
//   Pfa = E[Q_L(s S)] = prod_i (1 + s lambda_i)^-L sum_{n<L} u_n,
//   u_0 = 1, (n + 1) u_{n+1} = L sum_{k=0}^{n} c_{k+1} u_{n-k},  c_k = sum_i q_i^k
// (the Taylor terms (-s)^n Phi^(n)(s) / (n! Phi(s)) of the Laplace transform Phi, all >= 0).
double log_pfa_ca_exact(const std::vector<double>& lambda, double alpha, double n,
                        std::size_t looks) {
  const double s = alpha / n;
  double log_phi = 0.0;
  for (double l : lambda) log_phi -= static_cast<double>(looks) * std::log1p(s * l);
  if (looks == 1) return log_phi;
  std::vector<double> c(looks + 1, 0.0), u(looks, 0.0);
  for (double l : lambda) {
    const double q = s * l / (1.0 + s * l);
    double qk = q;
    for (std::size_t k = 1; k <= looks; ++k, qk *= q) c[k] += qk;
  }
  u[0] = 1.0;
  double sum = 1.0;
  for (std::size_t m = 0; m + 1 < looks; ++m) {
    double acc = 0.0;
    for (std::size_t k = 0; k <= m; ++k) acc += c[k + 1] * u[m - k];
    u[m + 1] = static_cast<double>(looks) * acc / static_cast<double>(m + 1);
    sum += u[m + 1];
  }
  return log_phi + std::log(sum);
}

// Deterministic Gaussian numbers: xoshiro256** seeded by splitmix64, Box-Muller.
class Normal {
 public:
  explicit Normal(std::uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      s = z ^ (z >> 31);
    }
  }
  // A circular complex normal of unit variance (Marsaglia's polar method: a point uniform in
  // the unit disc, scaled so that |z|^2 ~ Exp(1)).
  cd complex() {
    for (;;) {
      const double u = static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0;
      const double v = static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0;
      const double s = u * u + v * v;
      if (s > 0.0 && s < 1.0) {
        const double f = std::sqrt(-std::log(s) / s);
        return {u * f, v * f};
      }
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  std::uint64_t s_[4];
};

constexpr std::size_t kSamples = 4096;  // Monte Carlo samples per window
constexpr std::size_t kBlock = 1024;    // samples transformed at once
constexpr std::uint64_t kSeed = 0x5eed0f0cfa4ull;
constexpr std::size_t kMaxKeptNormals = std::size_t{1} << 23;  // 64 MiB of cf32

// The Monte Carlo's white numbers, the same for every window (common random numbers: the factors
// of neighbouring windows differ by their covariance, not by sampling noise), kept after the
// first solve up to kMaxKeptNormals; beyond, drawn afresh from the same seed.
class WhiteNumbers {
 public:
  explicit WhiteNumbers(std::size_t count) : normal_(kSeed) {
    if (count > kMaxKeptNormals) return;
    std::lock_guard<std::mutex> lock(mutex());
    std::vector<std::complex<float>>& kept = store();
    if (kept.size() < count) {
      Normal n(kSeed);
      kept.resize(count);
      for (auto& z : kept) z = std::complex<float>(n.complex());
    }
    data_ = kept.data();
  }
  cd operator[](std::size_t i) {
    return data_ ? cd(data_[i]) : cd(std::complex<float>(normal_.complex()));
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::complex<float>>& store() {
    static std::vector<std::complex<float>> v;
    return v;
  }
  const std::complex<float>* data_ = nullptr;
  Normal normal_;
};

// GO / SO / OS (and CA beyond the exact solver's size): conditional Monte Carlo. The window's
// cells are drawn from the exponentially tilted density q(y) ~ p(y) e^(-theta |y|^2) (each
// eigen-direction's variance mu becomes mu / (1 + theta mu)) and weighted back by
// p / q = e^(theta |y|^2) prod (1 + theta mu)^-1, so the low noise estimates that make false
// alarms are sampled often. Given the training cells, the CUT (independent, Gamma(L) of unit
// scale) crosses with probability Q_L(alpha Z): Pfa(alpha) = E_q[(p / q) Q_L(alpha Z)].
//
// SO is not sampled: its false alarms come from one half's sum being small, which a tilt of the
// whole window does not aim at (at a range edge, where one half holds only the CUT's own column,
// it misses by orders of magnitude). Since {X > a min} = {X > a1 S1} or {X > a2 S2},
//   Pfa_SO = E[Q_L(a1 S1)] + E[Q_L(a2 S2)] - Pfa_GO,
// with both halves' terms exact (CA's transform on each half) and only GO's joint term sampled;
// `extra` carries those half terms (log Pfa of each half as a function of alpha).
double monte_carlo_alpha(CfarType type, double pfa, std::size_t looks, std::size_t os_k,
                         const WindowCells& w, const Factors& f, double textbook_alpha,
                         double training_trace,
                         const std::function<double(double)>& so_halves = nullptr) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> ed(f.kd), er(f.kr);
  const Eigen::MatrixXcd& ud = ed.eigenvectors();
  const Eigen::MatrixXcd& ur = er.eigenvectors();
  const auto rows = static_cast<Eigen::Index>(w.rows), cols = static_cast<Eigen::Index>(w.cols);
  // The tilt that would be optimal for CA on independent cells of the training cells' mean
  // power: theta = alpha / (N mean power) = alpha / tr(K_T). (Relative to the CUT's power the
  // training cells can be far stronger, as in MTI's notch, or weaker.)
  const double theta = textbook_alpha / training_trace;
  Eigen::MatrixXd scale(cols, rows);
  double log_c = 0.0;
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) {
      const double mu = std::max(0.0, ed.eigenvalues()(r)) * std::max(0.0, er.eigenvalues()(c));
      scale(c, r) = std::sqrt(mu / (1.0 + theta * mu));
      log_c -= std::log1p(theta * mu);
    }

  std::vector<std::size_t> lead, lag;
  for (std::size_t i = 0; i < w.rows * w.cols; ++i) {
    if (w.label[i] == 1) lead.push_back(i);
    if (w.label[i] == 2) lag.push_back(i);
  }
  std::vector<double> z(kSamples), log_w(kSamples);
  std::vector<double> power(w.rows * w.cols * kBlock), train;
  const std::size_t per_look = w.rows * w.cols * kBlock;
  WhiteNumbers white(per_look * looks * (kSamples / kBlock));
  std::size_t next = 0;
  const auto block = static_cast<Eigen::Index>(kBlock);
  Eigen::MatrixXcd a(cols, block * rows), b2;
  for (std::size_t s0 = 0; s0 < kSamples; s0 += kBlock) {
    std::fill(power.begin(), power.end(), 0.0);
    std::vector<double> tilt(kBlock, 0.0);
    for (std::size_t look = 0; look < looks; ++look) {
      // a(c', s + S r') = X_s[r'][c'], scaled; B = U_R a; viewed as (cols S) x rows, B U_D^T
      // holds Y_s[r][c] at ((c + cols s), r).
      for (Eigen::Index r = 0; r < rows; ++r)
        for (Eigen::Index s = 0; s < block; ++s)
          for (Eigen::Index c = 0; c < cols; ++c) a(c, s + block * r) = white[next++] * scale(c, r);
      Eigen::MatrixXcd b = ur * a;
      Eigen::Map<Eigen::MatrixXcd> bv(b.data(), cols * block, rows);
      const Eigen::MatrixXcd y = bv * ud.transpose();
      for (Eigen::Index s = 0; s < block; ++s) {
        double* p = power.data() + static_cast<std::size_t>(s) * w.rows * w.cols;
        double norm = 0.0;
        for (Eigen::Index r = 0; r < rows; ++r)
          for (Eigen::Index c = 0; c < cols; ++c) {
            const double v = std::norm(y(c + cols * s, r));
            p[static_cast<std::size_t>(r * cols + c)] += v;
            norm += v;
          }
        tilt[static_cast<std::size_t>(s)] += theta * norm + log_c;
      }
    }
    for (std::size_t s = 0; s < kBlock; ++s) {
      const double* p = power.data() + s * w.rows * w.cols;
      double s1 = 0.0, s2 = 0.0;
      for (std::size_t i : lead) s1 += p[i];
      for (std::size_t i : lag) s2 += p[i];
      const double n1 = static_cast<double>(lead.size()), n2 = static_cast<double>(lag.size());
      double zs;
      if (type == CfarType::Os) {
        train.clear();
        for (std::size_t i : lead) train.push_back(p[i]);
        for (std::size_t i : lag) train.push_back(p[i]);
        std::nth_element(train.begin(), train.begin() + static_cast<long>(os_k - 1), train.end());
        zs = train[os_k - 1];
      } else if (type == CfarType::Ca || lead.empty() || lag.empty()) {
        zs = (s1 + s2) / (n1 + n2);
      } else {
        zs = std::max(s1 / n1, s2 / n2);  // GO; SO from it below
      }
      z[s0 + s] = zs;
      log_w[s0 + s] = tilt[s];
    }
  }
  const double log_n = std::log(static_cast<double>(kSamples));
  auto log_pfa = [&](double alpha) {
    LogSum sum;
    for (std::size_t s = 0; s < kSamples; ++s) sum.add(log_w[s] + log_q(alpha * z[s], looks));
    const double go = sum.log() - log_n;
    if (type != CfarType::So || !so_halves) return go;
    // Pfa_SO >= either half's term, whatever the sampling error of GO's.
    const double halves = so_halves(alpha);
    return std::log(std::max(std::exp(halves) - std::exp(go), 0.5 * std::exp(halves)));
  };
  return solve_falling(log_pfa, std::log(pfa), textbook_alpha);
}

// Solved windows of this process, by everything that determines them (tests and `radarpipe run`
// build chains of one mode many times).
std::mutex g_cache_mutex;
std::map<std::string, CalibratedAlpha> g_cache;

template <class T>
void append_bytes(std::string& key, const T* data, std::size_t count) {
  key.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

}  // namespace

std::vector<cd> range_covariance(const CellCorrelation& c, std::size_t m_lo, std::size_t count) {
  const std::vector<cd>& h = c.range_reference;
  const long l = static_cast<long>(h.size()), n = static_cast<long>(c.gates);
  std::vector<cd> k(count * count);
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t j = 0; j < count; ++j) {
      const long m1 = static_cast<long>(m_lo + i), m2 = static_cast<long>(m_lo + j);
      const long shift = m1 - m2;  // k2 = k1 + shift
      const long k_lo = std::max(0L, -shift), k_hi = std::min({l - 1, l - 1 - shift, n - 1 - m1});
      cd acc = 0.0;
      for (long k1 = k_lo; k1 <= k_hi; ++k1) acc += std::conj(h[k1]) * h[k1 + shift];
      k[i * count + j] = acc;
    }
  return k;
}

std::vector<cd> doppler_covariance(const CellCorrelation& c, long d, std::size_t half) {
  const std::size_t p = c.doppler_window.size(), rows = 2 * half + 1;
  const long md = static_cast<long>(c.doppler_fft_size),
             order = static_cast<long>(c.mti_taps.size()) - 1;
  std::vector<double> r(static_cast<std::size_t>(2 * order + 1), 0.0);  // R(t), t = -order..order
  for (long t = -order; t <= order; ++t)
    for (long j = 0; j <= order; ++j)
      if (j + t >= 0 && j + t <= order)
        r[static_cast<std::size_t>(t + order)] += c.mti_taps[j] * c.mti_taps[j + t];
  std::vector<std::vector<cd>> v(rows, std::vector<cd>(p)), t(rows, std::vector<cd>(p));
  for (std::size_t i = 0; i < rows; ++i) {
    long di = (d + static_cast<long>(i) - static_cast<long>(half)) % md;
    if (di < 0) di += md;
    const double k = static_cast<double>(di - md / 2);
    for (std::size_t q = 0; q < p; ++q) {
      const double ph = -2.0 * M_PI *
                        std::fmod(static_cast<double>(q) * k, static_cast<double>(md)) /
                        static_cast<double>(md);
      v[i][q] = c.doppler_window[q] * cd(std::cos(ph), std::sin(ph));
    }
    // t_i[q] = sum_t R(t) v_i[q - t]
    for (std::size_t q = 0; q < p; ++q) {
      cd acc = 0.0;
      for (long s = -order; s <= order; ++s) {
        const long q2 = static_cast<long>(q) - s;
        if (q2 >= 0 && q2 < static_cast<long>(p))
          acc += r[static_cast<std::size_t>(s + order)] * v[i][static_cast<std::size_t>(q2)];
      }
      t[i][q] = acc;
    }
  }
  std::vector<cd> k(rows * rows);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < rows; ++j) {
      cd acc = 0.0;
      for (std::size_t q = 0; q < p; ++q) acc += v[i][q] * std::conj(t[j][q]);
      k[i * rows + j] = acc;
    }
  return k;
}

WindowCells window_cells(const CfarConfig& cfar, std::size_t m, std::size_t gates) {
  const long gr = static_cast<long>(cfar.guard_range), gd = static_cast<long>(cfar.guard_doppler);
  const long big_r = gr + static_cast<long>(cfar.train_range);
  const long big_d = gd + static_cast<long>(cfar.train_doppler);
  const long mm = static_cast<long>(m);
  const long lo = std::max(0L, mm - big_r), hi = std::min(static_cast<long>(gates) - 1, mm + big_r);
  WindowCells w;
  w.rows = static_cast<std::size_t>(2 * big_d + 1);
  w.cols = static_cast<std::size_t>(hi - lo + 1);
  w.cut_row = static_cast<std::size_t>(big_d);
  w.cut_col = static_cast<std::size_t>(mm - lo);
  w.first_gate = static_cast<std::size_t>(lo);
  w.label.assign(w.rows * w.cols, 0);
  for (long dd = -big_d; dd <= big_d; ++dd)
    for (long c = lo; c <= hi; ++c) {
      const long dr = c - mm;
      if (std::abs(dr) <= gr && std::abs(dd) <= gd) continue;
      const bool lead = dr < 0 || (dr == 0 && dd < 0);
      w.label[static_cast<std::size_t>((dd + big_d) * static_cast<long>(w.cols) + (c - lo))] =
          lead ? 1 : 2;
      (lead ? w.n_lead : w.n_lag) += 1;
    }
  return w;
}

CalibratedAlpha solve_calibrated_alpha(CfarType type, double pfa, std::size_t looks,
                                       std::size_t os_k, const WindowCells& w,
                                       const std::vector<cd>& kd, const std::vector<cd>& kr,
                                       double textbook_alpha) {
  std::string key;
  const int t = static_cast<int>(type);
  const std::size_t dims[] = {looks, os_k, w.rows, w.cols, w.cut_row, w.cut_col};
  append_bytes(key, &t, 1);
  append_bytes(key, &pfa, 1);
  append_bytes(key, &textbook_alpha, 1);
  append_bytes(key, dims, 6);
  append_bytes(key, w.label.data(), w.label.size());
  append_bytes(key, kd.data(), kd.size());
  append_bytes(key, kr.data(), kr.size());
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = g_cache.find(key);
    if (it != g_cache.end()) return it->second;
  }

  const Factors f = normalised(w, kd, kr);
  const Eigen::MatrixXcd kt = training_covariance(w, f);
  CalibratedAlpha out;
  const double trace = kt.trace().real(), trace2 = kt.cwiseAbs2().sum();
  out.effective_cells = trace * trace / trace2;
  const double n = static_cast<double>(kt.rows());
  // The exact CA costs O(N^3) (7 ms at N = 216, 180 ms at 777 on the project's VM); beyond
  // 600 training cells the Monte Carlo (O(window) per sample) is the cheaper of the two.
  if (type == CfarType::Ca && kt.rows() <= 600) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> es(kt, Eigen::EigenvaluesOnly);
    std::vector<double> lambda(static_cast<std::size_t>(kt.rows()));
    for (Eigen::Index i = 0; i < kt.rows(); ++i)
      lambda[static_cast<std::size_t>(i)] = std::max(0.0, es.eigenvalues()(i));
    out.alpha = solve_falling([&](double a) { return log_pfa_ca_exact(lambda, a, n, looks); },
                              std::log(pfa), textbook_alpha);
    out.exact = true;
  } else {
    std::function<double(double)> halves;
    std::vector<double> lambda1, lambda2;
    if (type == CfarType::So && w.n_lead > 0 && w.n_lag > 0) {
      lambda1 = half_eigenvalues(w, f, 1);
      lambda2 = half_eigenvalues(w, f, 2);
      const double n1 = static_cast<double>(w.n_lead), n2 = static_cast<double>(w.n_lag);
      halves = [&](double a) {
        LogSum sum;
        sum.add(log_pfa_ca_exact(lambda1, a, n1, looks));
        sum.add(log_pfa_ca_exact(lambda2, a, n2, looks));
        return sum.log();
      };
    }
    if (type != CfarType::Os && (w.n_lead == 0 || w.n_lag == 0)) {
      // One half empty: GO and SO are CA on the other (cfar.hpp), exact.
      std::vector<double> lambda = half_eigenvalues(w, f, 0);
      out.alpha = solve_falling([&](double a) { return log_pfa_ca_exact(lambda, a, n, looks); },
                                std::log(pfa), textbook_alpha);
      out.exact = true;
    } else {
      out.alpha = monte_carlo_alpha(type, pfa, looks, os_k, w, f, textbook_alpha, trace, halves);
    }
  }
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  g_cache.emplace(std::move(key), out);
  return out;
}

CfarFactorTable calibrated_factors(const CfarConfig& cfar, std::size_t doppler_bins,
                                   std::size_t gates, std::size_t looks,
                                   const CellCorrelation& corr,
                                   const std::vector<double>& textbook_alpha,
                                   const std::vector<std::uint32_t>& os_k) {
  const auto t0 = std::chrono::steady_clock::now();
  if (corr.gates != gates || corr.doppler_fft_size != doppler_bins || corr.empty() ||
      corr.doppler_window.empty() || corr.mti_taps.empty())
    throw std::invalid_argument("cfar: the cell correlation does not describe this map");
  const std::size_t big_r = cfar.guard_range + cfar.train_range;
  const std::size_t big_d = cfar.guard_doppler + cfar.train_doppler;
  CfarFactorTable table;
  table.exact = true;
  table.range_alpha.assign(gates, 0.0);
  table.row_factor.assign(doppler_bins, 1.0);

  // Reference row: d = 0, the Doppler bin farthest from zero (with MTI, where its response
  // is flattest); without MTI every row has the same covariance.
  const std::vector<cd> kd_ref = doppler_covariance(corr, 0, big_d);
  // Full-gain noise everywhere: the correlation the eclipsed tail would have if its pulses were
  // whole (see the tail below).
  CellCorrelation full_gain = corr;
  full_gain.gates = std::size_t{1} << 60;
  auto solve_m = [&](std::size_t m, const std::vector<cd>& kd) {
    const WindowCells w = window_cells(cfar, m, gates);
    const std::vector<cd> kr = range_covariance(full_gain, w.first_gate, w.cols);
    const CalibratedAlpha a =
        solve_calibrated_alpha(cfar.type, cfar.pfa, looks, os_k[m], w, kd, kr, textbook_alpha[m]);
    ++table.solves;
    table.exact = table.exact && a.exact;
    return a;
  };
  // Range: each reduced window at the edges (m < R, m > N - 1 - R) and the interior window
  // (every other m) solved once. In the eclipsed tail (the last L - 1 bins) the noise power
  // falls along range and the last bins' samples are shared, so the CUT is correlated with its
  // training cells beyond the guard; the model's assumption fails there and the tail keeps the
  // full-gain factors (docs/signal-chain.md, "Calibrated thresholds": the tail's measured rate).
  const std::size_t m_ref = std::min(big_r, gates - 1);
  const std::size_t interior_end = gates - big_r;  // 2R + 1 <= N
  double alpha_int = 0.0;
  for (std::size_t m = 0; m < gates; ++m) {
    if (m >= big_r && m < interior_end && m != big_r) {
      table.range_alpha[m] = alpha_int;
      continue;
    }
    const CalibratedAlpha a = solve_m(m, kd_ref);
    table.range_alpha[m] = a.alpha;
    if (m == big_r) {
      alpha_int = a.alpha;
      table.effective_cells = a.effective_cells;
    }
  }

  // MTI: the noise power varies along Doppler, so each row's factor differs. Solved at the
  // reference range bin for the distance |k| from zero Doppler (rows k and -k mirror each
  // other: the same training cells' eigenvalues), exact for |k| <= 2D + 2, then on a grid
  // growing by a quarter, log-interpolated; applied as a ratio to the reference row.
  if (corr.mti_taps.size() > 1) {
    const double ref = table.range_alpha[m_ref];
    const std::size_t k_max = doppler_bins / 2;
    std::vector<std::size_t> kgrid;
    for (std::size_t k = 0; k <= std::min(k_max, 2 * big_d + 2); ++k) kgrid.push_back(k);
    for (std::size_t k = kgrid.back(); k < k_max;) {
      k = std::min(k_max, std::max(k + 1, (k * 5 + 3) / 4));
      kgrid.push_back(k);
    }
    std::vector<double> log_ratio(kgrid.size());
    for (std::size_t i = 0; i < kgrid.size(); ++i) {
      const long d =
          static_cast<long>(doppler_bins / 2 + kgrid[i]) % static_cast<long>(doppler_bins);
      log_ratio[i] = kgrid[i] == k_max && d == 0
                         ? 0.0
                         : std::log(solve_m(m_ref, doppler_covariance(corr, d, big_d)).alpha / ref);
    }
    for (std::size_t d = 0; d < doppler_bins; ++d) {
      const long kk = static_cast<long>(d) - static_cast<long>(doppler_bins / 2);
      const std::size_t k = static_cast<std::size_t>(std::abs(kk));
      auto hi = std::lower_bound(kgrid.begin(), kgrid.end(), k);
      const std::size_t ib = static_cast<std::size_t>(hi - kgrid.begin());
      double lr;
      if (kgrid[ib] == k) {
        lr = log_ratio[ib];
      } else {
        const double x =
            static_cast<double>(k - kgrid[ib - 1]) / static_cast<double>(kgrid[ib] - kgrid[ib - 1]);
        lr = log_ratio[ib - 1] + x * (log_ratio[ib] - log_ratio[ib - 1]);
      }
      // In MTI's notch the noise is cancelled far below its training rows', and the factor
      // falls with it: the design Pfa on noise holds there too, and clutter residue above
      // that noise crosses (docs/signal-chain.md, "MTI's notch").
      table.row_factor[d] = std::exp(lr);
    }
  }
  table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return table;
}

}  // namespace radarpipe::cpu
