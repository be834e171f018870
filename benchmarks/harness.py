"""Shared pieces of the benchmarks: BLAS pinned to one thread, timing, result rows, the table.

Import this before NumPy: the thread counts are read from the environment when BLAS loads.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

BLAS_THREADS = 1
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_name] = str(BLAS_THREADS)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the work tree's tinygrad_es

import numpy as np  # noqa: E402  (after the environment is set)

try:  # belt and braces: also limits a BLAS that ignores the environment
    from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

    threadpool_limits(BLAS_THREADS)
except ImportError:
    threadpool_info = None


def import_torch():
    """torch, pinned to one thread like BLAS, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(BLAS_THREADS)
    return torch


def blas_description():
    """e.g. 'openblas 0.3.29, 1 thread'."""
    if threadpool_info is None:
        return f"BLAS threads from environment: {os.environ['OPENBLAS_NUM_THREADS']}"
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return "; ".join(f"{p['internal_api']} {p['version']}, {p['num_threads']} thread(s)" for p in pools) or "unknown"


def median_time(fn, repeats, warmup=1, clock=time.perf_counter):
    """Median time of `fn()` in seconds over `repeats` runs, after `warmup` untimed runs: wall time, or
    another `clock` (time.process_time: the process's CPU time)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def row(benchmark, measure, value, unit, target="", ok=None):
    """One line of the result table; `ok` is None when the line has no target."""
    return {"benchmark": benchmark, "measure": measure, "value": value, "unit": unit, "target": target, "ok": ok}


def ratio_row(benchmark, measure, value, limit, at_most=True):
    """A ratio with its target: `value <= limit` (or `>=` when at_most is False)."""
    ok = value <= limit if at_most else value >= limit
    return row(benchmark, measure, value, "x", f"{'<=' if at_most else '>='} {limit:g}x", ok)


def format_table(rows, markdown=False):
    header = ("benchmark", "measure", "value", "target", "ok")
    lines = [header]
    for r in rows:
        value = f"{r['value']:.4g} {r['unit']}".rstrip()
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        lines.append((r["benchmark"], r["measure"], value, r["target"], ok))
    if markdown:
        text = ["| " + " | ".join(line) + " |" for line in lines]
        text.insert(1, "|" + "---|" * len(header))
        return "\n".join(text)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(text)


def machine_description():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    torch = import_torch()
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}; BLAS: {blas_description()}"
    )


def parse_args(description, argv=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1-2 repeats: checks that it runs")
    parser.add_argument("--json", metavar="FILE", help="also write the result rows to FILE")
    return parser.parse_args(argv)


def report(rows, args):
    """Print the rows as a table (and write them as JSON when asked); returns them."""
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f)
    return rows


def interleaved_medians(runs, repeats, warmup=1):
    """Median seconds of each `runs[name]()`, the runs taking turns so that a noisy moment of the
    machine falls on all of them alike. Every run is called warmup + repeats times."""
    return interleaved_times(runs, repeats, warmup)[0]


def interleaved_times(runs, repeats, warmup=1):
    """(wall, cpu): median wall seconds and median CPU seconds of the process (time.process_time) of
    each run, taking turns as in interleaved_medians. On a machine whose cores other jobs share, the
    CPU time leaves out the waits for a core, which fall unevenly on short and long runs."""
    for _ in range(warmup):
        for fn in runs.values():
            fn()
    wall, cpu = {name: [] for name in runs}, {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return (
        {name: statistics.median(t) for name, t in wall.items()},
        {name: statistics.median(t) for name, t in cpu.items()},
    )
