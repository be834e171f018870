"""The library's default random generator, and tensors drawn from it.

Everything random (inits, dropout, RReLU's slopes) takes an optional `numpy.random.Generator`
and falls back to this one; `manual_seed(n)` makes a whole run repeatable.
"""
import numpy as np

from .engine import Tensor

_default = np.random.default_rng()


def manual_seed(seed):
    """Reseed the default generator; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    return _default


def _shape(args):
    """The shape a creation function was given, as PyTorch takes it: `f(2, 3)`, `f((2, 3))` or
    `f([2, 3])`; `f()` and `f(())` are 0-d."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def randn(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of N(0, 1)."""
    data = (generator or _default).standard_normal(_shape(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, requires_grad=False, dtype=np.float32, generator=None):
    """Samples of U[0, 1)."""
    data = (generator or _default).random(_shape(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)
