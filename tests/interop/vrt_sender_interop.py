#!/usr/bin/env python3
"""`radarpipe replay --to vrt+...` (the VRT sender) decoded by two independent readers:

- Debian's tshark (its VITA 49 dissector, `-d udp.port==N,vrt`): the datagrams the sender puts
  on 127.0.0.1 are caught here, written to a pcap file and dissected; every header field, the
  stream IDs, class IDs, timestamps, trailers and the samples are checked against the recording
  and the mode's timing (gated, then continuous). tshark 4.0's dissector does not decode context
  packets' fields.
- PyPI vtivrt's TCP reader (VtiVrtPacket.from_socket) on `--to vrt+tcp://`: the same checks, and
  the context packets' words (which vtivrt hands over raw) decoded here from the standard's
  layout. vtivrt refuses class IDs other than VTI's own information class codes, so this part
  runs with `--vrt-no-class-id` (DIFI's class IDs are tshark's part).

usage: vrt_sender_interop.py BUILD_DIR SOURCE_DIR
"""

import calendar
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from vtivrt.packet import VtiVrtPacket

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from cli_checks import check, finish, simulate  # noqa: E402

BUILD = sys.argv[1]
R = os.path.join(BUILD, "pipeline", "radarpipe")
if shutil.which("tshark") is None:
    print("SKIPPED: no tshark (bash scripts/bootstrap installs Debian's)")
    sys.exit(77)


FS, PRI, T0, N, P, C, CPIS = 10.0e6, 50.0e-6, 3.0e-6, 256, 8, 2, 2
IDS = (21, 22)
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
  doppler_fft_size: 8
  fft_planning: estimate
  cfar: {{type: ca, guard_cells: {{range: 2, doppler: 1}}, training_cells: {{range: 6, doppler: 2}}, pfa: 1.0e-4}}
input:
  vrt: {{stream_ids: [{IDS[0]}, {IDS[1]}]}}
"""
SCENE = """start_time: 2026-11-21T12:00:00.25Z
seed: 3
targets:
  - {name: a, range_m: 900, range_rate_mps: 30, snr_db: 20}
"""
FIELDS = ["type", "cidflag", "tflag", "tsmflag", "tsi", "tsf", "seq", "len", "sid", "oui", "icc",
          "pcc", "ts_int", "ts_frac_picosecond", "data", "valid", "valid_en", "caltime",
          "caltime_en", "sampleloss_en"]


def write_pcap(path, port, datagrams):
    """LINKTYPE_RAW (101): each datagram in an IPv4 + UDP header to 127.0.0.1:port."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, d in enumerate(datagrams):
            udp = struct.pack(">HHHH", 40000, port, 8 + len(d), 0) + d
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            f.write(struct.pack("<IIII", i, 0, len(ip), len(ip)) + ip)


def dissect(path, port):
    args = ["tshark", "-r", path, "-d", f"udp.port=={port},vrt", "-T", "json"]
    for f in FIELDS:
        args += ["-e", "vrt." + f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = []
    for p in json.loads(out):
        layers = p["_source"]["layers"]
        rows.append({k[4:]: v[0] for k, v in layers.items()})
    return rows


def as_int(v):
    return int(v, 0)


with tempfile.TemporaryDirectory() as tmp:
    simulate(R, tmp, MODE, SCENE, CPIS)
    rec = np.fromfile(os.path.join(tmp, "rec.sigmf-data"), dtype="<i2").reshape(-1, C, 2)
    with open(os.path.join(tmp, "rec.sigmf-meta")) as f:
        meta = json.load(f)
    whole, frac = meta["captures"][0]["core:datetime"].rstrip("Z").split(".")
    start_ps = (calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 10**12 +
                int((frac + "000000000000")[:12]))

    for timing in ("gated", "continuous"):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        rx.bind(("127.0.0.1", 0))
        port = rx.getsockname()[1]
        # 600-byte packets: a window takes several (gated); the trailer on every data packet.
        sender = subprocess.Popen([R, "replay", "rec", "--mode", "mode.yaml", "--to",
                                   f"vrt+udp://127.0.0.1:{port}", "--rate", "0.5",
                                   "--vrt-timing", timing, "--vrt-trailer",
                                   "--max-packet-bytes", "600"], cwd=tmp,
                                  stderr=subprocess.PIPE, text=True)
        datagrams = []
        rx.settimeout(0.5)
        while True:
            try:
                datagrams.append(rx.recv(65536))
            except socket.timeout:
                if sender.poll() is not None:
                    break
        err = sender.stderr.read()
        check(sender.returncode == 0, f"{timing}: replay exited {sender.returncode}: {err}")
        pcap = os.path.join(tmp, timing + ".pcap")
        write_pcap(pcap, port, datagrams)
        rows = dissect(pcap, port)
        check(len(rows) == len(datagrams), f"{timing}: tshark read {len(rows)} of {len(datagrams)}")
        per = (600 - 28 - 4) // 4  # samples a packet holds
        data = [r for r in rows if r.get("type") == "1"]
        ctx = [r for r in rows if r.get("type") == "4"]
        check(len(ctx) == C * CPIS, f"{timing}: {len(ctx)} context packets")
        for r in ctx:
            check(r["cidflag"] == "1" and r["tsmflag"] == "1" and r["tsi"] == "3" and
                  r["tsf"] == "2" and as_int(r["oui"]) == 0x6A621E and r["pcc"] == "1" and
                  r["len"] == "27", f"{timing}: context header {r}")
            check(as_int(r["sid"]) in IDS, f"{timing}: context stream {r['sid']}")
        counts = {s: 0 for s in IDS}
        axis = {s: {} for s in IDS}  # stream -> {sample position: (I, Q)}
        ok_samples = True
        for r in data:
            sid = as_int(r["sid"])
            check(sid in IDS, f"{timing}: data stream {sid}")
            if sid not in IDS:
                continue
            check(r["cidflag"] == "1" and r["tflag"] == "1" and r["tsi"] == "3" and
                  r["tsf"] == "2" and as_int(r["oui"]) == 0x6A621E and r["icc"] == "0" and
                  r["pcc"] == "0", f"{timing}: data header {r}")
            check(int(r["seq"]) == counts[sid] % 16, f"{timing}: count {r['seq']} of stream {sid}")
            counts[sid] += 1
            check(r["valid_en"] == "1" and r["valid"] == "1" and r["caltime_en"] == "1" and
                  r["caltime"] == "1" and r.get("sampleloss_en", "0") == "0", f"{timing}: trailer {r}")
            raw = bytes.fromhex(r["data"].replace(":", ""))
            iq = np.frombuffer(raw, dtype=">i2").reshape(-1, 2)
            check(int(r["len"]) == 7 + len(raw) // 4 + 1, f"{timing}: size {r['len']}")
            t_ps = int(r["ts_int"]) * 10**12 + int(r["ts_frac_picosecond"]) - start_ps
            pos = t_ps * FS / 1e12  # samples after pulse 0 of CPI 0
            first = int(round(pos))
            check(abs(pos - first) < 1e-3, f"{timing}: timestamp off the sample grid: {pos}")
            for i, v in enumerate(iq):
                axis[sid][first + i] = (int(v[0]), int(v[1]))
        # Every recorded sample where the contract puts it: pulse k's gate n at
        # k PRI fs + t0 fs + n (zeros between windows when continuous).
        for c, sid in enumerate(IDS):
            for k in range(CPIS * P):
                w = int(round(k * PRI * FS + T0 * FS))
                for n in range(N):
                    got = axis[sid].get(w + n)
                    want = (int(rec[k * N + n, c, 0]), int(rec[k * N + n, c, 1]))
                    if got != want:
                        ok_samples = False
            if timing == "continuous":
                inside = {int(round(k * PRI * FS + T0 * FS)) + n
                          for k in range(CPIS * P) for n in range(N)}
                check(all(v == (0, 0) for p_, v in axis[sid].items() if p_ not in inside),
                      f"{timing}: samples between windows are not zero")
        check(ok_samples, f"{timing}: samples differ from the recording's")
        check(all(len(bytes.fromhex(r["data"].replace(":", ""))) // 4 <= per for r in data),
              f"{timing}: a packet over 600 bytes")
        print(f"{timing}: {len(data)} data and {len(ctx)} context packets dissected by tshark")

    # vtivrt over TCP: the sender listens, this connects and reads packet after packet.
    sender = subprocess.Popen([R, "replay", "rec", "--mode", "mode.yaml", "--to",
                               "vrt+tcp://127.0.0.1:*", "--rate", "max", "--vrt-trailer",
                               "--vrt-no-class-id"], cwd=tmp, stderr=subprocess.PIPE, text=True)
    line = sender.stderr.readline()
    port = int(line.split(" to 127.0.0.1:")[1].split()[0])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    packets = []
    while True:
        try:
            packets.append(VtiVrtPacket.from_socket(sock))
        except Exception:  # noqa: BLE001 - the sender closed the connection: the stream's end
            break
    sender.wait(timeout=30)
    check(sender.returncode == 0, f"tcp: replay exited {sender.returncode}")
    contexts = [p for p in packets if int(p.packet_type) == 4]
    data = [p for p in packets if int(p.packet_type) == 1]
    check(len(contexts) == C * CPIS and len(data) == CPIS * P * C * 1,
          f"tcp: {len(contexts)} context and {len(data)} data packets")
    counts = {s: 0 for s in IDS}
    samples_ok = True
    for p in data:
        check(p.stream_id in IDS and int(p.tsi) == 3 and int(p.tsf) == 2 and p.oui is None,
              f"tcp: data header {p.stream_id} {p.tsi} {p.tsf} {p.oui}")
        if p.stream_id not in IDS:
            continue
        check(p.count == counts[p.stream_id] % 16, f"tcp: count {p.count}")
        q = counts[p.stream_id]  # gated, one packet per window: pulse q of the stream
        counts[p.stream_id] += 1
        c = IDS.index(p.stream_id)
        t_ps = int(p.timestamp * 10**12) - start_ps
        check(t_ps == int(round((q * PRI + T0) * 1e12)), f"tcp: pulse {q} time {t_ps} ps")
        check(p.trailer is not None and int(p.trailer.indicators) & int(p.trailer.enables) != 0,
              f"tcp: trailer {p.trailer}")
        for i, w in enumerate(p.data):
            got = (w >> 16, (w & 0xFFFF) - (1 << 16 if w & 0x8000 else 0))
            if got != (int(rec[q * N + i, c, 0]), int(rec[q * N + i, c, 1])):
                samples_ok = False
        check(len(p.data) == N, f"tcp: {len(p.data)} samples in a window's packet")
    check(samples_ok, "tcp: samples differ from the recording's")
    for p in contexts:
        w = [int(x) & 0xFFFFFFFF for x in p.data]

        def fixed(i, frac_bits):
            v = (w[i] << 32) | w[i + 1]
            return (v - (1 << 64) if v >> 63 else v) / 2**frac_bits

        check(w[0] == 0xFBB98000, f"tcp: CIF0 {w[0]:#x}")
        check(w[1] == 0x64, f"tcp: reference point {w[1]:#x}")
        check(fixed(2, 20) == FS and fixed(4, 20) == 0 and fixed(6, 20) == 9.4e9 and
              fixed(8, 20) == 0, f"tcp: bandwidth, IF, RF, IF offset {w[2:10]}")
        check(w[10] == 0 and w[11] == 0, f"tcp: reference level, gains {w[10:12]}")
        check(fixed(12, 20) == FS, f"tcp: sample rate {fixed(12, 20)}")
        check(w[14:17] == [0, 0, 0], f"tcp: timestamp adjustment and calibration {w[14:17]}")
        check(w[17] == 0xA00A0000, f"tcp: state and events {w[17]:#x}")
        check(w[18:20] == [0xA00007CF, 0], f"tcp: payload format {w[18]:#x} {w[19]:#x}")
    print(f"tcp: {len(data)} data and {len(contexts)} context packets read by vtivrt")

finish("sender")
