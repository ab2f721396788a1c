// Tapers for pulse compression (across the reference) and Doppler (across pulses):
// rect, hann, hamming, blackman, taylor (nbar, sidelobe level), chebyshev (attenuation).
#pragma once

#include <cstddef>
#include <vector>

#include "core/mode.hpp"

namespace radarpipe::cpu {

/// Symmetric window of length n >= 1 with its textbook scaling (peak 1 at the centre for odd n;
/// taylor scaled so its continuous centre is 1), the same values as scipy.signal.windows
/// (checked against it in tests/kernels/window_test.cpp).
///   Taylor: nbar - 1 cosine terms whose coefficients place the first nbar - 1 sidelobes at
///   -sll_db; needs 1 <= nbar, 13 <= sll_db.
///   Chebyshev (Dolph): the DFT of the Chebyshev polynomial T_{n-1} sampled on the unit circle,
///   every sidelobe at -attenuation_db relative to the mainlobe.
std::vector<double> make_window(const WindowConfig& config, std::size_t n);

/// Scales w in place so that sum |w|^2 = 1 (unit energy, the convention of every stage).
void normalize_energy(std::vector<double>& w);

}  // namespace radarpipe::cpu
