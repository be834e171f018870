"""Activation functions: each its own op, formula and derivative side by side.

At kinks the derivative is PyTorch's (stated in each docstring). Exponentials never get an argument
that would overflow (`_EXP_LIMIT`), so any input in [-1e4, 1e4] gives finite values and no
floating-point warning. As every op's, the backward formulas are plain NumPy that also runs on
Tensors (engine.py), so each activation can be differentiated twice and more.
"""

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .engine import Function, OpError, Tensor
from .helpers import pytorch_axis, pytorch_names, silent
from .random import draw

# |x| up to which e^x and e^-x are finite normal numbers, with room for a sum or a quotient; beyond
# it sigmoid and its kin are 0 or 1 to the dtype's precision anyway. float64's for other dtypes.
_EXP_LIMIT = {np.dtype(np.float16): 9.0, np.dtype(np.float32): 80.0}


def _exp_limit(x):
    return _EXP_LIMIT.get(x.dtype, 700.0)


def _sigmoid(x):
    """1 / (1 + e^-x), as e^x / (1 + e^x) with x clamped from above: never overflows, and keeps its
    relative precision for x << 0, down to the subnormal numbers (as PyTorch's)."""
    e = np.exp(np.minimum(x, _exp_limit(x)))
    return e / (1 + e)


def _softplus(x):
    """log(1 + e^x) without overflow: x itself where e^x would overflow (the two agree there)."""
    limit = _exp_limit(x)
    return np.where(x > limit, x, np.log1p(np.exp(np.minimum(x, limit))))


def _floating(x):
    """Integers become float64 (the answer is a probability)."""
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


class Elementwise(Function):
    """An activation applied element by element, with one tensor input: dL/dx = dL/dy * f'(x).
    A Dense layer can run it inside its own graph node (fused.py)."""


# ---- sigmoid and tanh family ---------------------------------------------------------------------
class Sigmoid(Elementwise):
    """f(x) = 1 / (1 + e^-x);  f'(x) = f(x) (1 - f(x))."""

    @staticmethod
    def forward(ctx, x):
        out = _sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Tanh(Elementwise):
    """f(x) = (e^x - e^-x) / (e^x + e^-x);  f'(x) = 1 - f(x)^2."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class LogSigmoid(Elementwise):
    """f(x) = log(1 / (1 + e^-x)) = min(x, 0) - log(1 + e^-|x|);  f'(x) = 1 - sigmoid(x) = sigmoid(-x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(-x)


class Softsign(Elementwise):
    """f(x) = x / (1 + |x|);  f'(x) = 1 / (1 + |x|)^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.abs(x)) ** 2


class Tanhshrink(Elementwise):
    """f(x) = x - tanh(x);  f'(x) = tanh(x)^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x - np.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.tanh(x) ** 2


# ---- rectifiers ----------------------------------------------------------------------------------
class ReLU(Elementwise):
    """f(x) = max(0, x);  f'(x) = 1 if x > 0 else 0 (0 at the kink, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return grad * positive


class LeakyReLU(Elementwise):
    """f(x) = x if x > 0 else a x;  f'(x) = 1 if x > 0 else a (a at the kink, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return np.where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return np.where(positive, grad, grad * ctx.negative_slope)


class RReLU(Elementwise):
    """Leaky ReLU whose slope a ~ U(lower, upper) is drawn anew for every element on every
    forward (training mode); backward uses the same slopes. f'(x) = 1 if x > 0 else a."""

    @staticmethod
    def forward(ctx, x, lower, upper, generator):
        slopes = draw(generator, "uniform", lower, upper, np.shape(x)).astype(x.dtype)
        k = np.where(x > 0, x.dtype.type(1), slopes)
        ctx.save_for_backward(k)
        return x * k

    @staticmethod
    def backward(ctx, grad):
        (k,) = ctx.saved_tensors
        return grad * k


def _channel_slope(weight, ndim):
    """PReLU's slopes shaped to broadcast against an input of `ndim` axes: one shared, or one per
    channel along axis 1."""
    return weight.reshape(()) if weight.size == 1 else weight.reshape((-1,) + (1,) * (ndim - 2))


class PReLU(Function):
    """f(x) = x if x > 0 else a x, the slope a learned: one shared, or one per channel (axis 1).
    df/dx = 1 if x > 0 else a;  df/da = 0 if x > 0 else x, summed over all but the channel axis."""

    @staticmethod
    def forward(ctx, x, weight):
        if weight.size != 1 and not (weight.ndim == 1 and x.ndim >= 2 and x.shape[1] == weight.shape[0]):
            raise OpError(
                f"weight of shape {weight.shape} needs one slope, or one per channel of the input's "
                f"axis 1; got input of shape {x.shape}"
            )
        ctx.save_for_backward(x, weight)
        return np.where(x > 0, x, _channel_slope(weight, x.ndim) * x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight = ctx.needs_input_grad
        positive = x > 0
        gx = np.where(positive, grad, grad * _channel_slope(weight, x.ndim)) if needs_x else None
        gw = None
        if needs_weight:
            axes = None if weight.size == 1 else (0, *range(2, x.ndim))
            gw = np.where(positive, 0, grad * x).sum(axis=axes).reshape(weight.shape)
        return gx, gw


class ELU(Elementwise):
    """f(x) = x if x > 0 else alpha (e^x - 1);  f'(x) = 1 if x > 0 else alpha e^x (alpha at the
    kink, as PyTorch), f''(x) = 0 if x >= 0 else alpha e^x (0 at the kink, as PyTorch: the exponent
    is where(x < 0, x, 0), flat at 0). SELU passes `scale`, multiplying f and its derivatives by it."""

    @staticmethod
    def forward(ctx, x, alpha, scale=1.0):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale = alpha, scale
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scale = ctx.scale
        return np.where(x > 0, grad * scale, grad * (scale * ctx.alpha) * np.exp(np.where(x < 0, x, 0)))


class SELU(ELU):
    """f(x) = scale elu(x, alpha) with the constants of Klambauer et al. (2017) below;
    f'(x) = scale if x > 0 else scale alpha e^x (scale alpha at the kink, as PyTorch)."""

    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    @staticmethod
    def forward(ctx, x):
        return ELU.forward(ctx, x, SELU.ALPHA, SELU.SCALE)


class CELU(Elementwise):
    """f(x) = x if x > 0 else alpha (e^(x/alpha) - 1);  f'(x) = 1 if x > 0 else e^(x/alpha);
    f''(x) = 0 if x >= 0 else e^(x/alpha) / alpha (0 at the kink, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * np.exp(np.where(x < 0, x, 0) / ctx.alpha))


class Softplus(Elementwise):
    """f(x) = log(1 + e^(beta x)) / beta, and x where beta x > threshold;
    f'(x) = sigmoid(beta x), and 1 where linear."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        linear = x * beta > threshold
        ctx.save_for_backward(x, linear)
        ctx.beta = beta
        return np.where(linear, x, _softplus(x * beta) / beta)

    @staticmethod
    def backward(ctx, grad):
        x, linear = ctx.saved_tensors
        return np.where(linear, grad, grad * _sigmoid(x * ctx.beta))


# erfc(z) = t exp(P(u) - z^2) for z >= 0, with t = 2 / (2 + z) and u = 2t - 1 = (2 - z) / (2 + z)
# (the form of Numerical Recipes' erfccheb). P, of degree 21, interpolates log(erfc(z) / t) + z^2
# at 22 Chebyshev nodes of u, computed with mpmath: relative error below 2e-14 for z <= 6 and
# 5e-13 beyond, where rounding e^-z^2 itself costs that much. Coefficients from the highest power.
_ERFC_POLY = (
    -1.2563442169521819e-07,
    1.6494895727155763e-07,
    8.9409014937097417e-07,
    -1.7273260491317614e-06,
    -2.4410788990240151e-06,
    8.9752588601622429e-06,
    -2.9531302649164744e-07,
    -3.0442888560298031e-05,
    3.1979777147290036e-05,
    7.1508791244671326e-05,
    -0.00017438409851328949,
    -9.3765708037204029e-05,
    0.00067369624562106547,
    -0.0001462411996729981,
    -0.0023458146860594799,
    0.0017589329255461358,
    0.00882493869732443,
    -0.0098726893289288343,
    -0.046895610234684706,
    0.047343306841008549,
    0.67264322397767129,
    -0.67179408405668861,
)


def _normal_pdf(x):
    return np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))


class NormalCDF(Function):
    """Phi(x) = erfc(-x / sqrt(2)) / 2, the standard normal CDF (NumPy has no erf);
    Phi'(x) = phi(x) = e^(-x^2/2) / sqrt(2 pi)."""

    @staticmethod
    @silent
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # z is capped where erfc(z) still is a normal number (e^-z^2 well above the smallest one)
        z = np.minimum(np.abs(x) * math.sqrt(0.5), math.sqrt(_exp_limit(x) - 8))
        t = 2 / (2 + z)
        u = 2 * t - 1
        p = _ERFC_POLY[0]
        for c in _ERFC_POLY[1:]:  # Horner
            p = p * u + c
        half_erfc = 0.5 * t * np.exp(p - z * z)
        return np.where(x < 0, half_erfc, 1 - half_erfc)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _normal_pdf(x)


class GELU(Elementwise):
    """f(x) = x Phi(x), Phi the standard normal CDF;  f'(x) = Phi(x) + x phi(x), phi its density.
    approximate="tanh": Phi(x) ~ (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3), and
    phi(x) ~ (1 - tanh(u)^2) / 2 * du/dx."""

    @staticmethod
    def forward(ctx, x, approximate):
        if approximate not in ("none", "tanh"):
            raise OpError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return x * GELU.cdf_and_pdf(x, approximate)[0]

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        cdf, pdf = GELU.cdf_and_pdf(x, ctx.approximate)
        return grad * (cdf + x * pdf)

    @staticmethod
    def cdf_and_pdf(x, approximate):
        if approximate == "none":
            return NormalCDF.on(x), _normal_pdf(x)
        t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t), 0.5 * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)


class SiLU(Elementwise):
    """f(x) = x sigmoid(x) (swish);  f'(x) = s (1 + x (1 - s)), s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = _sigmoid(x)
        return grad * s * (1 + x * (1 - s))


class Mish(Elementwise):
    """f(x) = x tanh(softplus(x));  f'(x) = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(_softplus(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(_softplus(x))
        return grad * (t + x * _sigmoid(x) * ((1 - t) * (1 + t)))  # (1 - t)(1 + t): 1 - t^2 without cancelling


# ---- piecewise linear ----------------------------------------------------------------------------
class Hardtanh(Elementwise):
    """f(x) = min(max(x, min_val), max_val);  f'(x) = 1 if min_val < x < max_val else 0
    (0 at both kinks, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward((x > min_val) & (x < max_val))
        return np.minimum(np.maximum(x, min_val), max_val)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside


class ReLU6(Hardtanh):
    """f(x) = min(max(x, 0), 6);  f'(x) = 1 if 0 < x < 6 else 0."""

    @staticmethod
    def forward(ctx, x):
        return Hardtanh.forward(ctx, x, 0.0, 6.0)


class Hardsigmoid(Elementwise):
    """f(x) = 0 if x <= -3, 1 if x >= 3, else x/6 + 1/2;  f'(x) = 1/6 if -3 < x < 3 else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward((x > -3) & (x < 3))
        return np.clip(x / 6 + 0.5, 0, 1)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside / 6


class Hardswish(Elementwise):
    """f(x) = x hardsigmoid(x);  f'(x) = 0 if x <= -3, 1 if x >= 3, else x/3 + 1/2 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x / 6 + 0.5, 0, 1)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.where(x >= 3, 1, np.where(x > -3, x / 3 + 0.5, 0))


class Softshrink(Elementwise):
    """f(x) = x - lambd if x > lambd, x + lambd if x < -lambd, else 0;  f'(x) = 1 if |x| > lambd else 0."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(np.abs(x) > lambd)
        return x - np.clip(x, -lambd, lambd)

    @staticmethod
    def backward(ctx, grad):
        (outside,) = ctx.saved_tensors
        return grad * outside


class Hardshrink(Elementwise):
    """f(x) = x if |x| > lambd else 0;  f'(x) = 1 if |x| > lambd else 0."""

    @staticmethod
    def forward(ctx, x, lambd):
        outside = np.abs(x) > lambd
        ctx.save_for_backward(outside)
        return np.where(outside, x, 0)

    @staticmethod
    def backward(ctx, grad):
        (outside,) = ctx.saved_tensors
        return grad * outside


class Threshold(Elementwise):
    """f(x) = x if x > threshold else value;  f'(x) = 1 if x > threshold else 0."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        above = x > threshold
        ctx.save_for_backward(above)
        return np.where(above, x, value).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (above,) = ctx.saved_tensors
        return grad * above


class Step(Elementwise):
    """Heaviside step, the perceptron's activation: f(x) = 1 if x >= 0 else 0.
    f'(x) = 0 everywhere (also at the jump, where it does not exist): no gradient flows through."""

    @staticmethod
    def forward(ctx, x):
        return (x >= 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


# ---- along an axis -------------------------------------------------------------------------------
class Softmax(Function):
    """s_i = e^(x_i) / sum_j e^(x_j) along `axis` (the max is subtracted first);
    J = diag(s) - s s^T, so dL/dx = s * (g - sum(g * s))."""

    @staticmethod
    @silent
    def forward(ctx, x, axis):
        x = _floating(x)
        e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # initial: an empty axis has no max
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return s * (grad - (grad * s).sum(axis=ctx.axis, keepdims=True))


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
    dL/dx = g - softmax(x) * sum(g), softmax(x) = e^f."""

    @staticmethod
    @silent
    def forward(ctx, x, axis):
        x = _floating(x)
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


def _halves(x, axis):
    size = x.shape[axis]
    before = (slice(None),) * normalize_axis_index(axis, x.ndim)
    return x[before + (slice(0, size // 2),)], x[before + (slice(size // 2, size),)]


class GLU(Function):
    """Gated linear unit: x split in halves a, b along `axis`, f = a * sigmoid(b);
    df/da = sigmoid(b), df/db = a sigmoid(b) (1 - sigmoid(b))."""

    @staticmethod
    def forward(ctx, x, axis):
        if x.ndim == 0:
            raise OpError("glu does not take a 0-d tensor: it halves an axis")
        if x.shape[normalize_axis_index(axis, x.ndim)] % 2:
            raise OpError(f"the size along axis {axis} must be even to halve it, got shape {x.shape}")
        ctx.save_for_backward(x)
        ctx.axis = axis
        a, b = _halves(x, axis)
        return a * _sigmoid(b)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a, b = _halves(x, ctx.axis)
        s = _sigmoid(b)
        return np.concatenate([grad * s, grad * a * s * (1 - s)], axis=ctx.axis)


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


@pytorch_names
def softmax(x, axis=-1):
    """Softmax along `axis`, the last one by default."""
    return Softmax.apply(x, axis=pytorch_axis(axis, np.ndim(x.data if isinstance(x, Tensor) else x)))


@pytorch_names
def softmin(x, axis=-1):
    return Softmin.apply(x, axis=pytorch_axis(axis, np.ndim(x.data if isinstance(x, Tensor) else x)))


@pytorch_names
def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed without taking the log of tiny probabilities."""
    return LogSoftmax.apply(x, axis=pytorch_axis(axis, np.ndim(x.data if isinstance(x, Tensor) else x)))


@pytorch_names
def glu(x, axis=-1):
    return GLU.apply(x, axis=axis)


for _fn in (sigmoid, tanh, relu, softmax, log_softmax):
    setattr(Tensor, _fn.__name__, _fn)
Tensor._numpy_functions.update({np.tanh: tanh})
