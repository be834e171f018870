"""The primitive ops: arithmetic, reductions and shape changes, each forward beside its backward.

Forward and backward work on NumPy arrays. Backward may return a gradient in the broadcast
shape of the output; the engine sums it back to each input's shape (`engine.unbroadcast`).
"""
import functools

import numpy as np

from .engine import Function, Tensor
from .random import default_generator


def _silent(fn):
    """`fn` under np.errstate(all="ignore"): where the math gives inf or nan (exp overflowing, log 0,
    1 / 0) the result is that IEEE value, without a warning, as PyTorch gives it."""

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


# ---- elementwise arithmetic -------------------------------------------------------------------
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
    @staticmethod
    def forward(ctx, x, y):
        out = x / y
        ctx.save_for_backward(y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        y, out = ctx.saved_tensors
        gx = grad / y
        return gx, -gx * out if ctx.needs_input_grad[1] else None  # d(x/y)/dy = -(x/y)/y


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
        gx = grad * np.where(p == 0, 0, p * np.power(x, p - 1)) if needs_x else None
        gp = grad * np.where((x == 0) & (p >= 0), 0, out * np.log(x)) if needs_p else None
        return gx, gp


class Exp(Function):
    @staticmethod
    @_silent
    def forward(ctx, x):
        ctx.out = np.exp(x)
        return ctx.out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.out


class Log(Function):
    @staticmethod
    @_silent
    def forward(ctx, x):
        ctx.x = x
        return np.log(x)

    @staticmethod
    @_silent
    def backward(ctx, grad):
        return grad / ctx.x


class Sqrt(Function):
    @staticmethod
    @_silent
    def forward(ctx, x):
        ctx.out = np.sqrt(x)
        return ctx.out

    @staticmethod
    @_silent
    def backward(ctx, grad):
        return grad / (2 * ctx.out)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.sign(ctx.x)  # 0 at 0, as PyTorch


class Clip(Function):
    """Gradient passes where min <= x <= max (bounds included, as PyTorch's clamp)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.inside = (x >= (-np.inf if low is None else low)) & (x <= (np.inf if high is None else high))
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside, None, None


def _tie_share(wins, ties, dtype):
    share = np.array(wins, dtype)
    share[ties] = 0.5
    return share


class Maximum(Function):
    """Elementwise max; where x == y the gradient is shared half and half, as PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.x_share = _tie_share(x > y, x == y, np.result_type(x, y))
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        gx = grad * ctx.x_share
        return gx, grad - gx if ctx.needs_input_grad[1] else None


class Minimum(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.x_share = _tie_share(x < y, x == y, np.result_type(x, y))
        return np.minimum(x, y)

    backward = Maximum.backward


class Where(Function):
    """`condition ? x : y`; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.condition = condition
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros((), grad.dtype)
        return None, np.where(ctx.condition, grad, zero), np.where(ctx.condition, zero, grad)


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
    """np.matmul: 2-D, 1-D (a vector, promoted and then dropped) and batched."""

    @staticmethod
    def forward(ctx, x, y):
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
        gx = grad @ y.swapaxes(-1, -2) if needs_x else None  # the method: np.swapaxes is a slow wrapper
        gy = x.swapaxes(-1, -2) @ grad if needs_y else None
        if gx is not None and ctx.saved_tensors[0].ndim == 1:
            gx = gx[..., 0, :]
        if gy is not None and ctx.saved_tensors[1].ndim == 1:
            gy = gy[..., 0]
        return gx, gy


# ---- reductions -------------------------------------------------------------------------------
def _spread(grad, shape, axis, keepdims):
    """Copy the gradient of a reduction back over the reduced axes. A fresh array rather than
    np.broadcast_to's view: that wrapper alone costs 2 us, and a leaf can keep the array as is."""
    if axis is not None and not keepdims:
        grad = np.expand_dims(grad, axis)
    out = np.empty(shape, grad.dtype)
    out[...] = grad
    return out


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)  # the method: np.sum's wrapper costs 1 us more

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.shape, ctx.axis, ctx.keepdims)


class Mean(Function):
    """The mean over an empty axis is nan, as in PyTorch, without NumPy's warnings."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        if x.size == 0:  # 0 / 0: NumPy's mean would warn twice
            with np.errstate(invalid="ignore"):
                return x.sum(axis=axis, keepdims=keepdims) / x.dtype.type(_count(x.shape, axis))
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        # over an empty axis the gradient has no entries: any divisor but 0 gives it
        return _spread(grad / max(_count(ctx.shape, ctx.axis), 1), ctx.shape, ctx.axis, ctx.keepdims)


class Max(Function):
    """Where several elements tie for the max, they share its gradient equally. A slice holding
    nan has nan as its max (NumPy, PyTorch), and its nans take the gradient."""

    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        out = cls.reduce(x, axis=axis, keepdims=True)
        hit = x == out
        if np.isnan(out).any():  # nan == nan is False; a nan makes its whole slice's max nan, so it is a max
            hit |= np.isnan(x)
        share = hit.astype(x.dtype)
        share /= share.sum(axis=axis, keepdims=True)
        ctx.share = share
        ctx.axis, ctx.keepdims = axis, keepdims
        return out if keepdims else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.share.shape, ctx.axis, ctx.keepdims) * ctx.share


class Min(Max):
    reduce = staticmethod(np.min)


class Var(Function):
    """sum((x - mean)^2) / (n - correction); d/dx = 2 (x - mean) / (n - correction)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims, correction):
        ctx.centered = x - x.mean(axis=axis, keepdims=True)
        ctx.divisor = _count(x.shape, axis) - correction
        ctx.axis, ctx.keepdims = axis, keepdims
        return np.sum(ctx.centered**2, axis=axis, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        grad = _spread(grad, ctx.centered.shape, ctx.axis, ctx.keepdims)
        # n <= correction: the variance is nan (NumPy warns in forward), and so is its gradient
        return grad * ctx.centered * (2 / ctx.divisor if ctx.divisor > 0 else np.nan)


class Std(Var):
    """sqrt(var); d/dx = (x - mean) / ((n - correction) std), taken as 0 where std is 0 (PyTorch):
    the gradient of sqrt at 0 is infinite, but there every x - mean is 0."""

    @staticmethod
    def forward(ctx, x, axis, keepdims, correction):
        ctx.std = np.sqrt(Var.forward(ctx, x, axis, keepdims, correction))
        return ctx.std

    @staticmethod
    def backward(ctx, grad):
        std = ctx.std
        return Var.backward(ctx, grad / (2 * np.where(std == 0, np.inf, std)))


# ---- shape changes ------------------------------------------------------------------------------
class Reshape(Function):
    """Also squeeze, unsqueeze, flatten and view: each is a reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, None if ctx.axes is None else np.argsort(ctx.axes))


class Expand(Function):
    """broadcast_to; backward is the engine's unbroadcast, so the gradient passes as is."""

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _is_basic_index(index):
    """Slices, ints, None and ... select each element at most once: no repeats to add up."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in parts)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, ctx.dtype)
        if _is_basic_index(ctx.index):
            out[ctx.index] = grad
        else:  # integer arrays may repeat an element: each repeat adds its gradient
            np.add.at(out, ctx.index, grad)
        return out


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def where(condition, x, y):
    """`x` where `condition` holds, else `y`; differentiable in x and y."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    return Where.apply(np.asarray(condition, bool), x, y)


def maximum(x, y):
    return Maximum.apply(x, y)


def minimum(x, y):
    return Minimum.apply(x, y)


def concatenate(tensors, axis=0):
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    return Stack.apply(*tensors, axis=axis)


# ---- fused layers ---------------------------------------------------------------------------------
class Linear(Function):
    """x @ weight.T + bias in one node, the whole of a dense layer (weight is (out, in), as in
    PyTorch). Any leading axes of x are batch axes. Given `activation`, an elementwise activation
    op (activations.Elementwise), its f runs on the result in the same node and backward first
    multiplies by its f': one node per layer instead of two.

    The products are 2-D `ndarray.dot` calls, with the batch axes flattened into one: for the
    small matrices of a small network the method costs about 0.4 us less than `@` (and than
    np.dot, which first goes through NumPy's dispatch in Python), and for 3-D inputs `@` is
    slower still. The bias gradient, a sum over the rows, is a product with a vector of ones,
    which BLAS does in half the time of sum(axis=0) at these sizes."""

    activation = None  # the activation op's instance, when one runs in this node

    @staticmethod
    def forward(ctx, x, weight, bias, activation=None, options=None):
        ctx.x, ctx.weight = x, weight
        out = (x if x.ndim == 2 else _rows(x)).dot(weight.T)
        if bias is not None:
            out += bias
        if x.ndim != 2:
            out = out.reshape(x.shape[:-1] + out.shape[1:])
        if activation is not None:
            ctx.activation = activation()  # the activation's own op keeps what its f' needs
            out = ctx.activation.value(out, **options)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.x, ctx.weight
        if ctx.activation is not None:
            grad = grad * ctx.activation.slope()
        if grad.ndim != 2:
            grad, x = _rows(grad), _rows(x)
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]  # the activation's inputs never need one
        gx = grad.dot(weight) if needs_x else None
        if gx is not None and ctx.x.ndim != 2:
            gx = gx.reshape(ctx.x.shape)
        gw = grad.T.dot(x) if needs_weight else None
        gb = _ones(len(grad), grad.dtype).dot(grad) if needs_bias else None
        return gx, gw, gb


def _rows(x):
    """x as a matrix with one row per batch element (its last axis the features)."""
    if x.ndim == 0:
        raise ValueError("a 0-d input has no features axis")
    return x.reshape(-1, x.shape[-1])


def _shared(make):
    """`make(*args)` made once per args and shared between calls (so read-only): the constant
    arrays a training step needs every time."""

    @functools.lru_cache(maxsize=16)
    def cached(*args):
        array = make(*args)
        array.flags.writeable = False
        return array

    return cached


_ones = _shared(np.ones)  # _ones(n, dtype)
# _scalar(value, dtype): a number as a 0-d array. NumPy combines an array with a 0-d array of its
# dtype about 0.2 us faster than with a Python number, whose dtype it must first work out.
_scalar = _shared(np.array)


def linear(x, weight, bias=None, activation=None, options=None):
    """x @ weight.T + bias, then `activation` (an elementwise activation op class, given its
    keyword `options`) in the same node."""
    if activation is None:
        return Linear.apply(x, weight, bias)
    return Linear.apply(x, weight, bias, activation, options or {})


# ---- regularization ------------------------------------------------------------------------------
class Dropout(Function):
    """Inverted dropout: x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p); the gradient
    passes through the same mask."""

    @staticmethod
    def forward(ctx, x, p, generator):
        if p == 1:
            ctx.mask = np.zeros_like(x)
        else:
            draws = generator.random(x.shape, np.float32 if x.dtype == np.float32 else np.float64)
            ctx.mask = (draws >= p) * x.dtype.type(1 / (1 - p))
        return x * ctx.mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) when training; the identity
    otherwise (and for p = 0). `generator` (a numpy.random.Generator) makes the mask repeatable."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator or default_generator())
