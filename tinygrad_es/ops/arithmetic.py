"""Elementwise arithmetic: + - * / **, exp, log, sqrt, abs, sign, clip, maximum, minimum, where,
casts and comparisons."""

import numpy as np

from ..engine import Function, Tensor, _data
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
    constant, also at x = 0); d/dp = x^p log x, 0 where x = 0 and p >= 0 (as PyTorch)."""

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
        gx = grad * np.where(p == 0, 0, p * x ** (p - 1)) if needs_x else None
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
    """x limited to [low, high] (either may be None); the gradient passes where low <= x <= high,
    bounds included, as PyTorch's clamp."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, low, high):
        inside = (x >= (-np.inf if low is None else low)) & (x <= (np.inf if high is None else high))
        ctx.save_for_backward(inside)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None

def clip(x, min=None, max=None):  # noqa: A002  (PyTorch's names)
    return Clip.apply(x, min, max)

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

def where(condition, x, y):
    """`x` where `condition` holds, else `y`; differentiable in x and y."""
    return Where.apply(np.asanyarray(_data(condition), bool), x, y)

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

def _comparison(ufunc):
    def compare(x, y):  # a plain boolean tensor: no graph, no gradient
        return Tensor._make(np.asanyarray(ufunc(_data(x), _data(y))), False, None)

    return compare

def _reflected(fn):
    return lambda self, other: fn(other, self)


for _fn in (add, sub, mul, div, neg, pow, exp, log, log1p, expm1, sqrt, abs, sign, clip, maximum, minimum, astype):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.clamp = clip
Tensor.float = lambda self: astype(self, np.float32)
Tensor.double = lambda self: astype(self, np.float64)
Tensor.__add__, Tensor.__radd__ = add, _reflected(add)
Tensor.__sub__, Tensor.__rsub__ = sub, _reflected(sub)
Tensor.__mul__, Tensor.__rmul__ = mul, _reflected(mul)
Tensor.__truediv__, Tensor.__rtruediv__ = div, _reflected(div)
Tensor.__pow__, Tensor.__rpow__ = pow, _reflected(pow)
Tensor.__neg__, Tensor.__abs__ = neg, abs
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                      ("eq", np.equal), ("ne", np.not_equal), ("and", np.logical_and), ("or", np.logical_or),
                      ("xor", np.logical_xor)]:
    setattr(Tensor, f"__{_name}__", _comparison(_ufunc))
    Tensor._numpy_functions[_ufunc] = _comparison(_ufunc)
for _name, _ufunc in [("and", np.logical_and), ("or", np.logical_or), ("xor", np.logical_xor)]:
    setattr(Tensor, f"__r{_name}__", _reflected(_comparison(_ufunc)))
Tensor.__invert__ = lambda self: Tensor._make(~self.data, False, None)
Tensor._numpy_functions.update({
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg, np.power: pow,
    np.exp: exp, np.log: log, np.log1p: log1p, np.expm1: expm1, np.sqrt: sqrt, np.absolute: abs, np.sign: sign,
    np.maximum: maximum, np.minimum: minimum, np.where: where, np.clip: clip,
    np.zeros_like: lambda x, dtype=None: Tensor._make(np.zeros_like(_data(x), dtype), False, None),
    np.ones_like: lambda x, dtype=None: Tensor._make(np.ones_like(_data(x), dtype), False, None),
})  # fmt: skip
