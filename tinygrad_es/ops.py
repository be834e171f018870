"""The primitive ops: arithmetic, reductions, matrix products, shape changes and indexing, each
forward beside its backward, and each attached to Tensor as a method or operator.

Forward works on NumPy arrays. Backward is written in plain NumPy too, so that it also runs on
Tensors for gradients of gradients (see engine.py): it keeps to operators, array methods and the
NumPy functions registered at the bottom of this file, and never writes into an array in place.
A gradient may come back in the broadcast shape of the output; the engine sums it back to each
input's shape (`engine.unbroadcast`).
"""

import functools
import math
import warnings

import numpy as np
from numpy.exceptions import AxisError
from numpy.lib.array_utils import normalize_axis_index

from . import engine
from .engine import Function, OpError, Tensor, _data, mark_written
from .helpers import sizes
from .random import default_generator


def _silent(fn):
    """`fn` under np.errstate(all="ignore"): where the math gives inf or nan (exp overflowing, log 0,
    1 / 0) the result is that IEEE value, without a warning, as PyTorch gives it."""

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


def _axis(axis, ndim):
    """PyTorch's dims: a 0-d tensor takes 0 and -1 (its one element), which NumPy calls None."""
    if ndim or axis is None:
        return axis
    for a in axis if isinstance(axis, tuple) else (axis,):
        if a not in (0, -1):
            raise AxisError(f"axis {a} is out of range for a 0-d tensor (expected -1 or 0)")
    return None


def _keep_reduced_axes(grad, axis, keepdims):
    """The gradient of a reduction with the reduced axes back as length 1, ready to broadcast."""
    return grad if keepdims or axis is None else np.expand_dims(grad, axis)


def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))


# ---- elementwise arithmetic ---------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class Mul(Function):
    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        return grad * y if needs_x else None, grad * x if needs_y else None


class Div(Function):
    """x / y;  d/dx = 1 / y,  d/dy = -x / y^2 = -(x / y) / y."""

    fresh_gradients = True

    @staticmethod
    @_silent
    def forward(ctx, x, y):
        out = x / y
        ctx.save_for_backward(y, out)
        return out

    @staticmethod
    @_silent
    def backward(ctx, grad):
        y, out = ctx.saved_tensors
        gx = grad / y
        return gx, -gx * out if ctx.needs_input_grad[1] else None


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """x ** p, for a tensor or a number on either side. d/dx = p x^(p-1), 0 where p = 0 (x^0 is
    constant, also at x = 0); d/dp = x^p log x, 0 where x = 0 and p >= 0 (as PyTorch)."""

    fresh_gradients = True

    @staticmethod
    @_silent
    def forward(ctx, x, p):
        out = np.power(x, p)
        ctx.save_for_backward(x, p, out)
        return out

    @staticmethod
    @_silent
    def backward(ctx, grad):
        x, p, out = ctx.saved_tensors
        needs_x, needs_p = ctx.needs_input_grad
        gx = grad * np.where(p == 0, 0, p * x ** (p - 1)) if needs_x else None
        gp = grad * np.where((x == 0) & (p >= 0), 0, out * np.log(x)) if needs_p else None
        return gx, gp


class Exp(Function):
    fresh_gradients = True

    @staticmethod
    @_silent
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    fresh_gradients = True

    @staticmethod
    @_silent
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    @_silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    fresh_gradients = True

    @staticmethod
    @_silent
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @_silent
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Abs(Function):
    """|x|;  d/dx = sign(x), 0 at 0 (as PyTorch)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Sign(Function):
    """-1, 0 or 1; its gradient is 0 everywhere (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Clip(Function):
    """x limited to [low, high] (either may be None); the gradient passes where low <= x <= high,
    bounds included, as PyTorch's clamp."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, low, high):
        inside = (x >= (-np.inf if low is None else low)) & (x <= (np.inf if high is None else high))
        ctx.save_for_backward(inside)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None


def _tie_share(wins, ties, dtype):
    share = np.array(wins, dtype)
    share[ties] = 0.5
    return share


class Maximum(Function):
    """Elementwise max; where x == y the gradient is shared half and half, as PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(_tie_share(x > y, x == y, np.result_type(x, y)))
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        (x_share,) = ctx.saved_tensors
        gx = grad * x_share
        return gx, grad - gx if ctx.needs_input_grad[1] else None


class Minimum(Maximum):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(_tie_share(x < y, x == y, np.result_type(x, y)))
        return np.minimum(x, y)


class Where(Function):
    """`condition ? x : y`; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        return None, np.where(condition, grad, 0), np.where(condition, 0, grad)


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


# ---- matrix product -----------------------------------------------------------------------------
class MatMul(Function):
    """x @ y as np.matmul: 2-D, batched, and 1-D (a vector, promoted to a matrix and dropped again).
    d/dx = grad @ y^T,  d/dy = x^T @ grad."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, y):
        if np.ndim(x) == 0 or np.ndim(y) == 0:
            raise OpError(f"both arguments to matmul need at least 1 dimension, got shapes {np.shape(x)} and "
                          f"{np.shape(y)}")
        if x.dtype != y.dtype:
            raise OpError(f"expected both operands to have the same dtype, got {x.dtype} and {y.dtype}")
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if y.ndim == 1:  # a column vector whose column axis was dropped from the output
            y, grad = y[:, None], grad[..., None]
        if x.ndim == 1:  # a row vector whose row axis was dropped
            x, grad = x[None, :], np.expand_dims(grad, -2)
        needs_x, needs_y = ctx.needs_input_grad
        gx = grad @ np.swapaxes(y, -1, -2) if needs_x else None
        gy = np.swapaxes(x, -1, -2) @ grad if needs_y else None
        x_vector, y_vector = (a.ndim == 1 for a in ctx.saved_tensors)
        return (gx[..., 0, :] if x_vector and needs_x else gx), (gy[..., 0] if y_vector and needs_y else gy)


# ---- reductions -------------------------------------------------------------------------------
class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_keep_reduced_axes(grad, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    """The mean over an empty axis is nan, as in PyTorch, without NumPy's warnings."""

    @staticmethod
    @_silent
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims) / _count(x.shape, axis)

    @staticmethod
    def backward(ctx, grad):
        grad = np.broadcast_to(_keep_reduced_axes(grad, ctx.axis, ctx.keepdims), ctx.shape)
        return grad / max(_count(ctx.shape, ctx.axis), 1)  # an empty axis: no entries, any divisor but 0


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


class Amin(Amax):
    reduce = staticmethod(np.min)


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
    @_silent
    def forward(ctx, x, axis, keepdims, correction):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, _count(x.shape, axis) - correction
        return _variance(x, axis, keepdims, ctx.divisor)

    @staticmethod
    @_silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scale = 2 / ctx.divisor if ctx.divisor > 0 else np.nan
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * _centered(x, ctx.axis) * scale


class Std(Function):
    """sqrt(var);  d/dx = (x - mean) / ((n - correction) std), taken as 0 where std is 0 (as
    PyTorch): sqrt's slope is infinite there, but every x - mean is 0."""

    @staticmethod
    @_silent
    def forward(ctx, x, axis, keepdims, correction):
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, _count(x.shape, axis) - correction
        out = np.sqrt(_variance(x, axis, keepdims, ctx.divisor))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    @_silent
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        std = _keep_reduced_axes(out, ctx.axis, ctx.keepdims)
        slope = np.where(std == 0, 0, _centered(x, ctx.axis) / (ctx.divisor * std)) if ctx.divisor > 0 else np.nan
        return _keep_reduced_axes(grad, ctx.axis, ctx.keepdims) * slope


# ---- shape changes ------------------------------------------------------------------------------
class Reshape(Function):
    """Also view, flatten, squeeze and unsqueeze: each is a reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Permute(Function):
    """The axes in a new order (np.transpose); backward puts them back."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, None if ctx.axes is None else tuple(np.argsort(ctx.axes)))


class Expand(Function):
    """broadcast_to; backward is the engine's unbroadcast, so the gradient passes as is."""

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class GetItem(Function):
    """x[index]; the gradient goes back to the elements picked (added up where an integer array
    picks one twice)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.on(grad, shape=ctx.shape, index=ctx.index)


class IndexAdd(Function):
    """Zeros of `shape` with x added at `index`: the gradient of indexing, and indexing its gradient."""

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        out = np.zeros(shape, x.dtype)
        np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


def _along(axis, index):
    """An index that picks `index` (an int or a slice) along `axis` and everything on the others."""
    return (slice(None),) * axis + (index,)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        if any(np.ndim(a) == 0 for a in arrays):
            raise OpError("zero-dimensional tensors cannot be concatenated; stack them, or reshape them to (1,)")
        ctx.axis = axis % arrays[0].ndim
        ends = np.cumsum([a.shape[ctx.axis] for a in arrays]).tolist()
        ctx.parts = list(zip([0] + ends[:-1], ends))
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[_along(ctx.axis, slice(start, stop))] for start, stop in ctx.parts)


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        out = np.stack(arrays, axis=axis)
        ctx.axis, ctx.count = axis % out.ndim, len(arrays)
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[_along(ctx.axis, i)] for i in range(ctx.count))


# ---- regularization -----------------------------------------------------------------------------
class Dropout(Function):
    """Inverted dropout: x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p); the gradient
    passes through the same mask."""

    @staticmethod
    def forward(ctx, x, p, generator):
        if p == 1:
            mask = np.zeros_like(x)
        else:
            draws = generator.random(x.shape, np.float32 if x.dtype == np.float32 else np.float64)
            mask = (draws >= p) * x.dtype.type(1 / (1 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) when training; the identity
    otherwise (and for p = 0). `generator` (a numpy.random.Generator) makes the mask repeatable."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator or default_generator())


# ---- the functions (tg.exp(t), ...) and Tensor's methods ----------------------------------------
def add(x, y):
    return Add.apply(x, y)


def sub(x, y):
    return Sub.apply(x, y)


def mul(x, y):
    return Mul.apply(x, y)


def div(x, y):
    return Div.apply(x, y)


def neg(x):
    return Neg.apply(x)


def pow(x, exponent):  # noqa: A001  (PyTorch's name)
    return Pow.apply(x, exponent)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001
    return Abs.apply(x)


def sign(x):
    return Sign.apply(x)


def clip(x, min=None, max=None):  # noqa: A002  (PyTorch's names)
    return Clip.apply(x, min, max)


def maximum(x, y):
    return Maximum.apply(x, y)


def minimum(x, y):
    return Minimum.apply(x, y)


def where(condition, x, y):
    """`x` where `condition` holds, else `y`; differentiable in x and y."""
    return Where.apply(np.asarray(_data(condition), bool), x, y)


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":  # integers and booleans carry no gradient, as in PyTorch
        return Tensor._make(_data(x).astype(dtype), False, None)
    return Cast.apply(x, dtype=dtype)


def matmul(x, y):
    return MatMul.apply(x, y)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


def amax(x, axis=None, keepdims=False):
    return Amax.apply(x, axis=_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    return Amin.apply(x, axis=_axis(axis, np.ndim(_data(x))), keepdims=keepdims)


def _spread(op, x, axis, keepdims, correction):
    axis = _axis(axis, np.ndim(_data(x)))
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


def reshape(x, *shape):
    return Reshape.apply(x, shape=sizes(shape))


def flatten(x, start_axis=0, end_axis=-1):
    """Axes start_axis to end_axis (both included) merged into one, as PyTorch's flatten."""
    shape = np.shape(_data(x))
    if not shape:
        _axis(start_axis, 0), _axis(end_axis, 0)
        return reshape(x, 1)
    start, end = (normalize_axis_index(a, len(shape), "flatten") for a in (start_axis, end_axis))
    if start > end:
        raise OpError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {shape}")
    return reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def squeeze(x, axis=None):
    """Without the axes of length 1, or of those among `axis` (an int or a tuple): an axis given
    that is longer than 1 stays, as in PyTorch."""
    shape = np.shape(_data(x))
    if axis is None:
        return reshape(x, tuple(n for n in shape if n != 1))
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not shape:
        _axis(axes, 0)
        return reshape(x, ())
    axes = {normalize_axis_index(a, len(shape), "squeeze") for a in axes}
    return reshape(x, tuple(n for i, n in enumerate(shape) if n != 1 or i not in axes))


def unsqueeze(x, axis):
    return reshape(x, np.expand_dims(np.empty(np.shape(_data(x)), bool), axis).shape)


def permute(x, *axes):
    """The axes in a new order, which names every axis once (as ints or one tuple); none reverses them."""
    axes = sizes(axes)
    return Permute.apply(x, axes=None if axes in ((), (None,)) else axes)


def transpose(x, *axes):
    """`transpose(a, b)` swaps axes a and b (PyTorch), whatever the number of axes; otherwise as
    `permute`: no axes reverses them, and a tuple names every axis (NumPy's transpose(axes))."""
    if len(axes) != 2:
        return permute(x, *axes)
    ndim = np.ndim(_data(x))
    if ndim == 0:
        _axis(axes, 0)
        return x
    order = list(range(ndim))
    a, b = (normalize_axis_index(axis, ndim, "transpose") for axis in axes)
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


def swapaxes(x, axis1, axis2):
    return transpose(x, axis1, axis2)


def expand(x, *shape):
    """The tensor broadcast to `shape`; -1 keeps an existing axis's size (PyTorch)."""
    shape, own = sizes(shape), np.shape(_data(x))
    new = len(shape) - len(own)  # leading axes that are new
    shape = tuple(own[i - new] if n == -1 and i >= new else n for i, n in enumerate(shape))
    return Expand.apply(x, shape=shape)


def _pytorch_index(index):
    """The index as one or two steps of NumPy indexing that give PyTorch's result. They differ
    where ints and index arrays are both given: PyTorch takes the ints first (each drops its
    axis), so x[1, :, [0, 2]] on a (2, 3, 4) tensor is (3, 2); NumPy, treating the int as one
    more index array separated from the other by a slice, puts their axis first: (2, 3)."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [isinstance(i, (list, np.ndarray)) and np.ndim(i) > 0 for i in parts]
    ints = [isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in parts]
    if not (any(arrays) and any(ints)):
        return [index]
    first = []  # the ints, full slices in place of the rest (a boolean mask covers its ndim axes)
    for part, is_array, is_int in zip(parts, arrays, ints):
        if is_int or part is Ellipsis:
            first.append(part)
        elif is_array:
            first += [slice(None)] * (np.ndim(part) if np.asarray(part).dtype == bool else 1)
        elif part is not None:
            first.append(slice(None))
    then = tuple(part for part, is_int in zip(parts, ints) if not is_int)
    return [tuple(first), then]


def getitem(x, index):
    for step in _pytorch_index(_data(index)):
        x = GetItem.apply(x, index=step)
    return x


def concatenate(tensors, axis=0):
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    return Stack.apply(*tensors, axis=axis)


def _comparison(ufunc):
    def compare(x, y):  # a plain boolean tensor: no graph, no gradient
        return Tensor._make(np.asarray(ufunc(_data(x), _data(y))), False, None)

    return compare


def _reflected(fn):
    return lambda self, other: fn(other, self)


# ---- in place -----------------------------------------------------------------------------------
def _write(x, name, write):
    """Run `write(x.data)`, which changes x's memory, and note it for the in-place checks."""
    try:
        write(x.data)
    except (ValueError, TypeError) as error:  # a read-only (expanded) array, or a dtype that cannot hold the result
        raise RuntimeError(f"{name}: cannot write into a tensor of shape {x.shape}, dtype {x.dtype}: {error}") from None
    mark_written(x.data)
    return x


def _in_place(op, ufunc):
    """x += y and friends: in place where no graph is recorded through x (under no_grad, or on tensors
    that need no gradient). Where one is, a leaf that requires grad refuses (its change would go
    unrecorded) and any other tensor gets a new node, as x = x + y (the name x is rebound)."""

    def method(self, other):
        if engine._grad_enabled and (self.requires_grad or isinstance(other, Tensor) and other.requires_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation: "
                                   "do it under no_grad() (as an optimizer's update) or write x = x + y")
            return op.apply(self, other)
        return _write(self, f"{ufunc.__name__} in place", lambda data: ufunc(data, _data(other), out=data))

    return method


def _setitem(self, index, value):
    if engine._grad_enabled and (self.requires_grad or isinstance(value, Tensor) and value.requires_grad):
        raise RuntimeError("assigning into a tensor that takes part in a graph is not recorded: use where(), "
                           "or do it under no_grad()")
    steps = _pytorch_index(_data(index))
    if len(steps) == 2:  # write through the view the ints select
        return _setitem(Tensor._make(self.data[steps[0]], False, None), steps[1], value)

    def assign(data):
        data[steps[0]] = _data(value)

    _write(self, "setitem", assign)


_METHODS = [add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sign, clip, maximum, minimum, matmul, sum,
            mean, amax, amin, var, std, reshape, flatten, squeeze, unsqueeze, permute, transpose, swapaxes,
            expand, astype]
for _fn in _METHODS:
    setattr(Tensor, _fn.__name__, _fn)
Tensor.clamp = clip
Tensor.view = reshape
Tensor.broadcast_to = expand
Tensor.T = property(lambda self: Permute.apply(self, axes=None))
Tensor.max, Tensor.min = amax, amin
Tensor.float = lambda self: astype(self, np.float32)
Tensor.double = lambda self: astype(self, np.float64)
Tensor.__getitem__, Tensor.__setitem__ = getitem, _setitem
Tensor.__add__, Tensor.__radd__, Tensor.__iadd__ = add, _reflected(add), _in_place(Add, np.add)
Tensor.__sub__, Tensor.__rsub__, Tensor.__isub__ = sub, _reflected(sub), _in_place(Sub, np.subtract)
Tensor.__mul__, Tensor.__rmul__, Tensor.__imul__ = mul, _reflected(mul), _in_place(Mul, np.multiply)
Tensor.__truediv__, Tensor.__rtruediv__, Tensor.__itruediv__ = div, _reflected(div), _in_place(Div, np.divide)
Tensor.__pow__, Tensor.__rpow__ = pow, _reflected(pow)
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, _reflected(matmul)
Tensor.__neg__, Tensor.__abs__ = neg, abs
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                      ("eq", np.equal), ("ne", np.not_equal), ("and", np.logical_and), ("or", np.logical_or),
                      ("xor", np.logical_xor)]:
    setattr(Tensor, f"__{_name}__", _comparison(_ufunc))
    Tensor._numpy_functions[_ufunc] = _comparison(_ufunc)
Tensor.__invert__ = lambda self: Tensor._make(~self.data, False, None)

# NumPy's functions on tensors: what backward formulas (and users) call
Tensor._numpy_functions.update({
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg, np.power: pow,
    np.exp: exp, np.log: log, np.sqrt: sqrt, np.absolute: abs, np.sign: sign, np.maximum: maximum,
    np.minimum: minimum, np.matmul: matmul, np.where: where, np.clip: clip,
    np.sum: sum, np.mean: mean, np.max: amax, np.min: amin, np.amax: amax, np.amin: amin,
    np.reshape: reshape, np.transpose: permute, np.swapaxes: swapaxes, np.broadcast_to: expand,
    np.expand_dims: unsqueeze, np.squeeze: squeeze, np.concatenate: concatenate, np.stack: stack,
    np.zeros_like: lambda x, dtype=None: Tensor._make(np.zeros_like(_data(x), dtype), False, None),
    np.ones_like: lambda x, dtype=None: Tensor._make(np.ones_like(_data(x), dtype), False, None),
})  # fmt: skip
