"""Matrix products."""

import numpy as np

from ..engine import Function, OpError, Tensor


class MatMul(Function):
    """x @ y as np.matmul: 2-D, batched, and 1-D (a vector, promoted to a matrix and dropped again).
    d/dx = grad @ y^T,  d/dy = x^T @ grad."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, y):
        if np.ndim(x) == 0 or np.ndim(y) == 0:
            raise OpError(f"both arguments to matmul need at least 1 dimension, got shapes {np.shape(x)} and "
                          f"{np.shape(y)}")
        if x.dtype != y.dtype:
            raise OpError(f"expected both operands to have the same dtype, got {x.dtype} and {y.dtype}")
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if y.ndim == 1:  # a column vector whose column axis was dropped from the output
            y, grad = y[:, None], grad[..., None]
        if x.ndim == 1:  # a row vector whose row axis was dropped
            x, grad = x[None, :], np.expand_dims(grad, -2)
        needs_x, needs_y = ctx.needs_input_grad
        gx = grad @ np.swapaxes(y, -1, -2) if needs_x else None
        gy = np.swapaxes(x, -1, -2) @ grad if needs_y else None
        x_vector, y_vector = (a.ndim == 1 for a in ctx.saved_tensors)
        return (gx[..., 0, :] if x_vector and needs_x else gx), (gy[..., 0] if y_vector and needs_y else gy)

def matmul(x, y):
    return MatMul.apply(x, y)


Tensor.matmul = matmul
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, lambda self, other: matmul(other, self)
Tensor._numpy_functions[np.matmul] = matmul
