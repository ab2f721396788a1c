#include "pipeline/commands/annotate.hpp"

#include <cmath>
#include <cstdint>

#include "core/antenna.hpp"
#include "core/radar_math.hpp"
#include "pipeline/commands/process.hpp"

namespace radarpipe {

ReportAnnotator::ReportAnnotator(const Mode& mode) : mode_(mode) {
  const ModeGeometry g = derive_geometry(mode);
  half_cpi_ns_ = 0.5 * g.cpi_duration_s * 1e9;
  pulses_pri_s_ = static_cast<double>(g.pulses_after_mti) * mode.radar.pri_s;
  range_resolution_m_ = g.range_resolution_m;
}

void ReportAnnotator::apply(DetectionReport& report, double tuned_hz) const {
  retune_range_rates(report, tuned_hz, mode_.radar.center_frequency_hz);
  const double fc = tuned_hz > 0 ? tuned_hz : mode_.radar.center_frequency_hz;
  report.range_resolution_m = range_resolution_m_;
  report.range_rate_resolution_mps = kSpeedOfLight_mps / fc / (2.0 * pulses_pri_s_);
  report.design_pfa = mode_.processing.cfar.pfa;
  const AntennaConfig& a = mode_.antenna;
  if (!a.present) return;
  report.beamwidth_deg = a.beamwidth_deg;
  const std::int64_t middle = report.timestamp_ns + std::llround(half_cpi_ns_);
  for (Detection& d : report.detections) d.azimuth_deg = beam_azimuth_deg(a, middle, d.channel);
}

}  // namespace radarpipe
