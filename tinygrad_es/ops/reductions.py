"""Reductions over axes: sum, mean, prod, amax, amin, max and min (with their indices along an
axis), argmax, argmin, var, std, logsumexp, norm, all, any; and the running cumsum and cumprod.
As in PyTorch, a 0-d tensor takes axis 0 and -1, and the result of a full reduction is a 0-d tensor.

In a backward formula on tensors, the largest entry is np.max(x, axis), as NumPy's: Tensor.max
with an axis returns (values, indices), as PyTorch's."""

import builtins
import collections
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..engine import Function, OpError, Tensor, _data
from ..helpers import pytorch_axis, pytorch_names, silent
from .arithmetic import maximum, minimum
from .indexing import gather


def _keep_reduced_axes(grad, axis, keepdims):
    """The gradient of a reduction with the reduced axes back as length 1, ready to broadcast: a
    reshape (np.expand_dims's Python wrapper alone costs 2.5 us on small arrays)."""
    if keepdims or axis is None:
        return grad
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = list(grad.shape)
    for a in sorted(a % (grad.ndim + len(axes)) for a in axes):
        kept.insert(a, 1)
    return grad.reshape(tuple(kept))


def _broadcast_back(grad, shape, axis, keepdims):
    """The gradient of a reduction copied back over the reduced axes: a product with ones, a new
    array (1.5 us; np.broadcast_to's Python wrapper takes 3.5 us and gives a view to copy)."""
    return _keep_reduced_axes(grad, axis, keepdims) * np.ones(shape, grad.dtype)


def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))


class Sum(Function):
    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _broadcast_back(grad, ctx.shape, ctx.axis, ctx.keepdims)


@pytorch_names
def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


class Mean(Function):
    """The mean over an empty axis is nan, as in PyTorch, without NumPy's warnings."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims) / _count(x.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        grad = grad / builtins.max(_count(ctx.shape, ctx.axis), 1)  # an empty axis: no entries, any divisor but 0
        return _broadcast_back(grad, ctx.shape, ctx.axis, ctx.keepdims)


@pytorch_names
def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


class Amax(Function):
    """The largest element along `axis`. Where several tie, they share its gradient equally (as
    PyTorch's amax). A slice holding nan has nan as its max, and its nans take the gradient."""

    reduce: Callable[..., Any] = staticmethod(np.max)  # Amin's np.min, Median's own

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        out = cls.reduce(x, axis=axis, keepdims=True)
        hit = (x == out) | np.isnan(x)  # nan == nan is False; a nan makes its whole slice's max nan
        share = hit / hit.sum(axis=axis, keepdims=True, dtype=x.dtype)
        ctx.save_for_backward(share)
        ctx.axis, ctx.keepdims = axis, keepdims
        return out if keepdims else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_tensors
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * share


@pytorch_names
def amax(x, axis=None, keepdims=False):
    return Amax.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


class Amin(Amax):
    reduce = staticmethod(np.min)


@pytorch_names
def amin(x, axis=None, keepdims=False):
    return Amin.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


def _centered(x, axis):
    return x - x.sum(axis=axis, keepdims=True) / _count(x.shape, axis)


def _variance(x, axis, keepdims, divisor):
    """sum((x - mean)^2) / divisor, nan where divisor <= 0 (NumPy's var would warn)."""
    centered = _centered(x, axis)
    return (centered * centered).sum(axis=axis, keepdims=keepdims) / (divisor if divisor > 0 else np.nan)


class Var(Function):
    """sum((x - mean)^2) / (n - correction);  d/dx = 2 (x - mean) / (n - correction), nan when
    n <= correction (as the variance itself)."""

    @staticmethod
    @silent
    def forward(ctx, x, axis, keepdims, correction):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, _count(x.shape, axis) - correction
        return _variance(x, axis, keepdims, ctx.divisor)

    @staticmethod
    @silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scale = 2 / ctx.divisor if ctx.divisor > 0 else np.nan
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * _centered(x, ctx.axis) * scale


class Std(Function):
    """sqrt(var);  d/dx = (x - mean) / ((n - correction) std), taken as 0 where std is 0 (as
    PyTorch): sqrt's slope is infinite there, but every x - mean is 0."""

    @staticmethod
    @silent
    def forward(ctx, x, axis, keepdims, correction):
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, _count(x.shape, axis) - correction
        out = np.sqrt(_variance(x, axis, keepdims, ctx.divisor))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        std = _keep_reduced_axes(out, ctx.axis, ctx.keepdims)
        slope = np.where(std == 0, 0, _centered(x, ctx.axis) / (ctx.divisor * std)) if ctx.divisor > 0 else np.nan
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * slope


def _spread(op, x, axis, keepdims, correction):
    axis = pytorch_axis(axis, np.ndim(_data(x)))
    if _count(np.shape(_data(x)), axis) <= correction:  # as PyTorch, which warns too
        warnings.warn(
            f"{op.__name__.lower()}: degrees of freedom <= 0 (n <= correction = {correction}): the result is nan",
            RuntimeWarning,
            stacklevel=3,
        )
    return op.apply(x, axis=axis, keepdims=keepdims, correction=correction)


@pytorch_names
def var(x, axis=None, keepdims=False, correction=1):
    """Variance; `correction=1` (Bessel's, PyTorch's default) divides by n - 1."""
    return _spread(Var, x, axis, keepdims, correction)


@pytorch_names
def std(x, axis=None, keepdims=False, correction=1):
    """Standard deviation; `correction=1` divides the variance by n - 1."""
    return _spread(Std, x, axis, keepdims, correction)


# ---- products and running sums --------------------------------------------------------------------
def _reversed(x, axis):
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _shifted_in_ones(x, axis):
    """x moved one place along `axis`, a 1 coming in first: its cumprod is the exclusive one."""
    first = x[(slice(None),) * axis + (slice(0, 1),)]
    return np.concatenate([np.ones_like(first), x[(slice(None),) * axis + (slice(0, -1),)]], axis=axis)


class Prod(Function):
    """The product along `axis` (of all entries without one);  d/dx_i = the product of the others,
    the product of those before i times that of those after i: no division, so right where x holds
    one zero or several."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims = axis, keepdims
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        line, axis = (x.reshape(-1), 0) if ctx.axis is None else (x, ctx.axis)
        before = Cumprod.on(_shifted_in_ones(line, axis), axis=axis)
        after = _reversed(Cumprod.on(_shifted_in_ones(_reversed(line, axis), axis), axis=axis), axis)
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * (before * after).reshape(x.shape)


@pytorch_names
def prod(x, axis=None, keepdims=False):
    ndim = np.ndim(_data(x))
    axis = pytorch_axis(axis, ndim)
    return Prod.apply(x, axis=None if axis is None else normalize_axis_index(axis, ndim), keepdims=keepdims)


class Cumsum(Function):
    """Running sums along `axis`: out_j = x_0 + ... + x_j;  d/dx_i = g_i + ... + g_last, the running
    sums of the gradient taken from the end."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis) if x.ndim else x + 0  # integers and booleans sum as int64 (PyTorch)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is None:  # a 0-d tensor
            return grad
        return _reversed(Cumsum.on(_reversed(grad, ctx.axis), axis=ctx.axis), ctx.axis)


class Cumprod(Function):
    """Running products along `axis`: out_j = x_0 ... x_j;  d out_j / d x_i = the product of
    x_0..x_j but x_i, for j >= i. Before the first zero (at z) that is out_j / x_i, so
    dL/dx_i = (sum over j >= i of g_j out_j) / x_i; at z it is the running product with x_z taken as 1,
    summed against g from z on; after z every such product holds x_z = 0. No division by 0."""

    @staticmethod
    def forward(ctx, x, axis):
        out = np.cumprod(x, axis=axis) if x.ndim else x + 0
        if x.ndim:
            zero, length = x == 0, x.shape[axis]
            first_zero = np.argmax(zero, axis=axis, keepdims=True) if length else 0
            first_zero = np.where(zero.any(axis=axis, keepdims=True), first_zero, length)
            position = np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
            ctx.save_for_backward(x, out, position < first_zero, position == first_zero, position >= first_zero)
        ctx.axis = axis
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        if ctx.axis is None:  # a 0-d tensor
            return grad
        x, out, before, at, from_zero = ctx.saved_tensors
        axis = ctx.axis
        if isinstance(grad, Tensor):  # create_graph: the masks below hold x's zeros fixed, so take every product
            return _cumprod_gradient_by_products(x, grad, axis)
        from_end = _reversed(Cumsum.on(_reversed(grad * out, axis), axis=axis), axis)
        before_zero = np.where(before, from_end / np.where(before, x, 1), 0)
        without_zero = Cumprod.on(np.where(at, 1, x), axis=axis)
        at_zero = (grad * without_zero * from_zero).sum(axis=axis, keepdims=True) * at
        return before_zero + at_zero


def _cumprod_gradient_by_products(x, grad, axis):
    """Cumprod's gradient as the sum over j >= i of g_j times the running product of x up to j with x_i
    taken as 1: O(n^2) work and memory, but each term a product of x's entries, so it differentiates
    again right at zeros (PyTorch does the same for higher orders)."""
    n = x.shape[axis]
    x_last, grad_last = np.moveaxis(x, axis, -1), np.moveaxis(grad, axis, -1)
    without = np.where(np.eye(n, dtype=bool), 1, np.expand_dims(x_last, -2))  # row i: x with x_i taken as 1
    products = Cumprod.on(without, axis=x_last.ndim)
    later = np.triu(np.ones((n, n), bool))  # j >= i
    return np.moveaxis((products * np.expand_dims(grad_last, -2) * later).sum(axis=-1), -1, axis)


def _running(op, x, axis):
    ndim = np.ndim(_data(x))
    axis = pytorch_axis(axis, ndim)
    return op.apply(x, axis=None if axis is None else normalize_axis_index(axis, ndim))


@pytorch_names
def cumsum(x, axis):
    return _running(Cumsum, x, axis)


@pytorch_names
def cumprod(x, axis):
    return _running(Cumprod, x, axis)


# ---- logsumexp and norms --------------------------------------------------------------------------
class LogSumExp(Function):
    """log sum_i e^(x_i) along `axis`, the largest x taken out first so nothing overflows;
    d/dx_i = e^(x_i - out), the softmax of x."""

    @staticmethod
    @silent
    def forward(ctx, x, axis, keepdims):
        x = x if x.dtype.kind in "fc" else x.astype(np.float32)
        top = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        top = np.where(np.isfinite(top), top, 0)  # all -inf (or an inf): nothing to take out
        out = np.log(np.exp(x - top).sum(axis=axis, keepdims=True)) + top
        out = out if keepdims else np.squeeze(out, axis)
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdims = axis, keepdims
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * np.exp(
            x - _keep_reduced_axes(out, ctx.axis, ctx.keepdims)
        )


@pytorch_names
def logsumexp(x, axis=None, keepdims=False):
    return LogSumExp.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


class Norm(Function):
    """The vector p-norm over `axis` (all entries without one): (sum |x|^p)^(1/p); p = inf is max |x|,
    -inf min |x|, 0 the count of nonzero entries. d/dx = sign(x) for p = 1, x / out for p = 2,
    x |x|^(p-2) / out^(p-1) for any other p, each 0 where x = 0 (as PyTorch, which also takes 0 where
    out = 0); for +-inf the gradient is shared among the entries at the max (min) |x|; 0 for p = 0."""

    @staticmethod
    @silent
    def forward(ctx, x, p, axis, keepdims):
        ctx.p, ctx.axis, ctx.keepdims = p, axis, keepdims
        size = np.abs(x)
        if math.isinf(p):
            out = (np.max if p > 0 else np.min)(size, axis=axis, keepdims=True)
            hit = size == out
            ctx.save_for_backward(x, hit / hit.sum(axis=axis, keepdims=True, dtype=x.dtype))
            return out if keepdims else np.squeeze(out, axis)
        if p == 0:
            out = (x != 0).sum(axis=axis, keepdims=keepdims, dtype=x.dtype)
        elif p == 1:
            out = size.sum(axis=axis, keepdims=keepdims)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
        else:
            out = (size**p).sum(axis=axis, keepdims=keepdims) ** (1 / p)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, saved = ctx.saved_tensors
        p, grad = ctx.p, _keep_reduced_axes(grad, ctx.axis, ctx.keepdims)
        if math.isinf(p):
            return grad * np.sign(x) * saved  # saved: each entry's share
        if p == 0:
            return np.zeros_like(x) * grad
        if p == 1:
            return grad * np.sign(x)
        out = _keep_reduced_axes(saved, ctx.axis, ctx.keepdims)
        safe_out = np.where(out == 0, 1, out)  # 0 only where every x is 0, whose gradient is 0
        if p == 2:
            return grad * x / safe_out
        size = np.abs(x)
        slope = np.where(x == 0, 0, x * np.where(x == 0, 1, size) ** (p - 2))
        return grad * slope / safe_out ** (p - 1)


def _norm_order(p):
    if p in ("fro", None):
        return 2.0
    if isinstance(p, str):
        raise OpError(f"norm: the {p!r} norm is a matrix norm, which tinygrad_es computes only for 'fro'")
    return float(p)


@pytorch_names
def norm(x, p="fro", axis=None, keepdims=False):
    """The vector p-norm over `axis` (all entries without one), as torch.norm and
    torch.linalg.vector_norm: p = 2 ('fro', the default), 1, inf, -inf, 0, or any other number."""
    data = _data(x)
    if np.asarray(data).dtype.kind not in "fc":
        raise OpError(f"norm: expected a floating point tensor as input, got {np.asarray(data).dtype}")
    return Norm.apply(x, p=_norm_order(p), axis=pytorch_axis(_axes(axis), np.ndim(data)), keepdims=keepdims)


def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# ---- max and min with their indices, argmax, argmin, all, any ------------------------------------
# Named as PyTorch names them (torch.return_types.max), not after the variables holding them
max_result = collections.namedtuple("max", ["values", "indices"])  # type: ignore[name-match]
min_result = collections.namedtuple("min", ["values", "indices"])  # type: ignore[name-match]


def _arg(reduce, name, x, axis, keepdims):
    data = np.asarray(_data(x))
    if axis is None:
        if data.size == 0:
            raise IndexError(f"{name}(): expected reduction dim to be specified for input.numel() == 0")
        index = np.asarray(reduce(data.reshape(-1)), np.int64)
        return index.reshape((1,) * data.ndim) if keepdims else index
    axis = pytorch_axis(axis, data.ndim)
    if axis is None:  # a 0-d tensor, along its axis 0
        return np.zeros((), np.int64)
    axis = normalize_axis_index(axis, data.ndim)
    if data.shape[axis] == 0:
        raise IndexError(f"{name}(): expected reduction dim {axis} to have non-zero size")
    return reduce(data, axis=axis, keepdims=keepdims).astype(np.int64)


@pytorch_names
def argmax(x, axis=None, keepdims=False):
    """Where the largest entry is (the first of ties; a nan counts as the largest), as int64; no gradient."""
    return Tensor._make(_arg(np.argmax, "argmax", x, axis, keepdims), False, None)


@pytorch_names
def argmin(x, axis=None, keepdims=False):
    """Where the smallest entry is (the first of ties; a nan counts as the smallest), as int64; no gradient."""
    return Tensor._make(_arg(np.argmin, "argmin", x, axis, keepdims), False, None)


def _with_indices(result, reduce, name, x, axis, keepdims):
    indices = _arg(reduce, name, x, axis, True)
    ndim = np.ndim(_data(x))
    axis = normalize_axis_index(axis, ndim) if ndim else 0
    values = gather(x, axis, indices)
    if ndim and not keepdims:
        values, indices = values.squeeze(axis), np.squeeze(indices, axis)
    return result(values, Tensor._make(indices, False, None))


@pytorch_names
def max(x, axis=None, keepdims=False):  # noqa: A001
    """As torch.max: without an axis the largest entry, a 0-d tensor (ties share its gradient, as
    amax); along an axis a (values, indices) pair whose gradient goes to the index given, the first
    of ties; given a tensor, the elementwise maximum."""
    if isinstance(axis, (Tensor, np.ndarray)):
        return maximum(x, axis)
    if axis is None:
        return amax(x)
    return _with_indices(max_result, np.argmax, "max", x, axis, keepdims)


@pytorch_names
def min(x, axis=None, keepdims=False):  # noqa: A001
    """As torch.min: the smallest entry (0-d), a (values, indices) pair along an axis, or the
    elementwise minimum with a tensor."""
    if isinstance(axis, (Tensor, np.ndarray)):
        return minimum(x, axis)
    if axis is None:
        return amin(x)
    return _with_indices(min_result, np.argmin, "min", x, axis, keepdims)


def _truth(reduce, x, axis, keepdims):
    data = _data(x)
    return Tensor._make(
        np.asarray(reduce(data, axis=pytorch_axis(_axes(axis), np.ndim(data)), keepdims=keepdims)), False, None
    )


@pytorch_names
def all(x, axis=None, keepdims=False):  # noqa: A001
    """Whether every entry is nonzero (along `axis`): a boolean tensor, no gradient."""
    return _truth(np.all, x, axis, keepdims)


@pytorch_names
def any(x, axis=None, keepdims=False):  # noqa: A001
    """Whether some entry is nonzero (along `axis`): a boolean tensor, no gradient."""
    return _truth(np.any, x, axis, keepdims)


for _fn in (
    sum,
    mean,
    prod,
    amax,
    amin,
    max,
    min,
    argmax,
    argmin,
    var,
    std,
    cumsum,
    cumprod,
    logsumexp,
    norm,
    all,
    any,
):
    setattr(Tensor, _fn.__name__, _fn)
Tensor._numpy_functions.update(
    {
        np.sum: sum,
        np.mean: mean,
        np.max: amax,
        np.min: amin,
        np.amax: amax,
        np.amin: amin,
        np.prod: prod,
        np.cumsum: cumsum,
        np.cumprod: cumprod,
    }
)
