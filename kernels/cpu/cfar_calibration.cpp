#include "kernels/cpu/cfar_calibration.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
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

// The alpha where a monotonically falling log Pfa(alpha) meets the target log pfa: bracketed
// by halving / doubling from `start`, then regula falsi on log alpha (Illinois: the end that
// stays has its residual halved), which converges in a handful of steps on these smooth,
// nearly linear curves; to 1e-10 relative.
template <class F>
double solve_falling(F&& log_pfa, double target, double start) {
  double lo = start, hi = start;
  double flo = log_pfa(lo) - target;
  for (int i = 0; i < 200 && flo < 0; ++i) flo = log_pfa(lo *= 0.5) - target;
  double fhi = lo == start ? log_pfa(hi) - target : flo;
  if (lo != start) hi = lo * 2.0, fhi = log_pfa(hi) - target;
  for (int i = 0; i < 200 && fhi > 0; ++i) lo = hi, flo = fhi, fhi = log_pfa(hi *= 2.0) - target;
  if (flo <= 0) return lo;  // bracketing gave up: the curve never rose to the target
  double a = std::log(lo), b = std::log(hi);
  int side = 0;
  for (int it = 0; it < 100 && b - a > 1e-10; ++it) {
    const double x = flo == fhi ? 0.5 * (a + b) : b - fhi * (b - a) / (fhi - flo);
    const double mid = std::clamp(x, a + 1e-3 * (b - a), b - 1e-3 * (b - a));
    const double fm = log_pfa(std::exp(mid)) - target;
    if (fm > 0) {
      a = mid, flo = fm;
      if (side == 1) fhi *= 0.5;
      side = 1;
    } else {
      b = mid, fhi = fm;
      if (side == -1) flo *= 0.5;
      side = -1;
    }
    if (fm == 0) return std::exp(mid);
  }
  return std::exp(0.5 * (a + b));
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

// The cells of a window labelled `label` (0: every training cell), row-major; with the CUT
// first when `with_cut`.
std::vector<std::pair<Eigen::Index, Eigen::Index>> window_cells_of(const WindowCells& w, int label,
                                                                   bool with_cut) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> cells;
  if (with_cut)
    cells.emplace_back(static_cast<Eigen::Index>(w.cut_row), static_cast<Eigen::Index>(w.cut_col));
  for (std::size_t r = 0; r < w.rows; ++r)
    for (std::size_t c = 0; c < w.cols; ++c) {
      const int l = w.label[r * w.cols + c];
      if (l != 0 && (label == 0 || l == label))
        cells.emplace_back(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
    }
  return cells;
}

Eigen::MatrixXcd covariance_of(const std::vector<std::pair<Eigen::Index, Eigen::Index>>& cells,
                               const Factors& f) {
  const auto n = static_cast<Eigen::Index>(cells.size());
  Eigen::MatrixXcd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      k(i, j) = f.kd(cells[i].first, cells[j].first) * f.kr(cells[i].second, cells[j].second);
  return k;
}

// The CUT's squared multiple correlation with the training cells below which it is taken as
// independent of them (the textbook's assumption, and the exact CA transform above): the
// factor then moves by less than a part in 10^4.
constexpr double kIndependentRho2 = 1e-6;

// CA on the cells labelled `label` (0: all training cells) with the CUT's correlation to them,
// exact. With K the covariance of (CUT, cells), beta = alpha / N and A = diag(1, -beta, ...),
// the CUT crosses when the quadratic form y^H A y > 0. The eigenvalues of K^(1/2) A K^(1/2)
// are those of M = (1 + beta) w w^H - beta Lambda (K = U Lambda U^H, w = Lambda^(1/2) U^H e_0):
// one positive, mu+, the rest <= 0 (Sylvester), so with L looks
//   Pfa = P(mu+ G_L > sum_j |mu_j| G_L,j) = E[Q_L(sum_j (|mu_j| / mu+) G_L,j)],
// the transform of log_pfa_ca_exact with s lambda_j = |mu_j| / mu+. For one look only mu+ is
// needed: Pfa = prod_(j != +) mu+ / (mu+ - mu_j) = mu+^(n-1) / p'(mu+), p the characteristic
// polynomial, p(mu) = prod_i (mu + beta lambda_i) F(mu), F(mu) = 1 - (1 + beta) sum_i |w_i|^2 /
// (mu + beta lambda_i) (the matrix determinant lemma), mu+ the positive root of F, so
//   log Pfa = (n - 1) log mu+ - sum_i log(mu+ + beta lambda_i) - log F'(mu+).
// Independent CUT: mu+ = 1 and it is the transform prod (1 + beta lambda_i)^-L again.
class CaExact {
 public:
  CaExact(const WindowCells& w, const Factors& f, int label, std::size_t looks) : looks_(looks) {
    const auto cells = window_cells_of(w, label, true);
    n_cells_ = cells.size() - 1;
    const Eigen::MatrixXcd k = covariance_of(cells, f);
    const auto n = k.rows();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> et(k.bottomRightCorner(n - 1, n - 1));
    // rho^2 = k^H K_T^+ k (pseudo-inverse: directions of no power carry no information).
    const double tmax = std::max(et.eigenvalues().maxCoeff(), 0.0);
    const Eigen::VectorXcd proj = et.eigenvectors().adjoint() * k.col(0).tail(n - 1);
    rho2_ = 0.0;
    for (Eigen::Index i = 0; i < n - 1; ++i) {
      const double l = std::max(0.0, et.eigenvalues()(i));
      lambda_t_.push_back(l);
      p2_.push_back(l > 1e-12 * tmax ? std::norm(proj(i)) : 0.0);
      if (l > 1e-12 * tmax) rho2_ += p2_.back() / l;
    }
    correlated_ = rho2_ >= kIndependentRho2;
  }
  double rho2() const { return rho2_; }
  bool correlated() const { return correlated_; }

  // With K = [1 k^H; k K_T] and K_T = V diag(lambda) V^H, p = V^H k, the characteristic
  // polynomial of K A (the eigenvalues of K^(1/2) A K^(1/2)) is, by the Schur complement,
  //   det(mu I - K A) = prod_i (mu + beta lambda_i) F(mu),
  //   F(mu) = mu - 1 + beta sum_i |p_i|^2 / (mu + beta lambda_i),
  // whose one positive root is mu+ (F(0) = rho^2 - 1 < 0, F(1) > 0).
  double log_pfa(double alpha) const {
    const double nn = static_cast<double>(n_cells_);
    if (!correlated_) return log_pfa_ca_exact(lambda_t_, alpha, nn, looks_);
    const double beta = alpha / nn;
    auto f = [&](double mu) {
      double acc = mu - 1.0;
      for (std::size_t i = 0; i < lambda_t_.size(); ++i)
        acc += beta * p2_[i] / (mu + beta * lambda_t_[i]);
      return acc;
    };
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
      const double mid = 0.5 * (lo + hi);
      (f(mid) < 0.0 ? lo : hi) = mid;
    }
    const double mu = 0.5 * (lo + hi);
    if (looks_ == 1) {
      // Pfa = prod_(j != +) mu+ / (mu+ - mu_j) = mu+^N / p'(mu+), p'(mu+) = prod (mu+ + beta
      // lambda_i) F'(mu+).
      double log_prod = 0.0, d = 0.0;
      for (std::size_t i = 0; i < lambda_t_.size(); ++i) {
        const double t = mu + beta * lambda_t_[i];
        log_prod += std::log(t);
        d += p2_[i] / (t * t);
      }
      return nn * std::log(mu) - log_prod - std::log(1.0 - beta * d);
    }
    // L looks: every negative root mu_j as well, one between each pair of neighbouring poles
    // -beta lambda_i (F rises from -inf to +inf between them); a pole without weight is itself
    // a root. Then Pfa = E[Q_L(sum_j (|mu_j| / mu+) G_L,j)].
    std::vector<std::pair<double, double>> poles;  // (lambda, |p|^2), equal lambdas merged
    for (std::size_t i = 0; i < lambda_t_.size(); ++i) poles.emplace_back(lambda_t_[i], p2_[i]);
    std::sort(poles.begin(), poles.end());
    std::vector<double> neg;  // |mu_j|
    std::vector<std::pair<double, double>> merged;
    for (const auto& pl : poles) {
      if (!merged.empty() && pl.first - merged.back().first <= 1e-12 * (1.0 + pl.first)) {
        neg.push_back(beta * pl.first);  // a repeated pole: one root stays on it
        merged.back().second += pl.second;
      } else {
        merged.push_back(pl);
      }
    }
    const double wmax = std::max(1e-300, rho2_);
    std::vector<std::pair<double, double>> live;
    for (const auto& pl : merged) {
      if (pl.second <= 1e-18 * wmax)
        neg.push_back(beta * pl.first);  // no weight: a root on the pole
      else
        live.push_back(pl);
    }
    auto g = [&](double x) {
      double acc = x - 1.0;
      for (const auto& pl : live) acc += beta * pl.second / (x + beta * pl.first);
      return acc;
    };
    // Poles at -beta lambda, lambda ascending: roots in (-beta l_(i+1), -beta l_i), and one in
    // (-beta l_0, 0).
    for (std::size_t i = 0; i < live.size(); ++i) {
      double a = i + 1 < live.size() ? -beta * live[i + 1].first : -beta * live[0].first;
      double b = i + 1 < live.size() ? -beta * live[i].first : 0.0;
      // g falls from +inf just right of a pole to -inf just left of the next (to g(0) < 0 in
      // the last interval).
      for (int it = 0; it < 100 && b - a > 1e-14 * std::fabs(a); ++it) {
        const double mid = 0.5 * (a + b);
        (g(mid) > 0.0 ? a : b) = mid;
      }
      neg.push_back(-0.5 * (a + b));
    }
    return log_pfa_ca_exact(neg, 1.0 / mu, 1.0, looks_);
  }

 private:
  std::size_t looks_, n_cells_ = 0;
  double rho2_ = 0.0;
  bool correlated_ = false;
  std::vector<double> lambda_t_, p2_;  // K_T's eigenvalues; the CUT's covariance on each
};

// log P(CUT > x) for a CUT of L looks, each complex Gaussian of variance 1 about a mean, the
// means' powers summing to lambda: the noncentral Gamma tail, a Poisson(lambda) mixture of
// central ones: sum_k e^-lambda lambda^k / k! Q_(L+k)(x), Q_m(x) = e^-x sum_(i<m) x^i / i!.
// log P(N(0,1) > z).
double log_normal_tail(double z) {
  if (z < 5.0) return std::log(0.5 * std::erfc(z / std::sqrt(2.0)));
  const double z2 = z * z;  // Mills' ratio
  return -0.5 * z2 - std::log(z * std::sqrt(2.0 * M_PI)) + std::log1p(-1.0 / z2 + 3.0 / (z2 * z2));
}

double log_q_noncentral(double lambda, double x, std::size_t looks) {
  if (lambda <= 0.0) return log_q(x, looks);
  if (x <= 0.0) return 0.0;
  if (lambda > 300.0 || x > 300.0 + lambda) {
    // Far from the origin (a CUT its neighbours predict almost wholly, where sigma^2 is small
    // and the series would run to k ~ x): Sankaran's normal approximation of the noncentral
    // chi-square, 2 X ~ chi'^2(2L, 2 lambda) (Biometrika 50, 1963, eq. 11), accurate to a few
    // per cent in the probability, where it is the sampled term of a window's average.
    const double k = 2.0 * static_cast<double>(looks), nu = 2.0 * lambda, y = 2.0 * x;
    const double h =
        1.0 - 2.0 / 3.0 * (k + nu) * (k + 3.0 * nu) / ((k + 2.0 * nu) * (k + 2.0 * nu));
    const double p = (k + 2.0 * nu) / ((k + nu) * (k + nu));
    const double m = (h - 1.0) * (1.0 - 3.0 * h);
    const double z =
        (std::pow(y / (k + nu), h) - (1.0 + h * p * (h - 1.0 - 0.5 * (2.0 - h) * m * p))) /
        (h * std::sqrt(2.0 * p) * (1.0 + 0.5 * m * p));
    return log_normal_tail(z);
  }
  // sum_k pois_k S_(L+k) e^-x, S_m = sum_(i<m) x^i / i!, by ratios (this is the Monte Carlo's
  // inner loop: a few multiplications a term, no transcendental but at rescaling). pois and
  // (S, x^i / i!) keep scales of their own, e^lp and e^ls, the running total e^lt; each is
  // rescaled by 10^100 when it leaves [10^-100, 10^100].
  constexpr double kBig = 1e100, kSmall = 1e-100;
  const double kStep = 100.0 * std::log(10.0);
  double term = 1.0, sm = 0.0, ls = 0.0;
  for (std::size_t i = 0; i < looks; ++i) {
    sm += term;
    term *= x / static_cast<double>(i + 1);
    if (term > kBig) term *= kSmall, sm *= kSmall, ls += kStep;
  }
  double pois = 1.0, lp = -lambda;
  double total = 0.0, lt = lp + ls, f = 1.0;  // f = e^(lp + ls - lt)
  const double k_max = lambda + 12.0 * std::sqrt(lambda) + 40.0 + x;
  for (std::size_t k = 0;; ++k) {
    const double add = pois * sm * f;
    total += add;
    const double kd = static_cast<double>(k);
    if ((kd > lambda + 5.0 && kd > x && add < 1e-17 * total) || kd > k_max) break;
    sm += term;
    term *= x / static_cast<double>(looks + k + 1);
    pois *= lambda / (kd + 1.0);
    bool rescaled = false;
    if (term > kBig) term *= kSmall, sm *= kSmall, ls += kStep, rescaled = true;
    if (pois > kBig) pois *= kSmall, lp += kStep, rescaled = true;
    if (pois < kSmall && pois > 0.0) pois *= kBig, lp -= kStep, rescaled = true;
    if (total > kBig) total *= kSmall, lt += kStep, rescaled = true;
    if (rescaled) f = std::exp(lp + ls - lt);
  }
  return total > 0.0 ? lt + std::log(total) - x : log_q(x, looks);
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
    // Windows are solved on several threads: a larger request replaces the kept numbers with a
    // longer run of the same sequence, while solves under way keep the run they hold.
    std::lock_guard<std::mutex> lock(mutex());
    std::shared_ptr<const std::vector<std::complex<float>>>& kept = store();
    if (!kept || kept->size() < count) {
      auto longer = std::make_shared<std::vector<std::complex<float>>>(count);
      Normal n(kSeed);
      for (auto& z : *longer) z = std::complex<float>(n.complex());
      kept = std::move(longer);
    }
    held_ = kept;
    data_ = held_->data();
  }
  cd operator[](std::size_t i) {
    return data_ ? cd(data_[i]) : cd(std::complex<float>(normal_.complex()));
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::shared_ptr<const std::vector<std::complex<float>>>& store() {
    static std::shared_ptr<const std::vector<std::complex<float>>> v;
    return v;
  }
  std::shared_ptr<const std::vector<std::complex<float>>> held_;
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
  // The CUT given the training cells y_T: complex Gaussian about mu = a^H y_T (a = K_T^+ k, k
  // their covariance with the CUT) of variance sigma^2 = 1 - k^H a. Each sample then crosses
  // with the noncentral tail's probability, of noncentrality sum_looks |mu|^2 / sigma^2 at
  // alpha Z / sigma^2; the tilted weight of the whole window stays right (the probability is a
  // function of the other cells only). Taken as independent below kIndependentRho2.
  const auto tcells = window_cells_of(w, 0, true);
  const Eigen::MatrixXcd kfull = covariance_of(tcells, f);
  const auto nt = kfull.rows() - 1;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXcd> et(kfull.bottomRightCorner(nt, nt));
  const double tmax = std::max(et.eigenvalues().maxCoeff(), 0.0);
  Eigen::VectorXcd proj = et.eigenvectors().adjoint() * kfull.col(0).tail(nt);
  double rho2 = 0.0;
  for (Eigen::Index i = 0; i < nt; ++i) {
    const double l = et.eigenvalues()(i);
    if (l > 1e-12 * tmax) {
      rho2 += std::norm(proj(i)) / l;
      proj(i) /= l;
    } else {
      proj(i) = 0.0;
    }
  }
  const bool correlated = rho2 >= kIndependentRho2;
  const Eigen::VectorXcd a_vec = et.eigenvectors() * proj;
  const double sigma2 = std::max(1.0 - rho2, 1e-12);
  // The isotropic tilt makes the training cells small, and with them mu: the samples where
  // the CUT's neighbours predict a large CUT, which make false alarms beside a small Z, come too
  // rarely (the estimate fell 20% short at 4096 samples). So the tilted window y0 gets a boost
  // along u = Sigma0 b (b: a on the training cells, 0 elsewhere; Sigma0 the tilted covariance):
  // y = y0 + sqrt(kappa) u xi, xi ~ CN(0, 1), which raises the variance of mu = b^H y from
  // s = b^H Sigma0 b to s / (1 - gamma s), as the tilt e^(gamma |mu|^2) would. gamma: the CUT's
  // tilt t = 1 - 1 / alpha (CA's saddle point for independent cells) integrated out given the
  // training cells, t / (1 - t sigma^2), capped at gamma s <= 0.9. The weight gains
  //   log(1 + kappa s) - kappa |mu|^2 / (1 + kappa s)   (q0 / q, Sherman-Morrison).
  const auto n_win = static_cast<Eigen::Index>(w.rows * w.cols);
  Eigen::VectorXcd u_boost = Eigen::VectorXcd::Zero(n_win);
  double kappa = 0.0, s_boost = 0.0;
  if (correlated) {
    Eigen::VectorXcd b = Eigen::VectorXcd::Zero(n_win);
    for (Eigen::Index i = 0; i < nt; ++i) {
      const auto& rc = tcells[static_cast<std::size_t>(i + 1)];
      b(rc.first * cols + rc.second) = a_vec(i);
    }
    // Sigma0 = V diag(scale^2) V^H, V((r, c), (r', c')) = ud(r, r') ur(c, c').
    Eigen::VectorXcd vb = Eigen::VectorXcd::Zero(n_win);  // V^H b
    for (Eigen::Index r2 = 0; r2 < rows; ++r2)
      for (Eigen::Index c2 = 0; c2 < cols; ++c2) {
        cd acc = 0.0;
        for (Eigen::Index r = 0; r < rows; ++r)
          for (Eigen::Index c = 0; c < cols; ++c)
            acc += std::conj(ud(r, r2) * ur(c, c2)) * b(r * cols + c);
        vb(r2 * cols + c2) = acc * scale(c2, r2) * scale(c2, r2);
        s_boost += std::norm(acc) * scale(c2, r2) * scale(c2, r2);
      }
    for (Eigen::Index r = 0; r < rows; ++r)
      for (Eigen::Index c = 0; c < cols; ++c) {
        cd acc = 0.0;
        for (Eigen::Index r2 = 0; r2 < rows; ++r2)
          for (Eigen::Index c2 = 0; c2 < cols; ++c2)
            acc += ud(r, r2) * ur(c, c2) * vb(r2 * cols + c2);
        u_boost(r * cols + c) = acc;
      }
    const double t = std::clamp(1.0 - 1.0 / textbook_alpha, 0.0, 0.99);
    double gamma = t / (1.0 - t * sigma2);
    if (s_boost > 0) gamma = std::min(gamma, 0.9 / s_boost);
    kappa = gamma / (1.0 - gamma * s_boost);
  }
  Normal boost_normal(kSeed ^ 0xb0057ull);
  std::vector<double> nc(kSamples, 0.0);
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
      Eigen::MatrixXcd y = bv * ud.transpose();
      std::vector<double> boost_log_w(kBlock, 0.0);
      if (correlated)
        for (Eigen::Index s = 0; s < block; ++s) {
          const cd xi = std::sqrt(kappa) * boost_normal.complex();
          for (Eigen::Index r = 0; r < rows; ++r)
            for (Eigen::Index c = 0; c < cols; ++c)
              y(c + cols * s, r) += u_boost(r * cols + c) * xi;
          cd mu = 0.0;
          for (Eigen::Index i = 0; i < nt; ++i)
            mu += std::conj(a_vec(i)) * y(tcells[static_cast<std::size_t>(i + 1)].second + cols * s,
                                          tcells[static_cast<std::size_t>(i + 1)].first);
          nc[s0 + static_cast<std::size_t>(s)] += std::norm(mu) / sigma2;
          boost_log_w[static_cast<std::size_t>(s)] =
              std::log1p(kappa * s_boost) - kappa * std::norm(mu) / (1.0 + kappa * s_boost);
        }
      for (Eigen::Index s = 0; s < block; ++s) {
        double* p = power.data() + static_cast<std::size_t>(s) * w.rows * w.cols;
        double norm = 0.0;
        for (Eigen::Index r = 0; r < rows; ++r)
          for (Eigen::Index c = 0; c < cols; ++c) {
            const double v = std::norm(y(c + cols * s, r));
            p[static_cast<std::size_t>(r * cols + c)] += v;
            norm += v;
          }
        tilt[static_cast<std::size_t>(s)] +=
            theta * norm + log_c + boost_log_w[static_cast<std::size_t>(s)];
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
    for (std::size_t s = 0; s < kSamples; ++s)
      sum.add(log_w[s] + (correlated ? log_q_noncentral(nc[s], alpha * z[s] / sigma2, looks)
                                     : log_q(alpha * z[s], looks)));
    const double go = sum.log() - log_n;
    if (type != CfarType::So || !so_halves) return go;
    // Pfa_SO >= either half's term, whatever the sampling error of GO's.
    const double halves = so_halves(alpha);
    return std::log(std::max(std::exp(halves) - std::exp(go), 0.5 * std::exp(halves)));
  };
  return solve_falling(log_pfa, std::log(pfa), textbook_alpha);
}

// The solver's version, part of every stored table's key: raised whenever a change to this
// file changes any factor, so that tables kept by an older build are solved again.
constexpr int kCalibrationVersion = 4;

// SO by the union bound of its halves where the less likely half's crossings are at most this
// share of the likelier's: Pfa then within 1% below the design.
constexpr double kSoBoundShare = 0.01;

// Solved windows of this process, by everything that determines them (tests and `radarpipe run`
// build chains of one mode many times).
std::mutex g_cache_mutex;
std::map<std::string, CalibratedAlpha> g_cache;

template <class T>
void append_bytes(std::string& key, const T* data, std::size_t count) {
  key.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

}  // namespace

double fft_rounding_floor(std::size_t fft_size) {
  const double u = std::ldexp(1.0, -24);
  return u * u * std::log2(static_cast<double>(std::max<std::size_t>(fft_size, 2)));
}

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
  const Eigen::MatrixXcd kt = covariance_of(window_cells_of(w, 0, false), f);  // K_T
  CalibratedAlpha out;
  const double trace = kt.trace().real(), trace2 = kt.cwiseAbs2().sum();
  out.effective_cells = trace * trace / trace2;
  // The exact CA costs O(N^3) (7 ms at N = 216, 180 ms at 777 on the project's VM); beyond
  // 600 training cells the Monte Carlo (O(window) per sample) is the cheaper of the two.
  if ((type == CfarType::Ca && kt.rows() <= 600) ||
      (type != CfarType::Os && (w.n_lead == 0 || w.n_lag == 0))) {
    // CA, or GO / SO with one half empty (CA on the other, cfar.hpp): exact.
    const CaExact ca(w, f, 0, looks);
    out.alpha =
        solve_falling([&](double a) { return ca.log_pfa(a); }, std::log(pfa), textbook_alpha);
    out.exact = true;
  } else {
    std::function<double(double)> halves;
    std::unique_ptr<CaExact> half1, half2;
    bool solved = false;
    if (type == CfarType::So) {
      half1 = std::make_unique<CaExact>(w, f, 1, looks);
      half2 = std::make_unique<CaExact>(w, f, 2, looks);
      halves = [&](double a) {
        LogSum sum;
        sum.add(half1->log_pfa(a));
        sum.add(half2->log_pfa(a));
        return sum.log();
      };
      // Pfa_SO = P1 + P2 - Pfa_GO lies between P1 + P2 - min(P1, P2) and P1 + P2. Where one half
      // is far the likelier to cross (a range edge: one half is the CUT's own column), the
      // union bound solved exactly is within kSoBoundShare of the design: no sampling.
      const double a = solve_falling(halves, std::log(pfa), textbook_alpha);
      const double l1 = half1->log_pfa(a), l2 = half2->log_pfa(a);
      if (std::min(l1, l2) - std::max(l1, l2) <= std::log(kSoBoundShare)) {
        out.alpha = a;
        out.exact = true;
        solved = true;
      }
    }
    if (!solved)
      out.alpha = monte_carlo_alpha(type, pfa, looks, os_k, w, f, textbook_alpha, trace, halves);
  }
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  g_cache.emplace(std::move(key), out);
  return out;
}

std::string calibration_key(const CfarConfig& cfar, std::size_t doppler_bins, std::size_t gates,
                            std::size_t looks, const CellCorrelation& corr,
                            const std::vector<double>& textbook_alpha,
                            const std::vector<std::uint32_t>& os_k) {
  std::string key = "radarpipe cfar calibration " + std::to_string(kCalibrationVersion) + ";";
  const int type = static_cast<int>(cfar.type);
  const std::size_t dims[] = {cfar.guard_range,
                              cfar.guard_doppler,
                              cfar.train_range,
                              cfar.train_doppler,
                              doppler_bins,
                              gates,
                              looks,
                              corr.range_reference.size(),
                              corr.mti_taps.size(),
                              corr.doppler_window.size(),
                              corr.doppler_fft_size,
                              corr.gates};
  const double params[] = {cfar.pfa, cfar.os_rank, corr.rounding_floor};
  append_bytes(key, &type, 1);
  append_bytes(key, dims, std::size(dims));
  append_bytes(key, params, std::size(params));
  append_bytes(key, corr.range_reference.data(), corr.range_reference.size());
  append_bytes(key, corr.mti_taps.data(), corr.mti_taps.size());
  append_bytes(key, corr.doppler_window.data(), corr.doppler_window.size());
  append_bytes(key, textbook_alpha.data(), textbook_alpha.size());
  append_bytes(key, os_k.data(), os_k.size());
  return key;
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
  table.doppler_bins = doppler_bins;
  table.range_alpha.assign(gates, 0.0);

  // Reference row: d = 0, the Doppler bin farthest from zero (with MTI, where its response
  // is flattest); without MTI every row has the same covariance.
  const std::vector<cd> kd_ref = doppler_covariance(corr, 0, big_d);
  double full_gain = 0.0;  // K_R's diagonal in the full-gain bins: sum |h|^2
  for (const cd& h : corr.range_reference) full_gain += std::norm(h);

  // Range. The leading edge's reduced windows (m < R) and the interior window are solved once
  // each; the interior factor holds for every window whose cells all lie in the full-gain bins.
  // Beyond (windows reaching into the eclipsed tail, the last L - 1 bins, and the trailing
  // edge's reduced windows) the noise power falls along range and the last bins share their few
  // samples, so the CUT correlates with its training cells: solved with that correlation
  // (CaExact, the conditional Monte Carlo) at every window within 2R + 2 bins of the end, then
  // on a grid growing by a quarter towards the full-gain bins, log-interpolated between.
  const std::size_t m_ref = std::min(big_r, gates - 1);
  const std::size_t taps = corr.range_reference.size();
  const std::size_t first_eclipsed = gates + 1 > taps ? gates + 1 - taps : 0;
  // Windows m < stationary_end have every cell in the full-gain bins and a full window.
  const std::size_t stationary_end =
      std::min(gates - big_r, first_eclipsed > big_r ? first_eclipsed - big_r : 0);
  const std::size_t first = std::max(stationary_end, big_r + 1);  // solved by distance from here
  std::vector<std::size_t> egrid;                                 // e = N - 1 - m
  if (first < gates) {
    const std::size_t e_max = gates - 1 - first;
    for (std::size_t e = 0; e <= std::min(e_max, 2 * big_r + 2); ++e) egrid.push_back(e);
    for (std::size_t e = egrid.back(); e < e_max;) {
      e = std::min(e_max, std::max(e + 1, (e * 5 + 3) / 4));
      egrid.push_back(e);
    }
  }
  // MTI: the noise power varies along Doppler, so each row's factor differs, and by how much
  // depends on the window's cells: a range-edge window whose leading half is the CUT's own
  // column above it, or a tail window whose last bins hold little noise, weighs the rows towards
  // the notch differently from the interior one (a product of one range and one row factor put
  // SO's leading edge at up to 148x its design). So every range point above (the leading edge,
  // the interior window, the tail's grid) is solved on its own rows: at the distance |k| from
  // zero Doppler, exact for |k| <= 2D + 2, then on a grid growing by a quarter, log-interpolated;
  // kept as ratios to the point's reference row. Rows k and -k mirror each other for CA and OS
  // (the Doppler covariance is conjugated, the training cells' eigenvalues are the same), not
  // for GO and SO: each half holds the CUT's own column on one side only, above it or below, and
  // at the range edges that column is most of a half. Their negative rows are solved too.
  const bool mti = corr.mti_taps.size() > 1;
  const std::size_t k_max = doppler_bins / 2;
  std::vector<std::size_t> kgrid;
  if (mti) {
    for (std::size_t k = 0; k <= std::min(k_max, 2 * big_d + 2); ++k) kgrid.push_back(k);
    for (std::size_t k = kgrid.back(); k < k_max;) {
      k = std::min(k_max, std::max(k + 1, (k * 5 + 3) / 4));
      kgrid.push_back(k);
    }
  }
  const std::size_t nk = kgrid.size();
  const bool halves_matter = cfar.type == CfarType::Go || cfar.type == CfarType::So;
  auto row_of = [&](std::size_t k, bool negative) {  // d = M/2 +- k, mod M
    const long mm = static_cast<long>(doppler_bins);
    const long kk = negative ? -static_cast<long>(k) : static_cast<long>(k);
    return ((mm / 2 + kk) % mm + mm) % mm;
  };

  // Every window to solve: (range point, Doppler row), solved on as many threads as there are
  // cores (each solve is independent). slot[p][j]: the task of range point p's row j (0 the
  // reference row, 1 + i row +kgrid[i], 1 + nk + i row -kgrid[i]; a row met twice, or a mirror
  // not solved, points at the same task).
  struct Task {
    std::size_t m;
    long d;
    double alpha = 0, effective_cells = 0;
    bool exact = true;
  };
  std::vector<std::size_t> points;  // range points: 0 .. R, then the tail's grid
  for (std::size_t m = 0; m <= std::min(big_r, gates - 1); ++m) points.push_back(m);
  const std::size_t leading_points = points.size();
  for (std::size_t e : egrid) points.push_back(gates - 1 - e);
  // Rows of their own: every point of the range edges (m < R, e <= R: reduced windows) and
  // the interior; in the tail's full windows, whose row ratios change slowly with e, grid
  // points at least half as far again from the end as the last one taken (the rest
  // interpolated in e between them).
  std::vector<bool> own_rows(points.size(), mti);
  if (mti) {
    std::size_t last = 0;
    for (std::size_t i = 0; i < egrid.size(); ++i) {
      const std::size_t e = egrid[i];
      const bool keep = e <= big_r + 1 || i + 1 == egrid.size() || 2 * e >= 3 * last;
      own_rows[leading_points + i] = keep;
      if (keep) last = e;
    }
  }
  std::vector<Task> tasks;
  std::vector<std::vector<std::size_t>> slot(points.size());
  for (std::size_t p = 0; p < points.size(); ++p) {
    const std::size_t m = points[p];
    std::map<long, std::size_t> of_row;
    auto task_for = [&](long d) {
      auto it = of_row.find(d);
      if (it != of_row.end()) return it->second;
      tasks.push_back({m, d});
      return of_row[d] = tasks.size() - 1;
    };
    slot[p].push_back(task_for(0));
    for (std::size_t i = 0; i < nk; ++i)
      slot[p].push_back(own_rows[p] ? task_for(row_of(kgrid[i], false)) : slot[p][0]);
    for (std::size_t i = 0; i < nk; ++i)
      slot[p].push_back(!halves_matter || !own_rows[p] ? slot[p][1 + i]
                                                       : task_for(row_of(kgrid[i], true)));
  }
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < tasks.size();) {
      try {
        Task& t = tasks[i];
        const WindowCells w = window_cells(cfar, t.m, gates);
        std::vector<cd> kr = range_covariance(corr, w.first_gate, w.cols);
        // The chain computes in float: its fast convolution's rounding leaves a white floor,
        // which is all the last bins of a taper that ends in zeros (blackman, hann) hold.
        // Without it the model puts those bins' noise orders of magnitude below what the chain
        // makes (the tail's SO crossed at 6x); with it 30x too strong, the trailing edge's SO
        // beside those bins crossed at 1.7-13x (the floor's cells held its threshold up).
        for (std::size_t c = 0; c < w.cols; ++c)
          kr[c * w.cols + c] += corr.rounding_floor * full_gain;
        const std::vector<cd> kd = t.d == 0 ? kd_ref : doppler_covariance(corr, t.d, big_d);
        const CalibratedAlpha a = solve_calibrated_alpha(cfar.type, cfar.pfa, looks, os_k[t.m], w,
                                                         kd, kr, textbook_alpha[t.m]);
        t.alpha = a.alpha;
        t.effective_cells = a.effective_cells;
        t.exact = a.exact;
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        error = std::current_exception();
      }
    }
  };
  // Threads for the Monte Carlo variants and MTI's many rows only: CA's exact solves take
  // milliseconds, and each thread that allocates keeps a malloc arena of its own (virtual memory
  // a process under ulimit -v needs for its chain's workers).
  const std::size_t threads =
      cfar.type == CfarType::Ca && !mti
          ? 1
          : std::min<std::size_t>(tasks.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no thread to be had (a memory limit): the ones started, and this one, do it all
    }
  }
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  table.solves = tasks.size();
  for (const Task& t : tasks) table.exact = table.exact && t.exact;
  auto log_alpha = [&](std::size_t point, std::size_t row) {
    return std::log(tasks[slot[point][row]].alpha);
  };

  // Range factors on the reference row.
  for (std::size_t p = 0; p < leading_points; ++p)
    table.range_alpha[points[p]] = tasks[slot[p][0]].alpha;
  const double alpha_int = table.range_alpha[m_ref];
  table.effective_cells = tasks[slot[m_ref][0]].effective_cells;
  for (std::size_t m = big_r + 1; m < stationary_end; ++m) table.range_alpha[m] = alpha_int;
  // A tail bin's place on the e-grid: the grid points (as range points) and the weight of the
  // second.
  struct Between {
    std::size_t p0, p1;
    double x;
  };
  auto between = [&](std::size_t m) {
    const std::size_t e = gates - 1 - m;
    const auto ib =
        static_cast<std::size_t>(std::lower_bound(egrid.begin(), egrid.end(), e) - egrid.begin());
    if (egrid[ib] == e) return Between{leading_points + ib, leading_points + ib, 0.0};
    const double x =
        static_cast<double>(e - egrid[ib - 1]) / static_cast<double>(egrid[ib] - egrid[ib - 1]);
    return Between{leading_points + ib - 1, leading_points + ib, x};
  };
  for (std::size_t m = first; m < gates; ++m) {
    const Between b = between(m);
    table.range_alpha[m] = std::exp((1 - b.x) * log_alpha(b.p0, 0) + b.x * log_alpha(b.p1, 0));
  }
  // In the eclipsed tail a target's partly recorded pulse is compressed by a partial
  // reference: its energy spreads forward over the bins after it, where the noise (what the
  // factors are solved for) is far weaker, and the model's lower factors there plotted that
  // spread as ghosts beyond the target. So a tail window's factor is never below the full-gain
  // one (the interior factor, scaled at the trailing edge as the textbook's for its fewer
  // cells): noise there crosses at or below the design (CA 0.7x, measured); SO's tail, which
  // needs more, keeps its own. With MTI the floor is taken row by row (below).
  const std::size_t floored = std::max(first_eclipsed, first);
  auto tail_floor = [&](std::size_t m) {
    return alpha_int * textbook_alpha[m] / textbook_alpha[m_ref];
  };
  for (std::size_t m = floored; m < gates; ++m)
    table.range_alpha[m] = std::max(table.range_alpha[m], tail_floor(m));

  table.row_factor.assign(doppler_bins, 1.0);
  table.row_class.assign(gates, 0);
  if (!mti) {
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
  }
  // Each range point's log row ratios, per Doppler bin (interpolated in |k| on its side).
  std::vector<double> ratio(points.size() * doppler_bins);
  for (std::size_t p = 0; p < points.size(); ++p) {
    std::vector<double> at_k(2 * nk);  // +k, then -k
    for (std::size_t j = 0; j < 2 * nk; ++j)
      at_k[j] = slot[p][1 + j] == slot[p][0] ? 0.0 : log_alpha(p, 1 + j) - log_alpha(p, 0);
    for (std::size_t d = 0; d < doppler_bins; ++d) {
      const long kk = static_cast<long>(d) - static_cast<long>(doppler_bins / 2);
      const std::size_t k = static_cast<std::size_t>(std::abs(kk));
      const double* side = at_k.data() + (kk < 0 ? nk : 0);
      const auto ib =
          static_cast<std::size_t>(std::lower_bound(kgrid.begin(), kgrid.end(), k) - kgrid.begin());
      double lr = side[ib];
      if (kgrid[ib] != k) {
        const double x =
            static_cast<double>(k - kgrid[ib - 1]) / static_cast<double>(kgrid[ib] - kgrid[ib - 1]);
        lr = side[ib - 1] + x * (side[ib] - side[ib - 1]);
      }
      // In MTI's notch the noise is cancelled far below its training rows', and the factor
      // falls with it: the design Pfa on noise holds there too, and clutter residue above
      // that noise crosses (docs/signal-chain.md, "MTI's notch").
      ratio[p * doppler_bins + d] = lr;
    }
  }
  // Tail points without rows of their own: their ratios interpolated in e between the nearest
  // points with rows.
  for (std::size_t p = leading_points; p < points.size(); ++p) {
    if (own_rows[p]) continue;
    std::size_t p0 = p, p1 = p;
    while (!own_rows[p0]) --p0;  // nearer the end (e smaller); the trailing edge has rows
    while (!own_rows[p1]) ++p1;  // the last grid point has rows
    const double e = static_cast<double>(gates - 1 - points[p]);
    const double e0 = static_cast<double>(gates - 1 - points[p0]);
    const double e1 = static_cast<double>(gates - 1 - points[p1]);
    const double x = (e - e0) / (e1 - e0);
    for (std::size_t d = 0; d < doppler_bins; ++d)
      ratio[p * doppler_bins + d] =
          (1 - x) * ratio[p0 * doppler_bins + d] + x * ratio[p1 * doppler_bins + d];
  }
  // Classes: 0 the interior window (range point R), 1 + m the leading edge's window m < R,
  // 1 + R + (m - first) each bin from `first` on (the tail's windows, between grid points).
  const std::size_t tail_bins = gates - first;
  const std::size_t classes = 1 + m_ref + tail_bins;
  table.row_factor.assign(classes * doppler_bins, 1.0);
  const double* interior = &ratio[m_ref * doppler_bins];
  for (std::size_t d = 0; d < doppler_bins; ++d) table.row_factor[d] = std::exp(interior[d]);
  for (std::size_t m = 0; m < m_ref; ++m) {
    table.row_class[m] = static_cast<std::uint32_t>(1 + m);
    for (std::size_t d = 0; d < doppler_bins; ++d)
      table.row_factor[(1 + m) * doppler_bins + d] = std::exp(ratio[m * doppler_bins + d]);
  }
  for (std::size_t m = first; m < gates; ++m) {
    const std::size_t c = 1 + m_ref + (m - first);
    table.row_class[m] = static_cast<std::uint32_t>(c);
    const Between b = between(m);
    const double la = (1 - b.x) * log_alpha(b.p0, 0) + b.x * log_alpha(b.p1, 0);
    for (std::size_t d = 0; d < doppler_bins; ++d) {
      double alpha = std::exp(la + (1 - b.x) * ratio[b.p0 * doppler_bins + d] +
                              b.x * ratio[b.p1 * doppler_bins + d]);
      if (m >= floored) alpha = std::max(alpha, tail_floor(m) * table.row_factor[d]);
      table.row_factor[c * doppler_bins + d] = alpha / table.range_alpha[m];
    }
  }
  table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return table;
}

}  // namespace radarpipe::cpu
