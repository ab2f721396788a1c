#!/usr/bin/env python3
"""ASTERIX output decoded by an independent decoder (PyPI asterix-decoder) and compared field by
field, within one LSB, with the JSON report each record came from; then the same data blocks
over UDP and on the ZeroMQ "asterix" topic from `radarpipe run`, byte for byte.

usage: asterix_interop.py BUILD_DIR SOURCE_DIR
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile

import asterix
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from lines import Lines  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
RADARPIPE = os.path.join(BUILD, "pipeline", "radarpipe")
DATA = os.path.join(SOURCE, "tests", "data", "trackers")
NM = 1852.0
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([RADARPIPE, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"radarpipe {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p.stderr


def angle_diff(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


def tod_of_ns(ns):
    return ((ns % (86400 * 10**9)) / 1e9)


def compare(mode_path, rec, work, scan):
    dets = os.path.join(work, "dets.jsonl")
    ast = os.path.join(work, "out.ast")
    run("process", "-i", rec, "--mode", mode_path, "-o", dets, "--asterix", ast)
    reports = [json.loads(line) for line in open(dets)]
    with open(ast, "rb") as f:
        blob = f.read()
    records = asterix.parse(blob, verbose=False)
    plots = [r for r in records if r["category"] == 48]
    scans = [r for r in records if r["category"] == 34]
    expected = [(rep, d) for rep in reports for d in rep["detections"]]
    check(len(plots) == len(expected),
          f"{scan}: {len(plots)} CAT048 records for {len(expected)} detections")
    for (rep, d), p in zip(expected, plots):
        where = f"{scan} CPI {rep['cpi']} range {d['range_m']:.1f}"
        check(p["I010"]["SAC"]["val"] == 25 and p["I010"]["SIC"]["val"] == 201, where + " SAC/SIC")
        check(p["I020"]["TYP"]["val"] == 1, where + " TYP")
        tod = p["I140"]["ToD"]["val"]
        check(abs(tod - tod_of_ns(rep["timestamp_ns"])) <= 1 / 128, where + f" ToD {tod}")
        rho = p["I040"]["RHO"]["val"]
        check(abs(rho - d["range_m"] / NM) <= 1 / 256, where + f" RHO {rho}")
        theta = p["I040"]["THETA"]["val"]
        check(angle_diff(theta, d["azimuth_deg"]) <= 360 / 65536, where + f" THETA {theta}")
        cal = p["I120"]["CAL"]["CAL"]["val"]
        check(abs(cal - d["range_rate_mps"]) <= 1.0, where + f" CAL {cal}")
        check(p["I120"]["CAL"]["D"]["val"] == 0, where + " D")
        pam = p["I130"]["PAMP"]["PAM"]["val"]
        check(abs(pam - d["power_db"]) <= 1.0, where + f" PAM {pam}")
        prl = p["I130"]["PRLP"]["PRL"]["val"]
        span = rep["beamwidth_deg"] + (360.0 * 0.0128 / 0.5 if scan == "rotating" else 0.0)
        check(abs(prl - span) <= 360 / 8192, where + f" PRL {prl} for {span}")
        sp = bytes(x["SP"]["val"] for x in p["ISP"])
        check(len(sp) == 11 and sp[0] == 2, where + f" SP layout {sp.hex()}")
        extent = int.from_bytes(sp[1:3], "big") / 4.0
        snr = int.from_bytes(sp[3:5], "big", signed=True) / 100.0
        rr = int.from_bytes(sp[5:7], "big", signed=True) / 64.0
        check(abs(extent - d["range_extent_bins"] * 7.49481145) <= 0.25, where + f" extent {extent}")
        check(abs(snr - d["snr_db"]) <= 0.01, where + f" SNR {snr}")
        check(abs(rr - d["range_rate_mps"]) <= 1 / 64, where + f" range rate {rr}")
        check(sp[7] == 0xFF and int.from_bytes(sp[8:10], "big") == d["cells"], where + " cells")
        check(sp[10] == (1 if d.get("decided_by") == "clutter_map" else 0), where + " decided_by")

    # CAT034: a staring beam sends a north marker per CPI; a rotating one (0.5 s, 8 sectors,
    # phase 0 at whole half seconds) one per turn and a sector crossing every 45 degrees, from the first
    # CPI's start to the last CPI's middle.
    t0 = reports[0]["timestamp_ns"]
    t1 = reports[-1]["timestamp_ns"] + 6400000
    if scan == "fixed":
        check(len(scans) == len(reports), f"fixed: {len(scans)} CAT034 for {len(reports)} CPIs")
        for s, rep in zip(scans, reports):
            check(s["I000"]["MsgTyp"]["val"] == 1, "fixed: north marker")
            check(abs(s["I030"]["ToD"]["val"] - tod_of_ns(rep["timestamp_ns"])) <= 1 / 128,
                  "fixed: north marker time")
    else:
        step = 62500000  # 0.5 s / 8
        first = -(-t0 // step) * step
        want = list(range(first, t1, step))
        check(len(scans) == len(want), f"rotating: {len(scans)} CAT034 for {len(want)} crossings")
        for s, t in zip(scans, want):
            k = (t // step) % 8
            typ = s["I000"]["MsgTyp"]["val"]
            check(typ == (1 if k == 0 else 2), f"rotating: message type {typ} at sector {k}")
            if typ == 2:
                check(abs(s["I020"]["Azi"]["val"] - 45.0 * k) < 1e-9, f"rotating: sector {k}")
            else:
                check("I020" not in s, "rotating: a north marker carries no sector number")
            check(abs(s["I030"]["ToD"]["val"] - tod_of_ns(t)) <= 1 / 128, "rotating: time")
            check(abs(s["I041"]["RotS"]["val"] - 0.5) <= 1 / 128, "rotating: period")
    # Azimuths of a rotating beam follow the scan: at each CPI's middle.
    if scan == "rotating":
        for rep in reports:
            mid = rep["timestamp_ns"] + 6400000
            want = 360.0 * ((mid % 500000000) / 5e8)
            for d in rep["detections"]:
                check(angle_diff(d["azimuth_deg"], want) < 1e-6, f"azimuth at CPI {rep['cpi']}")
    return blob, len(plots), len(scans)


def streamed(mode_path, rec):
    """replay -> run --asterix udp://... (and the asterix topic): the data blocks as sent."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    port = udp.getsockname()[1]
    replay = subprocess.Popen([RADARPIPE, "replay", rec, "--to", "tcp://127.0.0.1:*",
                               "--rate", "realtime", "--pulses-per-frame", "16"],
                              stderr=subprocess.PIPE, text=True)
    rr = Lines(replay.stderr)
    rep_ep = rr.wait_for(r"to (tcp://\S+) at").group(1)
    runp = subprocess.Popen([RADARPIPE, "run", "--mode", mode_path, "--from", rep_ep,
                             "--publish", "tcp://127.0.0.1:*", "--format", "both",
                             "--asterix", f"udp://127.0.0.1:{port}", "--wait-subscribers", "1",
                             "--exit-at-end"], stderr=subprocess.PIPE, text=True)
    rn = Lines(runp.stderr)
    pub = rn.wait_for(r"publish at (tcp://\S+)").group(1)
    check("asterix at udp://127.0.0.1:%d\n" % port in rn.text(),
          "run names its ASTERIX destination")
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    for t in (b"asterix", b"detections.json", b"end.json"):
        sub.setsockopt(zmq.SUBSCRIBE, t)
    sub.connect(pub)
    topic_blocks, reports = [], 0
    while True:
        if not sub.poll(30000):
            sys.exit("run published nothing for 30 s:\n" + rn.text())
        topic, payload = sub.recv_multipart()
        if topic == b"asterix":
            topic_blocks.append(payload)
        elif topic == b"detections.json":
            reports += 1
        elif topic == b"end.json":
            break
    udp_blocks = []
    while True:
        try:
            udp_blocks.append(udp.recv(65536))
        except socket.timeout:
            break
    check(runp.wait(30) == 0, "run exit status")
    check(replay.wait(30) == 0, "replay exit status")
    sub.close(0)
    ctx.term()
    telemetry = rn.text()
    return b"".join(udp_blocks), b"".join(topic_blocks), reports, telemetry


def main():
    with tempfile.TemporaryDirectory() as work:
        fixed = os.path.join(DATA, "fixed.yaml")
        text = open(fixed).read()
        rot_text = re.sub(r"antenna: \{[^}]*\}",
                          "antenna: {scan: rotating, azimuth_deg: 0, beamwidth_deg: 1.2, "
                          "rotation_period_s: 0.5, sectors: 8}", text)
        check(rot_text != text, "rotating mode written")
        rotating = os.path.join(work, "rotating.yaml")
        with open(rotating, "w") as f:
            f.write(rot_text)
        rec = os.path.join(work, "rec")
        run("simulate", "--mode", fixed, "--scenario", os.path.join(DATA, "two_targets.yaml"),
            "--cpis", "20", "-o", rec)
        blob, plots, scans = compare(fixed, rec, work, "fixed")
        print(f"fixed beam: {plots} CAT048 plots and {scans} CAT034 north markers decoded")
        _, plots_r, scans_r = compare(rotating, rec, work, "rotating")
        print(f"rotating: {plots_r} CAT048 plots and {scans_r} CAT034 messages decoded")
        check(plots >= 40, f"only {plots} plots")
        check(scans_r >= 4, f"only {scans_r} CAT034 messages from the rotating beam")

        plain = os.path.join(work, "plain.yaml")
        with open(plain, "w") as f:
            f.write(re.sub(r"asterix: \{[^}]*\}\n", "", text))
        p = subprocess.run([RADARPIPE, "process", "-i", rec, "--mode", plain, "-o",
                            os.path.join(work, "x.jsonl"), "--asterix", os.path.join(work, "x.ast")],
                           capture_output=True, text=True)
        check(p.returncode == 2 and "--asterix needs an asterix: section" in p.stderr,
              f"process --asterix with a mode without asterix: {p.returncode} {p.stderr}")

        udp, topic, reports, telemetry = streamed(fixed, rec)
        check(reports == 20, f"{reports} JSON reports from run, expected 20")
        check(udp == blob, f"UDP datagrams ({len(udp)} bytes) differ from process --asterix "
              f"({len(blob)} bytes)")
        check(topic == blob, f"asterix topic ({len(topic)} bytes) differs from process --asterix")
        m = re.search(r"asterix\s+(\d+) plots, (\d+) scan messages", telemetry)
        check(m is not None and int(m.group(1)) == plots and int(m.group(2)) == scans,
              "run's final telemetry counts the ASTERIX plots and scan messages")
        print(f"run: {len(udp)} bytes over UDP and on the asterix topic, identical to process")
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("asterix interop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
