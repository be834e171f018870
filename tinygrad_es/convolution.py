"""Convolution and pooling, as PyTorch's conv1d/conv2d, conv_transpose1d/2d, max_pool, avg_pool and
adaptive_avg_pool: inputs (N, C, *spatial), one or two spatial axes (the ops take any number).

Everything here starts from the windows of the padded input, seen channels last: `_windows` is a
view (N, *out, *kernel, C) of them, no copy. Window o of an axis starts at o * stride in the padded
input, and its element k sits k * dilation further on. A convolution copies them once into a
matrix, one row per window, and multiplies it by the weight matrix (im2col), per group:

- Conv(x, w):          y = conv(x, w), the correlation of each window of x with each filter;
- ConvTranspose(g, w): the gradient of conv with respect to x: each window's share g w added back
                       onto the input elements it came from, overlapping windows adding up
                       (col2im, `_fold`); also the layer ConvTranspose2d;
- ConvWeight(x, g):    the gradient of conv with respect to w: the correlation of x's windows with g.

Each one's backward calls the other two (`.on`: recorded on Tensors under create_graph), so these
three ops have every derivative of every order. Pooling reads the windows offset by offset: MaxPool
(each window's gradient to its largest element, the first of equal ones, as PyTorch) and AvgPool,
both differentiated through Fold, whose transpose is Unfold.

Layouts are PyTorch's: weight (out_channels, in_channels / groups, *kernel); a transposed
convolution's weight (in_channels, out_channels / groups, *kernel). Results have PyTorch's shapes,
(N, C, *spatial), with their channels last in memory (PyTorch's channels_last format): the copies
then move whole rows of channels at a time (on the digits CNN, im2col 3-5x faster than from NCHW).
"""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .engine import Function, OpError, Tensor, _data
from .helpers import by_column, ones


# ---- windows --------------------------------------------------------------------------------------
def _channels_last(x):
    """(N, C, *spatial) as (N, *spatial, C): a view."""
    return x.transpose(0, *range(2, x.ndim), 1)


def _channels_first(y):
    """(N, *spatial, C) as (N, C, *spatial): a view."""
    return y.transpose(0, y.ndim - 1, *range(1, y.ndim - 1))


def _out_sizes(sizes, kernel, stride, dilation):
    """How many windows fit along each axis of that size."""
    return tuple((n - dl * (k - 1) - 1) // s + 1 for n, k, s, dl in zip(sizes, kernel, stride, dilation))


def _exact(padding, sizes, out, kernel, stride, dilation):
    """`padding` with its far side trimmed (or grown) so that inputs of `sizes` hold exactly `out`
    windows: what the ops are given, so that a backward covers the windows forward had, no more."""
    return tuple(
        (lo, (m - 1) * s + dl * (k - 1) + 1 - lo - n)
        for (lo, _), n, m, k, s, dl in zip(padding, sizes, out, kernel, stride, dilation)
    )


def _padded(x, padding, value=0.0):
    """x (N, C, *spatial) channels last, (N, *spatial, C), with padding[i] = (before, after) elements
    of `value` around spatial axis i; a negative count crops instead. A view when there is no padding."""
    x = _channels_last(x)
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        kept = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape[1:-1], padding))
        x = x[(slice(None),) + kept]
        padding = [(max(lo, 0), max(hi, 0)) for lo, hi in padding]
    if not any(lo or hi for lo, hi in padding):
        return x
    sizes = x.shape[1:-1]
    out = np.full((x.shape[0], *(n + lo + hi for n, (lo, hi) in zip(sizes, padding)), x.shape[-1]), value, x.dtype)
    out[(slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, padding))] = x
    return out


def _windows(x, kernel, stride, padding, dilation, value=0.0):
    """The windows of x (N, C, *spatial), padded with `value`, as a read-only view (N, *out, *kernel, C)."""
    padded = _padded(x, padding, value)
    out = _out_sizes(padded.shape[1:-1], kernel, stride, dilation)
    steps = padded.strides[1:-1]
    return as_strided(
        padded,
        (padded.shape[0], *out, *kernel, padded.shape[-1]),
        (
            padded.strides[0],
            *(st * s for st, s in zip(steps, stride)),
            *(st * dl for st, dl in zip(steps, dilation)),
            padded.strides[-1],
        ),
        writeable=False,
    )


def _offsets(windows, d):
    """The views (N, *out, C) of each kernel offset of the windows, in row-major order."""
    kernel = windows.shape[1 + d : 1 + 2 * d]
    return [windows[(slice(None),) * (1 + d) + offset] for offset in itertools.product(*map(range, kernel))]


def _fold(pieces, size, padding, kernel, stride, dilation):
    """The transpose of taking windows: an input (N, C, *size) (channels last in memory) made of
    window pieces (K, N, *out, C), piece k added at offset k of its window, overlapping windows
    adding up. A first axis of 1 stands for the same piece at every offset."""
    _, n, *out, c = pieces.shape
    d = len(kernel)
    if (
        len(pieces) > 1
        and tuple(stride) == tuple(kernel)
        and all(dl == 1 for dl in dilation)
        and all(p == (0, 0) for p in padding)
        and all(m * k == z for m, k, z in zip(out, kernel, size))
    ):
        # the windows tile the input: its elements are the pieces' in another order, one copy (2x faster
        # than zeros and K strided additions for 2x2 max pooling's gradient)
        tiles = pieces.reshape(*kernel, n, *out, c).transpose(d, *(i for a in range(d) for i in (d + 1 + a, a)), -1)
        return _channels_first(tiles.reshape(n, *size, c))
    full = np.zeros((n, *(lo + m + max(hi, 0) for m, (lo, hi) in zip(size, padding)), c), pieces.dtype)
    for k, offset in enumerate(itertools.product(*map(range, kernel))):
        at = tuple(slice(i * dl, i * dl + s * (m - 1) + 1, s) for i, dl, s, m in zip(offset, dilation, stride, out))
        full[(slice(None),) + at] += pieces[k if len(pieces) > 1 else 0]
    return _channels_first(full[(slice(None),) + tuple(slice(lo, lo + m) for m, (lo, _) in zip(size, padding))])


def _columns(x, kernel, stride, padding, dilation, groups):
    """im2col: the windows as one matrix per group, (groups, N * prod(out), K * C/groups), each row a
    window, its columns ordered (offset, channel); and out. One copy, made along whichever is longer,
    a window's row of channels or a row of windows (for one group): C = 1 copies rows of windows, 2.5x
    faster on the digits' first layer."""
    windows = _windows(x, kernel, stride, padding, dilation)
    d, c = len(kernel), x.shape[1]
    out, rows, k = windows.shape[1 : 1 + d], math.prod(windows.shape[: 1 + d]), math.prod(kernel)
    if groups == 1 and kernel[-1] * c < out[-1]:  # copied as (K * C, rows), and seen transposed
        order = (*range(1 + d, 2 + 2 * d), 0, *range(1, 1 + d))  # (*kernel, C, N, *out)
        return windows.transpose(order).reshape(k * c, rows).T[None], out
    columns = windows.reshape(rows, k, groups, c // groups)
    return columns.transpose(2, 0, 1, 3).reshape(groups, rows, k * (c // groups)), out


def _matmul(a, b):
    """Products per group; for one group a single 2-D product, which hands a transposed operand to
    BLAS as it is (NumPy's stacked matmul copies it first, or does not use BLAS)."""
    return (a[0] @ b[0])[None] if len(a) == 1 and len(b) == 1 else np.matmul(a, b)


def _weight_columns(weight, groups):
    """weight (O, C/groups, *kernel) as one matrix per group, (groups, K * C/groups, O/groups), its
    rows ordered (offset, channel) as _columns' columns."""
    o, c = weight.shape[:2]
    return weight.reshape(groups, o // groups, c, -1).transpose(0, 3, 2, 1).reshape(groups, -1, o // groups)


def _weight_matrices(weight, groups):
    """weight (O, C/groups, *kernel) as (K, groups, O/groups, C/groups): one matrix per kernel offset
    and group (contiguous)."""
    o, c = weight.shape[:2]
    return np.ascontiguousarray(weight.reshape(groups, o // groups, c, -1).transpose(3, 0, 1, 2))


def _per_group(g, groups):
    """g (N, O, *out) as one matrix per group, (groups, N * prod(out), O/groups)."""
    rows = _channels_last(g).reshape(-1, g.shape[1])
    return rows.reshape(len(rows), groups, g.shape[1] // groups).swapaxes(0, 1)


def _bias_gradient(grad):
    """grad (N, O, *out) summed over all but its channels: the rows of its channels-last matrix times
    a ones vector (a view of our convolutions' results; NumPy's sum over those axes takes 3-20x as long)."""
    rows = _channels_last(grad).reshape(-1, grad.shape[1])
    return ones(len(rows), grad.dtype) @ rows


# ---- the three convolutions -------------------------------------------------------------------------
class Conv(Function):
    """y[n, o] = bias[o] + sum over the channels c of o's group and the kernel offsets k of
    w[o, c, k] x_padded[n, c, o_pos * stride + k * dilation].
    dL/dx = ConvTranspose(grad, w), dL/dw = ConvWeight(x, grad), dL/dbias = grad summed over N and space."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        columns, out = _columns(x, weight.shape[2:], stride, padding, dilation, groups)
        y = _matmul(columns, _weight_columns(weight, groups))  # (groups, rows, O/groups)
        y = y[0] if groups == 1 else y.swapaxes(0, 1).reshape(columns.shape[1], weight.shape[0])  # (rows, O)
        if bias is not None:
            by_column(np.add, y, bias, out=y)
        return _channels_first(y.reshape(x.shape[0], *out, weight.shape[0]))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        exact = _exact(ctx.padding, x.shape[2:], grad.shape[2:], weight.shape[2:], ctx.stride, ctx.dilation)
        return _gradients(
            ctx,
            grad,
            lambda o: ConvTranspose.on(grad, weight, None, padding=exact, size=x.shape[2:], **o),
            lambda o: ConvWeight.on(x, grad, kernel=weight.shape[2:], padding=exact, **o),
        )


def _gradients(ctx, grad, of_input, of_weight):
    """The gradients of Conv's or ConvTranspose's input, weight and bias, each only where needed."""
    needs_input, needs_weight, needs_bias = ctx.needs_input_grad
    options = dict(stride=ctx.stride, dilation=ctx.dilation, groups=ctx.groups)
    return (
        of_input(options) if needs_input else None,
        of_weight(options) if needs_weight else None,
        _bias_gradient(grad) if needs_bias else None,
    )


class ConvTranspose(Function):
    """The transpose of Conv in its input: from g (N, O, *out), an output (N, C, *size), C =
    w.shape[1] * groups: each window's share g w added back onto the input elements it came from,
    plus bias[c]. dL/dg = Conv(grad, w), dL/dw = ConvWeight(grad, g)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, g, weight, bias, stride, padding, dilation, groups, size):
        ctx.save_for_backward(g, weight)
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        kernel, out, c = weight.shape[2:], g.shape[2:], weight.shape[1] * groups
        shares = np.matmul(_per_group(g, groups), _weight_matrices(weight, groups))  # (K, groups, rows, C/groups)
        pieces = (shares if groups == 1 else shares.swapaxes(1, 2)).reshape(len(shares), g.shape[0], *out, c)
        y = _fold(pieces, size, _exact(padding, size, out, kernel, stride, dilation), kernel, stride, dilation)
        if bias is not None:
            y += bias.reshape(-1, *(1,) * len(out))
        return y

    @staticmethod
    def backward(ctx, grad):
        g, weight = ctx.saved_tensors
        exact = _exact(ctx.padding, grad.shape[2:], g.shape[2:], weight.shape[2:], ctx.stride, ctx.dilation)
        return _gradients(
            ctx,
            grad,
            lambda o: Conv.on(grad, weight, None, padding=exact, **o),
            lambda o: ConvWeight.on(grad, g, kernel=weight.shape[2:], padding=exact, **o),
        )


class ConvWeight(Function):
    """The gradient of Conv in its weight: w[o, c, k] = sum over n and the windows of
    g[n, o, window] x_padded[n, c, window's element k]. `padding` must leave exactly g's windows.
    dL/dx = ConvTranspose(g, grad), dL/dg = Conv(x, grad)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, g, kernel, stride, padding, dilation, groups):
        ctx.save_for_backward(x, g)
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        columns, _ = _columns(x, kernel, stride, padding, dilation, groups)
        w = _matmul(_per_group(g, groups).swapaxes(1, 2), columns)  # (groups, O/groups, K * C/groups)
        c = x.shape[1] // groups
        return np.ascontiguousarray(w.reshape(g.shape[1], -1, c).swapaxes(1, 2)).reshape(g.shape[1], c, *kernel)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        needs_x, needs_g = ctx.needs_input_grad
        options = dict(stride=ctx.stride, padding=ctx.padding, dilation=ctx.dilation, groups=ctx.groups)
        gx = ConvTranspose.on(g, grad, None, size=x.shape[2:], **options) if needs_x else None
        gg = Conv.on(x, grad, None, **options) if needs_g else None
        return gx, gg


# ---- pooling ---------------------------------------------------------------------------------------
class Unfold(Function):
    """The windows of x as pieces (K, N, *out, C) (see _fold); `padding` leaves exactly the windows
    wanted. dL/dx = Fold(grad)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        ctx.kernel, ctx.stride, ctx.padding, ctx.dilation, ctx.size = kernel, stride, padding, dilation, x.shape[2:]
        return np.stack(_offsets(_windows(x, kernel, stride, padding, dilation), len(kernel)))

    @staticmethod
    def backward(ctx, grad):
        return Fold.on(
            grad, kernel=ctx.kernel, stride=ctx.stride, padding=ctx.padding, dilation=ctx.dilation, size=ctx.size
        )


class Fold(Function):
    """Window pieces (K or 1, N, *out, C) added back onto an input (N, C, *size) (see _fold): the
    transpose of Unfold, and the backward of pooling. dL/dpieces = Unfold(grad)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, pieces, kernel, stride, padding, dilation, size):
        ctx.kernel, ctx.stride, ctx.padding, ctx.dilation = kernel, stride, padding, dilation
        return _fold(pieces, size, padding, kernel, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.on(grad, kernel=ctx.kernel, stride=ctx.stride, padding=ctx.padding, dilation=ctx.dilation)


def _window_piece(grad):
    """A pooled gradient (N, C, *out) as one window piece (1, N, *out, C) for Fold."""
    return grad.transpose(0, *range(2, grad.ndim), 1).reshape(1, grad.shape[0], *grad.shape[2:], grad.shape[1])


def _window_maxima(offsets, nan_aware=False):
    """The maxima of the windows (N, *out, C) and their offsets in the windows, given the views of
    each offset. PyTorch's rule: an element replaces the maximum so far where it is larger, or nan
    (so the first of equal elements stays, and a nan is the maximum). A nan spreads to the maximum;
    only then are the offsets found again, looking at nans."""
    largest, at = offsets[0].copy(), np.zeros(offsets[0].shape, np.uint8 if len(offsets) < 256 else np.intp)
    for k, window in enumerate(offsets[1:], 1):
        larger = window > largest
        if nan_aware:
            larger |= np.isnan(window)
        np.maximum(largest, window, out=largest)  # where larger, the same as taking window (a nan spreads)
        np.maximum(at, larger * at.dtype.type(k), out=at)  # k where larger: k exceeds every offset before it
    if not nan_aware and np.isnan(largest).any():
        return _window_maxima(offsets, nan_aware=True)
    return largest, at


class MaxPool(Function):
    """The largest element of each window (the input padded with -inf; `padding` leaves exactly the
    windows wanted). Its gradient goes to that element, the first of equal ones in the window's
    row-major order (as PyTorch), and adds up where overlapping windows pick the same element:
    dL/dx = Fold(first * grad), `first` marking each window's maximum (forward keeps its offset)."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        ctx.kernel, ctx.stride, ctx.padding, ctx.dilation, ctx.size = kernel, stride, padding, dilation, x.shape[2:]
        offsets = _offsets(_windows(x, kernel, stride, padding, dilation, -np.inf), len(kernel))
        largest, at = _window_maxima(offsets)
        ctx.save_for_backward(at)
        return _channels_first(largest)

    @staticmethod
    def backward(ctx, grad):
        (at,) = ctx.saved_tensors
        first = np.arange(math.prod(ctx.kernel), dtype=at.dtype).reshape(-1, *(1,) * at.ndim) == at  # (K, N, *out, C)
        return Fold.on(
            first * _window_piece(grad),
            kernel=ctx.kernel,
            stride=ctx.stride,
            padding=ctx.padding,
            dilation=ctx.dilation,
            size=ctx.size,
        )


class AvgPool(Function):
    """The sum of each window of the zero-padded input, over `divisor` (a number, or one per window).
    dL/dx = Fold(grad / divisor), the same piece at every offset of a window."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, divisor):
        ctx.kernel, ctx.stride, ctx.padding, ctx.divisor, ctx.size = kernel, stride, padding, divisor, x.shape[2:]
        offsets = _offsets(_windows(x, kernel, stride, padding, (1,) * len(kernel)), len(kernel))
        total = offsets[0].copy()
        for window in offsets[1:]:
            total += window
        return _channels_first(total) / divisor

    @staticmethod
    def backward(ctx, grad):
        return Fold.on(
            _window_piece(grad / ctx.divisor),
            kernel=ctx.kernel,
            stride=ctx.stride,
            padding=ctx.padding,
            dilation=(1,) * len(ctx.kernel),
            size=ctx.size,
        )


# ---- arguments, checked as PyTorch checks them --------------------------------------------------------
def _sizes(value, d, what, layer):
    """An int or a sequence of d ints, as a tuple of d ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    if len(values) != d or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{layer}: {what} must be an int or a tuple of {d} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _positive(values, what, layer):
    if min(values, default=1) <= 0:
        raise OpError(f"{layer}: {what} must be positive, got {values}")
    return values


def conv_padding(padding, kernel, stride, dilation, layer):
    """PyTorch's padding argument as (before, after) per spatial axis: ints, a tuple, "valid" (none) or
    "same" (the output as large as the input; an odd total puts the extra element after, as PyTorch)."""
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise OpError(f"{layer}: invalid padding string {padding!r}, should be one of 'same', 'valid'")
        if any(s != 1 for s in stride):
            raise OpError(f"{layer}: padding='same' is not supported for strided convolutions (stride {stride})")
        totals = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    sizes = _sizes(padding, d, "padding", layer)
    if min(sizes) < 0:
        raise OpError(f"{layer}: negative padding is not supported, got padding {padding}")
    return tuple((p, p) for p in sizes)


def _spatial_input(x, d, layer):
    """x as a tensor with a batch axis, and whether one was added (PyTorch takes unbatched inputs)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim not in (d + 1, d + 2):
        raise OpError(f"{layer}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, got shape {x.shape}")
    return (x, False) if x.ndim == d + 2 else (x.reshape(1, *x.shape), True)


def _check_conv(x, weight, bias, groups, transposed, layer):
    """The channel counts, the bias and the dtypes, with the shapes in the message."""
    if groups <= 0:
        raise OpError(f"{layer}: groups must be positive, got {groups}")
    if weight.ndim != x.ndim:
        raise OpError(
            f"{layer}: weight of shape {weight.shape} does not fit an input of shape {x.shape} "
            f"(expected a {x.ndim}-D weight)"
        )
    channels = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != channels:
        raise OpError(
            f"{layer}: given groups={groups} and a weight of shape {weight.shape}, expected an input with "
            f"{channels} channels, got shape {x.shape}"
        )
    if weight.shape[0] % groups:
        raise OpError(f"{layer}: groups={groups} must divide the weight's first axis, got weight shape {weight.shape}")
    outputs = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and np.shape(_data(bias)) != (outputs,):
        raise OpError(
            f"{layer}: expected a bias of shape ({outputs},) for a weight of shape {weight.shape}, got "
            f"{np.shape(_data(bias))}"
        )
    if x.dtype != weight.dtype:
        raise OpError(f"{layer}: input and weight must have the same dtype, got {x.dtype} and {weight.dtype}")


# ---- the public functions ----------------------------------------------------------------------------
def convolution(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, layer="conv"):
    """conv1d/conv2d over the last weight.ndim - 2 axes of x; `layer` names the caller in errors."""
    d = weight.ndim - 2
    x, unbatched = _spatial_input(x, d, layer)
    kernel = weight.shape[2:]
    stride = _positive(_sizes(stride, d, "stride", layer), "stride", layer)
    dilation = _positive(_sizes(dilation, d, "dilation", layer), "dilation", layer)
    padding = conv_padding(padding, kernel, stride, dilation, layer)
    _check_conv(x, weight, bias, groups, False, layer)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding))
    if any(n < dl * (k - 1) + 1 for n, k, dl in zip(padded, kernel, dilation)):
        raise OpError(
            f"{layer}: the input of shape {x.shape}, padded to {padded} per channel, is smaller than the "
            f"kernel {kernel} (dilation {dilation}): kernel size can't be greater than actual input size"
        )
    y = Conv.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return y.reshape(y.shape[1:]) if unbatched else y


def _weight_dims(weight, d, layer):
    if np.ndim(_data(weight)) != d + 2:
        raise OpError(f"{layer}: expected a {d + 2}-D weight, got shape {np.shape(_data(weight))}")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002  (PyTorch's names)
    """Input (N, C, L) or (C, L), weight (out, C/groups, k)."""
    _weight_dims(weight, 1, "conv1d")
    return convolution(input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """Input (N, C, H, W) or (C, H, W), weight (out, C/groups, kh, kw)."""
    _weight_dims(weight, 2, "conv2d")
    return convolution(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def transposed_convolution(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, layer="conv_transpose"
):
    """conv_transpose1d/2d: the gradient of a convolution with respect to its input, as a layer. The
    output's size per axis is (n - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1."""
    d = weight.ndim - 2
    x, unbatched = _spatial_input(x, d, layer)
    kernel = weight.shape[2:]
    stride = _positive(_sizes(stride, d, "stride", layer), "stride", layer)
    dilation = _positive(_sizes(dilation, d, "dilation", layer), "dilation", layer)
    if isinstance(padding, str):
        raise OpError(f"{layer}: padding must be ints for a transposed convolution, got {padding!r}")
    padding = conv_padding(padding, kernel, stride, dilation, layer)
    extra = _sizes(output_padding, d, "output_padding", layer)
    if any(e < 0 or e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation)):
        raise OpError(
            f"{layer}: output padding must be smaller than either stride or dilation, got output_padding "
            f"{extra}, stride {stride}, dilation {dilation}"
        )
    _check_conv(x, weight, bias, groups, True, layer)
    size = tuple(
        (n - 1) * s - 2 * lo + dl * (k - 1) + e + 1
        for n, s, (lo, _), dl, k, e in zip(x.shape[2:], stride, padding, dilation, kernel, extra)
    )
    if min(size) < 1:
        raise OpError(
            f"{layer}: for an input of shape {x.shape} the output size per channel would be {size}: "
            "output size is too small"
        )
    y = ConvTranspose.apply(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups, size=size
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):  # noqa: A002
    """Input (N, C, L) or (C, L), weight (C, out/groups, k)."""
    _weight_dims(weight, 1, "conv_transpose1d")
    return transposed_convolution(
        input, weight, bias, stride, padding, output_padding, groups, dilation, "conv_transpose1d"
    )


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):  # noqa: A002
    """Input (N, C, H, W) or (C, H, W), weight (C, out/groups, kh, kw)."""
    _weight_dims(weight, 2, "conv_transpose2d")
    return transposed_convolution(
        input, weight, bias, stride, padding, output_padding, groups, dilation, "conv_transpose2d"
    )


def _pool_arguments(x, kernel_size, stride, padding, dilation, ceil_mode, d, layer):
    """The input with a batch axis (and whether it was added), kernel, stride, padding, dilation and
    the output sizes, checked as PyTorch checks them."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim not in (d + 1, d + 2) or 0 in x.shape[-d - 1 :]:
        raise OpError(
            f"{layer}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, empty only along the "
            f"batch axis, got shape {x.shape}"
        )
    kernel = _positive(_sizes(kernel_size, d, "kernel_size", layer), "kernel_size", layer)
    stride = kernel if stride is None else _positive(_sizes(stride, d, "stride", layer), "stride", layer)
    padding = _sizes(padding, d, "padding", layer)
    dilation = _positive(_sizes(dilation, d, "dilation", layer), "dilation", layer)
    if min(padding) < 0:
        raise OpError(f"{layer}: padding must be non-negative, got {padding}")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise OpError(
            f"{layer}: padding should be at most half of the kernel size, got padding {padding} and "
            f"kernel_size {kernel}"
        )
    unbatched = x.ndim == d + 1
    sizes = x.shape[1 if unbatched else 2 :]
    out = []
    for n, k, s, p, dl in zip(sizes, kernel, stride, padding, dilation):
        m = (n + 2 * p - dl * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        out.append(m - 1 if ceil_mode and (m - 1) * s >= n + p else m)  # the last window starts inside
    if min(out) < 1:
        raise OpError(
            f"{layer}: for an input of shape {x.shape} the output size would be {tuple(out)}: output size is too small"
        )
    x = x.reshape(1, *x.shape) if unbatched else x
    exact = _exact(tuple((p, p) for p in padding), sizes, out, kernel, stride, dilation)
    return x, unbatched, kernel, stride, exact, dilation, tuple(out)


def _unbatch(y, unbatched):
    return y.reshape(y.shape[1:]) if unbatched else y


def max_pool(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, d=2, layer="max_pool2d"
):
    x, unbatched, kernel, stride, padding, dilation, _ = _pool_arguments(
        x, kernel_size, stride, padding, dilation, ceil_mode, d, layer
    )
    y = _unbatch(MaxPool.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation), unbatched)
    if not return_indices:
        return y
    return y, _unbatch(Tensor(_max_indices(x.data, kernel, stride, padding, dilation)), unbatched)


def _max_indices(x, kernel, stride, padding, dilation):
    """PyTorch's indices of the maxima: each one's flat index within its (N, C) plane (int64)."""
    _, at = _window_maxima(_offsets(_windows(x, kernel, stride, padding, dilation, -np.inf), len(kernel)))
    offsets, out = np.unravel_index(_channels_first(at), kernel), at.shape[1:-1]
    index = np.zeros((), np.int64)
    for axis, (offset, s, dl, (lo, _), n, m) in enumerate(zip(offsets, stride, dilation, padding, x.shape[2:], out)):
        start = np.arange(m).reshape((m,) + (1,) * (len(out) - axis - 1)) * s - lo
        index = index * n + start + offset * dl
    return index


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # noqa: A002
    """The largest element of each window of (N, C, L) or (C, L); `stride` defaults to the kernel size."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # noqa: A002
    """The largest element of each window of (N, C, H, W) or (C, H, W); `stride` defaults to the kernel size."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def avg_pool(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
    d=2,
    layer="avg_pool2d",
):
    """The mean of each window. The divisor of a window is PyTorch's: the window's size, cut at the
    end of the padding (ceil_mode), and without the padding if not count_include_pad; or divisor_override."""
    x, unbatched, kernel, stride, padding, _, out = _pool_arguments(
        x, kernel_size, stride, padding, 1, ceil_mode, d, layer
    )
    if divisor_override is not None:
        if divisor_override == 0:
            raise OpError(f"{layer}: divisor_override must not be 0")
        divisor = divisor_override
    else:
        divisor = _avg_divisor(x.shape[2:], kernel, stride, padding, out, count_include_pad, x.dtype)
    return _unbatch(AvgPool.apply(x, kernel=kernel, stride=stride, padding=padding, divisor=divisor), unbatched)


def _avg_divisor(sizes, kernel, stride, padding, out, count_include_pad, dtype):
    """How many elements each window averages (PyTorch's rule), as an int where all windows agree."""
    divisor = np.ones((), np.int64)
    for n, k, s, (p, _), m in zip(sizes, kernel, stride, padding, out):
        start = np.arange(m) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        divisor = divisor[..., None] * count
    return int(divisor.flat[0]) if np.all(divisor == divisor.flat[0]) else divisor.astype(dtype)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """The mean of each window of (N, C, L) or (C, L)."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,  # noqa: A002
    divisor_override=None,
):
    """The mean of each window of (N, C, H, W) or (C, H, W)."""
    return avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2, "avg_pool2d"
    )


def _bins(size, out, dtype):
    """The (out, size) matrix of adaptive average pooling: row i averages PyTorch's bin i, elements
    floor(i size / out) to ceil((i + 1) size / out) - 1."""
    matrix = np.zeros((out, size), dtype)
    for i in range(out):
        start, end = i * size // out, -(-(i + 1) * size // out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def adaptive_avg_pool(x, output_size, d, layer):
    """Average pooling to a given output size (None keeps an axis's size): bins of nearly equal
    size, as PyTorch's. A product with a constant averaging matrix per axis (ops.matmul), so its
    gradients of every order are the matrix product's."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim not in (d + 1, d + 2) or 0 in x.shape[-d:]:
        raise OpError(
            f"{layer}: expected a {d + 1}-D or {d + 2}-D input with non-empty spatial axes, got shape {x.shape}"
        )
    sizes = x.shape[-d:]
    wanted = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * d
    if len(wanted) != d:
        raise TypeError(f"{layer}: output_size must be an int or a tuple of {d}, got {output_size!r}")
    out = tuple(n if m is None else m for n, m in zip(sizes, wanted))
    if min(out) < 1:
        raise OpError(f"{layer}: output_size must be positive, got {output_size}")
    if d == 2 and sizes[0] != out[0]:  # rows: (out_h, H) @ x
        x = Tensor(_bins(sizes[0], out[0], x.dtype)) @ x
    if sizes[-1] != out[-1]:  # columns: x @ (W, out_w)
        x = x @ Tensor(_bins(sizes[-1], out[-1], x.dtype).T)
    return x


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    return adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    return adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")
