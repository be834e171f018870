"""From recordings to a program: `difference` compares two recordings of one signature, `Program`
turns an agreed recording into straight-line Python that replays its NumPy calls on buffers of its own.
"""

import operator

import numpy as np

from .. import engine, versions
from ..engine import Tensor
from .recording import CaptureError, Const, Op, Ref

MISS = object()  # what a program returns when its guards do not hold: record again

# Methods whose new result a program writes into a buffer of its own, and how: out as the last
# positional argument ("positional"), by keyword ("out"), or by np.copyto ("copy").
_OUT_METHODS = {
    "dot": "positional",
    "take": "out",
    "argmax": "out",
    "argmin": "out",
    "cumsum": "out",
    "cumprod": "out",
    "round": "out",
    "astype": "copy",
    "copy": "copy",
    "__copy__": "copy",
}


# ---- comparing two recordings -------------------------------------------------------------------------
def _same_raw(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if type(a) is slice:
        return all(_same_raw(x, y) for x, y in ((a.start, b.start), (a.stop, b.stop), (a.step, b.step)))
    return a == b


class _Comparison:
    """Whether two templates of recordings a and b say the same. Arrays that are different objects whose
    contents were equal when the step first used them (made anew by each call: temporaries) count as
    the same; their ids (b's) are collected."""

    def __init__(self, a, b):
        self.a_initial, self.b_initial, self.temporaries = a.initial, b.initial, set()

    def __call__(self, x, y):
        if type(x) is not type(y):
            return False
        if type(x) is Ref:
            return x.index == y.index
        if type(x) is Const:
            if x.obj is y.obj:
                return True
            first_x, first_y = self.a_initial.get(id(x.obj), (0, None))[1], self.b_initial.get(id(y.obj), (0, None))[1]
            if (
                first_x is not None
                and first_y is not None
                and first_x.dtype == first_y.dtype
                and first_x.shape == first_y.shape
                and first_x.tobytes() == first_y.tobytes()
            ):
                self.temporaries.add(id(y.obj))
                return True
            return False
        if type(x) in (tuple, list):
            return len(x) == len(y) and all(self(i, j) for i, j in zip(x, y))
        if type(x) is dict:
            return x.keys() == y.keys() and all(self(x[k], y[k]) for k in x)
        return _same_raw(x, y)


def difference(a, b):
    """None if recordings a and b made the same calls on the same kinds of values (b's temporaries are
    then in b.temporaries); otherwise what differs first, for the error message."""
    same = _Comparison(a, b)
    if len(a.ops) != len(b.ops):
        n = min(len(a.ops), len(b.ops))
        first = next((i for i in range(n) if a.ops[i].fn is not b.ops[i].fn and a.ops[i].fn != b.ops[i].fn), n)
        where = b.ops[first].where if first < len(b.ops) else a.ops[first].where
        return f"the two calls made different NumPy calls ({len(a.ops)} and {len(b.ops)}; first different at {where})"
    for x, y in zip(a.values, b.values):
        if (
            x.kind != y.kind
            or x.array.shape != y.array.shape
            or x.array.dtype != y.array.dtype
            or x.array.strides != y.array.strides
            or x.kind in ("arg", "grad", "state")
            and not _same_source(x, y)
            or x.kind == "constant"
            and x.source.tobytes() != y.source.tobytes()
        ):
            where = y.op.where if y.op is not None else "the step's inputs"
            return f"the two calls made arrays of different kinds, shapes or layouts (at {where})"
    for x, y in zip(a.ops, b.ops):
        agree = (
            x.kind == y.kind
            and (x.fn is y.fn or x.fn == y.fn)
            and x.results == y.results
            and x.errstate == y.errstate
            and _same_raw(x.expected, y.expected)
            and same(x.args, y.args)
            and same(x.kwargs, y.kwargs)
            and same(x.out, y.out)
            and same(x.writes, y.writes)
        )
        if not agree:
            return (
                f"{y.name} at {y.where} was given different values in two calls: a Python number that changes "
                "from call to call, or an array computed where the recording cannot see it (NumPy on an array "
                "the step made with np.zeros, np.array, np.asarray and the like)"
            )
    bindings_same = len(a.bindings) == len(b.bindings) and all(
        x[0] is y[0] and x[1] == y[1] and same(x[2], y[2]) for x, y in zip(a.bindings, b.bindings)
    )
    if not bindings_same:
        return "the two calls left different gradients on the parameters"
    if not same(a.returns, b.returns):
        return "the two calls returned different things"
    b.temporaries = same.temporaries
    return None


def _same_source(x, y):
    s, t = x.source, y.source
    if type(s) is tuple:
        return type(t) is tuple and s[0] is t[0] and s[1] == t[1]
    return s is t if not isinstance(s, int) else s == t


# ---- the program ----------------------------------------------------------------------------------------
class Program:
    """The replay of one recording: `run(*arrays)` takes the call's argument arrays (in the order of the
    signature), checks the guards, makes the recorded calls and returns what the step returned, or
    MISS when a guard fails. `source` is the generated code."""

    def __init__(self, recording, signature, objects):
        self.recording = recording
        self.names = {}  # id(object) -> its name in the generated code
        self.namespace = {
            "MISS": MISS,
            "_make": Tensor._make,
            "_Tensor": Tensor,
            "_engine": engine,
            "_index": operator.index,
            "_copyto": np.copyto,
            "_mark_written": versions.mark_written,
            "_errstate": np.errstate,
        }
        self.static, self.lines = [], []
        self._analyse()
        self._check_arguments(signature, iter(objects))
        self._generate()
        factory_source = "def _factory({}):\n{}    def run(args, kwargs):\n{}    return run\n".format(
            ", ".join(self.namespace),
            "".join(f"    {line}\n" for line in self.static),
            "".join(f"        {line}\n" for line in self.lines),
        )
        self.source = factory_source
        scope = {}
        exec(compile(factory_source, "<tinygrad_es.compile program>", "exec"), scope)  # noqa: S102
        self.run = scope["_factory"](**self.namespace)
        arrays = (
            [self.namespace[self.value_name[i]] for i in self.buffered]
            + self.extra_buffers
            + [self.namespace[name] for name, _ in self.refills]
        )
        self.buffer_bytes = sum({id(a if a.base is None else a.base): a.nbytes for a in arrays}.values())
        # the program keeps its code and what it names (buffers, parameters, ...), not the recording or the analysis
        del self.recording, self.ops, self.prologue, self.body, self.names, self.lines, self.static

    # ---- naming ----
    def name(self, obj, prefix="o"):
        """A name in the generated code for an object (the same object, the same name)."""
        key = id(obj)
        if key not in self.names:
            self.names[key] = f"{prefix}{len(self.names)}"
            self.namespace[self.names[key]] = obj
        return self.names[key]

    def code(self, template):
        """Python source for an op's argument."""
        kind = type(template)
        if kind is Ref:
            return self.value_name[template.index]
        if kind is Const:
            obj = template.obj
            if id(obj) in self.live_temporaries:
                return self.live_temporaries[id(obj)]
            return self.name(obj, "c")
        if kind is tuple:
            return "(" + "".join(self.code(x) + ", " for x in template) + ")"
        if kind is list:
            return "[" + ", ".join(self.code(x) for x in template) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{k!r}: {self.code(v)}" for k, v in template.items()) + "}"
        if kind is slice:
            return f"slice({self.code(template.start)}, {self.code(template.stop)}, {self.code(template.step)})"
        if template is None or template is Ellipsis or kind in (bool, int, str):
            return repr(template)
        if kind is float and np.isfinite(template):
            return repr(template)
        return self.name(template, "c")

    def call_args(self, op, skip=0):
        parts = [self.code(a) for a in op.args[skip:]] + [f"{k}={self.code(v)}" for k, v in op.kwargs.items()]
        return ", ".join(parts)

    # ---- analysis: which values live in buffers, which ops run once, which first ----
    def _analyse(self):
        rec = self.recording
        values = rec.values
        self.value_name = {v.index: f"v{v.index}" for v in values}
        for k, index in enumerate(rec.args):
            self.value_name[index] = f"a{k}"
        self.ops = _live_ops(rec)
        written = {w.index for op in self.ops for w in op.writes if type(w) is Ref}
        # constants made anew by each call (temporaries) and written by the step: a buffer, refilled per call
        self.live_temporaries, self.refills = {}, []
        for op in self.ops:
            for w in op.writes:
                if (
                    type(w) is Const
                    and id(w.obj) in getattr(rec, "temporaries", ())
                    and id(w.obj) not in self.live_temporaries
                ):
                    buffer = np.empty_like(w.obj)
                    name = self.name(buffer, "t")
                    self.live_temporaries[id(w.obj)] = name
                    self.refills.append((name, self.name(rec.initial[id(w.obj)][1], "c")))
        self.static_values = set()
        for v in values:
            if v.kind == "state":
                self.static_values.add(v.index)
                self.namespace[self.value_name[v.index]] = np.ndarray.view(v.array, np.ndarray)
            elif v.kind == "constant":
                if v.index in written:  # a buffer, refilled at each call
                    self.refills.append((self.value_name[v.index], self.name(v.source, "c")))
                self.static_values.add(v.index)
                self.namespace[self.value_name[v.index]] = v.source.copy()
        self.buffered, self.static_ops, self.folded = set(), set(), _folded(rec, self.ops, written)
        for op in self.ops:
            if id(op) in self.folded:  # the same result at every call: computed once, when recorded
                for index in op.results:
                    self.static_values.add(index)
                    self.namespace[self.value_name[index]] = np.array(np.ndarray.view(values[index].array, np.ndarray))
                continue
            if not op.results or op.out is not None:
                continue
            result = values[op.results[0]]
            if _buffer_form(op, result) is not None:
                self.buffered.update(op.results)
                self.static_values.update(op.results)
            elif (
                all(values[i].kind == "view" for i in op.results)
                and op.kind in ("method", "function", "ufunc")
                and all(r.index in self.static_values for r in _refs(op))
            ):
                self.static_ops.add(id(op))
                self.static_values.update(op.results)
        self.written_outside = [i for i in written if values[i].kind in ("state", "grad", "arg")]
        self.prologue, self.body = _hoist_reads(rec, self.ops, self.static_ops | self.folded)
        self.preset, self.extra_buffers, self.written_extra, self.moved = {}, [], [], False
        self._flat_sgd()
        self._allocate_buffers()

    def _flat_sgd(self):
        """A pass, SGD on one flat array: a run of `t = lr * g; p -= t` over two parameters or more
        (SGD's update without momentum or decay) becomes `T = lr * G; P -= T` on a flat array P whose
        parts are the parameters' arrays and a flat G whose parts are their gradients: 2 calls instead
        of 2 per parameter (10 fewer on the digits network), elementwise the same numbers. Once, the
        parameters' values move into P, each leaf's `.data` a view of its part (a part of an earlier P:
        nothing moves)."""
        values, body = self.recording.values, self.body
        uses = {}
        for op in self.ops:
            for r in _refs(op):
                uses[r.index] = uses.get(r.index, 0) + 1
        for r in _refs((self.recording.returns, [t for _, _, t in self.recording.bindings])):
            uses[r.index] = uses.get(r.index, 0) + 1
        run, start, position = [], 0, 0  # the first run of two pairs or more, from body[start]
        while position < len(body) - 1:
            pair = _sgd_pair(body[position], body[position + 1], values, uses, self.buffered)
            if pair is not None and run and _same_lr(pair[0], run[0][0]):
                run.append(pair)
            elif len(run) >= 2:
                break
            elif pair is not None:  # the first pair of a run
                run, start = [pair], position
            else:
                run, position = [], position + 1
                continue
            position += 2
        if len(run) < 2 or len({id(values[p].source[0]) for _, p, _, _ in run}) < len(run):
            return
        leaves = [values[p].source[0] for _, p, _, _ in run]
        arrays = [leaf.data for leaf in leaves]
        dtype = arrays[0].dtype
        if not all(
            a.dtype == dtype and a.flags.c_contiguous and values[g].array.dtype == dtype
            for a, (_, _, g, _) in zip(arrays, run)
        ):
            return
        flat = _flat_of(arrays)
        if flat is None:  # the parameters' values move into one array, each leaf's data a view of its part
            flat, offset, self.moved = np.concatenate([a.ravel() for a in arrays]), 0, True
            for leaf, a in zip(leaves, arrays):
                leaf.data = flat[offset : offset + a.size].reshape(a.shape)
                offset += a.size
        self.recording.guards = [
            ("leaf", e[1], e[1].data, e[3]) if e[0] == "leaf" and any(e[1] is t for t in leaves) else e
            for e in self.recording.guards
        ]
        gradients, scaled, offset = np.empty_like(flat), np.empty_like(flat), 0
        for leaf, (_, p, g, t) in zip(leaves, run):
            self.namespace[self.value_name[p]] = leaf.data
            self.preset[g] = gradients[offset : offset + leaf.data.size].reshape(leaf.data.shape)
            self.buffered.discard(t)
            offset += leaf.data.size
        lr = run[0][0]
        names = [self.name(x, "f") for x in (flat, gradients, scaled)]
        lines = [
            f"{self.name(np.multiply)}({self.code(lr)}, {names[1]}, {names[2]})",
            f"{self.name(np.subtract)}({names[0]}, {names[2]}, {names[0]})",
        ]
        flat_op = Op("code", lines, (lr, *(Ref(g) for _, _, g, _ in run)))
        replaced = {id(op) for position in range(start, start + 2 * len(run)) for op in (body[position],)}
        self.body = body[:start] + [flat_op] + [op for op in body[start:] if id(op) not in replaced]
        self.written_outside = [i for i in self.written_outside if i not in {p for _, p, _, _ in run}]
        self.written_extra.append(names[0])
        self.extra_buffers += [gradients, scaled]

    def _allocate_buffers(self):
        """A buffer for each buffered value, shared with values whose lives (theirs and their views')
        end before it is made: a working set as small as eager code's, whose freed arrays NumPy's
        allocator hands back warm. A buffer left on a parameter as its .grad is its own."""
        values = self.recording.values
        order = [op for op in self.prologue + self.body if id(op) not in self.static_ops and id(op) not in self.folded]
        sources = {i: {i} for i in self.buffered}  # value -> the buffered values whose memory it uses
        for op in self.ops:
            if op.results and all(values[i].kind == "view" for i in op.results):
                used = set().union(*(sources.get(r.index, set()) for r in _refs(op)))
                sources.update((i, used) for i in op.results)
        own = {
            i
            for _, how, t in self.recording.bindings
            if how == "value"
            for r in _refs(t)
            for i in sources.get(r.index, ())
        }
        ends = {i: len(order) for r in _refs(self.recording.returns) for i in sources.get(r.index, ())}
        for position, op in enumerate(order):
            for index in [r.index for r in _refs(op)] + op.results:
                for i in sources.get(index, ()):
                    ends[i] = max(ends.get(i, position), position)
        free = {}  # (shape, dtype, strides) -> buffers no live value holds
        for position, op in enumerate(order):
            for index in op.results:
                if index in self.preset:
                    self.namespace[self.value_name[index]] = self.preset[index]
                elif index in self.buffered:
                    array = np.ndarray.view(values[index].array, np.ndarray)
                    key = (array.shape, array.dtype, array.strides)
                    pool = free.get(key) if index not in own else None
                    self.namespace[self.value_name[index]] = pool.pop() if pool else _buffer_like(array)
            for index in {i for i, end in ends.items() if end == position} - own - set(self.preset):
                array = self.namespace[self.value_name[index]]
                free.setdefault((array.shape, array.dtype, array.strides), []).append(array)

    # ---- generation ----
    def _check_arguments(self, signature, objects):
        """Lines that return MISS unless the call's arguments have the recorded signature (see
        compile._signature), naming their arrays a0, a1, ... as the recording numbered them."""
        grad_mode, args, kwargs = signature
        self.arrays = 0
        self.lines += [
            f"if _engine._grad_enabled is not {grad_mode}{' or kwargs' if kwargs is None else ''}:",
            "    return MISS",
        ]
        self._check("args", args, objects)
        if kwargs is not None:
            self._check("kwargs", kwargs, objects)

    def _check(self, expr, signature, objects):
        fail, kind = [], signature[0] if type(signature) is tuple else None
        if type(signature) is int:  # an object, by identity
            fail.append(f"{expr} is not {self.name(next(objects))}")
        elif kind is Tensor:
            _, array_type, shape, dtype, strides, requires_grad = signature
            name, tensor = f"a{self.arrays}", f"x{self.arrays}"
            self.arrays += 1
            self.lines += [
                f"{tensor} = {expr}",
                f"if type({tensor}) is not _Tensor or {tensor}.requires_grad is not {requires_grad}:",
                "    return MISS",
                f"{name} = {tensor}.data",
            ]
            fail += self._array_checks(name, array_type, shape, dtype, strides)
        elif isinstance(kind, type) and issubclass(kind, np.ndarray):
            _, shape, dtype, strides = signature
            name = f"a{self.arrays}"
            self.arrays += 1
            self.lines.append(f"{name} = {expr}")
            fail += self._array_checks(name, kind, shape, dtype, strides)
        elif kind in (tuple, list, dict):
            items = signature[1]
            fail.append(f"type({expr}) is not {kind.__name__} or len({expr}) != {len(items)}")
            if kind is dict:
                fail.append(f"tuple({expr}) != {tuple(k for k, _ in items)!r}")
        else:  # a Python number, string, bool or None, by value
            fail.append(f"type({expr}) is not {self.name(kind)} or {expr} != {self.code(signature[1])}")
        if fail:
            self.lines += [f"if {' or '.join(fail)}:", "    return MISS"]
        if kind in (tuple, list):
            for i, item in enumerate(signature[1]):
                self._check(f"{expr}[{i}]", item, objects)
        elif kind is dict:
            for k, item in signature[1]:
                self._check(f"{expr}[{k!r}]", item, objects)

    def _array_checks(self, name, array_type, shape, dtype, strides):
        return [
            f"type({name}) is not {self.name(array_type)}",
            f"{name}.shape != {shape!r}",
            f"{name}.strides != {strides!r}",
            f"{name}.dtype != {self.name(dtype)}",
        ]

    def _generate(self):
        rec = self.recording
        self.lines.append(f"if {self._guards()}:")
        self.lines.append("    return MISS")
        used = {r.index for op in self.ops for r in _refs(op)} | {r.index for r in _refs(rec.returns)}
        for v in rec.values:
            if v.kind == "grad" and v.index in used:
                self.lines.append(f"{self.value_name[v.index]} = {self.name(v.source)}.grad.data")
        for op in self.ops:
            if id(op) in self.static_ops:
                self.static.extend(self._op_lines(op))
        for name, initial in self.refills:
            self.lines.append(f"_copyto({name}, {initial})")
        self._emit(self.prologue)
        self._emit(op for op in self.body if id(op) not in self.static_ops and id(op) not in self.folded)
        for leaf, how, template in rec.bindings:
            if how == "none":
                self.lines.append(f"{self.name(leaf)}.grad = None")
            elif how == "value":
                if template.index in self.static_values:
                    grad = Tensor._make(self.namespace[self.value_name[template.index]], False, None)
                    self.lines.append(f"{self.name(leaf)}.grad = {self.name(grad, 'g')}")
                else:
                    self.lines.append(f"{self.name(leaf)}.grad = _make({self.code(template)}, False, None)")
        if self.written_outside or self.written_extra:
            written = ", ".join([self.value_name[i] for i in self.written_outside] + self.written_extra)
            self.lines.append(f"_mark_written({written})")
        self.lines.append(f"return {self._returned(rec.returns)}")

    def _emit(self, ops):
        """The lines of `ops`; calls made under another np.errstate than the step's (a @silent op's)
        run under it again, in one `with` block per run of them."""
        errstate = None
        for op in ops:
            if op.errstate != errstate:
                errstate = op.errstate
                if errstate is not None:
                    self.lines.append(f"with _errstate(**{dict(errstate)!r}):")
            self.lines.extend(("    " if errstate is not None else "") + line for line in self._op_lines(op))

    def _guards(self):
        """One condition, true when something the recording relied on has changed since."""
        rec, parts = self.recording, ["_engine.checks is not None"]
        hooks = tuple(
            d
            for entry in rec.guards
            if entry[0] in ("module", "optimizer")
            for d in (
                (entry[1]._forward_hooks, entry[1]._backward_hooks)
                if entry[0] == "module"
                else (entry[1]._step_pre_hooks, entry[1]._step_post_hooks)
            )
        )  # dicts made once by each object: one any()
        parts.append(f"any({self.name(hooks)})")
        for entry in rec.guards:
            kind, obj = entry[0], self.name(entry[1])
            if kind == "module":
                _, _, training, parameters, children = entry
                # a parameter added later is used only by code that names it, which this recording did not
                parts += [f"{obj}.training is not {training}", f"len({obj}._modules) != {len(children)}"]
                parts += [f"{obj}._parameters.get({k!r}) is not {self.name(p)}" for k, p in parameters]
                parts += [f"{obj}._modules.get({k!r}) is not {self.name(m)}" for k, m in children]
            elif kind == "leaf":
                _, _, data, has_grad = entry
                parts += [
                    f"{obj}.data is not {self.name(data)}",
                    f"{obj}.requires_grad is not True",
                    f"{obj}._hooks",
                    f"{obj}.grad is {'' if has_grad else 'not '}None",
                ]
            elif kind == "optimizer":
                _, _, groups, state, n_state = entry
                parts += [
                    f"{obj}.state is not {self.name(state)}",
                    f"len({self.name(state)}) != {n_state}",
                    f"len({obj}.param_groups) != {len(groups)}",
                ]
                for i, (group, params, n_params, options) in enumerate(groups):
                    g = self.name(group)
                    parts += [
                        f"{obj}.param_groups[{i}] is not {g}",
                        f"{g}['params'] is not {self.name(params)}",
                        f"len({self.name(params)}) != {n_params}",
                    ]
                    parts += [
                        f"{g}[{k!r}] != {self.code(v) if type(v) is not list else self.name(v)}" for k, v in options
                    ]
        return " or ".join(parts)

    def _op_lines(self, op):
        results = [self.value_name[i] for i in op.results]
        target = ", ".join(results) if len(results) != 1 else results[0]
        if op.kind == "ufunc":
            ufunc, method = op.fn
            if method == "__call__":
                outs = (
                    [self.code(o) for o in op.out]
                    if op.out is not None
                    else results
                    if op.results and op.results[0] in self.buffered
                    else None
                )
                f = self.name(ufunc)
                if outs is not None:
                    positional, keywords = (
                        [self.code(a) for a in op.args],
                        [f"{k}={self.code(v)}" for k, v in op.kwargs.items() if not (k == "order" and op.out is None)],
                    )
                    if ufunc in (np.maximum, np.minimum):  # NumPy 2.4 deprecates their out given by position
                        keywords.append(f"out=({', '.join(outs)},)")
                    else:
                        positional += outs
                    return [f"{f}({', '.join(positional + keywords)})"]
                return [f"{target} = {f}({self.call_args(op)})"]
            f = self.name(getattr(ufunc, method))
            if op.out is not None:
                return [f"{f}({self.call_args(op)}, out={self.code(op.out)})"]
            if not op.results:
                return [f"{f}({self.call_args(op)})"]
            if op.results[0] in self.buffered:
                return [f"{f}({self.call_args(op)}, out={results[0]})"]
            return [f"{target} = {f}({self.call_args(op)})"]
        if op.kind == "function":
            call = f"{self.name(op.fn)}({self.call_args(op)})"
            return [f"{target} = {call}" if op.results else call]
        if op.kind == "replayed":
            call = f"{self.name(op.fn)}({self.call_args(op)})"
            if op.expected:  # a tuple
                return [f"{target}, = {call}" if len(results) == 1 else f"{target} = {call}"]
            return [f"{target} = {call}" if results else call]
        if op.kind == "code":  # lines a pass wrote
            return op.fn
        if op.kind == "read":
            expected = op.expected
            literal = repr(bool(expected)) if isinstance(expected, (bool, np.bool_)) else repr(int(expected))
            return [f"if {self._read_code(op)} != {literal}:", "    return MISS"]
        # a method of the array in args[0]
        receiver = self.code(op.args[0])
        if op.fn == "__getitem__":
            return [f"{target} = {receiver}[{self.code(op.args[1])}]"]
        if op.fn == "__setitem__":
            return [f"{receiver}[{self.code(op.args[1])}] = {self.code(op.args[2])}"]
        form = _OUT_METHODS.get(op.fn) if op.results and op.results[0] in self.buffered else None
        if form == "copy":
            return [f"_copyto({target}, {receiver}, casting='unsafe')"]
        method = f"{receiver}.{op.fn}"
        if type(op.args[0]) is Ref and op.args[0].index in self.static_values:  # bound once, in the factory
            self.static.append(f"{receiver}_{op.fn} = {method}")
            method = f"{receiver}_{op.fn}"
        if form == "positional":
            return [f"{method}({self.call_args(op, 1)}, {target})"]
        if form == "out":
            return [f"{method}({self.call_args(op, 1)}, out={target})"]
        call = f"{method}({self.call_args(op, 1)})"
        return [f"{target} = {call}" if op.results else call]

    def _read_code(self, op):
        if op.args and type(op.args[0]) is Ref and op.kind == "read" and isinstance(op.fn, str):
            array = self.code(op.args[0])
            return {
                "__bool__": f"bool({array})",
                "__int__": f"int({array})",
                "__index__": f"_index({array})",
                "item": f"{array}.item()",
            }[op.fn]
        return f"{self.name(op.fn)}({self.call_args(op)})"

    def _returned(self, template):
        if (
            type(template) is tuple
            and len(template) == 2
            and template[0] in ("tensor", "array")
            and type(template[1]) in (Ref, Const)
        ):
            kind, inner = template
            array = self.code(inner)
            fresh = (
                type(inner) is Ref
                and inner.index not in self.static_values
                and self.recording.values[inner.index].kind == "result"
            )
            array = array if fresh else f"{array}.copy()"
            return f"_make({array}, False, None)" if kind == "tensor" else array
        if type(template) in (tuple, list):
            inner = ", ".join(self._returned(x) for x in template)
            return f"({inner},)" if type(template) is tuple else f"[{inner}]"
        if type(template) is dict:
            return "{" + ", ".join(f"{k!r}: {self._returned(v)}" for k, v in template.items()) + "}"
        return self.code(template)


# ---- helpers of the analysis ---------------------------------------------------------------------------
def _refs(x):
    """The Refs in a template or an op's arguments."""
    if type(x) is Ref:
        yield x
    elif type(x) in (tuple, list):
        for i in x:
            yield from _refs(i)
    elif type(x) is dict:
        for i in x.values():
            yield from _refs(i)
    elif type(x) is slice:
        yield from _refs((x.start, x.stop, x.step))
    elif hasattr(x, "args"):  # an Op
        yield from _refs((x.args, x.kwargs, x.out or ()))


def _live_ops(rec):
    """The calls a replay must make: those that write, draw, read into Python (or may do something
    else: a function without result), and those that make a value used later. The rest is dropped."""
    used = {r.index for _, how, t in rec.bindings if how == "value" for r in _refs(t)}
    used.update(r.index for r in _refs(rec.returns))
    live = []
    for op in reversed(rec.ops):
        if (
            op.writes
            or op.out is not None
            or op.kind in ("replayed", "read")
            or any(i in used for i in op.results)
            or not op.results
            and op.kind == "function"
        ):
            live.append(op)
            used.update(r.index for r in _refs(op))
    return live[::-1]


def _folded(rec, ops, written):
    """The ops whose results are the same at every call (ids): pure calls on constants (backward's seed,
    arrays made anew with the same contents, read-only arrays of their own, Python values) and on
    their results, none written later."""
    constant, folded = {v.index for v in rec.values if v.kind == "constant" and v.index not in written}, set()
    temporaries = getattr(rec, "temporaries", ())

    def fixed(x):
        if type(x) is Const:
            obj = x.obj
            return (
                not isinstance(obj, np.ndarray)
                or id(obj) in temporaries
                or not obj.flags.writeable
                and obj.base is None
            )
        if type(x) in (tuple, list):
            return all(fixed(i) for i in x)
        if type(x) is dict:
            return all(fixed(i) for i in x.values())
        return type(x) is not Ref or x.index in constant

    for op in ops:
        if (
            op.kind in ("ufunc", "function", "method")
            and op.results
            and not op.writes
            and op.out is None
            and not any(i in written for i in op.results)
            and fixed((op.args, op.kwargs))
        ):
            folded.add(id(op))
            constant.update(op.results)
    return folded


def _sgd_pair(multiply, subtract, values, uses, buffered):
    """(lr, p, g, t) when the two ops are `t = lr * g; p -= t` on a leaf's array p (a state value), a
    gradient g the program computes and a t used by nothing else; else None."""
    if not (
        multiply.kind == subtract.kind == "ufunc"
        and multiply.fn == (np.multiply, "__call__")
        and subtract.fn == (np.subtract, "__call__")
        and not multiply.kwargs
        and not subtract.kwargs
        and multiply.out is None
        and len(multiply.args) == 2
        and len(multiply.results) == 1
    ):
        return None
    lr, g, t = multiply.args[0], multiply.args[1], multiply.results[0]
    if type(g) is not Ref or g.index not in buffered or t not in buffered or uses.get(t) != 1:
        return None
    p = subtract.out[0] if subtract.out is not None and len(subtract.out) == 1 else None
    if (
        type(p) is not Ref
        or [type(a) for a in subtract.args] != [Ref, Ref]
        or subtract.args[0].index != p.index
        or subtract.args[1].index != t
    ):
        return None
    value = values[p.index]
    if value.kind != "state" or type(value.source) is not tuple or value.source[1] != "data":
        return None
    return lr, p.index, g.index, t


def _same_lr(a, b):
    if type(a) is Ref or type(b) is Ref:
        return type(a) is type(b) and a.index == b.index
    return type(a) is type(b) and (a.obj is b.obj if type(a) is Const else _same_raw(a, b))


def _flat_of(arrays):
    """The flat array whose consecutive parts the arrays already are (an earlier pass made it), or None."""
    base = arrays[0].base
    if base is None or base.ndim != 1 or sum(a.size for a in arrays) != base.size:
        return None
    start, offset = base.__array_interface__["data"][0], 0
    for a in arrays:
        if a.base is not base or a.__array_interface__["data"][0] != start + offset * base.itemsize:
            return None
        offset += a.size
    return base


def _buffer_form(op, result):
    """How a call's new result can be written into a buffer of the program's, or None."""
    if result.kind != "result" or result.array.dtype.kind not in "biufc":
        return None
    if op.kind == "ufunc":
        return op.fn[1] in ("__call__", "reduce", "accumulate", "outer") or None
    if op.kind == "method" and op.fn in _OUT_METHODS:
        if _OUT_METHODS[op.fn] != "copy" and (result.array.ndim == 0 or not result.array.flags.c_contiguous):
            return None  # dot and friends give 0-d results as scalars, and write only C-ordered buffers
        return _OUT_METHODS[op.fn]
    return None


def _buffer_like(array):
    """A buffer of the program's with the layout of a recorded array (the same strides: the same rounding
    of every sum that follows)."""
    return np.empty_like(np.ndarray.view(array, np.ndarray))


def _hoist_reads(rec, ops, static_ops):
    """(prologue, body): each value read into Python (a guard) is checked before the replay changes
    anything, with the calls it depends on. Refused when it depends on a draw or on something the step
    wrote before reading it."""
    prologue, moved = [], set()
    writer_of = {}  # value index -> the ops that made or wrote it, so far
    for position, op in enumerate(ops):
        if op.kind == "read":
            needed, stack = [], [r.index for r in _refs(op)]
            seen = set()
            while stack:
                index = stack.pop()
                if index in seen:
                    continue
                seen.add(index)
                value = rec.values[index]
                if value.kind in ("state", "grad", "arg") and any(o.writes for o in writer_of.get(index, ())):
                    raise CaptureError(
                        f"the step reads a value into Python at {op.where} after it changed what that "
                        "value depends on: a replay checks such values before it changes anything"
                    )
                for producer in writer_of.get(index, ()):
                    if producer.kind == "replayed":
                        raise CaptureError(
                            f"the step reads a value into Python at {op.where} that depends on a random "
                            "draw: a replay could not check it before drawing"
                        )
                    if id(producer) not in {id(o) for o in needed}:
                        needed.append(producer)
                        stack.extend(r.index for r in _refs(producer))
            needed.sort(key=lambda o: ops.index(o))
            for o in needed:
                if id(o) not in moved and id(o) not in static_ops:
                    moved.add(id(o))
                    prologue.append(o)
            moved.add(id(op))
            prologue.append(op)
        for index in op.results:
            writer_of.setdefault(index, []).append(op)
        for w in op.writes:
            if type(w) is Ref:
                writer_of.setdefault(w.index, []).append(op)
    body = [op for op in ops if id(op) not in moved]
    return prologue, body
