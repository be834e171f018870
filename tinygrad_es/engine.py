"""The engine: Tensor, Function and reverse-mode backward.

A Tensor wraps a NumPy array. Every differentiable op is a Function: `forward` computes the
result from plain arrays, `backward` turns the gradient of the result into gradients of the
inputs. When an op runs on tensors that require gradients, its Function instance is kept on the
result (`grad_fn`) together with the inputs; that is the whole graph. `Tensor.backward` walks
it from the output to the leaves, newest node first (a node is always made after its inputs, so
each is reached only once all its consumers have passed their gradients back).
"""
import math
import sys
from heapq import heappop, heappush
from itertools import count

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

_grad_enabled = True  # switched off by `no_grad`
_anomaly_mode = False  # switched on by `detect_anomaly` (anomaly.py)
_creation_count = count(1)  # numbers the graph's nodes in the order they are made (0: released)


class no_grad:
    """Context manager and decorator: ops run inside it record no graph.

        with no_grad():
            y = model(x)          # no graph, nothing kept for backward

        @no_grad()                # or @no_grad
        def evaluate(model, x): ...
    """

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self if fn is None else self(fn)  # a bare @no_grad gets the function at once

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
        return wrapper


def is_grad_enabled():
    return _grad_enabled


class Function:
    """Base of every differentiable op. Subclass it to write your own:

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):                 # x is a NumPy array
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):             # grad has the output's shape
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * grad         # one gradient per input

        y = Cube.apply(t)

    `forward` receives tensors as arrays, NumPy scalars as Python numbers (so that, as in
    PyTorch, they do not change a tensor's dtype) and everything else (numbers, axes) as given.
    `backward` returns one gradient per positional input (None for inputs without one); a
    gradient may have the broadcast shape, the engine sums it back to the input's shape.
    `ctx.needs_input_grad[i]` says whether input i wants a gradient, so work can be skipped.
    The instance is the context: anything set on it in forward is there in backward.
    """

    inputs = None  # the positional inputs of the call; None once the graph is released
    creation = 0  # a recorded node's number, from 1 up (see _propagate); a released node reads 0:
    # backward takes it last, shares one queue entry among all such nodes, and raises on it

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs, **options):
        ctx = cls()
        arrays, needs = [], []  # one plain loop: cheaper than two comprehensions for an op's few inputs
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                needs.append(x.requires_grad)
            else:  # a NumPy scalar counts as a Python number: t * np.sqrt(2) keeps t's dtype, as in PyTorch
                arrays.append(x.item() if isinstance(x, np.generic) else x)
                needs.append(False)
        try:
            out = cls.forward(ctx, *arrays, **options)
        except ValueError as error:  # e.g. shapes that do not broadcast: say which op and which shapes
            shapes = ", ".join(str(np.shape(a)) for a in arrays if isinstance(a, (np.ndarray, np.generic)))
            raise ValueError(f"{cls.__name__}: {error} (input shapes {shapes})") from None
        if _anomaly_mode:
            anomaly.check_forward(ctx, inputs, out)
        if _grad_enabled and True in needs:
            ctx.inputs, ctx.needs_input_grad, ctx.creation = inputs, tuple(needs), next(_creation_count)
            return Tensor._make(out, True, ctx)
        return Tensor._make(out, False, None)

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


def unbroadcast(grad, shape):
    """Sum `grad` over the axes along which an input of `shape` was broadcast. A ValueError if
    `shape` does not broadcast to grad's shape: that gradient belongs to another input."""
    shape, summed = tuple(shape), grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        summed = summed.sum(axis=tuple(range(extra)))
    if extra >= 0:
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and summed.shape[i] != 1)
        if stretched:
            summed = summed.sum(axis=stretched, keepdims=True)
        if summed.shape == shape:
            return summed
    raise ValueError(f"a gradient of shape {grad.shape} does not fit an input of shape {shape}")


def _sizes(args):
    """What a method taking sizes or axes was given, as PyTorch takes them: f(2, 3), f((2, 3)) or
    f([2, 3]) are all (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _as_array(data, dtype):
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    # Python numbers become float32, as PyTorch's default dtype; bools stay bools.
    return array.astype(np.float32) if array.dtype.kind in "iuf" else array


class Tensor:
    """An n-dimensional array that can record the ops applied to it and differentiate them.

    `Tensor(data, requires_grad=False, dtype=None)`: Python numbers and lists become float32;
    a NumPy array keeps its dtype (float64 stays float64) and its memory, which the tensor shares
    (`tensor(data)` copies it). Only floating tensors can require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_hooks", "__weakref__")
    __array_ufunc__ = None  # `ndarray * tensor` must call Tensor.__rmul__, not loop in NumPy
    __hash__ = object.__hash__  # == is elementwise, identity stays the hash

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = self.grad_fn = self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_()

    @staticmethod
    def _make(data, requires_grad, grad_fn):
        # Ops create their results here: no conversion, no checks.
        t = Tensor.__new__(Tensor)
        t.data, t.requires_grad, t.grad_fn = data, requires_grad, grad_fn
        t.grad = t._hooks = None
        return t

    # ---- plain array access -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self.grad_fn is None)

    def numpy(self):
        return self.data

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array  # np.array(t) is a snapshot

    def __len__(self):
        return len(self.data)

    # Python's conversions, as PyTorch: a one-element tensor reads as its value; bool() of more
    # elements is ambiguous and raises (NumPy's error)
    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        values = np.array2string(self.data, separator=", ", prefix="Tensor(")
        if self.grad_fn is not None:
            return f"Tensor({values}, grad_fn=<{type(self.grad_fn).__name__}Backward>)"
        return f"Tensor({values}{', requires_grad=True' if self.requires_grad else ''})"

    # ---- graph ----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "pass float data or dtype=np.float32"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._make(self.data, False, None)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose `.remove()` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        A scalar output needs no `gradient`; any other output needs one of its shape. Unless
        `retain_graph=True`, the graph's saved arrays are released on the way back.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape {self.shape}; "
                    "pass gradient= with that shape"
                )
            gradient = np.array(1, self.data.dtype, ndmin=self.data.ndim)  # 1, in the output's shape
        else:
            gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, self.data.dtype)
            if gradient.shape != self.shape:
                raise RuntimeError(f"backward(): gradient has shape {gradient.shape}, output has shape {self.shape}")

        _propagate(self, gradient, retain_graph)

    # ---- ops: defined in ops.py, one Function each ----------------------------------------
    def __add__(self, other):
        return ops.Add.apply(self, other)

    def __radd__(self, other):
        return ops.Add.apply(other, self)

    def __sub__(self, other):
        return ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return ops.Sub.apply(other, self)

    def __mul__(self, other):
        return ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return ops.Div.apply(other, self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __abs__(self):
        return ops.Abs.apply(self)

    # In place, as PyTorch, where no graph is being recorded: under no_grad (a hand-written update
    # `p -= lr * p.grad`) or on tensors that need no gradient. Where one is, a leaf that requires
    # grad refuses (its change would go unrecorded) and any other tensor gets a new node, as `x = x + y`.
    def _in_place(self, other, ufunc, op):
        if _grad_enabled and (self.requires_grad or isinstance(other, Tensor) and other.requires_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError("an in-place op on a leaf that requires grad: do it under no_grad() "
                                   "(as an optimizer's update) or write x = x + y")  # fmt: skip
            return op.apply(self, other)
        if type(self.data) is not np.ndarray:  # a reduction's result is a NumPy scalar: no memory to write
            self.data = np.array(self.data)
        ufunc(self.data, _data(other), out=self.data)
        return self

    def __iadd__(self, other):
        return self._in_place(other, np.add, ops.Add)

    def __isub__(self, other):
        return self._in_place(other, np.subtract, ops.Sub)

    def __imul__(self, other):
        return self._in_place(other, np.multiply, ops.Mul)

    def __itruediv__(self, other):
        return self._in_place(other, np.divide, ops.Div)

    def __pow__(self, exponent):
        return ops.Pow.apply(self, exponent)

    def __rpow__(self, base):
        return ops.Pow.apply(base, self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return ops.MatMul.apply(other, self)

    # Comparisons give plain boolean tensors: no graph, no gradient.
    def __lt__(self, other):
        return Tensor._make(self.data < _data(other), False, None)

    def __le__(self, other):
        return Tensor._make(self.data <= _data(other), False, None)

    def __gt__(self, other):
        return Tensor._make(self.data > _data(other), False, None)

    def __ge__(self, other):
        return Tensor._make(self.data >= _data(other), False, None)

    def __eq__(self, other):
        return Tensor._make(self.data == _data(other), False, None)

    def __ne__(self, other):
        return Tensor._make(self.data != _data(other), False, None)

    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def clip(self, min=None, max=None):
        return ops.Clip.apply(self, min, max)

    clamp = clip

    def maximum(self, other):
        return ops.Maximum.apply(self, other)

    def minimum(self, other):
        return ops.Minimum.apply(self, other)

    def sum(self, axis=None, keepdims=False):
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        """Variance; `correction=1` (Bessel's, PyTorch's default) divides by n - 1."""
        return ops.Var.apply(self, axis=axis, keepdims=keepdims, correction=correction)

    def std(self, axis=None, keepdims=False, correction=1):
        return ops.Std.apply(self, axis=axis, keepdims=keepdims, correction=correction)

    def reshape(self, *shape):
        return ops.Reshape.apply(self, shape=_sizes(shape))

    view = reshape

    def flatten(self, start_axis=0, end_axis=-1):
        """Axes start_axis to end_axis (both included) merged into one, as PyTorch's flatten."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (normalize_axis_index(axis, self.ndim, "flatten") for axis in (start_axis, end_axis))
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {self.shape}")
        shape = self.shape
        return self.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def squeeze(self, axis=None):
        """Without the axes of length 1, or of those among `axis` (an int or a tuple): an axis given
        that is longer than 1 stays, as in PyTorch."""
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = {normalize_axis_index(a, self.ndim, "squeeze") for a in (axis if isinstance(axis, tuple) else (axis,))}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if n != 1 or i not in axes))

    def unsqueeze(self, axis):
        return self.reshape(np.expand_dims(self.data, axis).shape)

    def transpose(self, *axes):
        """`transpose(a, b)` swaps axes a and b (PyTorch), whatever the number of axes; otherwise as
        `permute`: no axes reverses them, and a tuple names every axis (NumPy's transpose(axes))."""
        if len(axes) != 2:
            return self.permute(*axes)
        order = list(range(self.ndim))
        try:
            order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
        except IndexError:
            raise ValueError(f"transpose: axes {axes} out of range for shape {self.shape}") from None
        return self.permute(order)

    def permute(self, *axes):
        """The axes in a new order, which names every axis once (as ints or one tuple); none reverses them."""
        return ops.Transpose.apply(self, axes=_sizes(axes) or None)

    T = property(lambda self: ops.Transpose.apply(self, axes=None))

    def expand(self, *shape):
        """The tensor broadcast to `shape`; -1 keeps an existing axis's size (PyTorch)."""
        shape = _sizes(shape)
        new = len(shape) - self.ndim  # leading axes that are new
        shape = tuple(self.shape[i - new] if n == -1 and i >= new else n for i, n in enumerate(shape))
        return ops.Expand.apply(self, shape=shape)

    broadcast_to = expand

    def __getitem__(self, index):
        return ops.GetItem.apply(self, index=_data(index))

    # The common activations, as methods (each is its own op in activations.py).
    def sigmoid(self):
        return activations.sigmoid(self)

    def tanh(self):
        return activations.tanh(self)

    def relu(self):
        return activations.relu(self)

    def softmax(self, axis=-1):
        return activations.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return activations.log_softmax(self, axis)

    def astype(self, dtype):
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":  # integers and booleans carry no gradient, as in PyTorch
            return Tensor._make(self.data.astype(dtype), False, None)
        return ops.Cast.apply(self, dtype=dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)


def tensor(data, requires_grad=False, dtype=None):
    """A Tensor of a copy of `data`, as torch.tensor. `Tensor(array)` shares the array's memory
    instead (as torch.as_tensor), so an optimizer's in-place steps would change the array."""
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(data.copy() if isinstance(data, np.ndarray) else data, requires_grad, dtype)


def _data(x):
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in x)
    return x


def _propagate(root, gradient, retain_graph):
    """Carry `gradient` from `root` back through the graph into the leaves' `.grad`.

    A node is created after its inputs, so taking nodes in decreasing creation order (a heap)
    reaches each one after all its consumers, with its gradient complete. A leaf's share is
    added to its `.grad` as soon as it arrives; only a leaf with hooks waits for the sum of all
    its shares (its hooks see the total, as in PyTorch)."""
    if root.grad_fn is None:
        # the caller's array (or a hook's): copied, as later backward calls add into a leaf's .grad
        _accumulate(root, _run_hooks(root._hooks, gradient) if root._hooks else gradient, private=False)
        return
    key = -root.grad_fn.creation
    # pending: the gradient summed so far of each node (key -creation, <= 0) and of each leaf with
    # hooks (key id(leaf), > 0)
    pending, queue, hooked_leaves = {key: gradient}, [(key, root)], []
    while queue:
        key, node = heappop(queue)
        ctx = node.grad_fn
        if ctx.inputs is None:
            raise RuntimeError(
                "backward through a graph that was already released: call backward(retain_graph=True) "
                "the first time to go through it twice"
            )
        grad = pending.pop(key)
        if node._hooks:
            grad = _run_hooks(node._hooks, grad)
        input_grads = type(ctx).backward(ctx, grad)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if _anomaly_mode:
            anomaly.check_backward(ctx, grad, input_grads)
        for x, needs, g in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
            if not needs or g is None:
                continue
            if g.shape != x.data.shape:
                try:
                    g = unbroadcast(g, x.data.shape)
                except ValueError as error:  # a Function's backward returned a wrong gradient
                    raise RuntimeError(f"{type(ctx).__name__}.backward: {error}") from None
            fn = x.grad_fn
            if fn is None and not x._hooks:  # a leaf: its share is final
                _accumulate(x, g)
                continue
            key = id(x) if fn is None else -fn.creation
            if key in pending:
                pending[key] = pending[key] + g
            else:
                pending[key] = g
                if fn is None:
                    hooked_leaves.append(x)
                else:
                    heappush(queue, (key, x))
        if not retain_graph:
            ctx.__dict__.clear()  # drops inputs and saved arrays: `inputs` reads None again
    for leaf in hooked_leaves:
        _accumulate(leaf, _run_hooks(leaf._hooks, pending.pop(id(leaf))), private=False)


def _accumulate(leaf, grad, private=True):
    """Add a gradient into `leaf.grad`, as PyTorch does, until zeroed. The first gradient becomes
    `.grad` without a copy when nothing else can see it: it owns its memory (not a view) and no
    one else holds it (its reference count is at most that of an array held only by `_propagate`'s
    loop over an op's gradients: measured below). Anything else (a view, the caller's array, one
    array handed to two inputs, an array an op kept) is copied first, and so is a gradient hooks
    have seen or the caller gave (`private=False`): the count cannot tell whether they kept it."""
    if leaf.grad is not None:
        leaf.grad.data += grad
    elif (private and type(grad) is np.ndarray and grad.base is None and grad.dtype == leaf.data.dtype
          and sys.getrefcount(grad) <= _UNSHARED_REFCOUNT):  # fmt: skip
        leaf.grad = Tensor._make(grad, False, None)
    else:
        leaf.grad = Tensor._make(np.array(grad, leaf.data.dtype), False, None)


def _unshared_refcount():
    """What sys.getrefcount reports inside `_accumulate` for an array held only by an op's tuple of
    gradients, the zip going through it (its last item), the loop variable and the argument, as in
    `_propagate` (measured: the count differs between Python versions)."""

    def count_in_callee(grad):
        return sys.getrefcount(grad)

    for _, array in zip((None,), (np.empty(0),)):
        return count_in_callee(array)


_UNSHARED_REFCOUNT = _unshared_refcount()


class RemovableHandle:
    """Returned by every register_*_hook: `.remove()` takes the hook out again."""

    _next_id = 0

    def __init__(self, hooks, hook):
        self._hooks, self._id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        hooks[self._id] = hook

    def remove(self):
        self._hooks.pop(self._id, None)


def _run_hooks(hooks, grad):
    for hook in list(hooks.values()):
        replaced = hook(Tensor._make(grad, False, None))
        if replaced is not None:
            grad = replaced.data if isinstance(replaced, Tensor) else np.asarray(replaced)
    return grad


from . import activations, anomaly, ops  # noqa: E402  (they subclass Function, so they come after it)
