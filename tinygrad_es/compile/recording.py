"""Recording one eager call of a step at the level of NumPy calls (see the package docstring).

`Traced` is an ndarray subclass: every NumPy call that involves one (ufuncs, their methods, NumPy
functions, and the ndarray methods it overrides) computes its real result on plain views and, while a
`Recording` is active, appends an `Op` to it. `Recording` also swaps the arrays the step reads from
outside (arguments, parameters, gradients, optimizer buffers) for Traced views, watches which modules,
leaves and optimizers the step uses, and notes what the step leaves behind (gradients, returned values).
"""

import os
import sys

import numpy as np

from .. import engine, helpers
from ..engine import Function, Tensor
from ..nn.module import Module
from ..optim import Optimizer


class CaptureError(RuntimeError):
    """A step that `tinygrad_es.compile` cannot replay bitwise as eager code would run it; the message
    says why and what to do. `compile(fn, fallback=True)` runs such a step eagerly instead."""


class Ref:
    """In an op's arguments: the array of value `index` (see `Value`)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"v{self.index}"


class Const:
    """In an op's arguments: an object used as it is (a plain array, a generator, a dict...)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __repr__(self):
        return f"Const({type(self.obj).__name__})"


class Value:
    """An array the step reads or makes. kind: "arg" (from the call's arguments), "grad" (a leaf's
    .grad at the start of the call), "state" (an array that lives on and is read by identity: a
    parameter, an optimizer's buffer), "result" (a new array made by `op`), "view" (a view made by
    `op`), "replayed" (returned by a replayed call), "constant" (backward's starting gradient: made
    anew by each call with the same contents, kept in `source`)."""

    __slots__ = ("index", "array", "kind", "source", "op")

    def __init__(self, index, array, kind, source=None, op=None):
        self.index, self.array, self.kind, self.source, self.op = index, array, kind, source, op


class Op:
    """One recorded call. kind: "ufunc" (fn = (ufunc, method)), "function" (a NumPy function),
    "method" (fn = the ndarray method's name; args[0] is the array), "replayed" (a Python function
    called again at each replay), "read" (a value read into Python: a guard, `expected` is what was read),
    and "code" (lines a program's pass wrote in place of calls: fn; args, what they read)."""

    __slots__ = ("kind", "fn", "args", "kwargs", "out", "results", "writes", "place", "expected", "errstate")

    def __init__(self, kind, fn, args, kwargs=None, out=None, writes=(), place=None, errstate=None):
        self.kind, self.fn, self.args, self.kwargs, self.out = kind, fn, args, kwargs or {}, out
        self.results, self.writes, self.place, self.expected = [], writes, place, None
        self.errstate = errstate  # np.geterr() when it was not the call's (a @silent op): replayed under it too

    @property
    def where(self):
        return _describe(self.place)

    @property
    def name(self):
        if self.kind == "ufunc":
            ufunc, method = self.fn
            return f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if self.kind == "method":
            return f"ndarray.{self.fn}"
        return getattr(self.fn, "__qualname__", str(self.fn))


# ---- the recording array ----------------------------------------------------------------------------
_active = None  # the Recording being made; Traced arrays outside one behave as plain arrays

_METADATA = {
    np.shape,
    np.ndim,
    np.size,
    np.result_type,
    np.may_share_memory,
    np.shares_memory,
    np.iscomplexobj,
    np.isrealobj,
    np.can_cast,
    np.min_scalar_type,
}
_WRITERS = {
    np.copyto: "dst",
    np.put_along_axis: "arr",
    np.put: "a",
    np.putmask: "a",
    np.place: "arr",
    np.fill_diagonal: "a",
}  # functions that write into an argument (its name)
_METHODS = (
    "reshape",
    "ravel",
    "view",
    "transpose",
    "swapaxes",
    "squeeze",
    "flatten",
    "copy",
    "astype",
    "dot",
    "take",
    "argmax",
    "argmin",
    "repeat",
    "diagonal",
    "compress",
    "nonzero",
    "argsort",
    "searchsorted",
    "round",
    "cumsum",
    "cumprod",
    "conj",
    "__copy__",
    "__getitem__",
)
_WRITING_METHODS = ("fill", "sort", "put", "partition", "__setitem__")
_READS = (
    "item",
    "tolist",
    "__bool__",
    "__float__",
    "__int__",
    "__index__",
    "__complex__",
    "tobytes",
    "__repr__",
    "__str__",
    "__format__",
    "__contains__",
    "__reduce__",
    "__reduce_ex__",
    "__deepcopy__",
)


def _plain(x):
    """x with each Traced array in it seen as a plain ndarray (a container is rebuilt only if it holds one)."""
    if isinstance(x, Traced):
        return np.ndarray.view(x, np.ndarray)
    kind = type(x)
    if kind is tuple or kind is list:
        items = [_plain(i) for i in x]
        return kind(items) if any(a is not b for a, b in zip(items, x)) else x
    if kind is dict:
        return {k: _plain(v) for k, v in x.items()}
    return x


def _method(name, writes=False):
    plain_method = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        result = plain_method(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs))
        if _active is None:
            return result
        return _active.method(name, self, args, kwargs, result, writes)

    method.__name__ = name
    return method


def _read(name):
    plain_method = getattr(np.ndarray, name)

    def read(self, *args):
        result = plain_method(np.ndarray.view(self, np.ndarray), *args)
        return result if _active is None else _active.read(name, self, args, result)

    read.__name__ = name
    return read


class Traced(np.ndarray):
    """An array of a step being recorded: NumPy calls on it are recorded (see the module docstring)."""

    _value = None  # the index of its Value in the active recording (None: made by a call the recording missed)
    records_numpy_calls = True  # Tensor(traced) keeps it (engine._as_array)
    # ndarray.dot(plain, traced) picks its result's class by this: a Traced, whose later use is refused,
    # rather than a plain array that would pass for a constant
    __array_priority__ = 1.0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain_kwargs = kwargs
        if "out" in kwargs:
            plain_kwargs = {**kwargs, "out": _plain(kwargs["out"])}
        if _active is not None:  # a plain array about to be written: seen first as it is now
            _active.template(kwargs.get("out", inputs[:1] if method == "at" else ()))
        result = getattr(ufunc, method)(*_plain(inputs), **plain_kwargs)
        return result if _active is None else _active.ufunc(ufunc, method, inputs, kwargs, result)

    def __array_function__(self, func, types, args, kwargs):
        if _active is not None and func in _WRITERS:  # as in __array_ufunc__
            _active.template(args[:1] or kwargs.get(_WRITERS[func]))
        result = func(*_plain(args), **_plain(kwargs))
        return result if _active is None else _active.function(func, args, kwargs, result)

    @property
    def T(self):
        return self.transpose()

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    for _name in _METHODS:
        locals()[_name] = _method(_name)
    for _name in _WRITING_METHODS:
        locals()[_name] = _method(_name, writes=True)
    for _name in _READS:
        locals()[_name] = _read(_name)
    del _name


_SNAPSHOT_SIZE = 1 << 20  # plain arrays up to this size are compared by contents between two calls


def _memory_key(array):
    return array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str


_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)
_SKIPPED = (_HERE, os.path.dirname(np.__file__), "<__array_function__")


def _where():
    """Where the current NumPy call was made: ((file, line) of the first frame outside NumPy and this
    package, (file, line) of the first frame outside tinygrad_es), for `_describe`."""
    frame, inner = sys._getframe(2), None
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_SKIPPED):
            inner = inner or (path, frame.f_lineno)
            if not path.startswith(_PACKAGE):
                return inner, (path, frame.f_lineno)
        frame = frame.f_back
    return inner, None


def _describe(place):
    """'file:line', or 'file:line (from file:line)' when the call was made inside tinygrad_es."""

    def name(path, line):
        inside = path.startswith(os.getcwd()) and not path.startswith("<")
        return f"{os.path.relpath(path) if inside else path}:{line}"

    inner, outer = place or (None, None)
    if inner is None:
        return "?"
    return name(*inner) if outer is None or outer == inner else f"{name(*inner)} (from {name(*outer)})"


# ---- the recording ----------------------------------------------------------------------------------
class Recording:
    """One eager call of a step, recorded. See the package docstring for what is recorded and why."""

    def __init__(self):
        self.refusal = None
        self.values, self.ops = [], []
        self.memory = {}  # memory key -> index of the latest value with that memory and layout
        self.args = []  # the values read from the call's arguments, in order
        self.modules, self.leaves, self.optimizers = {}, {}, {}  # id -> object, in order of first use
        self.leaf_grads = {}  # id(leaf) -> the .grad Tensor it had at the start (or None)
        self.restore = []  # (object, attribute or key, its array, the Traced put in its place)
        self.state_python = {}  # id(optimizer) -> {id(param): its state's Python values} before step()
        self.replayed_dicts = set()  # ids of the dicts given to replayed calls (they may change them)
        self.warmup = False  # the call created optimizer state: what it did is not what later calls do
        self.guards = []  # what the replay checks first: (kind, object, what it was when the step met it...)
        self.initial = {}  # id -> (a plain array, a copy as the step first used it) (see program.difference)
        self.all_options = {}  # id(optimizer) -> its options, those read at replay too, when the call met it
        self.created = {}  # id -> the modules and tensors the step makes: made again by every call, not guarded
        self.returns = None

    # ---- refusing ----
    def refuse(self, reason):
        """Stop recording: the rest of the call runs eagerly, and the caller raises CaptureError (or, with
        fallback, warns) once the call has ended; an exception of the step itself goes first."""
        global _active
        if self.refusal is None:
            self.refusal = reason
        _active = helpers.recording = None

    # ---- values ----
    def track(self, array, kind, source=None, op=None):
        """A Traced view of `array` as a new value (array itself if it is a Traced not yet tracked)."""
        traced = array if type(array) is Traced and array._value is None else np.ndarray.view(array, Traced)
        value = Value(len(self.values), traced, kind, source, op)
        self.values.append(value)
        traced._value = value.index
        self.memory[_memory_key(traced)] = value.index
        if op is not None:
            op.results.append(value.index)
        return traced

    def _index(self, traced):
        index = traced._value
        if index is None:
            index = self.memory.get(_memory_key(traced))
        if index is None:
            self.refuse(
                f"an array made by a NumPy call that the recording did not see is used at "
                f"{_describe(_where())}; compute it with NumPy functions, ufuncs or ndarray methods on the "
                "step's arrays"
            )
        return index

    def template(self, x):
        """x as an op's argument: Ref for the arrays of values, Const for other arrays and objects,
        Python scalars, strings and slices as they are, containers rebuilt."""
        if isinstance(x, Traced):
            return Ref(self._index(x))
        if isinstance(x, np.ndarray):
            index = self.memory.get(_memory_key(x))  # a plain view of a value: np.asarray(traced)
            if index is not None:
                return Ref(index)
            if id(x) not in self.initial and x.size <= _SNAPSHOT_SIZE:
                self.initial[id(x)] = x, x.copy()  # x itself too: its id cannot go to another array meanwhile
            return Const(x)
        kind = type(x)
        if kind is tuple or kind is list:
            return kind(self.template(i) for i in x)
        if kind is dict:
            return {k: self.template(v) for k, v in x.items()}
        if (
            x is None
            or x is Ellipsis
            or kind in (bool, int, float, complex, str, slice, np.dtype)
            or isinstance(x, np.generic)
        ):
            return x
        return Const(x)

    def _results(self, op, result, inputs):
        """The Traced arrays of `result` (an array, a NumPy scalar or a tuple of them) as new values."""
        if isinstance(result, tuple):
            return tuple(self._results(op, r, inputs) for r in result)
        if not isinstance(result, (np.ndarray, np.generic)):
            return result
        array = np.asarray(result)
        view = any(np.may_share_memory(array, source) for source in inputs)
        return self.track(array, "view" if view else "result", op=op)

    def _op(self, kind, fn, args, kwargs, out=None, writes=()):
        errstate = np.geterr()
        op = Op(
            kind,
            fn,
            self.template(args),
            self.template(kwargs),
            out,
            writes,
            _where(),
            None if errstate == self.errstate else tuple(sorted(errstate.items())),
        )
        self.ops.append(op)
        return op

    @staticmethod
    def _arrays(x, found):
        if isinstance(x, np.ndarray):
            found.append(np.ndarray.view(x, np.ndarray))
        elif type(x) in (tuple, list):
            for i in x:
                Recording._arrays(i, found)
        elif type(x) is dict:
            for i in x.values():
                Recording._arrays(i, found)
        return found

    # ---- what Traced reports ----
    def ufunc(self, ufunc, method, inputs, kwargs, result):
        kwargs = dict(kwargs)
        out = kwargs.pop("out", None)
        if method == "at":
            self._op("ufunc", (ufunc, method), inputs, kwargs, writes=(self.template(inputs[0]),))
            return result
        if out is not None:
            targets = self.template(tuple(out))
            self._op("ufunc", (ufunc, method), inputs, kwargs, out=targets, writes=targets)
            return out[0] if len(out) == 1 else tuple(out)
        op = self._op("ufunc", (ufunc, method), inputs, kwargs)
        return self._results(op, result, self._arrays(inputs, []))

    def function(self, func, args, kwargs, result):
        if func in _METADATA:
            return result
        target = _WRITERS.get(func)
        writes = () if target is None else (self.template(args[0] if args else kwargs[target]),)
        op = self._op("function", func, args, kwargs, writes=writes)
        if not isinstance(result, (np.ndarray, np.generic, tuple)) and result is not None:
            return self.read(func.__name__, None, (), result, op)
        return self._results(op, result, self._arrays((args, kwargs), []))

    def method(self, name, array, args, kwargs, result, writes):
        op = self._op("method", name, (array, *args), kwargs, writes=(Ref(self._index(array)),) if writes else ())
        if writes:
            return result
        return self._results(op, result, [np.ndarray.view(array, np.ndarray)] + self._arrays((args, kwargs), []))

    def read(self, name, array, args, result, op=None):
        """A value read into Python. Bools and integers of integer or bool arrays become guards (the
        replay computes them again before anything else and records anew when one differs); anything
        else is refused, as its value could not follow the replay."""
        whole = array is None or array.dtype.kind in "biu"
        if not (isinstance(result, (bool, np.bool_)) or isinstance(result, (int, np.integer)) and whole):
            what = (
                "prints an array"
                if name in ("__repr__", "__str__", "__format__")
                else f"reads an array's values into Python ({name})"
            )
            self.refuse(
                f"the step {what} at {_describe(_where())}: a replay runs no Python, so nothing could follow "
                "its value; return it from the step and use it after the call"
            )
            return result
        if op is None:
            op = self._op("method", name, (array, *args), {})
        op.kind, op.expected = "read", result
        return result

    def replayed(self, fn, args, result):
        for a in args:
            if type(a) is dict:
                self.replayed_dicts.add(id(a))
        op = Op(
            "replayed",
            fn,
            tuple(Const(a) if type(a) in (dict, list) else self.template(a) for a in args),
            place=_where(),
        )  # the dicts and lists themselves: the replay reads what they hold then
        self.ops.append(op)
        op.expected = isinstance(result, tuple)  # how the replay unpacks it
        if isinstance(result, tuple):
            return tuple(self.track(np.asarray(r), "replayed", op=op) for r in result)
        if result is None:
            return None
        return self.track(np.asarray(result), "replayed", op=op)

    # ---- what the step reads from outside ----
    def take_argument(self, x):
        """The argument as the step sees it while recorded: arrays as Traced, Tensors' data swapped."""
        if isinstance(x, Tensor):
            if x.requires_grad:
                self.refuse(
                    "a tensor that requires grad is given to the compiled step as an argument: use it "
                    "from inside the step (as a model's parameters are) instead"
                )
            if _active is not self:
                return x
            self.swap(x, "data", self.track(x.data, "arg", source=len(self.args)))
            self.args.append(x.data._value)
            return x
        if isinstance(x, np.ndarray):
            traced = self.track(x, "arg", source=len(self.args))
            self.args.append(traced._value)
            return traced
        if type(x) in (tuple, list):
            return type(x)(self.take_argument(i) for i in x)
        if type(x) is dict:
            return {k: self.take_argument(v) for k, v in x.items()}
        return x

    def see_leaf(self, t):
        """A tensor that requires grad and was made outside the step (a parameter): its array is read
        by identity, its gradient at the start of the call is an input, what it ends with is set at replay."""
        if (
            id(t) in self.leaves
            or not (t.requires_grad and t.grad_fn is None)
            or type(t.data) is Traced
            or id(t) in self.created
        ):
            return
        if t._hooks:
            self.refuse(
                "a tensor used by the step has a gradient hook (register_hook): a replay would not run "
                "it; remove the hook, or do not compile the step"
            )
        self.leaves[id(t)] = t
        self.guards.append(("leaf", t, t.data, t.grad is not None))
        self.swap(t, "data", self.track(t.data, "state", source=(t, "data")))
        self.leaf_grads[id(t)] = t.grad
        if t.grad is not None and not t.grad.requires_grad:
            self.swap(t.grad, "data", self.track(t.grad.data, "grad", source=t))

    def see_module(self, module):
        for m in module.modules():
            if id(m) in self.modules:
                continue
            if m._forward_hooks or m._backward_hooks:
                self.refuse(
                    f"{type(m).__name__} has a forward or backward hook: a replay would not run it; remove "
                    "the hook (Diagnostics adds some), or do not compile the step"
                )
            if id(m) in self.created:
                continue
            self.modules[id(m)] = m
            self.guards.append(("module", m, m.training, tuple(m._parameters.items()), tuple(m._modules.items())))

    def see_optimizer(self, optimizer):
        if id(optimizer) not in self.optimizers:
            if optimizer._step_pre_hooks or optimizer._step_post_hooks:
                self.refuse(
                    f"{type(optimizer).__name__} has step hooks: a replay would not run them; remove them "
                    "(Diagnostics adds one), or do not compile the step"
                )
            self.optimizers[id(optimizer)] = optimizer
            self.guards.append(("optimizer", optimizer, _options(optimizer), optimizer.state, len(optimizer.state)))
            self.all_options[id(optimizer)] = _options(optimizer, every=True)
            for group in optimizer.param_groups:
                for p in group["params"]:
                    self.see_leaf(p)
            for p, state in optimizer.state.items():
                for key, value in state.items():
                    if type(value) is np.ndarray:
                        self.swap(state, key, self.track(value, "state", source=(state, key)))
        self.state_python[id(optimizer)] = _python_state(optimizer)

    def saw_step(self, optimizer):
        """After step(): the optimizer's Python state may change only inside replayed calls, and new
        state means a first step (a warm-up, not what later calls do)."""
        before, after = self.state_python[id(optimizer)], _python_state(optimizer)
        if before.keys() != after.keys() or any(before[k].keys() != after[k].keys() for k in before):
            self.warmup = True
            return
        for p_id, values in after.items():
            changed = [k for k, v in values.items() if v != before[p_id][k]]
            state = next(s for p, s in optimizer.state.items() if id(p) == p_id)
            if changed and id(state) not in self.replayed_dicts:
                self.refuse(
                    f"{type(optimizer).__name__}.step changes state {changed} (Python numbers) outside the "
                    "functions a replay calls again (see tinygrad_es.optim): a replay would leave them as "
                    "they are; compute them in such a function"
                )

    # ---- installing and finishing ----
    def swap(self, owner, key, traced):
        """Put `traced` in place of owner's array (an attribute, or a key of a dict) until the end."""
        if isinstance(owner, dict):
            self.restore.append((owner, key, owner[key], traced))
            owner[key] = traced
        else:
            self.restore.append((owner, key, getattr(owner, key), traced))
            setattr(owner, key, traced)

    def __enter__(self):
        global _active
        self.errstate = np.geterr()  # the caller's floating-point error handling
        _active = helpers.recording = self
        self._patches = _install(self)
        return self

    def __exit__(self, *exc_info):
        """Put back the patched classes and the swapped arrays (where the step left them); arrays a
        first step stored in optimizer state stay, plain."""
        global _active
        _active = helpers.recording = None
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        for owner, key, original, traced in reversed(self.restore):
            if isinstance(owner, dict):
                if owner.get(key) is traced:
                    owner[key] = original
            elif getattr(owner, key) is traced:
                setattr(owner, key, original)
        for optimizer in self.optimizers.values():
            for state in optimizer.state.values():
                for key, value in state.items():
                    if type(value) is Traced:
                        state[key] = np.ndarray.view(value, np.ndarray)

    def finish(self, out):
        """What the step leaves behind: each leaf's gradient and the returned values; returns `out`
        with plain arrays, for the caller of this eager call."""
        self.bindings = []
        for leaf in self.leaves.values():
            grad, before = leaf.grad, self.leaf_grads[id(leaf)]
            if grad is None or grad is before:
                self.bindings.append((leaf, "none" if grad is None else "same", None))
            elif type(grad.data) is Traced and not grad.requires_grad:
                self.bindings.append((leaf, "value", self.template(grad.data)))
                grad.data = np.ndarray.view(grad.data, np.ndarray)
            else:
                self.refuse("a gradient the step leaves on a parameter was not computed by the recorded calls")
        for m in self.modules.values():
            kept = [
                name
                for name, value in vars(m).items()
                if type(value) is Traced
                or isinstance(value, Tensor)
                and id(value) not in self.leaves
                and type(value.data) is Traced
            ]
            if kept:
                self.refuse(
                    f"{type(m).__name__} keeps an array the step made in .{kept[0]}: a replay would not update "
                    "it; return the value from the step instead"
                )
        for entry in self.guards:
            kind, obj = entry[:2]
            if kind == "module" and obj.training != entry[2]:
                self.refuse(
                    f"the step switches {type(obj).__name__} between train() and eval(): a replay would not; "
                    "switch modes outside the compiled step"
                )
            if kind == "optimizer" and not _same_options(_options(obj, every=True), self.all_options[id(obj)]):
                self.refuse(
                    f"the step changes {type(obj).__name__}'s param groups or options (a scheduler's step()?): "
                    "a replay would not; do it outside the compiled step"
                )
        self.returns = self._returned(out)
        return _plain_out(out)

    def state_key(self):
        """A hashable summary of the guards: recordings of one signature are compared only when it agrees."""
        return tuple(_hashable(entry) for entry in self.guards)

    def _returned(self, x):
        if isinstance(x, Tensor):
            if x.requires_grad and x.grad_fn is not None and x.grad_fn.inputs is not None:
                self.refuse(
                    "the step returns a tensor whose graph backward has not gone through: a replay returns "
                    "values without a graph; call backward() inside the step, or use detach()"
                )
            if id(x) in self.leaves:
                return Const(x)
            return ("tensor", self.template(x.data))
        if isinstance(x, np.ndarray):
            return ("array", self.template(x))
        if type(x) in (tuple, list):
            return type(x)(self._returned(i) for i in x)
        if type(x) is dict:
            return {k: self._returned(v) for k, v in x.items()}
        return self.template(x)


def _plain_out(x):
    if isinstance(x, Tensor):
        if type(x.data) is Traced:
            x.data = np.ndarray.view(x.data, np.ndarray)
        return x
    if isinstance(x, Traced):
        return np.ndarray.view(x, np.ndarray)
    if type(x) in (tuple, list):
        return type(x)(_plain_out(i) for i in x)
    if type(x) is dict:
        return {k: _plain_out(v) for k, v in x.items()}
    return x


def _options(optimizer, every=False):
    """What of the param groups a replay relies on: each group, its list of parameters and that list's
    length, and its options other than those read at replay (`every`: all of them)."""
    replayed = () if every else type(optimizer).read_at_replay
    return tuple(
        (
            group,
            group["params"],
            len(group["params"]),
            tuple((k, v) for k, v in group.items() if k != "params" and k not in replayed),
        )
        for group in optimizer.param_groups
    )


def _same_options(a, b):
    return _hashable(a) == _hashable(b)


def _hashable(x):
    """x with objects as their ids and numbers, strings and bools as they are (for keys and comparisons)."""
    if type(x) in (tuple, list):
        return tuple(_hashable(i) for i in x)
    if x is None or type(x) in (bool, int, float, str):
        return (type(x), x)
    return id(x)


def _python_state(optimizer):
    return {id(p): {k: v for k, v in s.items() if not isinstance(v, np.ndarray)} for p, s in optimizer.state.items()}


# ---- watching the step: patches that exist only while a step is recorded -------------------------------
def _install(recording):
    """Wrap Function.apply (leaves), Module.__call__ (modules), every optimizer class's step
    (optimizers) and Tensor.register_hook (refused). Returns what to put back."""
    patches = []

    def patch(owner, name, replacement):
        patches.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    for cls in (Module, Tensor):
        patch(cls, "__init__", _noting_creation(recording, cls.__dict__["__init__"]))

    apply = Function.__dict__["apply"].__func__

    def apply_seeing_leaves(cls, *inputs, **options):
        if _active is recording:
            for x in inputs:
                if isinstance(x, Tensor):
                    recording.see_leaf(x)
        return apply(cls, *inputs, **options)

    patch(Function, "apply", classmethod(apply_seeing_leaves))

    start_gradient = engine.start_gradient

    def recorded_start(t, g, create_graph):  # a gradient made of backward's seed is recorded too
        seed = start_gradient(t, g, create_graph)
        if _active is recording and type(seed) is np.ndarray:
            seed = recording.track(seed, "constant", source=seed.copy())
        return seed

    patches.append((engine, "start_gradient", start_gradient))
    engine.start_gradient = recorded_start

    call = Module.__call__

    def call_seeing_modules(self, *args, **kwargs):
        if _active is recording:
            recording.see_module(self)
        return call(self, *args, **kwargs)

    patch(Module, "__call__", call_seeing_modules)

    register_hook = Tensor.__dict__["register_hook"]

    def refusing_hooks(self, hook):
        recording.refuse("the step registers a gradient hook (register_hook): a replay would not run it")
        return register_hook(self, hook)

    patch(Tensor, "register_hook", refusing_hooks)

    classes = [Optimizer]
    for cls in classes:
        classes.extend(cls.__subclasses__())
        if "step" in cls.__dict__:
            patch(cls, "step", _step_seeing_optimizer(recording, cls.__dict__["step"]))
    return patches


def _noting_creation(recording, init):
    def init_noting_creation(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if _active is recording:
            recording.created[id(self)] = self

    return init_noting_creation


def _step_seeing_optimizer(recording, step):
    def step_seeing_optimizer(self, *args, **kwargs):
        if _active is not recording:
            return step(self, *args, **kwargs)
        recording.see_optimizer(self)
        result = step(self, *args, **kwargs)
        if _active is recording:
            recording.saw_step(self)
        return result

    return step_seeing_optimizer
