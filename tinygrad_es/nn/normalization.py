"""Normalization layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, as PyTorch's (arguments,
defaults, buffers and state_dict keys)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..engine import OpError, Tensor, mark_written
from ..normalization import batch_norm, group_norm, layer_norm
from .module import Module, Parameter


def _weight_and_bias(
    shape: int | tuple[int, ...], affine: bool, bias: bool, dtype: npt.DTypeLike
) -> tuple[Parameter | None, Parameter | None]:
    """The learnable scale (ones) and shift (zeros) of `shape`, each None where not wanted."""
    return (
        Parameter(np.ones(shape, dtype)) if affine else None,
        Parameter(np.zeros(shape, dtype)) if affine and bias else None,
    )


class _BatchNorm(Module):
    """Batch normalization over axis 1 (the features or channels): in training, each channel is
    standardized by the batch's mean and biased variance, then scaled by `weight` (ones) and shifted
    by `bias` (zeros) when `affine`. The buffers running_mean (zeros) and running_var (ones) follow
    the batches, running = (1 - momentum) running + momentum batch, with the batch's UNBIASED
    variance, as PyTorch; `momentum=None` makes them the plain average of every batch so far
    (num_batches_tracked counts them). In eval mode the running statistics standardize instead.
    `track_running_stats=False` keeps no buffers and always uses the batch's statistics.

    The batch statistics are what rescue deep sigmoid and tanh networks from saturation: whatever
    the weights, the pre-activations stay centered with unit spread."""

    ranks: tuple[int, ...] = (2, 3)
    expected = "2D or 3D"
    running_mean: Tensor | None  # buffers (register_buffer), None with track_running_stats=False
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: npt.DTypeLike = np.float32,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight, self.bias = _weight_and_bias(num_features, affine, bias, dtype)
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, np.int64) if tracked else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            for buffer, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                buffer.data[...] = value
                mark_written(buffer.data)

    def reset_parameters(self):
        self.reset_running_stats()
        for p, value in ((self.weight, 1), (self.bias, 0)):
            if p is not None:
                p.data[...] = value
                mark_written(p.data)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.ranks:
            raise OpError(f"{name}: expected {self.expected} input (got {x.ndim}D input of shape {x.shape})")
        momentum = self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:  # as PyTorch
            count = self.num_batches_tracked.data
            count += 1
            mark_written(count)
            if momentum is None:  # the running statistics average every batch so far
                momentum = 1 / int(count)
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats  # the running statistics to use or to update
        return batch_norm(
            x,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            0.0 if momentum is None else momentum,
            self.eps,
            name,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs (each of C features over N, or N and L)."""


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs (each channel over N, H and W)."""

    ranks, expected = (4,), "4D"


class LayerNorm(Module):
    """Each sample standardized over its last axes, those of `normalized_shape` (an int or a tuple),
    with the biased variance; then scaled by `weight` (ones) and shifted by `bias` (zeros), both of
    normalized_shape, when elementwise_affine. The same in training and eval: no running statistics."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight, self.bias = _weight_and_bias(shape, elementwise_affine, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps, type(self).__name__)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """The C = num_channels channels of each sample fall into num_groups groups of consecutive
    channels, each standardized over its channels and the spatial axes; then a per-channel `weight`
    (ones) and `bias` (zeros) when affine. num_groups=1 is a layer norm over (C, ...), num_groups=C
    an instance norm. Independent of the batch: the same in training and eval."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: npt.DTypeLike = np.float32,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.weight, self.bias = _weight_and_bias(num_channels, affine, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps, type(self).__name__)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
