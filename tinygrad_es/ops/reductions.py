"""Reductions over axes: sum, mean, amax, amin, var, std. As in PyTorch, a 0-d tensor takes
axis 0 and -1, and the result of a full reduction is a 0-d tensor."""

import math
import warnings

import numpy as np

from ..engine import Function, Tensor, _data
from ..helpers import pytorch_axis, silent


def _keep_reduced_axes(grad, axis, keepdims):
    """The gradient of a reduction with the reduced axes back as length 1, ready to broadcast."""
    return grad if keepdims or axis is None else np.expand_dims(grad, axis)

def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))

class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_keep_reduced_axes(grad, ctx.axis, ctx.keepdims), ctx.shape)

def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)

class Mean(Function):
    """The mean over an empty axis is nan, as in PyTorch, without NumPy's warnings."""

    @staticmethod
    @silent
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims) / _count(x.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        grad = np.broadcast_to(_keep_reduced_axes(grad, ctx.axis, ctx.keepdims), ctx.shape)
        return grad / max(_count(ctx.shape, ctx.axis), 1)  # an empty axis: no entries, any divisor but 0

def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)

class Amax(Function):
    """The largest element along `axis`. Where several tie, they share its gradient equally (as
    PyTorch's amax). A slice holding nan has nan as its max, and its nans take the gradient."""

    reduce = staticmethod(np.max)

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
        return np.broadcast_to(_keep_reduced_axes(grad, ctx.axis, ctx.keepdims), share.shape) * share

def amax(x, axis=None, keepdims=False):
    return Amax.apply(x, axis=pytorch_axis(axis, np.ndim(_data(x))), keepdims=keepdims)

class Amin(Amax):
    reduce = staticmethod(np.min)

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
        warnings.warn(f"{op.__name__.lower()}: degrees of freedom <= 0 (n <= correction = {correction}): the "
                      "result is nan", RuntimeWarning, stacklevel=3)
    return op.apply(x, axis=axis, keepdims=keepdims, correction=correction)

def var(x, axis=None, keepdims=False, correction=1):
    """Variance; `correction=1` (Bessel's, PyTorch's default) divides by n - 1."""
    return _spread(Var, x, axis, keepdims, correction)

def std(x, axis=None, keepdims=False, correction=1):
    """Standard deviation; `correction=1` divides the variance by n - 1."""
    return _spread(Std, x, axis, keepdims, correction)


for _fn in (sum, mean, amax, amin, var, std):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.max, Tensor.min = amax, amin
Tensor._numpy_functions.update({np.sum: sum, np.mean: mean, np.max: amax, np.min: amin, np.amax: amax, np.amin: amin})
