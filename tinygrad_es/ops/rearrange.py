"""Ops that copy entries into a new arrangement: flip, roll, repeat and tile, repeat_interleave, pad,
the triangles (tril, triu) and the diagonals (diagonal, diag, trace)."""

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..engine import Function, OpError, Tensor, _data
from ..helpers import pytorch_axis, pytorch_names, sizes
from .indexing import GetItem, IndexAdd, index_select
from .shape import movedim


def _axes(axis, ndim, repeats=False):
    """An int or a sequence of ints as a tuple of non-negative axes (none for a 0-d tensor), each
    named once unless `repeats` (roll adds up the shifts of an axis named twice, as PyTorch)."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if ndim == 0:
        pytorch_axis(axis, 0)
        return ()
    return tuple(normalize_axis_index(a, ndim) for a in axis) if repeats else normalize_axis_tuple(axis, ndim)


class Flip(Function):
    """The entries in reverse order along the given axes; the gradient is flipped back."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.flip(x, axis).copy()  # a copy, as PyTorch's flip: writing to it leaves x alone

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axis)


@pytorch_names
def flip(x, axis):
    """x reversed along `axis` (an int or a sequence of them; PyTorch's `dims`)."""
    return Flip.apply(x, axis=_axes(axis, np.ndim(_data(x))))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


class Roll(Function):
    """The entries shifted along `axis` by `shifts`, those pushed off one end coming in at the
    other (np.roll; without an axis over the flattened tensor); the gradient rolls back."""

    @staticmethod
    def forward(ctx, x, shifts, axis):
        ctx.shifts, ctx.axis = shifts, axis
        return np.roll(x, shifts, axis)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad, back, ctx.axis)


@pytorch_names
def roll(x, shifts, axis=None):
    shifts = tuple(shifts) if isinstance(shifts, list) else shifts
    if axis is not None:
        if len(np.atleast_1d(shifts)) != len(np.atleast_1d(axis)):
            raise OpError(f"roll: shifts {shifts} and dims {axis} must have the same length")
        axis = _axes(axis, np.ndim(_data(x)), repeats=True) or None
        shifts = shifts if isinstance(shifts, tuple) or axis is None else (shifts,) * len(axis)
    return Roll.apply(x, shifts=shifts, axis=axis)


class Tile(Function):
    """x repeated reps[i] times along each axis i (np.tile, PyTorch's repeat): the gradient of each
    entry is the sum over its copies, grad seen as (reps[0], n0, reps[1], n1, ...) summed over the reps."""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape, ctx.reps = (1,) * (len(reps) - x.ndim) + x.shape, reps
        ctx.input_shape = x.shape
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        split = [n for pair in zip(ctx.reps, ctx.shape) for n in pair]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.input_shape)


def repeat(x, *sizes_):
    """x repeated sizes[i] times along each axis (PyTorch's repeat, NumPy's tile): sizes has at
    least x's number of axes; extra ones add leading axes."""
    reps = sizes(sizes_)
    if len(reps) < np.ndim(_data(x)):
        raise OpError(
            f"repeat: number of dimensions of repeat dims ({len(reps)}) can not be smaller than the number "
            f"of dimensions of the tensor ({np.ndim(_data(x))})"
        )
    return Tile.apply(x, reps=tuple(reps))


def tile(x, dims):
    """x repeated dims[i] times along each axis; fewer dims than axes repeat the last axes (torch.tile)."""
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    return Tile.apply(x, reps=(1,) * (np.ndim(_data(x)) - len(dims)) + dims)


@pytorch_names
def repeat_interleave(x, repeats, axis=None):
    """Each entry repeated `repeats` times (or repeats[i] times for entry i) in place, along `axis`,
    or over the flattened tensor without one: [1, 2] -> [1, 1, 2, 2]."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    length = np.shape(_data(x))[_axes(axis, np.ndim(_data(x)))[0]] if np.ndim(_data(x)) else 1
    repeats = np.asarray(_data(repeats))
    if repeats.ndim and repeats.shape != (length,):
        raise OpError(
            f"repeat_interleave: repeats must have the same size as input along dim {axis}, got "
            f"{repeats.shape[0]} repeats for size {length}"
        )
    if (repeats < 0).any():
        raise OpError("repeat_interleave: repeats can not be negative")
    return index_select(x, axis, np.repeat(np.arange(length), repeats))


class ConstantPad(Function):
    """x with widths[i] = (before, after) entries of `value` added along each axis (np.pad); the
    gradient is the part of the output's gradient where x is."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value) if x.ndim else x.copy()  # np.pad refuses a 0-d array

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner]


def _pad_positions(n, before, after, mode):
    """The index of the entry of an axis of length n that each place of the padded axis copies."""
    place = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(place, 0, n - 1)
    if mode == "circular":
        return place % n
    return np.abs(place) - 2 * np.maximum(place - (n - 1), 0)  # reflect: the edge entry is not repeated


def pad(x, pad, mode="constant", value=None):  # noqa: A002  (PyTorch's F.pad)
    """x padded as torch.nn.functional.pad: `pad` lists (before, after) widths from the LAST axis
    backwards, (left, right, top, bottom, ...). mode "constant" adds `value` (0 by default; negative
    widths crop), "reflect" mirrors the entries next to the edge (the edge itself once), "replicate"
    repeats the edge, "circular" wraps around."""
    shape = np.shape(_data(x))
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise OpError(
            f"pad: padding length must be even and at most twice the number of dimensions ({len(shape)}), "
            f"got {len(pad)}"
        )
    widths = [(0, 0)] * (len(shape) - len(pad) // 2) + [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
    if mode == "constant":
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, shape))
        if any(b < 0 or a < 0 for b, a in widths):
            x = GetItem.apply(x, index=crop)
        return ConstantPad.apply(x, widths=[(max(b, 0), max(a, 0)) for b, a in widths], value=value or 0)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not one of 'constant', 'reflect', 'replicate', 'circular'")
    for axis, ((before, after), n) in enumerate(zip(widths, shape)):
        if before or after:
            limit = {"reflect": n - 1, "circular": n, "replicate": math.inf}[mode]
            if n == 0 or min(before, after) < 0 or max(before, after) > limit:
                raise OpError(
                    f"pad: {mode} padding ({before}, {after}) does not fit dimension {axis} of size {n}: "
                    "reflect needs widths < size, circular <= size, and none may be negative"
                )
            x = index_select(x, axis, _pad_positions(n, before, after, mode))
    return x


class Triangle(Function):
    """The lower (tril) or upper (triu) triangle of the last two axes, from diagonal k on, the rest 0;
    the gradient is the same triangle of the output's gradient."""

    part = staticmethod(np.tril)

    @classmethod
    def forward(cls, ctx, x, k):
        if x.ndim < 2:
            raise OpError(f"{cls.__name__.lower()}: input tensor must have at least 2 dimensions, got shape {x.shape}")
        ctx.k = k
        return cls.part(x, k)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.part(grad, ctx.k)


class Tril(Triangle):
    part = staticmethod(np.tril)


class Triu(Triangle):
    part = staticmethod(np.triu)


def tril(x, diagonal=0):
    return Tril.apply(x, diagonal)


def triu(x, diagonal=0):
    return Triu.apply(x, diagonal)


@pytorch_names
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of the axes axis1 and axis2 (offset above it, or below for a negative offset), as
    the last axis of the result (PyTorch's diagonal)."""
    ndim = np.ndim(_data(x))
    if ndim < 2:
        raise OpError(f"diagonal: input must have at least 2 dimensions, got shape {np.shape(_data(x))}")
    axis1, axis2 = normalize_axis_index(axis1, ndim), normalize_axis_index(axis2, ndim)
    if axis1 == axis2:
        raise OpError(f"diagonal dimensions cannot be identical {axis1}, {axis2}")
    moved = movedim(x, (axis1, axis2), (-2, -1))
    rows, cols = _diagonal_places(*moved.shape[-2:], offset)
    return GetItem.apply(moved, index=(Ellipsis, rows, cols))


_diagonal_of = diagonal  # for diag, whose argument `diagonal` hides the function


def _diagonal_places(n, m, offset):
    """(rows, cols) of the entries on diagonal `offset` of an n x m matrix."""
    length = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    steps = np.arange(length)
    return (steps, steps + offset) if offset >= 0 else (steps - offset, steps)


def diag(x, diagonal=0):
    """Of a vector, the square matrix with it on diagonal `diagonal` (0 elsewhere); of a matrix, that
    diagonal as a vector."""
    ndim = np.ndim(_data(x))
    if ndim == 2:
        return _diagonal_of(x, diagonal)
    if ndim != 1:
        raise OpError(f"diag(): supports 1D or 2D tensors, got {ndim}D")
    size = len(_data(x)) + abs(diagonal)
    return IndexAdd.apply(x, shape=(size, size), index=_diagonal_places(size, size, diagonal))


def trace(x):
    """The sum of a matrix's diagonal."""
    if np.ndim(_data(x)) != 2:
        raise OpError(f"trace: expected a matrix, got shape {np.shape(_data(x))}")
    return diagonal(x).sum()


for _fn in (flip, fliplr, flipud, roll, repeat, tile, repeat_interleave, tril, triu, diagonal, diag, trace):
    setattr(Tensor, _fn.__name__, _fn)
Tensor._numpy_functions.update(
    {np.flip: flip, np.roll: roll, np.tile: tile, np.tril: tril, np.triu: triu, np.diagonal: diagonal}
)
