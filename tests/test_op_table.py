"""The op table in README.md says what the code does: every call in it runs and has the gradient
the table states, and every public Tensor method, tg. function and F. function is in it. Every
function that takes `axis=` also takes PyTorch's `dim=`."""

import __future__

import inspect
import math
import re
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import functional as F

README = Path(__file__).resolve().parent.parent / "README.md"
# Names of tg. that are the engine and its tools (described elsewhere in the README), not ops
NOT_OPS = {
    "Function",
    "Tensor",
    "OpError",
    "GradcheckError",
    "AnomalyError",
    "CaptureError",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "gradcheck",
    "gradgradcheck",
    "explain",
    "compile",
    "save",
    "load",
    "manual_seed",
    "default_generator",
    "unbroadcast",
    "np",
    "float16",
    "float32",
    "float64",
    "half",
    "float",
    "double",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "int",
    "long",
    "bool",
}


def table_rows():
    """(calls, PyTorch's names, gradient) for each row of the op table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| tinygrad_es | PyTorch | gradient |") :]
    table = table[: table.index("\n\n")]
    rows = []
    for line in table.splitlines()[2:]:
        ours, _, gradient = (cell.strip() for cell in line.strip("|").split("|"))
        if ours.startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", ours), gradient))
    return rows


ROWS = table_rows()
CALLS = [(call, gradient) for calls, gradient in ROWS for call in calls]


def namespace():
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return tg.Tensor(rng.uniform(0.1, 0.9, shape), requires_grad=True)

    return {
        "tg": tg,
        "F": F,
        "np": np,
        "math": math,
        "x": leaf(2, 3),
        "y": leaf(2, 3),
        "m": leaf(3, 3),
        "v": leaf(3),
        "w": leaf(3),
        "b": leaf(2, 3, 3),
        "i": tg.tensor([[0, 2, 1], [1, 0, 0]]),
        "k": tg.tensor([0, 2]),
        "mask": tg.tensor([[True, False, True], [False, False, True]]),
        "z": tg.zeros(2, 3),
        "hook": lambda grad: None,
    }


@pytest.mark.parametrize("call, gradient", [c for c in CALLS if c[1] != "-"], ids=[c for c, g in CALLS if g != "-"])
def test_every_call_in_the_op_table_runs_with_the_gradient_it_states(call, gradient):
    tg.manual_seed(0)  # random ops (dropout, rand) draw the same numbers in any test order
    names = namespace()
    out = eval(call, names)  # noqa: S307  (the README's own examples)
    first = out[0] if isinstance(out, tuple) else out
    assert isinstance(first, tg.Tensor)
    if gradient == "in place":
        assert out is names["z"]
        return
    if gradient == "no":
        assert not first.requires_grad
        return
    assert first.requires_grad and first.dtype.kind == "f"
    leaves = [names[n] for n in ("x", "y", "m", "v", "w", "b")]
    upstream = np.random.default_rng(1).standard_normal(first.shape)
    grads = tg.autograd.grad(first, leaves, [upstream], allow_unused=True)
    found = [g.data for g in grads if g is not None]
    assert found, "no input received a gradient"
    if gradient == "0":
        assert all(not np.any(g) for g in found)
    else:
        assert gradient == "yes" and any(np.any(g) for g in found)


def _listed(prefix):
    return {name for call, _ in CALLS for name in re.findall(rf"(?<![\w.]){re.escape(prefix)}(\w+)", call)}


def _public(holder):
    # a module's names, without its imports (modules, classes, `from __future__ import annotations`)
    return {
        name
        for name, value in vars(holder).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, type, type(__future__.annotations)))
        and name not in NOT_OPS
    }


def test_every_public_tensor_method_and_function_is_in_the_table():
    methods = {name for name in dir(tg.Tensor) if not name.startswith("_")}
    assert methods - _listed("x.") - _listed("z.") - _listed("m.") - _listed("v.") - _listed("b.") == set()
    assert _public(tg) - _listed("tg.") == set()
    assert _public(F) - _listed("F.") == set()
    assert {"norm", "vector_norm", "matrix_norm"} <= _listed("tg.linalg.")


def test_every_name_in_the_table_exists():
    for prefix, holder in [("x.", tg.Tensor), ("tg.", tg), ("F.", F), ("tg.linalg.", tg.linalg)]:
        missing = {name for name in _listed(prefix) if not hasattr(holder, name)}
        assert not missing, (prefix, missing)


def _takes_axis(fn):
    try:
        return "axis" in inspect.signature(inspect.unwrap(fn)).parameters
    except (TypeError, ValueError):
        return False


def test_every_function_taking_axis_takes_dim_too():
    functions = [
        getattr(holder, name)
        for holder in (tg, F, tg.Tensor)
        for name in dir(holder)
        if not name.startswith("_") and callable(getattr(holder, name))
    ]
    with_axis = [fn for fn in functions if _takes_axis(fn)]
    assert len(with_axis) > 40
    assert [fn.__name__ for fn in with_axis if not hasattr(fn, "__wrapped__")] == []
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1) and tg.cat([x, x], dim=1).shape == (2, 6)
