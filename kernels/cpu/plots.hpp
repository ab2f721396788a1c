// Plot extraction (RADAR-MODEL.md "Plots"): CFAR crossings -> clusters (8-connected in the
// Doppler x range map, Doppler circular) -> one detection per cluster at its peak cell, refined
// by 3-point parabolic interpolation of the power in dB in each dimension (range neighbours that
// fall off the map leave the offset at 0; Doppler neighbours wrap), then converted to physical
// units with the model's bin mappings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/detection.hpp"
#include "kernels/cpu/cfar.hpp"

namespace radarpipe::cpu {

struct PlotConfig {
  std::size_t doppler_bins = 0;        ///< M >= 1
  std::size_t gates = 0;               ///< N >= 1
  std::size_t first_eclipsed_bin = 0;  ///< N - L + 1; peaks at or beyond it are flagged eclipsed
  double window_start_s = 0.0;         ///< t0 (s)
  double sample_rate_hz = 0.0;         ///< fs > 0
  double prf_hz = 0.0;                 ///< 1 / PRI > 0
  double wavelength_m = 0.0;           ///< c / fc > 0
  std::size_t max_crossings = 0;       ///< crossings one call may cluster, >= 1
  /// Added to the refined map position to estimate the echo delay in samples: -0.5 for
  /// piecewise-constant pulses (barker, rect), 0 for lfm. Point-sampling a piecewise-constant
  /// pulse delayed by d samples gives the same samples for every d in (m-1, m], so its
  /// correlation peaks at m = ceil(d); m - 1/2 is the unbiased estimate (docs/signal-chain.md).
  double range_offset_bins = 0.0;
  /// Parabolic refinement in range. Off for piecewise-constant pulses: their samples are the
  /// same for every delay in (m-1, m], so the shape of the peak holds no sub-sample information
  /// and a fit would only add noise to the m - 1/2 estimate (whose error is <= 1/2 bin).
  bool interpolate_range = true;
};

/// The four map cells around a crossing that the interpolation reads: P[d][m-1], P[d][m+1]
/// (0 where m - 1 or m + 1 is off the map; unused there), P[d-1 mod M][m], P[d+1 mod M][m].
/// The GPU path gathers them on the device so that only the crossings cross to the host.
struct CellNeighbours {
  float left, right, up, down;
};

class PlotExtractor {
 public:
  explicit PlotExtractor(const PlotConfig& config);

  /// Clusters crossings (sorted by (d, m), as Cfar emits them, each cell at most once) on map
  /// (M x N) and appends one detection per cluster to out while out.size() < out.capacity()
  /// (clusters beyond it are counted in the return value's second member). channel tags the
  /// detections. No allocation (out must have been reserved), no throw.
  struct Result {
    std::size_t detections = 0;
    std::size_t dropped = 0;
  };
  Result extract(const CfarCrossing* crossings, std::size_t count, const float* map, int channel,
                 std::vector<Detection>& out) noexcept;
  /// The same, with each crossing's neighbours given (neighbours[i] for crossings[i]) instead
  /// of the map: identical detections for identical inputs.
  Result extract(const CfarCrossing* crossings, std::size_t count, const CellNeighbours* neighbours,
                 int channel, std::vector<Detection>& out) noexcept;

 private:
  template <class Neighbours>
  Result extract_with(const CfarCrossing* crossings, std::size_t count,
                      const Neighbours& neighbours, int channel,
                      std::vector<Detection>& out) noexcept;
  std::uint32_t find(std::uint32_t i) noexcept;

  PlotConfig cfg_;
  std::vector<std::int32_t> label_;                          ///< M x N: crossing index, or -1
  std::vector<std::uint32_t> parent_;                        ///< union-find over crossing indices
  std::vector<std::uint32_t> peak_, cells_, m_min_, m_max_;  ///< per root
};

}  // namespace radarpipe::cpu
