// The clutter map written from docs/signal-chain.md "Clutter map", cell by cell in double, for the
// stage's tests (kernels/cpu/clutter_map.hpp is the code under test; nothing of it is used here
// but the factor table, which its own tests check against a Monte Carlo Pfa).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace radarpipe::test {

struct ReferenceMapCell {
  double mean = 0;
  double spread = 0;  ///< the average of ((P - C) / C)^2 over learned powers (from the second)
  std::size_t learned = 0;
  bool episode = false;       ///< declarations began and have not stopped for `gap` updates
  std::size_t length = 0;     ///< updates since the episode began, this one included
  std::size_t since_hit = 0;  ///< updates since the last declaration
};

/// The measured shape: the Gamma orders nu_j (rising) whose factor rows follow the looks' row 0
/// in `factor` (stride `table`), used from `from` learned powers on, with margin m on 1 / spread.
struct ReferenceShapes {
  std::vector<unsigned> orders;
  std::size_t from = 0;
  double margin = 1;
};

/// One CPI of one cell: declared when learned >= warmup and P > K * mean, K taken at
/// n = min(learned, table end) from row 0, or, once n >= shapes.from, from the row of the largest
/// nu_j with nu_j <= 1 / (m spread). A declaration starts (or continues) an episode, which ends at
/// the gap + 1-th update in a row without one; the cell learns outside episodes and in episodes
/// longer than `hold` updates, at rate b(j) = 1/j for the j-th power while 1/j >= 1 - exp(-1/tau),
/// then that constant; its spread learns the n-th innovation ((P - C) / C)^2 (capped at 10^6)
/// at b(n) when n >= 1 powers are held.
inline bool reference_map_step(ReferenceMapCell& c, double p, const std::vector<float>& factor,
                               double tau, std::size_t warmup, std::size_t gap, std::size_t hold,
                               std::size_t table, const ReferenceShapes& shapes = {}) {
  const std::size_t last = table - 1;
  const std::size_t n = c.learned < last ? c.learned : last;
  std::size_t row = 0;
  if (n >= shapes.from)
    for (std::size_t j = 0; j < shapes.orders.size(); ++j)
      if (c.spread * shapes.orders[j] * shapes.margin <= 1.0) row = j + 1;
  const bool hit = n >= warmup && p > static_cast<double>(factor[row * table + n]) * c.mean;
  if (hit) {
    c.length = c.episode ? c.length + 1 : 1;
    c.episode = true;
    c.since_hit = 0;
  } else if (c.episode) {
    if (++c.since_hit > gap) {
      c.episode = false;
      c.length = 0;
      c.since_hit = 0;
    } else {
      ++c.length;
    }
  }
  const double steady = 1.0 - std::exp(-1.0 / tau);
  auto rate = [&](std::size_t j) { return std::fmax(1.0 / static_cast<double>(j), steady); };
  if (!c.episode || c.length > hold) {
    if (n >= 1) {
      const double r = (p - c.mean) / c.mean;
      c.spread += rate(n) * (std::fmin(r * r, 1e6) - c.spread);
    }
    const std::size_t j = n < last ? n + 1 : last;
    c.mean += rate(j) * (p - c.mean);
    c.learned = j;
  }
  return hit;
}

}  // namespace radarpipe::test
