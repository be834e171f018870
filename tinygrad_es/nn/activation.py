"""Activation layers: one Module per function of `tinygrad_es.activations`, and `get_activation`,
which turns a name such as "relu" (or None, or a Module) into a layer."""
import numpy as np

from .. import activations as A
from .module import Module, Parameter


class Activation(Module):
    """Base of the activation layers: `forward(x)` is `function(x, **options)`, the options being
    the keyword arguments given to the constructor (kept as attributes, shown by repr)."""

    function = None  # the functional form, set by each subclass

    def __init__(self, **options):
        super().__init__()
        self._option_names = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, x):
        if not self._option_names:
            return self.function(x)
        return self.function(x, **{name: getattr(self, name) for name in self._option_names})

    def extra_repr(self):
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._option_names)


# ---- without options -----------------------------------------------------------------------------
class Identity(Activation):
    """Returns its input; Keras calls it "linear"."""

    function = staticmethod(A.identity)


class Sigmoid(Activation):
    function = staticmethod(A.sigmoid)


class Tanh(Activation):
    function = staticmethod(A.tanh)


class ReLU(Activation):
    function = staticmethod(A.relu)


class SELU(Activation):
    function = staticmethod(A.selu)


class SiLU(Activation):
    function = staticmethod(A.silu)


class Mish(Activation):
    function = staticmethod(A.mish)


class ReLU6(Activation):
    function = staticmethod(A.relu6)


class Hardsigmoid(Activation):
    function = staticmethod(A.hardsigmoid)


class Hardswish(Activation):
    function = staticmethod(A.hardswish)


class Softsign(Activation):
    function = staticmethod(A.softsign)


class LogSigmoid(Activation):
    function = staticmethod(A.logsigmoid)


class Tanhshrink(Activation):
    function = staticmethod(A.tanhshrink)


class Step(Activation):
    """Heaviside step; no gradient flows through it."""

    function = staticmethod(A.step)


# ---- with options (PyTorch's names and defaults) --------------------------------------------------
class LeakyReLU(Activation):
    function = staticmethod(A.leaky_relu)

    def __init__(self, negative_slope=0.01):
        super().__init__(negative_slope=negative_slope)


class ELU(Activation):
    function = staticmethod(A.elu)

    def __init__(self, alpha=1.0):
        super().__init__(alpha=alpha)


class CELU(Activation):
    function = staticmethod(A.celu)

    def __init__(self, alpha=1.0):
        super().__init__(alpha=alpha)


class Softplus(Activation):
    function = staticmethod(A.softplus)

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__(beta=beta, threshold=threshold)


class GELU(Activation):
    function = staticmethod(A.gelu)

    def __init__(self, approximate="none"):
        super().__init__(approximate=approximate)


class Hardtanh(Activation):
    function = staticmethod(A.hardtanh)

    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__(min_val=min_val, max_val=max_val)


class Softshrink(Activation):
    function = staticmethod(A.softshrink)

    def __init__(self, lambd=0.5):
        super().__init__(lambd=lambd)


class Hardshrink(Activation):
    function = staticmethod(A.hardshrink)

    def __init__(self, lambd=0.5):
        super().__init__(lambd=lambd)


class Threshold(Activation):
    function = staticmethod(A.threshold)

    def __init__(self, threshold, value):
        super().__init__(threshold=threshold, value=value)


class AlongAxis(Activation):
    """Base of the activations computed along one axis (PyTorch's `dim`), the last by default."""

    def __init__(self, axis=-1):
        super().__init__(axis=axis)


class Softmax(AlongAxis):
    function = staticmethod(A.softmax)


class LogSoftmax(AlongAxis):
    function = staticmethod(A.log_softmax)


class Softmin(AlongAxis):
    function = staticmethod(A.softmin)


class GLU(AlongAxis):
    function = staticmethod(A.glu)


# ---- with state ------------------------------------------------------------------------------------
class PReLU(Activation):
    """Leaky ReLU with a learned slope `weight`: one shared (num_parameters=1), or one per channel
    of the input's axis 1 (num_parameters=C), all starting at `init`; float32 unless `dtype` says."""

    function = staticmethod(A.prelu)

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float32):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(np.full(num_parameters, init, dtype))

    def forward(self, x):
        return A.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Activation):
    """Randomized leaky ReLU: random slopes in train(), their mean (lower + upper) / 2 in eval().
    Slopes are drawn from `generator`, or the library's default generator."""

    function = staticmethod(A.rrelu)

    def __init__(self, lower=1 / 8, upper=1 / 3, generator=None):
        super().__init__(lower=lower, upper=upper)
        self.generator = generator

    def forward(self, x):
        return A.rrelu(x, self.lower, self.upper, training=self.training, generator=self.generator)


# ---- by name -------------------------------------------------------------------------------------
# The functional names, Keras' "linear" and "swish". Threshold is absent: it has no defaults.
_REGISTRY = {
    "identity": Identity, "linear": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
    "leaky_relu": LeakyReLU, "prelu": PReLU, "rrelu": RReLU, "elu": ELU, "selu": SELU, "celu": CELU,
    "softmax": Softmax, "log_softmax": LogSoftmax, "softmin": Softmin, "step": Step, "softplus": Softplus,
    "gelu": GELU, "silu": SiLU, "swish": SiLU, "mish": Mish, "hardtanh": Hardtanh, "relu6": ReLU6,
    "hardsigmoid": Hardsigmoid, "hardswish": Hardswish, "softsign": Softsign, "logsigmoid": LogSigmoid,
    "tanhshrink": Tanhshrink, "softshrink": Softshrink, "hardshrink": Hardshrink, "glu": GLU,
}


def activation_names():
    """The names get_activation accepts, sorted."""
    return sorted(_REGISTRY)


def get_activation(spec):
    """A new activation layer from a name ("relu", "leaky_relu", Keras' "linear", ... in any case),
    from an activation class, or from None (the identity). A Module is returned as it is."""
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str) and spec.lower() in _REGISTRY:
        return _REGISTRY[spec.lower()]()
    raise ValueError(f"get_activation: unknown activation {spec!r}; valid names: {', '.join(activation_names())}")
