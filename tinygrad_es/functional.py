"""The functional API, `from tinygrad_es import functional as F`: every function in one flat namespace.
Where a fused node exists (linear, cross_entropy), the function uses it."""

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
from .fused import cross_entropy, linear  # noqa: F401  (the fast path, where it applies)
from .losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    half_mse_loss,
    huber_loss,
    mse_loss,
    nll_loss,
)
from .ops import dropout  # noqa: F401  (re-exported)
