"""torch.linalg's norms: `tg.linalg.norm`, `vector_norm` and `matrix_norm`."""

import math

import numpy as np

from .engine import OpError, _data
from .ops import amax, amin
from .ops import norm as _vector_norm

_MATRIX_ORDERS = ("fro", 1, -1, math.inf, -math.inf)


def vector_norm(x, ord=2, dim=None, keepdim=False):  # noqa: A002  (PyTorch's names)
    """The vector ord-norm of x over `dim` (all entries without one): ord = 2, 1, inf, -inf, 0 or
    any other number."""
    return _vector_norm(x, ord, dim, keepdim)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False):  # noqa: A002
    """The matrix norm over the two axes `dim`: "fro" (the root of the sum of squares), 1 (the
    largest column sum of |x|), -1 (the smallest), inf (the largest row sum), -inf (the smallest).
    The norms from singular values ("nuc", 2, -2) are not computed here."""
    if ord not in _MATRIX_ORDERS:
        raise OpError(
            f"matrix_norm: ord must be one of 'fro', 1, -1, inf, -inf here, got {ord!r} (the norms of "
            "singular values are not computed)"
        )
    ndim = np.ndim(_data(x))
    if ndim < 2:
        raise OpError(f"matrix_norm: expected a tensor of at least 2 dimensions, got shape {np.shape(_data(x))}")
    rows, cols = (d % ndim for d in dim)
    if rows == cols:
        raise OpError(f"matrix_norm: dim must name two different axes, got {dim}")
    if ord == "fro":
        return _vector_norm(x, 2, (rows, cols), keepdim)
    summed, other = (rows, cols) if abs(ord) == 1 else (cols, rows)  # 1: column sums, inf: row sums
    sums = x.abs().sum(axis=summed, keepdims=True)
    out = (amax if ord > 0 else amin)(sums, axis=other, keepdims=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(x, ord=None, dim=None, keepdim=False):  # noqa: A002
    """torch.linalg.norm: with `ord` None, the 2-norm of the flattened tensor (or of `dim`, one axis
    or two); with `ord` given, a vector norm over one axis (a 1-D tensor) and a matrix norm over two
    (a 2-D tensor, or the two axes of dim)."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return _vector_norm(x, 2, dim, keepdim)
    axes = dim if dim is not None else tuple(range(np.ndim(_data(x))))
    if len(axes) == 1:
        if isinstance(ord, str):
            raise OpError(f"linalg.norm: ord {ord!r} is a matrix norm; a vector norm takes a number")
        return _vector_norm(x, ord, axes, keepdim)
    if len(axes) == 2:
        return matrix_norm(x, ord, axes, keepdim)
    raise OpError(
        f"linalg.norm: with ord given, the input must be 1-D or 2-D, or dim must name 1 or 2 axes; got "
        f"shape {np.shape(_data(x))} and dim {dim}"
    )
