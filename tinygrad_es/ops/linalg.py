"""Products: matmul (and mm, bmm, dot), einsum (and tensordot, inner), outer."""

import string

import numpy as np

from ..engine import Function, OpError, Tensor, _data


class MatMul(Function):
    """x @ y as np.matmul: 2-D, batched, and 1-D (a vector, promoted to a matrix and dropped again).
    d/dx = grad @ y^T,  d/dy = x^T @ grad."""

    fresh_gradients = True

    @staticmethod
    def forward(ctx, x, y):
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)):  # a number or a list, as PyTorch
            x_type, y_type = ("Tensor" if isinstance(a, np.ndarray) else type(a).__name__ for a in (x, y))
            raise TypeError(f"unsupported operand type(s) for @: '{x_type}' and '{y_type}'")
        if x.ndim == 0 or y.ndim == 0:
            raise OpError(f"both arguments to matmul need at least 1 dimension, got shapes {x.shape} and {y.shape}")
        if x.dtype != y.dtype:
            raise OpError(f"expected both operands to have the same dtype, got {x.dtype} and {y.dtype}")
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        x_vector, y_vector = x.ndim == 1, y.ndim == 1
        if y_vector:  # a column vector whose column axis was dropped from the output
            y, grad = y[:, None], grad[..., None]
        if x_vector:  # a row vector whose row axis was dropped
            x, grad = x[None, :], np.expand_dims(grad, -2)
        needs_x, needs_y = ctx.needs_input_grad
        gx = grad @ y.swapaxes(-1, -2) if needs_x else None
        gy = x.swapaxes(-1, -2) @ grad if needs_y else None
        return (gx[..., 0, :] if x_vector and needs_x else gx), (gy[..., 0] if y_vector and needs_y else gy)


def matmul(x, y):
    return MatMul.apply(x, y)


def _ndims(name, x, y, wanted):
    """PyTorch's checks of mm, bmm and dot: both operands have `wanted` dimensions."""
    for label, t in (("first", x), ("second", y)):
        if np.ndim(_data(t)) != wanted:
            raise OpError(f"{name}: the {label} argument must have {wanted} dimensions, got shape {np.shape(_data(t))}")


def mm(x, y):
    """The product of two matrices (x @ y, both 2-D)."""
    _ndims("mm", x, y, 2)
    if np.shape(_data(x))[1] != np.shape(_data(y))[0]:
        raise OpError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, np.shape(_data(x))))} and "
            f"{'x'.join(map(str, np.shape(_data(y))))})"
        )
    return MatMul.apply(x, y)


def bmm(x, y):
    """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p), the batches not broadcast."""
    _ndims("bmm", x, y, 3)
    (b, _, m), (b2, m2, _) = np.shape(_data(x)), np.shape(_data(y))
    if (b, m) != (b2, m2):
        raise OpError(
            f"bmm: expected batch2 of shape ({b}, {m}, p) to fit batch1 {np.shape(_data(x))}, got {np.shape(_data(y))}"
        )
    return MatMul.apply(x, y)


def dot(x, y):
    """The dot product of two vectors of one length (both 1-D): a 0-d tensor."""
    _ndims("dot", x, y, 1)
    if len(_data(x)) != len(_data(y)):
        raise OpError(f"dot: inconsistent tensor size, expected equal lengths, got {len(_data(x))} and {len(_data(y))}")
    return MatMul.apply(x, y)


def outer(x, y):
    """out[i, j] = x[i] y[j], of two vectors."""
    _ndims("outer", x, y, 1)
    return x.reshape(-1, 1) * y.reshape(1, -1)


# ---- einsum ---------------------------------------------------------------------------------------
def _explicit(subscripts, shapes):
    """The equation with every axis named by its own letter: the ellipsis of each operand spelled out
    (right-aligned, as it broadcasts), and the output written out when the equation leaves it
    implicit (the letters seen once, in alphabetical order, after the ellipsis). Returns the
    inputs' letters and the output's."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise OpError(f"einsum: the equation names {len(inputs)} operands, {len(shapes)} were given")
    free = iter(c for c in string.ascii_letters[::-1] if c not in subscripts)
    widest = max((len(shape) - len(s.replace("...", "")) for s, shape in zip(inputs, shapes) if "..." in s), default=0)
    ellipsis = "".join(next(free) for _ in range(widest))
    named = [
        s.replace("...", ellipsis[widest - (len(shape) - len(s) + 3) :] if "..." in s else "")
        for s, shape in zip(inputs, shapes)
    ]
    if not arrow:
        letters = "".join(inputs)
        output = ("..." if "..." in letters else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c != ".")
        )
    return named, output.replace("...", ellipsis)


class Einsum(Function):
    """np.einsum: each operand's letters name its axes; letters absent from the output are summed.
    The gradient of operand k is the einsum of the output's gradient with the other operands, onto
    k's letters: its letters seen nowhere else were summed in forward, so their gradient is spread
    back (broadcast); a letter k holds twice (a diagonal, as in "ii->i") gets the gradient on the
    diagonal only (times an identity)."""

    @staticmethod
    def forward(ctx, *operands, subscripts):
        if len({a.dtype for a in operands}) > 1:
            raise OpError(f"einsum: operands must have the same dtype, got {', '.join(str(a.dtype) for a in operands)}")
        ctx.save_for_backward(*operands)
        ctx.inputs_letters, ctx.output = _explicit(subscripts, [a.shape for a in operands])
        # spelled out: NumPy refuses an ellipsis missing from the output ("...->"), which sums it, as PyTorch
        explicit = ",".join(ctx.inputs_letters) + "->" + ctx.output
        return np.einsum(explicit, *operands, optimize=len(operands) > 1)

    @staticmethod
    def backward(ctx, grad):
        operands, letters = ctx.saved_tensors, ctx.inputs_letters
        size = {}
        for s, a in zip(letters, operands):
            for c, n in zip(s, a.shape):
                size[c] = n if size.get(c, 1) == 1 else size[c]
        fresh = iter(c for c in string.ascii_letters if c not in "".join(letters) + ctx.output)
        # a letter an operand holds with length 1 while others have more is broadcast: a letter of its own
        spelled = [
            "".join(c if a.shape[i] == size[c] else next(fresh) for i, c in enumerate(s))
            for s, a in zip(letters, operands)
        ]
        return tuple(
            _operand_gradient(grad, ctx.output, operands, spelled, k) if needs else None
            for k, needs in enumerate(ctx.needs_input_grad)
        )


def _operand_gradient(grad, output, operands, spelled, k):
    own, shape = spelled[k], operands[k].shape
    others = [s for j, s in enumerate(spelled) if j != k]
    elsewhere = set(output).union(*others)
    unique = "".join(dict.fromkeys(own))  # each letter once, in order of first appearance
    found = "".join(c for c in unique if c in elsewhere)
    g = Einsum.on(
        grad, *(a for j, a in enumerate(operands) if j != k), subscripts=",".join([output, *others]) + "->" + found
    )
    # back to k's axes: the letters summed in forward spread again, then each repeated letter's diagonal
    first = {c: own.index(c) for c in unique}
    g = g.reshape([shape[i] if c in found and first[c] == i else 1 for i, c in enumerate(own)])
    g = np.broadcast_to(g, [shape[i] if first[c] == i else 1 for i, c in enumerate(own)])
    for i, c in enumerate(own):
        if first[c] != i:  # the second time k holds c: keep the diagonal of axes first[c] and i
            eye = np.eye(shape[i], dtype=operands[k].dtype)
            g = g * eye.reshape([shape[i] if j in (first[c], i) else 1 for j in range(len(own))])
    return g


def einsum(subscripts, *operands):
    """Einstein summation, as torch.einsum and np.einsum: einsum("ij,jk->ik", a, b) is a @ b. The
    operands may also come as one list. Differentiable in every operand, to any order."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum.apply(*operands, subscripts=subscripts)


def tensordot(x, y, dims=2):
    """The sum over pairs of axes of x and y: the last `dims` of x with the first `dims` of y, or
    the axes listed in dims = (axes of x, axes of y)."""
    nx, ny = np.ndim(_data(x)), np.ndim(_data(y))
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise OpError(f"tensordot expects dims >= 0, got {dims}")
        dims = (list(range(nx - dims, nx)), list(range(dims)))
    axes_x, axes_y = ([a] if isinstance(a, int) else list(a) for a in dims)
    if len(axes_x) != len(axes_y):
        raise OpError(f"tensordot: both sides need the same number of axes, got {axes_x} and {axes_y}")
    letters = iter(string.ascii_letters)
    sx = [next(letters) for _ in range(nx)]
    sy = [next(letters) for _ in range(ny)]
    for a, b in zip(axes_x, axes_y):
        sy[b % ny] = sx[a % nx]
    kept = [c for i, c in enumerate(sx) if i % nx not in {a % nx for a in axes_x}]
    kept += [c for i, c in enumerate(sy) if i not in {b % ny for b in axes_y}]
    return Einsum.apply(x, y, subscripts=f"{''.join(sx)},{''.join(sy)}->{''.join(kept)}")


def inner(x, y):
    """The sum over the last axes of x and y (a number times a tensor when one is 0-d), as torch.inner."""
    if np.ndim(_data(x)) == 0 or np.ndim(_data(y)) == 0:
        return x * y
    return tensordot(x, y, ([-1], [-1]))


Tensor.matmul = matmul
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, lambda self, other: matmul(other, self)
for _fn in (mm, bmm, dot, outer, inner):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.ger = outer
Tensor._numpy_functions.update({np.matmul: matmul, np.einsum: einsum, np.inner: inner})
