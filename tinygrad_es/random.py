"""The library's default random generator.

Everything random (inits, dropout, RReLU's slopes, randn) takes an optional `numpy.random.Generator`
and falls back to this one; `manual_seed(n)` makes a whole run repeatable.
"""

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed):
    """Reseed the default generator; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    return _default
