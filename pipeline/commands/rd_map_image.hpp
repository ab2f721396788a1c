// The range-Doppler map as a picture: power in dB over the CFAR noise estimate (viridis),
// range in km across, range rate in m/s up (positive receding, as everywhere in radarpipe),
// detections boxed, truth circled, axes, ticks, a colour bar and a legend.
#pragma once

#include <string>
#include <vector>

#include "core/cpi.hpp"
#include "core/detection.hpp"
#include "core/mode.hpp"
#include "io/image.hpp"
#include "io/simulator.hpp"

namespace radarpipe {

struct MapImageOptions {
  std::string title;
  double floor_db = -3;    ///< colour scale bottom, dB over the noise floor
  double ceiling_db = 45;  ///< colour scale top
  int plot_width = 1000;   ///< pixels for the range axis
  int plot_height = 512;   ///< pixels for the Doppler axis
};

/// The map's noise floor in dB: the median cell power over the noise's mean (an exponential's
/// median is ln 2 of its mean), robust to targets and clutter, unlike the mean CFAR estimate.
double noise_floor_db(const PowerMap& power, std::size_t index);

/// Renders map `index` of `power`; colours are dB over noise_floor_db().
io::Image render_range_doppler_map(const PowerMap& power, std::size_t index, const Mode& mode,
                                   const std::vector<Detection>& detections,
                                   const std::vector<io::TargetTruth>& truth,
                                   const MapImageOptions& options);

}  // namespace radarpipe
