"""`compile(step)`: record a training step once, then replay it as straight-line NumPy.

On a small network a training step's time is the interpreter's: graph nodes, Tensors, modules,
the optimizer's loops. What NumPy does is the same on every call. `compile` records the NumPy calls
of an eager call of the step and, once it trusts the recording, makes only those calls, on buffers
of its own, giving the same numbers bit for bit.

    @tg.compile
    def step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    for x, y in loader:
        losses.append(step(x, y))     # a new 0-d loss tensor every call

What is recorded (recording.py). The step runs eagerly with its arrays wrapped in `Traced`, an
ndarray subclass: every ufunc call (with its `out=`, reductions, `ufunc.at`), every NumPy function
and the ndarray methods that do not dispatch (`dot`, `reshape`, indexing, `take`, `astype`, ...)
compute their real result on plain views and are recorded with their arguments and with where
they were called. The arrays of a recording are values of seven kinds: the call's arguments (read
again at each call), the gradients leaves hold when the call starts (read again), arrays that live on
and are read by identity (each leaf's `.data`, an optimizer's buffers), results and views of recorded
calls, what a replayed call returns, and backward's starting gradient (a constant; every gradient
made from it is then recorded too). Any other array is a constant. The few Python functions whose
calls must be made again (random draws, `random.draw`; the numbers an optimizer works out from its
state, in `optim`) report themselves through `helpers.recording`: a replay calls them again, in the
same order, so Dropout masks and RReLU slopes are fresh, and Adam's step count, its bias corrections
and a scheduler's learning rate follow. While it records, a few classes are patched (and put back
after) to see what the step uses: `Function.apply` swaps the leaves an op is given for Traced views,
`Module.__call__` notes the modules, each optimizer class's `step` its optimizer (and swaps its
buffers), `Module.__init__` and `Tensor.__init__` what the step makes itself (not guarded),
`Tensor.register_hook` refuses, and `engine.start_gradient` records the seed.

What is replayed (program.py). Straight-line Python generated from the recording: each call again,
`out=` into a buffer of the program's with the layout of the recorded result (the same strides, hence
the same rounding), buffers shared by values whose lives do not overlap (as small a working set as
eager code's); views of buffers and parameters, and methods of buffers, made once; calls on constants
alone computed once (folded); calls whose results nothing uses dropped; calls made under another
`np.errstate` than the caller's (a `helpers.silent` op) run under it again. One pass rewrites: SGD's
update without momentum or decay, `p -= lr * g` for each parameter, becomes two calls on one flat
array of all the parameters (program.Program._flat_sgd); for that the first such program moves the
parameters' values into one array, each leaf's `.data` then a view of its part (an array taken from
`.data` before compiling no longer follows the training). The program then sets each
leaf's `.grad` as the step left it (a Tensor over a buffer the next replay overwrites: copy it to keep
it), notes its in-place writes for the engine's checks (`mark_written`), and returns new copies of
what the step returned.

When a recording is trusted. Only when two recordings of the same signature and state agree: the
same calls on the same kinds of arrays, the same Python numbers, the same objects. A Python number
that changes per call (a counter the step keeps), an array that escaped the recording (copied by
`np.array`, or made by NumPy on a plain array), or a first step that creates optimizer state
(momentum's buffer, Adam's moments: a warm-up, never compiled) all show as a difference; arrays made
anew by each call with the same contents (a `np.zeros` the step writes into) are refilled at each
replay. Three recordings in a row that each differ from the last are refused, naming what differed.
The first call records before it knows the step's leaves, so a plain step replays from its fourth call.

The guards. A program first checks the call's signature: the grad mode, and for each argument its
type, for arrays and Tensors their shape, dtype and strides (Python numbers and strings by value,
other objects by identity). Calls try the program that replayed last, then the others of their
signature (the last, smaller batch of an epoch is one more signature; 16 programs at most). Then, in
one condition, everything else it relies on, and on a miss the call records again: anomaly detection
off; no hooks on the modules and optimizers it met; each module the step called (and its children) in
the same train/eval mode, holding the same parameters and children (and no more children); each leaf
with the same `.data` array, still requiring grad, without hooks, with or without a `.grad` as when
recorded (so accumulating over two calls is two programs); each optimizer with the same `state` dict
and number of entries (`load_state_dict` replaces it), the same param groups and parameter lists, and
the same options except those it reads at replay (`Optimizer.read_at_replay`: the learning rate). A
value the step reads into Python is a guard too: a bool, or an integer of an integer array (the fused
cross-entropy's check that the targets are class indices), is computed again before the replay
changes anything, and a different value records anew (so a branch on it gets one program per side).

What is refused, with `CaptureError` when the call ends (or, with `compile(step, fallback=True)`, run
eagerly from then on, with one warning): reading a float into Python (`loss.item()`, `float(loss)`,
printing an array), a bool that depends on a random draw or on something the step already changed,
hooks on tensors, modules or optimizers (so `Diagnostics`), anomaly detection, leaving a module in
another train/eval mode or changing an optimizer's options inside the step (a scheduler's `step()`
belongs outside), a tensor requiring grad given as an argument, returning a tensor whose graph
backward has not gone through, a module keeping an array the step made, an optimizer changing its
Python state outside its replayed functions, and an array made by a call the recording did not see.
Python side effects of the step (printing, appending to a list) happen only in the calls that record:
return values instead. `no_grad` blocks inside the step are recorded as they run.
"""

import functools
import itertools
import warnings

import numpy as np

from .. import engine
from ..engine import Tensor
from . import recording
from .program import MISS, Program, difference
from .recording import CaptureError, Recording

__all__ = ["CaptureError", "compile"]

MAX_PROGRAMS = 16  # programs kept per compiled function; the least recently recorded goes first
MAX_DIFFERENCES = 3  # recordings in a row that differ from the one before: refused
_made = itertools.count()  # the order in which programs are made


def compile(fn=None, *, fallback=False):
    """`fn` recorded once per signature and replayed after (see the module docstring); a decorator too
    (`@compile` or `@compile(fallback=True)`). With `fallback=True` a step that cannot be replayed runs
    eagerly, with one warning, instead of raising CaptureError."""
    if fn is None:
        return functools.partial(compile, fallback=fallback)
    return Compiled(fn, fallback)


class Compiled:
    """A compiled function: call it as the function. `programs` holds the replays by signature;
    `recordings` counts the eager calls that recorded, `replays` the calls replayed."""

    def __init__(self, fn, fallback):
        functools.update_wrapper(self, fn)
        self.fn, self.fallback, self.eager = fn, fallback, False
        self.programs = {}  # signature -> [Program]
        self.pending = {}  # (signature, state) -> the last recording, waiting for one that agrees
        self.differences = {}  # (signature, state) -> recordings in a row that differed from the one before
        self.known = []  # the modules, leaves and optimizers earlier recordings met, met first next time
        self.last = None  # the program that replayed last: tried first (it checks the arguments itself)
        self.recordings = self.replays = 0

    def __get__(self, instance, owner=None):
        """As a method: the instance is the first argument (part of the signature, by identity)."""
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        if self.eager or recording._active is not None:  # refused, or inside another recording: eager
            return self.fn(*args, **kwargs)
        if self.last is not None:
            out = self.last.run(args, kwargs)
            if out is not MISS:
                self.replays += 1
                return out
        objects = []
        key = (engine._grad_enabled, _signature(args, objects), _signature(kwargs, objects) if kwargs else None)
        for program in self.programs.get(key, ()):
            out = program.run(args, kwargs)
            if out is not MISS:
                self.replays += 1
                self.last = program
                return out
        return self._record(key, objects, args, kwargs)

    def _record(self, key, objects, args, kwargs):
        self.recordings += 1
        rec, ran, out = Recording(), False, None
        if engine.checks is not None:
            rec.refusal = (
                "anomaly detection is on: it checks every op as it runs, and a replay runs no op; call "
                "the step uncompiled while debugging"
            )
        else:
            with rec:
                for kind, obj in self.known:  # as they are when the call starts (a zero_grad may come first)
                    getattr(rec, f"see_{kind}")(obj)
                if rec.refusal is None:  # else refused before the step ran: nothing has happened yet
                    out, ran = rec.finish(self.fn(*rec.take_argument(args), **rec.take_argument(kwargs))), True
        if rec.refusal is not None:
            return self._refuse(rec.refusal, out if ran else self.fn, args, kwargs)
        if self._remember(rec):  # it met new objects: later calls meet them first, so none will agree with it
            self.pending.clear()
            return out
        if rec.warmup:
            return out
        state = (key, rec.state_key(), tuple(op.expected for op in rec.ops if op.kind == "read"))
        previous = self.pending.pop(state, None)
        self.pending[state] = rec
        if len(self.pending) > MAX_PROGRAMS:  # recordings of states that never came back
            del self.pending[next(iter(self.pending))]
        if previous is None:
            return out
        why = difference(previous, rec)
        if why is not None:
            self.differences[state] = self.differences.get(state, 0) + 1
            if self.differences[state] >= MAX_DIFFERENCES:
                return self._refuse(f"{MAX_DIFFERENCES + 1} calls in a row did not do the same: {why}", out)
            return out
        try:
            program = Program(rec, key, objects)
        except CaptureError as error:
            return self._refuse(str(error), out)
        program.made, program.objects = next(_made), objects  # objects in the key by id: kept alive
        del self.pending[state]
        self.differences.pop(state, None)
        if program.moved:  # parameters' arrays moved: earlier programs and recordings name the old ones
            self.programs, self.pending, self.last = {}, {}, None
        self.programs.setdefault(key, []).insert(0, program)
        if sum(len(p) for p in self.programs.values()) > MAX_PROGRAMS:
            oldest = min(self.programs, key=lambda k: min(p.made for p in self.programs[k]))
            if self.programs[oldest].pop() is self.last:
                self.last = None
            if not self.programs[oldest]:
                del self.programs[oldest]
        return out

    def _remember(self, rec):
        """Add the modules, leaves and optimizers the recording met to `known`; whether there were new ones."""
        seen, before = {id(obj) for _, obj in self.known}, len(self.known)
        for kind, found in (("module", rec.modules), ("leaf", rec.leaves), ("optimizer", rec.optimizers)):
            self.known += [(kind, obj) for obj in found.values() if id(obj) not in seen]
        return len(self.known) > before

    def _refuse(self, reason, out, args=(), kwargs=None):
        """CaptureError; with fallback, one warning and eager calls from now on. `out` is what the call
        returned, or the function itself when it has not run yet (it then runs eagerly, once)."""
        if not self.fallback:
            raise CaptureError(reason)
        warnings.warn(
            f"tinygrad_es.compile: {reason}; {self.__name__} runs eagerly from now on", RuntimeWarning, stacklevel=3
        )
        self.eager, self.programs, self.pending, self.last = True, {}, {}, None
        return out(*args, **(kwargs or {})) if out is self.fn else out


def _signature(x, objects):
    """A hashable key for an argument: for arrays and Tensors their type, shape, dtype and strides,
    Python numbers, strings and None by value, containers item by item; other objects by identity
    (appended to `objects`). A program checks the same (Program._check_arguments)."""
    if isinstance(x, Tensor):
        data = x.data
        return Tensor, type(data), data.shape, data.dtype, data.strides, x.requires_grad
    if isinstance(x, np.ndarray):
        return type(x), x.shape, x.dtype, x.strides
    kind = type(x)
    if kind is tuple or kind is list:
        return kind, tuple(_signature(i, objects) for i in x)
    if kind is dict:
        return dict, tuple((k, _signature(v, objects)) for k, v in x.items())
    if x is None or kind in (bool, int, float, str) or isinstance(x, np.generic):
        return kind, x
    objects.append(x)
    return id(x)
