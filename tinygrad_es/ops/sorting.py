"""Sorting and order statistics: sort, argsort, topk, median. Each finds its indices on the data and
picks the values with gather, so the gradient goes back to exactly the entries picked."""

import collections

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..engine import OpError, Tensor, _data
from ..helpers import pytorch_axis, pytorch_names
from .indexing import gather
from .reductions import Amax

# Named as PyTorch names them (torch.return_types.sort), not after the variables holding them
sort_result = collections.namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]
topk_result = collections.namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]
median_result = collections.namedtuple("median", ["values", "indices"])  # type: ignore[name-match]


def _data_and_axis(x, axis):
    """x's array and `axis` as a non-negative int (0 for a 0-d tensor, which takes 0 and -1)."""
    data = np.asarray(_data(x))
    if pytorch_axis(axis, data.ndim) is None:
        return data, 0
    return data, normalize_axis_index(axis, data.ndim)


def _order(data, axis, descending=False):
    """The indices that sort `data` along `axis`, ties in their order (a stable sort), nan last; in
    descending order ties stay in their order too and nan comes first, as PyTorch's sort."""
    if data.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(data, axis), axis=axis, kind="stable")  # ties in reverse order...
    return data.shape[axis] - 1 - np.flip(flipped, axis)  # ...and back: descending, ties in order


@pytorch_names
def sort(x, axis=-1, descending=False, stable=False):
    """(values, indices) sorted along `axis` (the last by default). Always stable: ties keep their
    order (PyTorch's stable=True; stable=False allows any order). nan sorts as the largest."""
    data, axis = _data_and_axis(x, axis)
    indices = _order(data, axis, descending).astype(np.int64)
    return sort_result(gather(x, axis, indices), Tensor._make(indices, False, None))


@pytorch_names
def argsort(x, axis=-1, descending=False, stable=False):
    """The indices that sort x along `axis` (sort's indices), as int64; no gradient."""
    data, axis = _data_and_axis(x, axis)
    return Tensor._make(_order(data, axis, descending).astype(np.int64), False, None)


@pytorch_names
def topk(x, k, axis=-1, largest=True, sorted=True):  # noqa: A002  (PyTorch's name)
    """The k largest (or smallest) entries along `axis` and their indices, largest first. Which of
    equal entries are picked where ties cross the k-th place is left open, as in PyTorch."""
    data, axis = _data_and_axis(x, axis)
    size = data.shape[axis] if data.ndim else 1
    if not 0 <= k <= size:
        raise OpError(f"topk(): selected index k out of range: k = {k} for size {size} along dimension {axis}")
    indices = _order(data, axis, descending=largest)
    if data.ndim:
        indices = indices[(slice(None),) * axis + (slice(0, k),)]
    indices = indices.astype(np.int64)
    return topk_result(gather(x, axis, indices), Tensor._make(indices, False, None))


def _lower_median(x, axis=None, keepdims=True):
    """The lower of the two middle values of all of x (PyTorch's median; NumPy's averages them), nan
    if x holds a nan or nothing; shaped as a full reduction with keepdims."""
    flat = x.reshape(-1)
    if flat.size == 0 or (x.dtype.kind in "fc" and np.isnan(flat).any()):
        return np.full((1,) * x.ndim, np.nan, x.dtype)
    middle = (flat.size - 1) // 2
    return np.full((1,) * x.ndim, np.partition(flat, middle)[middle], x.dtype)


class Median(Amax):
    """The median of all entries, the lower middle one for an even count; as amax, entries equal to
    it share its gradient (PyTorch's median())."""

    reduce = staticmethod(_lower_median)


@pytorch_names
def median(x, axis=None, keepdims=False):
    """As torch.median: the lower median of all entries (a 0-d tensor), or along `axis` a (values,
    indices) pair, whose gradient goes to the index given. A slice holding nan has median nan, at its
    first nan. Which of equal entries is the index is left open (as PyTorch's documentation says)."""
    if axis is None:
        return Median.apply(x, axis=None, keepdims=False)
    data, axis = _data_and_axis(x, axis)
    if data.ndim and data.shape[axis] == 0:
        raise IndexError(f"median(): expected reduction dim {axis} to have non-zero size")
    order = _order(data, axis)
    if data.ndim:
        middle = (data.shape[axis] - 1) // 2
        order = order[(slice(None),) * axis + (slice(middle, middle + 1),)]
        if data.dtype.kind in "fc":
            nan = np.isnan(data)
            order = np.where(nan.any(axis=axis, keepdims=True), np.argmax(nan, axis=axis, keepdims=True), order)
    indices = order.astype(np.int64)
    values = gather(x, axis, indices)
    if data.ndim and not keepdims:
        values, indices = values.squeeze(axis), np.squeeze(indices, axis)
    return median_result(values, Tensor._make(indices, False, None))


for _fn in (sort, argsort, topk, median):
    setattr(Tensor, _fn.__name__, _fn)
