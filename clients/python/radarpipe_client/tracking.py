"""A ready-made Stone Soup tracker for radarpipe detections: global nearest neighbour
association with an extended Kalman filter, M-of-N style confirmation (a track is released
once it has ``confirm_hits`` updates) and deletion after ``delete_misses`` CPIs without one.

With azimuths the state is ``[x, vx, y, vy]`` (metres, m/s; x east, y north, from the radar),
without it is ``[r, r_dot]``. ``track_range`` and ``track_range_rate`` read either.
"""

from __future__ import annotations

import math

import numpy as np
from stonesoup.base import Property
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.base import GaussianInitiator
from stonesoup.initiator.simple import MultiMeasurementInitiator, SimpleMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.transition.linear import (CombinedLinearGaussianTransitionModel,
                                                ConstantVelocity)
from stonesoup.predictor.kalman import ExtendedKalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.hypothesis import SingleHypothesis
from stonesoup.types.state import GaussianState
from stonesoup.types.track import Track
from stonesoup.types.update import GaussianStateUpdate
from stonesoup.updater.kalman import ExtendedKalmanUpdater


class PolarInitiator(GaussianInitiator):
    """Starts a track at a (bearing, range, range rate) detection: position from the polar
    measurement, velocity radial with the measured range rate; the covariance is the
    measurement's in the radial / cross-range frame plus ``cross_range_speed_sd`` for the
    unmeasured tangential velocity, rotated into x, y."""

    cross_range_speed_sd: float = Property(default=30.0, doc="m/s, tangential velocity prior")

    def initiate(self, detections, timestamp, **kwargs):
        tracks = set()
        for det in detections:
            phi, r, rdot = (float(det.state_vector[0]), float(det.state_vector[1]),
                            float(det.state_vector[2]))
            R = det.measurement_model.covar()
            s_b2, s_r2, s_v2 = R[0, 0], R[1, 1], R[2, 2]
            c, s = math.cos(phi), math.sin(phi)
            rot = np.array([[c, -s], [s, c]])
            pos = rot @ np.diag([s_r2, (r ** 2) * s_b2]) @ rot.T
            vel = rot @ np.diag([s_v2, self.cross_range_speed_sd ** 2]) @ rot.T
            covar = np.zeros((4, 4))
            covar[np.ix_([0, 2], [0, 2])] = pos
            covar[np.ix_([1, 3], [1, 3])] = vel
            state = StateVector([r * c, rdot * c, r * s, rdot * s])
            tracks.add(Track([GaussianStateUpdate(
                state, CovarianceMatrix(covar), SingleHypothesis(None, det),
                timestamp=det.timestamp)]))
        return tracks


def track_range(state) -> float:
    v = state.state_vector
    return float(math.hypot(v[0], v[2])) if len(v) == 4 else float(v[0])


def track_range_rate(state) -> float:
    v = state.state_vector
    if len(v) == 4:
        r = math.hypot(v[0], v[2])
        return float((v[0] * v[1] + v[2] * v[3]) / r) if r > 0 else 0.0
    return float(v[1])


def track_azimuth_deg(state):
    v = state.state_vector
    if len(v) != 4:
        return None
    return math.degrees(math.atan2(float(v[0]), float(v[2]))) % 360.0


def build_tracker(reader, with_bearing: bool = True, acceleration_sd: float = 5.0,
                  confirm_hits: int = 4, delete_misses: int = 4, gate: float = 4.0):
    """A MultiTargetTracker over ``reader`` (a RadarpipeDetectionReader).

    acceleration_sd: m/s^2, the constant-velocity model's process noise.
    gate: Mahalanobis distance beyond which a detection is not associated.
    """
    q = acceleration_sd ** 2
    if with_bearing:
        transition = CombinedLinearGaussianTransitionModel(
            [ConstantVelocity(q), ConstantVelocity(q)])
    else:
        transition = ConstantVelocity(q)
    predictor = ExtendedKalmanPredictor(transition)
    updater = ExtendedKalmanUpdater(measurement_model=None)  # each detection brings its own
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=gate)
    associator = GNNWith2DAssignment(hypothesiser)
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=delete_misses)
    if with_bearing:
        prior = GaussianState(StateVector([0, 0, 0, 0]), CovarianceMatrix(np.eye(4)))
        first = PolarInitiator()
    else:
        prior = GaussianState(StateVector([0, 0]), CovarianceMatrix(np.diag([1e6, 1e4])))
        first = SimpleMeasurementInitiator(prior_state=prior, measurement_model=None)
    initiator = MultiMeasurementInitiator(
        prior_state=prior, deleter=UpdateTimeStepsDeleter(time_steps_since_update=2),
        data_associator=GNNWith2DAssignment(hypothesiser), updater=updater,
        min_points=confirm_hits, initiator=first)
    return MultiTargetTracker(initiator=initiator, deleter=deleter, detector=reader,
                              data_associator=associator, updater=updater)
