"""The functional API, `from tinygrad_es import functional as F`: every function in one flat namespace.
Where a fused node exists (linear, cross_entropy), the function uses it. The few functions that are
compositions of other ops (normalize, cosine_similarity, pairwise_distance, one_hot) are written here."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import ops
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
from .engine import OpError, Tensor, _data
from .fused import cross_entropy, linear  # noqa: F401  (the fast path, where it applies)
from .helpers import pytorch_names as _pytorch_names
from .losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    half_mse_loss,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from .normalization import batch_norm, group_norm, layer_norm  # noqa: F401  (re-exported)
from .ops import alpha_dropout, dropout, dropout2d, pad  # noqa: F401  (re-exported)


def one_hot(tensor: Tensor | npt.ArrayLike, num_classes: int = -1) -> Tensor:
    """Integer class indices (any shape) -> an int64 tensor with one more axis, of num_classes
    entries (max + 1 when -1), 1 at each index and 0 elsewhere, as torch's one_hot."""
    labels = np.asarray(_data(tensor))
    if labels.dtype.kind not in "iu":
        raise OpError(f"one_hot is only applicable to index tensors (integers), got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise OpError("one_hot: class values must be non-negative")
    if num_classes == -1:
        if labels.size == 0:
            raise OpError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise OpError(f"one_hot: class values must be smaller than num_classes = {num_classes}")
    return Tensor._make((labels[..., None] == np.arange(num_classes)).astype(np.int64), False, None)


@_pytorch_names
def normalize(input: Tensor, p: float = 2.0, axis: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002  (PyTorch's names)
    """input / max(||input||_p, eps) along `axis`: unit vectors (where the norm is not below eps)."""
    return input / ops.clamp_min(ops.norm(input, p, axis, keepdims=True), eps)


@_pytorch_names
def cosine_similarity(x1: Tensor, x2: Tensor, axis: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along `axis` (broadcast): the sum of x1 / ||x1|| times
    x2 / ||x2||, each norm taken as at least eps."""
    shape = np.broadcast_shapes(np.shape(_data(x1)), np.shape(_data(x2)))
    x1, x2 = (x if np.shape(_data(x)) == shape else x.expand(shape) for x in (x1, x2))
    unit1 = x1 / ops.clamp_min(ops.norm(x1, 2, axis, keepdims=True), eps)
    unit2 = x2 / ops.clamp_min(ops.norm(x2, 2, axis, keepdims=True), eps)
    return (unit1 * unit2).sum(axis=axis)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last axis, as torch's pairwise_distance."""
    return ops.norm(x1 - x2 + eps, p, -1, keepdims=keepdim)
