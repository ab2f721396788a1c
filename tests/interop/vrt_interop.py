#!/usr/bin/env python3
"""VITA 49.2 packets from radarpipe's encoder (io/vrt.hpp, via tests/interop/vrt_known.cpp)
decoded by an independent reader, PyPI vtivrt's TCP reader (VtiVrtPacket.from_socket), over a
real TCP connection on 127.0.0.1: every header field, timestamp, trailer bit, context field and
sample checked against values recomputed here from the writer's formulas.

usage: vrt_interop.py BUILD_DIR SOURCE_DIR
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading

from vtivrt.packet import VtiVrtPacket
from vtivrt.constants import (VrtPacketType, VrtTimestampFractional, VrtTimestampInteger,
                              VrtTrailerEvents)

BUILD = sys.argv[1]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "known.vrt")
    subprocess.run([os.path.join(BUILD, "tests", "vrt_known"), path], check=True)
    with open(path, "rb") as f:
        stream = f.read()

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]
sender = threading.Thread(target=lambda: (lambda c: (c.sendall(stream), c.close()))(server.accept()[0]))
sender.start()
sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(10)

# The context packet: VTI's measurement-info fields.
ctx = VtiVrtPacket.from_socket(sock)
check(ctx.packet_type == VrtPacketType.IF_CONTEXT, f"context type {ctx.packet_type}")
check(ctx.stream_id == 0x100, f"context stream id {ctx.stream_id:#x}")
check(ctx.tsi == VrtTimestampInteger.UTC and ctx.tsf == VrtTimestampFractional.REAL,
      f"context timestamp kinds {ctx.tsi} {ctx.tsf}")
check(int(ctx.timestamp) == 1764633600, f"context seconds {ctx.timestamp}")
d = ctx.data
check(d.bandwidth == 15e6, f"bandwidth {d.bandwidth}")
check(d.reference_level == 10.5, f"reference level {d.reference_level}")
check(d.over_range_count == 3, f"over-range count {d.over_range_count}")
check(d.sample_rate == 20e6, f"sample rate {d.sample_rate}")
check(d.temperature == 36.5, f"temperature {d.temperature}")
check(int(d.indicators) == 0x80000000 | 0x20000000 | 0x01000000 | 0x00400000 | 0x00200000 |
      0x00040000, f"CIF0 {int(d.indicators):#x}")

VALID, OVER_RANGE = VrtTrailerEvents.VALID_DATA, VrtTrailerEvents.OVER_RANGE
for k in range(20):
    p = VtiVrtPacket.from_socket(sock)
    check(p.packet_type == VrtPacketType.IF_DATA_WITH_ID, f"packet {k}: type {p.packet_type}")
    check(p.stream_id == 0x100, f"packet {k}: stream id {p.stream_id:#x}")
    check(p.count == (k + 13) % 16, f"packet {k}: count {p.count}")
    check((p.oui is not None) == (k % 2 == 0), f"packet {k}: class ID present {p.oui}")
    if k % 2 == 0:
        check(p.oui == 0x7C386C and int(p.info_class) == 1 and int(p.packet_class) == 1,
              f"packet {k}: class ID {p.oui:#x} {p.info_class} {p.packet_class}")
    want_t = 1764633600 + k // 10 + (k % 10) / 10
    check(abs(float(p.timestamp) - want_t) < 1e-9, f"packet {k}: timestamp {p.timestamp}")
    check((p.trailer is not None) == (k % 3 != 0), f"packet {k}: trailer {p.trailer}")
    if p.trailer is not None:
        en, ind = int(p.trailer.enables), int(p.trailer.indicators)
        check(en & VALID and en & OVER_RANGE, f"packet {k}: enables {en:#x}")
        check(bool(ind & VALID) == (k % 2 == 1), f"packet {k}: valid data {ind:#x}")
        check(bool(ind & OVER_RANGE) == (k % 4 == 1), f"packet {k}: over-range {ind:#x}")
        check(p.trailer.context_count == k, f"packet {k}: context count {p.trailer.context_count}")
    words = p.data
    check(len(words) == 100, f"packet {k}: {len(words)} payload words")
    for i, w in enumerate(words[:100]):
        re_ = w >> 16  # the word as vtivrt reads it: a big-endian int32, I in its high half
        im = (w & 0xFFFF) - (1 << 16 if w & 0x8000 else 0)
        want = ((k * 1009 + i * 37) % 65536 - 32768, -((k * 211 + i * 5) % 30000))
        if (re_, im) != want:
            check(False, f"packet {k} sample {i}: {(re_, im)} != {want}")
            break

rest = sock.recv(1)
check(rest == b"", "bytes after the last packet")
sender.join()
print(f"vrt interop: 21 packets decoded by vtivrt, {len(failures)} failures")
sys.exit(1 if failures else 0)
