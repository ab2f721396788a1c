#!/usr/bin/env python3
"""A soak run (not a CTest): `radarpipe run` fed by `replay --loop` at real time over tcp
loopback for DURATION seconds, with CURVE on every socket (as a site runs it, docs/security.md;
--plain: without), while a subscriber reads every report and the telemetry. Samples run's resident memory every
5 s. Writes bench/results/DATE-cpu-HOST-soak-MODE.json and .md: CPIs processed and dropped (by
cause), frames rejected, reports missed by the subscriber, RSS over the first and the last
minute, and end-to-end latency percentiles (the per-second telemetry windows' p50 and p99,
their median and worst, and the worst single CPI).

usage: scripts/soak [--plain] [DURATION_S] [MODE]    (defaults: 600, configs/bench-small.yaml)
"""

import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = os.path.join(ROOT, "build", "pipeline", "radarpipe")
ARGS = [a for a in sys.argv[1:] if a != "--plain"] if "--markdown" not in sys.argv else []
CURVE = "--plain" not in sys.argv[1:]
DURATION = float(ARGS[0]) if len(ARGS) > 0 else 600.0
MODE = os.path.abspath(ARGS[1] if len(ARGS) > 1 else
                       os.path.join(ROOT, "configs", "bench-small.yaml"))
SCENE = """start_time: 2026-12-02T12:00:00Z
seed: 11
targets:
  - {name: near, range_m: 2500, range_rate_mps: 40, snr_db: 6}
  - {name: far, range_m: 9000, range_rate_mps: -25, snr_db: 3}
"""


def wait_line(path, needle, proc, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            for line in f:
                if needle in line:
                    return line.split(needle, 1)[1].split()[0]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    with open(path) as f:
        raise RuntimeError(f"no '{needle}' in {path}:\n{f.read()}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def write_markdown(summary, path):
    lat = summary["latency_ms"]
    causes = ", ".join(f"{k} {v}" for k, v in (summary["cpis_dropped_by_cause"] or {}).items()
                       if v)
    plain = "no CURVE" in summary["transport"]

    def ms(v):
        return "-" if v is None else f"{v:.2f}"
    with open(path, "w") as f:
        f.write(f"""# Soak: {summary['mode']}, {summary['duration_s']} s at real time

{summary['date']}, {summary['host']} ({summary['cores']} cores), commit {summary['commit']};
`bash scripts/soak {'--plain ' if plain else ''}{int(round(summary['duration_s'], -1))}`. `run`
fed by `replay --loop --rate realtime` over {summary['transport']}; `listen` and `stats`
subscribed throughout. The sender, `run` and the subscribers share the cores.

| | |
|---|---|
| CPIs processed | {summary['cpis_processed']} (CPI {ms(summary['cpi_duration_ms'])} ms: {summary['cpis_processed'] / summary['duration_s']:.1f} per s) |
| CPIs dropped | {summary['cpis_dropped']} ({causes or 'none'}) |
| deadline misses (end to end over one CPI's duration) | {summary['deadline_misses']} |
| frames rejected | {summary['frames_rejected']} |
| reports published / received by listen | {summary['reports_published']} / {summary['reports_received']} |
| RSS, first minute (min / max) | {' / '.join(f'{x} MiB' for x in summary['rss_mib_first_minute'] or [])} |
| RSS, last minute (min / max) | {' / '.join(f'{x} MiB' for x in summary['rss_mib_last_minute'] or [])} |
| end-to-end latency over the {lat['windows']} one-second windows | p50 median {ms(lat['p50_median'])} ms; p99 median {ms(lat['p99_median'])} ms, worst {ms(lat['p99_worst'])} ms; max {ms(lat['max'])} ms |
| CURVE | {summary['security']} |
| the sender | {summary['replay'].replace('radarpipe replay: ', '')} |
""")


def main():
    tmp = tempfile.mkdtemp(prefix="radarpipe-soak-")
    keys = os.path.join(tmp, "keys")
    os.makedirs(os.path.join(keys, "authorized"))
    for name in ("run", "replay", "listener"):
        subprocess.run([R, "keygen", os.path.join(keys, name)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.link(os.path.join(keys, name + ".key"), os.path.join(keys, "authorized", name + ".key"))
    with open(MODE) as f:
        mode_text = f.read()
    mode = os.path.join(tmp, "mode.yaml")
    with open(mode, "w") as f:
        f.write(mode_text + (f"""security:
  key: {keys}/run.key_secret
  server_key: {keys}/run.key
  authorized_keys: {keys}/authorized
""" if CURVE else ""))
    with open(os.path.join(tmp, "scene.yaml"), "w") as f:
        f.write(SCENE)
    subprocess.run([R, "simulate", "--mode", mode, "--scenario", "scene.yaml", "--cpis", "16",
                    "-o", "rec", "--datatype", "ci16_le"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([R, "plan", "--mode", mode], cwd=tmp, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    rlog, plog = os.path.join(tmp, "run.log"), os.path.join(tmp, "replay.log")
    run = subprocess.Popen([R, "run", "--mode", mode, "--from", "@tcp://127.0.0.1:*",
                            "--publish", "tcp://127.0.0.1:*", "--wait-subscribers", "1"],
                           cwd=tmp, stderr=open(rlog, "w"))
    iq = wait_line(rlog, "iq at ", run)
    pub = wait_line(rlog, "publish at ", run)
    sec = ["--key", f"{keys}/listener.key_secret", "--server-key", f"{keys}/run.key"] if CURVE else []
    listen = subprocess.Popen([R, "listen", pub, "--json"] + sec, cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stats = subprocess.Popen([R, "stats", pub, "--json"] + sec, cwd=tmp, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    reports = {"n": 0}

    def read_reports():
        for line in listen.stdout:
            reports["n"] += 1
    telemetry = []

    def read_stats():
        for line in stats.stdout:
            try:
                telemetry.append(json.loads(line))
            except ValueError:
                pass
    threads = [threading.Thread(target=read_reports, daemon=True),
               threading.Thread(target=read_stats, daemon=True)]
    for t in threads:
        t.start()
    wait_line(rlog, "ready", run)
    start = time.time()
    replay = subprocess.Popen([R, "replay", "rec", "--to", ">" + iq, "--loop", "--rate",
                               "realtime"] + (["--key", f"{keys}/replay.key_secret", "--server-key",
                                               f"{keys}/run.key"] if CURVE else []),
                              cwd=tmp, stderr=open(plog, "w"))
    rss = []
    while time.time() - start < DURATION and run.poll() is None and replay.poll() is None:
        rss.append((time.time() - start, rss_kib(run.pid)))
        time.sleep(5)
    replay.send_signal(signal.SIGTERM)
    replay.wait(timeout=30)
    time.sleep(2)  # let the last CPIs in flight come out before stopping
    run.send_signal(signal.SIGTERM)
    run.wait(timeout=60)
    listen.send_signal(signal.SIGTERM)
    stats.send_signal(signal.SIGTERM)
    listen.wait(timeout=10)
    stats.wait(timeout=10)
    for t in threads:
        t.join(timeout=5)
    elapsed = time.time() - start
    with open(rlog) as f:
        run_log = f.read()
    with open(plog) as f:
        replay_log = f.read()
    missed = "\n".join(x for x in listen.stderr.read().splitlines() if "missed" in x)

    last = telemetry[-1] if telemetry else {}
    cpis = last.get("cpis", {})
    windows = [t["latency_ms"]["end_to_end"] for t in telemetry
               if t.get("latency_ms", {}).get("end_to_end", {}).get("count", 0) > 0]
    first_min = [k for s, k in rss if s < 60]
    last_min = [k for s, k in rss if s >= elapsed - 60]
    summary = {
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": socket.gethostname(), "cores": os.cpu_count(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "mode": os.path.relpath(MODE, ROOT), "transport": "tcp loopback, " + ("CURVE on every socket" if CURVE else "no CURVE"),
        "duration_s": round(elapsed, 1),
        "cpi_duration_ms": cpis.get("duration_ms"),
        "cpis_processed": cpis.get("processed"), "cpis_dropped": cpis.get("dropped"),
        "cpis_dropped_by_cause": cpis.get("dropped_by_cause"),
        "deadline_misses": cpis.get("deadline_misses"),
        "frames_rejected": last.get("frames", {}).get("rejected"),
        "reports_published": last.get("reports_published"),
        "reports_dropped": last.get("reports_dropped"),
        "reports_received": reports["n"],
        "subscriber_missed": missed.strip(),
        "rss_mib_first_minute": [round(min(first_min) / 1024, 1), round(max(first_min) / 1024, 1)]
        if first_min else None,
        "rss_mib_last_minute": [round(min(last_min) / 1024, 1), round(max(last_min) / 1024, 1)]
        if last_min else None,
        "rss_samples": [[round(s, 1), k] for s, k in rss],
        "latency_ms": {
            "windows": len(windows),
            "p50_median": statistics.median(w["p50_ms"] for w in windows) if windows else None,
            "p99_median": statistics.median(w["p99_ms"] for w in windows) if windows else None,
            "p99_worst": max(w["p99_ms"] for w in windows) if windows else None,
            "max": max(w["max_ms"] for w in windows) if windows else None,
        },
        "security": last.get("security"),
        "replay": replay_log.strip().splitlines()[-1] if replay_log.strip() else "",
    }
    stamp = datetime.date.today().isoformat()
    base = os.path.join(ROOT, "bench", "results",
                        f"{stamp}-cpu-{socket.gethostname().split('.')[0]}-soak-"
                        f"{os.path.splitext(os.path.basename(MODE))[0]}" + ("-curve" if CURVE else "-plain"))
    with open(base + ".json", "w") as f:
        json.dump(summary, f, indent=1)
    write_markdown(summary, base + ".md")
    print(json.dumps({k: v for k, v in summary.items() if k != "rss_samples"}, indent=1))
    print("wrote", base + ".json", "and", base + ".md")
    if run.returncode != 0:
        print(run_log)
        sys.exit(1)


if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
    # Rewrites the table of a summary already written: scripts/soak.py --markdown FILE.json
    write_markdown(json.load(open(sys.argv[2])), sys.argv[2][:-5] + ".md")
else:
    main()
