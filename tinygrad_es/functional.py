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
from .convolution import (  # noqa: F401  (re-exported)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
)
from .embedding import embedding  # noqa: F401  (re-exported)
from .fused import cross_entropy, linear  # noqa: F401  (the fast path, where it applies)
from .losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    half_mse_loss,
    huber_loss,
    mse_loss,
    nll_loss,
)
from .normalization import batch_norm, group_norm, layer_norm  # noqa: F401  (re-exported)
from .ops import alpha_dropout, dropout, dropout2d  # noqa: F401  (re-exported)
