"""Loss functions, each one fused op: the loss and its gradient side by side.

`reduction` is "mean" (default), "sum" or "none" (one loss per element, or per sample for the
classification losses and half_mse_loss). Prediction and target must have the same shape and
dtype: nothing is broadcast silently, so (N,) against (N, 1) is an error, not an (N, N) loss.
"""
import numpy as np

from .engine import Function, Tensor
from .ops import _ones, _scalar, _shared

_REDUCTIONS = ("mean", "sum", "none")
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}  # by item size


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.sum() / loss.size  # np.mean costs more for small arrays
    return loss.sum() if reduction == "sum" else loss


def _scale(grad, size, reduction):
    """d(reduced loss)/d(each unreduced loss): a scalar for mean and sum, per element for none."""
    return grad / size if reduction == "mean" else grad


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _as_tensor(x):
    # Targets given as lists or numbers become float32 tensors, like any tensor data.
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_pair(name, prediction, target, reduction):
    _check_reduction(name, reduction)
    if prediction.shape != target.shape:
        raise ValueError(
            f"{name}: input has shape {prediction.shape} but target has shape {target.shape}; "
            "they must be the same (reshape one of them, nothing is broadcast)"
        )
    if prediction.dtype != target.dtype:
        raise TypeError(f"{name}: input is {prediction.dtype} but target is {target.dtype}; cast one of them")


# ---- regression -----------------------------------------------------------------------------------
class MSELoss(Function):
    """mean((x - y)^2) over all elements; d/dx = 2 (x - y) / size."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.diff, ctx.reduction = x - y, reduction
        return _reduce(ctx.diff * ctx.diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        gx = ctx.diff * (2 * _scale(grad, ctx.diff.size, ctx.reduction))
        return gx, -gx if ctx.needs_input_grad[1] else None


def mse_loss(input, target, reduction="mean"):
    """Mean squared error over ALL elements (PyTorch's definition)."""
    target = _as_tensor(target)
    _check_pair("mse_loss", input, target, reduction)
    return MSELoss.apply(input, target, reduction)


class HalfMSELoss(Function):
    """1/(2n) sum over samples of ||x - y||^2; d/dx = (x - y) / n, n = number of samples (axis 0)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.diff, ctx.reduction = x - y, reduction
        per_sample = 0.5 * (ctx.diff * ctx.diff).reshape(len(x), -1).sum(axis=1)
        return _reduce(per_sample, reduction)

    @staticmethod
    def backward(ctx, grad):
        diff = ctx.diff
        if ctx.reduction == "none" and diff.ndim > 1:
            grad = grad.reshape((-1,) + (1,) * (diff.ndim - 1))
        gx = diff * _scale(grad, len(diff), ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None


def half_mse_loss(input, target, reduction="mean"):
    """The student paper's quadratic cost: J = 1/(2n) sum_s ||y_s - yhat_s||^2, the squared error summed
    over the outputs of each sample and averaged over the n SAMPLES (not over all elements, as mse_loss).
    Its gradient is (yhat - y)/n. "sum" gives sum_s ||.||^2 / 2, "none" one ||.||^2 / 2 per sample."""
    target = _as_tensor(target)
    _check_pair("half_mse_loss", input, target, reduction)
    if input.ndim == 0:
        raise ValueError("half_mse_loss: input must have a sample axis (axis 0), got a scalar")
    return HalfMSELoss.apply(input, target, reduction)


class HuberLoss(Function):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta), d = x - y; d/dx = clip(d, -delta, delta)."""

    @staticmethod
    def forward(ctx, x, y, delta, reduction):
        diff = x - y
        abs_diff = np.abs(diff)
        ctx.slope, ctx.reduction = np.clip(diff, -delta, delta), reduction
        loss = np.where(abs_diff <= delta, 0.5 * diff * diff, delta * (abs_diff - 0.5 * delta))
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        gx = ctx.slope * _scale(grad, ctx.slope.size, ctx.reduction)
        return gx, -gx if ctx.needs_input_grad[1] else None, None


def huber_loss(input, target, delta=1.0, reduction="mean"):
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target)
    _check_pair("huber_loss", input, target, reduction)
    return HuberLoss.apply(input, target, delta, reduction)


# ---- binary classification -----------------------------------------------------------------------------
class BinaryCrossEntropy(Function):
    """-(y log p + (1-y) log(1-p)), each log clamped at >= -100 as PyTorch (so p = 0 or 1 stays finite).
    d/dp = (p - y) / max(p (1-p), 1e-12); d/dy = log(1-p) - log(p)."""

    @staticmethod
    def forward(ctx, p, y, reduction):
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, y, log_p, log_1mp)
        ctx.reduction = reduction
        return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction)

    @staticmethod
    def backward(ctx, grad):
        p, y, log_p, log_1mp = ctx.saved_tensors
        scale = _scale(grad, p.size, ctx.reduction)
        needs_p, needs_y = ctx.needs_input_grad[:2]
        gp = scale * (p - y) / np.maximum(p * (1 - p), 1e-12) if needs_p else None
        gy = scale * (log_1mp - log_p) if needs_y else None
        return gp, gy, None


def binary_cross_entropy(input, target, reduction="mean"):
    """Binary cross-entropy of probabilities `input` (in [0, 1]) against targets in [0, 1]."""
    target = _as_tensor(target)
    _check_pair("binary_cross_entropy", input, target, reduction)
    probabilities = input.data if isinstance(input, Tensor) else np.asarray(input)
    if probabilities.size and (probabilities.min() < 0 or probabilities.max() > 1):
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; "
                         "for raw scores use binary_cross_entropy_with_logits")  # fmt: skip
    return BinaryCrossEntropy.apply(input, target, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """BCE of sigmoid(z), stably: max(z, 0) - z y + log(1 + e^-|z|); d/dz = sigmoid(z) - y, d/dy = -z."""

    @staticmethod
    def forward(ctx, z, y, reduction):
        e = np.exp(-np.abs(z))  # <= 1: no overflow for any z
        ctx.save_for_backward(z, y, e)
        ctx.reduction = reduction
        return _reduce(np.maximum(z, 0) - z * y + np.log1p(e), reduction)

    @staticmethod
    def backward(ctx, grad):
        z, y, e = ctx.saved_tensors
        scale = _scale(grad, z.size, ctx.reduction)
        needs_z, needs_y = ctx.needs_input_grad[:2]
        sigmoid = np.where(z >= 0, 1 / (1 + e), e / (1 + e)) if needs_z else None
        return (scale * (sigmoid - y) if needs_z else None), (scale * -z if needs_y else None), None


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy from logits (raw scores): the sigmoid is inside, computed stably."""
    target = _as_tensor(target)
    _check_pair("binary_cross_entropy_with_logits", input, target, reduction)
    return BinaryCrossEntropyWithLogits.apply(input, target, reduction)


# ---- multi-class classification ----------------------------------------------------------------------------
def _class_target(name, logits, target, weight, reduction):
    """Check the (N, C) input and its target; returns the target as an array and whether it holds indices."""
    _check_reduction(name, reduction)
    shape = logits.shape
    if len(shape) != 2:
        raise ValueError(f"{name}: input must have shape (N, C), got {shape}")
    n, c = shape
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if weight is not None and np.shape(weight) != (c,):
        raise ValueError(f"{name}: weight must have shape ({c},), one per class, got {np.shape(weight)}")
    if target.shape == (n,):
        if target.dtype.kind not in "iu":
            raise TypeError(f"{name}: a target of shape ({n},) holds class indices, which must be integers, "
                            f"got {target.dtype}; use target.astype(np.int64)")  # fmt: skip
        # Read as unsigned, a negative index is huge: the largest entry shows indices below 0 and
        # above c - 1 alike. It is read at its argmax, cheaper than a max reduction (0.2 us, 0.6).
        unsigned = target.view(_UNSIGNED[target.itemsize])
        if n and unsigned[unsigned.argmax()] >= c:
            raise ValueError(f"{name}: class indices must be in [0, {c}), got values in "
                             f"[{target.min()}, {target.max()}]")  # fmt: skip
        return target, True
    if target.shape == shape and name == "cross_entropy":
        if target.dtype != logits.dtype:
            raise TypeError(f"{name}: probability target is {target.dtype} but input is {logits.dtype}; cast one")
        return target, False
    wanted = f"({n},) integer class indices"
    if name == "cross_entropy":
        wanted += f" or {shape} class probabilities"
    raise ValueError(f"{name}: input has shape {shape}, so target must be {wanted}; got {target.shape}")


# _row_starts(n, c): the flat positions of the first entries of n rows of c, once per shape
_row_starts = _shared(lambda n, c: np.arange(0, n * c, c))


def _softmax_parts(z, row_starts):
    """(shifted logits, log of the softmax denominator (N,), softmax) of the rows of z (N, C):
    log_softmax = shifted - log_total[:, None]. `row_starts` are the flat positions of the rows' first
    entries (_row_starts).

    Entries are picked by flat position (one index array costs a fraction of [rows, columns]),
    the row maxima at their argmax, and the row sums are a product with a ones vector: for
    float32 rows of a few classes, each half the cost of max(axis=1) and sum(axis=1)."""
    shifted = z - z.take(row_starts + z.argmax(axis=1))[:, None]  # largest logit 0: exp cannot overflow
    softmax = np.exp(shifted, order="C")  # rows one after another, whatever z's layout: flat positions hold
    total = softmax.dot(_ones(z.shape[1], z.dtype))
    softmax /= total[:, None]
    return shifted, np.log(total), softmax


class CrossEntropy(Function):
    """-sum_c t_c log softmax(z)_c per sample, t = the (weighted, smoothed) target distribution.

    d/dz = softmax(z) * sum_c t_c - t per sample, found in forward; backward scales it by the
    incoming gradient over the mean's normalizer (N, or the sum of the target classes' weights
    when class weights are given, as PyTorch)."""

    @staticmethod
    def forward(ctx, z, target, *, is_index, weight, label_smoothing, reduction):
        n, c = z.shape
        row_starts = _row_starts(n, c)
        shifted, log_total, softmax = _softmax_parts(z, row_starts)
        if is_index and weight is None and not label_smoothing:  # the common case: t one-hot, never built
            at_target = row_starts + target  # flat positions of the target entries
            loss = log_total - shifted.take(at_target)
            softmax.ravel()[at_target] -= _scalar(1, z.dtype)  # softmax is new and C-ordered: ravel is a view
            ctx.dz, mean_norm = softmax, n
        else:
            log_p = shifted - log_total[:, None]
            dist = np.zeros_like(z)
            if is_index:
                dist.flat[row_starts + target] = 1
            else:
                dist[...] = target
            if label_smoothing:
                dist = dist * (1 - label_smoothing) + label_smoothing / c
            if weight is not None:
                dist *= weight
            loss = -(dist * log_p).sum(axis=1)
            ctx.dz = softmax * dist.sum(axis=1, keepdims=True) - dist
            mean_norm = weight[target].sum() if is_index and weight is not None else n
            ctx.log_p, ctx.target_scale = log_p, (1 - label_smoothing) * (1 if weight is None else weight)
        ctx.reduction = reduction
        if reduction == "none":
            return loss
        ctx.norm = mean_norm if reduction == "mean" else 1
        # the sum as a product with ones, like the row sums: in a training step, where little stays in
        # the caches, one reduction call of its own costs about 1 us
        return loss.dot(_ones(n, loss.dtype)) / ctx.norm

    @staticmethod
    def backward(ctx, grad):
        scale = grad[:, None] if ctx.reduction == "none" else grad / _scalar(ctx.norm, grad.dtype)
        gz = ctx.dz * scale  # a new array: dz stays for a second backward (retain_graph)
        gt = None
        if ctx.needs_input_grad[1]:  # only probability targets are differentiable
            gt = -ctx.log_p * ctx.target_scale * scale
        return gz, gt


def cross_entropy(input, target, weight=None, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy of logits `input` (N, C) against `target`: class indices (N,) of an integer
    dtype, or class probabilities of the same shape as `input`. Equals nll_loss(log_softmax(input)),
    in one op and stable for any logits. `weight` (C,) weighs each class; with class indices the
    mean divides by the sum of the target classes' weights (PyTorch). `label_smoothing` = eps mixes
    the target with the uniform distribution: (1 - eps) t + eps / C."""
    original = target
    target, is_index = _class_target("cross_entropy", input, target, weight, reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if weight is not None:
        weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight, input.dtype)
    if not is_index and isinstance(original, Tensor):
        target = original  # probability targets may require grad
    return CrossEntropy.apply(input, target, is_index=is_index, weight=weight, label_smoothing=label_smoothing,
                              reduction=reduction)


class NLLLoss(Function):
    """-w[y] log_p[y] per sample; d/dlog_p is -w[y] at the target class, 0 elsewhere."""

    @staticmethod
    def forward(ctx, log_p, target, *, weight, reduction):
        n = len(log_p)
        rows = np.arange(n)
        sample_weight = np.ones(n, log_p.dtype) if weight is None else weight[target]
        loss = -log_p[rows, target] * sample_weight
        ctx.norm = sample_weight.sum() if reduction == "mean" else 1
        ctx.shape, ctx.dtype, ctx.rows, ctx.target = log_p.shape, log_p.dtype, rows, target
        ctx.sample_weight = sample_weight
        ctx.reduction = reduction
        return loss.sum() / ctx.norm if reduction != "none" else loss

    @staticmethod
    def backward(ctx, grad):
        scale = grad if ctx.reduction == "none" else grad / ctx.norm
        g = np.zeros(ctx.shape, ctx.dtype)
        g[ctx.rows, ctx.target] = -ctx.sample_weight * scale
        return g, None


def nll_loss(input, target, weight=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities `input` (N, C) at integer class indices `target` (N,)."""
    target, _ = _class_target("nll_loss", input, target, weight, reduction)
    if weight is not None:
        weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight, input.dtype)
    return NLLLoss.apply(input, target, weight=weight, reduction=reduction)
