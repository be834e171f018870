"""In-place writes: x += y and friends, item assignment, and PyTorch's in-place methods (add_, mul_,
zero_, fill_, clamp_, copy_, normal_, uniform_, ...). Each notes the write (versions.mark_written), so a
node that saved the old values raises instead of giving a wrong gradient."""

import numpy as np

from .. import engine
from ..engine import Tensor, _data
from ..random import default_generator
from ..versions import mark_written
from .arithmetic import Add, Div, Mul, Sub
from .indexing import _bool_mask, _pytorch_index


def _write(x, name, write):
    """Run `write(x.data)`, which changes x's memory, and note it for the in-place checks."""
    try:
        write(x.data)
    except (ValueError, TypeError) as error:  # a read-only (expanded) array, or a dtype that cannot hold the result
        raise RuntimeError(f"{name}: cannot write into a tensor of shape {x.shape}, dtype {x.dtype}: {error}") from None
    mark_written(x.data)
    return x


def _in_place(op, ufunc):
    """x += y and friends: in place where no graph is recorded through x (under no_grad, or on tensors
    that need no gradient). Where one is, a leaf that requires grad refuses (its change would go
    unrecorded) and any other tensor gets a new node, as x = x + y (the name x is rebound)."""

    def method(self, other):
        if engine._grad_enabled and (self.requires_grad or isinstance(other, Tensor) and other.requires_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation: "
                    "do it under no_grad() (as an optimizer's update) or write x = x + y"
                )
            return op.apply(self, other)
        return _write(self, f"{ufunc.__name__} in place", lambda data: ufunc(data, _data(other), out=data))

    return method


def _setitem(self, index, value):
    if engine._grad_enabled and (self.requires_grad or isinstance(value, Tensor) and value.requires_grad):
        raise RuntimeError(
            "assigning into a tensor that takes part in a graph is not recorded: use where(), or do it under no_grad()"
        )
    steps = _pytorch_index(_data(index))
    if len(steps) == 2:  # write through the view the ints select
        return _setitem(Tensor._make(self.data[steps[0]], False, None), steps[1], value)

    def assign(data):
        data[steps[0]] = _data(value)

    _write(self, "setitem", assign)


def _in_place_method(fn):
    """x.name_(...), PyTorch's in-place method: `fn(x.data, *args)` writes x's memory where no graph
    is recorded through x (under no_grad, or when neither x nor a tensor argument requires grad).
    Where one is, it raises: the method cannot rebind the name x as `x += y` does, and changing the
    tensor under nodes that already used it would give them a wrong gradient. Returns x."""
    name = fn.__name__

    def method(self, *args, **kwargs):
        if engine._grad_enabled and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))
        ):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    "operation; do it under no_grad() (as an initialization or an optimizer's update)"
                )
            raise RuntimeError(
                f"{name}: the tensor takes part in a graph, where an in-place change is not recorded; "
                f"write x = x.{name[:-1]}(...) instead, or do it under no_grad()"
            )
        return _write(self, name, lambda data: fn(data, *_data(args), **{k: _data(v) for k, v in kwargs.items()}))

    method.__name__ = name
    method.__doc__ = fn.__doc__
    return method


def add_(data, other, alpha=1):
    """x += alpha * other, in place."""
    data += other if alpha == 1 else alpha * np.asarray(other)


def sub_(data, other, alpha=1):
    """x -= alpha * other, in place."""
    data -= other if alpha == 1 else alpha * np.asarray(other)


def mul_(data, other):
    """x *= other, in place."""
    data *= other


def div_(data, other):
    """x /= other, in place."""
    data /= other


def zero_(data):
    """Every entry set to 0, in place."""
    data[...] = 0


def fill_(data, value):
    """Every entry set to `value`, in place."""
    data[...] = value


def clamp_(data, min=None, max=None):  # noqa: A002  (PyTorch's names)
    """x limited to [min, max], in place."""
    np.clip(data, min, max, out=data)


def copy_(data, src):
    """The entries of `src` (broadcast to x's shape, converted to x's dtype) written into x."""
    data[...] = src


def masked_fill_(data, mask, value):
    """`value` written where the boolean `mask` holds."""
    data[np.broadcast_to(_bool_mask(mask, "masked_fill_"), data.shape)] = value


def normal_(data, mean=0.0, std=1.0, generator=None):
    """Samples of N(mean, std^2) written into x."""
    data[...] = (generator or default_generator()).normal(mean, std, data.shape)


def uniform_(data, a=0.0, b=1.0, generator=None):  # noqa: A002
    """Samples of U[a, b) written into x."""
    data[...] = (generator or default_generator()).uniform(a, b, data.shape)


for _fn in (add_, sub_, mul_, div_, zero_, fill_, clamp_, copy_, masked_fill_, normal_, uniform_):
    setattr(Tensor, _fn.__name__, _in_place_method(_fn))
Tensor.clip_ = Tensor.clamp_
Tensor.__iadd__ = _in_place(Add, np.add)
Tensor.__isub__ = _in_place(Sub, np.subtract)
Tensor.__imul__ = _in_place(Mul, np.multiply)
Tensor.__itruediv__ = _in_place(Div, np.divide)
Tensor.__setitem__ = _setitem
