"""Elementary functions beyond exp, log and sqrt: powers and logarithms in other bases, and the
trigonometric and hyperbolic functions. Integer and boolean inputs give float32, as in PyTorch."""

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ..helpers import silent


def _floating(x):
    """x itself if floating; integers and booleans as float32, PyTorch's default dtype."""
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


class Unary(Function):
    """f(x) for a NumPy function f (`rule`) whose derivative f' (`slope`) is written with NumPy
    too, so that it differentiates again: dL/dx = dL/dy * f'(x). Each op below is its two lines."""

    fresh_gradients = True
    rule: Callable[..., Any] | None = None  # f, set by each op below
    slope: Callable[..., Any] | None = None  # f'

    @classmethod
    @silent
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return cls.rule(_floating(x))

    @classmethod
    @silent
    def backward(cls, ctx, grad):
        (saved,) = ctx.saved_tensors  # x, or the output for UnaryFromOutput
        return grad * cls.slope(saved)


class UnaryFromOutput(Unary):
    """As Unary, with the derivative written from the output y = f(x): dL/dx = dL/dy * f'(y)."""

    @classmethod
    @silent
    def forward(cls, ctx, x):
        out = cls.rule(_floating(x))
        ctx.save_for_backward(out)
        return out


# ---- powers and logarithms ------------------------------------------------------------------------
class Square(Function):
    """x^2;  d/dx = 2x. An integer stays an integer, as in PyTorch."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def square(x):
    return Square.apply(x)


class Rsqrt(UnaryFromOutput):
    """1 / sqrt(x);  d/dx = -x^(-3/2) / 2 = -out^3 / 2."""

    rule, slope = staticmethod(lambda x: 1 / np.sqrt(x)), staticmethod(lambda out: -0.5 * out * out * out)


def rsqrt(x):
    return Rsqrt.apply(x)


class Reciprocal(UnaryFromOutput):
    """1 / x;  d/dx = -1 / x^2 = -out^2."""

    rule, slope = staticmethod(lambda x: 1 / x), staticmethod(lambda out: -out * out)


def reciprocal(x):
    return Reciprocal.apply(x)


class Exp2(UnaryFromOutput):
    """2^x;  d/dx = 2^x ln 2 = out ln 2."""

    rule, slope = staticmethod(np.exp2), staticmethod(lambda out: out * math.log(2))


def exp2(x):
    return Exp2.apply(x)


class Log2(Unary):
    """log2(x);  d/dx = 1 / (x ln 2)."""

    rule, slope = staticmethod(np.log2), staticmethod(lambda x: 1 / (x * math.log(2)))


def log2(x):
    return Log2.apply(x)


class Log10(Unary):
    """log10(x);  d/dx = 1 / (x ln 10)."""

    rule, slope = staticmethod(np.log10), staticmethod(lambda x: 1 / (x * math.log(10)))


def log10(x):
    return Log10.apply(x)


# ---- trigonometric --------------------------------------------------------------------------------
class Sin(Unary):
    """sin x;  d/dx = cos x."""

    rule, slope = staticmethod(np.sin), staticmethod(np.cos)


def sin(x):
    return Sin.apply(x)


class Cos(Unary):
    """cos x;  d/dx = -sin x."""

    rule, slope = staticmethod(np.cos), staticmethod(lambda x: -np.sin(x))


def cos(x):
    return Cos.apply(x)


class Tan(UnaryFromOutput):
    """tan x;  d/dx = 1 + tan^2 x = 1 + out^2."""

    rule, slope = staticmethod(np.tan), staticmethod(lambda out: 1 + out * out)


def tan(x):
    return Tan.apply(x)


class Asin(Unary):
    """arcsin x, nan outside [-1, 1];  d/dx = 1 / sqrt(1 - x^2) (inf at +-1)."""

    rule, slope = staticmethod(np.arcsin), staticmethod(lambda x: 1 / np.sqrt(1 - x * x))


def asin(x):
    return Asin.apply(x)


class Acos(Unary):
    """arccos x, nan outside [-1, 1];  d/dx = -1 / sqrt(1 - x^2)."""

    rule, slope = staticmethod(np.arccos), staticmethod(lambda x: -1 / np.sqrt(1 - x * x))


def acos(x):
    return Acos.apply(x)


class Atan(Unary):
    """arctan x;  d/dx = 1 / (1 + x^2)."""

    rule, slope = staticmethod(np.arctan), staticmethod(lambda x: 1 / (1 + x * x))


def atan(x):
    return Atan.apply(x)


class Atan2(Function):
    """The angle of the point (x, y): atan2(y, x), in (-pi, pi];  d/dy = x / r^2, d/dx = -y / r^2,
    r^2 = x^2 + y^2; both 0 at the origin (as PyTorch)."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(_floating(y), _floating(x))

    @staticmethod
    @silent
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        scale = np.where(r2 == 0, 0, grad / np.where(r2 == 0, 1, r2))  # the inner where keeps 0/0 out of both branches
        needs_y, needs_x = ctx.needs_input_grad
        return scale * x if needs_y else None, -scale * y if needs_x else None


def atan2(input, other):  # noqa: A002  (PyTorch's names: input is y, other is x)
    return Atan2.apply(input, other)


# ---- hyperbolic -----------------------------------------------------------------------------------
class Sinh(Unary):
    """sinh x;  d/dx = cosh x."""

    rule, slope = staticmethod(np.sinh), staticmethod(np.cosh)


def sinh(x):
    return Sinh.apply(x)


class Cosh(Unary):
    """cosh x;  d/dx = sinh x."""

    rule, slope = staticmethod(np.cosh), staticmethod(np.sinh)


def cosh(x):
    return Cosh.apply(x)


for _fn in (square, rsqrt, reciprocal, log2, log10, exp2, sin, cos, tan, asin, acos, atan, atan2, sinh, cosh):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.arcsin, Tensor.arccos, Tensor.arctan, Tensor.arctan2 = asin, acos, atan, atan2
Tensor._numpy_functions.update(
    {
        np.square: square,
        np.reciprocal: reciprocal,
        np.log2: log2,
        np.log10: log10,
        np.exp2: exp2,
        np.sin: sin,
        np.cos: cos,
        np.tan: tan,
        np.arcsin: asin,
        np.arccos: acos,
        np.arctan: atan,
        np.arctan2: atan2,
        np.sinh: sinh,
        np.cosh: cosh,
    }
)
