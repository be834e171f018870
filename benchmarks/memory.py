"""Memory while training the digits model: peak RSS against the NumPy floor, and no growth over time.

Each measurement runs in a fresh Python process, so the peaks are separate. Both processes
import the same modules and load the same data; one trains with tinygrad_es, the other with the
hand-written NumPy network (see mlp_runs.py). RSS after 10,000 steps must equal RSS after 100:
every step's graph is freed.
"""

import json
import resource
import subprocess
import sys

import harness  # first: pins BLAS threads before NumPy loads
import mlp_runs

from tinygrad_es import data

PEAK_RATIO = 1.2  # training's own peak memory, tinygrad_es / NumPy
PEAK_SLACK_MB = 2.0  # ... plus this constant
GROWTH_SLACK_MB = 1.0


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb():
    """The process's peak RSS: VmHWM, which exec resets (ru_maxrss keeps the peak of the parent that
    forked this process: hundreds of MB when it holds PyTorch or JAX)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024  # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def train(framework, early, late):
    """Run in the child process: train for `early` steps, then up to `late`; report RSS."""
    x_train, y_train, *_ = data.train_val_test_split(*data.load_digits(), fractions=(0.6, 0.2, 0.2))
    run = mlp_runs.make_runs(
        (64, 32, 16, 10), "sigmoid", x_train, y_train, 32, 0.5, torch=False, compiled=framework == "compiled"
    )[framework]
    batches = run.parts
    before = rss_mb()

    def steps(n):  # an "epoch" over n batches, cycling through the data
        run.parts = [batches[i % len(batches)] for i in range(n)]
        run.epoch()

    steps(early)
    after_early = rss_mb()
    steps(late - early)
    programs = [p for ps in getattr(run.step, "programs", {}).values() for p in ps]
    print(
        json.dumps(
            {
                "before": before,
                "early": after_early,
                "late": rss_mb(),
                "peak": peak_rss_mb(),
                "buffers": sum(p.buffer_bytes for p in programs),
            }
        )
    )


def measure(framework, early, late):
    out = subprocess.run(
        [sys.executable, __file__, "--child", framework, str(early), str(late)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    early, late = (20, 200) if args.quick else (100, 10_000)
    result = {name: measure(name, early, late) for name in ("tinygrad_es", "numpy")}
    rows = []
    for name, r in result.items():
        rows.append(harness.row("memory", f"{name}: peak RSS (process)", r["peak"], "MB"))
        rows.append(harness.row("memory", f"{name}: peak RSS added by training", r["peak"] - r["before"], "MB"))
    tg, floor = (result[name]["peak"] - result[name]["before"] for name in ("tinygrad_es", "numpy"))
    limit = PEAK_RATIO * floor + PEAK_SLACK_MB
    rows.append(
        harness.row(
            "memory",
            "training peak: tinygrad_es vs NumPy floor",
            tg,
            "MB",
            f"<= {PEAK_RATIO:g} x {floor:.2f} + {PEAK_SLACK_MB:g} MB",
            tg <= limit,
        )
    )
    for name, r in result.items():
        growth = r["late"] - r["early"]
        rows.append(
            harness.row(
                "memory",
                f"{name}: RSS growth from step {early:,} to {late:,}",
                growth,
                "MB",
                f"<= {GROWTH_SLACK_MB:g} MB",
                growth <= GROWTH_SLACK_MB,
            )
        )
    return harness.report(rows, args)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        train(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
