"""The library's default random generator, and tensors drawn from it.

Everything random (inits, dropout, RReLU's slopes) takes an optional `numpy.random.Generator`
and falls back to this one; `manual_seed(n)` makes a whole run repeatable.
"""
import numpy as np

from .engine import Tensor, _sizes

_default = np.random.default_rng()


def manual_seed(seed):
    """Reseed the default generator; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    return _default


def randn(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of N(0, 1)."""
    data = (generator or _default).standard_normal(_sizes(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of U[0, 1)."""
    data = (generator or _default).random(_sizes(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)
