// What the pipeline adds to a chain's report from the mode and the IQ's tuning: range rates for
// the tuned wavelength (frequency agility), each detection's beam azimuth (antenna:), and the
// report's resolutions (docs/detections.md). `radarpipe process` and `radarpipe run` both call
// it on every report before it leaves, so files and streams carry the same numbers.
#pragma once

#include "core/detection.hpp"
#include "core/mode.hpp"

namespace radarpipe {

class ReportAnnotator {
 public:
  explicit ReportAnnotator(const Mode& mode);

  /// `tuned_hz`: the capture's or IQ frame's centre frequency, 0 when not given.
  void apply(DetectionReport& report, double tuned_hz) const;

 private:
  Mode mode_;
  double half_cpi_ns_;
  double pulses_pri_s_;
  double range_resolution_m_;
};

}  // namespace radarpipe
