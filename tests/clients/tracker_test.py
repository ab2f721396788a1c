#!/usr/bin/env python3
"""Integration: two simulated targets moving in range through ground clutter, 60 CPIs, streamed
replay -> radarpipe run -> the Stone Soup reader -> the example GNN/EKF tracker
(clients/python/examples/track.py). Exactly two confirmed tracks, none on clutter or false
alarms, each within 3 range bins (and 1 m/s) of its truth at the end.

usage: tracker_test.py BUILD_DIR SOURCE_DIR
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile

BUILD, SOURCE = sys.argv[1], sys.argv[2]
RADARPIPE = os.path.join(BUILD, "pipeline", "radarpipe")
DATA = os.path.join(SOURCE, "tests", "data", "trackers")
TRACK = os.path.join(SOURCE, "clients", "python", "examples", "track.py")
sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from lines import Lines  # noqa: E402
RANGE_BIN_M = 299792458.0 / (2 * 20.0e6)
CPIS = 60
# The scenario (two_targets.yaml): start time and each target's range and range rate.
START = datetime.datetime(2026, 11, 21, 13, 59, 59, 500000)
TRUTH = {"inbound": (5200.0, -45.0), "outbound": (2600.0, 55.0)}


def reader_models():
    """The reader's measurement models and noise, offline: with and without azimuths."""
    import math
    from radarpipe_client import Report, bearing_rad
    from radarpipe_client.stonesoup import report_detections
    det = {"range_m": 1000.0, "range_rate_mps": -3.0, "doppler_hz": 600.0, "snr_db": 20.0,
           "power_db": 30.0, "range_bin": 133, "doppler_bin": 70, "range_bin_frac": 133.4,
           "doppler_bin_frac": 70.1, "channel": -1}
    rep = {"schema": "radarpipe.detections", "version": 2, "cpi": 7, "cells": 1, "crossings": 1,
           "timestamp_ns": 1795269600000000000, "noise_power_db": 0.0,
           "range_resolution_m": 12.0, "range_rate_resolution_mps": 0.24, "detections": [det]}
    problems = []
    (d,) = report_detections(Report.from_json(rep))
    R = d.measurement_model.covar()
    if d.measurement_model.ndim_state != 2 or abs(R[0, 0] - 12.0 ** 2 / 12) > 1e-9 \
            or abs(R[1, 1] - 0.24 ** 2 / 12) > 1e-12 or list(d.state_vector.ravel()) != [1000, -3]:
        problems.append(f"range-only model: {d.measurement_model}, {R}, {d.state_vector}")
    rep["beamwidth_deg"] = 2.0
    det["azimuth_deg"] = 300.0
    (d,) = report_detections(Report.from_json(rep))
    R = d.measurement_model.covar()
    if d.measurement_model.ndim_state != 4 or abs(R[0, 0] - math.radians(2.0) ** 2 / 12) > 1e-12:
        problems.append(f"bearing model: {d.measurement_model}, {R}")
    if abs(float(d.state_vector[0]) - math.radians(150.0)) > 1e-12:  # 90 - 300 = -210 = 150 deg
        problems.append(f"bearing of azimuth 300: {float(d.state_vector[0])}")
    if abs(bearing_rad(67.5) - math.radians(22.5)) > 1e-12 or abs(bearing_rad(180) + math.pi / 2) > 1e-12:
        problems.append("bearing_rad")
    # Version 3's decision field is read; a value the client does not know is refused.
    r3 = Report.from_json(dict(rep, version=3, map_cells=5, map_tested=4, map_crossings=1,
                               detections=[dict(det, decided_by="clutter_map")]))
    if r3.detections[0].decided_by != "clutter_map" or r3.map_crossings != 1:
        problems.append(f"version 3 fields: {r3}")
    try:
        Report.from_json(dict(rep, version=3, detections=[dict(det, decided_by="guess")]))
        problems.append("decided_by 'guess' accepted")
    except Exception as e:  # noqa: BLE001 - the message is what is checked
        if "decided_by 'guess' is not cfar or clutter_map" not in str(e):
            problems.append(f"decided_by guess: {e}")
    # A schema the client does not know is refused by name.
    try:
        Report.from_json(dict(rep, version=4))
        problems.append("version 4 accepted")
    except Exception as e:  # noqa: BLE001 - the message is what is checked
        if "schema version 4 is not supported" not in str(e):
            problems.append(f"version 4: {e}")
    return problems


def main():
    problems = reader_models()
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    with tempfile.TemporaryDirectory() as work:
        mode = os.path.join(DATA, "fixed.yaml")
        rec = os.path.join(work, "rec")
        subprocess.run([RADARPIPE, "simulate", "--mode", mode, "--scenario",
                        os.path.join(DATA, "two_targets.yaml"), "--cpis", str(CPIS), "-o", rec],
                       check=True, capture_output=True)
        replay = subprocess.Popen([RADARPIPE, "replay", rec, "--to", "tcp://127.0.0.1:*",
                                   "--rate", "0.25"], stderr=subprocess.PIPE, text=True)
        rl = Lines(replay.stderr)
        rep_ep = rl.wait_for(r"to (tcp://\S+) at").group(1)
        run = subprocess.Popen([RADARPIPE, "run", "--mode", mode, "--from", rep_ep,
                                "--publish", "tcp://127.0.0.1:*", "--format", "json",
                                "--asterix", "-", "--wait-subscribers", "1", "--exit-at-end"],
                               stderr=subprocess.PIPE, text=True)
        rn = Lines(run.stderr)
        pub = rn.wait_for(r"publish at (tcp://\S+)").group(1)
        # Small matrices: one BLAS thread, so the tracker does not spin on the cores the chain
        # needs (the CI machine has two).
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        track = subprocess.Popen([sys.executable, TRACK, pub, "--summary-json", "--timeout", "60"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        out, err = track.communicate(timeout=300)
        rc_run, rc_replay = run.wait(60), replay.wait(60)
        print(err, end="")
        live = [line for line in out.splitlines() if not line.startswith("{")]
        print("\n".join(live[-6:]))
        telemetry = rn.text()
        print("".join(x for x in telemetry.splitlines(True) if "CPIs " in x), end="")
        if track.returncode != 0 or rc_run != 0 or rc_replay != 0:
            print(telemetry)
            sys.exit(f"track.py {track.returncode}, run {rc_run}, replay {rc_replay}")
        summary = json.loads(out.splitlines()[-1])

    failures = []
    # The chain drops a CPI whole when the host cannot keep up (counted in its telemetry); the
    # tracker must still see most of them, and the last.
    print(f"the tracker saw {summary['cpis']} of {CPIS} CPIs")
    if summary["cpis"] < 40:
        failures.append(f"the tracker saw {summary['cpis']} CPIs, expected at least 40 of {CPIS}")
    last = datetime.datetime.fromisoformat(summary["last_time"])
    if abs((last - START).total_seconds() - (CPIS - 1) * 0.0128) > 1e-6:
        failures.append(f"the last report the tracker saw is from {last}, not the last CPI")
    names_seen = {line.split()[1] for line in live}
    if summary["confirmed_ever"] != len(names_seen):
        failures.append(f"{summary['confirmed_ever']} tracks named, {len(names_seen)} printed")
    tracks = summary["tracks"]
    if len(tracks) != 2 or len(names_seen) != 2:
        failures.append(f"{len(tracks)} tracks at the end and {len(names_seen)} confirmed in all "
                        f"({sorted(names_seen)}), expected exactly 2: {tracks}")
    for t in tracks:
        when = datetime.datetime.fromisoformat(t["time"])
        dt = (when - START).total_seconds()
        name, (r0, v) = min(TRUTH.items(),
                            key=lambda kv: abs(kv[1][0] + kv[1][1] * dt - t["range_m"]))
        truth = r0 + v * dt
        err_bins = abs(t["range_m"] - truth) / RANGE_BIN_M
        print(f"{t['id']} ({name}): range {t['range_m']:.1f} m, truth {truth:.1f} m "
              f"({err_bins:.2f} bins), range rate {t['range_rate_mps']:.2f} m/s, truth {v} m/s, "
              f"azimuth {t['azimuth_deg']:.2f} deg, {t['updates']} updates, at +{dt:.4f} s")
        if err_bins > 3:
            failures.append(f"{t['id']} ({name}) is {err_bins:.2f} range bins from its truth")
        if abs(t["range_rate_mps"] - v) > 1.0:
            failures.append(f"{t['id']} ({name}) range rate {t['range_rate_mps']:.2f}, truth {v}")
        if abs(t["azimuth_deg"] - 67.5) > 3.0:
            failures.append(f"{t['id']} azimuth {t['azimuth_deg']:.2f}, the beam looks at 67.5")
        if when != last:
            failures.append(f"{t['id']} was last updated at {when}, not at the last CPI ({last})")
    if len({min(TRUTH, key=lambda n: abs(TRUTH[n][0] - t["range_m"])) for t in tracks}) != 2:
        failures.append("both tracks follow the same target")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("tracker: OK, two confirmed tracks on the two targets, none on clutter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
