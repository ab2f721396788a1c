#!/usr/bin/env python3
"""Track radarpipe detections live with Stone Soup: GNN association, extended Kalman filter.

    radarpipe run --mode MODE --from tcp://... --publish tcp://127.0.0.1:5560 --format json &
    python examples/track.py tcp://127.0.0.1:5560

Prints every confirmed track after each CPI; with --summary-json, one JSON object at the end
listing the tracks alive then (what the integration test reads).
"""

import argparse
import json
import sys

from radarpipe_client.stonesoup import RadarpipeDetectionReader
from radarpipe_client.tracking import (build_tracker, track_azimuth_deg, track_range,
                                       track_range_rate)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint", help="the run's --publish endpoint")
    ap.add_argument("--no-bearing", action="store_true",
                    help="track in range only even when detections carry azimuths")
    ap.add_argument("--confirm-hits", type=int, default=4)
    ap.add_argument("--delete-misses", type=int, default=4)
    ap.add_argument("--acceleration-sd", type=float, default=5.0, help="m/s^2")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds of silence to give up")
    ap.add_argument("--quiet", action="store_true", help="no per-CPI lines")
    ap.add_argument("--summary-json", action="store_true", help="print the final tracks as JSON")
    args = ap.parse_args()

    reader = RadarpipeDetectionReader(endpoint=args.endpoint, timeout_s=args.timeout)
    tracker = build_tracker(reader, with_bearing=not args.no_bearing,
                            acceleration_sd=args.acceleration_sd,
                            confirm_hits=args.confirm_hits, delete_misses=args.delete_misses)
    print(f"track.py: listening on {args.endpoint}", file=sys.stderr, flush=True)
    names = {}
    tracks = set()
    steps = 0
    last_time = None
    for time, tracks in tracker:
        steps += 1
        last_time = time
        if args.quiet:
            continue
        for t in sorted(tracks, key=lambda t: track_range(t.state)):
            name = names.setdefault(t.id, f"T{len(names) + 1}")
            az = track_azimuth_deg(t.state)
            print(f"{time.isoformat()}  {name:>4}  range {track_range(t.state):9.1f} m  "
                  f"range rate {track_range_rate(t.state):7.2f} m/s"
                  + (f"  azimuth {az:6.2f} deg" if az is not None else "")
                  + f"  ({len(t)} updates)", flush=True)
    if args.summary_json:
        out = {"cpis": steps, "last_time": last_time.isoformat() if last_time else None,
               "confirmed_ever": len(names), "tracks": [
            {"id": names.get(t.id, t.id), "range_m": track_range(t.state),
             "range_rate_mps": track_range_rate(t.state), "azimuth_deg": track_azimuth_deg(t.state),
             "time": t.state.timestamp.isoformat(), "updates": len(t)} for t in tracks]}
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
