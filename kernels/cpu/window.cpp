#include "kernels/cpu/window.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/radar_math.hpp"

namespace radarpipe::cpu {
namespace {

std::vector<double> cosine_sum(std::size_t n, double a0, double a1, double a2) {
  std::vector<double> w(n, 1.0);
  if (n == 1) return w;
  const double den = static_cast<double>(n - 1);
  for (std::size_t k = 0; k < n; ++k) {
    const double x = 2.0 * kPi * static_cast<double>(k) / den;
    w[k] = a0 - a1 * std::cos(x) + a2 * std::cos(2.0 * x);
  }
  return w;
}

std::vector<double> taylor(std::size_t n, int nbar, double sll_db) {
  const double b = std::pow(10.0, sll_db / 20.0);
  const double a = std::acosh(b) / kPi;
  const double a2 = a * a;
  const double s2 = nbar * nbar / (a2 + (nbar - 0.5) * (nbar - 0.5));
  std::vector<double> fm(nbar > 1 ? nbar - 1 : 0);
  for (int m = 1; m < nbar; ++m) {
    const double m2 = static_cast<double>(m) * m;
    double numer = (m % 2 == 1) ? 1.0 : -1.0;
    for (int i = 1; i < nbar; ++i) numer *= 1.0 - m2 / s2 / (a2 + (i - 0.5) * (i - 0.5));
    double denom = 2.0;
    for (int i = 1; i < nbar; ++i)
      if (i != m) denom *= 1.0 - m2 / (static_cast<double>(i) * i);
    fm[m - 1] = numer / denom;
  }
  const double len = static_cast<double>(n);
  auto eval = [&](double k) {
    double sum = 1.0;
    for (int m = 1; m < nbar; ++m)
      sum += 2.0 * fm[m - 1] * std::cos(2.0 * kPi * m * (k - len / 2.0 + 0.5) / len);
    return sum;
  };
  std::vector<double> w(n);
  const double scale = 1.0 / eval((len - 1.0) / 2.0);
  for (std::size_t k = 0; k < n; ++k) w[k] = eval(static_cast<double>(k)) * scale;
  return w;
}

std::vector<double> chebyshev(std::size_t n, double attenuation_db) {
  if (n == 1) return {1.0};
  const double order = static_cast<double>(n) - 1.0;
  const double beta = std::cosh(std::acosh(std::pow(10.0, attenuation_db / 20.0)) / order);
  const bool odd = n % 2 == 1;
  // p[k] = T_order(beta cos(pi k / n)), the Chebyshev polynomial sampled on the unit circle.
  std::vector<double> p(n);
  for (std::size_t k = 0; k < n; ++k) {
    const double x = beta * std::cos(kPi * static_cast<double>(k) / static_cast<double>(n));
    if (x > 1.0)
      p[k] = std::cosh(order * std::acosh(x));
    else if (x < -1.0)
      p[k] = (odd ? 1.0 : -1.0) * std::cosh(order * std::acosh(-x));
    else
      p[k] = std::cos(order * std::acos(x));
  }
  // Real part of the DFT of p (times a half-sample phase ramp for even n), then arranged
  // symmetrically; only the half that is used is computed (O(n^2 / 2), construction time only).
  const std::size_t half = odd ? (n + 1) / 2 : n / 2 + 1;
  std::vector<double> dft(half);
  for (std::size_t j = 0; j < half; ++j) {
    double acc = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      double ph = -2.0 * kPi * static_cast<double>(j * k % n) / static_cast<double>(n);
      if (!odd) ph += kPi * static_cast<double>(k) / static_cast<double>(n);
      acc += p[k] * std::cos(ph);
    }
    dft[j] = acc;
  }
  std::vector<double> w;
  w.reserve(n);
  if (odd) {
    for (std::size_t j = half - 1; j >= 1; --j) w.push_back(dft[j]);
    for (std::size_t j = 0; j < half; ++j) w.push_back(dft[j]);
  } else {
    for (std::size_t j = half - 1; j >= 1; --j) w.push_back(dft[j]);
    for (std::size_t j = 1; j < half; ++j) w.push_back(dft[j]);
  }
  const double peak = *std::max_element(w.begin(), w.end());
  for (double& v : w) v /= peak;
  return w;
}

}  // namespace

std::vector<double> make_window(const WindowConfig& config, std::size_t n) {
  if (n == 0) return {};
  switch (config.type) {
    case WindowType::Rect:
      return std::vector<double>(n, 1.0);
    case WindowType::Hann:
      return cosine_sum(n, 0.5, 0.5, 0.0);
    case WindowType::Hamming:
      return cosine_sum(n, 0.54, 0.46, 0.0);
    case WindowType::Blackman:
      return cosine_sum(n, 0.42, 0.5, 0.08);
    case WindowType::Taylor:
      return taylor(n, config.nbar, config.sll_db);
    case WindowType::Chebyshev:
      return chebyshev(n, config.attenuation_db);
  }
  return std::vector<double>(n, 1.0);
}

void normalize_energy(std::vector<double>& w) {
  const double e = std::inner_product(w.begin(), w.end(), w.begin(), 0.0);
  if (e <= 0.0) return;
  const double s = 1.0 / std::sqrt(e);
  for (double& v : w) v *= s;
}

}  // namespace radarpipe::cpu
