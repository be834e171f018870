"""Making tensors: from data, filled with a value, in ranges, or drawn at random.

dtypes follow PyTorch: `tensor(data)` infers them as torch.tensor does (Python ints -> int64, floats
-> float32, bools -> bool; a NumPy array keeps its dtype), while `Tensor(data)` makes Python numbers
float32, as torch.Tensor; `arange` of ints is int64, of floats float32; `full` follows its fill
value; `randint` is int64; the `*_like` functions keep the tensor's dtype unless given one; the rest
are float32 unless given a dtype."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .engine import OpError, Tensor, _data
from .helpers import sizes
from .random import draw

Shape = int | Sequence[int]  # zeros(2, 3) or zeros((2, 3)): the sizes one by one, or in one sequence


def _inferred(data):
    """`data` as an array with the dtype torch.tensor infers."""
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    return array


def tensor(data: Tensor | npt.ArrayLike, *, dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of a copy of `data`, as torch.tensor: Python ints become int64, floats float32 and bools
    bool; a NumPy array keeps its dtype. `Tensor(array)` shares the array's memory instead (as
    torch.as_tensor), so an optimizer's in-place steps would change the array."""
    data = _data(data)
    array = np.array(data, dtype) if dtype is not None else _inferred(data)
    if isinstance(data, np.ndarray) and np.shares_memory(array, data):
        array = array.copy()
    return Tensor(array, requires_grad)


def as_tensor(data: Tensor | npt.ArrayLike, *, dtype: npt.DTypeLike | None = None) -> Tensor:
    """`data` as a Tensor, sharing its memory where it can: the same tensor, or a tensor on the same
    NumPy array, when the dtype fits; otherwise a new one with the dtype inferred as `tensor` does."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor(data)
    data = _data(data)
    return Tensor(np.asarray(data, dtype) if dtype is not None else _inferred(data))


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor on the memory of a NumPy array, with its dtype: changes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*shape: Shape, dtype: npt.DTypeLike | None = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(sizes(shape), dtype or np.float32), requires_grad=requires_grad)


def ones(*shape: Shape, dtype: npt.DTypeLike | None = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(sizes(shape), dtype or np.float32), requires_grad=requires_grad)


def empty(*shape: Shape, dtype: npt.DTypeLike | None = np.float32, requires_grad: bool = False) -> Tensor:
    """As torch.empty, but filled with zeros: memory is never handed out unwritten."""
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def full(
    size: Shape, fill_value: Tensor | npt.ArrayLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of `size` filled with `fill_value`, whose dtype it takes (int64, float32 or bool)
    unless given one."""
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    dtype = dtype or _inferred(_data(fill_value)).dtype
    return Tensor(np.full(size, _data(fill_value), dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: npt.DTypeLike | None = np.float32, requires_grad: bool = False) -> Tensor:
    """The n x m (n x n) identity matrix: ones on the diagonal."""
    return Tensor(np.eye(n, m, dtype=dtype or np.float32), requires_grad=requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to end (not included): arange(5) is 0..4. int64 when start, end and
    step are ints, float32 otherwise; ceil((end - start) / step) entries."""
    start, end = (0, start) if end is None else (start, end)
    if step == 0:
        raise OpError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise OpError(
            f"arange: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})"
        )
    integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    dtype = np.dtype(dtype or (np.int64 if integral else np.float32))
    count = math.ceil((end - start) / step)
    i: np.ndarray = np.arange(count, dtype=np.int64 if integral else np.float64)
    values = start + i * step  # PyTorch's: start + i step
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: npt.DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included; float32 unless given a dtype.
    As PyTorch, the first half counts up from start and the second half down from end."""
    if steps < 0:
        raise OpError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = np.dtype(dtype or np.float32)
    compute = dtype if dtype.kind == "f" else np.float64
    step = (np.array(end, compute) - np.array(start, compute)) / max(steps - 1, 1)
    i = np.arange(steps)
    halfway = max(steps // 2, 1)  # one step is start alone
    values = np.where(i < halfway, start + step * i.astype(compute), end - step * (steps - 1 - i).astype(compute))
    return Tensor(values.astype(compute).astype(dtype), requires_grad=requires_grad)


def _like(x, dtype):
    return np.shape(_data(x)), np.dtype(dtype or np.asarray(_data(x)).dtype)


def zeros_like(x: Tensor | npt.ArrayLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return Tensor(np.zeros(shape, dtype), requires_grad=requires_grad)


def ones_like(x: Tensor | npt.ArrayLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return Tensor(np.ones(shape, dtype), requires_grad=requires_grad)


def empty_like(x: Tensor | npt.ArrayLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """As torch.empty_like, but filled with zeros."""
    return zeros_like(x, dtype, requires_grad)


def full_like(
    x: Tensor | npt.ArrayLike,
    fill_value: Tensor | npt.ArrayLike,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    shape, dtype = _like(x, dtype)
    return Tensor(np.full(shape, _data(fill_value), dtype), requires_grad=requires_grad)


def randn(
    *shape: Shape,
    dtype: npt.DTypeLike | None = np.float32,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Samples of N(0, 1)."""
    data = draw(generator, "standard_normal", sizes(shape)).astype(dtype or np.float32)
    return Tensor(data, requires_grad=requires_grad)


def rand(
    *shape: Shape,
    dtype: npt.DTypeLike | None = np.float32,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Samples of U[0, 1)."""
    data = draw(generator, "random", sizes(shape)).astype(dtype or np.float32)
    return Tensor(data, requires_grad=requires_grad)


def _floating_like(name, x, dtype):
    shape, dtype = _like(x, dtype)
    if dtype.kind != "f":
        raise OpError(f"{name}: draws floating-point numbers, got dtype {dtype}; pass a floating dtype")
    return shape, dtype


def rand_like(
    x: Tensor | npt.ArrayLike,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Samples of U[0, 1) in x's shape and (floating) dtype."""
    shape, dtype = _floating_like("rand_like", x, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad, generator=generator)


def randn_like(
    x: Tensor | npt.ArrayLike,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Samples of N(0, 1) in x's shape and (floating) dtype."""
    shape, dtype = _floating_like("randn_like", x, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad, generator=generator)


def randint(
    *bounds_and_size: Any,
    size: Shape | None = None,
    dtype: npt.DTypeLike = np.int64,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high): randint(high, size) or randint(low, high, size), as
    torch.randint; int64."""
    if size is None:
        if not bounds_and_size:
            raise TypeError("randint() missing its size")
        *bounds, size = bounds_and_size
    else:
        bounds = list(bounds_and_size)
    if len(bounds) not in (1, 2):
        raise TypeError(f"randint() takes (high, size) or (low, high, size), got {len(bounds)} bounds")
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if low >= high:
        raise OpError(f"randint: expects low < high, got low = {low}, high = {high}")
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    data = draw(generator, "integers", low, high, size).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)
