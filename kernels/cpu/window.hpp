// Tapers for pulse compression (across the reference) and Doppler (across pulses):
// rect, hann, hamming, blackman, taylor (nbar, sidelobe level), chebyshev (attenuation).
#pragma once

#include <cstddef>
#include <vector>

#include "pipeline/core/mode.hpp"

namespace radarpipe::cpu {

/// Symmetric window of length n >= 1 with its textbook scaling (peak 1 at the centre for odd n;
/// taylor scaled so its continuous centre is 1, as scipy.signal.windows does).
///   Taylor: Carrara, Goodman, Majewski, "Spotlight SAR", eq. (2.87); needs 1 <= nbar, 13 <= sll.
///   Chebyshev: Dolph-Chebyshev via the DFT of the Chebyshev polynomial (Lyons, 3rd ed. 13.?),
///   every sidelobe at -attenuation_db relative to the mainlobe.
std::vector<double> make_window(const WindowConfig& config, std::size_t n);

/// Scales w in place so that sum |w|^2 = 1 (unit energy, the convention of every stage).
void normalize_energy(std::vector<double>& w);

}  // namespace radarpipe::cpu
