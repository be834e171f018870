"""The functional API, `from tinygrad_es import functional as F`: every function in one flat namespace."""
import numpy as np

from .activations import (  # noqa: F401  (re-exported)
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    identity,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    rrelu,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    step,
    swish,
    tanh,
    tanhshrink,
    threshold,
)
from .engine import Function
from .losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    half_mse_loss,
    huber_loss,
    mse_loss,
    nll_loss,
)
from .ops import linear  # noqa: F401  (re-exported)
from .random import default_generator


class Dropout(Function):
    """Inverted dropout: x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p); the gradient
    passes through the same mask."""

    @staticmethod
    def forward(ctx, x, p, generator):
        if p == 1:
            ctx.mask = np.zeros_like(x)
        else:
            draws = generator.random(x.shape, np.float32 if x.dtype == np.float32 else np.float64)
            ctx.mask = (draws >= p) * x.dtype.type(1 / (1 - p))
        return x * ctx.mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) when training; the identity
    otherwise (and for p = 0). `generator` (a numpy.random.Generator) makes the mask repeatable."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator or default_generator())
