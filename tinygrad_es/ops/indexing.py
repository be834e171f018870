"""Indexing, with PyTorch's rules where they differ from NumPy's: x[index], and the indexing ops
gather, scatter, scatter_add, index_select, masked_fill, masked_select and nonzero. Each is
indexing (GetItem) or its adjoint (IndexAdd, Scatter), so their gradients are indexing too."""

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..engine import Function, OpError, Tensor, _data
from ..helpers import pytorch_axis, pytorch_names
from .arithmetic import Where


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
        out = np.zeros_like(x, shape=shape, order="C")  # np.zeros, made through x: a compiled step records it
        if _is_basic(index):  # slices and ints pick each element once: a plain write, many times faster than add.at
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer)) or i is None or i is Ellipsis for i in parts)


def getitem(x, index):
    for step in _pytorch_index(_data(index)):
        x = GetItem.apply(x, index=step)
    return x


# ---- indexing along one axis ----------------------------------------------------------------------
def _index_array(index, name):
    index = np.asarray(_data(index))
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}(): expected an integer index, got dtype {index.dtype}")
    return index


def _along_axis(index, axis):
    """The index tuple that picks index[i, j, k] along `axis` and i, j, k themselves along the other
    axes (np.take_along_axis's): x[_along_axis(index, 1)][i, j, k] = x[i, index[i, j, k], k]."""
    ndim = index.ndim
    return tuple(
        index if a == axis else np.arange(n).reshape((1,) * a + (n,) + (1,) * (ndim - a - 1))
        for a, n in enumerate(index.shape)
    )


def _check_along_axis(name, shape, axis, index, src_shape=None):
    """PyTorch's rules for gather and scatter: index has x's number of axes, is no longer than x on the
    other axes (nor than src on any), and its entries along `axis` are in [0, size)."""
    if index.ndim != len(shape):
        raise OpError(
            f"{name}(): index must have the same number of dimensions as input, got {index.ndim} and {len(shape)}"
        )
    size = shape[axis] if shape else 1
    for a, n in enumerate(index.shape):
        if (a != axis and n > shape[a]) or (src_shape is not None and n > src_shape[a]):
            raise OpError(
                f"{name}(): index {index.shape} must be no larger than input {shape} apart from dimension "
                f"{axis}" + ("" if src_shape is None else f" and no larger than src {src_shape}")
            )
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise OpError(f"{name}(): index {bad} is out of bounds for dimension {axis} with size {size}")


def _axis(axis, ndim):
    return 0 if pytorch_axis(axis, ndim) is None else normalize_axis_index(axis, ndim)


@pytorch_names
def gather(x, axis, index):
    """out[i, j, k] = x[i, index[i, j, k], k] for axis 1 (any axis alike), as torch.gather:
    index has x's number of axes; the gradient is added back where each element was picked."""
    shape, index = np.shape(_data(x)), _index_array(index, "gather")
    axis = _axis(axis, len(shape))
    _check_along_axis("gather", shape, axis, index)
    return GetItem.apply(x, index=_along_axis(index, axis))


@pytorch_names
def scatter_add(x, axis, index, src):
    """x with src[i, j, k] added at [i, index[i, j, k], k] for axis 1 (repeated places add up), as
    torch.scatter_add: x + the adjoint of gather."""
    shape, index = np.shape(_data(x)), _index_array(index, "scatter_add")
    axis = _axis(axis, len(shape))
    _check_along_axis("scatter_add", shape, axis, index, np.shape(_data(src)))
    if np.shape(_data(src)) != index.shape:
        src = getitem(src, tuple(slice(0, n) for n in index.shape))
    return x + IndexAdd.apply(src, shape=shape, index=_along_axis(index, axis))


class Scatter(Function):
    """x with src written at `index` (a full index tuple); where an index repeats, the last write
    stays (PyTorch leaves it undefined). x's gradient is 0 where written, src's is the gradient
    read at the places written, for the entries that stayed (an entry written over has none)."""

    @staticmethod
    def forward(ctx, x, src, index):
        out, last = x.copy(), np.full(x.shape, -1)
        order = np.arange(last[index].size).reshape(last[index].shape)  # each write numbered, in index order
        out[index], last[index] = src, order  # the same writes into `last`: the numbers of those that stay
        ctx.save_for_backward(last >= 0, last[index] == order)
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, grad):
        written, stayed = ctx.saved_tensors
        return np.where(written, 0, grad), np.where(stayed, grad[ctx.index], 0) if ctx.needs_input_grad[1] else None


@pytorch_names
def scatter(x, axis, index, src=None, value=None):
    """x with src[i, j, k] (or one `value`) written at [i, index[i, j, k], k] for axis 1, as torch.scatter."""
    shape, index = np.shape(_data(x)), _index_array(index, "scatter")
    axis = _axis(axis, len(shape))
    if src is None or not isinstance(src, (Tensor, np.ndarray)):
        value = src if value is None else value
        _check_along_axis("scatter", shape, axis, index)
        return Scatter.apply(x, value, index=_along_axis(index, axis))
    _check_along_axis("scatter", shape, axis, index, np.shape(_data(src)))
    if np.shape(_data(src)) != index.shape:
        src = getitem(src, tuple(slice(0, n) for n in index.shape))
    return Scatter.apply(x, src, index=_along_axis(index, axis))


@pytorch_names
def index_select(x, axis, index):
    """The entries `index` (a vector of ints) along `axis`, in that order, repeats allowed."""
    shape, index = np.shape(_data(x)), _index_array(index, "index_select")
    axis = _axis(axis, len(shape))
    if index.ndim > 1:
        raise IndexError(f"index_select(): index is supposed to be a vector, got shape {index.shape}")
    size = shape[axis] if shape else 1
    if index.size and (index.min() < 0 or index.max() >= size):
        raise IndexError(
            f"index_select(): index out of range in self (size {size} along dimension {axis}, got "
            f"indices in [{index.min()}, {index.max()}])"
        )
    if not shape:  # a 0-d tensor: its one entry
        if index.size != 1:
            raise OpError(f"index_select(): index to a 0-d tensor can have only 1 value, got {index.size}")
        return GetItem.apply(x, index=())
    return GetItem.apply(x, index=(slice(None),) * axis + (index.reshape(-1),))


def _bool_mask(mask, name):
    mask = np.asarray(_data(mask))
    if mask.dtype != bool:
        raise OpError(f"{name} only supports boolean masks, but got mask with dtype {mask.dtype}")
    return mask


def masked_fill(x, mask, value):
    """x with `value` where the boolean `mask` holds (the two broadcast together, as in PyTorch);
    differentiable in x and in a 0-d tensor value."""
    mask = _bool_mask(mask, "masked_fill")
    if not isinstance(value, Tensor):
        value = np.array(value, x.dtype)
    elif value.ndim:
        raise OpError(f"masked_fill only supports a 0-dimensional value tensor, got shape {value.shape}")
    return Where.apply(mask, value, x)


def masked_select(x, mask):
    """The entries of x where the boolean `mask` holds (both broadcast), as a vector."""
    mask = _bool_mask(mask, "masked_select")
    shape = np.broadcast_shapes(mask.shape, np.shape(_data(x)))
    if shape != np.shape(_data(x)):
        x = x.expand(shape)
    return GetItem.apply(x, index=np.broadcast_to(mask, shape))


def nonzero(x, as_tuple=False):
    """The indices of the nonzero entries: an int64 (count, ndim) tensor, or one vector per axis with
    as_tuple=True. No gradient."""
    data = np.asarray(_data(x))
    if as_tuple:
        return tuple(Tensor._make(i, False, None) for i in np.nonzero(np.atleast_1d(data)))
    return Tensor._make(np.argwhere(data).astype(np.int64), False, None)


Tensor.__getitem__ = getitem
for _fn in (gather, scatter, scatter_add, index_select, masked_fill, masked_select, nonzero):
    setattr(Tensor, _fn.__name__, _fn)
