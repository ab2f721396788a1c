#!/usr/bin/env python3
"""`radarpipe run` fed VITA 49.2 packets written here, from the standard's layout (VITA 49.2-2017
sections 5 and 9: header, stream ID, class ID, timestamps, payload, trailer; CIF0 context fields),
independent of radarpipe's codec, from a simulated two-channel ci16 recording:

  A. UDP on 127.0.0.1, gated, UTC seconds + picoseconds, 100-sample packets, a context packet per
     stream first, a garbage datagram and a stranger's stream among them;
  B. TCP (run connects to this script), continuous (zeros between the receive windows), GPS
     seconds + sample-count fractions, 500-sample packets; the connection's close ends the stream;
  C. TCP gated with faults at known places: a packet dropped (CPI 3), one duplicated (CPI 5), two
     swapped (CPI 8), one flagged sample loss in its trailer (CPI 10).

`radarpipe record` then `process` on its recording gives the reports `run` gave live (A and C:
the gaps of C become captures numbered by radar:cpi, with an annotation each).

A and B publish, report for report, what `radarpipe process` writes for the recording; C exactly
those reports less CPIs 3, 8 and 10, with the drops and rejections counted by cause in telemetry.

usage: vrt_run_interop.py BUILD_DIR SOURCE_DIR
"""

import calendar
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import sigmf
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from cli_checks import check, finish, simulate, wait_line  # noqa: E402

BUILD = sys.argv[1]
R = os.path.join(BUILD, "pipeline", "radarpipe")


FS, PRI, T0, N, P, C = 10.0e6, 50.0e-6, 3.0e-6, 256, 32, 2
IDS = (7, 9)
MODE = f"""radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: {FS}
  pri_s: {PRI}
  range_gates: {N}
  window_start_s: {T0}
  channels: {C}
  waveform: {{type: lfm, pulse_width_s: 2.0e-6, bandwidth_hz: 5.0e6, direction: up}}
processing:
  pulses: {P}
  range_window: hamming
  doppler_window: hann
  doppler_fft_size: 32
  fft_planning: estimate
  cfar: {{type: ca, guard_cells: {{range: 2, doppler: 1}}, training_cells: {{range: 6, doppler: 3}}, pfa: 1.0e-4}}
pipeline:
  cpis_in_flight: 16
"""
SCENE = """start_time: 2026-11-21T12:00:00Z
seed: 5
targets:
  - {name: a, range_m: 900, range_rate_mps: 30, snr_db: 3}
  - {name: b, range_m: 2100, range_rate_mps: -55, snr_db: 0, swerling: 1}
"""
CPIS = 12
GPS_MINUS_UNIX = 315964800 - 18  # GPS seconds = POSIX seconds - this (18 leap seconds)

# ---- the packets, from the standard's layout ----


def header(ptype, count, words, tsi, tsf, class_id=True, trailer=False):
    # type:4 | C:1 | T:1 | 0:1 | 0:1 | TSI:2 | TSF:2 | count:4 | size:16 (VITA 49.2 5.1.1)
    return struct.pack(">I", (ptype << 28) | (int(class_id) << 27) | (int(trailer) << 26) |
                       (tsi << 22) | (tsf << 20) | ((count & 15) << 16) | words)


def class_id(packet_code):
    # pad bits:5 | reserved:3 | OUI:24, information code:16 | packet code:16
    return struct.pack(">II", 0x00FFFFFA, (0x0001 << 16) | packet_code)


def data_packet(stream, count, tsi, secs, tsf, frac, iq, trailer=None):
    payload = iq.astype(">i2").tobytes()  # I, Q big-endian int16 per sample
    words = 1 + 1 + 2 + 1 + 2 + len(payload) // 4 + (1 if trailer is not None else 0)
    out = (header(1, count, words, tsi, tsf, trailer=trailer is not None) +
           struct.pack(">I", stream) + class_id(1) + struct.pack(">IQ", secs, frac) + payload)
    if trailer is not None:
        out += struct.pack(">I", trailer)
    return out


def fixed64(v, frac_bits):
    return struct.pack(">q", int(round(v * (1 << frac_bits))))


def context_packet(stream, count, tsi, secs, tsf, frac):
    cif0 = (1 << 31) | (1 << 27) | (1 << 21) | (1 << 15)  # changed, RF ref, sample rate, format
    # Payload format (9.13.3): processing-efficient, complex Cartesian, signed fixed point,
    # field and item 16 bits (stored minus one), one item per vector.
    fmt = struct.pack(">II", (1 << 29) | (15 << 6) | 15, 0)
    body = struct.pack(">I", cif0) + fixed64(9.4e9, 20) + fixed64(FS, 20) + fmt
    words = 1 + 1 + 2 + 1 + 2 + len(body) // 4
    return (header(4, count, words, tsi, tsf) + struct.pack(">I", stream) + class_id(2) +
            struct.pack(">IQ", secs, frac) + body)


def utc_ps(start_ns, offset_s):
    return start_ns * 1000 + int(round(offset_s * 1e12))


class Stream:
    def __init__(self, rec, start_ns):
        self.rec, self.start_ns = rec, start_ns
        self.count = {s: 0 for s in IDS}
        self.ctx_count = {s: 0 for s in IDS}

    def next_count(self, stream):
        c = self.count[stream]
        self.count[stream] += 1
        return c

    def stamp_utc(self, offset_s):
        ps = utc_ps(self.start_ns, offset_s)
        return 1, ps // 10**12, 2, ps % 10**12  # TSI UTC, TSF real-time picoseconds

    def stamp_gps(self, sample):
        # GPS seconds and the sample count within the second (fs is a whole number of Hz).
        ns = self.start_ns + sample * 100  # 100 ns per sample at 10 MHz
        secs = ns // 10**9
        return 2, secs - GPS_MINUS_UNIX, 1, (ns % 10**9) // 100

    def contexts(self, stamp):
        out = []
        for s in IDS:
            out.append(context_packet(s, self.ctx_count[s], *stamp))
            self.ctx_count[s] += 1
        return out

    def gated(self, per_packet):
        """[(cpi, packet bytes)] in send order: pulse by pulse, channel by channel."""
        out = [(0, p) for p in self.contexts(self.stamp_utc(0.0))]
        for m in range(CPIS):
            for p in range(P):
                for c, s in enumerate(IDS):
                    row = self.rec[(m * P + p) * N:(m * P + p + 1) * N, c]
                    for g in range(0, N, per_packet):
                        t = (m * P + p) * PRI + T0 + g / FS
                        out.append((m, data_packet(s, self.next_count(s), *self.stamp_utc(t),
                                                   row[g:g + per_packet])))
        return out

    def continuous(self, per_packet):
        # Window q at sample round(q PRI fs + t0 fs) = 500 q + 30 of the stream.
        total = (CPIS * P - 1) * 500 + 30 + N
        axis = np.zeros((total, C, 2), dtype=np.int16)
        for q in range(CPIS * P):
            axis[500 * q + 30:500 * q + 30 + N] = self.rec[q * N:(q + 1) * N]
        out = [(0, p) for p in self.contexts(self.stamp_gps(0))]
        for j in range(0, total, per_packet):
            for c, s in enumerate(IDS):
                out.append((j // (500 * P), data_packet(s, self.next_count(s), *self.stamp_gps(j),
                                                        axis[j:j + per_packet, c])))
        return out


# ---- running radarpipe ----


def run_case(tmp, name, mode_text, transport, packets, expect, faults=None):
    mode = os.path.join(tmp, name + ".yaml")
    with open(mode, "w") as f:
        f.write(mode_text)
    log = os.path.join(tmp, name + ".log")
    listener = None
    if transport == "udp":
        src = "vrt+udp://127.0.0.1:*"
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        src = f"vrt+tcp://127.0.0.1:{listener.getsockname()[1]}"
    proc = subprocess.Popen([R, "run", "--mode", mode, "--from", src, "--publish",
                             "tcp://127.0.0.1:*", "--format", "json", "--wait-subscribers", "1",
                             "--threads", "2", "--telemetry-interval", "0.2"] +
                            (["--exit-at-end"] if transport == "tcp" else []),
                            stderr=open(log, "w"))
    try:
        pub = wait_line(log, r"publish at (tcp://[0-9.]+:[0-9]+)", proc)
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        for topic in (b"detections.json", b"end.json", b"telemetry.json"):
            sub.setsockopt(zmq.SUBSCRIBE, topic)
        sub.connect(pub)
        wait_line(log, r"(ready)", proc)
        if transport == "udp":
            port = int(wait_line(log, r"iq at 127\.0\.0\.1:([0-9]+)", proc))
            tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            tx.connect(("127.0.0.1", port))
            send = tx.send
        else:
            conn, _ = listener.accept()
            send = conn.sendall
        reports, telemetry, ended = [], None, False
        sent = 0
        deadline = time.time() + 120
        while time.time() < deadline:
            # UDP is paced by the reports: at most two CPIs ahead of the last report (UDP has no
            # back-pressure, and the receive buffer need not hold the whole recording).
            while sent < len(packets) and (transport == "tcp" or
                                           packets[sent][0] <= len(reports) + 2):
                send(packets[sent][1])
                sent += 1
            if sent == len(packets) and transport == "tcp" and listener is not None:
                conn.close()
                listener.close()
                listener = None
            if sub.poll(200):
                topic, body = sub.recv_multipart()
                if topic == b"detections.json":
                    reports.append(body.decode())
                elif topic == b"telemetry.json":
                    telemetry = json.loads(body)
                elif topic == b"end.json":
                    ended = True
            if transport == "udp" and sent == len(packets) and len(reports) >= len(expect):
                break
            if ended:
                break
        if transport == "udp":
            proc.send_signal(signal.SIGTERM)
        # The last telemetry comes out as the process exits.
        while proc.poll() is None and time.time() < deadline + 10:
            if sub.poll(100):
                topic, body = sub.recv_multipart()
                if topic == b"telemetry.json":
                    telemetry = json.loads(body)
                elif topic == b"detections.json":
                    reports.append(body.decode())
        while sub.poll(300):
            topic, body = sub.recv_multipart()
            if topic == b"telemetry.json":
                telemetry = json.loads(body)
        proc.wait(timeout=30)
        check(proc.returncode == 0, f"{name}: run exited {proc.returncode}")
        got = [json.loads(r) for r in reports]
        check([g["cpi"] for g in got] == [e["cpi"] for e in expect],
              f"{name}: CPIs {[g['cpi'] for g in got]}, expected {[e['cpi'] for e in expect]}")
        for g, e in zip(got, expect):
            check(g == e, f"{name}: the report of CPI {e['cpi']} differs from process's: " +
                  ", ".join(f"{k} {g.get(k)!r:.80} != {e.get(k)!r:.80}"
                            for k in sorted(set(g) | set(e)) if g.get(k) != e.get(k)))
        check(telemetry is not None and "vrt" in telemetry, f"{name}: no VRT telemetry")
        if telemetry:
            v, cpis = telemetry["vrt"], telemetry["cpis"]
            print(f"{name}: {len(got)} reports; vrt {json.dumps(v)}; "
                  f"dropped {cpis['dropped_by_cause']}")
            check(v["kernel_drops"] == 0, f"{name}: the kernel dropped {v['kernel_drops']}")
            for key, want in (faults or {}).items():
                table, cause = key.split(":")
                have = v["rejected_by_cause"] if table == "rejected" else cpis["dropped_by_cause"]
                check(have.get(cause) == want, f"{name}: {key} {have.get(cause)}, expected {want}")
            if not faults:
                check(cpis["dropped"] == 0, f"{name}: {cpis['dropped']} CPIs dropped")
    finally:
        if proc.poll() is None:
            proc.kill()
        if listener is not None:
            listener.close()
        with open(log) as f:
            print(f.read())


def record_case(tmp, name, mode_text, transport, packets, expect, cpis):
    """`radarpipe record` on the same packets, then `process` on its recording: `expect`."""
    mode = os.path.join(tmp, name + "-record.yaml")
    with open(mode, "w") as f:
        f.write(mode_text)
    log = os.path.join(tmp, name + "-record.log")
    out = os.path.join(tmp, name + "-live")
    listener = None
    if transport == "udp":
        src = "vrt+udp://127.0.0.1:*"
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        src = f"vrt+tcp://127.0.0.1:{listener.getsockname()[1]}"
    proc = subprocess.Popen([R, "record", "--mode", mode, "--from", src, "-o", out] +
                            (["--cpis", str(cpis)] if transport == "udp" else ["--exit-at-end"]),
                            stderr=open(log, "w"), stdout=subprocess.DEVNULL)
    try:
        wait_line(log, r"(ready)", proc)
        if transport == "udp":
            port = int(wait_line(log, r"iq at 127\.0\.0\.1:([0-9]+)", proc))
            tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tx.connect(("127.0.0.1", port))
            for _, p in packets:  # the receive buffer holds the whole recording
                tx.send(p)
        else:
            conn, _ = listener.accept()
            for _, p in packets:
                conn.sendall(p)
            conn.close()
        proc.wait(timeout=60)
        check(proc.returncode == 0, f"{name}: record exited {proc.returncode}")
        got_path = os.path.join(tmp, name + "-live.jsonl")
        r = subprocess.run([R, "process", "-i", out, "--threads", "2", "-o", got_path],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"{name}: process of the live recording: {r.stderr}")
        with open(got_path) as f:
            got = [json.loads(line) for line in f]
        check([g["cpi"] for g in got] == [e["cpi"] for e in expect],
              f"{name}: recorded CPIs {[g['cpi'] for g in got]}, live {[e['cpi'] for e in expect]}")
        for g, e in zip(got, expect):
            check(g == e, f"{name}: process of the recording differs from run at CPI {e['cpi']}")
        with open(out + ".sigmf-meta") as f:
            meta = json.load(f)
        # The official SigMF library reads the recording and finds it valid (its schema and the
        # sha512 of the data).
        try:
            sigmf.fromfile(out, autoscale=False).validate()
        except Exception as e:  # noqa: BLE001 - any failure of the reader is the finding
            check(False, f"{name}: sigmf rejects the recording: {e}")
        print(f"{name}: recorded {len(got)} CPIs; captures {meta['captures']}; "
              f"annotations {meta['annotations']}")
        return meta
    finally:
        if proc.poll() is None:
            proc.kill()
        if listener is not None:
            listener.close()
        with open(log) as f:
            print(f.read())


with tempfile.TemporaryDirectory() as tmp:
    simulate(R, tmp, MODE, SCENE, CPIS)
    subprocess.run([R, "process", "-i", "rec", "--mode", "mode.yaml", "--threads", "2", "-o",
                    "ref.jsonl"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "ref.jsonl")) as f:
        ref = [json.loads(line) for line in f]
    with open(os.path.join(tmp, "rec.sigmf-meta")) as f:
        meta = json.load(f)
    scale = meta["global"]["radar:sample_scale"]
    dt = meta["captures"][0]["core:datetime"]
    whole, frac = dt.rstrip("Z").split(".")
    start_ns = (calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 10**9 +
                int((frac + "000000000")[:9]))
    rec = np.fromfile(os.path.join(tmp, "rec.sigmf-data"), dtype="<i2").reshape(-1, C, 2)
    check(len(ref) == CPIS, f"process wrote {len(ref)} reports")

    vrt = f"input:\n  vrt: {{stream_ids: [{IDS[0]}, {IDS[1]}], scale: {scale!r}, timing: %s}}\n"

    # A: UDP, gated, with a garbage datagram and a stranger's stream among the packets.
    packets = Stream(rec, start_ns).gated(100)
    stranger = data_packet(99, 0, 1, start_ns // 10**9, 2, 0, rec[:50, 0])
    packets.insert(len(packets) // 3, (4, stranger))
    # A header announcing 255 words in a 12-byte datagram.
    packets.insert(len(packets) // 2, (6, b"\x10\x00\x00\xffgarbage!"))
    run_case(tmp, "udp-gated", MODE + vrt % "gated", "udp", packets, ref,
             {"rejected:stream": 1, "rejected:short": 1})
    record_case(tmp, "udp-gated", MODE + vrt % "gated", "udp", packets, ref, CPIS)

    # B: TCP, continuous, GPS seconds and sample counts.
    packets = Stream(rec, start_ns).continuous(500)
    run_case(tmp, "tcp-continuous", MODE + vrt % "continuous", "tcp", packets, ref)

    # C: TCP, gated, faults at known places.
    packets = Stream(rec, start_ns).gated(100)
    # Data packets of CPI m: 2 contexts first, then per pulse 2 channels x 3 packets.
    def index(m, p, c, k):
        return 2 + ((m * P + p) * C + c) * 3 + k
    flagged = packets[index(10, 20, 0, 2)][1]
    words = len(flagged) // 4 + 1
    head = struct.unpack(">I", flagged[:4])[0]
    head = (head & 0xFFFF0000) | (1 << 26) | words
    # Trailer (5.1.6): sample-loss enable (bit 24) and indicator (bit 12) set.
    flagged = struct.pack(">I", head) + flagged[4:] + struct.pack(">I", (1 << 24) | (1 << 12))
    packets[index(10, 20, 0, 2)] = (10, flagged)
    a, b = index(8, 5, 0, 0), index(8, 5, 0, 1)
    packets[a], packets[b] = packets[b], packets[a]
    packets.insert(index(5, 3, 1, 1) + 1, packets[index(5, 3, 1, 1)])
    del packets[index(3, 10, 1, 1)]
    live = [e for e in ref if e["cpi"] not in (3, 8, 10)]
    run_case(tmp, "tcp-faults", MODE + vrt % "gated", "tcp", packets, live,
             {"dropped:sequence_gap": 2, "dropped:digitizer_flag": 1, "rejected:late": 2})
    # Recorded, the gaps become captures numbered by radar:cpi, each with an annotation.
    meta = record_case(tmp, "tcp-faults", MODE + vrt % "gated", "tcp", packets, live, CPIS)
    check([c.get("radar:cpi") for c in meta["captures"]] == [0, 4, 9, 11],
          f"tcp-faults: captures {meta['captures']}")
    check(len([a for a in meta["annotations"] if a.get("core:label") == "gap"]) == 3,
          f"tcp-faults: annotations {meta['annotations']}")

finish("VRT run")
