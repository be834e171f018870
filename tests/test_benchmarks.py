"""Each benchmark runs (with --quick) and its checks pass; the engine's speed shortcuts keep behaviour."""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_es as tg

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


# ---- the shortcuts: a leaf's first gradient is kept without a copy only when nothing else sees it
class Double(tg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_fresh_gradient_array_becomes_grad_without_copy():
    returned = []

    class Spy(Double):
        @staticmethod
        def backward(ctx, grad):
            g = grad * 2
            returned.append(id(g))  # the id only: no reference kept
            return g

    x = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    Spy.apply(x).sum().backward()
    assert id(x.grad.data) == returned[0]
    np.testing.assert_array_equal(x.grad.data, [2, 2, 2])


def test_gradient_array_held_elsewhere_is_copied():
    kept = []

    class Keeper(Double):
        @staticmethod
        def backward(ctx, grad):
            kept.append(grad * 2)
            return kept[-1]

    x = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    Keeper.apply(x).sum().backward()
    assert x.grad.data is not kept[0]
    x.grad.data += 1
    np.testing.assert_array_equal(kept[0], [2, 2, 2])


def test_one_gradient_array_for_two_leaves_gives_each_its_own():
    a = tg.Tensor(np.ones(3), requires_grad=True)
    b = tg.Tensor(np.ones(3), requires_grad=True)
    seed = np.arange(3.0)
    (a + b).backward(seed)  # Add hands the same array to both inputs
    a.grad.data += 10
    np.testing.assert_array_equal(b.grad.data, [0, 1, 2])
    np.testing.assert_array_equal(seed, [0, 1, 2])


def test_broadcast_view_gradient_is_copied_and_accumulates():
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # Sum's backward is a read-only broadcast view
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_backward_order_handles_shared_subgraphs():
    # y = (a*b) used by two consumers, then combined: every node waits for all its consumers
    a = tg.Tensor(np.array([2.0]), requires_grad=True)
    b = tg.Tensor(np.array([3.0]), requires_grad=True)
    y = a * b
    z = (y * y + y).sum()  # dz/dy = 2y + 1 = 13
    z.backward()
    np.testing.assert_allclose(a.grad.data, [13 * 3.0])
    np.testing.assert_allclose(b.grad.data, [13 * 2.0])


# ---- every benchmark script runs with --quick -----------------------------------------------------
def _run_quick(name):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        module = importlib.import_module(name)
        return module.main(["--quick"])
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("name", ["mlp_digits", "large_mlp", "op_overhead", "deep_chain", "memory"])
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
    rows = [harness.ratio_row("b", "slow", 1.5, 1.3), harness.ratio_row("b", "fast", 4.0, 3.0, at_most=False),
            harness.row("b", "plain", 2.0, "ms")]  # fmt: skip
    assert [r["ok"] for r in rows] == [False, True, None]
    table = harness.format_table(rows, markdown=True).splitlines()
    assert table[0] == "| benchmark | measure | value | target | ok |"
    assert table[2:] == [
        "| b | slow | 1.5 x | <= 1.3x | NO |",
        "| b | fast | 4 x | >= 3x | yes |",
        "| b | plain | 2 ms |  |  |",
    ]
