"""Normalization: batch_norm, layer_norm, group_norm, as PyTorch's functional forms.

Each standardizes x, xhat = (x - mean) / sqrt(var + eps) with the biased variance (divided by n),
then scales and shifts it: out = xhat * weight + bias. They differ in what they standardize over:
batch norm each channel over the batch and the spatial axes, layer norm each sample over its last
axes, group norm each sample over groups of channels. One op does all three, Normalize, on x seen
as a matrix (M, F): batch norm standardizes its columns (rows: samples and positions, columns:
channels), layer and group norm its rows; weight and bias are per column.
"""

import math

import numpy as np

from .engine import Function, OpError, Tensor, _data, mark_written
from .helpers import by_column, ones


# ---- on a matrix (M, F), arrays or Tensors --------------------------------------------------------
def _sum(a, axis):
    """a (M, F) summed over its rows (axis 0: a vector (F,)) or its columns (axis 1: (M, 1)), as a
    product with a ones vector: one BLAS call, where NumPy's sum over the rows of 2048 x 16 float32
    runs one short loop per row (3.6 us against 92 us)."""
    if axis == 0:
        return ones(a.shape[0], a.dtype) @ a
    return (a @ ones(a.shape[1], a.dtype)).reshape(-1, 1)


def _by(op, a, v, axis=0):
    """op(a, v) for a (M, F) and v per column ((F,), axis 0) or per row ((M, 1), axis 1)."""
    return by_column(op, a, v) if axis == 0 else op(a, v)


def _moments(x, axis):
    """Mean and biased variance of x (M, F) over `axis`."""
    mean = _sum(x, axis) / x.shape[axis]
    centered = _by(np.subtract, x, mean, axis)
    return mean, _sum(centered * centered, axis) / x.shape[axis]


def _as_matrix(a, matrix):
    """a as the matrix Normalize works on: for batch norm (`matrix` None) channels last,
    (N * prod(spatial), C), a view of our convolutions' results; otherwise the shape `matrix`."""
    if matrix is None:
        return (a if a.ndim == 2 else a.transpose(0, *range(2, a.ndim), 1)).reshape(-1, a.shape[1])
    return a.reshape(matrix)


def _from_matrix(m, shape, matrix):
    if matrix is None and len(shape) > 2:
        return m.reshape(shape[0], *shape[2:], shape[1]).transpose(0, len(shape) - 1, *range(1, len(shape) - 1))
    return m.reshape(shape)


class Normalize(Function):
    """x seen as a matrix (M, F) (`matrix`, see _as_matrix) standardized over its rows (axis 0, batch
    norm: each column over the rows) or its columns (axis 1), then out = xhat * weight + bias, weight
    and bias per column (either may be None, else of any shape with F elements). `mean` and `var`
    are x's own (`batch=True`, computed by the caller, who may need them too) or constants (batch
    norm's running statistics).

    With x's own statistics, g = grad * weight and means over `axis`:
        dL/dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps);
    with constants, dL/dx = g / sqrt(var + eps). dL/dweight = sum over rows of grad xhat,
    dL/dbias = sum over rows of grad. For batch norm (axis 0) mean(g) = weight dL/dbias / n and
    mean(g xhat) = weight dL/dweight / n, so the two sums serve all three, and xhat stays x - mean
    with its scale folded into the per-column factors: seven passes over x and grad instead of nine.
    Backward recomputes the statistics from x, so that under create_graph they are differentiated too."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, weight, bias, matrix, eps, mean, var, batch):
        ctx.matrix, ctx.eps, ctx.batch, ctx.bias_shape = matrix, eps, batch, None if bias is None else bias.shape
        ctx.save_for_backward(x, weight, *(() if batch else (mean, var)))
        rows, inverse_std = _as_matrix(x, matrix), 1 / np.sqrt(var + eps)
        if matrix is None:  # per column: out = x scale + shift, two passes (then in place: the new array is ours)
            scale = inverse_std if weight is None else weight * inverse_std
            out = by_column(np.multiply, rows, scale)
            by_column(np.add, out, -mean * scale if bias is None else bias - mean * scale, out=out)
            return _from_matrix(out, x.shape, matrix)
        out = (rows - mean) * inverse_std
        if weight is not None:
            by_column(np.multiply, out, weight.reshape(-1), out=out)
        if bias is not None:
            by_column(np.add, out, bias.reshape(-1), out=out)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, *constants = ctx.saved_tensors
        matrix, axis = ctx.matrix, 0 if ctx.matrix is None else 1
        x, grad, shape = _as_matrix(x, matrix), _as_matrix(grad, matrix), x.shape
        n = x.shape[axis]
        mean = _sum(x, axis) / n if ctx.batch else constants[0]
        centered = _by(np.subtract, x, mean, axis)
        var = _sum(centered * centered, axis) / n if ctx.batch else constants[1]
        inverse_std = 1 / np.sqrt(var + ctx.eps)
        w = None if weight is None else weight.reshape(-1)
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        sum_grad = _sum(grad, 0) if needs_bias or needs_x and axis == 0 else None
        if axis == 0:  # sum(grad xhat) per column, with xhat's per-column scale outside the sum
            sum_grad_xhat = _sum(grad * centered, 0) * inverse_std if needs_weight or needs_x else None
        else:
            sum_grad_xhat = _sum(grad * (centered * inverse_std), 0) if needs_weight else None
        gx = None
        if needs_x and axis == 0:
            g = (
                grad
                if not ctx.batch
                else grad
                - _by(  # grad - mean(grad) - xhat mean(grad xhat)
                    np.add, _by(np.multiply, centered, sum_grad_xhat * inverse_std / n), sum_grad / n
                )
            )
            gx = _from_matrix(_by(np.multiply, g, inverse_std if w is None else w * inverse_std), shape, matrix)
        elif needs_x:
            g, xhat = grad if w is None else _by(np.multiply, grad, w), centered * inverse_std
            if ctx.batch:
                g = g - (_sum(g, 1) + xhat * _sum(g * xhat, 1)) / n
            gx = (g * inverse_std).reshape(shape)
        gw = sum_grad_xhat.reshape(weight.shape) if needs_weight else None
        return gx, gw, sum_grad.reshape(ctx.bias_shape) if needs_bias else None


# ---- the functions ----------------------------------------------------------------------------------
def _check_parameters(layer, x, shape, **parameters):
    for name, t in parameters.items():
        if t is not None and np.shape(_data(t)) != shape:
            raise OpError(
                f"{layer}: {name} should have shape {shape} for an input of shape {x.shape}, got {np.shape(_data(t))}"
            )


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,  # noqa: A002
    eps=1e-5,
    layer="batch_norm",
):
    """Each channel (axis 1) standardized over the batch and the spatial axes. In training, by the
    batch's mean and biased variance, while running_mean and running_var (when given) move toward the
    batch's mean and UNBIASED variance (n - 1), in place: running = (1 - momentum) running +
    momentum batch. In eval, by the running statistics."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise OpError(f"{layer}: expected an input with a channel axis (N, C, ...), got shape {x.shape}")
    c = x.shape[1]
    _check_parameters(layer, x, (c,), running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if training and x.size == 0:  # an empty batch: nothing to learn from (PyTorch returns it as well)
        mean, var, training = np.zeros(c, x.dtype), np.ones(c, x.dtype), False
    elif training:
        n = x.size // c
        if n == 1:
            raise OpError(f"{layer}: expected more than 1 value per channel when training, got input shape {x.shape}")
        mean, var = _moments(_as_matrix(x.data, None), 0)
        for running, batch in ((running_mean, mean), (running_var, var * (n / (n - 1)))):
            if running is not None:  # in place, as PyTorch
                array = _data(running)
                array *= 1 - momentum
                array += momentum * batch
                mark_written(array)
    elif running_mean is None or running_var is None:
        raise OpError(f"{layer}: running_mean and running_var are needed when not training")
    else:
        mean, var = _data(running_mean), _data(running_var)
    return Normalize.apply(x, weight, bias, matrix=None, eps=eps, mean=mean, var=var, batch=training)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, layer="layer_norm"):  # noqa: A002
    """Each sample standardized over its last len(normalized_shape) axes; weight and bias have
    normalized_shape."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if len(shape) > x.ndim or x.shape[x.ndim - len(shape) :] != shape:
        raise OpError(
            f"{layer}: given normalized_shape={shape}, expected an input of shape (*, "
            f"{', '.join(map(str, shape))}), got {x.shape}"
        )
    _check_parameters(layer, x, shape, weight=weight, bias=bias)
    matrix = (math.prod(x.shape[: x.ndim - len(shape)]), math.prod(shape))
    mean, var = _moments(_as_matrix(x.data, matrix), 1)
    return Normalize.apply(x, weight, bias, matrix=matrix, eps=eps, mean=mean, var=var, batch=True)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, layer="group_norm"):  # noqa: A002
    """Each sample's C channels fall into num_groups groups of C / num_groups consecutive channels,
    each standardized over its channels and the spatial axes; weight and bias are per channel."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise OpError(
            f"{layer}: expected an input (N, C, ...) whose C is divisible by num_groups={num_groups}, got "
            f"shape {x.shape}"
        )
    c = x.shape[1]
    _check_parameters(layer, x, (c,), weight=weight, bias=bias)
    matrix = (x.shape[0] * num_groups, math.prod(x.shape[1:]) // num_groups)
    mean, var = _moments(_as_matrix(x.data, matrix), 1)
    out = Normalize.apply(x, None, None, matrix=matrix, eps=eps, mean=mean, var=var, batch=True)
    shape = (c, *(1,) * (x.ndim - 2))
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)
