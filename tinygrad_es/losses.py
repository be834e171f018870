"""Loss functions, as the formulas read: each loss beside its gradient, or a composition of ops.
Empty batches and infinite inputs give nan or inf, as in PyTorch, without NumPy's warnings.

`reduction` is "mean" (default), "sum" or "none" (one loss per element, or per sample for the
classification losses and half_mse_loss). Prediction and target must have the same shape and
dtype: nothing is broadcast silently, so (N,) against (N, 1) is an error, not an (N, N) loss.
The fused softmax cross-entropy the functional API uses for class indices is in fused.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .activations import _sigmoid, log_softmax
from .engine import Function, OpError, Tensor, _data
from .helpers import silent
from .ops import getitem, where

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.sum() / loss.size
    return loss.sum() if reduction == "sum" else loss


def _scale(grad, size, reduction):
    """d(reduced loss)/d(each unreduced loss): a scalar for mean and sum, per element for none."""
    return grad / size if reduction == "mean" else grad


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _as_tensor(x: Tensor | npt.ArrayLike) -> Tensor:
    # Targets given as lists or numbers become float32 tensors, like any tensor data.
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_pair(name, prediction, target, reduction):
    _check_reduction(name, reduction)
    if prediction.shape != target.shape:
        raise OpError(
            f"{name}: input has shape {prediction.shape} but target has shape {target.shape}; "
            "they must be the same (reshape one of them, nothing is broadcast)"
        )
    if prediction.dtype != target.dtype:
        raise TypeError(f"{name}: input is {prediction.dtype} but target is {target.dtype}; cast one of them")


# ---- regression -----------------------------------------------------------------------------------
class MSELoss(Function):
    """mean((x - y)^2) over all elements;  d/dx = 2 (x - y) / size = -d/dy."""

    @staticmethod
    @silent
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return _reduce((x - y) ** 2, reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = 2 * (x - y) * _scale(grad, x.size, ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None


def mse_loss(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """Mean squared error over ALL elements (PyTorch's definition)."""
    target = _as_tensor(target)
    _check_pair("mse_loss", input, target, reduction)
    return MSELoss.apply(input, target, reduction)


class HalfMSELoss(Function):
    """1/(2n) sum over samples of ||x - y||^2;  d/dx = (x - y) / n = -d/dy, n = the number of
    samples (axis 0)."""

    @staticmethod
    @silent
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        per_sample = 0.5 * ((x - y) ** 2).reshape(len(x), math.prod(x.shape[1:])).sum(axis=1)
        return _reduce(per_sample, reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if ctx.reduction == "none":  # one gradient per sample, spread over its outputs
            grad = grad.reshape((-1,) + (1,) * (x.ndim - 1))
        gx = (x - y) * _scale(grad, len(x), ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None


def half_mse_loss(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """The student paper's quadratic cost: J = 1/(2n) sum_s ||y_s - yhat_s||^2, the squared error summed
    over the outputs of each sample and averaged over the n SAMPLES (not over all elements, as mse_loss).
    Its gradient is (yhat - y)/n. "sum" gives sum_s ||.||^2 / 2, "none" one ||.||^2 / 2 per sample."""
    target = _as_tensor(target)
    _check_pair("half_mse_loss", input, target, reduction)
    if input.ndim == 0:
        raise OpError("half_mse_loss: input must have a sample axis (axis 0), got a 0-d tensor")
    return HalfMSELoss.apply(input, target, reduction)


class HuberLoss(Function):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta), d = x - y;  d/dx = clip(d, -delta, delta)."""

    @staticmethod
    @silent
    def forward(ctx, x, y, delta, reduction):
        ctx.save_for_backward(x, y)
        ctx.delta, ctx.reduction = delta, reduction
        diff = x - y
        small = np.abs(diff) <= delta
        return _reduce(np.where(small, 0.5 * diff * diff, delta * (np.abs(diff) - 0.5 * delta)), reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = np.clip(x - y, -ctx.delta, ctx.delta) * _scale(grad, x.size, ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None, None


def huber_loss(input: Tensor, target: Tensor | npt.ArrayLike, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target)
    _check_pair("huber_loss", input, target, reduction)
    return HuberLoss.apply(input, target, delta, reduction)


class L1Loss(Function):
    """mean |x - y|;  d/dx = sign(x - y) / size = -d/dy (0 where x = y, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return _reduce(np.abs(x - y), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = np.sign(x - y) * _scale(grad, x.size, ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None, None


def l1_loss(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """Mean absolute error over all elements."""
    target = _as_tensor(target)
    _check_pair("l1_loss", input, target, reduction)
    return L1Loss.apply(input, target, reduction)


class SmoothL1Loss(Function):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, d = x - y (huber_loss / beta; l1_loss for
    beta = 0);  d/dx = d / beta inside, sign(d) outside."""

    @staticmethod
    def forward(ctx, x, y, beta, reduction):
        ctx.save_for_backward(x, y)
        ctx.beta, ctx.reduction = beta, reduction
        diff = x - y
        size = np.abs(diff)
        if beta == 0:
            return _reduce(size, reduction)
        return _reduce(np.where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        diff = x - y
        slope = np.sign(diff) if ctx.beta == 0 else np.where(np.abs(diff) < ctx.beta, diff / ctx.beta, np.sign(diff))
        gx = slope * _scale(grad, x.size, ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None, None, None


def smooth_l1_loss(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _as_tensor(target)
    _check_pair("smooth_l1_loss", input, target, reduction)
    return SmoothL1Loss.apply(input, target, beta, reduction)


class KLDivLoss(Function):
    """Pointwise KL divergence of log-probabilities x from target t: t log t - t x (t log t taken as 0
    at t = 0); with log_target, e^t (t - x). d/dx = -t (-e^t); d/dt = log t + 1 - x, which has no
    finite value at t = 0 (nan there, as PyTorch); with log_target e^t (t - x + 1). "batchmean"
    divides the sum by the batch size (axis 0): the KL divergence per sample."""

    @staticmethod
    @silent
    def forward(ctx, x, t, reduction, log_target):
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.log_target = reduction, log_target
        loss = np.exp(t) * (t - x) if log_target else np.where(t == 0, 0, t * np.log(t)) - t * x
        if reduction == "batchmean":
            return loss.sum() / (len(x) if x.ndim else 1)
        return _reduce(loss, reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        grad = grad / (len(x) if x.ndim else 1) if ctx.reduction == "batchmean" else _scale(grad, x.size, ctx.reduction)
        needs_x, needs_t = ctx.needs_input_grad[:2]
        if ctx.log_target:
            gx = -np.exp(t) * grad if needs_x else None
            gt = np.exp(t) * (t - x + 1) * grad if needs_t else None
        else:
            gx = -t * grad if needs_x else None
            gt = np.where(t == 0, np.nan, np.log(t) + 1 - x) * grad if needs_t else None
        return gx, gt, None, None


def kl_div(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence of the distribution `target` from log-probabilities `input`, as torch's kl_div:
    "mean" averages over all elements (PyTorch's default, which is not the KL divergence per sample),
    "batchmean" over the batch (axis 0), "sum" and "none" as usual."""
    if reduction not in ("batchmean", *_REDUCTIONS):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    target = _as_tensor(target)
    _check_pair("kl_div", input, target, "mean")
    return KLDivLoss.apply(input, target, reduction, log_target)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor | npt.ArrayLike,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson distribution of rate e^input (log_input, the default) or
    input: e^input - target input, or input - target log(input + eps); `full` adds Stirling's
    approximation of log(target!), target log target - target + log(2 pi target) / 2, for target > 1."""
    target = _as_tensor(target)
    _check_pair("poisson_nll_loss", input, target, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        counted = target.data > 1
        safe = where(counted, target, 1)  # no log(0) even where the term is not counted: its gradient is 0
        loss = loss + where(counted, safe * safe.log() - safe + 0.5 * (2 * np.pi * safe).log(), 0)
    return _reduce(loss, reduction)


class SoftMarginLoss(Function):
    """log(1 + e^(-y x)) for labels y = +-1, computed as softplus(-y x) without overflow;
    d/dx = -y sigmoid(-y x), d/dy = -x sigmoid(-y x)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        z = -y * x
        return _reduce(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        scale = _scale(grad, x.size, ctx.reduction) * _sigmoid(-y * x)
        needs_x, needs_y = ctx.needs_input_grad[:2]
        return (-y * scale if needs_x else None), (-x * scale if needs_y else None), None


def soft_margin_loss(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss for labels +-1: log(1 + e^(-target input))."""
    target = _as_tensor(target)
    _check_pair("soft_margin_loss", input, target, reduction)
    return SoftMarginLoss.apply(input, target, reduction)


# ---- binary classification -----------------------------------------------------------------------------
def _clamped_logs(p):
    """(log p, log(1 - p)), each clamped at >= -100 as PyTorch, so p = 0 or 1 stays finite."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)


class BinaryCrossEntropy(Function):
    """-(y log p + (1-y) log(1-p)), each log clamped at >= -100 as PyTorch;
    d/dp = (p - y) / max(p (1-p), 1e-12);  d/dy = log(1-p) - log(p)."""

    @staticmethod
    @silent
    def forward(ctx, p, y, reduction):
        ctx.save_for_backward(p, y)
        ctx.reduction = reduction
        log_p, log_1mp = _clamped_logs(p)
        return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        scale = _scale(grad, p.size, ctx.reduction)
        needs_p, needs_y = ctx.needs_input_grad[:2]
        gp = scale * (p - y) / np.maximum(p * (1 - p), 1e-12) if needs_p else None
        if needs_y:
            log_p, log_1mp = _clamped_logs(p)
            return gp, scale * (log_1mp - log_p), None
        return gp, None, None


def binary_cross_entropy(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities `input` (in [0, 1]) against targets in [0, 1]."""
    target = _as_tensor(target)
    _check_pair("binary_cross_entropy", input, target, reduction)
    p = _data(input)
    if p.size and not ((p >= 0) & (p <= 1)).all():  # nan fails both comparisons
        raise OpError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (got values "
            "outside, or nan); for raw scores use binary_cross_entropy_with_logits"
        )
    return BinaryCrossEntropy.apply(input, target, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """BCE of sigmoid(z), stably: max(z, 0) - z y + log(1 + e^-|z|);  d/dz = sigmoid(z) - y, d/dy = -z."""

    @staticmethod
    @silent
    def forward(ctx, z, y, reduction):
        ctx.save_for_backward(z, y)
        ctx.reduction = reduction
        return _reduce(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), reduction)

    @staticmethod
    @silent
    def backward(ctx, grad):
        z, y = ctx.saved_tensors
        scale = _scale(grad, z.size, ctx.reduction)
        needs_z, needs_y = ctx.needs_input_grad[:2]
        return (scale * (_sigmoid(z) - y) if needs_z else None), (scale * -z if needs_y else None), None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor | npt.ArrayLike, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from logits (raw scores): the sigmoid is inside, computed stably."""
    target = _as_tensor(target)
    _check_pair("binary_cross_entropy_with_logits", input, target, reduction)
    return BinaryCrossEntropyWithLogits.apply(input, target, reduction)


# ---- multi-class classification ----------------------------------------------------------------------------
def class_target(
    name: str, logits: Tensor, target: Any, weight: Any, reduction: str, ignore_index: int = -100
) -> tuple[np.ndarray, bool]:
    """Check the (N, C) input and its target; returns the target as an array and whether it holds
    class indices (else class probabilities, for cross_entropy)."""
    _check_reduction(name, reduction)
    shape = logits.shape
    if len(shape) != 2:
        raise OpError(f"{name}: input must have shape (N, C), got {shape}")
    n, c = shape
    target = np.asanyarray(_data(target))
    if weight is not None and np.shape(weight) != (c,):
        raise OpError(f"{name}: weight must have shape ({c},), one per class, got {np.shape(weight)}")
    if target.shape == (n,):
        if target.dtype.kind not in "iu":
            raise OpError(
                f"{name}: a target of shape ({n},) holds class indices, which must be integers, "
                f"got {target.dtype}; use target.astype(np.int64)"
            )
        counted = target[target != ignore_index]
        if counted.size and (counted.min() < 0 or counted.max() >= c):
            raise IndexError(
                f"{name}: class indices must be in [0, {c}), got values in [{counted.min()}, {counted.max()}]"
            )
        return target, True
    if target.shape == shape and name == "cross_entropy":
        if target.dtype != logits.dtype:
            raise TypeError(f"{name}: probability target is {target.dtype} but input is {logits.dtype}; cast one")
        return target, False
    wanted = f"({n},) integer class indices"
    if name == "cross_entropy":
        wanted += f" or {shape} class probabilities"
    raise OpError(f"{name}: input has shape {shape}, so target must be {wanted}; got {target.shape}")


def _as_weight(weight: Tensor | npt.ArrayLike | None, logits: Tensor) -> np.ndarray | None:
    return None if weight is None else np.asanyarray(_data(weight), logits.dtype)


def nll_loss(
    input: Tensor,
    target: Tensor | npt.ArrayLike,
    weight: Tensor | npt.ArrayLike | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Negative log-likelihood of log-probabilities `input` (N, C) at integer class indices `target`
    (N,): -w[y] log_p[y] per sample. With reduction="mean" the sum is divided by the sum of the
    weights of the counted samples (samples whose target is `ignore_index` count for nothing)."""
    target, _ = class_target("nll_loss", input, target, weight, reduction, ignore_index)
    weight = _as_weight(weight, input)
    counted = target != ignore_index
    safe_target = np.where(counted, target, 0)
    sample_weight = counted.astype(input.dtype) if weight is None else weight[safe_target] * counted
    loss = -getitem(input, (np.arange(len(target)), safe_target)) * sample_weight
    if reduction == "none":
        return loss
    total = loss.sum()
    return _mean_over(total, sample_weight.sum()) if reduction == "mean" else total


def cross_entropy(
    input: Tensor,
    target: Tensor | npt.ArrayLike,
    weight: Tensor | npt.ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Cross-entropy of logits `input` (N, C) against `target`: class indices (N,) of an integer
    dtype, or class probabilities of the same shape as `input`: nll_loss(log_softmax(input)).
    `weight` (C,) weighs each class; with class indices the mean divides by the sum of the target
    classes' weights (PyTorch). `label_smoothing` = eps mixes the target with the uniform
    distribution: (1 - eps) t + eps / C. Targets equal to `ignore_index` count for nothing."""
    target_array, is_index = class_target("cross_entropy", input, target, weight, reduction, ignore_index)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    log_p = log_softmax(input, axis=1)
    if is_index and not label_smoothing:
        return nll_loss(log_p, target_array, weight, reduction, ignore_index)
    weight = _as_weight(weight, input)
    n, c = input.shape
    dist: Tensor | np.ndarray  # the target distribution
    if is_index:  # label smoothing: the target distribution is no longer one-hot
        counted = target_array != ignore_index
        dist = np.zeros_like(target_array, input.dtype, shape=(n, c), order="C")  # made through the target: recorded
        dist[np.flatnonzero(counted), target_array[counted]] = 1
        dist = dist * (1 - label_smoothing) + counted[:, None] * (label_smoothing / c)
    else:
        dist = target if isinstance(target, Tensor) else target_array  # probability targets may require grad
        dist = dist * (1 - label_smoothing) + label_smoothing / c
    loss = -(dist * (log_p if weight is None else log_p * weight)).sum(axis=1)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if is_index and weight is not None:  # PyTorch: divide by the weights of the target classes
        return _mean_over(total, weight[np.where(counted, target_array, 0)][counted].sum())
    return _mean_over(total, counted.sum() if is_index else n)


def _mean_over(total, count):
    """total / count; with nothing counted (every target ignored) nan, as PyTorch, whose gradient is 0
    (not the nan of 0 / 0)."""
    return total / count if count else total * 0 + np.nan
