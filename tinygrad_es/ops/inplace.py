"""In-place writes: x += y and friends, and item assignment. Each notes the write
(engine.mark_written), so a node that saved the old values raises instead of giving a wrong gradient."""

import numpy as np

from .. import engine
from ..engine import Tensor, _data, mark_written
from .arithmetic import Add, Div, Mul, Sub
from .indexing import _pytorch_index


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
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation: "
                                   "do it under no_grad() (as an optimizer's update) or write x = x + y")
            return op.apply(self, other)
        return _write(self, f"{ufunc.__name__} in place", lambda data: ufunc(data, _data(other), out=data))

    return method

def _setitem(self, index, value):
    if engine._grad_enabled and (self.requires_grad or isinstance(value, Tensor) and value.requires_grad):
        raise RuntimeError("assigning into a tensor that takes part in a graph is not recorded: use where(), "
                           "or do it under no_grad()")
    steps = _pytorch_index(_data(index))
    if len(steps) == 2:  # write through the view the ints select
        return _setitem(Tensor._make(self.data[steps[0]], False, None), steps[1], value)

    def assign(data):
        data[steps[0]] = _data(value)

    _write(self, "setitem", assign)


Tensor.__iadd__ = _in_place(Add, np.add)
Tensor.__isub__ = _in_place(Sub, np.subtract)
Tensor.__imul__ = _in_place(Mul, np.multiply)
Tensor.__itruediv__ = _in_place(Div, np.divide)
Tensor.__setitem__ = _setitem
