"""Run every benchmark, each in its own process, and print one table.

    python benchmarks/run_all.py            # full sizes (a few minutes)
    python benchmarks/run_all.py --quick    # tiny sizes: checks that everything runs
    python benchmarks/run_all.py --markdown # the table as Markdown, for benchmarks/README.md

A new benchmark is a script in this folder with `main(argv)` accepting --quick and --json FILE
(see harness.parse_args and harness.report); add its name to SCRIPTS.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import harness

SCRIPTS = [
    "mlp_digits",
    "large_mlp",
    "op_overhead",
    "deep_chain",
    "memory",
    "diagnostics_overhead",
    "compiled_step",
    "cnn_digits",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1-2 repeats")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    rows, failed = [], []
    for name in args.only or SCRIPTS:
        with tempfile.TemporaryDirectory() as tmp:
            result = os.path.join(tmp, "rows.json")
            command = [sys.executable, os.path.join(here, f"{name}.py"), "--json", result] + ["--quick"] * args.quick
            print(f"== {name}", flush=True)
            if subprocess.run(command, check=False).returncode != 0:
                failed.append(name)
                continue
            with open(result) as f:
                rows += json.load(f)
    print(f"\nMachine: {harness.machine_description()}\n")
    print(harness.format_table(rows, markdown=args.markdown))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return rows, failed


if __name__ == "__main__":
    sys.exit(1 if main()[1] else 0)
