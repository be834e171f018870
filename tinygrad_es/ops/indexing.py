"""Indexing, with PyTorch's rules where they differ from NumPy's."""

import numpy as np

from ..engine import Function, Tensor, _data


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
        np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]

def getitem(x, index):
    for step in _pytorch_index(_data(index)):
        x = GetItem.apply(x, index=step)
    return x


Tensor.__getitem__ = getitem
