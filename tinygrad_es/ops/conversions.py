"""What makes a Tensor behave as an array: Python's conversions (bool, float, int, len, iteration,
indexing with a tensor), repr, and NumPy's protocols, through which np.exp(t), np.where(c, t, 0) or
ndarray * t run our ops on tensors."""

import numpy as np

from ..engine import OpError, Tensor, _data, _node_name, is_grad_enabled


def numpy(self):
    return self.data


def item(self):
    return self.data.item()


def numel(self):
    return self.data.size


def dim(self):
    return self.data.ndim


def element_size(self):
    return self.data.itemsize


def to(self, *args, dtype=None, device=None, **flags):
    """The tensor in another dtype (to(np.float64), to(dtype=...), to(other_tensor)), as PyTorch's
    to(); a device is accepted when it is the CPU, the only one here. Other flags are ignored."""
    for arg in (*args, device):
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str):
            if arg != "cpu":
                raise ValueError(f"to(): tinygrad_es runs on the CPU only, got device {arg!r}")
        elif arg is not None:
            dtype = arg
    return self if dtype is None or np.dtype(dtype) == self.data.dtype else self.astype(dtype)


def cpu(self):
    return self


def tolist(self):
    return self.data.tolist()


def __len__(self):
    if self.data.ndim == 0:
        raise TypeError("len() of a 0-d tensor")
    return len(self.data)


def __iter__(self):  # along the first axis, as PyTorch
    return (self[i] for i in range(len(self)))


# Python's conversions, as PyTorch: a one-element tensor reads as its value; bool() of more
# elements is ambiguous and raises (NumPy's error)
def __bool__(self):
    if self.data.size != 1:
        raise OpError(f"the boolean value of a tensor of {self.data.size} elements is ambiguous; use .any() or .all()")
    return bool(self.data)


def __float__(self):
    return float(self.item())


def __int__(self):
    return int(self.item())


def __index__(self):  # an integer 0-d tensor as an index or a size
    if self.data.dtype.kind not in "iu" or self.data.ndim:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self.data)


def __repr__(self):
    values = np.array2string(self.data, separator=", ", prefix="Tensor(")
    if self.grad_fn is not None:
        return f"Tensor({values}, grad_fn=<{_node_name(self.grad_fn)}Backward>)"
    return f"Tensor({values}{', requires_grad=True' if self.requires_grad else ''})"


# NumPy's protocols: np.exp(t), np.where(c, t, 0), ndarray * t ... run our ops on tensors.
def __array_ufunc__(self, ufunc, method, *args, **kwargs):
    op = self._numpy_functions.get(ufunc) if method == "__call__" and not kwargs else None
    if op is not None:
        return op(*args)
    return _without_gradient(ufunc if method == "__call__" else getattr(ufunc, method), args, kwargs)


def __array_function__(self, func, types, args, kwargs):
    op = self._numpy_functions.get(func)
    return op(*args, **kwargs) if op is not None else _without_gradient(func, args, kwargs)


def __array__(self, dtype=None, copy=None):
    array = self.data if dtype is None else self.data.astype(dtype, copy=False)
    return array.copy() if copy and array is self.data else array  # np.array(t) is a snapshot


def _without_gradient(func, args, kwargs):
    """A NumPy function we have no op for, run on the tensors' arrays: fine for values (np.shape,
    np.isnan, ...), an error where a gradient would be silently lost."""
    if any(isinstance(a, Tensor) for a in kwargs.get("out", None) or ()):
        raise TypeError(f"{getattr(func, '__name__', func)}: out= cannot be a Tensor; use the Tensor's own methods")
    result = func(*_data(args), **_data(kwargs))
    tracked = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in _flat(args, kwargs))
    if tracked and isinstance(result, np.ndarray) and result.dtype.kind in "fc":
        raise TypeError(
            f"numpy.{getattr(func, '__name__', func)} has no gradient in tinygrad_es; use the Tensor "
            "methods and functions, or .detach() the tensor for values only"
        )
    return result


def _flat(args, kwargs):
    for a in (*args, *kwargs.values()):
        yield from (a if isinstance(a, (tuple, list)) else (a,))


for _method in (
    numpy,
    item,
    numel,
    dim,
    element_size,
    to,
    cpu,
    tolist,
    __len__,
    __iter__,
    __bool__,
    __float__,
    __int__,
    __index__,
    __repr__,
    __array_ufunc__,
    __array_function__,
    __array__,
):
    setattr(Tensor, _method.__name__, _method)
