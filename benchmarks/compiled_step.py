"""tg.compile on the paper's workload: a compiled training step against eager, the NumPy floor, PyTorch and JAX.

Digits, 64-32-16-10, sigmoid, softmax cross-entropy, SGD (lr 0.5), batch 32, float32: time per epoch
of the step compiled with tg.compile, taking turns with eager tinygrad_es, the hand-written NumPy
floor (mlp_runs.NumpyRun), PyTorch and, when installed, one jax.jit of the whole step. Then the
capture cost of the first calls, the large MLP (784-512-512-10, batch 256) compiled and eager, the
compiled step's memory, and one row per failure mode of naive capture: compiled and eager give the
same numbers bitwise (every returned loss, the weights), or the step is refused with CaptureError.
"""

import contextlib
import io
import itertools
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import time  # noqa: E402

import harness  # noqa: E402  (first of ours: pins BLAS threads before NumPy loads)
import large_mlp  # noqa: E402
import memory  # noqa: E402
import mlp_runs  # noqa: E402
import numpy as np  # noqa: E402

import tinygrad_es as tg  # noqa: E402
from tinygrad_es import data, nn, optim  # noqa: E402
from tinygrad_es.diagnostics import Diagnostics  # noqa: E402
from tinygrad_es.study.training import training_step  # noqa: E402

SIZES, BATCH, LR = (64, 32, 16, 10), 32, 0.5
MAX_RATIO_TO_NUMPY = 0.7
MIN_SPEEDUP_OVER_TORCH = 7.0
MAX_CAPTURE_MS = 10.0
NAME = "compiled_step"


def import_jax():
    try:
        import jax
    except ImportError:
        return None
    return jax


class JaxRun:
    """The same network as one jax.jit of the whole step: forward, softmax cross-entropy, its gradient, SGD."""

    def __init__(self, jax, sizes, activation, weights, x, y, batch_size, lr):
        jnp, act = jax.numpy, {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu}[activation]

        def logits(params, x):
            for w, b in zip(params[:-2:2], params[1:-2:2]):
                x = act(x @ w.T + b)
            return x @ params[-2].T + params[-1]

        def loss(params, x, y):
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits(params, x)), y[:, None], axis=1))

        @jax.jit
        def step(params, x, y):
            value, grads = jax.value_and_grad(loss)(params, x, y)
            return [p - lr * g for p, g in zip(params, grads)], value

        self.params, self.step, self.logits = [jnp.asarray(w) for w in weights], step, jax.jit(logits)
        self.x, self.y, self.parts = x, y.astype(np.int32), mlp_runs.batches(len(x), batch_size)

    def epoch(self):
        total = 0.0
        for part in self.parts:
            self.params, value = self.step(self.params, self.x[part], self.y[part])
            total += float(value)
        return total / len(self.parts)

    def predict(self, x):
        return np.asarray(self.logits(self.params, x)).argmax(axis=1)


# ---- the digits step ------------------------------------------------------------------------------------
def digits_rows(quick):
    x_train, y_train, _, _, x_test, y_test = data.train_val_test_split(*data.load_digits(), fractions=(0.6, 0.2, 0.2))
    if quick:
        x_train, y_train = x_train[:128], y_train[:128]
    runs = mlp_runs.make_runs(SIZES, "sigmoid", x_train, y_train, BATCH, LR, compiled=True)
    jax = import_jax()
    if jax is not None:
        runs["jax"] = JaxRun(
            jax,
            SIZES,
            "sigmoid",
            mlp_runs.initial_weights(SIZES, np.random.default_rng(0)),
            x_train,
            y_train,
            BATCH,
            LR,
        )
    wall, cpu = harness.interleaved_times({name: run.epoch for name, run in runs.items()}, 2 if quick else 40)
    _, accuracies = mlp_runs.check_agreement(runs, x_test, y_test)
    eager, compiled = runs["tinygrad_es"], runs["compiled"]
    same = all(np.array_equal(p.data, q.data) for p, q in zip(eager.model.parameters(), compiled.model.parameters()))
    steps, rows = len(eager.parts), []
    for clock, seconds in (("wall", wall), ("CPU", cpu)):
        rows += [
            harness.row(NAME, f"digits {name}: {clock} time per epoch ({steps} steps)", s * 1e3, "ms")
            for name, s in seconds.items()
        ]
    for clock, seconds in (("wall", wall), ("CPU", cpu)):
        floor, compiled_s = seconds["numpy"], seconds["compiled"]
        rows.append(
            harness.ratio_row(NAME, f"digits compiled / numpy floor ({clock})", compiled_s / floor, MAX_RATIO_TO_NUMPY)
        )
        rows.append(harness.row(NAME, f"digits eager / numpy floor ({clock})", seconds["tinygrad_es"] / floor, "x"))
        rows.append(harness.row(NAME, f"digits eager / compiled ({clock})", seconds["tinygrad_es"] / compiled_s, "x"))
        for other, target in (("torch", MIN_SPEEDUP_OVER_TORCH), ("jax", 1.0)):
            if other in seconds:
                rows.append(
                    harness.ratio_row(
                        NAME, f"digits {other} / compiled ({clock})", seconds[other] / compiled_s, target, at_most=False
                    )
                )
    rows.append(
        harness.row(
            NAME, "digits weights, compiled vs eager after the same epochs", float(same), "bitwise", "1 (equal)", same
        )
    )
    rows.append(harness.row(NAME, "digits test accuracy (all agree)", accuracies["numpy"], ""))
    return rows


def capture_rows(quick):
    """CPU time (process_time: other jobs on the machine disturb it less than wall time) of the first
    calls of a compiled step against an eager step: the first records (its capture cost is what it
    takes beyond an eager step), the third generates the program."""
    x, y = data.load_digits()
    weights = mlp_runs.initial_weights(SIZES, np.random.default_rng(0))
    batches = [(tg.Tensor(x[i : i + BATCH]), y[i : i + BATCH]) for i in range(0, 10 * BATCH, BATCH)]
    eager = mlp_runs.TinygradRun(SIZES, "sigmoid", weights, x, y, BATCH, LR)
    eager_ms = harness.median_time(lambda: eager.step(*batches[0]), 5 if quick else 200, clock=time.process_time) * 1e3
    first, third = [], []
    for _ in range(2 if quick else 10):
        run = mlp_runs.TinygradRun(SIZES, "sigmoid", weights, x, y, BATCH, LR, compiled=True)
        times = []
        for xb, yb in batches[:4]:
            start = time.process_time()
            run.step(xb, yb)
            times.append((time.process_time() - start) * 1e3)
        assert run.step.recordings == 3 and run.step.replays == 1
        first.append(times[0])
        third.append(times[2])
    first_ms, third_ms = float(np.median(first)), float(np.median(third))
    capture = first_ms - eager_ms
    return [
        harness.row(NAME, "eager step (CPU time)", eager_ms, "ms"),
        harness.row(NAME, "first call: an eager step, recorded (CPU time)", first_ms, "ms"),
        harness.row(
            NAME,
            "capture cost of the first call, beyond an eager step",
            capture,
            "ms",
            f"< {MAX_CAPTURE_MS:g} ms",
            capture < MAX_CAPTURE_MS,
        ),
        harness.row(NAME, "third call: recorded, agrees, program generated (CPU time)", third_ms, "ms"),
    ]


def large_rows(quick):
    sizes, batch, batches, repeats = ((784, 64, 64, 10), 32, 2, 2) if quick else ((784, 512, 512, 10), 256, 8, 15)
    x, y = large_mlp.synthetic(batch * batches + 1000, sizes[0], sizes[-1], np.random.default_rng(0))
    runs = mlp_runs.make_runs(sizes, "relu", x[:-1000], y[:-1000], batch, lr=0.01, torch=False, compiled=True)
    seconds, _, _ = mlp_runs.time_and_check(runs, repeats, x[-1000:], y[-1000:])
    name = "x".join(map(str, sizes))
    rows = [harness.row(NAME, f"{name} {fw}: time per epoch", s * 1e3, "ms") for fw, s in seconds.items()]
    rows.append(harness.ratio_row(NAME, f"{name} compiled / eager", seconds["compiled"] / seconds["tinygrad_es"], 1.0))
    rows.append(harness.row(NAME, f"{name} compiled / numpy floor", seconds["compiled"] / seconds["numpy"], "x"))
    return rows


def memory_rows(quick):
    early, late = (20, 200) if quick else (100, 2000)
    result = {name: memory.measure(name, early, late) for name in ("tinygrad_es", "compiled")}
    added = {name: r["peak"] - r["before"] for name, r in result.items()}
    buffers = result["compiled"]["buffers"] / 2**20
    limit = added["tinygrad_es"] + buffers + memory.PEAK_SLACK_MB
    return [
        harness.row(NAME, "memory: peak RSS added by eager training", added["tinygrad_es"], "MB"),
        harness.row(NAME, "memory: the compiled programs' buffers", buffers, "MB"),
        harness.row(
            NAME,
            "memory: peak RSS added by compiled training",
            added["compiled"],
            "MB",
            f"<= eager + buffers + {memory.PEAK_SLACK_MB:g} MB",
            added["compiled"] <= limit,
        ),
        harness.row(
            NAME,
            f"memory: compiled RSS growth from step {early:,} to {late:,}",
            result["compiled"]["late"] - result["compiled"]["early"],
            "MB",
            f"<= {memory.GROWTH_SLACK_MB:g} MB",
            result["compiled"]["late"] - result["compiled"]["early"] <= memory.GROWTH_SLACK_MB,
        ),
    ]


# ---- the failure modes of naive capture -------------------------------------------------------------------
class Case:
    """A training setup, built twice from the same seed: `model()`, `optimizer(params)`, `step(model,
    optimizer, loss_fn)` -> the step function; `between(i, model, optimizer)` runs after call i, and
    the calls run inside `around(model, optimizer)` (a context manager) when given. Batches of 32, 32,
    32 and 4 digits in turn, unless `batch` gives the sizes."""

    def __init__(self, model=None, optimizer=None, step=None, between=None, around=None, calls=12, batch=None):
        self.model = model or (lambda: nn.Sequential(nn.Dense(64, 16, activation="sigmoid"), nn.Dense(16, 10)))
        self.optimizer = optimizer or (lambda p: optim.SGD(p, lr=0.5))
        self.step, self.between, self.around = step or training_step, between, around
        self.calls, self.batch = calls, batch or (32, 32, 32, 4)

    def run(self, compiled):
        tg.manual_seed(0)
        model = self.model()
        optimizer = self.optimizer(model.parameters())
        fn = self.step(model, optimizer, nn.CrossEntropyLoss())
        fn = tg.compile(fn) if compiled else fn
        x, y = data.load_digits()
        starts, out = np.cumsum((0,) + self.batch), []
        with self.around(model, optimizer) if self.around else contextlib.nullcontext():
            for i in range(self.calls):
                k = i % len(self.batch)
                out.append(fn(tg.Tensor(x[starts[k] : starts[k + 1]]), y[starts[k] : starts[k + 1]]))
                if self.between:
                    self.between(i, model, optimizer)
        return out, model, fn


def _step(backward=lambda loss: loss.backward(), then=None, update=True):
    """A variant of the plain step: `backward(loss)`, then `then(model, x, loss)`; with `update`
    False no zero_grad and no optimizer step (the gradients accumulate)."""

    def make(model, optimizer, loss_fn):
        def step(x, y):
            loss = loss_fn(model(x), y)
            if update:
                optimizer.zero_grad()
            backward(loss)
            if then is not None:
                then(model, x, loss)
            if update:
                optimizer.step()
            return loss

        return step

    return make


def _arrays(out):
    """The arrays in what the step returned (a tensor, or a tuple of tensors and arrays)."""
    items = out if isinstance(out, tuple) else (out,)
    return [np.asarray(getattr(item, "data", item)) for item in items]


def _bitwise(case):
    """(calls replayed, whether every returned value and every weight is bitwise the eager one, and
    every call returned new arrays)."""
    eager, model_e, _ = case.run(False)
    compiled, model_c, fn = case.run(True)
    returned = [a for out in compiled for a in _arrays(out)]
    same = all(np.array_equal(a, b) for e, c in zip(eager, compiled) for a, b in zip(_arrays(e), _arrays(c)))
    same = same and all(np.array_equal(p.data, q.data) for p, q in zip(model_e.parameters(), model_c.parameters()))
    return fn.replays, same and len({id(a) for a in returned}) == len(returned)


def _refused(case):
    try:
        case.run(True)
    except tg.CaptureError as error:
        return str(error)
    return None


def _scheduled(make):
    schedulers = {}

    def between(i, model, optimizer):
        scheduler = schedulers.setdefault(id(optimizer), make(optimizer))
        if i % 4 == 3:
            scheduler.step()

    return between


def _evaluating(model, optimizer, loss_fn):
    step = training_step(model, optimizer, loss_fn)

    def step_and_accuracy(x, y):
        loss = step(x, y)
        with tg.no_grad():
            right = model(x).data.argmax(axis=1) == y
        return loss, right.mean()

    return step_and_accuracy


def _saved_state():
    saved = {}

    def between(i, model, optimizer):
        if i == 2:
            saved["model"], saved["optimizer"] = model.state_dict(), optimizer.state_dict()
        if i == 7:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])

    return between


def _with_dropout():
    return nn.Sequential(nn.Dense(64, 16, activation="sigmoid"), nn.Dropout(0.5), nn.Dense(16, 10))


def _with_rrelu():
    return nn.Sequential(nn.Dense(64, 16, activation=nn.RReLU()), nn.Dense(16, 10))


def _momentum(p):
    return optim.SGD(p, lr=0.1, momentum=0.9)


def _adam(p):
    return optim.Adam(p, lr=1e-2)


BITWISE = [
    ("Dropout: a fresh mask every call", Case(model=_with_dropout)),
    ("RReLU: fresh slopes every call", Case(model=_with_rrelu)),
    ("Adam: step count and bias corrections", Case(optimizer=_adam)),
    ("AdamW: decoupled decay with the current lr", Case(optimizer=lambda p: optim.AdamW(p, lr=1e-2))),
    ("SGD momentum: the first step makes the buffer", Case(optimizer=_momentum)),
    ("StepLR halves the rate every 4 calls", Case(calls=16, between=_scheduled(lambda o: optim.StepLR(o, 1, 0.5)))),
    (
        "CosineAnnealingLR with Adam",
        Case(optimizer=_adam, calls=16, between=_scheduled(lambda o: optim.CosineAnnealingLR(o, 4))),
    ),
    ("batches of 32, 32, 32, then 4 (an epoch's last)", Case(calls=16)),
    (
        "model.eval() after capture, train() later",
        Case(
            model=_with_dropout, calls=16, between=lambda i, m, o: m.eval() if i == 4 else m.train() if i == 8 else None
        ),
    ),
    ("load_state_dict into model and optimizer", Case(optimizer=_momentum, between=_saved_state())),
    (
        "gradients accumulated over two calls",
        Case(step=_step(update=False), between=lambda i, m, o: (o.step(), o.zero_grad()) if i % 2 else None),
    ),
    (
        "if loss > 2.2 in the step: a guard",
        Case(step=_step(lambda loss: (loss * 2 if loss > 2.2 else loss).backward()), calls=24, batch=(32,) * 8),
    ),
    ("a no_grad block in the step, values returned", Case(step=_evaluating)),
]
REFUSED = [
    ("loss.item() in the step", Case(step=_step(then=lambda model, x, loss: loss.item()))),
    ("print(loss) in the step", Case(step=_step(then=lambda model, x, loss: print(loss, file=io.StringIO())))),
    ("a hook on a parameter", Case(around=lambda m, o: _hook(m[0].weight))),
    ("Diagnostics (module and step hooks)", Case(around=Diagnostics)),
    ("anomaly detection on", Case(around=lambda m, o: tg.detect_anomaly())),
    (
        "a Python counter in the step",
        Case(step=_step(lambda loss, calls=itertools.count(1): (loss * next(calls)).backward())),
    ),
]


@contextlib.contextmanager
def _hook(tensor):
    handle = tensor.register_hook(lambda g: g)
    yield
    handle.remove()


def failure_rows():
    rows = []
    for name, case in BITWISE:
        replays, same = _bitwise(case)
        rows.append(
            harness.row(NAME, f"{name}: calls replayed", float(replays), "", "bitwise == eager", same and replays > 0)
        )
    for name, case in REFUSED:
        refused = _refused(case) is not None
        rows.append(harness.row(NAME, f"{name}: refused", float(refused), "", "CaptureError", refused))
    return rows


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    rows = digits_rows(args.quick) + capture_rows(args.quick) + large_rows(args.quick) + memory_rows(args.quick)
    rows += failure_rows()
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
