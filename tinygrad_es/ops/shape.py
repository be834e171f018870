"""Shape changes: reshape (view, flatten, squeeze, unsqueeze), permute and transpose, expand,
concatenate and stack."""

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..engine import Function, OpError, Tensor, _data
from ..helpers import pytorch_axis, sizes


class Reshape(Function):
    """Also view, flatten, squeeze and unsqueeze: each is a reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)

def reshape(x, *shape):
    return Reshape.apply(x, shape=sizes(shape))

def flatten(x, start_axis=0, end_axis=-1):
    """Axes start_axis to end_axis (both included) merged into one, as PyTorch's flatten."""
    shape = np.shape(_data(x))
    if not shape:
        pytorch_axis(start_axis, 0), pytorch_axis(end_axis, 0)
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
        pytorch_axis(axes, 0)
        return reshape(x, ())
    axes = {normalize_axis_index(a, len(shape), "squeeze") for a in axes}
    return reshape(x, tuple(n for i, n in enumerate(shape) if n != 1 or i not in axes))

def unsqueeze(x, axis):
    return reshape(x, np.expand_dims(np.empty(np.shape(_data(x)), bool), axis).shape)

class Permute(Function):
    """The axes in a new order (np.transpose); backward puts them back."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, None if ctx.axes is None else tuple(np.argsort(ctx.axes)))

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
        pytorch_axis(axes, 0)
        return x
    order = list(range(ndim))
    a, b = (normalize_axis_index(axis, ndim, "transpose") for axis in axes)
    order[a], order[b] = order[b], order[a]
    return permute(x, order)

def swapaxes(x, axis1, axis2):
    return transpose(x, axis1, axis2)

class Expand(Function):
    """broadcast_to; backward is the engine's unbroadcast, so the gradient passes as is."""

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad

def expand(x, *shape):
    """The tensor broadcast to `shape`; -1 keeps an existing axis's size (PyTorch)."""
    shape, own = sizes(shape), np.shape(_data(x))
    new = len(shape) - len(own)  # leading axes that are new
    shape = tuple(own[i - new] if n == -1 and i >= new else n for i, n in enumerate(shape))
    return Expand.apply(x, shape=shape)

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

def concatenate(tensors, axis=0):
    return Concatenate.apply(*tensors, axis=axis)

class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        out = np.stack(arrays, axis=axis)
        ctx.axis, ctx.count = axis % out.ndim, len(arrays)
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[_along(ctx.axis, i)] for i in range(ctx.count))

def stack(tensors, axis=0):
    return Stack.apply(*tensors, axis=axis)


for _fn in (reshape, flatten, squeeze, unsqueeze, permute, transpose, swapaxes, expand):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.view = reshape
Tensor.broadcast_to = expand
Tensor.T = property(lambda self: Permute.apply(self, axes=None))
Tensor._numpy_functions.update({
    np.reshape: reshape, np.transpose: permute, np.swapaxes: swapaxes, np.broadcast_to: expand,
    np.expand_dims: unsqueeze, np.squeeze: squeeze, np.concatenate: concatenate, np.stack: stack,
})  # fmt: skip
