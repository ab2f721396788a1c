#include "kernels/cpu/clutter_map.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace radarpipe::cpu {

namespace {

double steady_rate(double tau) {
  return -std::expm1(-1.0 / tau);
}

/// The plain-average phase's length: b(j) = 1/j while 1/j >= the steady rate.
std::size_t plain_updates(double tau) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(1.0 / steady_rate(tau))));
}

/// Weights as (value, multiplicity): the plain block is one entry.
using Weights = std::vector<std::pair<double, double>>;

Weights grouped_weights(std::size_t n, double tau) {
  const std::size_t n0 = plain_updates(tau);
  if (n <= n0) return {{1.0 / static_cast<double>(n), static_cast<double>(n)}};
  const double b = steady_rate(tau), keep = std::log1p(-b);
  Weights w;
  w.reserve(n - n0 + 1);
  w.emplace_back(std::exp(static_cast<double>(n - n0) * keep) / static_cast<double>(n0),
                 static_cast<double>(n0));
  for (std::size_t j = n0 + 1; j <= n; ++j)
    w.emplace_back(b * std::exp(static_cast<double>(n - j) * keep), 1.0);
  return w;
}

// log Pfa(K) for C = sum_i w_i G_i (module comment). With a_i = K w_i, r_i = a_i / (1 + a_i):
//   phi(1) = prod (1 + a_i)^-L,  (-1)^j phi^(j)(1) / j! = phi(1) u_j,
//   u_0 = 1, u_{n+1} = (1 / (n+1)) sum_{k=0}^{n} c_{k+1} u_{n-k},  c_m = L sum_i r_i^m
// (the derivatives of exp(g), g = log phi; every term positive, so no cancellation). The u_j are
// kept under a common scale that is rescaled when they grow (L up to the channel count).
double log_pfa(double k, const Weights& w, std::size_t looks) {
  const double L = static_cast<double>(looks);
  double log_phi = 0.0;
  for (const auto& [wi, mult] : w) log_phi -= L * mult * std::log1p(k * wi);
  if (looks == 1) return log_phi;
  std::vector<double> c(looks + 1, 0.0);
  for (const auto& [wi, mult] : w) {
    const double a = k * wi, r = a / (1.0 + a);
    double x = r;
    for (std::size_t m = 1; m <= looks; ++m) {
      c[m] += L * mult * x;
      x *= r;
      if (x < 1e-18 * r) break;  // this weight's later powers are below rounding of its first
    }
  }
  std::vector<double> u(looks, 0.0);
  u[0] = 1.0;
  double log_scale = 0.0;
  for (std::size_t n = 0; n + 1 < looks; ++n) {
    double s = 0.0;
    for (std::size_t q = 0; q <= n; ++q) s += c[q + 1] * u[n - q];
    u[n + 1] = s / static_cast<double>(n + 1);
    if (u[n + 1] > 1e250) {
      for (std::size_t q = 0; q <= n + 1; ++q) u[q] *= 1e-250;
      log_scale += 250.0 * std::log(10.0);
    }
  }
  double sum = 0.0;
  for (double v : u) sum += v;
  return log_phi + log_scale + std::log(sum);
}

// K with log Pfa(K) = log pfa, from above: the returned K's Pfa is at or below the design. The
// root is bracketed by doubling, then found by the Illinois method on x = log K (log Pfa is
// smooth and close to linear in log K, so a few evaluations do where bisection takes forty).
double solve_factor(const Weights& w, std::size_t looks, double pfa) {
  const double target = std::log(pfa);
  auto f = [&](double x) { return log_pfa(std::exp(x), w, looks) - target; };
  double a = -1.0, b = 0.0, fb = f(b);
  double fa = f(a);
  while (fa <= 0.0) {  // the root is below a (K < e^-1 happens only for pfa near 1)
    b = a;
    fb = fa;
    a -= 2.0;
    if (a < -700.0) throw std::invalid_argument("clutter map: no factor reaches the design Pfa");
    fa = f(a);
  }
  while (fb > 0.0) {
    a = b;
    fa = fb;
    b += 1.0;
    if (b > 690.0) throw std::invalid_argument("clutter map: no factor reaches the design Pfa");
    fb = f(b);
  }
  // fa > 0 >= fb. Illinois: regula falsi that halves the value kept twice on one side.
  int side = 0;
  for (int it = 0; it < 200 && b - a > 1e-11; ++it) {
    const double x = b - fb * (b - a) / (fb - fa);
    const double fx = f(x);
    if (fx > 0.0) {
      a = x;
      fa = fx;
      if (side == -1) fb *= 0.5;
      side = -1;
    } else {
      b = x;
      fb = fx;
      if (side == 1) fa *= 0.5;
      side = 1;
    }
    if (fx == 0.0) break;
  }
  return std::exp(b);  // the side at or below the design
}

[[noreturn]] void bad(const std::string& field, const std::string& message) {
  throw std::invalid_argument("clutter map: " + field + " " + message);
}

}  // namespace

double clutter_map_shape_margin(double pfa) {
  return 1.0 + 0.08 * std::max(0.0, -std::log10(pfa) - 3.0);
}

std::vector<double> clutter_map_weights(std::size_t n, double time_constant) {
  std::vector<double> out;
  for (const auto& [w, mult] : grouped_weights(n, time_constant))
    out.insert(out.end(), static_cast<std::size_t>(mult), w);
  return out;
}

double clutter_map_pfa(double k, const std::vector<double>& weights, std::size_t looks) {
  Weights w;
  for (double v : weights) w.emplace_back(v, 1.0);
  return std::exp(log_pfa(k, w, looks));
}

ClutterMap::ClutterMap(const ClutterMapStageConfig& config) : cfg_(config) {
  const auto start = std::chrono::steady_clock::now();
  if (cfg_.doppler_bins < 1 || cfg_.gates < 1) bad("map", "has no cells");
  if (cfg_.rows < 1 || cfg_.first_row + cfg_.rows > cfg_.doppler_bins)
    bad("rows", std::to_string(cfg_.first_row) + " + " + std::to_string(cfg_.rows) +
                    " exceed the " + std::to_string(cfg_.doppler_bins) + " Doppler bins");
  if (cfg_.maps < 1 || cfg_.azimuth_cells < 1 || cfg_.looks < 1)
    bad("maps, azimuth_cells and looks", "must be >= 1");
  if (!(cfg_.time_constant >= 1.0 && cfg_.time_constant <= 1e4))
    bad("time_constant", std::to_string(cfg_.time_constant) + " is not in [1, 10^4] updates");
  if (cfg_.warmup < 1 || cfg_.warmup > 1000000) bad("warmup", "is not in [1, 10^6] updates");
  if (cfg_.gap < 1 || cfg_.gap > 1000000) bad("gap", "is not in [1, 10^6] updates");
  if (cfg_.factor_db <= 0.0 && !(cfg_.pfa > 0.0 && cfg_.pfa < 1.0))
    bad("pfa", std::to_string(cfg_.pfa) + " is not in (0, 1)");
  const double cells = static_cast<double>(cfg_.maps) * static_cast<double>(cfg_.azimuth_cells) *
                       static_cast<double>(cfg_.rows) * static_cast<double>(cfg_.gates);
  if (cells > static_cast<double>(kMaxClutterMapCells))
    bad("cells", std::to_string(cells) + " exceed " + std::to_string(kMaxClutterMapCells));

  // The table runs until the plain block's weight has decayed below 1e-6 of itself (from there
  // the weights are the steady ones to that precision), and at least to the warm-up.
  const double tau = cfg_.time_constant;
  const std::size_t n0 = plain_updates(tau);
  const std::size_t settle =
      n0 + static_cast<std::size_t>(std::ceil(std::log(1e-6) / std::log1p(-steady_rate(tau))));
  const std::size_t last = std::max(settle + 1, cfg_.warmup);
  rate_.assign(last + 1, 0.0f);
  rate_[0] = 1.0f;
  for (std::size_t j = 1; j <= last; ++j)
    rate_[j] = static_cast<float>(std::max(1.0 / static_cast<double>(j), steady_rate(tau)));
  // The measured shape's grid: the Gamma orders above the looks' (module comment). The spread
  // must average some 2 tau innovations before it is trusted, and a cell takes the order at or
  // below nu^ / margin, the margin growing with the design's depth (the deeper the tail, the more
  // an overestimated nu costs); below tau 16 the spread is not used.
  if (cfg_.measured_shape && cfg_.factor_db <= 0.0 && tau >= 16.0) {
    const double margin = clutter_map_shape_margin(cfg_.pfa);
    for (std::uint32_t nu : {4u, 5u, 6u, 8u, 11u, 16u, 22u, 32u, 45u, 64u, 90u, 128u})
      if (nu > cfg_.looks) {
        order_.push_back(nu);
        limit_.push_back(static_cast<float>(1.0 / (margin * static_cast<double>(nu))));
      }
    shape_from_ = static_cast<std::uint32_t>(
        std::max<std::size_t>(cfg_.warmup, 2 * static_cast<std::size_t>(std::ceil(tau - 1e-9))));
  }
  const std::size_t stride = last + 1;
  factor_.assign(stride * (order_.size() + 1), 0.0f);
  if (cfg_.factor_db > 0.0) {
    std::fill(factor_.begin(), factor_.end(),
              static_cast<float>(std::pow(10.0, cfg_.factor_db / 10.0)));
  } else {
    // Solved exactly at every n up to 256, on a grid 5% apart beyond and at `settle`; between
    // grid points the factor of the grid point below (K falls as the average holds more
    // powers, so that side keeps Pfa at or below the design); from `settle` on the steady one.
    // A shape's row is solved from shape_from on (its entries below are never read; they hold
    // the looks' row).
    for (std::size_t row = 0; row <= order_.size(); ++row) {
      float* k_of = factor_.data() + row * stride;
      const std::size_t order = row == 0 ? cfg_.looks : order_[row - 1];
      const std::size_t from = row == 0 ? 1 : std::min<std::size_t>(shape_from_, settle);
      if (row > 0) std::copy(factor_.begin(), factor_.begin() + from, k_of);
      for (std::size_t n = from; n <= settle;) {
        const std::size_t next = std::min(
            settle, n < 256 ? n + 1
                            : std::max(n + 1, static_cast<std::size_t>(
                                                  std::ceil(static_cast<double>(n) * 1.05))));
        const float k = static_cast<float>(solve_factor(grouped_weights(n, tau), order, cfg_.pfa));
        for (std::size_t j = n; j < (next == n ? n + 1 : next); ++j) k_of[j] = k;
        if (next == n) break;
        n = next;
      }
      std::fill(k_of + settle, k_of + stride, k_of[settle]);
      // Rounded up, so the float product K C is never below the solved threshold for rounding.
      for (std::size_t j = from; j <= last; ++j)
        k_of[j] = std::nextafter(k_of[j], std::numeric_limits<float>::infinity());
      if (row == 0) k_of[0] = k_of[1];
    }
  }
  state_.maps = cfg_.maps;
  state_.azimuth_cells = cfg_.azimuth_cells;
  state_.rows = cfg_.rows;
  state_.gates = cfg_.gates;
  state_.reset();
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ClutterMapStats ClutterMap::process_rows(const float* map, std::size_t map_index,
                                         std::size_t azimuth_cell, std::size_t d_begin,
                                         std::size_t d_end, CfarCrossing* out,
                                         std::size_t capacity) noexcept {
  ClutterMapStats st;
  d_begin = std::max(d_begin, first_row());
  d_end = std::min(d_end, end_row());
  if (map_index >= cfg_.maps || azimuth_cell >= cfg_.azimuth_cells) return st;
  const std::uint32_t last = table_last();
  const std::uint32_t warmup = static_cast<std::uint32_t>(cfg_.warmup);
  const ClutterMapRules r = rules();
  const ClutterMapTables t = tables();
  const std::size_t n = cfg_.gates;
  for (std::size_t d = d_begin; d < d_end; ++d) {
    const std::size_t base =
        ((map_index * cfg_.azimuth_cells + azimuth_cell) * cfg_.rows + (d - first_row())) * n;
    float* mean = state_.mean.data() + base;
    float* spread = state_.spread.data() + base;
    std::uint32_t* learned = state_.learned.data() + base;
    std::uint32_t* run = state_.run.data() + base;
    std::uint32_t* quiet = state_.quiet.data() + base;
    const float* row = map + d * n;
    for (std::size_t m = 0; m < n; ++m) {
      const float before = mean[m];
      const bool tested = std::min(learned[m], last) >= warmup;
      st.tested += tested;
      if (clutter_map_step(row[m], mean[m], spread[m], learned[m], run[m], quiet[m], t, r)) {
        if (st.stored < capacity)
          out[st.stored++] = {static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(m), row[m],
                              before};
        ++st.crossings;
      }
    }
    st.cells += n;
  }
  return st;
}

ClutterMapRules ClutterMap::rules() const {
  auto u32 = [](std::size_t v) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(v, 0xffffffffu));
  };
  return {table_last(), u32(cfg_.warmup), u32(cfg_.gap), u32(cfg_.hold), shape_from_};
}

void ClutterMap::restore(const ClutterMapState& s) {
  check(s);
  state_ = s;
}

void ClutterMap::check(const ClutterMapState& s) const {
  auto shape = [](const ClutterMapState& x) {
    return std::to_string(x.maps) + " maps x " + std::to_string(x.azimuth_cells) +
           " azimuth cells x " + std::to_string(x.rows) + " rows x " + std::to_string(x.gates) +
           " gates";
  };
  if (s.maps != state_.maps || s.azimuth_cells != state_.azimuth_cells || s.rows != state_.rows ||
      s.gates != state_.gates)
    bad("state", "of " + shape(s) + " is not this map's " + shape(state_));
  const std::size_t cells = state_.cells();
  if (s.mean.size() != cells || s.spread.size() != cells || s.learned.size() != cells ||
      s.run.size() != cells || s.quiet.size() != cells)
    bad("state", "holds " + std::to_string(s.mean.size()) + " cells, the shape says " +
                     std::to_string(cells));
  for (std::size_t i = 0; i < cells; ++i) {
    if (!(std::isfinite(s.mean[i]) && s.mean[i] >= 0.0f))
      bad("state", "cell " + std::to_string(i) + " has mean " + std::to_string(s.mean[i]) +
                       " (expected finite and >= 0)");
    if (!(s.spread[i] >= 0.0f && s.spread[i] <= 1e6f))
      bad("state", "cell " + std::to_string(i) + " has spread " + std::to_string(s.spread[i]) +
                       " (expected 0 .. 10^6)");
    if (s.learned[i] < 2 && s.spread[i] != 0.0f)
      bad("state", "cell " + std::to_string(i) + " has learned " + std::to_string(s.learned[i]) +
                       " powers but a spread of " + std::to_string(s.spread[i]) +
                       " (0 until two are learned)");
    if (s.learned[i] > table_last())
      bad("state", "cell " + std::to_string(i) + " has learned " + std::to_string(s.learned[i]) +
                       " powers, past the table's " + std::to_string(table_last()));
    if (s.quiet[i] > s.run[i])
      bad("state", "cell " + std::to_string(i) + " has " + std::to_string(s.quiet[i]) +
                       " quiet updates in an episode of " + std::to_string(s.run[i]));
    if (s.learned[i] == 0 && s.mean[i] != 0.0f)
      bad("state", "cell " + std::to_string(i) + " has learned nothing but a mean of " +
                       std::to_string(s.mean[i]));
  }
}

}  // namespace radarpipe::cpu
