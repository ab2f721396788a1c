#!/usr/bin/env python3
"""Turns radarpipe_bench JSON (Google Benchmark, with repetitions) into a Markdown table:
median time, samples/s and bytes/s per benchmark, and the chain / FFT-floor ratio per mode."""
import argparse
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--commit", default="?")
    a = ap.parse_args()
    with open(a.json) as f:
        data = json.load(f)
    ctx = data["context"]
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = re.sub(r"(/real_time)?(_median)?$", "", b["run_name"] if "run_name" in b else b["name"])
        rows[name] = b
    print(f"# radarpipe CPU benchmarks, {ctx.get('date', '?')[:10]}\n")
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"- machine: {model} ({ctx.get('host_name', '?')}), {ctx.get('num_cpus', '?')} CPUs at "
          f"{ctx.get('mhz_per_cpu', '?')} MHz, caches "
          + ", ".join(f"L{c['level']} {c['size'] // 1024} KiB" for c in ctx.get("caches", []) if c["type"] != "Instruction"))
    print(f"- commit: {a.commit}; medians of {data['benchmarks'][0].get('repetitions', 1)} repetitions; "
          "times are wall-clock (the chain uses every core)\n")
    print("| benchmark | case | median ms | M samples/s | GB/s |")
    print("|---|---|---:|---:|---:|")
    for name, b in rows.items():
        ms = b["real_time"] if b.get("time_unit") == "ms" else b["real_time"] / 1e6
        print(f"| {name} | {b.get('label', '')} | {ms:.3f} | {b.get('samples_per_s', 0) / 1e6:.1f} | "
              f"{b.get('bytes_per_s', 0) / 1e9:.2f} |")
    # The ratio from BM_ChainOverFloor (chain and floor alternated CPI by CPI, so both see the
    # same machine); BM_Chain / BM_ChainFftFloor (separate runs) only when it is missing.
    print("\n| mode | chain ms | FFT floor ms | chain / floor | chain vs real time |")
    print("|---|---:|---:|---:|---:|")
    for i, mode in enumerate(["bench-small", "bench-matx"]):
        c, f = rows.get(f"BM_Chain/{i}"), rows.get(f"BM_ChainFftFloor/{i}")
        o = rows.get(f"BM_ChainOverFloor/{i}/manual_time")
        rt = c.get("realtime_factor", 0) if c else 0
        if o:
            cpi_ms = rt * c["real_time"] if c else 0  # the CPI's duration, from BM_Chain
            print(f"| {mode} | {o['real_time']:.2f} | {o['floor_ms']:.2f} | "
                  f"{o['chain_over_floor']:.2f}x | {cpi_ms / o['real_time']:.2f}x |")
        elif c and f:
            print(f"| {mode} | {c['real_time']:.2f} | {f['real_time']:.2f} | "
                  f"{c['real_time'] / f['real_time']:.2f}x | {rt:.2f}x |")

if __name__ == "__main__":
    main()
