"""What the Python tests of radarpipe's commands share (tests/interop, tests/service): a list of
failures checked as they come (every check runs, the script exits 1 at the end if any failed), a
wait for the line a process prints when it is ready (never a fixed sleep), and a simulated
recording. Import with tests/support on sys.path.
"""

import os
import re
import subprocess
import sys
import time

failures = []

# A small two-channel mode (32 pulses x 256 gates, 10 MS/s, planned with FFTW_ESTIMATE so runs
# agree bit for bit; the C++ tests' tests/support/stream_mode.hpp) and a one-target scene.
STREAM_MODE = """radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: 10.0e6
  pri_s: 50.0e-6
  range_gates: 256
  channels: 2
  waveform: {type: lfm, pulse_width_s: 2.0e-6, bandwidth_hz: 5.0e6, direction: up}
processing:
  pulses: 32
  doppler_fft_size: 32
  fft_planning: estimate
  cfar: {type: ca, guard_cells: {range: 2, doppler: 1}, training_cells: {range: 6, doppler: 3}, pfa: 1.0e-4}
"""
STREAM_SCENE = """start_time: 2026-11-21T12:00:00Z
seed: 5
targets:
  - {name: a, range_m: 900, range_rate_mps: 30, snr_db: 3}
"""


def check(ok, what):
    """Records a failure (and prints it) unless `ok`."""
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def finish(what):
    """Exits 1 after listing how many checks failed, else says all of `what` passed."""
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print(f"all {what} checks passed")


def wait_line(path, pattern, proc, timeout=60):
    """The first group of `pattern` once it appears in the file `path` (a process's stderr);
    raises if `proc` exits first or `timeout` seconds pass."""
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            m = re.search(pattern, f.read())
        if m:
            return m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path) as f:
        raise RuntimeError(f"no '{pattern}' in {path}:\n{f.read()}")


def simulate(radarpipe, folder, mode_text, scene_text, cpis, datatype="ci16_le"):
    """Writes mode.yaml and scene.yaml in `folder` and simulates `cpis` CPIs into rec."""
    for name, text in (("mode.yaml", mode_text), ("scene.yaml", scene_text)):
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
    subprocess.run([radarpipe, "simulate", "--mode", "mode.yaml", "--scenario", "scene.yaml",
                    "--cpis", str(cpis), "-o", "rec", "--datatype", datatype], cwd=folder,
                   check=True, stdout=subprocess.DEVNULL)
