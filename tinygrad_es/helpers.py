"""Small helpers shared across the package (it imports nothing of ours)."""

import functools
import inspect
import math

import numpy as np
from numpy.exceptions import AxisError

# While tinygrad_es.compile records a step: the recording, to which the few functions whose calls a
# replay must make again (random draws, the numbers an optimizer works out from its state) report
# each call, through `replayed`. None otherwise.
recording = None


def replayed(fn, args, result):
    """`result`, which `fn(*args)` has just returned, reported to the recording of a compiled step if
    one is being made (see `recording`)."""
    return result if recording is None else recording.replayed(fn, args, result)


def sizes(args):
    """What a function taking sizes or axes was given, as PyTorch takes them: f(2, 3), f((2, 3)) or
    f([2, 3]) are all (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


@functools.lru_cache(maxsize=64)
def constant(value, dtype):
    """`value` as a read-only 0-d array of `dtype`, made once. For the fast paths: NumPy combines an
    array with a 0-d array of its own dtype 0.3-0.4 us faster than with a Python number, whose type
    it first has to work out."""
    array = np.array(value, dtype)
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=16)
def ones(n, dtype):
    """A read-only vector of n ones, made once: a sum over rows as a product with it is one BLAS call."""
    array = np.ones(n, dtype)
    array.flags.writeable = False
    return array


def silent(fn):
    """`fn` under np.errstate(all="ignore"): where the math gives inf or nan (exp overflowing, log 0,
    1 / 0) the result is that IEEE value, without a warning, as PyTorch gives it."""

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


def pytorch_axis(axis, ndim):
    """PyTorch's dims: a 0-d tensor takes 0 and -1 (its one element), which NumPy calls None."""
    if ndim or axis is None:
        return axis
    for a in axis if isinstance(axis, tuple) else (axis,):
        if a not in (0, -1):
            raise AxisError(f"axis {a} is out of range for a 0-d tensor (expected -1 or 0)")
    return None


# PyTorch's argument names -> ours (NumPy's): `axis` is PyTorch's `dim`, `keepdims` its `keepdim`.
PYTORCH_NAMES = {
    "dim": "axis",
    "keepdim": "keepdims",
    "dims": "axis",
    "start_dim": "start_axis",
    "end_dim": "end_axis",
    "dim0": "axis0",
    "dim1": "axis1",
    "dim2": "axis2",
}


def pytorch_names(fn):
    """`fn` also answering to PyTorch's argument names: sum(x, dim=1, keepdim=True) is
    sum(x, axis=1, keepdims=True), so PyTorch code runs unchanged. Only the names fn has are
    translated (a function whose own parameter is called `dims` keeps it); giving both names of one
    argument is a TypeError, as any argument given twice."""
    parameters = inspect.signature(fn).parameters
    renames = [
        (theirs, ours) for theirs, ours in PYTORCH_NAMES.items() if ours in parameters and theirs not in parameters
    ]
    pytorchs = frozenset(theirs for theirs, _ in renames)

    @functools.wraps(fn)
    def translated(*args, **kwargs):
        if kwargs and not pytorchs.isdisjoint(kwargs):  # one test in C when no PyTorch name is given
            for theirs, ours in renames:
                if theirs in kwargs:
                    if ours in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {theirs}= and {ours}=, two names of one argument")
                    kwargs[ours] = kwargs.pop(theirs)
        return fn(*args, **kwargs)

    return translated


class Size(int):
    """A tensor's `size`: the number of entries, NumPy's `size`; called, the shape, PyTorch's
    `size()`: t.size() is t.shape and t.size(1) is t.shape[1]."""

    def __new__(cls, shape):
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[dim]


class RemovableHandle:
    """Returned by every register_*_hook: `.remove()` takes the hook out again."""

    _next_id = 0

    def __init__(self, hooks, hook):
        self._hooks, self._id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        hooks[self._id] = hook

    def remove(self):
        self._hooks.pop(self._id, None)


def by_column(op, a, v, out=None):
    """op(a, v) for a matrix a (M, F) and a row vector v (F,): a seen as (M / r, r F) and v repeated r
    times, so that NumPy runs r F elements per inner loop instead of F (a subtraction on 2048 x 16
    float32: 9.5 us against 34 us). r is the largest power of 2 dividing M with r F <= 1024. On
    Tensors too (a reshape and an expand); `out` (an array) takes the result in place."""
    m, f = a.shape
    r = math.gcd(m, 1 << (max(1024 // max(f, 1), 1).bit_length() - 1))
    if r == 1 or out is not None and not out.flags.c_contiguous:  # nothing to gain, or out's wide view is a copy
        return op(a, v) if out is None else op(a, v, out=out)
    # v repeated: on an array, repeat is 10x faster than broadcast_to (1.2 us against 12); a Tensor has the latter
    row = (v[None].repeat(r, 0) if isinstance(v, np.ndarray) else np.broadcast_to(v, (r, f))).reshape(r * f)
    if out is not None:
        return op(a.reshape(m // r, r * f), row, out=out.reshape(m // r, r * f)).reshape(m, f)
    return op(a.reshape(m // r, r * f), row).reshape(m, f)
