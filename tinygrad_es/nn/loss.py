"""Losses as modules, as PyTorch's nn.MSELoss, nn.CrossEntropyLoss, ...: options in the constructor,
`loss(input, target)` to call. The computation is in tinygrad_es/losses.py."""
from .. import fused, losses
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        losses._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    def forward(self, input, target):
        return losses.mse_loss(input, target, self.reduction)


class HalfMSELoss(_Loss):
    """The student paper's quadratic cost 1/(2n) sum_s ||y_s - yhat_s||^2, n = number of samples."""

    def forward(self, input, target):
        return losses.half_mse_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return losses.huber_loss(input, target, self.delta, self.reduction)


class BCELoss(_Loss):
    def forward(self, input, target):
        return losses.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def forward(self, input, target):
        return losses.binary_cross_entropy_with_logits(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__(reduction)
        self.weight, self.label_smoothing, self.ignore_index = weight, label_smoothing, ignore_index

    def forward(self, input, target):
        return fused.cross_entropy(input, target, self.weight, self.label_smoothing, self.reduction, self.ignore_index)


class NLLLoss(_Loss):
    def __init__(self, weight=None, reduction="mean", ignore_index=-100):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return losses.nll_loss(input, target, self.weight, self.reduction, self.ignore_index)
