"""Activation functions: each its own op, formula and derivative side by side.

Most are elementwise and subclass `Elementwise`: `value` computes f(x) and keeps on the op what
`slope` needs to give f'(x); backward multiplies the incoming gradient by that slope. At kinks
the derivative is PyTorch's (stated in each docstring). Exponentials never get an argument
that would overflow or underflow (see `_EXP_LIMIT`), so any input in [-1e4, 1e4] gives finite
values and raises no floating-point warning. A ValueError raised in a forward reaches the user
with the op's name and the input shapes, added by the engine.
"""
import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .engine import Function
from .random import default_generator


class _ExpLimits(dict):
    """dtype -> |t| up to which e^t and e^-t are finite normal numbers, with room to spare for a
    sum or a quotient; float64's for any other dtype. Arguments of exp are clamped to it: beyond
    it the result is 0 or 1 to the dtype's precision anyway. A dict lookup, not a function call:
    every sigmoid goes through it."""

    def __missing__(self, dtype):
        return 700.0


_EXP_LIMIT = _ExpLimits({np.dtype(np.float16): 9.0, np.dtype(np.float32): 80.0, np.dtype(np.float64): 700.0})


class _ExpConstants(dict):
    """dtype -> (-limit, limit, 1) as 0-d arrays of that dtype (float64 for other kinds): the
    bounds of exp's argument and the 1 of 1 + e^x. NumPy combines an array with a 0-d array of
    its own dtype about 0.2 us faster than with a Python number, which it first has to promote;
    sigmoid makes three such calls."""

    def __missing__(self, dtype):
        floating = dtype if dtype.kind in "fc" else np.dtype(np.float64)
        limit = _EXP_LIMIT[floating]
        constants = self[dtype] = (np.array(-limit, floating), np.array(limit, floating), np.array(1, floating))
        return constants


_EXP_CONSTANTS = _ExpConstants()


def _exp(x):
    """e^x with x clamped to +-_EXP_LIMIT."""
    low, high, _ = _EXP_CONSTANTS[x.dtype]
    t = np.maximum(x, low)
    np.minimum(t, high, out=t)
    return np.exp(t, out=t)


def _sigmoid(x):
    """(sigmoid(x), 1 + e^x): e^x / (1 + e^x) with x clamped, the fastest form we timed that never
    warns. 1 / (1 + e^x) is 1 - sigmoid(x) without cancellation near sigmoid = 1."""
    e = _exp(x)
    denominator = e + _EXP_CONSTANTS[x.dtype][2]
    return np.divide(e, denominator, out=e), denominator


# erfc(z) = t exp(P(u) - z^2) for z >= 0, with t = 2 / (2 + z) and u = 2t - 1 = (2 - z) / (2 + z)
# (the form of Numerical Recipes' erfccheb). P, of degree 21, interpolates log(erfc(z) / t) + z^2
# at 22 Chebyshev nodes of u, computed with mpmath: relative error below 2e-14 for z <= 6 and
# 5e-13 beyond, where rounding e^-z^2 itself costs that much. Coefficients from the highest power.
_ERFC_POLY = (
    -1.2563442169521819e-07, 1.6494895727155763e-07, 8.9409014937097417e-07, -1.7273260491317614e-06,
    -2.4410788990240151e-06, 8.9752588601622429e-06, -2.9531302649164744e-07, -3.0442888560298031e-05,
    3.1979777147290036e-05, 7.1508791244671326e-05, -0.00017438409851328949, -9.3765708037204029e-05,
    0.00067369624562106547, -0.0001462411996729981, -0.0023458146860594799, 0.0017589329255461358,
    0.00882493869732443, -0.0098726893289288343, -0.046895610234684706, 0.047343306841008549,
    0.67264322397767129, -0.67179408405668861,
)


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt(2)) / 2 (NumPy has no erf)."""
    # z is capped where erfc(z) still is a normal number (e^-z^2 well above the smallest one).
    z = np.minimum(np.abs(x) * math.sqrt(0.5), math.sqrt(_EXP_LIMIT[x.dtype] - 8))
    t = 2 / (2 + z)
    u = 2 * t - 1
    p = np.full_like(u, _ERFC_POLY[0])
    for c in _ERFC_POLY[1:]:  # Horner, in place
        p *= u
        p += c
    p -= z * z
    half_erfc = np.exp(p, out=p)
    half_erfc *= 0.5 * t
    return np.where(x < 0, half_erfc, 1 - half_erfc)


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


# ---- sigmoid and tanh family ---------------------------------------------------------------------
class Sigmoid(Elementwise):
    """f(x) = 1 / (1 + e^-x);  f'(x) = f(x) (1 - f(x)) = f(x) / (1 + e^x)."""

    def value(self, x):
        self.out, self.denominator = _sigmoid(x)
        return self.out

    def slope(self):
        return self.out / self.denominator


class Tanh(Elementwise):
    """f(x) = (e^x - e^-x) / (e^x + e^-x);  f'(x) = 1 - f(x)^2."""

    def value(self, x):
        self.out = np.tanh(x)
        return self.out

    def slope(self):
        return 1 - self.out * self.out


class LogSigmoid(Elementwise):
    """f(x) = log(1 / (1 + e^-x)) = min(x, 0) - log(1 + e^-|x|);  f'(x) = 1 - sigmoid(x)."""

    def value(self, x):
        self.x, self.e = x, _exp(-np.abs(x))  # e^-|x| is all the slope needs
        return np.minimum(x, 0) - np.log1p(self.e)

    def slope(self):
        return np.where(self.x < 0, 1, self.e) / (1 + self.e)


class Softsign(Elementwise):
    """f(x) = x / (1 + |x|);  f'(x) = 1 / (1 + |x|)^2."""

    def value(self, x):
        self.denominator = 1 + np.abs(x)
        return x / self.denominator

    def slope(self):
        return 1 / np.square(self.denominator)


class Tanhshrink(Elementwise):
    """f(x) = x - tanh(x);  f'(x) = tanh(x)^2."""

    def value(self, x):
        self.tanh = np.tanh(x)
        return x - self.tanh

    def slope(self):
        return self.tanh * self.tanh


# ---- rectifiers ----------------------------------------------------------------------------------
class ReLU(Elementwise):
    """f(x) = max(0, x);  f'(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch)."""

    def value(self, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def slope(self):
        return self.positive


class LeakyReLU(Elementwise):
    """f(x) = x if x > 0 else a x;  f'(x) = 1 if x > 0 else a (a at the kink, as PyTorch)."""

    def value(self, x, negative_slope):
        dtype = np.result_type(x, negative_slope)  # x's float dtype; float64 for integers
        self.k = np.where(x > 0, dtype.type(1), dtype.type(negative_slope))
        return x * self.k

    def slope(self):
        return self.k


class RReLU(Elementwise):
    """Leaky ReLU whose slope a ~ U(lower, upper) is drawn anew for every element on every
    forward (training mode); backward uses the same slopes. f'(x) = 1 if x > 0 else a."""

    def value(self, x, lower, upper, generator):
        slopes = (generator or default_generator()).uniform(lower, upper, x.shape)
        self.k = np.where(x > 0, 1, slopes.astype(np.result_type(x, lower), copy=False))
        return x * self.k

    def slope(self):
        return self.k


class PReLU(Function):
    """f(x) = x if x > 0 else a x, the slope a learned: one shared, or one per channel (axis 1).
    df/dx = 1 if x > 0 else a;  df/da = 0 if x > 0 else x, summed over all but the channel axis."""

    @staticmethod
    def forward(ctx, x, weight):
        if weight.size == 1:
            slope, ctx.sum_axes = weight.reshape(()), None  # shared: its gradient sums everything
        elif weight.ndim == 1 and x.ndim >= 2 and x.shape[1] == weight.shape[0]:
            slope = weight.reshape((-1,) + (1,) * (x.ndim - 2))
            ctx.sum_axes = (0,) + tuple(range(2, x.ndim))
        else:
            raise ValueError(
                f"weight of shape {weight.shape} needs one slope, or one per channel of the input's "
                f"axis 1; got input of shape {x.shape}"
            )
        ctx.x, ctx.slope, ctx.weight_shape, ctx.positive = x, slope, weight.shape, x > 0
        return np.where(ctx.positive, x, slope * x)

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_weight = ctx.needs_input_grad
        gx = np.where(ctx.positive, grad, grad * ctx.slope) if needs_x else None
        gw = None
        if needs_weight:
            gw = np.where(ctx.positive, 0, grad * ctx.x).sum(ctx.sum_axes).reshape(ctx.weight_shape)
        return gx, gw


class ELU(Elementwise):
    """f(x) = x if x > 0 else alpha (e^x - 1);  f'(x) = 1 if x > 0 else alpha e^x = f(x) + alpha
    (alpha at the kink, as PyTorch). SELU passes `scale`, multiplying f and f' by it."""

    def value(self, x, alpha, scale=1.0):
        self.x, self.alpha, self.scale = x, alpha, scale
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        if scale != 1.0:
            out *= scale
        return out

    def slope(self):
        # alpha e^x rather than f(x) + alpha, which cancels to 0 where e^x is tiny
        x = self.x
        return np.where(x > 0, self.scale, (self.scale * self.alpha) * _exp(np.minimum(x, 0)))


class SELU(ELU):
    """f(x) = scale elu(x, alpha) with the constants of Klambauer et al. (2017) below;
    f'(x) = scale if x > 0 else f(x) + scale alpha (scale alpha at the kink, as PyTorch)."""

    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def value(self, x):
        return super().value(x, self.ALPHA, self.SCALE)


class CELU(Elementwise):
    """f(x) = x if x > 0 else alpha (e^(x/alpha) - 1);  f'(x) = 1 if x > 0 else e^(x/alpha)."""

    def value(self, x, alpha):
        self.positive = x > 0
        self.scaled = np.minimum(x, 0) / alpha
        return np.where(self.positive, x, alpha * np.expm1(self.scaled))

    def slope(self):
        return np.where(self.positive, 1, _exp(self.scaled))


class Softplus(Elementwise):
    """f(x) = log(1 + e^(beta x)) / beta, and x where beta x > threshold;
    f'(x) = sigmoid(beta x), and 1 where linear."""

    def value(self, x, beta, threshold):
        bx = x * beta if beta != 1 else x
        # Past the exp limit the soft form equals x to the dtype's precision: take x there too.
        self.linear = bx > min(threshold, _EXP_LIMIT[x.dtype])
        self.e = _exp(bx)
        soft = np.log1p(self.e)
        if beta != 1:
            soft /= beta
        return np.where(self.linear, x, soft)

    def slope(self):
        return np.where(self.linear, 1, self.e / (1 + self.e))


class GELU(Elementwise):
    """f(x) = x Phi(x), Phi the standard normal CDF;  f'(x) = Phi(x) + x phi(x), phi its density.
    approximate="tanh": Phi(x) ~ (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3), and
    phi(x) ~ (1 - tanh(u)^2) / 2 * du/dx."""

    def value(self, x, approximate):
        if approximate == "tanh":
            self.tanh = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x))
            self.cdf = 0.5 * (1 + self.tanh)
        elif approximate == "none":
            self.cdf = _normal_cdf(x)
        else:
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.x, self.approximate = x, approximate
        return x * self.cdf

    def slope(self):
        x = self.x
        if self.approximate == "tanh":
            pdf = 0.5 * (1 - self.tanh * self.tanh) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
        else:
            pdf = np.exp(np.maximum(-0.5 * x * x, -_EXP_LIMIT[x.dtype])) * (1 / math.sqrt(2 * math.pi))
        return self.cdf + x * pdf


class SiLU(Elementwise):
    """f(x) = x sigmoid(x) (swish);  f'(x) = s (1 + x (1 - s)), s = sigmoid(x)."""

    def value(self, x):
        self.x, self.s = x, _sigmoid(x)[0]
        return x * self.s

    def slope(self):
        return self.s * (1 + self.x * (1 - self.s))


class Mish(Elementwise):
    """f(x) = x tanh(softplus(x));  f'(x) = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))."""

    def value(self, x):
        self.x, self.e = x, _exp(x)
        self.t = np.tanh(np.log1p(self.e))
        return x * self.t

    def slope(self):
        return self.t + self.x * (self.e / (1 + self.e)) * ((1 - self.t) * (1 + self.t))  # 1 - t^2, no underflow


# ---- piecewise linear ----------------------------------------------------------------------------
class Hardtanh(Elementwise):
    """f(x) = min(max(x, min_val), max_val);  f'(x) = 1 if min_val < x < max_val else 0
    (0 at both kinks, as PyTorch)."""

    def value(self, x, min_val, max_val):
        self.inside = (x > min_val) & (x < max_val)
        return np.minimum(np.maximum(x, min_val), max_val)

    def slope(self):
        return self.inside


class ReLU6(Hardtanh):
    """f(x) = min(max(x, 0), 6);  f'(x) = 1 if 0 < x < 6 else 0."""

    def value(self, x):
        return super().value(x, 0.0, 6.0)


class Hardsigmoid(Elementwise):
    """f(x) = 0 if x <= -3, 1 if x >= 3, else x/6 + 1/2;  f'(x) = 1/6 if -3 < x < 3 else 0."""

    def value(self, x):
        self.inside, self.sixth = (x > -3) & (x < 3), x.dtype.type(1 / 6)
        return np.minimum(np.maximum(x * (1 / 6) + 0.5, 0), 1)

    def slope(self):
        return self.inside * self.sixth


class Hardswish(Elementwise):
    """f(x) = x hardsigmoid(x);  f'(x) = 0 if x <= -3, 1 if x >= 3, else x/3 + 1/2 (as PyTorch)."""

    def value(self, x):
        self.x = x
        return x * np.minimum(np.maximum(x * (1 / 6) + 0.5, 0), 1)

    def slope(self):
        x = self.x
        return np.where(x >= 3, 1, np.where(x > -3, x * (1 / 3) + 0.5, 0))


class Softshrink(Elementwise):
    """f(x) = x - lambd if x > lambd, x + lambd if x < -lambd, else 0;  f'(x) = 1 if |x| > lambd else 0."""

    def value(self, x, lambd):
        self.outside = np.abs(x) > lambd
        return x - np.minimum(np.maximum(x, -lambd), lambd)

    def slope(self):
        return self.outside


class Hardshrink(Elementwise):
    """f(x) = x if |x| > lambd else 0;  f'(x) = 1 if |x| > lambd else 0."""

    def value(self, x, lambd):
        self.outside = np.abs(x) > lambd
        return np.where(self.outside, x, 0)

    def slope(self):
        return self.outside


class Threshold(Elementwise):
    """f(x) = x if x > threshold else value;  f'(x) = 1 if x > threshold else 0."""

    def value(self, x, threshold, value):
        self.above = x > threshold
        return np.where(self.above, x, value)

    def slope(self):
        return self.above


class Step(Elementwise):
    """Heaviside step, the perceptron's activation: f(x) = 1 if x >= 0 else 0.
    f'(x) = 0 everywhere (also at the jump, where it does not exist): no gradient flows through."""

    def value(self, x):
        return (x >= 0).astype(x.dtype)

    def slope(self):
        return 0


# ---- along an axis -------------------------------------------------------------------------------
class Softmax(Function):
    """s_i = e^(x_i) / sum_j e^(x_j) along `axis` (the max is subtracted first);
    J = diag(s) - s s^T, so dL/dx = s * (g - sum(g * s))."""

    @staticmethod
    def forward(ctx, x, axis):
        e = np.subtract(x, x.max(axis, keepdims=True), dtype=np.result_type(x, 1.0))  # integers: float64
        np.maximum(e, -_EXP_LIMIT[x.dtype], out=e)
        np.exp(e, out=e)
        e /= e.sum(axis, keepdims=True)
        ctx.out, ctx.axis = e, axis
        return e

    @staticmethod
    def backward(ctx, grad):
        s = ctx.out
        return s * (grad - (grad * s).sum(ctx.axis, keepdims=True))


class Softmin(Softmax):
    """softmax(-x) along `axis`;  dL/dx = -s * (g - sum(g * s)), s = softmin(x)."""

    @staticmethod
    def forward(ctx, x, axis):
        return Softmax.forward(ctx, -x, axis)

    @staticmethod
    def backward(ctx, grad):
        return -Softmax.backward(ctx, grad)


class LogSoftmax(Function):
    """f_i = x_i - log sum_j e^(x_j) along `axis` (the max is subtracted first);
    dL/dx = g - softmax(x) * sum(g)."""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = np.subtract(x, x.max(axis, keepdims=True), dtype=np.result_type(x, 1.0))
        e = np.exp(np.maximum(shifted, -_EXP_LIMIT[x.dtype]))
        total = e.sum(axis, keepdims=True)
        ctx.e, ctx.total, ctx.axis = e, total, axis
        shifted -= np.log(total)
        return shifted

    @staticmethod
    def backward(ctx, grad):
        return grad - ctx.e / ctx.total * grad.sum(ctx.axis, keepdims=True)


class GLU(Function):
    """Gated linear unit: x split in halves a, b along `axis`, f = a * sigmoid(b);
    df/da = sigmoid(b), df/db = a sigmoid(b) (1 - sigmoid(b))."""

    @staticmethod
    def forward(ctx, x, axis):
        if x.shape[normalize_axis_index(axis, x.ndim)] % 2:
            raise ValueError(f"the size along axis {axis} must be even to halve it, got shape {x.shape}")
        a, b = np.split(x, 2, axis)
        ctx.a, ctx.s, ctx.axis = a, _sigmoid(b)[0], axis
        return a * ctx.s

    @staticmethod
    def backward(ctx, grad):
        gate = grad * ctx.s
        return np.concatenate([gate, gate * ctx.a * (1 - ctx.s)], ctx.axis)


# ---- the functional forms (PyTorch's names and defaults; `axis` is PyTorch's `dim`) ---------------
def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def prelu(x, weight):
    """`weight` holds one slope, or one per channel of x's axis 1; it receives a gradient."""
    return PReLU.apply(x, weight)


def rrelu(x, lower=1 / 8, upper=1 / 3, training=False, generator=None):
    """Randomized leaky ReLU (Xu et al. 2015). Training: every element x < 0 gets its own slope
    a ~ U(lower, upper), drawn from `generator` (default: the library's default generator).
    Otherwise: leaky_relu with slope (lower + upper) / 2, 11/48 by default. The paper writes the
    negative part as x / a with a ~ U(3, 8) and x / 5.5 at test time; like PyTorch, we sample the
    slope itself in [1/8, 1/3] and use the mean slope at test time."""
    if not training:
        return LeakyReLU.apply(x, negative_slope=(lower + upper) / 2)
    return RReLU.apply(x, lower=lower, upper=upper, generator=generator)


def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


def selu(x):
    return SELU.apply(x)


def celu(x, alpha=1.0):
    return CELU.apply(x, alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta=beta, threshold=threshold)


def gelu(x, approximate="none"):
    """approximate: "none" (the exact erf form) or "tanh"."""
    return GELU.apply(x, approximate=approximate)


def silu(x):
    return SiLU.apply(x)


swish = silu


def mish(x):
    return Mish.apply(x)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def relu6(x):
    return ReLU6.apply(x)


def hardsigmoid(x):
    return Hardsigmoid.apply(x)


def hardswish(x):
    return Hardswish.apply(x)


def softsign(x):
    return Softsign.apply(x)


def logsigmoid(x):
    return LogSigmoid.apply(x)


def tanhshrink(x):
    return Tanhshrink.apply(x)


def softshrink(x, lambd=0.5):
    return Softshrink.apply(x, lambd=lambd)


def hardshrink(x, lambd=0.5):
    return Hardshrink.apply(x, lambd=lambd)


def threshold(x, threshold, value):
    return Threshold.apply(x, threshold=threshold, value=value)


def step(x):
    """Heaviside: 1 where x >= 0, else 0; its gradient is 0 everywhere."""
    return Step.apply(x)


def identity(x):
    """f(x) = x (Keras' "linear"): returns x itself, so nothing is recorded."""
    return x


def softmax(x, axis=-1):
    """Softmax along `axis`, the last one by default."""
    return Softmax.apply(x, axis=axis)


def softmin(x, axis=-1):
    return Softmin.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed without taking the log of tiny probabilities."""
    return LogSoftmax.apply(x, axis=axis)


def glu(x, axis=-1):
    return GLU.apply(x, axis=axis)
