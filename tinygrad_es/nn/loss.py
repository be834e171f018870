"""Losses as modules, as PyTorch's nn.MSELoss, nn.CrossEntropyLoss, ...: options in the constructor,
`loss(input, target)` to call. The computation is in tinygrad_es/losses.py."""

from __future__ import annotations

import numpy.typing as npt

from .. import fused, losses
from ..engine import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        losses._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.mse_loss(input, target, self.reduction)


class HalfMSELoss(_Loss):
    """The student paper's quadratic cost 1/(2n) sum_s ||y_s - yhat_s||^2, n = number of samples."""

    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.half_mse_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.huber_loss(input, target, self.delta, self.reduction)


class BCELoss(_Loss):
    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.binary_cross_entropy_with_logits(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | npt.ArrayLike | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        ignore_index: int = -100,
    ) -> None:
        super().__init__(reduction)
        self.weight, self.label_smoothing, self.ignore_index = weight, label_smoothing, ignore_index

    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return fused.cross_entropy(input, target, self.weight, self.label_smoothing, self.reduction, self.ignore_index)


class NLLLoss(_Loss):
    def __init__(
        self, weight: Tensor | npt.ArrayLike | None = None, reduction: str = "mean", ignore_index: int = -100
    ) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Tensor, target: Tensor | npt.ArrayLike) -> Tensor:
        return losses.nll_loss(input, target, self.weight, self.reduction, self.ignore_index)
