"""torch.autograd's entry points: `grad` returns gradients without touching `.grad`, `backward`
accumulates them for several outputs at once; `functional` has vjp, jvp, jacobian, hessian, hvp."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

from .. import engine
from ..engine import Tensor


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensors)/d(leaf) into `.grad` of every leaf that requires grad (PyTorch's
    torch.autograd.backward): `grad_tensors` holds one gradient per tensor (None for a scalar)."""
    if isinstance(tensors, Tensor):
        return tensors.backward(grad_tensors, retain_graph, create_graph)
    tensors = tuple(tensors)
    grads = _seeds(tensors, grad_tensors, create_graph)
    engine.propagate(tensors, grads, create_graph if retain_graph is None else retain_graph, create_graph)


# For a type checker: a gradient is None only where allow_unused=True lets it be
@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: Literal[False] = False,
) -> tuple[Tensor, ...]: ...
@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]: ...
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, as a tuple, leaving every `.grad` alone
    (PyTorch's torch.autograd.grad). An input the outputs do not depend on is an error, or None
    with `allow_unused=True`."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            raise RuntimeError("grad: every input must be a tensor that requires grad")
    targets = dict.fromkeys(inputs)
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads = _seeds(outputs, grad_outputs, create_graph)
    found = engine.propagate(outputs, grads, retain_graph, create_graph, targets, _leading_to(outputs, targets))
    if not allow_unused and any(found.get(x) is None for x in inputs):
        raise RuntimeError(
            "grad: one of the inputs was not used to compute the outputs; pass allow_unused=True to get None for it"
        )
    return tuple(found.get(x) for x in inputs)


def _seeds(tensors, grads, create_graph):
    """One starting gradient per output tensor (engine.start_gradient)."""
    grads = (None,) * len(tensors) if grads is None else (grads,) if isinstance(grads, Tensor) else tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"backward: got {len(grads)} gradients for {len(tensors)} outputs")
    return [engine.start_gradient(t, g, create_graph) for t, g in zip(tensors, grads)]


def _leading_to(roots, targets):
    """The tensors of the graph from which one of `targets` can be reached: grad() computes nothing else."""
    found, stack = set(), list(roots)
    while stack:
        t = stack.pop()
        if t not in found:
            found.add(t)
            if t.grad_fn is not None:
                stack.extend(x for x in t.grad_fn.inputs or () if isinstance(x, Tensor) and x.requires_grad)
    wanted = set()
    for t in sorted(found, key=lambda t: 0 if t.grad_fn is None else t.grad_fn.creation):  # inputs first
        inputs = () if t.grad_fn is None else t.grad_fn.inputs or ()
        if t in targets or any(isinstance(x, Tensor) and x in wanted for x in inputs):
            wanted.add(t)
    return wanted


from . import functional  # noqa: E402  (it uses grad, above)
