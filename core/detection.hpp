// What the chain returns for each CPI: a detection report (RADAR-MODEL.md "Plots").
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace radarpipe {

/// What declared a detection's peak cell: the CFAR, or the clutter map of the zero-Doppler rows
/// (processing.clutter_map; docs/signal-chain.md "Clutter map").
enum class DecidedBy : std::uint8_t { Cfar = 0, ClutterMap = 1 };
inline const char* to_string(DecidedBy d) {
  return d == DecidedBy::ClutterMap ? "clutter_map" : "cfar";
}

struct Detection {
  double range_m = 0;            ///< R = c (t0 + range_bin_frac / fs) / 2
  double range_rate_mps = 0;     ///< v = -doppler_hz * lambda / 2, positive receding
  double doppler_hz = 0;         ///< f_D = (doppler_bin_frac - M/2) PRF / M, in [-PRF/2, PRF/2)
  double snr_db = 0;             ///< 10 log10(peak power / CFAR noise estimate Z at the peak)
  double power_db = 0;           ///< 10 log10(peak power) in the map's units
  double noise_db = 0;           ///< 10 log10(Z) at the peak
  std::int32_t range_bin = 0;    ///< peak cell's range bin m
  std::int32_t doppler_bin = 0;  ///< peak cell's shifted Doppler bin d
  double range_bin_frac = 0;     ///< estimated echo delay in samples: m + parabolic offset (fit
                                 ///< on dB, |offset| <= 0.5), minus 1/2 for barker and rect pulses
  double doppler_bin_frac = 0;   ///< d + parabolic offset, wrapped into [-0.5, M - 0.5)
  std::int32_t channel = -1;     ///< receive channel, -1 for the noncoherently combined map
  std::uint32_t cells = 0;       ///< threshold crossings in the cluster
  std::uint32_t range_extent_bins = 0;  ///< range bins the cluster spans
  bool eclipsed = false;  ///< peak in the last L-1 bins (pulse partly beyond the window)
  /// The beam's azimuth, degrees clockwise from true north in [0, 360), at the CPI's middle;
  /// NaN when the mode has no antenna: section (docs/trackers.md "Azimuth").
  double azimuth_deg = std::numeric_limits<double>::quiet_NaN();
  /// cfar, or clutter_map: then noise_db is the map's average at the peak cell (ground clutter
  /// plus noise) and snr_db the peak over it.
  DecidedBy decided_by = DecidedBy::Cfar;
};

struct DetectionReport {
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
  std::uint64_t cells = 0;      ///< cells tested by CFAR
  std::uint64_t crossings = 0;  ///< threshold crossings
  std::uint64_t crossings_dropped =
      0;  ///< crossings beyond processing.max_crossings (not clustered)
  std::uint64_t detections_dropped = 0;  ///< clusters beyond processing.max_detections
  double noise_power_db = 0;             ///< 10 log10(mean CFAR noise estimate Z over the tested
                                         ///< cells of the full-gain range bins)
  /// The clutter map's rows (processing.clutter_map; all 0 without one): cells of its rows, of
  /// them past warm-up (tested against the map), and declared. The CFAR's cells and crossings
  /// above leave these rows out.
  std::uint64_t map_cells = 0, map_tested = 0, map_crossings = 0;
  /// What the mode resolves (docs/detections.md); 0 / NaN until the pipeline annotates the
  /// report (pipeline/annotate.hpp).
  double range_resolution_m = 0;         ///< c / (2 B)
  double range_rate_resolution_mps = 0;  ///< lambda / (2 P' PRI), P' pulses after MTI
  double beamwidth_deg = std::numeric_limits<double>::quiet_NaN();  ///< antenna.beamwidth_deg
  double design_pfa = 0;  ///< processing.cfar.pfa, beside cells and crossings (0: not annotated)
  std::vector<Detection> detections;
};

}  // namespace radarpipe
