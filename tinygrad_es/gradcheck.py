"""Finite-difference checks of backward (gradcheck) and of backward's own backward (gradgradcheck):
the tests every op passes, and yours can too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd
from .engine import Tensor, enable_grad, no_grad


class GradcheckError(RuntimeError):
    """The analytic and the numeric Jacobian disagree."""


def _outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare backward's Jacobian of `fn(*inputs)` with central differences.

    `inputs` is a tensor or a tuple of them (other values pass through); the ones that require
    grad are checked and must be float64, where central differences are accurate. `fn` returns
    a tensor, scalar or not, or a tuple of tensors. Element j of input i passes where
    |analytic - numeric| <= atol + rtol * |numeric|, numeric = (f(x + eps) - f(x - eps)) / (2 eps).
    Returns True, or on the first mismatch raises GradcheckError naming the output, the input,
    the element and both values (returns False with raise_exception=False).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; central differences need float64 "
                "(create it with dtype=np.float64 or call .double())"
            )
    # Fresh leaves: the caller's tensors and their .grad stay untouched, non-leaves work too.
    inputs = tuple(Tensor(x.data.copy(), requires_grad=True) if i in checked else x for i, x in enumerate(inputs))
    outputs = _outputs(fn(*inputs))
    for k, out in enumerate(outputs):
        analytic = _analytic_jacobians(out, inputs, checked)
        numeric = _numeric_jacobians(fn, k, out.size, inputs, checked, eps)
        for i, a, n in zip(checked, analytic, numeric):
            bad = np.abs(a - n) > atol + rtol * np.abs(n)
            if bad.any():
                out_element, in_element = np.argwhere(bad)[0]
                message = (
                    f"Jacobian mismatch for output {k} with respect to input {i}: "
                    f"d out[{_index(out.shape, out_element)}] / d in[{_index(inputs[i].shape, in_element)}] "
                    f"is {a[out_element, in_element]:.8g} by backward, {n[out_element, in_element]:.8g} numerically\n"
                    f"analytic Jacobian:\n{a}\nnumeric Jacobian:\n{n}"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def _index(shape, flat):
    return ", ".join(map(str, np.unravel_index(flat, shape))) if shape else ""


def _analytic_jacobians(out, inputs, checked):
    """One backward per output element; row r of input i's Jacobian is d out[r] / d input i."""
    jacobians = [np.zeros((out.size, inputs[i].size)) for i in checked]
    if not out.requires_grad:  # the output does not depend on any checked input
        return jacobians
    for r in range(out.size):
        for i in checked:
            inputs[i].grad = None
        seed = np.zeros(out.size, out.dtype)
        seed[r] = 1
        out.backward(seed.reshape(out.shape), retain_graph=True)
        for jac, i in zip(jacobians, checked):
            if inputs[i].grad is not None:
                jac[r] = inputs[i].grad.data.ravel()
    return jacobians


@no_grad()
def _numeric_jacobians(fn, k, out_size, inputs, checked, eps):
    jacobians = []
    for i in checked:
        x = inputs[i].data  # perturbed in place (our own copy), restored after each element
        columns = []
        for j in range(x.size):
            original = x.flat[j]
            x.flat[j] = original + eps
            plus = np.array(_outputs(fn(*inputs))[k].data, np.float64)
            x.flat[j] = original - eps
            minus = np.array(_outputs(fn(*inputs))[k].data, np.float64)
            x.flat[j] = original
            columns.append(((plus - minus) / (2 * eps)).ravel())
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((out_size, 0)))
    return jacobians


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """gradcheck of backward itself, as torch.autograd.gradgradcheck: the function checked maps the
    inputs and the upstream gradients `grad_outputs` to the gradients of the inputs (backward with
    create_graph=True), so its Jacobian holds the second derivatives of `fn`, and the derivatives
    with respect to the upstream gradients (a backward is linear in them).

    `grad_outputs` holds one gradient per output of `fn`; those that require grad are checked too.
    When not given they are drawn at random (seeded, so a failure repeats), float64, requiring
    grad: a uniform upstream gradient such as ones would hide some mistakes. The tolerances and
    the outcome are gradcheck's; "output i" in a mismatch is the gradient of the i-th checked input.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input requires grad, so there is nothing to check")
    with no_grad():
        outputs = _outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.standard_normal(out.shape), requires_grad=True) for out in outputs)
    upstream = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
    if len(upstream) != len(outputs):
        raise ValueError(
            f"gradgradcheck: fn gives {len(outputs)} outputs but {len(upstream)} grad_outputs; "
            "pass one gradient per output"
        )
    n = len(inputs)

    def gradients(*args):
        """The gradients of fn's checked inputs for upstream gradients args[n:], recorded."""
        with enable_grad():  # gradcheck's finite differences run under no_grad
            pairs = [(out, g) for out, g in zip(_outputs(fn(*args[:n])), args[n:]) if out.requires_grad]
            if not pairs:  # no output depends on a checked input: no gradients to check
                return ()
            grads = autograd.grad(
                [out for out, _ in pairs],
                [args[i] for i in checked],
                [g for _, g in pairs],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(g for g in grads if g is not None)

    return gradcheck(gradients, inputs + upstream, eps, atol, rtol, raise_exception)
