#!/usr/bin/env python3
"""What calibrated CFAR thresholds cost in detection (docs/signal-chain.md "Calibrated
thresholds"): the post-processing SNR each CFAR variant needs for Pd 0.5 and 0.9 at design Pfa
1e-6, with the calibrated and the textbook factors, beside the ideal detector that knows the
noise power (Marcum Q, Swerling 0). Through the real tools: `radarpipe simulate` (15 steady
targets per CPI, 0.75 dB apart, at range-bin and Doppler-bin centres so nothing straddles),
`radarpipe process` with each mode, `radarpipe score --json` per target.

  bench/cfar_loss.py --radarpipe build/pipeline/radarpipe --cpis 400 \
      --json bench/results/DATE-cpu-vm-cfar-loss.json --markdown bench/results/DATE-....md
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

C = 299792458.0
FS = 20.0e6
BIN_M = C / (2 * FS)
PFA = 1e-6
SNRS = [-30.0 + 0.75 * i for i in range(15)]  # per-sample single-pulse SNR, dB

MODE = """radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: 20.0e6
  pri_s: 100.0e-6
  range_gates: 600
  waveform: {{type: lfm, pulse_width_s: 10.0e-6, bandwidth_hz: 15.0e6}}
processing:
  pulses: 64
  range_window: {{type: hamming}}
  doppler_window: {{type: hann}}
  doppler_fft_size: 64
  fft_planning: estimate
  fft_wisdom: none
  cfar:
    type: {cfar}
    threshold: {threshold}
    guard_cells: {{range: 2, doppler: 2}}
    training_cells: {{range: 8, doppler: 4}}
    pfa: {pfa}
backend: cpu
"""


def scenario(seed):
    lines = ["seed: %d" % seed, "targets:"]
    for i, snr in enumerate(SNRS):
        # Range bins 20, 46, ...: 26 apart, beyond each other's CFAR windows (+-10 bins), all in
        # the full-gain bins (< 401); zero range rate, so every CPI puts it at the same cells.
        lines.append("  - {name: 'snr%+.2f', range_m: %.6f, range_rate_mps: 0, snr_db: %.2f, "
                     "swerling: 0}" % (snr, (20 + 26 * i) * BIN_M, snr))
    return "\n".join(lines) + "\n"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout


def ideal_pd(snr_db, pfa):
    """Pd of the known-noise square-law detector, one pulse of a steady target (Swerling 0):
    Marcum Q1(sqrt(2 S), sqrt(2 T)), T = -ln Pfa, by integrating the Rician density."""
    a = math.sqrt(2 * 10 ** (snr_db / 10))
    b = math.sqrt(-2 * math.log(pfa))
    x = np.linspace(b, b + a + 40, 200001)
    # x exp(-(x^2 + a^2)/2) I0(a x), with I0 scaled: i0e(z) = exp(-z) I0(z)
    log_i0 = np.log(_i0e(a * x)) + a * x
    f = x * np.exp(-(x ** 2 + a ** 2) / 2 + log_i0)
    return float(np.trapezoid(f, x))


def _i0e(z):
    # exp(-z) I0(z) for z >= 0, from numpy's i0 where it is finite, else its asymptotic series.
    out = np.empty_like(z)
    small = z < 700
    out[small] = np.i0(z[small]) * np.exp(-z[small])
    big = ~small
    zb = z[big]
    out[big] = (1 + 1 / (8 * zb) + 9 / (128 * zb ** 2)) / np.sqrt(2 * np.pi * zb)
    return out


def snr_at(pd_curve, target):
    """Linear interpolation of the SNR where Pd crosses target, from (snr, pd) points."""
    pts = sorted(pd_curve)
    for (s0, p0), (s1, p1) in zip(pts, pts[1:]):
        if p0 < target <= p1:
            return s0 + (target - p0) / (p1 - p0) * (s1 - s0)
    return None


def ideal_snr_at(target, pfa):
    lo, hi = 0.0, 25.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if ideal_pd(mid, pfa) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--radarpipe", default="build/pipeline/radarpipe")
    ap.add_argument("--cpis", type=int, default=400)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    rp = os.path.abspath(args.radarpipe)
    results = {"what": "SNR for Pd 0.5 and 0.9 at design Pfa 1e-6, calibrated vs textbook",
               "mode": "600 gates x 64 pulses, LFM 15 MHz 10 us at 20 MHz, hamming/hann, guard "
                       "2/2, training 8/4, steady targets at bin centres",
               "cpis": args.cpis, "pfa": PFA,
               "ideal_snr_db": {"0.5": ideal_snr_at(0.5, PFA), "0.9": ideal_snr_at(0.9, PFA)},
               "rows": []}
    with tempfile.TemporaryDirectory() as d:
        base_mode = os.path.join(d, "base.yaml")
        with open(base_mode, "w") as f:
            f.write(MODE.format(cfar="ca", threshold="calibrated", pfa=PFA))
        with open(os.path.join(d, "scene.yaml"), "w") as f:
            f.write(scenario(7))
        rec = os.path.join(d, "rec")
        run([rp, "simulate", "--mode", base_mode, "--scenario", os.path.join(d, "scene.yaml"),
             "--cpis", str(args.cpis), "--datatype", "cf32_le", "-o", rec])
        truth = json.load(open(rec + ".truth.json"))
        expected = {}
        for cpi in truth["cpis"]:
            for t in cpi["targets"]:
                expected.setdefault(t["name"], []).append(t["expected_snr_db"])
        for cfar in ("ca", "go", "so", "os"):
            for threshold in ("calibrated", "textbook"):
                mode = os.path.join(d, "%s-%s.yaml" % (cfar, threshold))
                with open(mode, "w") as f:
                    f.write(MODE.format(cfar=cfar, threshold=threshold, pfa=PFA))
                dets = os.path.join(d, "dets.jsonl")
                run([rp, "process", "-i", rec + ".sigmf-meta", "--mode", mode, "-o", dets])
                score = json.loads(run([rp, "score", dets, rec + ".truth.json", "--json"]))
                curve = [(float(np.mean(expected[t["name"]])), t["pd"]) for t in score["targets"]]
                row = {"cfar": cfar, "threshold": threshold,
                       "false_alarms_per_cpi": score["false_alarms_per_cpi"],
                       "cells": score["cells"], "false_alarms": score["false_alarms"],
                       "snr_db_pd50": snr_at(curve, 0.5), "snr_db_pd90": snr_at(curve, 0.9),
                       "curve": sorted(curve)}
                results["rows"].append(row)
                print("%s %-10s Pd0.5 %.2f dB, Pd0.9 %.2f dB, false alarms %d" %
                      (cfar, threshold, row["snr_db_pd50"] or float("nan"),
                       row["snr_db_pd90"] or float("nan"), row["false_alarms"]), file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    ideal = results["ideal_snr_db"]
    md = ["| CFAR | threshold | SNR for Pd 0.5 (dB) | CFAR loss | SNR for Pd 0.9 (dB) | CFAR loss "
          "| false alarms per CPI (design %.3g) |" % (PFA * 64 * 600),
          "|---|---|---:|---:|---:|---:|---:|"]
    for r in results["rows"]:
        f50, f90 = r["snr_db_pd50"], r["snr_db_pd90"]
        md.append("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.3f |" % (
            r["cfar"].upper(), r["threshold"], f50, f50 - ideal["0.5"], f90, f90 - ideal["0.9"],
            r["false_alarms_per_cpi"]))
    md.append("")
    md.append("Ideal (noise power known) at Pfa 1e-6: %.2f dB for Pd 0.5, %.2f dB for Pd 0.9 "
              "(Swerling 0). Post-processing SNR at the target's cell; %d CPIs, 15 targets "
              "0.75 dB apart." % (ideal["0.5"], ideal["0.9"], args.cpis))
    text = "\n".join(md) + "\n"
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
