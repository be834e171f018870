"""Small helpers shared across the package (it imports nothing of ours)."""

import functools

import numpy as np


def sizes(args):
    """What a function taking sizes or axes was given, as PyTorch takes them: f(2, 3), f((2, 3)) or
    f([2, 3]) are all (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


@functools.lru_cache(maxsize=64)
def constant(value, dtype):
    """`value` as a read-only 0-d array of `dtype`, made once. For the fast paths: NumPy combines an
    array with a 0-d array of its own dtype 0.3-0.4 us faster than with a Python number, whose type
    it first has to work out."""
    array = np.array(value, dtype)
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=16)
def ones(n, dtype):
    """A read-only vector of n ones, made once: a sum over rows as a product with it is one BLAS call."""
    array = np.ones(n, dtype)
    array.flags.writeable = False
    return array
