"""Interoperability with the official SigMF Python library (PyPI `sigmf`).

1. What radarpipe writes (tests/interop/write_known.cpp: cf32_le and ci16_le, 1 and 2 channels,
   a pair and an archive) passes sigmf's validator and reads back sample-identical.
2. Recordings that sigmf writes (ci16_le and cf32_le, 2 channels, with a target echo generated
   here from RADAR-MODEL.md) are processed by `radarpipe process`, which finds the target.

usage: sigmf_interop.py BUILD_DIR
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sigmf
from sigmf import SigMFFile

C = 299792458.0
BUILD = Path(sys.argv[1])
RADARPIPE = BUILD / "pipeline" / "radarpipe"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def ours_read_by_sigmf(tmp):
    names = subprocess.run([str(BUILD / "tests" / "write_known"), str(tmp)], check=True,
                           capture_output=True, text=True).stdout.split()
    n = 3000
    for name in names:
        rec = sigmf.fromfile(name, autoscale=False)
        rec.validate()  # raises on a schema violation
        check(True, f"{Path(name).name}: passes sigmf's validator")
        channels = rec.get_global_field("core:num_channels") or 1
        dt = rec.get_global_field("core:datatype")
        x = rec.read_samples()
        x = np.asarray(x).reshape(n, channels) if channels > 1 else np.asarray(x).reshape(n, 1)
        k = np.arange(n)
        ok = True
        for c in range(channels):
            want = (k + 1000 * c) - 1j * (k / 2)
            if dt == "ci16_le":
                want = want / 0.5  # stored LSBs (radar:sample_scale 0.5), read unscaled
            got = x[:, c].astype(np.complex128)
            ok &= np.array_equal(got, want)
        check(ok, f"{Path(name).name}: {dt} x {channels} channel(s) read back sample-identical")
        anns = rec.get_annotations()
        check(len(anns) == 1 and anns[0]["core:comment"] == "interop",
              f"{Path(name).name}: annotation carried")


def sigmf_written_processed_by_radarpipe(tmp):
    fs, fc, pri, gates, pulses = 20e6, 9.4e9, 100e-6, 600, 64
    tau, bw = 5e-6, 10e6
    lam = C / fc
    rng = np.random.default_rng(7)
    rng_m, rate = 2000.0, -30.0
    fd = -2 * rate / lam
    delay = 2 * rng_m / C * fs  # 266.86 samples: a fractional delay
    gains = [1.0, 0.6 * np.exp(1j * 0.9)]
    cube = (rng.normal(size=(2, pulses, gates)) + 1j * rng.normal(size=(2, pulses, gates))) * np.sqrt(0.5)
    amp = 10 ** (-10 / 20)
    n = np.arange(gates)
    for c in range(2):
        for p in range(pulses):
            echo = np.zeros(gates, complex)
            # s(n/fs - t_d): sample the model's continuous pulse at the fractional delay
            t = (n - delay) / fs
            on = (t >= 0) & (t < tau)
            echo[on] = np.exp(2j * np.pi * (-bw / 2 * t[on] + bw / (2 * tau) * t[on] ** 2))
            cube[c, p] += amp * gains[c] * echo * np.exp(2j * np.pi * fd * (p * pri + n / fs))
    # SigMF layout: per sample index s = p*N + n, channels interleaved.
    inter = cube.reshape(2, pulses * gates).T  # (samples, channels)
    processing = {"pulses": pulses, "doppler_fft_size": 64, "range_window": {"type": "hamming"},
                  "cfar": {"type": "ca", "guard_cells": {"range": 2, "doppler": 1},
                           "training_cells": {"range": 8, "doppler": 4}, "pfa": 1e-6}}
    for dt in ("ci16_le", "cf32_le"):
        base = tmp / f"py_{dt}"
        if dt == "ci16_le":
            scale = 1 / 2000.0
            iq = np.empty((pulses * gates, 2, 2), np.int16)
            iq[..., 0] = np.round(inter.real / scale)
            iq[..., 1] = np.round(inter.imag / scale)
        else:
            scale = 1.0
            iq = inter.astype(np.complex64)
        iq.tofile(str(base) + ".sigmf-data")
        meta = SigMFFile(data_file=str(base) + ".sigmf-data", global_info={
            "core:datatype": dt, "core:sample_rate": fs, "core:num_channels": 2,
            "core:version": sigmf.__specification__ if hasattr(sigmf, "__specification__") else "1.2.0",
            "core:extensions": [{"name": "radar", "version": "1.0.0", "optional": True}],
            "radar:center_frequency_hz": fc, "radar:pri_s": pri, "radar:range_gates": gates,
            "radar:window_start_s": 0.0,
            "radar:waveform": {"type": "lfm", "pulse_width_s": tau, "bandwidth_hz": bw, "direction": "up"},
            "radar:sample_scale": scale, "radar:processing": processing})
        meta.add_capture(0, metadata={"core:frequency": fc, "core:datetime": "2026-11-21T12:00:00.000Z"})
        meta.tofile(str(base) + ".sigmf-meta")
        out = tmp / f"py_{dt}.jsonl"
        r = subprocess.run([str(RADARPIPE), "process", "-i", str(base), "-o", str(out)],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"sigmf-written {dt} x 2 channels: radarpipe process exits 0 ({r.stderr.strip()})")
        if r.returncode != 0:
            continue
        report = json.loads(out.read_text().splitlines()[0])
        dets = report["detections"]
        near = [d for d in dets if abs(d["range_bin_frac"] - delay) <= 0.5 and abs(d["range_rate_mps"] - rate) < 1.3]
        check(len(near) == 1, f"sigmf-written {dt}: the target found once at its range and velocity "
                              f"({len(dets)} detections)")
        check(report["time"].startswith("2026-11-21T12:00:00.0"), f"sigmf-written {dt}: time from core:datetime")


with tempfile.TemporaryDirectory() as d:
    ours_read_by_sigmf(Path(d))
    sigmf_written_processed_by_radarpipe(Path(d))
print(f"sigmf {sigmf.__version__}: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
