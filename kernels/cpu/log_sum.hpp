// Sums of terms given by their logarithms (log-sum-exp), for the CFAR's tail probabilities:
// terms far below 1e-300 add without underflow.
#pragma once

#include <cmath>

namespace radarpipe::cpu {

struct LogSum {
  double max = -INFINITY, acc = 0.0;
  void add(double lt) {
    if (lt == -INFINITY) return;
    if (lt > max) {
      acc = acc * std::exp(max - lt) + 1.0;
      max = lt;
    } else {
      acc += std::exp(lt - max);
    }
  }
  double log() const { return acc > 0.0 ? max + std::log(acc) : -INFINITY; }
};

}  // namespace radarpipe::cpu
