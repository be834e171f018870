"""Weight initializers. Each fills a tensor IN PLACE (like torch.nn.init.*_), takes an optional
`generator=` (a numpy.random.Generator; the library's default one otherwise) and returns the tensor.

For a Dense weight of shape (out, in): fan_in = in, fan_out = out. Extra trailing axes (a
convolution kernel's) multiply both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..engine import Tensor
from ..random import default_generator
from ..versions import mark_written


def calculate_fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan_in and fan_out need a weight of at least 2 dimensions (out, in), got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the variance of activations steady through a layer (PyTorch's values)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    tensor.data[...] = values  # in place: views of the array see the new values too
    mark_written(tensor.data)
    return tensor


def _rng(generator):
    return generator or default_generator()


def normal(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """N(mean, std^2)."""
    return _fill(tensor, _rng(generator).standard_normal(tensor.shape) * std + mean)


def uniform(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def constant(tensor: Tensor, value: float) -> Tensor:
    return _fill(tensor, value)


def zeros(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    return constant(tensor, 0.0)


def ones(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    return constant(tensor, 1.0)


def gaussian(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """N(0, 1): the student paper's "Gaussiana" initialization (weights and biases)."""
    return normal(tensor, 0.0, 1.0, generator)


def lecun_normal(tensor: Tensor, generator: np.random.Generator | None = None) -> Tensor:
    """N(0, 1/fan_in), drawn as N(0, 1) / sqrt(fan_in). What SELU needs."""
    fan_in, _ = calculate_fans(tensor)
    return normal(tensor, 0.0, 1 / math.sqrt(fan_in), generator)


# The paper's "Xavier": a standard normal sample divided by sqrt(number of inputs), i.e. LeCun normal
# (not Glorot's xavier_normal, which also counts the outputs).
xavier_paper = lecun_normal


def xavier_normal(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot: N(0, gain^2 * 2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fans(tensor)
    return normal(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def xavier_uniform(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(tensor, -bound, bound, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_normal(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He: N(0, gain^2 / fan_in); the default gain is sqrt(2), the one for ReLU (leaky_relu with a = 0)."""
    return normal(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def kaiming_uniform(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He: U(-b, b), b = gain * sqrt(3 / fan_in); default gain sqrt(2)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform(tensor, -bound, bound, generator)


glorot_normal, glorot_uniform = xavier_normal, xavier_uniform
he_normal, he_uniform = kaiming_normal, kaiming_uniform

_BY_NAME: dict[str, Callable[..., Tensor]] = {
    "gaussian": gaussian,
    "normal": gaussian,
    "xavier_paper": xavier_paper,
    "lecun_normal": lecun_normal,
    "xavier_normal": xavier_normal,
    "glorot_normal": glorot_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_uniform": glorot_uniform,
    "kaiming_normal": kaiming_normal,
    "he_normal": he_normal,
    "kaiming_uniform": kaiming_uniform,
    "he_uniform": he_uniform,
    "zeros": zeros,
    "ones": ones,
}


def get_initializer(init: str | Callable[..., Tensor]) -> Callable[..., Tensor]:
    """An initializer from its name (see the module's functions) or a callable `init(tensor, generator=...)`."""
    if callable(init):
        return init
    try:
        return _BY_NAME[init]
    except (KeyError, TypeError):
        names = ", ".join(sorted(_BY_NAME))
        raise ValueError(f"unknown initializer {init!r}; choose one of {names} or pass a callable") from None
