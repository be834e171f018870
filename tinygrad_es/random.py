"""The library's default random generator.

Everything random (inits, dropout, RReLU's slopes, randn) takes an optional `numpy.random.Generator`
and falls back to this one; `manual_seed(n)` makes a whole run repeatable.
"""

import numpy as np

from .helpers import replayed

_default = np.random.default_rng()


def manual_seed(seed):
    """Reseed the default generator; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    return _default


def draw(generator, method, *args):
    """`generator.method(*args)`, from the default generator when `generator` is None (looked up at
    the call, so after `manual_seed` too). Ops draw their random numbers through here: a compiled step
    (tinygrad_es.compile) records the call and draws again at every replay, in the same order as
    eager code would, instead of reusing the first call's numbers."""
    return replayed(draw, (generator, method, *args), getattr(generator or _default, method)(*args))
