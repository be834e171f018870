"""The fast path: one graph node for work the plain ops do in several, in the two places where a
small network spends its time, the dense layer and the softmax cross-entropy.

Each node computes exactly what its plain composition computes (tests/test_fused.py checks it over
shapes, dtypes and memory layouts), and each trick below carries the time it saves, measured on a
training step of the digits network (benchmarks/mlp_digits.py). Under `create_graph` a fused node
differentiates its plain composition instead, so it has gradients of any order like the plain ops.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from . import autograd
from .activations import _EXP_LIMIT, RReLU, Sigmoid
from .engine import Function, OpError, Tensor
from .helpers import constant, ones
from .losses import cross_entropy as plain_cross_entropy


def _through_composition(ctx, grad, composition):
    """create_graph: the gradients of the plain composition a fused node stands for, recorded."""
    wanted = [x for x, needs in zip(ctx.inputs, ctx.needs_input_grad) if needs]
    found = iter(autograd.grad(composition(*ctx.inputs), wanted, grad, create_graph=True, allow_unused=True))
    return tuple(next(found) if needs else None for needs in ctx.needs_input_grad)


# ---- the dense layer ----------------------------------------------------------------------------
class DenseSigmoid(Function):
    """activations.Sigmoid as a dense layer runs it: on the layer's own new output, in place, with
    0-d constants, and its slope f / (1 + e^z) from what forward kept (one op where f (1 - f) takes
    two). The same values (z clamped from above, where e^z would overflow, as the plain op does);
    the slope keeps its precision in the tails. 4.5 us less per digits step."""

    @staticmethod
    def forward(ctx, z):
        high, one = _sigmoid_constants(z.dtype)
        np.minimum(z, high, out=z)
        np.exp(z, out=z)
        denominator = z + one
        np.divide(z, denominator, out=z)
        ctx.saved_tensors = z, denominator  # what save_for_backward sets, without its call
        return z

    @staticmethod
    def backward(ctx, grad):
        out, denominator = ctx.saved_tensors
        return grad * (out / denominator)


@functools.lru_cache(maxsize=8)
def _sigmoid_constants(dtype):
    """(limit, 1) as 0-d arrays of `dtype`: the upper bound of exp's argument and the 1 of 1 + e^z."""
    return constant(_EXP_LIMIT.get(dtype, 700.0), dtype), constant(1, dtype)


_FAST_FORMS = {Sigmoid: DenseSigmoid}  # an activation -> how a dense layer runs it, where that is faster


def plain_linear(x, weight, bias=None, activation=None, options=None):
    """activation(x @ weight.T + bias), op by op: what LinearActivation computes in one node."""
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out if activation is None else activation.apply(out, **(options or {}))


class LinearActivation(Function):
    """activation(x @ weight.T + bias) in one node (weight is (out, in), as PyTorch's): a Dense
    layer with its activation (any elementwise one, activations.Elementwise) is one node instead
    of three. Any leading axes of x are batch axes.

    Tricks, timed on the digits network's (32, 32) arrays: the products are `ndarray.dot` on 2-D
    arrays (the batch axes flattened), 1.5 us against 2.2 us for `@`; the bias gradient, a sum over
    rows, is a product with a ones vector (`grad.T.dot(ones)`, a method of the gradient, which a
    compiled step's recording sees), 0.6 us against 2.1 us for `sum(axis=0)`."""

    fresh_gradients = True
    activation, options = None, None  # the activation op and its options, when one runs in this node
    name = property(lambda ctx: "Linear" if ctx.activation is None else f"Linear+{ctx.activation.__name__}")

    @staticmethod
    def forward(ctx, x, weight, bias, activation=None, options=None):
        if x.ndim == 0:
            raise OpError("linear: the input needs at least 1 dimension (its features), got a 0-d tensor")
        if x.dtype != weight.dtype:
            raise OpError(f"linear: input and weight must have the same dtype, got {x.dtype} and {weight.dtype}")
        out = (x if x.ndim == 2 else x.reshape(-1, x.shape[-1])).dot(weight.T)
        if bias is not None:
            out += bias  # a new array: it is ours to write
        if x.ndim != 2:
            out = out.reshape(x.shape[:-1] + out.shape[1:])
        if activation is None:
            ctx.saved_tensors = x, weight
            return out
        fast = _FAST_FORMS.get(activation, activation)
        ctx.activation, ctx.options, ctx.activation_ctx = activation, options, fast()
        out = fast.forward(ctx.activation_ctx, out, **options)
        ctx.saved_tensors = x, weight, *ctx.activation_ctx.saved_tensors  # its arrays too: in-place checks
        return out

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return _through_composition(ctx, grad, lambda x, w, b: plain_linear(x, w, b, ctx.activation, ctx.options))
        x, weight = ctx.saved_tensors[:2]
        if ctx.activation is not None:
            grad = type(ctx.activation_ctx).backward(ctx.activation_ctx, grad)
        shape = x.shape
        if len(shape) != 2:
            x, grad = x.reshape(-1, shape[-1]), grad.reshape(-1, grad.shape[-1])
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        gx = grad.dot(weight) if needs_x else None
        if gx is not None and len(shape) != 2:
            gx = gx.reshape(shape)
        gw = grad.T.dot(x) if needs_weight else None
        gb = grad.T.dot(ones(len(grad), grad.dtype)) if needs_bias else None
        return gx, gw, gb


def linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    activation: type[Function] | None = None,
    options: dict[str, Any] | None = None,
) -> Tensor:
    """activation(x @ weight.T + bias) in one graph node; `activation` is an elementwise activation
    op (e.g. activations.Sigmoid), given its keyword `options` (a dict). RReLU, which draws new
    slopes on every call, runs as a node of its own: under create_graph this node differentiates its
    composition again, which would draw other slopes."""
    if activation is None:
        return LinearActivation.apply(x, weight, bias)
    if activation is RReLU:
        return RReLU.apply(LinearActivation.apply(x, weight, bias), **(options or {}))
    return LinearActivation.apply(x, weight, bias, activation=activation, options=options or {})


# ---- softmax cross-entropy ----------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _row_starts(n, c):
    """The flat positions of the first entries of n rows of c (read-only)."""
    starts = np.arange(0, n * c, c)
    starts.flags.writeable = False
    return starts


class CrossEntropy(Function):
    """Softmax cross-entropy of logits z (N, C) at class indices t: loss_i = log sum_j e^z_ij - z_it;
    d/dz = softmax(z) - onehot(t), per sample, found in forward; backward only scales it.

    Tricks, timed on (32, 10) logits: entries are picked by flat position (one index array: 0.9 us
    against 1.1 us for [rows, columns], 1.9 us against 3.3 us for the update), the row maxima at
    their argmax (1.6 us against 2.7 us for max(axis=1)), the row sums and the batch total are
    products with a ones vector (0.55 us against 2.1 us, 0.45 us against 1.2 us)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, z, target, reduction):
        n, c = z.shape
        starts = _row_starts(n, c)
        with np.errstate(all="ignore"):  # infinite logits give nan, as in PyTorch, without NumPy's warning
            shifted = z - z.take(starts + z.argmax(axis=1))[:, None]  # the largest logit 0: exp cannot overflow
        softmax = np.exp(shifted, order="C")  # rows one after another, whatever z's layout: flat positions hold
        total = softmax.dot(ones(c, z.dtype))
        at_target = starts + target
        loss = np.log(total) - shifted.take(at_target)
        softmax /= total[:, None]
        softmax.ravel()[at_target] -= constant(1, z.dtype)  # softmax - onehot(target)
        ctx.saved_tensors = softmax, target  # what save_for_backward sets, without its call
        ctx.reduction = reduction
        if reduction == "none":
            return loss
        total_loss = loss.dot(ones(n, loss.dtype))
        return np.asanyarray(total_loss / n if reduction == "mean" else total_loss)  # a 0-d array, not a scalar

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return _through_composition(ctx, grad, lambda z, t: plain_cross_entropy(z, t, reduction=ctx.reduction))
        dz, _ = ctx.saved_tensors
        if ctx.reduction == "none":
            return dz * grad[:, None], None
        return dz * (grad / constant(len(dz), dz.dtype) if ctx.reduction == "mean" else grad), None


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # by item size


def _class_indices(logits, target):
    """`target` as the fused node takes it, or None: an integer array (N,) of class indices in
    [0, C) for logits (N, C). Trick: read as unsigned, a negative index is huge, so the range is one
    look at the largest entry, found by argmax: 1.1 us against 2.9 us for min() and max()."""
    target = target.data if isinstance(target, Tensor) else target
    if not (
        isinstance(logits, Tensor)
        and isinstance(target, np.ndarray)
        and target.dtype.kind in "iu"
        and logits.ndim == 2
        and target.shape == logits.shape[:1]
    ):
        return None
    unsigned = target.view(_UNSIGNED[target.itemsize])
    return target if len(target) and unsigned[unsigned.argmax()] < logits.shape[1] else None


def cross_entropy(
    input: Tensor,
    target: Tensor | npt.ArrayLike,
    weight: Tensor | npt.ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """losses.cross_entropy, in one node where it can: class indices all in range (none ignored), no
    class weights, no smoothing. Otherwise the plain composition, which also explains bad input."""
    indices = None if weight is not None or label_smoothing else _class_indices(input, target)
    if indices is not None and 0 <= ignore_index < input.shape[1] and (indices == ignore_index).any():
        indices = None  # an ignored class that is a class index: the plain composition leaves it out
    if indices is None or reduction not in ("mean", "sum", "none"):
        return plain_cross_entropy(input, target, weight, label_smoothing, reduction, ignore_index)
    return CrossEntropy.apply(input, indices, reduction=reduction)
