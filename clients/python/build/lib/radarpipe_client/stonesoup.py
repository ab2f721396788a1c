"""A Stone Soup DetectionReader for ``radarpipe run`` (docs/trackers.md "Stone Soup").

Each published report is one time step (its CPI's first-pulse time, naive UTC). Each detection
becomes a ``stonesoup.types.detection.Detection`` whose measurement model depends on what the
report knows:

* with an azimuth (the mode has an ``antenna:`` section): measurement (bearing, range, range
  rate) through ``CartesianToBearingRangeRate2D`` on the state ``[x, vx, y, vy]``, x east and
  y north in metres from the radar, bearing in radians anticlockwise from east;
* without: measurement (range, range rate) through a ``LinearGaussian`` on the state
  ``[r, r_dot]``.

Noise standard deviations are resolution / sqrt(12) times ``noise_scale``: the range
resolution c/(2B), the range-rate resolution lambda/(2 P' PRI) and the azimuth beamwidth the
report carries. The radarpipe detection travels along as ``metadata["radarpipe"]``.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from stonesoup.base import Property
from stonesoup.buffered_generator import BufferedGenerator
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.measurement.nonlinear import CartesianToBearingRangeRate2D
from stonesoup.reader.base import DetectionReader
from stonesoup.types.angle import Bearing
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.detection import Detection

from .stream import Report, ReportStream, bearing_rad

_SQRT12 = math.sqrt(12.0)


def noise_sigmas(report: Report, noise_scale: float = 1.0):
    """(sigma_range_m, sigma_range_rate_mps, sigma_bearing_rad or None) for a report."""
    if not report.range_resolution_m or not report.range_rate_resolution_mps:
        raise ValueError(
            f"CPI {report.cpi}: the report carries no resolutions (schema version "
            f"{report.version}; radarpipe publishes them from schema version 2)")
    s_r = report.range_resolution_m / _SQRT12 * noise_scale
    s_v = report.range_rate_resolution_mps / _SQRT12 * noise_scale
    s_b = (math.radians(report.beamwidth_deg) / _SQRT12 * noise_scale
           if report.beamwidth_deg else None)
    return s_r, s_v, s_b


def measurement_model(report: Report, with_bearing: bool, noise_scale: float = 1.0):
    s_r, s_v, s_b = noise_sigmas(report, noise_scale)
    if with_bearing:
        if s_b is None:
            raise ValueError(f"CPI {report.cpi}: azimuths without a beamwidth")
        return CartesianToBearingRangeRate2D(
            ndim_state=4, mapping=(0, 2), velocity_mapping=(1, 3),
            noise_covar=CovarianceMatrix(np.diag([s_b ** 2, s_r ** 2, s_v ** 2])))
    return LinearGaussian(ndim_state=2, mapping=(0, 1),
                          noise_covar=CovarianceMatrix(np.diag([s_r ** 2, s_v ** 2])))


def report_detections(report: Report, noise_scale: float = 1.0, min_snr_db: float = -math.inf):
    """The Stone Soup detections of one report (see the module's docstring)."""
    out = set()
    models = {}
    for d in report.detections:
        if d.snr_db < min_snr_db:
            continue
        with_bearing = d.azimuth_deg is not None
        if with_bearing not in models:
            models[with_bearing] = measurement_model(report, with_bearing, noise_scale)
        if with_bearing:
            z = StateVector([Bearing(bearing_rad(d.azimuth_deg)), d.range_m, d.range_rate_mps])
        else:
            z = StateVector([d.range_m, d.range_rate_mps])
        out.add(Detection(z, timestamp=report.time, measurement_model=models[with_bearing],
                          metadata={"radarpipe": d, "cpi": report.cpi}))
    return out


class RadarpipeDetectionReader(DetectionReader):
    """Detections from a running ``radarpipe run --format json`` (or ``both``)."""

    endpoint: str = Property(doc="The run's --publish endpoint, e.g. tcp://127.0.0.1:5560")
    until_end: bool = Property(default=True, doc="Stop when the IQ stream ends")
    timeout_s: Optional[float] = Property(
        default=30.0, doc="Raise if nothing arrives for this long (None: wait forever)")
    noise_scale: float = Property(
        default=1.0, doc="Multiplies every noise standard deviation (resolution / sqrt(12))")
    min_snr_db: float = Property(default=-math.inf, doc="Ignore weaker detections")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Connect now, so that a run waiting for subscribers (--wait-subscribers) sees this one
        # before anything is iterated.
        self._stream = ReportStream(self.endpoint, until_end=self.until_end,
                                    timeout_s=self.timeout_s)
        self.last_report: Optional[Report] = None

    @BufferedGenerator.generator_method
    def detections_gen(self):
        with self._stream:
            for report in self._stream:
                self.last_report = report
                yield report.time, report_detections(report, self.noise_scale, self.min_snr_db)
