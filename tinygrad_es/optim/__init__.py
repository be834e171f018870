"""Optimizers with PyTorch's update rules: SGD, Adam, AdamW, RMSprop, Adagrad.

Each takes the parameters (or a list of parameter groups: dicts with "params" and per-group
options), updates `p.data` in place in `step()` and skips parameters whose grad is None.
Gradients are read, never written: two parameters' gradients may share memory. Options are
checked when a group is added, as PyTorch checks them (a TypeError for a value that is not a
number, a ValueError for one out of range), so that a bad one fails there and not in `step()`.

`register_step_pre_hook(hook)` and `register_step_post_hook(hook)` run `hook(optimizer, args,
kwargs)` before and after every `step()`, for every optimizer, as in PyTorch.

A compiled step (tinygrad_es.compile) replays a step's array work without running its Python. So
what a step works out in Python and changes from call to call (the step count t and what depends on
it, the learning rate a scheduler sets) reaches the arrays only through the small functions below
marked "replayed", which a replay calls again. The options named in `read_at_replay` are read only
there; a compiled step checks that the other options keep their values.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..engine import Tensor
from ..helpers import RemovableHandle, constant, replayed
from ..versions import mark_written, mark_written_again
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR  # noqa: F401  (optim.StepLR, ...)

# What an optimizer takes: the parameters, or parameter groups (dicts with "params" and options of their own)
Params = Iterable[Tensor] | Iterable[dict[str, Any]]

# The options that must be numbers >= 0 (and finite) wherever an optimizer has them.
_NON_NEGATIVE = ("lr", "momentum", "weight_decay", "eps", "lr_decay", "initial_accumulator_value")


def _copy(state):
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


def _number(owner, name, value):
    """`value` as a float if it is a real number (a 0-d numeric array counts); else a TypeError."""
    is_array_number = isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"
    if not (isinstance(value, numbers.Real) or is_array_number):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return float(value)


def _check_options(owner, group):
    """Refuse a group's option that `step()` could not use (see the module docstring)."""
    for name in _NON_NEGATIVE:
        if name in group and not 0 <= _number(owner, name, group[name]) < math.inf:
            raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {group[name]}")
    if "alpha" in group and not 0 <= _number(owner, "alpha", group["alpha"]) <= 1:  # a running average's decay
        raise ValueError(f"{owner}: alpha must be in [0, 1], got {group['alpha']}")
    if "betas" in group:
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair of numbers, got {betas!r}")
        for index, beta in enumerate(betas):  # beta = 1 would divide by 1 - beta^t = 0
            if not 0 <= _number(owner, f"betas[{index}]", beta) < 1:
                raise ValueError(f"{owner}: betas[{index}] must be in [0, 1), got {beta}")


def _with_step_hooks(step):
    """`step` run between the optimizer's pre- and post-hooks. Without hooks it costs one call and
    two lookups (0.1 us); a subclass's step calling super().step() runs the hooks once, not twice."""

    @functools.wraps(step)
    def step_with_hooks(self, *args, **kwargs):
        if not (self._step_pre_hooks or self._step_post_hooks) or self._in_hooked_step:
            # step(self, *args, **kwargs) with nothing in them would cost 0.1 us more
            return step(self, *args, **kwargs) if args or kwargs else step(self)
        self._in_hooked_step = True
        try:
            for hook in list(self._step_pre_hooks.values()):
                replaced = hook(self, args, kwargs)
                if replaced is not None:  # as in PyTorch, a pre-hook may return new (args, kwargs)
                    args, kwargs = replaced
            result = step(self, *args, **kwargs)
            for hook in list(self._step_post_hooks.values()):
                hook(self, args, kwargs)
        finally:
            self._in_hooked_step = False
        return result

    return step_with_hooks


# ---- the numbers a step works out in Python, replayed -------------------------------------------
def learning_rate(group, dtype):
    """The group's learning rate as a read-only 0-d array of `dtype`: NumPy combines it with an array
    of that dtype faster than a Python number (2.5 us less per digits step). Replayed."""
    return replayed(learning_rate, (group, dtype), constant(float(group["lr"]), dtype))


def _count_step(state):
    """state["step"] += 1. Replayed."""
    state["step"] += 1
    return replayed(_count_step, (state,), None)


def _adam_scalars(group, state, dtype):
    """Count the step t; lr / (1 - beta1^t) and sqrt(1 - beta2^t) as scalars of `dtype`: the values a
    Python number takes when NumPy combines it with an array of that dtype. Replayed."""
    state["step"] += 1
    beta1, beta2 = group["betas"]
    scalars = _bias_corrected(float(group["lr"]), float(beta1), float(beta2), state["step"], dtype)
    return replayed(_adam_scalars, (group, state, dtype), scalars)


@functools.lru_cache(maxsize=64)
def _bias_corrected(lr, beta1, beta2, t, dtype):
    """Made once per step for all of a group's parameters (they share t): a NumPy scalar costs 0.25 us."""
    return dtype.type(lr / (1 - beta1**t)), dtype.type(math.sqrt(1 - beta2**t))


def _decoupled_decay(group, dtype):
    """AdamW's factor on the weights, 1 - lr * weight_decay, as a scalar of `dtype`. Replayed."""
    return replayed(_decoupled_decay, (group, dtype), _scalar(1 - group["lr"] * group["weight_decay"], dtype))


@functools.lru_cache(maxsize=64)
def _scalar(value, dtype):
    return dtype.type(value)


def _adagrad_lr(group, state, dtype):
    """Count the step t; lr / (1 + (t - 1) lr_decay) as a scalar of `dtype`. Replayed."""
    state["step"] += 1
    lr = dtype.type(group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"]))
    return replayed(_adagrad_lr, (group, state, dtype), lr)


class Optimizer:
    read_at_replay: tuple[str, ...] = ()  # options step() reads only through the replayed functions above ("lr")
    _step_pre_hooks: dict[int, Callable[..., Any]]
    _step_post_hooks: dict[int, Callable[..., Any]]
    _last_writes: tuple[list[np.ndarray], tuple[int, ...]]

    def __init_subclass__(cls, **kwargs):
        """Every subclass's own `step` gets the step hooks around it: no subclass calls them itself."""
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}  # parameter -> its buffers (momentum, moments, step count)
        self.param_groups: list[dict[str, Any]] = []
        self._step_pre_hooks, self._step_post_hooks, self._in_hooked_step = {}, {}, False
        self._last_writes = [], ()  # the arrays the last step wrote, and their keys (mark_written_again)
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name} takes an iterable of parameters, e.g. model.parameters() or [w], not a single tensor"
            )
        entries: list[Any] = list(params)  # the parameters, or the groups
        if not entries:
            raise ValueError(f"{name} got an empty parameter list")
        groups = entries if isinstance(entries[0], dict) else [{"params": entries}]
        for group in groups:
            if not isinstance(group, dict):
                raise TypeError(f"{name}: give either parameters or parameter groups (dicts), not both")
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        params = group["params"]
        group = {**self.defaults, **group, "params": [params] if isinstance(params, Tensor) else list(params)}
        _check_options(name, group)
        in_other_groups, in_this_group = {id(p) for g in self.param_groups for p in g["params"]}, set()
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:  # its .data is recomputed from the graph: an update to it is lost
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
            if id(p) in in_other_groups:
                raise ValueError(f"{name}: a parameter appears in more than one group")
            if id(p) in in_this_group:
                raise ValueError(f"{name}: a parameter appears twice in one group (step would update it twice)")
            in_this_group.add(id(p))
        self.param_groups.append(group)

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` before every `step()`; it may return new (args, kwargs)."""
        return RemovableHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` after every `step()`."""
        return RemovableHandle(self._step_post_hooks, hook)

    def zero_grad(self) -> None:
        """Set every gradient to None (PyTorch's default): the next backward allocates fresh ones."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: array or number}}, "param_groups": [options with "params" as indices]},
        indices counting the parameters through the groups in order (as PyTorch)."""
        index: dict[int, int] = {}  # id of a parameter -> its index
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**group, "params": ids})
        state = {index[id(p)]: _copy(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the saved groups hold "
                f"{[len(g['params']) for g in groups]} parameters, this optimizer's "
                f"{[len(g['params']) for g in self.param_groups]}"
            )
        params = [p for g in self.param_groups for p in g["params"]]
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {params[int(i)]: _copy(s) for i, s in state_dict["state"].items()}

    def _with_grads(self, group):
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.data

    def _decay(self, p, g, group):
        """Weight decay as L2: g + wd p (a new array: gradients are never written)."""
        return g + group["weight_decay"] * p.data


class SGD(Optimizer):
    """p -= lr * g, with optional weight decay (g += wd p), momentum (b = m b + (1 - dampening) g; the
    first step b = g) and Nesterov (g + m b instead of b)."""

    read_at_replay = ("lr",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        written = []
        for group in self.param_groups:
            lr, momentum, weight_decay = None, group["momentum"], group["weight_decay"]
            for p in group["params"]:  # the loop of _with_grads written out: in a small network's
                if p.grad is None:  # training step the generator costs about 1.5 us
                    continue
                g = p.grad.data
                if weight_decay:
                    g = self._decay(p, g, group)
                if momentum:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, p.dtype)
                    else:
                        buf *= momentum
                        buf += (1 - group["dampening"]) * g
                    g = g + momentum * buf if group["nesterov"] else buf
                if lr is None or lr.dtype != g.dtype:  # the same array for the group's parameters of one dtype
                    lr = learning_rate(group, g.dtype)
                p.data -= lr * g
                written.append(p.data)
        self._last_writes = mark_written_again(written, self._last_writes)


class Adam(Optimizer):
    """m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps).
    weight_decay adds wd p to g (L2); AdamW decays the weights directly instead."""

    read_at_replay = ("lr",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    def step(self) -> None:
        for group in self.param_groups:
            (beta1, beta2), eps = group["betas"], group["eps"]
            for p, g in self._with_grads(group):
                if group["weight_decay"]:
                    g = self._decay(p, g, group)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {
                        "step": 0,
                        "exp_avg": np.zeros_like(p.data),
                        "exp_avg_sq": np.zeros_like(p.data),
                    }
                step_size, bias_root = _adam_scalars(group, state, g.dtype)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                denom = np.sqrt(v)
                denom /= bias_root
                denom += eps
                p.data -= step_size * m / denom
                mark_written(p.data)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr wd before the Adam step (default wd = 0.01)."""

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, p, g, group):
        p.data *= _decoupled_decay(group, p.dtype)
        mark_written(p.data)
        return g


class RMSprop(Optimizer):
    """v = alpha v + (1-alpha) g^2; p -= lr g / (sqrt(v) + eps). `centered` subtracts the square of the
    running mean of g from v; `momentum` keeps b = m b + g / (sqrt(v) + eps) and steps by lr b."""

    read_at_replay = ("lr",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        for group in self.param_groups:
            alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
            for p, g in self._with_grads(group):
                if group["weight_decay"]:
                    g = self._decay(p, g, group)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                    if momentum:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = np.zeros_like(p.data)
                _count_step(state)
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    mean = state["grad_avg"]
                    mean *= alpha
                    mean += (1 - alpha) * g
                    avg = np.sqrt(v - mean * mean)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p.data -= learning_rate(group, buf.dtype) * buf
                else:
                    p.data -= learning_rate(group, g.dtype) * g / avg
                mark_written(p.data)


class Adagrad(Optimizer):
    """s += g^2; p -= lr_t g / (sqrt(s) + eps), lr_t = lr / (1 + (t-1) lr_decay)."""

    read_at_replay = ("lr",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        for group in self.param_groups:
            for p, g in self._with_grads(group):
                if group["weight_decay"]:
                    g = self._decay(p, g, group)
                state = self.state.get(p)
                if state is None:
                    accumulator = np.full_like(p.data, group["initial_accumulator_value"])
                    state = self.state[p] = {"step": 0, "sum": accumulator}
                lr = _adagrad_lr(group, state, g.dtype)
                s = state["sum"]
                s += g * g
                denom = np.sqrt(s)
                denom += group["eps"]
                p.data -= lr * g / denom
                mark_written(p.data)
