#!/usr/bin/env python3
"""`radarpipe run` under a service manager, as systemd speaks to it: this test binds the
notification socket itself (a Unix datagram socket named by NOTIFY_SOCKET, the sd_notify
protocol) and starts `run` with WatchdogSec's variable (WATCHDOG_USEC):

- READY=1 (with a STATUS=) once bound and planned, STATUS= lines as it works, WATCHDOG=1 every
  half interval while its threads are alive, STOPPING=1 on SIGTERM, and exit 0;
- a two-process chain whose downstream is stopped (SIGSTOP) under load: the upstream waits on
  its peer, which is not being stuck, so its pings go on; they go on after SIGCONT too;
- the shipped unit file (deploy/systemd/radarpipe-run@.service) passes `systemd-analyze
  verify` (with this build's binary in ExecStart), where systemd-analyze exists.

usage: systemd_test.py BUILD_DIR SOURCE_DIR
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from cli_checks import STREAM_MODE, STREAM_SCENE, check, finish, simulate, wait_line  # noqa: E402,E501

BUILD, SOURCE = sys.argv[1], sys.argv[2]
R = os.path.join(BUILD, "pipeline", "radarpipe")


MODE = STREAM_MODE
TWO = """pipeline:
  segments:
    - {name: compress, stages: [pulse_compression]}
    - {name: detect, stages: [doppler, cfar, plots], from: 'tcp://127.0.0.1:*'}
"""
SCENE = STREAM_SCENE


def messages(sock, seconds):
    """Notification datagrams received over `seconds`, with their arrival times."""
    out, end = [], time.time() + seconds
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            out.append((time.time(), sock.recv(4096).decode()))
        except socket.timeout:
            break
    return out


def notify_socket(tmp, name):
    path = os.path.join(tmp, name)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s, path


with tempfile.TemporaryDirectory() as tmp:
    simulate(R, tmp, MODE, SCENE, 12)
    with open(os.path.join(tmp, "two.yaml"), "w") as f:
        f.write(MODE + TWO)
    procs = []
    try:
        plog = os.path.join(tmp, "replay.log")
        replay = subprocess.Popen([R, "replay", "rec", "--to", "tcp://127.0.0.1:*", "--rate", "1",
                                   "--loop"], cwd=tmp, stderr=open(plog, "w"))
        procs.append(replay)
        src = wait_line(plog, r"(tcp://[0-9.]+:[0-9]+)", replay)

        # One process: READY, STATUS, WATCHDOG every half interval, STOPPING, exit 0.
        sock, path = notify_socket(tmp, "notify-1")
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        rlog = os.path.join(tmp, "run.log")
        run = subprocess.Popen([R, "run", "--mode", "mode.yaml", "--from", src, "--publish",
                                "tcp://127.0.0.1:*", "--threads", "2", "--telemetry-interval",
                                "0.25"], cwd=tmp, env=env, stderr=open(rlog, "w"))
        procs.append(run)
        got = messages(sock, 2.0)
        texts = [m for _, m in got]
        check(any(t == "READY=1\nSTATUS=running segments chain" for t in texts),
              f"no READY=1 with its status: {texts[:3]}")
        pings = [t for t, m in got if m == "WATCHDOG=1"]
        check(len(pings) >= 6, f"{len(pings)} WATCHDOG=1 in 2 s at a 0.4 s interval")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        check(all(g < 0.4 for g in gaps), f"watchdog gaps {gaps}")
        status = [m for m in texts if m.startswith("STATUS=CPIs processed")]
        check(len(status) >= 4, f"{len(status)} STATUS lines in 2 s at 0.25 s")
        run.send_signal(signal.SIGTERM)
        rest = [m for _, m in messages(sock, 3.0)]
        run.wait(timeout=30)
        check("STOPPING=1" in rest, f"no STOPPING=1 after SIGTERM: {rest[-3:]}")
        check(run.returncode == 0, f"run exited {run.returncode}")
        print(f"one process: {len(pings)} pings, {len(status)} status lines, exit {run.returncode}")

        # Two processes, the downstream stopped: the upstream waits on it, alive.
        # (The downstream gets no notification socket: one nobody reads fills, and sd_notify's
        # datagrams then wait, as they would on a service manager that stopped reading.)
        usock, upath = notify_socket(tmp, "notify-u")
        dlog, ulog = os.path.join(tmp, "detect.log"), os.path.join(tmp, "compress.log")
        down = subprocess.Popen([R, "run", "--mode", "two.yaml", "--segment", "detect",
                                 "--publish", "tcp://127.0.0.1:*", "--threads", "1"], cwd=tmp,
                                stderr=open(dlog, "w"))
        procs.append(down)
        link = wait_line(dlog, r"link detect at (tcp://[0-9.]+:[0-9]+)", down)
        up = subprocess.Popen([R, "run", "--mode", "two.yaml", "--segment", "compress", "--from",
                               src, "--link", f"detect={link}", "--threads", "1"], cwd=tmp,
                              env=dict(os.environ, NOTIFY_SOCKET=upath, WATCHDOG_USEC="400000"),
                              stderr=open(ulog, "w"))
        procs.append(up)
        check(any(m.startswith("READY=1") for _, m in messages(usock, 1.0)), "upstream: no READY")
        down.send_signal(signal.SIGSTOP)
        stopped = [t for t, m in messages(usock, 2.5) if m == "WATCHDOG=1"]
        check(len(stopped) >= 5, f"upstream with its downstream stopped: {len(stopped)} pings")
        down.send_signal(signal.SIGCONT)
        resumed = [t for t, m in messages(usock, 1.0) if m == "WATCHDOG=1"]
        check(len(resumed) >= 2, f"after SIGCONT: {len(resumed)} pings")
        with open(ulog) as f:
            check("no longer pinged" not in f.read(), "the upstream called itself stuck")
        print(f"two processes: {len(stopped)} pings while the downstream was stopped")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                t0 = time.time()
                p.send_signal(signal.SIGCONT)
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                print(f"pid {p.pid} stopped in {time.time() - t0:.1f} s")

    analyze = shutil.which("systemd-analyze")
    if analyze:
        unit = os.path.join(tmp, "radarpipe-run@demo.service")
        with open(os.path.join(SOURCE, "deploy", "systemd", "radarpipe-run@.service")) as f:
            text = f.read().replace("/usr/local/bin/radarpipe", R)
        with open(unit, "w") as f:
            f.write(text)
        v = subprocess.run([analyze, "verify", unit], capture_output=True, text=True)
        check(v.returncode == 0, f"systemd-analyze verify: {v.stdout} {v.stderr}")
        print("unit file: systemd-analyze verify", "passed" if v.returncode == 0 else "failed")
    else:
        print("unit file: no systemd-analyze here, not verified")

finish("service")
