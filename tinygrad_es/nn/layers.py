"""Layers: Dense (= Linear), Sequential, Dropout and its variants, Flatten, Unflatten."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.array_utils import normalize_axis_index

from .. import fused, ops
from ..engine import OpError, Tensor
from ..helpers import pytorch_names
from . import init as nn_init
from .activation import Activation, get_activation
from .module import Module, Parameter

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11


class Dense(Module):
    """A fully connected layer: y = activation(x @ weight.T + bias).

    `weight` has shape (out_features, in_features) and `bias` (out_features,), as PyTorch's
    nn.Linear, so state dicts move between the two. `activation` is a name ("sigmoid", "relu",
    ...) or a Module, kept as a child module; None means no activation.

    Initialization:
    - `init=None` (default) is PyTorch's nn.Linear default: weight AND bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    - `init=<name or callable>` initializes the weight with an nn.init function (for example "xavier_paper",
      "he_normal", or `init(weight, generator=...)`); the bias is then zeros unless `bias_init` says otherwise.
    - `bias_init=<name or callable>` initializes the bias (it has no fans, so "gaussian", "zeros", "ones" or
      a callable). The student paper draws weights and biases from N(0, 1) ("Gaussiana"), and divides the
      weights only by sqrt(fan_in) ("Xavier"): `init="gaussian", bias_init="gaussian"` and
      `init="xavier_paper", bias_init="gaussian"` reproduce them.
    Parameters are float32 unless `dtype=np.float64`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str | Module | type[Module] | None = None,
        init: str | Callable[..., Any] | None = None,
        bias_init: str | Callable[..., Any] | None = None,
        dtype: npt.DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        self.bias = Parameter(np.empty(out_features, dtype)) if bias else None
        self.activation = None if activation is None else get_activation(activation)
        self.reset_parameters(init, bias_init, generator)

    def reset_parameters(
        self,
        init: str | Callable[..., Any] | None = None,
        bias_init: str | Callable[..., Any] | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        """Draw the parameters again, with the same choices as the constructor."""
        if init is None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            nn_init.uniform(self.weight, -bound, bound, generator=generator)
            if self.bias is not None and bias_init is None:
                nn_init.uniform(self.bias, -bound, bound, generator=generator)
        else:
            nn_init.get_initializer(init)(self.weight, generator=generator)
            if self.bias is not None and bias_init is None:
                nn_init.zeros(self.bias)
        if self.bias is not None and bias_init is not None:
            nn_init.get_initializer(bias_init)(self.bias, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"Dense: the input must be a Tensor, got {type(x).__name__}; wrap it: tg.Tensor(x)")
        activation = self.activation
        try:
            if activation is None:
                return fused.LinearActivation.apply(x, self.weight, self.bias)
            op_and_options = activation.fused() if isinstance(activation, Activation) else None
            if op_and_options is not None:  # one graph node for the whole layer
                op, options = op_and_options
                return fused.LinearActivation.apply(x, self.weight, self.bias, activation=op, options=options)
            return activation(fused.LinearActivation.apply(x, self.weight, self.bias))
        except OpError:
            if x.ndim and x.shape[-1] != self.in_features:
                raise OpError(
                    f"Dense: expected input with {self.in_features} features in its last axis, got shape {x.shape}"
                ) from None
            raise

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


Linear = Dense


class Sequential(Module):
    """Modules applied one after the other; children are named "0", "1", ... A slice keeps the
    names, as in PyTorch: `model[1:]` holds "1", "2", ..., so its state_dict keys match the model's."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a Module")
            setattr(self, str(i), module)

    def forward(self, x: Tensor) -> Tensor:
        for module in self._modules.values():
            # Module.__call__ only adds hooks: a child that keeps it and has none runs its forward directly,
            # which saves a Python call per layer (1.2 us per digits training step)
            if type(module).__call__ is Module.__call__ and not (module._forward_hooks or module._backward_hooks):
                x = module.forward(x)
            else:
                x = module(x)
        return x

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            part = Sequential()
            for name, module in list(self._modules.items())[index]:
                setattr(part, name, module)
            return part
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Self:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: got a {type(module).__name__}, not a Module")
        # after a slice, str(len(self)) may be taken (model[1:] holds "1", "2"): number past the largest
        setattr(self, str(max((int(k) for k in self._modules if k.isdigit()), default=-1) + 1), module)
        return self


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by
    1/(1-p); in eval mode, the identity. `generator=` makes the masks repeatable."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return ops.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Channel dropout: in training, zero whole channels of (N, C, H, W) with probability p and scale
    the rest by 1/(1-p); the identity in eval mode. A 3-D input is taken as (N, C, L), as PyTorch 2.13."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.dropout2d(x, self.p, self.training, self.generator)


class AlphaDropout(Dropout):
    """Dropout for self-normalizing (SELU) networks: dropped elements take SELU's negative saturation
    value and an affine map restores mean 0 and variance 1 (see ops.AlphaDropout); the identity in
    eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.alpha_dropout(x, self.p, self.training, self.generator)


class Flatten(Module):
    """Merge the axes from `start_axis` on into one: (N, 8, 8) -> (N, 64)."""

    @pytorch_names
    def __init__(self, start_axis: int = 1) -> None:
        super().__init__()
        self.start_axis = start_axis

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size` (one -1 may stand for what is left): (N, 128) with
    Unflatten(1, (8, 4, 4)) becomes (N, 8, 4, 4). The inverse of Flatten."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        axis = normalize_axis_index(self.dim, x.ndim, "Unflatten")
        sizes, n = self.unflattened_size, x.shape[axis]
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (n != known if -1 not in sizes else not known or n % known):
            raise OpError(
                f"Unflatten: sizes {sizes} don't multiply up to the size of axis {self.dim} ({n}) of the "
                f"input of shape {x.shape}"
            )
        sizes = tuple(n // known if s == -1 else s for s in sizes)  # from the axis: NumPy can't infer it when empty
        return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
