"""Shared helpers for the peer-runtime benchmarks (Benchmarks/peers.sh).

Standard library only, so every venv (.venv-lce, .venv-ort) can import it: the scripts sit next to
this file and Python puts a script's directory on sys.path.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time


def parse_args(description, extra=None):
    """Common command line: --quick (short samples, fewer runs) and --out FILE (JSON lines, appended)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short samples, for a smoke test (< 1 minute in all)")
    parser.add_argument("--out", help="append the JSON records to this file as well as printing them")
    if extra:
        extra(parser)
    return parser.parse_args()


def timing_plan(quick):
    """(seconds per sample, samples, warm-up seconds). A sample repeats the call for about
    `seconds per sample` and divides; best and median are taken over the samples."""
    return (0.1, 3, 0.1) if quick else (0.5, 5, 0.5)


def time_call(fn, quick):
    """Times `fn()`; returns {"ms_best", "ms_median", "samples", "calls_per_sample"} in milliseconds per call.

    Warm-up first (for at least the warm-up time and 3 calls), which also estimates the cost of one
    call, so each sample can run a fixed number of calls lasting about `seconds per sample`.
    """
    seconds, samples, warmup = timing_plan(quick)
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < warmup:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    repeat = max(1, int(seconds / per_call))
    per_sample = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        per_sample.append((time.perf_counter() - t0) / repeat)
    return {
        "ms_best": round(min(per_sample) * 1e3, 4),
        "ms_median": round(statistics.median(per_sample) * 1e3, 4),
        "samples": samples,
        "calls_per_sample": repeat,
    }


def cpu_model():
    """The 'model name' line of /proc/cpuinfo (what the VM reports), or platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info():
    """Context recorded with every run: CPU, core count, load average, Python."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpu": cpu_model(), "cpus": os.cpu_count(), "loadavg": load, "python": platform.python_version()}


class Recorder:
    """Prints one JSON object per line to stdout and appends it to --out when given."""

    def __init__(self, out_path, common):
        self.out_path = out_path
        self.common = common  # fields added to every record (versions, machine)

    def emit(self, record):
        full = {**record, **self.common}
        line = json.dumps(full, sort_keys=False)
        print(line, flush=True)
        if self.out_path:
            with open(self.out_path, "a") as f:
                f.write(line + "\n")


def log(*args):
    """Progress messages go to stderr so stdout stays pure JSON lines."""
    print(*args, file=sys.stderr, flush=True)
