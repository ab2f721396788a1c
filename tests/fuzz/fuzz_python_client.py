#!/usr/bin/env python3
"""Fuzz target: the Python client's decoding of published messages (clients/python,
radarpipe_client.decode_message), as ReportStream meets them. Any two-part message must give a
Report whose fields have the documented types, None, or StreamError: never another exception.
The first input byte splits the rest into topic and payload (most inputs get the report topic).

  python fuzz_python_client.py --fuzz [libFuzzer flags] CORPUS...   (atheris, PyPI)
  python fuzz_python_client.py FILE_OR_FOLDER...                    (replay; CTest)
"""

import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
from radarpipe_client.stream import Report, StreamError, decode_message  # noqa: E402


def one(data: bytes) -> None:
    if not data:
        return
    topic = b"detections.json" if data[0] % 8 else data[1:1 + data[0] % 32]
    try:
        _, report = decode_message([topic, data[1:]], "fuzz")
    except StreamError:
        return
    if report is None:
        return
    assert isinstance(report, Report)
    for name in ("cpi", "timestamp_ns", "cells", "crossings", "version", "map_cells",
                 "map_tested", "map_crossings", "crossings_dropped", "detections_dropped"):
        assert type(getattr(report, name)) is int, name
    assert type(report.noise_power_db) is float
    for name in ("range_resolution_m", "range_rate_resolution_mps", "beamwidth_deg"):
        v = getattr(report, name)
        assert v is None or type(v) is float, (name, v)
    for d in report.detections:
        for name in ("range_m", "range_rate_mps", "doppler_hz", "snr_db", "power_db"):
            assert type(getattr(d, name)) is float, name
        assert d.azimuth_deg is None or type(d.azimuth_deg) is float
        assert d.decided_by in ("cfar", "clutter_map")
    if -2**62 < report.timestamp_ns < 2**62:
        report.time  # noqa: B018 (the property a tracker reads first)
    assert not math.isnan(float(report.cpi))


def replay(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p))
        else:
            files.append(p)
    for f in files:
        with open(f, "rb") as fh:
            one(fh.read())
    print(f"replayed {len(files)} inputs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--fuzz":
        import atheris
        atheris.instrument_all()
        atheris.Setup([sys.argv[0]] + sys.argv[2:], one)
        atheris.Fuzz()
    else:
        replay(sys.argv[1:])
