"""Utilities on a model's parameters and gradients, as torch.nn.utils: clip_grad_norm_,
clip_grad_value_, parameters_to_vector, vector_to_parameters; and summary, a Keras-style table of
a model's layers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

import numpy as np
import numpy.typing as npt

from ..engine import OpError, Tensor, mark_written, no_grad
from ..ops import concatenate
from .module import Module


def _gradients(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients of `parameters` (a tensor or an iterable of them), in place and all by
    one factor, so that their total `norm_type`-norm (of all of them as one vector) is at most
    `max_norm`: factor = min(1, max_norm / (norm + 1e-6)), PyTorch's. Returns the norm before
    clipping, a 0-d tensor. A non-finite norm raises with error_if_nonfinite=True (gradients then
    stay as they were). `foreach` is accepted for PyTorch's signature and does nothing."""
    grads = _gradients(parameters)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    norm_type = float(norm_type)
    norms = np.array([np.linalg.norm(g.data.ravel(), norm_type) for g in grads], grads[0].dtype)
    total = np.linalg.norm(norms, norm_type).astype(grads[0].dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
            "clipped; pass error_if_nonfinite=False to clip anyway"
        )
    factor = total.dtype.type(max_norm) / (total + total.dtype.type(1e-6))  # in the gradients' dtype, as PyTorch
    if factor < 1:
        for g in grads:
            g.data *= factor.astype(g.dtype)
            mark_written(g.data)
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clip every gradient element of `parameters` into [-clip_value, clip_value], in place."""
    for g in _gradients(parameters):
        np.clip(g.data, -clip_value, clip_value, out=g.data)
        mark_written(g.data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened into one 1-D tensor, in order (differentiable, as PyTorch's)."""
    return concatenate([p.reshape(-1) for p in parameters])


@no_grad()
def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D tensor `vec` into `parameters`, in place. Unlike PyTorch,
    which makes each parameter a view of `vec`, the parameters keep their own memory, and `vec`
    must hold exactly their number of elements."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.size for p in parameters)
    if vec.ndim != 1 or vec.size != total:
        raise OpError(f"vector_to_parameters: expected a vector of {total} elements, got shape {vec.shape}")
    start = 0
    for p in parameters:
        np.copyto(p.data, vec.data[start : start + p.size].reshape(p.shape))
        mark_written(p.data)
        start += p.size


def summary(
    model: Module, input_shape: Sequence[int], dtype: npt.DTypeLike = np.float32, file: TextIO | None = None
) -> str:
    """Print (to `file`, stdout by default) and return a table of the model's modules: dotted name
    and type, output shape for an input of `input_shape` (batch axis included), and the number of
    parameters each holds itself; then the totals. The model runs once on zeros, in eval mode and
    without a graph (BatchNorm's statistics do not move); each module's mode is restored after."""
    shapes: dict[str, object] = {}  # dotted name -> its output's shape
    handles = []
    modes = [(module, module.training) for module in model.modules()]
    for name, module in model.named_modules():
        if name:
            handles.append(
                module.register_forward_hook(
                    lambda module, inputs, out, name=name: shapes.__setitem__(name, _shape(out))
                )
            )
    try:
        with no_grad():
            model.eval()(Tensor(np.zeros(input_shape, dtype)))
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            object.__setattr__(module, "training", training)
    rows = [
        (
            f"{name} ({type(module).__name__})",
            shapes.get(name, "-"),
            sum(p.size for p in module.parameters(recurse=False)),
        )
        for name, module in model.named_modules()
        if name
    ]
    total = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
    widths = [max([len("Layer (type)")] + [len(r[0]) for r in rows]), max([12] + [len(str(r[1])) for r in rows])]
    line = "=" * (widths[0] + widths[1] + 16)
    lines = [
        f"{type(model).__name__}: input shape {tuple(input_shape)}",
        f"{'Layer (type)':<{widths[0]}}  {'Output shape':<{widths[1]}}  {'Param #':>12}",
        line,
    ]
    lines += [f"{layer:<{widths[0]}}  {str(shape):<{widths[1]}}  {count:>12,}" for layer, shape, count in rows]
    lines += [
        line,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    text = "\n".join(lines)
    print(text, file=file)
    return text


def _shape(out):
    if isinstance(out, Tensor):
        return out.shape
    return tuple(_shape(o) for o in out) if isinstance(out, (tuple, list)) else type(out).__name__
