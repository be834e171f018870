"""Module and Parameter: how models hold their weights, as in PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..engine import Function, Tensor
from ..helpers import RemovableHandle
from ..versions import mark_written

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11


class Parameter(Tensor):
    """A tensor that requires grad and that a Module registers when assigned as an attribute."""

    __slots__ = ()

    def __init__(self, data: npt.ArrayLike, requires_grad: bool = True, dtype: npt.DTypeLike | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base of every layer and model. Assign Parameters and Modules as attributes; they are
    found by `parameters()`, `state_dict()`, `train()`/`eval()` and `zero_grad()`."""

    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _forward_hooks: dict[int, Callable[..., Any]]
    _backward_hooks: dict[int, Callable[..., Any]]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name!r}"
            )
        registries: tuple[tuple[dict[str, Any], type], ...] = ((self._parameters, Parameter), (self._modules, Module))
        for registry, kind in registries:
            if isinstance(value, kind):
                registry[name] = value  # a replaced entry keeps its place (tying weights keeps key order)
            else:
                registry.pop(name, None)
        if name in self._buffers:  # a buffer stays one: a tensor or None replaces it
            if isinstance(value, (Parameter, Module)):
                self._buffers.pop(name)
                self._non_persistent_buffers.discard(name)
            else:
                self._buffers[name] = _buffer_value(value, name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers.discard(name)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None, persistent: bool = True) -> None:
        """Keep `tensor` (a Tensor, an array, or None) as the attribute `name`: state the module holds
        that is not a parameter (no gradient, not for the optimizer), such as BatchNorm's running
        statistics. It is converted by `to()`, listed by `buffers()` and, if `persistent`, saved in
        `state_dict` and restored by `load_state_dict`. A None buffer is skipped by all of them."""
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before register_buffer")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'buffer name can\'t be empty or contain ".", got {name!r}')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists")
        tensor = _buffer_value(Tensor(tensor) if isinstance(tensor, np.ndarray) else tensor, name)
        self._buffers[name] = tensor
        (self._non_persistent_buffers.discard if persistent else self._non_persistent_buffers.add)(name)
        object.__setattr__(self, name, tensor)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._backward_hooks:
            return _call_with_backward_hooks(self, args, kwargs)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        return out

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, inputs, output)` runs after every forward; a returned value replaces
        the output. Returns a handle whose `.remove()` unregisters it."""
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, grad_input, grad_output)` runs when backward has computed the gradients
        of the module's positional inputs (`grad_input`, None for non-tensors and inputs that need
        no grad) from the gradient of its output (`grad_output`, a 1-tuple). Only gradients that
        flow through this module count. A returned tuple replaces `grad_input`. Returns a handle."""
        return RemovableHandle(self._backward_hooks, hook)

    # ---- traversal ----------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, child) pairs; a child registered under two names comes once (as in PyTorch)."""
        seen = set()
        for name, child in self._modules.items():
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) pairs, self first, then each child's subtree in registration
        order. A module reached again by another path (`Sequential(d, d)`) comes once, under its
        first name, unless remove_duplicate=False (as in PyTorch)."""
        seen, stack = set(), [(prefix, self)]
        while stack:  # depth first, no recursion: the order of PyTorch's recursive walk
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            stack.extend(
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in reversed(module._modules.items())
            )

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs. A parameter shared by two modules comes once, under its
        first name, unless remove_duplicate=False (as in PyTorch)."""
        seen = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if not remove_duplicate or id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, None buffers left out; a shared buffer comes once unless
        remove_duplicate=False."""
        seen = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None and (not remove_duplicate or id(b) not in seen):
                    seen.add(id(b))
                    yield (f"{module_name}.{name}" if module_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients -------------------------------------------------------------------
    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call `fn(module)` on each child's subtree, then on self (children first), as PyTorch: a
        child under two names of one parent is visited once, a child of two parents under each.
        Returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def train(self, mode: bool = True) -> Self:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Self:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Set `requires_grad` on every parameter (False freezes them). Returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's gradient to None (PyTorch's default), or with set_to_none=False
        fill the existing gradients with zeros in place."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0
                mark_written(p.grad.data)

    def to(self, *args: Any, dtype: npt.DTypeLike | None = None, device: str | None = None) -> Self:
        """Convert the parameters (and their gradients) and the floating buffers to `dtype`, in
        place, as PyTorch's module.to(dtype): `model.to(np.float64)`. Integer buffers (BatchNorm's
        num_batches_tracked) stay as they are. Devices: "cpu" only. Returns self."""
        for arg in args:
            device, dtype = (arg, dtype) if isinstance(arg, str) else (device, arg)
        if device not in (None, "cpu"):
            raise ValueError(f"{type(self).__name__}.to: tinygrad_es runs on the CPU only, got device {device!r}")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, got {dtype}")
        for module in self.modules():
            for t in (*module._parameters.values(), *module._buffers.values()):
                if t is not None and t.dtype.kind == "f":  # the same objects, new arrays: optimizers still hold them
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = Tensor._make(t.grad.data.astype(dtype), False, None)
        return self

    def double(self) -> Self:
        return self.to(np.float64)

    def float(self) -> Self:
        return self.to(np.float32)

    # ---- state ---------------------------------------------------------------------------------
    def _state(self):
        """(dotted name, tensor) of every parameter and persistent buffer, module by module (each
        module's parameters, then its buffers), a shared one under each of its names, as PyTorch."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, p in module._parameters.items():
                yield prefix + name, p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, b

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name -> copy of the array of each parameter and persistent buffer, in registration order
        (PyTorch's keys: "0.weight", "1.running_mean", ...). A parameter shared by two modules is
        listed under each of its names, as PyTorch does."""
        return {name: t.data.copy() for name, t in self._state()}

    def load_state_dict(self, state_dict: Mapping[str, npt.ArrayLike], strict: bool = True) -> dict[str, list[str]]:
        """Copy arrays into the parameters and buffers. Every entry is checked and converted before
        anything changes: a missing or unexpected key (with strict=True), a shape mismatch, a dtype
        that cannot become the parameter's (strings, objects, complex into real), or two different
        values for one shared parameter raises an error that lists them all, and the model is
        left as it was. Casts within a kind are fine: float64 or int arrays into float32."""
        own = dict(self._state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        arrays: dict[str, np.ndarray] = {}
        first_name: dict[int, str] = {}  # id of a shared parameter -> its first name here
        for name, value in state_dict.items():
            if name not in own:
                continue
            p, array = own[name], np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != p.shape:
                problems.append(f"shape mismatch for {name}: checkpoint {array.shape}, model {p.shape}")
            elif not np.can_cast(array.dtype, p.dtype, "same_kind"):
                problems.append(f"dtype mismatch for {name}: checkpoint {array.dtype} cannot become {p.dtype}")
            else:
                arrays[name] = array.astype(p.dtype, copy=False)
                first = first_name.setdefault(id(p), name)
                if first != name and not np.array_equal(arrays[first], arrays[name], equal_nan=True):
                    problems.append(
                        f"{first} and {name} are one shared parameter, but the checkpoint gives them different values"
                    )
        if problems:
            raise RuntimeError(f"cannot load state_dict into {type(self).__name__}: " + "; ".join(problems))
        for name, array in arrays.items():  # in place, as PyTorch: graphs made before the load see the change
            np.copyto(own[name].data, array)
            mark_written(own[name].data)
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # ---- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _buffer_value(value: object, name: str) -> Tensor | None:
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"cannot assign a {type(value).__name__} to buffer {name!r} (a Tensor or None required)")
    return value


# ---- full backward hooks ---------------------------------------------------------------------------
# Each input that needs grad passes through a _Tap node, and every tap also feeds one shared _Gate
# node. Backward reaches the gate only after all taps (its consumers), so when the gate runs, the
# gradient of every input is known and none has moved on yet: the hooks see them all and may
# replace them. A _Tap on the output records grad_output. Nothing of this runs without hooks.
class _BackwardHookCall:
    def __init__(self, module, n_inputs, tracked):
        self.module, self.tracked = module, tracked  # tracked: positions of the inputs that need grad
        self.grad_input, self.grad_output = [None] * n_inputs, None

    def run_hooks(self):
        # under create_graph the gradients are tensors in a graph: the hooks get them, and what they return, as they are
        recording = isinstance(self.grad_output, Tensor)
        grad_input = tuple(None if g is None else _as_tensor(g) for g in self.grad_input)
        grad_output = (_as_tensor(self.grad_output),)
        for hook in list(self.module._backward_hooks.values()):
            replaced = hook(self.module, grad_input, grad_output)
            if replaced is not None:
                if len(replaced) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__} returned {len(replaced)} gradients, "
                        f"expected {len(grad_input)} (one per positional input)"
                    )
                grad_input = tuple(
                    None if g is None else g if recording and isinstance(g, Tensor) else Tensor(g) for g in replaced
                )
        return tuple(
            None if grad_input[i] is None else grad_input[i] if recording else grad_input[i].data for i in self.tracked
        )


def _as_tensor(g):
    return g if isinstance(g, Tensor) else Tensor._make(g, False, None)


class _Gate(Function):
    @staticmethod
    def forward(ctx, *arrays, call):
        ctx.call = call
        return np.zeros((), arrays[0].dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.call.run_hooks()


class _Tap(Function):
    """Identity on x; backward records the gradient at position `index` (None: the output)."""

    @staticmethod
    def forward(ctx, x, gate, call, index):
        ctx.call, ctx.index = call, index
        return x

    @staticmethod
    def backward(ctx, grad):
        call = ctx.call
        if ctx.index is not None:
            call.grad_input[ctx.index] = grad
            return None, np.zeros((), grad.dtype)  # the gradient moves on through the gate
        call.grad_output = grad
        if not call.tracked:  # no input needs grad, so there is no gate: fire here
            call.run_hooks()
        return grad


def _call_with_backward_hooks(module, args, kwargs):
    tracked = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
    call = _BackwardHookCall(module, len(args), tracked)
    tapped = list(args)
    if tracked:
        gate = _Gate.apply(*[args[i] for i in tracked], call=call)
        for i in tracked:
            tapped[i] = _Tap.apply(args[i], gate, call, i)
    out = module.forward(*tapped, **kwargs)
    for hook in list(module._forward_hooks.values()):
        replaced = hook(module, args, out)
        if replaced is not None:
            out = replaced
    if not (isinstance(out, Tensor) and out.requires_grad):
        return out
    return _Tap.apply(out, None, call, None)
