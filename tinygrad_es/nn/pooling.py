"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, as PyTorch's."""

from __future__ import annotations

from .. import convolution as conv
from ..engine import Tensor
from .conv import Sizes
from .module import Module


class _MaxPool(Module):
    """The largest element of each window; `stride` defaults to `kernel_size`. The gradient goes to
    that element (the first of equal ones, as PyTorch). With return_indices=True the layer also
    returns each maximum's index within its (N, C) plane."""

    dims = 2

    def __init__(
        self,
        kernel_size: Sizes,
        stride: Sizes | None = None,
        padding: Sizes = 0,
        dilation: Sizes = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation, self.return_indices, self.ceil_mode = padding, dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # (values, indices) with return_indices
        return conv.max_pool(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
            self.dims,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPool):
    """Max pooling over (N, C, L) or (C, L)."""

    dims = 1


class MaxPool2d(_MaxPool):
    """Max pooling over (N, C, H, W) or (C, H, W)."""


class AvgPool2d(Module):
    """The mean of each window of (N, C, H, W) or (C, H, W); `stride` defaults to `kernel_size`.
    Zero padding counts in the mean unless count_include_pad=False; divisor_override replaces the
    window's size."""

    dims = 2

    def __init__(
        self,
        kernel_size: Sizes,
        stride: Sizes | None = None,
        padding: Sizes = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return conv.avg_pool(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
            self.dims,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """The mean of each window of (N, C, L) or (C, L). Its sizes are kept as 1-tuples, as PyTorch's."""

    dims = 1

    def __init__(
        self,
        kernel_size: Sizes,
        stride: Sizes | None = None,
        padding: Sizes = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        one = lambda n: tuple(n) if isinstance(n, (tuple, list)) else (n,)  # noqa: E731
        super().__init__(
            one(kernel_size), None if stride is None else one(stride), one(padding), ceil_mode, count_include_pad
        )


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (an int, or a pair in which None keeps the input's
    size), whatever the input's: PyTorch's bins of nearly equal size. (1, 1) is global average pooling."""

    dims = 2

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return conv.adaptive_avg_pool(x, self.output_size, self.dims, type(self).__name__)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) or (C, L) to a fixed length."""

    dims = 1
