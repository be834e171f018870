"""Elementwise arithmetic: + - * / **, exp, log, sqrt, abs, sign, clamp, maximum, minimum, where,
lerp, fmod and remainder, rounding, nan_to_num, casts, comparisons and logical ops."""

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, OpError, Tensor, _data
from ..helpers import silent


class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def add(x, y):
    return Add.apply(x, y)


class Sub(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


def sub(x, y):
    return Sub.apply(x, y)


class Mul(Function):
    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        return grad * y if needs_x else None, grad * x if needs_y else None


def mul(x, y):
    return Mul.apply(x, y)


class Div(Function):
    """x / y;  d/dx = 1 / y,  d/dy = -x / y^2 = -(x / y) / y."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x, y):
        out = x / y
        ctx.save_for_backward(y, out)
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        y, out = ctx.saved_tensors
        gx = grad / y
        return gx, -gx * out if ctx.needs_input_grad[1] else None


def div(x, y):
    return Div.apply(x, y)


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(x):
    return Neg.apply(x)


class Pow(Function):
    """x ** p, for a tensor or a number on either side. d/dx = p x^(p-1), 0 where p = 0 (x^0 is
    constant, also at x = 0); d/dp = x^p log x, 0 where x = 0 and p >= 0 (as PyTorch). Only the
    point x = p = 0 is masked in d/dx (0 * inf there): elsewhere p x^(p-1) is 0 at p = 0 by itself,
    and its derivative in p, x^(p-1), comes out right (PyTorch masks all of p = 0 and gives 0)."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x, p):
        out = np.power(x, p)
        ctx.save_for_backward(x, p, out)
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        x, p, out = ctx.saved_tensors
        needs_x, needs_p = ctx.needs_input_grad
        gx = grad * np.where((p == 0) & (x == 0), 0, p * x ** (p - 1)) if needs_x else None
        gp = grad * np.where((x == 0) & (p >= 0), 0, out * np.log(x)) if needs_p else None
        return gx, gp


def pow(x, exponent):  # noqa: A001  (PyTorch's name)
    return Pow.apply(x, exponent)


class Exp(Function):
    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


def exp(x):
    return Exp.apply(x)


class Log(Function):
    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    @silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


def log(x):
    return Log.apply(x)


class Log1p(Function):
    """log(1 + x), precise for small x;  d/dx = 1 / (1 + x)."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    @silent
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)


def log1p(x):
    return Log1p.apply(x)


class Expm1(Function):
    """e^x - 1, precise for small x;  d/dx = e^x = out + 1."""

    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)


def expm1(x):
    return Expm1.apply(x)


class Sqrt(Function):
    fresh_gradients = True

    @staticmethod
    @silent
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @silent
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


def sqrt(x):
    return Sqrt.apply(x)


class Abs(Function):
    """|x|;  d/dx = sign(x), 0 at 0 (as PyTorch)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


def abs(x):  # noqa: A001
    return Abs.apply(x)


class Sign(Function):
    """-1, 0 or 1; its gradient is 0 everywhere (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


def sign(x):
    return Sign.apply(x)


class Clip(Function):
    """x limited to [low, high] (either may be None, a number or a tensor, low <= high); the gradient
    passes to x where low <= x <= high, bounds included, as PyTorch's clamp, and to a bound where it
    is the result."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, low, high):
        if low is None and high is None:
            raise OpError("clamp: at least one of min and max must be given")
        below = False if low is None else x < low
        above = False if high is None else x > high
        ctx.save_for_backward(~(below | above), below, above)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        inside, below, above = ctx.saved_tensors
        needs_low, needs_high = ctx.needs_input_grad[1:]
        return grad * inside, grad * below if needs_low else None, grad * above if needs_high else None


def clip(x, min=None, max=None):  # noqa: A002  (PyTorch's names)
    return Clip.apply(x, min, max)


def clamp_min(x, min):  # noqa: A002
    return Clip.apply(x, min, None)


def clamp_max(x, max):  # noqa: A002
    return Clip.apply(x, None, max)


def _tie_share(wins, ties, dtype):
    share = np.asanyarray(wins).astype(dtype)  # a copy by astype, which a compiled step's recording sees
    share[ties] = 0.5
    return share


class Maximum(Function):
    """Elementwise max; where x == y the gradient is shared half and half, as PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(_tie_share(x > y, x == y, np.result_type(x, y)))
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        (x_share,) = ctx.saved_tensors
        gx = grad * x_share
        return gx, grad - gx if ctx.needs_input_grad[1] else None


def maximum(x, y):
    return Maximum.apply(x, y)


class Minimum(Maximum):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(_tie_share(x < y, x == y, np.result_type(x, y)))
        return np.minimum(x, y)


def minimum(x, y):
    return Minimum.apply(x, y)


class Where(Function):
    """`condition ? x : y`; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        return None, np.where(condition, grad, 0), np.where(condition, 0, grad)


def where(condition, x=None, y=None):
    """`x` where `condition` holds, else `y`; differentiable in x and y. With the condition alone,
    the indices where it holds, one array per axis (nonzero(as_tuple=True)), as torch.where."""
    if x is None and y is None:
        return tuple(Tensor._make(i, False, None) for i in np.nonzero(np.atleast_1d(_data(condition))))
    return Where.apply(np.asanyarray(_data(condition), bool), x, y)


class Lerp(Function):
    """start + weight (end - start), computed from the nearer end as PyTorch does (end - (end - start)
    (1 - weight) for weight >= 0.5, so weight = 1 gives end exactly);  d/dstart = 1 - weight,
    d/dend = weight, d/dweight = end - start."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        difference = end - start
        return np.where(np.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        needs_start, needs_end, needs_weight = ctx.needs_input_grad
        return (
            grad * (1 - weight) if needs_start else None,
            grad * weight if needs_end else None,
            grad * (end - start) if needs_weight else None,
        )


def lerp(input, end, weight):  # noqa: A002  (PyTorch's names)
    return Lerp.apply(input, end, weight)


class Fmod(Function):
    """The remainder of x / y with the sign of x (C's fmod): x - trunc(x / y) y;
    d/dx = 1, d/dy = -trunc(x / y)."""

    rounding = staticmethod(np.trunc)
    remainder = staticmethod(np.fmod)

    @classmethod
    @silent
    def forward(cls, ctx, x, y):
        ctx.save_for_backward(x, y)
        return cls.remainder(x, y)

    @classmethod
    @silent
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        return grad, -grad * cls.rounding(x / y) if ctx.needs_input_grad[1] else None


def fmod(input, other):  # noqa: A002
    return Fmod.apply(input, other)


class Remainder(Fmod):
    """The remainder of x / y with the sign of y (Python's %): x - floor(x / y) y;
    d/dx = 1, d/dy = -floor(x / y)."""

    rounding = staticmethod(np.floor)
    remainder = staticmethod(np.remainder)


def remainder(input, other):  # noqa: A002
    return Remainder.apply(input, other)


class Rounding(Function):
    """floor, ceil, round (half to even) and trunc: steps, whose gradient is 0 everywhere (as
    PyTorch's). Integers come back unchanged."""

    rule: Callable[..., Any] = staticmethod(np.floor)  # each subclass's own

    @classmethod
    def forward(cls, ctx, x, *options):
        return x.copy() if x.dtype.kind in "biu" else cls.rule(x, *options)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Floor(Rounding):
    rule = staticmethod(np.floor)


class Ceil(Rounding):
    rule = staticmethod(np.ceil)


class Round(Rounding):
    rule = staticmethod(np.round)


class Trunc(Rounding):
    rule = staticmethod(np.trunc)


def floor(x):
    return Floor.apply(x)


def ceil(x):
    return Ceil.apply(x)


def round(x, decimals=0):  # noqa: A001
    """Half to even, as PyTorch and NumPy: round(2.5) is 2."""
    return Round.apply(x, decimals)


def trunc(x):
    return Trunc.apply(x)


class NanToNum(Function):
    """nan, inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0, the dtype's largest
    and its most negative finite value); the gradient passes where x was finite."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(np.isfinite(x))
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (finite,) = ctx.saved_tensors
        return grad * finite


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return NanToNum.apply(x, nan, posinf, neginf)


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":  # integers and booleans carry no gradient, as in PyTorch
        return Tensor._make(_data(x).astype(dtype), False, None)
    return Cast.apply(x, dtype=dtype)


def type_as(x, other):
    """x cast to other's dtype."""
    return astype(x, np.asarray(_data(other)).dtype)


def _comparison(ufunc, name="compare"):
    def compare(x, y):  # a plain boolean tensor: no graph, no gradient
        return Tensor._make(np.asanyarray(ufunc(_data(x), _data(y))), False, None)

    compare.__name__ = name
    return compare


def _predicate(ufunc, name):
    def test(x):  # a plain boolean tensor: no graph, no gradient
        return Tensor._make(np.asarray(ufunc(_data(x))), False, None)

    test.__name__ = name
    return test


isnan, isinf = _predicate(np.isnan, "isnan"), _predicate(np.isinf, "isinf")
isfinite, logical_not = _predicate(np.isfinite, "isfinite"), _predicate(np.logical_not, "logical_not")
logical_and, logical_or = _comparison(np.logical_and, "logical_and"), _comparison(np.logical_or, "logical_or")
logical_xor = _comparison(np.logical_xor, "logical_xor")
eq, ne = _comparison(np.equal, "eq"), _comparison(np.not_equal, "ne")
lt, le, gt, ge = (
    _comparison(u, n) for u, n in [(np.less, "lt"), (np.less_equal, "le"), (np.greater, "gt"), (np.greater_equal, "ge")]
)


def _reflected(fn):
    return lambda self, other: fn(other, self)


for _fn in (
    add,
    sub,
    mul,
    div,
    neg,
    pow,
    exp,
    log,
    log1p,
    expm1,
    sqrt,
    abs,
    sign,
    clip,
    clamp_min,
    clamp_max,
    maximum,
    minimum,
    astype,
    type_as,
    lerp,
    fmod,
    remainder,
    floor,
    ceil,
    round,
    trunc,
    nan_to_num,
    isnan,
    isinf,
    isfinite,
    logical_not,
    logical_and,
    logical_or,
    logical_xor,
    eq,
    ne,
    lt,
    le,
    gt,
    ge,
):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.clamp = clip
Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.where.__name__ = "where"
Tensor.negative, Tensor.subtract, Tensor.multiply, Tensor.divide, Tensor.absolute = neg, sub, mul, div, abs
Tensor.float = lambda self: astype(self, np.float32)
Tensor.double = lambda self: astype(self, np.float64)
Tensor.half = lambda self: astype(self, np.float16)
Tensor.long = lambda self: astype(self, np.int64)
Tensor.int = lambda self: astype(self, np.int32)
Tensor.bool = lambda self: astype(self, np.bool_)
Tensor.__add__, Tensor.__radd__ = add, _reflected(add)
Tensor.__sub__, Tensor.__rsub__ = sub, _reflected(sub)
Tensor.__mul__, Tensor.__rmul__ = mul, _reflected(mul)
Tensor.__truediv__, Tensor.__rtruediv__ = div, _reflected(div)
Tensor.__pow__, Tensor.__rpow__ = pow, _reflected(pow)
Tensor.__neg__, Tensor.__abs__ = neg, abs
for _name, _ufunc in [
    ("lt", np.less),
    ("le", np.less_equal),
    ("gt", np.greater),
    ("ge", np.greater_equal),
    ("eq", np.equal),
    ("ne", np.not_equal),
    ("and", np.logical_and),
    ("or", np.logical_or),
    ("xor", np.logical_xor),
]:
    setattr(Tensor, f"__{_name}__", _comparison(_ufunc))
    Tensor._numpy_functions[_ufunc] = _comparison(_ufunc)
for _name, _ufunc in [("and", np.logical_and), ("or", np.logical_or), ("xor", np.logical_xor)]:
    setattr(Tensor, f"__r{_name}__", _reflected(_comparison(_ufunc)))
Tensor.__invert__ = lambda self: Tensor._make(~self.data, False, None)
Tensor._numpy_functions.update(
    {
        np.add: add,
        np.subtract: sub,
        np.multiply: mul,
        np.true_divide: div,
        np.negative: neg,
        np.power: pow,
        np.exp: exp,
        np.log: log,
        np.log1p: log1p,
        np.expm1: expm1,
        np.sqrt: sqrt,
        np.absolute: abs,
        np.sign: sign,
        np.maximum: maximum,
        np.minimum: minimum,
        np.where: where,
        np.clip: clip,
        np.fmod: fmod,
        np.remainder: remainder,
        np.floor: floor,
        np.ceil: ceil,
        np.round: round,
        np.trunc: trunc,
        np.nan_to_num: nan_to_num,
        np.isnan: isnan,
        np.isinf: isinf,
        np.isfinite: isfinite,
        np.logical_not: logical_not,
        np.zeros_like: lambda x, dtype=None: Tensor._make(np.zeros_like(_data(x), dtype), False, None),
        np.ones_like: lambda x, dtype=None: Tensor._make(np.ones_like(_data(x), dtype), False, None),
    }
)
