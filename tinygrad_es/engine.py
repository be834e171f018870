"""The engine: Tensor, Function and reverse-mode backward. Read this file first.

A Tensor wraps a NumPy array. Every differentiable op is a Function: `forward` computes the result
from plain arrays, `backward` turns the gradient of the result into gradients of the inputs. An op
applied to tensors that require gradients keeps its Function instance (its context, `ctx`) on the
result as `grad_fn`, with the inputs: that is the whole graph. `backward` walks it from the output
to the leaves, newest node first: a node is always made after its inputs, so it is reached only
once all its consumers have passed their gradients back.

Gradients of gradients. Backward formulas are written in plain NumPy (operators, methods, np.where,
np.exp, ...), and Tensor speaks NumPy's dispatch protocols (`__array_ufunc__`, `__array_function__`),
so the same formula given Tensors records a graph of its own. With `create_graph=True` the engine
hands each backward the gradient and the saved inputs and output as Tensors, with recording on: the
gradients that come out can be differentiated again. Otherwise backward runs on arrays and records
nothing: plain training pays nothing for this. As only the saved inputs and output become Tensors,
what an op saves for backward must be its inputs, its output, or constants such as masks: anything
else it computed would count as a constant in the second derivative. A gradient that comes out
constant (a mask times a constant) is attached to the op's inputs with a derivative of 0
(`_Constant`), so that at a kink the second derivative is 0, as in PyTorch. The fused nodes
(fused.py) differentiate their plain composition under create_graph. gradgradcheck (gradcheck.py)
checks a backward's own backward against finite differences; autograd.functional builds Jacobians,
Hessians and their products on `grad`.

In-place writes. One clock numbers the nodes as they are made and the in-place writes into an
array's memory as they happen (`+=`, an optimizer's step, `load_state_dict`). A node whose saved
arrays were written after it was made would compute a wrong gradient, so backward raises instead
(versions.py). Only nodes older than the latest write are checked at all.

Tensor's operators and methods are the ops of ops.py, activations.py and the other op modules,
each attached to Tensor there, next to its Function.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import versions
from .helpers import RemovableHandle, Size, constant
from .versions import mark_written

if TYPE_CHECKING:  # the operators and methods the op modules attach to Tensor, as a type checker sees them
    from .tensor_methods import TensorMethods
else:
    TensorMethods = object

_grad_enabled = True  # switched off by `no_grad`
checks = None  # anomaly detection installs an object here with check_forward/check_backward (anomaly.py)


class OpError(RuntimeError, ValueError):
    """An op given what it cannot take (shapes that do not fit, values out of its range): a
    RuntimeError as PyTorch raises, and a ValueError as NumPy does."""


class no_grad:
    """Context manager and decorator: ops run inside it record no graph. `enable_grad` undoes it.

    with no_grad():
        y = model(x)          # no graph, nothing kept for backward
    """

    enabled = False

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        return self if fn is None else self(fn)  # a bare @no_grad gets the function at once

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, self.enabled

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Record a graph again, inside a `no_grad` block."""

    enabled = True


def is_grad_enabled() -> bool:
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

    `forward` receives tensors as arrays, NumPy scalars as Python numbers (so that, as in PyTorch,
    they do not change a tensor's dtype) and everything else (numbers, axes) as given. Arrays that
    backward needs are kept with `save_for_backward`; other values (axes, shapes) as attributes.
    `backward` returns one gradient per positional input (None for inputs without one); a gradient
    may have the broadcast shape, the engine sums it back to the input's shape.
    `ctx.needs_input_grad[i]` says whether input i wants a gradient, so work can be skipped.
    """

    inputs: tuple[Any, ...] | None = None  # the positional inputs; None once backward has released the graph
    needs_input_grad: tuple[bool, ...]
    creation = 0  # the clock's time when the node was made
    saved_tensors: tuple[Any, ...] = ()
    # True when backward's gradients are new arrays no one else holds: a leaf may keep one as its
    # .grad without a copy. Otherwise the first gradient a leaf receives is copied.
    fresh_gradients = False

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
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
        except (ValueError, IndexError) as error:
            raise _naming_the_op(cls, error, arrays) from None
        if not isinstance(out, np.ndarray):  # NumPy gives a 0-d result as a scalar: make it an array, also where saved
            out = _result_array(ctx, out)
        if checks is not None:
            checks.check_forward(ctx, inputs, out)
        if _grad_enabled and True in needs:
            ctx.inputs, ctx.needs_input_grad, ctx.creation = inputs, tuple(needs), next(versions.clock)
            return Tensor._make(out, True, ctx)
        return Tensor._make(out, False, None)

    @staticmethod
    def forward(ctx: Any, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def on(cls, *args: Any, **options: Any) -> Any:
        """The op inside another op's backward formula: recorded on Tensors (create_graph), its
        plain forward on arrays."""
        if any(isinstance(a, Tensor) for a in args):
            return cls.apply(*args, **options)
        return cls.forward(cls(), *args, **options)


def _result_array(ctx, scalar):
    array = np.asarray(scalar)
    ctx.saved_tensors = tuple(array if a is scalar else a for a in ctx.saved_tensors)
    return array


def _naming_the_op(cls, error, arrays):
    """The error again, with the op's name and input shapes: an axis or index out of range stays an
    IndexError (NumPy's AxisError is one), NumPy's other ValueErrors become OpError."""
    shapes = ", ".join(str(np.shape(a)) for a in arrays if isinstance(a, (np.ndarray, np.generic)))
    message = f"{cls.__name__}: {error} (input shapes {shapes})"
    if isinstance(error, np.exceptions.AxisError):
        return np.exceptions.AxisError(message)
    kind = OpError if type(error) is ValueError else type(error)
    return kind(message)


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


# ---- backward -----------------------------------------------------------------------------------
def start_gradient(t, g, create_graph):
    """The gradient backward starts from at output t: g (a copy), or 1 for a scalar (for a 0-d
    output without hooks a shared read-only 1: 2 us less per training step than a new array; a
    leaf copies its seed before keeping it as .grad). A tensor in a graph stays itself under
    create_graph."""
    if not t.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad and has no grad_fn")
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar output, got shape {t.shape}; "
                "pass gradient= with that shape"
            )
        g = constant(1, t.dtype) if t.ndim == 0 and not t._hooks else np.ones(t.shape, t.dtype)
    elif not (create_graph and isinstance(g, Tensor)):
        g = np.array(g.data if isinstance(g, Tensor) else g, t.dtype)
        if g.shape != t.shape:
            raise RuntimeError(f"backward(): gradient has shape {g.shape}, output has shape {t.shape}")
    return Tensor._make(g, False, None) if create_graph and not isinstance(g, Tensor) else g


def propagate(roots, grads, retain_graph, create_graph, targets=None, wanted=None):
    """Carry the gradients from `roots` back through the graph. Without `targets`, a leaf's share is
    added to its `.grad` as it arrives; a leaf with hooks waits for the sum of its shares (its hooks
    see the total, as in PyTorch). With `targets`, their total gradients are returned in a dict and
    no `.grad` changes, and only the tensors in `wanted` (those leading to a target) are visited.
    Nodes come out of a heap by decreasing creation time."""
    global _grad_enabled
    pending, queue, waiting = {}, [], []  # pending: tensor -> its gradient summed so far
    accumulate, push, pop = targets is None, heapq.heappush, heapq.heappop
    shares, fresh, giver = zip(roots, [True] * len(roots), grads), False, None  # the seeds are the first shares
    previous, _grad_enabled = _grad_enabled, create_graph  # backward formulas record only for create_graph
    try:
        while True:
            for x, needs, g in shares:  # x receives its share g of the gradient
                if not needs or g is None:
                    continue
                own = fresh  # whether g is a new array no one else holds
                if g.shape != x.data.shape:
                    g, own = _unbroadcast_share(g, x, giver), True
                fn = x.grad_fn
                if fn is None and accumulate and not x._hooks:  # a leaf: its share is final
                    _accumulate(x, g, own)
                elif wanted is not None and x not in wanted:  # grad(): leads to none of its inputs
                    continue
                elif x in pending:
                    pending[x] = pending[x] + g
                else:
                    pending[x] = g
                    if fn is None:
                        waiting.append(x)
                    elif fn.inputs is None:
                        raise RuntimeError(
                            "backward through a graph that was already released: call "
                            "backward(retain_graph=True) the first time to go through it twice"
                        )
                    else:
                        push(queue, (-fn.creation, x))
            if not queue:
                break
            _, node = pop(queue)
            ctx, grad = node.grad_fn, pending.pop(node)
            if node._hooks:
                grad = _run_hooks(node._hooks, grad)
            if targets is not None and node in targets:
                waiting.append(node)
                pending[node] = grad
            if versions.last_write > ctx.creation:  # something was written in place since this node was made
                versions.check_unwritten(ctx.saved_tensors, ctx.creation, _node_name(ctx))
            input_grads = _backward_on_tensors(ctx, node, grad) if create_graph else type(ctx).backward(ctx, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if checks is not None:
                checks.check_backward(ctx, grad, input_grads)
            shares, fresh, giver = zip(ctx.inputs, ctx.needs_input_grad, input_grads), ctx.fresh_gradients, ctx
            if not retain_graph:
                ctx.__dict__.clear()  # drops inputs and saved arrays: `inputs` reads None again
        found = {}
        for x in waiting:  # leaves with hooks, and targets
            total = pending.pop(x)
            if x.grad_fn is None and x._hooks:
                total = _run_hooks(x._hooks, total)
            if accumulate:
                _accumulate(x, total)
            else:
                found[x] = total if isinstance(total, Tensor) else Tensor._make(np.array(total, x.dtype), False, None)
        return found
    finally:
        _grad_enabled = previous


def _unbroadcast_share(g, x, giver):
    """A share in the broadcast shape, summed back to x's shape (a new array)."""
    try:
        return unbroadcast(g, x.data.shape)
    except ValueError as error:  # a Function's backward returned a wrong gradient
        raise RuntimeError(f"{type(giver).__name__}.backward: {error}") from None


def _backward_on_tensors(ctx, node, grad):
    """create_graph: the op's backward given Tensors, recording. Its saved inputs and output become
    those tensors; other saved arrays stay constants. A gradient that comes out constant (a mask
    times a constant, as ReLU's) still hangs on the op's inputs, with a derivative of 0: its second
    derivative is 0, not missing."""
    arrays = ctx.saved_tensors
    tensors = {id(x.data): x for x in ctx.inputs if isinstance(x, Tensor)}
    tensors[id(node.data)] = node
    ctx.saved_tensors = tuple(tensors.get(id(a), a) for a in arrays)
    try:
        input_grads = type(ctx).backward(ctx, grad if isinstance(grad, Tensor) else Tensor._make(grad, False, None))
    finally:
        ctx.saved_tensors = arrays
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    anchors = [x for x, needs in zip(ctx.inputs, ctx.needs_input_grad) if needs]
    return tuple(
        g if g is None or isinstance(g, Tensor) and g.requires_grad else _Constant.apply(g, *anchors)
        for g in input_grads
    )


class _Constant(Function):
    """`value`, recorded as depending on the anchors with a derivative of 0."""

    @staticmethod
    def forward(ctx, value, *anchors):
        ctx.anchors = [(a.shape, a.dtype) for a in anchors]
        return np.array(value)

    @staticmethod
    def backward(ctx, grad):
        return (None, *(np.zeros(shape, dtype) for shape, dtype in ctx.anchors))


def _accumulate(leaf, g, fresh=False):
    """Add a gradient into `leaf.grad`, as PyTorch does, until zeroed. The first array is kept as it
    is when it is new and no one else holds it (`fresh`), copied otherwise. A gradient in a graph
    (create_graph) becomes `.grad` itself, and what comes later is added out of place."""
    if isinstance(g, Tensor):
        if g.requires_grad or (leaf.grad is not None and leaf.grad.requires_grad):
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            return
        g = g.data
    if leaf.grad is None:
        keep = fresh and isinstance(g, np.ndarray) and g.dtype == leaf.data.dtype  # else a copy of its own:
        leaf.grad = Tensor._make(g if keep else np.asanyarray(g).astype(leaf.data.dtype), False, None)
    elif leaf.grad.requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data += g
        mark_written(leaf.grad.data)


def _run_hooks(hooks, grad):
    for hook in list(hooks.values()):
        replaced = hook(grad if isinstance(grad, Tensor) else Tensor._make(grad, False, None))
        if replaced is not None:
            grad = replaced if isinstance(grad, Tensor) else np.asarray(_data(replaced))
    return grad


# ---- Tensor -------------------------------------------------------------------------------------
class Tensor(TensorMethods):
    """An n-dimensional array that can record the ops applied to it and differentiate them.

    `Tensor(data, requires_grad=False, dtype=None)`: Python numbers and lists become float32;
    a NumPy array keeps its dtype (float64 stays float64) and its memory, which the tensor shares
    (`tensor(data)` copies it). Only floating tensors can require gradients.
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_hooks", "__weakref__")
    data: np.ndarray
    grad: Tensor | None
    requires_grad: bool
    grad_fn: Function | None
    _hooks: dict[int, Callable[[Tensor], Tensor | None]] | None
    __hash__ = object.__hash__  # == is elementwise, identity stays the hash
    _numpy_functions: dict[Any, Callable[..., Any]] = {}  # NumPy function or ufunc -> our op: filled by the op modules

    def __init__(self, data: npt.ArrayLike, requires_grad: bool = False, dtype: npt.DTypeLike | None = None) -> None:
        if type(data) is np.ndarray and dtype is None and data.dtype.kind in "biufc":
            self.data = data  # a plain array of numbers, as _as_array keeps it, without its call: 1.5 us a batch
        else:
            self.data = _as_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = self.grad_fn = self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_()

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool, grad_fn: Function | None) -> Tensor:
        # Ops create their results here: no conversion, no checks.
        t = Tensor.__new__(Tensor)
        t.data, t.requires_grad, t.grad_fn = data, requires_grad, grad_fn
        t.grad = t._hooks = None
        return t

    shape = property(attrgetter("data.shape"))  # attrgetter reads them in C, without a Python call
    ndim = property(attrgetter("data.ndim"))
    dtype = property(attrgetter("data.dtype"))
    size = property(lambda self: Size(self.data.shape))  # an int, and called the shape: t.size(), t.size(1)
    is_leaf = property(lambda self: self.grad_fn is None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "pass float data or dtype=np.float32"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data (the same memory), cut from the graph."""
        return Tensor._make(self.data, False, None)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces
        the gradient. Returns a handle whose `.remove()` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def backward(
        self, gradient: npt.ArrayLike | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad. A scalar
        needs no `gradient`; any other output one of its shape. The graph is released on the way
        back unless `retain_graph` (default: `create_graph`). With `create_graph=True` the
        gradients are tensors in a graph of their own, to be differentiated again."""
        seed = start_gradient(self, gradient, create_graph)
        propagate((self,), (seed,), create_graph if retain_graph is None else retain_graph, create_graph)


def _node_name(ctx):
    """What a graph node does: its op's name, or the `name` a fused node gives itself."""
    return getattr(ctx, "name", type(ctx).__name__)


def _data(x):
    """The array inside a tensor, or x itself; through lists and tuples (indices, np.concatenate's lists)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (tuple, list)):
        return type(x)(_data(i) for i in x)
    return x


def _as_array(data, dtype):
    if dtype is not None:
        array = np.asarray(data, dtype=dtype)
    elif isinstance(data, (np.ndarray, np.generic)):  # an array of a subclass becomes a plain one, unless it
        array = data if getattr(data, "records_numpy_calls", False) else np.asarray(data)  # records a compiled step
    else:  # Python numbers become float32, PyTorch's default dtype; bools stay bools
        array = np.asarray(data)
        array = array.astype(np.float32) if array.dtype.kind in "iuf" else array
    if array.dtype.kind not in "biufc":
        raise TypeError(f"a tensor holds numbers, got {type(data).__name__} (NumPy dtype {array.dtype})")
    return array
