"""Dropout."""

import numpy as np

from ..engine import Function
from ..random import draw


class Dropout(Function):
    """Inverted dropout: x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p); the gradient
    passes through the same mask."""

    @staticmethod
    def forward(ctx, x, p, generator):
        if p == 1:
            mask = np.zeros_like(x)
        else:
            draws = draw(generator, "random", x.shape, np.float32 if x.dtype == np.float32 else np.float64)
            mask = (draws >= p) * x.dtype.type(1 / (1 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask

def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) when training; the identity
    otherwise (and for p = 0). `generator` (a numpy.random.Generator) makes the mask repeatable."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator)
