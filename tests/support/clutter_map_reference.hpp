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
  std::size_t learned = 0;
  bool episode = false;       ///< declarations began and have not stopped for `gap` updates
  std::size_t length = 0;     ///< updates since the episode began, this one included
  std::size_t since_hit = 0;  ///< updates since the last declaration
};

/// One CPI of one cell: declared when learned >= warmup and P > K(learned) * mean (K taken at
/// min(learned, table end)). A declaration starts (or continues) an episode, which ends at the
/// gap + 1-th update in a row without one; the cell learns outside episodes and in episodes
/// longer than `hold` updates, at rate 1/j for the j-th power while 1/j >= 1 - exp(-1/tau),
/// then that constant.
inline bool reference_map_step(ReferenceMapCell& c, double p, const std::vector<float>& factor,
                               double tau, std::size_t warmup, std::size_t gap, std::size_t hold) {
  const std::size_t last = factor.size() - 1;
  const std::size_t n = c.learned < last ? c.learned : last;
  const bool hit = n >= warmup && p > static_cast<double>(factor[n]) * c.mean;
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
  if (!c.episode || c.length > hold) {
    const std::size_t j = n < last ? n + 1 : last;
    const double steady = 1.0 - std::exp(-1.0 / tau);
    const double rate = std::fmax(1.0 / static_cast<double>(j), steady);
    c.mean += rate * (p - c.mean);
    c.learned = j;
  }
  return hit;
}

}  // namespace radarpipe::test
