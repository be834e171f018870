"""Shape changes: reshape (view, flatten, unflatten, squeeze, unsqueeze), permute, transpose and
movedim, expand, concatenate and stack (hstack, vstack, dstack), and the pieces of a tensor (split,
chunk, unbind, narrow). Each is a reshape, a permutation, a broadcast, a concatenation or a slice,
so its gradient is the inverse one."""

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..engine import Function, OpError, Tensor, _data
from ..helpers import pytorch_axis, pytorch_names, sizes
from .indexing import GetItem


class Clone(Function):
    """A copy, in the graph: the gradient passes as it is."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(x):
    return Clone.apply(x)


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


@pytorch_names
def flatten(x, start_axis=0, end_axis=-1):
    """Axes start_axis to end_axis (both included) merged into one, as PyTorch's flatten."""
    shape = np.shape(_data(x))
    if not shape:
        pytorch_axis(start_axis, 0), pytorch_axis(end_axis, 0)
        return reshape(x, 1)
    start, end = (normalize_axis_index(a, len(shape), "flatten") for a in (start_axis, end_axis))
    if start > end:
        raise OpError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {shape}")
    return reshape(x, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


@pytorch_names
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


@pytorch_names
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


def swapaxes(x, axis0, axis1):
    return transpose(x, axis0, axis1)


@pytorch_names
def movedim(x, source, destination):
    """The axes `source` (an int or a tuple) moved to the places `destination`, the others keeping
    their order (np.moveaxis)."""
    ndim = np.ndim(_data(x))
    if ndim == 0:
        pytorch_axis(source, 0), pytorch_axis(destination, 0)
        return x
    source, destination = normalize_axis_tuple(source, ndim), normalize_axis_tuple(destination, ndim)
    if len(source) != len(destination):
        raise OpError(f"movedim: source {source} and destination {destination} name different numbers of axes")
    order = [a for a in range(ndim) if a not in source]
    for to, a in sorted(zip(destination, source)):
        order.insert(to, a)
    return permute(x, order)


def t(x):
    """A matrix transposed; a vector or a 0-d tensor as it is (PyTorch's t())."""
    if np.ndim(_data(x)) > 2:
        raise OpError(f"t() expects a tensor with <= 2 dimensions, got shape {np.shape(_data(x))}; use transpose")
    return permute(x) if np.ndim(_data(x)) == 2 else x


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


@pytorch_names
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


@pytorch_names
def stack(tensors, axis=0):
    return Stack.apply(*tensors, axis=axis)


def atleast_1d(x):
    return reshape(x, 1) if np.ndim(_data(x)) == 0 else x


def atleast_2d(x):
    shape = np.shape(_data(x))
    return reshape(x, (1,) * (2 - len(shape)) + shape) if len(shape) < 2 else x


def atleast_3d(x):
    """A 0-d tensor as (1, 1, 1), a vector (n,) as (1, n, 1), a matrix (m, n) as (m, n, 1), as NumPy and PyTorch."""
    shape = np.shape(_data(x))
    return reshape(x, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]) if len(shape) < 3 else x


def hstack(tensors):
    """Concatenated along axis 1, or 0 for vectors (0-d tensors count as vectors of one)."""
    tensors = [atleast_1d(t) for t in tensors]
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Stacked as rows: vectors become rows (1, n), then concatenated along axis 0."""
    return concatenate([atleast_2d(t) for t in tensors], axis=0)


def dstack(tensors):
    """Concatenated along axis 2 (depth), after atleast_3d."""
    return concatenate([atleast_3d(t) for t in tensors], axis=2)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from vectors: output i holds tensors[i] along axis i (indexing="ij", PyTorch's
    default) or, with "xy", the first two axes swapped (NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    lengths = [np.size(_data(t)) for t in tensors]
    where = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        where[0], where[1] = 1, 0
    shape = [0] * len(tensors)
    for i, n in zip(where, lengths):
        shape[i] = n
    return tuple(
        expand(reshape(t, [n if i == w else 1 for i in range(len(shape))]), shape)
        for t, n, w in zip(tensors, lengths, where)
    )


# ---- the pieces of a tensor -----------------------------------------------------------------------
def _piece(x, axis, start, stop):
    return GetItem.apply(x, index=_along(axis, slice(start, stop)))


def _axis_of(name, x, axis):
    ndim = np.ndim(_data(x))
    if ndim == 0:
        raise OpError(f"{name} expects at least a 1-dimensional tensor")
    return normalize_axis_index(axis, ndim)


@pytorch_names
def split(x, split_size_or_sections, axis=0):
    """Pieces along `axis`: of split_size_or_sections entries each (the last may be shorter), or of
    the sizes listed, which must add up to the axis's length."""
    axis = _axis_of("split", x, axis)
    length = np.shape(_data(x))[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = split_size_or_sections
        if size < 0 or (size == 0 and length):
            raise OpError(f"split expects split_size to be positive (or 0 for an empty axis), got {size}")
        starts = list(range(0, length, size)) if length else [0]  # an empty axis: one empty piece
        return tuple(_piece(x, axis, start, start + size) for start in starts)
    sections = list(split_size_or_sections)
    if sum(sections) != length or any(n < 0 for n in sections):
        raise OpError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (the input's size along "
            f"dimension {axis}), but got split_sizes={sections}"
        )
    ends = np.cumsum(sections).tolist()
    return tuple(_piece(x, axis, end - n, end) for n, end in zip(sections, ends))


@pytorch_names
def chunk(x, chunks, axis=0):
    """`chunks` pieces along `axis` of ceil(length / chunks) entries each (fewer pieces where the
    length runs out; an empty axis gives `chunks` empty pieces), as torch.chunk."""
    if chunks <= 0:
        raise OpError(f"chunk expects chunks to be greater than 0, got {chunks}")
    axis = _axis_of("chunk", x, axis)
    length = np.shape(_data(x))[axis]
    if length == 0:
        return tuple(_piece(x, axis, 0, 0) for _ in range(chunks))
    return split(x, -(-length // chunks), axis)


@pytorch_names
def unbind(x, axis=0):
    """The slices along `axis`, each without that axis."""
    axis = _axis_of("unbind", x, axis)
    return tuple(GetItem.apply(x, index=_along(axis, i)) for i in range(np.shape(_data(x))[axis]))


@pytorch_names
def narrow(x, axis, start, length):
    """`length` entries from `start` along `axis` (a negative start counts from the end)."""
    axis = _axis_of("narrow", x, axis)
    size = np.shape(_data(x))[axis]
    if not -size <= start <= size:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-size}, {size}], got {start})")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise OpError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size})")
    return _piece(x, axis, start, start + length)


@pytorch_names
def unflatten(x, axis, sizes):
    """Axis `axis` split into axes of the given `sizes` (one may be -1), the inverse of flatten."""
    shape = np.shape(_data(x))
    axis = _axis_of("unflatten", x, axis)
    return reshape(x, shape[:axis] + tuple(sizes) + shape[axis + 1 :])


def view_as(x, other):
    return reshape(x, np.shape(_data(other)))


def expand_as(x, other):
    return expand(x, np.shape(_data(other)))


for _fn in (
    reshape,
    flatten,
    unflatten,
    squeeze,
    unsqueeze,
    permute,
    transpose,
    swapaxes,
    movedim,
    t,
    expand,
    split,
    chunk,
    unbind,
    narrow,
    view_as,
    expand_as,
    clone,
):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.view, Tensor.reshape_as = reshape, view_as
Tensor.broadcast_to = expand
Tensor.moveaxis, Tensor.swapdims = movedim, swapaxes
Tensor.contiguous = lambda self: self  # every tensor is usable as it is: reshape copies where a view cannot be
Tensor.T = property(lambda self: Permute.apply(self, axes=None))
Tensor._numpy_functions.update(
    {
        np.reshape: reshape,
        np.transpose: permute,
        np.swapaxes: swapaxes,
        np.broadcast_to: expand,
        np.expand_dims: unsqueeze,
        np.squeeze: squeeze,
        np.concatenate: concatenate,
        np.stack: stack,
        np.moveaxis: movedim,
        np.hstack: hstack,
        np.vstack: vstack,
        np.dstack: dstack,
    }
)
