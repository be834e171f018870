"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, as PyTorch's (arguments,
defaults, weight layout, initialization, state_dict keys), so weights move between the two."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..convolution import _sizes, conv_padding, convolution, transposed_convolution
from ..engine import Tensor
from . import init as nn_init
from .module import Module, Parameter

Sizes = int | tuple[int, ...]  # one size for every spatial axis, or one per axis


class _Conv(Module):
    """What the convolution layers share. The weight is (out_channels, in_channels / groups,
    *kernel_size), a transposed convolution's (in_channels, out_channels / groups, *kernel_size).
    Initialization is PyTorch's: weight ~ kaiming_uniform with a = sqrt(5), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same interval (fan_in =
    weight.shape[1] * kernel elements). Parameters are float32 unless `dtype` says."""

    dims, transposed = 2, False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Sizes,
        stride: Sizes = 1,
        padding: Sizes | str = 0,
        dilation: Sizes = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: npt.DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self._setup(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
            generator,
            0,
        )

    def _setup(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        dtype,
        generator,
        output_padding,
    ):
        name, d = type(self).__name__, self.dims
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        for what, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{name}: {what} ({channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not supported, only 'zeros'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _sizes(kernel_size, d, "kernel_size", name)
        self.stride = _sizes(stride, d, "stride", name)
        self.dilation = _sizes(dilation, d, "dilation", name)
        self.padding = padding if isinstance(padding, str) else _sizes(padding, d, "padding", name)
        self.output_padding, self.padding_mode = _sizes(output_padding, d, "output_padding", name), padding_mode
        conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, name)  # checks strings and signs now
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype))
        self.bias = Parameter(np.empty(out_channels, dtype)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        nn_init.kaiming_uniform(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = nn_init.calculate_fans(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            nn_init.uniform(self.bias, -bound, bound, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        if self.transposed:
            return transposed_convolution(
                x,
                self.weight,
                self.bias,
                self.stride,
                self.padding,
                self.output_padding,
                self.groups,
                self.dilation,
                type(self).__name__,
            )
        return convolution(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, type(self).__name__
        )

    def extra_repr(self) -> str:
        d = self.dims
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * d:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * d:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * d:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_Conv):
    """1-D convolution of (N, C, L) or (C, L) inputs; `padding` takes ints, "valid" or "same"."""

    dims = 1


class Conv2d(_Conv):
    """2-D convolution of (N, C, H, W) or (C, H, W) inputs; `padding` takes ints, a pair, "valid" or "same"."""


class _ConvTranspose(_Conv):
    """The transpose of a convolution (its gradient with respect to the input, as a layer), which
    upsamples: each axis of size n gives (n - 1) stride - 2 padding + dilation (kernel_size - 1) +
    output_padding + 1. PyTorch's argument order (output_padding before groups, dilation after bias)."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Sizes,
        stride: Sizes = 1,
        padding: Sizes = 0,
        output_padding: Sizes = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Sizes = 1,
        padding_mode: str = "zeros",
        dtype: npt.DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        Module.__init__(self)
        self._setup(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
            generator,
            output_padding,
        )


class ConvTranspose1d(_ConvTranspose):
    """Transposed convolution of (N, C, L) or (C, L) inputs."""

    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed convolution of (N, C, H, W) or (C, H, W) inputs."""
