"""Activation functions: each its own op, formula and derivative side by side.

Elementwise activations subclass `Elementwise`: `value` computes f(x) and keeps on the op
whatever `slope` needs to return f'(x); backward multiplies the incoming gradient by that slope.
Exponentials never see an argument that would overflow or underflow (see `_exp_limit`), so any
input in [-1e4, 1e4] gives finite values and no floating-point warning.
"""
import numpy as np

from .engine import Function

# |t| up to which e^t and e^-t are finite normal numbers, with room to spare for a sum or a
# quotient. Arguments of exp are clamped to it: beyond it the result no longer changes.
_EXP_LIMIT = {np.dtype(np.float16): 9.0, np.dtype(np.float32): 80.0, np.dtype(np.float64): 700.0}


def _exp_limit(x):
    return _EXP_LIMIT.get(x.dtype, 700.0)


def _check_axis(op, x, axis):
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(f"{op}: axis {axis} is out of range for an input of shape {x.shape}")


class Elementwise(Function):
    """Base of the elementwise activations: y = f(x), dL/dx = dL/dy * f'(x).

    A subclass defines `value(self, x, **options)`, returning f(x) and keeping on `self` what
    `slope(self)` needs to return f'(x) (an array, or a number where f' is constant)."""

    @staticmethod
    def forward(ctx, x, **options):
        return ctx.value(x, **options)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope()


class Sigmoid(Elementwise):
    """f(x) = 1 / (1 + e^-x) = e^x / (1 + e^x);  f'(x) = f(x) (1 - f(x))."""

    def value(self, x):
        limit = _exp_limit(x)
        e = np.maximum(x, -limit)
        np.minimum(e, limit, out=e)
        np.exp(e, out=e)
        self.out = np.divide(e, e + 1, out=e)
        return self.out

    def slope(self):
        return self.out * (1 - self.out)


class Tanh(Elementwise):
    """f(x) = (e^x - e^-x) / (e^x + e^-x);  f'(x) = 1 - f(x)^2."""

    def value(self, x):
        self.out = np.tanh(x)
        return self.out

    def slope(self):
        return 1 - self.out * self.out


class ReLU(Elementwise):
    """f(x) = max(0, x);  f'(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch)."""

    def value(self, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def slope(self):
        return self.positive


class Softmax(Function):
    """s_i = e^(x_i) / sum_j e^(x_j) along `axis` (the max is subtracted first);
    J = diag(s) - s s^T, so dL/dx = s * (g - sum(g * s))."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        _check_axis("softmax", x, axis)
        e = np.exp(np.maximum(x - x.max(axis, keepdims=True), -_exp_limit(x)))
        e /= e.sum(axis, keepdims=True)
        ctx.out, ctx.axis = e, axis
        return e

    @staticmethod
    def backward(ctx, grad):
        s = ctx.out
        return s * (grad - (grad * s).sum(ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """f_i = x_i - log sum_j e^(x_j) along `axis` (the max is subtracted first);
    dL/dx = g - softmax(x) * sum(g)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        _check_axis("log_softmax", x, axis)
        shifted = x - x.max(axis, keepdims=True)
        e = np.exp(np.maximum(shifted, -_exp_limit(x)))
        total = e.sum(axis, keepdims=True)
        ctx.e, ctx.total, ctx.axis = e, total, axis
        shifted -= np.log(total)
        return shifted

    @staticmethod
    def backward(ctx, grad):
        return grad - ctx.e / ctx.total * grad.sum(ctx.axis, keepdims=True)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return ReLU.apply(x)


def softmax(x, axis=-1):
    """Softmax along `axis` (PyTorch's `dim`), the last one by default."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed without forming softmax's small values' logs."""
    return LogSoftmax.apply(x, axis=axis)
