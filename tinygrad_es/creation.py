"""Making tensors: from data, filled with a value, or drawn at random."""

import numpy as np

from .engine import Tensor
from .helpers import sizes
from .random import draw


def tensor(data, requires_grad=False, dtype=None):
    """A Tensor of a copy of `data`, as torch.tensor. `Tensor(array)` shares the array's memory
    instead (as torch.as_tensor), so an optimizer's in-place steps would change the array."""
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(data.copy() if isinstance(data, np.ndarray) else data, requires_grad, dtype)


def zeros(*shape, requires_grad=False, dtype=np.float32):
    return Tensor(np.zeros(sizes(shape), dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=np.float32):
    return Tensor(np.ones(sizes(shape), dtype), requires_grad=requires_grad)


def randn(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of N(0, 1)."""
    data = draw(generator, "standard_normal", sizes(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of U[0, 1)."""
    data = draw(generator, "random", sizes(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)
