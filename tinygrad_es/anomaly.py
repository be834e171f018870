"""Anomaly detection: stop at the first op whose result or gradient holds NaN or inf.

    with tg.detect_anomaly():
        loss = model(x).log().mean()   # raises AnomalyError at the first op that makes a NaN/inf,
        loss.backward()                # naming the op, its shapes and the line of your code that ran it

The mode installs this module's two checks on the engine (`engine.checks`); with it off, the
engine pays one test per op and nothing else.
"""

import os
import sys

import numpy as np

from . import engine

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError):
    """An op produced NaN or inf while anomaly detection was on."""


class detect_anomaly:
    """Context manager: check every forward result and every backward gradient for NaN/inf."""

    def __enter__(self):
        self._previous, engine.checks = engine.checks, sys.modules[__name__]
        return self

    def __exit__(self, *exc_info):
        engine.checks = self._previous


def is_anomaly_enabled():
    return engine.checks is not None


def check_forward(ctx, inputs, out):
    """Called by Function.apply in anomaly mode: remember where the op was called, and raise
    if its result is not finite."""
    ctx.called_at = _user_code_location()
    problem = _non_finite(out)
    if problem:
        arrays = [x.data for x in inputs if isinstance(x, engine.Tensor)]
        origin = "" if not any(_non_finite(a) for a in arrays) else " (an input already held NaN/inf)"
        raise AnomalyError(
            f"{engine._node_name(ctx)} produced {problem} in its output of shape {np.shape(out)}{origin}; "
            f"input shapes {_shapes(inputs)}; called at {ctx.called_at}"
        )


def check_backward(ctx, grad, input_grads):
    """Called by the backward loop in anomaly mode, before the gradients move on."""
    for i, g in enumerate(input_grads):
        problem = g is not None and _non_finite(g)
        if problem:
            where = getattr(ctx, "called_at", "an unknown place (the op ran before detect_anomaly was on)")
            raise AnomalyError(
                f"{engine._node_name(ctx)} backward produced {problem} in the gradient of input {i} "
                f"(shape {np.shape(g)}) "
                f"from an output gradient of shape {np.shape(grad)}; input shapes {_shapes(ctx.inputs)}; "
                f"the op was called at {where}"
            )


def _non_finite(array):
    """'nan', 'inf' or 'nan and inf' when a float array holds them, else ''."""
    if np.asarray(array).dtype.kind not in "fc" or np.isfinite(array).all():
        return ""
    has_nan = bool(np.isnan(array).any())
    has_inf = bool(np.isinf(array).any())
    return " and ".join(name for name, present in (("NaN", has_nan), ("inf", has_inf)) if present)


def _shapes(inputs):
    return "(" + ", ".join(str(x.shape) if isinstance(x, engine.Tensor) else type(x).__name__ for x in inputs) + ")"


def _user_code_location():
    """file:line of the innermost stack frame outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return "<unknown>" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"
