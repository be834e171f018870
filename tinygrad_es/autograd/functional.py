"""Derivatives of a whole function, as torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp
and vhp, with PyTorch's signatures and return structures.

`func` takes the tensors of `inputs` (one tensor, or a tuple of them) and returns a tensor or a tuple
of tensors. The results are shaped as in PyTorch: a tensor for a tensor, a tuple for a tuple (a
Jacobian of one output and one input is a tensor of shape output.shape + input.shape; of several, a
tuple per output of tuples per input; typed Any, since which it is depends on the arguments).
Everything is reverse mode, on the engine's `grad`:

- vjp: one backward.
- jvp: the double-vjp trick. The vjp u -> J^T u is linear in u, so differentiating it with respect
  to u (at u = 0, recorded with create_graph) and pulling v back through it gives (J^T)^T v = J v.
- jacobian: one backward per output element; hessian: the jacobian of the gradient.
- hvp, vhp: the jvp and the vjp of the gradient, H v and v^T H (equal, the Hessian being symmetric
  where the second derivatives are continuous).

Without `create_graph` the results are cut from the graph (as PyTorch detaches them); with it they
can be differentiated again, also with respect to inputs that required grad. An output that does not
depend on an input gives zeros, or with `strict=True` an error. `vectorize` and the `strategy`
options are accepted for PyTorch's sake and change nothing: every path here is reverse mode, one
backward per row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Tensor, enable_grad
from ..ops import reshape, stack
from . import grad as _grad

Tensors = Tensor | tuple[Tensor, ...]  # one tensor, or a tuple of them


def vjp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """(func(*inputs), v^T J): the vector-Jacobian product, one gradient per input. `v` has the
    outputs' shapes; it may be None only for a single output of one element."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _differentiable(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        v = _vectors(v, outputs, "vjp", "user-provided function returns a single Tensor with a single element")
        result = _gradients(outputs, inputs, v, create_graph, strict, "vjp")
    return _post(outputs, is_outputs_tuple, create_graph), _post(result, is_inputs_tuple, create_graph)


def jvp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """(func(*inputs), J v): the Jacobian-vector product, one per output, by the double-vjp trick.
    `v` has the inputs' shapes; it may be None only for a single input of one element."""
    with enable_grad():
        _, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _differentiable(inputs, create_graph)
        v = _vectors(v, inputs, "jvp", "input to the user-provided function is a single Tensor with a single element")
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        result = _jvp(outputs, inputs, v, create_graph, strict)
    return _post(outputs, is_outputs_tuple, create_graph), _post(result, is_outputs_tuple, create_graph)


def jacobian(
    func: Callable[..., Any],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """d func(*inputs) / d inputs: for each output and input a tensor of shape
    output.shape + input.shape, nested as the outputs and the inputs are (tensor or tuple)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _differentiable(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        rows = [_jacobian(out, inputs, create_graph, strict, k) for k, out in enumerate(outputs)]
    rows = [_post(row, is_inputs_tuple, create_graph) for row in rows]
    return tuple(rows) if is_outputs_tuple else rows[0]


def hessian(
    func: Callable[..., Any],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The second derivatives of a function with one output of one element: for inputs i and j a
    tensor of shape input_i.shape + input_j.shape, nested as the inputs are (tensor or tuple)."""
    gradient = _GradientOf(func, "hessian", strict)
    is_inputs_tuple, _ = _as_tuple(inputs, "inputs", "hessian")
    result = jacobian(gradient, inputs, create_graph, strict, vectorize, outer_jacobian_strategy)
    return result if is_inputs_tuple else result[0]


def hvp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensor, Any]:
    """(func(*inputs), H v) for a function with one output of one element: the jvp of its gradient."""
    gradient = _GradientOf(func, "hvp", strict)
    _, result = jvp(gradient, inputs, v, create_graph, strict)  # one per gradient: a tuple
    return gradient.output(create_graph), result if isinstance(inputs, tuple) else result[0]


def vhp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensor, Any]:
    """(func(*inputs), v^T H) for a function with one output of one element: the vjp of its gradient."""
    gradient = _GradientOf(func, "vhp", strict)
    _, result = vjp(gradient, inputs, v, create_graph, strict)
    return gradient.output(create_graph), result


class _GradientOf:
    """The gradient of `func` as a function of its inputs, recorded (so it can be differentiated);
    keeps func's output for hvp and vhp to return. `func` must give one tensor of one element."""

    def __init__(self, func, name, strict):
        self.func, self.name, self.strict, self.out = func, name, strict, None

    def __call__(self, *inputs):
        out = self.func(*inputs)
        if not isinstance(out, Tensor):
            raise RuntimeError(f"The function given to {self.name} should return a single Tensor")
        if out.size != 1:
            raise RuntimeError(
                f"The Tensor returned by the function given to {self.name} should contain a single element"
            )
        self.out = out = out.reshape(())
        return _gradients((out,), inputs, (None,), True, self.strict, self.name)

    def output(self, create_graph):
        return self.out if create_graph else self.out.detach()


# ---- the pieces -----------------------------------------------------------------------------------
def _as_tuple(x, what, name):
    """(whether x was a tuple, x as a tuple of tensors)."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(
                f"The {what} given to {name} must be either a Tensor or a tuple of Tensors but the "
                f"given {what} has type {type(item if is_tuple else x).__name__}."
            )
    return is_tuple, items


def _differentiable(inputs, create_graph):
    """The inputs as tensors to differentiate with respect to: under create_graph an input that
    requires grad stays in its graph (through a reshape to its own shape), so the results can be
    differentiated with respect to it; otherwise a new leaf on the same memory."""
    return tuple(
        reshape(x, x.shape) if create_graph and x.requires_grad else Tensor(x.data, requires_grad=True) for x in inputs
    )


def _vectors(v, tensors, name, when_none):
    """v as a tuple matching `tensors` in number and shapes; None means 1 for one tensor of one element."""
    if v is None:
        if len(tensors) != 1 or tensors[0].size != 1:
            raise RuntimeError(f"The vector v can only be None if the {when_none}.")
        return (Tensor._make(np.ones(tensors[0].shape, tensors[0].dtype), False, None),)
    _, v = _as_tuple(v, "v", name)
    if len(v) != len(tensors):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(tensors)} but got {len(v)}.")
    for i, (a, t) in enumerate(zip(v, tensors)):
        if a.shape != t.shape:
            raise RuntimeError(
                f"Mismatch in shape: v[{i}] has a shape of {a.shape} and the matching tensor has a shape of {t.shape}."
            )
    return v


def _gradients(outputs, inputs, grad_outputs, create_graph, strict, name):
    """The gradients of the inputs (zeros where one does not depend on them, or an error when strict)."""
    used = [(out, g) for out, g in zip(outputs, grad_outputs) if out.requires_grad]
    found = (None,) * len(inputs)
    if used:
        found = _grad(
            [out for out, _ in used],
            inputs,
            [g for _, g in used],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    return tuple(_zeros_unless(g, x, strict, i, name) for i, (g, x) in enumerate(zip(found, inputs)))


def _zeros_unless(g, x, strict, i, name):
    if g is not None:
        return g
    if strict:
        raise RuntimeError(
            f"The output of the user-provided function is independent of input {i}. This is not "
            f"allowed in strict mode ({name})."
        )
    return Tensor._make(np.zeros(x.shape, x.dtype), False, None)


def _jvp(outputs, inputs, v, create_graph, strict):
    """J v by the double-vjp trick: g(u) = J^T u, recorded at u = 0, pulled back along v."""
    u = tuple(Tensor._make(np.zeros(out.shape, out.dtype), True, None) for out in outputs)
    pullback = [(g, w) for g, w in zip(_gradients(outputs, inputs, u, True, strict, "jvp"), v) if g.requires_grad]
    found = (None,) * len(outputs)
    if pullback:
        found = _grad(
            [g for g, _ in pullback],
            u,
            [w for _, w in pullback],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    return tuple(_zeros_unless(g, out, False, i, "jvp") for i, (g, out) in enumerate(zip(found, outputs)))


def _jacobian(out, inputs, create_graph, strict, k):
    """The rows of d out / d inputs, one backward per element of out, as one tensor per input."""
    if strict and not out.requires_grad:
        raise RuntimeError(
            f"Output {k} of the user-provided function does not require gradients. The outputs must "
            "be computed in a differentiable manner from the input when running in strict mode."
        )
    rows = []
    for r in range(out.size):
        seed = np.zeros(out.size, out.dtype)
        seed[r] = 1
        rows.append(_gradients((out,), inputs, (seed.reshape(out.shape),), create_graph, strict, "jacobian"))
    return tuple(_stacked([row[j] for row in rows], out.shape, x, create_graph) for j, x in enumerate(inputs))


def _stacked(rows, out_shape, x, create_graph):
    if not rows:  # an output without elements
        return Tensor._make(np.zeros(out_shape + x.shape, x.dtype), False, None)
    if create_graph:
        return stack(rows).reshape(out_shape + x.shape)
    return Tensor._make(np.stack([row.data for row in rows]).reshape(out_shape + x.shape), False, None)


def _post(results, is_tuple, create_graph):
    """Cut from the graph unless create_graph; a tuple only if the caller gave one."""
    if not create_graph:
        results = tuple(r.detach() for r in results)
    return tuple(results) if is_tuple else results[0]
