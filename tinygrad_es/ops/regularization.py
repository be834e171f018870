"""Dropout: plain, by channel (dropout2d), and SELU's alpha dropout."""

import warnings

import numpy as np

from ..engine import Function
from ..random import draw


def _keep(x, p, generator, shape):
    """A 0/1 mask of `shape` (x's by default), 1 with probability 1 - p, in x's dtype; drawn through
    random.draw, from the default generator when `generator` is None (and again at each replay of a
    compiled step)."""
    draws = draw(generator, "random", shape or x.shape, np.float32 if x.dtype == np.float32 else np.float64)
    return (draws >= p).astype(x.dtype)


class Dropout(Function):
    """Inverted dropout: x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p); the gradient
    passes through the same mask. `shape` draws one keep per channel instead (dropout2d: (N, C, 1, 1)),
    broadcast over the rest."""

    @staticmethod
    def forward(ctx, x, p, generator, shape=None):
        if p == 1:
            mask = np.zeros(shape or x.shape, x.dtype)
        else:
            mask = _keep(x, p, generator, shape) * x.dtype.type(1 / (1 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask


def _check_p(p, name):
    if not 0 <= p <= 1:
        raise ValueError(f"{name}: p must be in [0, 1], got {p}")


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) when training; the identity
    otherwise (and for p = 0). `generator` (a numpy.random.Generator) makes the mask repeatable."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator)


def _channels(x, name, expected):
    """The mask shape of a channel-wise dropout, (N, C, 1, ...); a warning, as PyTorch's, for another rank."""
    if x.ndim not in expected:
        warnings.warn(
            f"{name}: received a {x.ndim}-D input; it drops whole channels of (N, C, ...) inputs of "
            f"{' or '.join(map(str, expected))} dimensions, and treats this one as (N, C, ...) too",
            UserWarning,
            stacklevel=3,
        )
    return x.shape[:2] + (1,) * (x.ndim - 2)


def dropout2d(x, p=0.5, training=True, generator=None):
    """Zero whole channels of (N, C, H, W) with probability p (each channel of each sample at once),
    scaling the rest by 1/(1-p): neighbouring pixels are correlated, so dropping single ones barely
    regularizes a convolution. A 3-D input is taken as (N, C, L), as PyTorch 2.13 does (it warns)."""
    _check_p(p, "dropout2d")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, generator, shape=_channels(x, "dropout2d", (4,)))


# SELU's negative saturation value, -scale * alpha (Klambauer et al. 2017)
_SELU_SATURATION = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


class AlphaDropout(Function):
    """Dropout for SELU networks: a dropped element is set to SELU's negative saturation value
    a' = -scale * alpha instead of 0, and the result is a x + b, with a and b chosen so that inputs of
    mean 0 and variance 1 keep them: a = ((1 - p)(1 + p a'^2))^(-1/2), b = -a a' p (PyTorch's rule).
    out = a (keep x + (1 - keep) a') + b = a keep x + a a' (1 - p - keep);  d/dx = a keep."""

    @staticmethod
    def forward(ctx, x, p, generator):
        if p == 1:  # as PyTorch: everything dropped gives zeros
            scale, shift = np.zeros_like(x), 0
        else:
            keep, a = _keep(x, p, generator, None), ((1 - p) * (1 + p * _SELU_SATURATION**2)) ** -0.5
            scale = keep * x.dtype.type(a)
            shift = (x.dtype.type(1 - p) - keep) * x.dtype.type(a * _SELU_SATURATION)
        ctx.save_for_backward(scale)
        return x * scale + shift

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_tensors
        return grad * scale


def alpha_dropout(x, p=0.5, training=False, generator=None):
    """Alpha dropout (see AlphaDropout) when training; the identity otherwise. As PyTorch's functional
    form, `training` defaults to False."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return x
    return AlphaDropout.apply(x, p, generator)
