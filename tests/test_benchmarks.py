"""Each benchmark runs (with --quick) and its checks pass."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


# ---- every benchmark script runs with --quick -----------------------------------------------------
def _run_quick(name):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        module = importlib.import_module(name)
        return module.main(["--quick"])
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize(
    "name", ["mlp_digits", "large_mlp", "op_overhead", "deep_chain", "memory", "compiled_step", "cnn_digits"]
)
def test_benchmark_runs_quick(name, capsys):
    rows = _run_quick(name)
    assert rows and all(isinstance(r["value"], float) and np.isfinite(r["value"]) for r in rows)
    assert name in capsys.readouterr().out


def test_table_marks_targets_met_and_missed():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        harness = importlib.import_module("harness")
    finally:
        sys.path.remove(str(BENCHMARKS))
    rows = [
        harness.ratio_row("b", "slow", 1.5, 1.3),
        harness.ratio_row("b", "fast", 4.0, 3.0, at_most=False),
        harness.row("b", "plain", 2.0, "ms"),
    ]
    assert [r["ok"] for r in rows] == [False, True, None]
    table = harness.format_table(rows, markdown=True).splitlines()
    assert table[0] == "| benchmark | measure | value | target | ok |"
    assert table[2:] == [
        "| b | slow | 1.5 x | <= 1.3x | NO |",
        "| b | fast | 4 x | >= 3x | yes |",
        "| b | plain | 2 ms |  |  |",
    ]
