"""Activation layers: one Module per function of `tinygrad_es.activations`, and `get_activation`,
which turns a name such as "relu" (or None, or a Module) into a layer."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import activations as A
from ..engine import Function, Tensor
from ..helpers import pytorch_names
from .module import Module, Parameter


class Activation(Module):
    """Base of the activation layers: `forward(x)` applies the op `op` (a Function of
    `tinygrad_es.activations`) with the options given to the constructor (kept as attributes,
    shown by repr)."""

    op: type[Function]  # set by each subclass

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self._option_names = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)
        # Only applies an elementwise op: a Dense layer may run it inside its own graph node.
        self._elementwise = type(self).forward is Activation.forward and issubclass(self.op, A.Elementwise)

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._option_names}

    def forward(self, x: Tensor) -> Tensor:
        return self.op.apply(x, **self.options())

    def fused(self) -> tuple[type[Function], dict[str, Any]] | None:
        """(op, options) for a Dense layer to run this activation inside its own graph node, or None
        when it may not: the layer does more than apply an elementwise op, or a hook is watching it.
        Dense asks on every call, so this is one method call (and no options() call without options)."""
        if self._elementwise and not self._forward_hooks and not self._backward_hooks:
            return self.op, (self.options() if self._option_names else {})
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._option_names)


# ---- without options -----------------------------------------------------------------------------
class Identity(Activation):
    """Returns its input; Keras calls it "linear". Takes any arguments and ignores them, as PyTorch's
    (a placeholder for a layer that was configured away)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Sigmoid(Activation):
    op = A.Sigmoid


class Tanh(Activation):
    op = A.Tanh


class ReLU(Activation):
    op = A.ReLU


class SELU(Activation):
    op = A.SELU


class SiLU(Activation):
    op = A.SiLU


class Mish(Activation):
    op = A.Mish


class ReLU6(Activation):
    op = A.ReLU6


class Hardsigmoid(Activation):
    op = A.Hardsigmoid


class Hardswish(Activation):
    op = A.Hardswish


class Softsign(Activation):
    op = A.Softsign


class LogSigmoid(Activation):
    op = A.LogSigmoid


class Tanhshrink(Activation):
    op = A.Tanhshrink


class Step(Activation):
    """Heaviside step; no gradient flows through it."""

    op = A.Step


# ---- with options (PyTorch's names and defaults) --------------------------------------------------
class LeakyReLU(Activation):
    op = A.LeakyReLU

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(Activation):
    op = A.ELU

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class CELU(Activation):
    op = A.CELU

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class Softplus(Activation):
    op = A.Softplus

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class GELU(Activation):
    op = A.GELU

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)


class Hardtanh(Activation):
    op = A.Hardtanh

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__(min_val=min_val, max_val=max_val)


class Softshrink(Activation):
    op = A.Softshrink

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)


class Hardshrink(Activation):
    op = A.Hardshrink

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)


class Threshold(Activation):
    op = A.Threshold

    def __init__(self, threshold: float, value: float) -> None:
        super().__init__(threshold=threshold, value=value)


class AlongAxis(Activation):
    """Base of the activations computed along one axis (PyTorch's `dim`), the last by default."""

    @pytorch_names
    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=axis)


class Softmax(AlongAxis):
    op = A.Softmax


class LogSoftmax(AlongAxis):
    op = A.LogSoftmax


class Softmin(AlongAxis):
    op = A.Softmin


class GLU(AlongAxis):
    op = A.GLU


# ---- with state ------------------------------------------------------------------------------------
class PReLU(Activation):
    """Leaky ReLU with a learned slope `weight`: one shared (num_parameters=1), or one per channel
    of the input's axis 1 (num_parameters=C), all starting at `init`; float32 unless `dtype` says."""

    op = A.PReLU

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: npt.DTypeLike = np.float32) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(np.full(num_parameters, init, dtype))

    def forward(self, x: Tensor) -> Tensor:
        return A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Activation):
    """Randomized leaky ReLU: random slopes in train(), their mean (lower + upper) / 2 in eval().
    Slopes are drawn from `generator`, or the library's default generator."""

    op = A.RReLU
    lower: float  # options, kept as attributes by Activation
    upper: float

    def __init__(
        self, lower: float = 1 / 8, upper: float = 1 / 3, generator: np.random.Generator | None = None
    ) -> None:
        super().__init__(lower=lower, upper=upper)
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return A.rrelu(x, self.lower, self.upper, training=self.training, generator=self.generator)


# ---- by name -------------------------------------------------------------------------------------
# The functional names, Keras' "linear" and "swish". Threshold is absent: it has no defaults.
_REGISTRY = {
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "rrelu": RReLU,
    "elu": ELU,
    "selu": SELU,
    "celu": CELU,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "softmin": Softmin,
    "step": Step,
    "softplus": Softplus,
    "gelu": GELU,
    "silu": SiLU,
    "swish": SiLU,
    "mish": Mish,
    "hardtanh": Hardtanh,
    "relu6": ReLU6,
    "hardsigmoid": Hardsigmoid,
    "hardswish": Hardswish,
    "softsign": Softsign,
    "logsigmoid": LogSigmoid,
    "tanhshrink": Tanhshrink,
    "softshrink": Softshrink,
    "hardshrink": Hardshrink,
    "glu": GLU,
}


def activation_names() -> list[str]:
    """The names get_activation accepts, sorted."""
    return sorted(_REGISTRY)


def get_activation(spec: str | Module | type[Module] | None) -> Module:
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
