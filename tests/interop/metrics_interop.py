#!/usr/bin/env python3
"""`radarpipe run --metrics`: the Prometheus endpoint read as a site's monitoring would, over HTTP
on 127.0.0.1, and parsed by an independent reader (PyPI prometheus-client's text parser): every
family has its HELP and TYPE, and once the stream has ended its counters equal the telemetry
`radarpipe stats` reads (frames, CPIs, drops by cause, reports, latencies). Strangers' requests
(another path, a POST with a body over the limit, garbage bytes) get nothing and leave the
endpoint serving.

usage: metrics_interop.py BUILD_DIR SOURCE_DIR
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from cli_checks import STREAM_MODE, STREAM_SCENE, check, finish, simulate, wait_line  # noqa: E402,E501

BUILD = sys.argv[1]
R = os.path.join(BUILD, "pipeline", "radarpipe")


MODE = STREAM_MODE + "pipeline:\n  cpis_in_flight: 16\n"
SCENE = STREAM_SCENE


with tempfile.TemporaryDirectory() as tmp:
    simulate(R, tmp, MODE, SCENE, 12)
    rlog, plog = os.path.join(tmp, "run.log"), os.path.join(tmp, "replay.log")
    replay = subprocess.Popen([R, "replay", "rec", "--to", "tcp://127.0.0.1:*", "--rate", "4"],
                              cwd=tmp, stderr=open(plog, "w"))
    run = None
    try:
        src = wait_line(plog, r"(tcp://[0-9.]+:[0-9]+)", replay)
        run = subprocess.Popen([R, "run", "--mode", "mode.yaml", "--from", src, "--publish",
                                "tcp://127.0.0.1:*", "--metrics", "127.0.0.1:0", "--threads", "2",
                                "--wait-subscribers", "1"], cwd=tmp, stderr=open(rlog, "w"))
        url = wait_line(rlog, r"metrics at (http://[0-9.]+:[0-9]+/metrics)", run)
        pub = wait_line(rlog, r"publish at (tcp://[0-9.]+:[0-9]+)", run)
        listen = subprocess.run([R, "listen", pub, "--until-end", "--timeout", "60"], cwd=tmp,
                                capture_output=True, text=True)
        check(listen.returncode == 0, f"listen: {listen.stderr}")
        stats = subprocess.run([R, "stats", pub, "--json", "--count", "1", "--timeout", "10"],
                               cwd=tmp, capture_output=True, text=True)
        tel = json.loads(stats.stdout)

        # Strangers first: none of them gets metrics, none stops the endpoint.
        try:
            urllib.request.urlopen(url.replace("/metrics", "/secrets"), timeout=5)
            check(False, "another path was answered")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"another path: HTTP {e.code}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x" * 100000), timeout=5)
            check(False, "a POST of 100 kB was answered")
        except (urllib.error.HTTPError, urllib.error.URLError, ConnectionError) as e:
            print("POST refused:", e)
        host, port = url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"\x00\xff garbage \r\n\r\n" * 100)
            try:
                s.recv(4096)
            except OSError:
                pass

        with urllib.request.urlopen(url, timeout=5) as r:
            check(r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
                  f"content type {r.headers.get('Content-Type')}")
            text = r.read().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        check(len(families) > 30, f"{len(families)} metric families")
        for name in re.findall(r"^# TYPE (\S+) ", text, re.M):
            check(f"# HELP {name} " in text, f"{name} has no HELP")

        def value(family, **labels):
            for s in families[family].samples:
                if all(s.labels.get(k) == v for k, v in labels.items()) and \
                        not s.name.endswith("_created"):
                    return s.value
            return None

        check(value("radarpipe_cpis_processed") == 12 == tel["cpis"]["processed"],
              f"cpis processed {value('radarpipe_cpis_processed')} / {tel['cpis']['processed']}")
        check(value("radarpipe_frames_received") == tel["frames"]["received"],
              f"frames received {value('radarpipe_frames_received')}")
        check(value("radarpipe_reports_published") == tel["reports_published"],
              f"reports {value('radarpipe_reports_published')} / {tel['reports_published']}")
        for cause, n in tel["cpis"]["dropped_by_cause"].items():
            check(value("radarpipe_cpis_dropped_by_cause", cause=cause) == n,
                  f"dropped {cause}")
        for cause, n in tel["frames"]["rejected_by_cause"].items():
            check(value("radarpipe_frames_rejected_by_cause", cause=cause) == n,
                  f"rejected {cause}")
        e2e = tel["latency_ms"]["end_to_end"]
        check(abs(value("radarpipe_latency_seconds", stage="end_to_end", quantile="max") -
                  e2e["max_ms"] * 1e-3) < 1e-12, "end-to-end max latency")
        check(value("radarpipe_false_alarm_design_pfa") == 1e-4, "design pfa")
        check(value("radarpipe_info", process=tel["process"]) == 1, "info")
        print(f"metrics: {len(families)} families parsed by prometheus-client; "
              f"{int(value('radarpipe_cpis_processed'))} CPIs")
    finally:
        for p in (run, replay):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
        if run is not None:
            check(run.returncode == 0, f"run exited {run.returncode}")

finish("metrics")
