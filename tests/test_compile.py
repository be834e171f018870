"""tg.compile: a compiled step gives, bitwise, what the eager step gives (every returned loss, the
weights, the optimizer's state), through every failure mode of naive capture; what it cannot replay
it refuses, naming why."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_es as tg
from tinygrad_es import data, nn, optim
from tinygrad_es.diagnostics import Diagnostics
from tinygrad_es.study.training import training_step

X, Y = data.load_digits()


def _batches(n=100, batch=32, epochs=3, dtype=np.float32):
    """Digit batches in a fixed order; the last batch of an epoch is smaller (100 = 3 x 32 + 4)."""
    x, y = X[:n].astype(dtype), Y[:n]
    return [
        (tg.Tensor(x[i : i + batch]), tg.Tensor(y[i : i + batch])) for _ in range(epochs) for i in range(0, n, batch)
    ]


def _mlp(*middle, activation="sigmoid", out=10):
    return nn.Sequential(nn.Dense(64, 16, activation=activation), *middle, nn.Dense(16, out))


def _setup(make_model=_mlp, make_optimizer=lambda p: optim.SGD(p, lr=0.5), make_step=training_step, seed=0):
    """model, optimizer and step(x, y): by default zero_grad, backward and an optimizer step."""
    tg.manual_seed(seed)
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    return model, optimizer, make_step(model, optimizer, nn.CrossEntropyLoss())


def _run(compiled, batches, between=None, **setup):
    """Train on `batches` with the step eager or compiled; `between(i, model, optimizer)` runs after
    call i. Returns the returned values, the model, the optimizer and the (compiled) step."""
    model, optimizer, step = _setup(**setup)
    fn = tg.compile(step) if compiled else step
    out = []
    for i, (x, y) in enumerate(batches):
        out.append(fn(x, y))
        if between is not None:
            between(i, model, optimizer)
    return out, model, optimizer, fn


def _state_arrays(optimizer):
    return [v for s in optimizer.state.values() for v in s.values() if isinstance(v, np.ndarray)]


def _python_state(optimizer):
    return [v for s in optimizer.state.values() for v in s.values() if not isinstance(v, np.ndarray)]


def _arrays(out):
    """The arrays in what a step returned (tensors, arrays, numbers; in tuples and dicts)."""
    if isinstance(out, dict):
        out = tuple(out.values())
    return [np.asarray(getattr(x, "data", x)) for x in (out if isinstance(out, tuple) else (out,))]


def _assert_same_training(batches, between=None, replays_at_least=1, **setup):
    """Eager and compiled training give, bitwise, the same returned values (new arrays at every
    call), weights, gradients and optimizer state. Returns the compiled step and the eager values."""
    eager, model_e, opt_e, _ = _run(False, batches, between, **setup)
    compiled, model_c, opt_c, fn = _run(True, batches, between, **setup)
    returned = [a for out in compiled for a in _arrays(out) if a.ndim or a.dtype.kind == "f"]
    assert len({id(a) for a in returned}) == len(returned)  # new arrays every call
    for e, c in zip(eager, compiled, strict=True):
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(_arrays(e), _arrays(c), strict=True))
    for p, q in zip(model_e.parameters(), model_c.parameters()):
        assert np.array_equal(p.data, q.data)
        assert (p.grad is None) == (q.grad is None) and (p.grad is None or np.array_equal(p.grad.data, q.grad.data))
    for a, b in zip(_state_arrays(opt_e), _state_arrays(opt_c), strict=True):
        assert np.array_equal(a, b)
    assert _python_state(opt_e) == _python_state(opt_c)
    assert fn.replays >= replays_at_least, (fn.recordings, fn.replays)
    return fn, eager


# ---- bitwise equal to eager -------------------------------------------------------------------------
def test_sgd_digits_every_loss_and_weight_bitwise_with_a_smaller_last_batch():
    fn, _ = _assert_same_training(_batches(epochs=4), replays_at_least=8)
    assert len(fn.programs) == 2  # the batch of 32 and the last batch of 4
    assert fn.recordings == 5  # 32: the leaves met late, then twice to agree; 4: twice


def test_plain_sgd_updates_the_parameters_as_one_flat_array():
    """SGD without momentum: the program updates one flat array whose parts the parameters' arrays
    become (their values unchanged), in two calls; eager steps on the same model still give the
    eager numbers."""
    model, optimizer, step = _setup()
    before = [p.data.copy() for p in model.parameters()]
    fn, batches = tg.compile(step), _batches(epochs=2)
    model_e, _, step_e = _setup()
    for x, y in batches[:3]:
        assert np.array_equal(fn(x, y).data, step_e(x, y).data)
    flat = model[0].weight.data.base
    assert flat is not None and flat.ndim == 1 and flat.size == sum(p.size for p in model.parameters())
    assert all(p.data.base is flat for p in model.parameters())
    assert "_mark_written(f0)" in fn.programs[next(iter(fn.programs))][0].source
    for i, (x, y) in enumerate(batches[3:]):
        run = step if i % 3 == 2 else fn  # eager calls in between
        assert np.array_equal(run(x, y).data, step_e(x, y).data)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), model_e.parameters()))
    assert not any(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))


def test_sgd_with_momentum_keeps_each_parameter_its_own_array():
    model, optimizer, step = _setup(make_optimizer=lambda p: optim.SGD(p, lr=0.1, momentum=0.9))
    arrays, fn = [p.data for p in model.parameters()], tg.compile(step)
    for x, y in _batches(epochs=2):
        fn(x, y)
    assert fn.replays > 0 and all(p.data is a for p, a in zip(model.parameters(), arrays))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes(dtype):
    def make_model():
        return nn.Sequential(nn.Dense(64, 16, activation="tanh", dtype=dtype), nn.Dense(16, 10, dtype=dtype))

    _assert_same_training(_batches(dtype=dtype), make_model=make_model)


def test_dropout_draws_fresh_masks_at_each_replay():
    _assert_same_training(_batches(epochs=4), make_model=lambda: _mlp(nn.Dropout(0.5)), replays_at_least=6)


def test_dropout_with_its_own_generator():
    make_model = lambda: _mlp(nn.Dropout(0.3, generator=np.random.default_rng(5)))  # noqa: E731
    _assert_same_training(_batches(epochs=4), make_model=make_model)


def test_rrelu_draws_fresh_slopes_at_each_replay():
    make_model = lambda: _mlp(activation=nn.RReLU())  # noqa: E731
    _assert_same_training(_batches(epochs=4), make_model=make_model)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.1),
        lambda p: optim.Adam(p, lr=1e-2),
        lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-3),
        lambda p: optim.AdamW(p, lr=1e-2),
        lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
        lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    ],
    ids=["momentum", "nesterov+decay", "dampening", "adam", "adam+decay", "adamw", "rmsprop", "adagrad"],
)
def test_optimizers_state_and_step_counts(make_optimizer):
    _assert_same_training(_batches(epochs=4), make_optimizer=make_optimizer, replays_at_least=6)


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
        lambda o: optim.CosineAnnealingLR(o, T_max=5),
        lambda o: optim.ExponentialLR(o, gamma=0.9),
    ],
)
def test_schedulers_change_the_rate_without_recording_again(make_scheduler):
    schedulers = {}

    def between(i, model, optimizer):
        if id(optimizer) not in schedulers:
            schedulers[id(optimizer)] = make_scheduler(optimizer)
        if i % 4 == 3:  # once per epoch of 4 batches
            schedulers[id(optimizer)].step()

    fn, _ = _assert_same_training(_batches(epochs=6), between, make_optimizer=lambda p: optim.Adam(p, lr=1e-2))
    assert fn.recordings <= 5  # the learning rate is read at replay: no new recording per epoch


def test_eval_mode_after_compiling_records_again_and_back():
    def between(i, model, optimizer):
        if i == 5:
            model.eval()
        if i == 9:
            model.train()

    fn, _ = _assert_same_training(_batches(epochs=4), between, make_model=lambda: _mlp(nn.Dropout(0.5)))
    assert max(len(programs) for programs in fn.programs.values()) == 2  # batches of 32: in train and eval mode


def test_load_state_dict_into_model_and_optimizer_mid_training():
    saved = {}

    def between(i, model, optimizer):
        if i == 2:
            saved["model"], saved["optimizer"] = model.state_dict(), optimizer.state_dict()
        if i == 8:  # back to step 3: the model's arrays are written in place, the optimizer's state replaced
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])

    _assert_same_training(_batches(epochs=4), between, make_optimizer=lambda p: optim.SGD(p, lr=0.1, momentum=0.9))


def _backward_only(model, optimizer, loss_fn):
    def accumulate(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return accumulate


def test_gradients_accumulated_over_two_calls():
    def update_every_second_call(i, model, optimizer):  # zero_grad every second step
        if i % 2:
            optimizer.step()
            optimizer.zero_grad()

    fn, _ = _assert_same_training(
        _batches(epochs=4), update_every_second_call, replays_at_least=4, make_step=_backward_only
    )
    assert len(fn.programs[next(iter(fn.programs))]) == 2  # without and with gradients at the start


def _branching(model, optimizer, loss_fn):
    def step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        (loss * 2 if loss > 2.2 else loss).backward()
        optimizer.step()
        return loss

    return step


def test_a_bool_read_in_the_step_is_a_guard():
    """`if loss > t:` inside the step: replays while the branch stays, records again when it flips."""
    _, eager = _assert_same_training(_batches(epochs=6), make_step=_branching)
    assert any(loss.item() > 2.2 for loss in eager) and any(loss.item() <= 2.2 for loss in eager)


def _replaying():
    """(model, optimizer, compiled step, x, y), the step already replaying on batch (x, y)."""
    model, optimizer, step = _setup()
    fn, (x, y) = tg.compile(step), _batches()[0]
    for _ in range(4):
        fn(x, y)
    assert fn.replays == 1
    return model, optimizer, fn, x, y


def test_invalid_targets_at_replay_raise_as_eager_does():
    _, _, fn, x, y = _replaying()
    bad = tg.Tensor(np.where(np.arange(32) == 3, 10, y.data))
    with pytest.raises(IndexError) as eager:
        _setup()[2](x, bad)
    with pytest.raises(IndexError) as replayed:
        fn(x, bad)
    assert str(replayed.value) == str(eager.value)


def _evaluating(model, optimizer, loss_fn):
    train = training_step(model, optimizer, loss_fn)

    def step(x, y):
        loss = train(x, y)
        with tg.no_grad():
            right = (model(x).data.argmax(axis=1) == y.data).mean()
        return {"loss": loss, "accuracy": right, "n": len(x)}

    return step


def test_no_grad_blocks_in_the_step_and_values_returned():
    _assert_same_training(_batches(epochs=3), make_step=_evaluating)


def test_numpy_arrays_as_arguments():
    def wrapping(model, optimizer, loss_fn):  # the step gets NumPy arrays and makes the tensor itself
        train = training_step(model, optimizer, loss_fn)
        return lambda x, y: train(tg.Tensor(x.data if isinstance(x, tg.Tensor) else x), y)

    batches = [(x.data, y.data) for x, y in _batches(epochs=3)]
    _assert_same_training(batches, make_step=wrapping)


def test_a_replaced_layer_and_a_new_param_group_are_recorded_again():
    def between(i, model, optimizer):
        if i == 6:
            tg.manual_seed(7)
            setattr(model, "1", nn.Dense(16, 10))
            optimizer.add_param_group({"params": list(model[1].parameters()), "lr": 0.1})

    _assert_same_training(_batches(epochs=4), between)


def test_plain_ops_fancy_indexing_and_a_manual_update():
    """No module, no optimizer: leaf tensors, ops written out (matmul, broadcasting, tanh, where,
    maximum, log_softmax, indexing whose backward adds into np.zeros), and SGD by hand under no_grad."""

    def make():
        tg.manual_seed(1)
        w1, b1 = tg.randn(64, 16, requires_grad=True), tg.zeros(16, requires_grad=True)
        w2 = tg.randn(16, 10, requires_grad=True)

        def step(x, y):
            h = (x @ (w1 * 0.125) + b1).tanh()
            h = tg.where(h > 0, h, tg.maximum(h, -0.5) * 0.1)
            logits = (h @ w2).reshape(len(x), 10)
            picked = logits.log_softmax(axis=1)[np.arange(len(x)), y]
            loss = -picked.mean() + (w2[::2] ** 2).sum() * 1e-3
            loss.backward()
            with tg.no_grad():
                for w in (w1, b1, w2):
                    w -= 0.1 * w.grad
                    w.grad = None
            return loss

        return step, (w1, b1, w2)

    eager, compiled = make(), make()
    fn = tg.compile(compiled[0])
    for x, y in _batches(epochs=3):
        assert np.array_equal(eager[0](x, y.data).data, fn(x, y.data).data)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(eager[1], compiled[1]))
    assert fn.replays >= 4


def test_a_compiled_method():
    class Trainer:
        def __init__(self):
            self.model, self.optimizer, _ = _setup()

        @tg.compile
        def step(self, x, y):
            loss = nn.CrossEntropyLoss()(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            return loss

    trainer, (_, _, step) = Trainer(), _setup()
    for x, y in _batches(epochs=3):
        assert np.array_equal(trainer.step(x, y).data, step(x, y).data)
    assert Trainer.step.replays > 0


_OPS = {  # h: the running tensor, w: a 0-d function of the parameter
    "add": lambda h, w: h + w,
    "mul": lambda h, w: h * w,
    "sub_reflected": lambda h, w: 1.5 - h,
    "tanh": lambda h, w: h.tanh(),
    "sigmoid": lambda h, w: h.sigmoid(),
    "relu": lambda h, w: h.relu(),
    "exp": lambda h, w: (h * 0.5).exp(),
    "square": lambda h, w: h**2,
    "abs": lambda h, w: h.abs(),
    "maximum": lambda h, w: tg.maximum(h, w),
    "clip": lambda h, w: h.clip(-0.5, 0.7),
    "where": lambda h, w: tg.where(h > w, h, w * 2),
    "softmax": lambda h, w: h.softmax(axis=-1) if h.ndim else h,
    "sum": lambda h, w: h.sum(axis=-1, keepdims=True) if h.ndim else h.sum(),
    "mean": lambda h, w: h.mean(axis=0) if h.ndim else h.mean(),
    "transpose": lambda h, w: h.transpose() if h.ndim >= 2 else h,
    "flatten": lambda h, w: h.reshape(-1) * 1,
}
_LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "transposed": lambda a: a.T.copy().T,
    "strided": lambda a: np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a,
}


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_random_op_chains_on_any_shape_and_layout_replay_bitwise(shape, data):
    ops = data.draw(st.lists(st.sampled_from(sorted(_OPS)), min_size=1, max_size=5))
    layout = _LAYOUTS[data.draw(st.sampled_from(sorted(_LAYOUTS)))]
    w_shape = shape[len(shape) - data.draw(st.integers(0, len(shape))) :]  # a trailing part: broadcasts
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    inputs = [layout(rng.standard_normal(shape).astype(np.float32)) for _ in range(5)]
    start = rng.standard_normal(w_shape).astype(np.float32)

    def make():
        w = tg.Tensor(start.copy(), requires_grad=True)

        def step(x):
            nonlocal w
            h = x * w  # w broadcasts against x; later ops change shapes, and see w through its mean
            for name in ops:
                h = _OPS[name](h, w.mean())
            loss = ((h + 1) ** 2).mean()
            loss.backward()
            with tg.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
            return loss, h.detach()

        return step, w

    (eager, w_eager), (compiled, w_compiled) = make(), make()
    compiled = tg.compile(compiled)
    for x in inputs:
        with np.errstate(over="ignore", invalid="ignore"):  # a long chain may overflow: the same inf, nan in both
            (loss_e, h_e), (loss_c, h_c) = eager(tg.Tensor(x)), compiled(tg.Tensor(x))
        assert loss_e.dtype == loss_c.dtype and np.array_equal(loss_e.data, loss_c.data, equal_nan=True)
        assert h_e.shape == h_c.shape and np.array_equal(h_e.data, h_c.data, equal_nan=True)
    assert np.array_equal(w_eager.data, w_compiled.data, equal_nan=True)
    assert compiled.replays >= 2, ops


def test_silent_ops_stay_silent_at_replay():
    """Div and Exp run under np.errstate(all="ignore") (helpers.silent): x / 0 is inf, exp of it inf,
    without a warning; the replay makes the same calls under the same errstate."""
    w = tg.Tensor(np.array([0.0, 1.0, -2.0], np.float32), requires_grad=True)

    def step(x):
        return (x / w).exp().detach() * 2

    fn, x = tg.compile(step), tg.Tensor(np.array([1.0, 100.0, -3.0], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [fn(x) for _ in range(4)]
    assert fn.replays == 1
    assert all(np.array_equal(r.data, step(x).data) for r in results) and np.isinf(results[-1].data).sum() == 2


# ---- refused ----------------------------------------------------------------------------------------------
def _refused(step, match, calls=1):
    fn = tg.compile(step)
    x, y = _batches()[0]
    with pytest.raises(tg.CaptureError, match=match):
        for _ in range(calls):
            fn(x, y)
    return fn


def test_item_inside_the_step_is_refused():
    model, optimizer, _ = _setup()

    def step(x, y):
        loss = nn.CrossEntropyLoss()(model(x), y)
        if loss.item() > 2.3:
            loss = loss * 2
        return loss.detach()

    _refused(step, r"reads an array's values into Python \(item\)")


def test_printing_inside_the_step_is_refused():
    model, _, _ = _setup()
    _refused(lambda x, y: print(model(x).data.sum()), "prints an array")


def test_hooks_are_refused():
    model, optimizer, step = _setup()
    handle = model[0].register_forward_hook(lambda *args: None)
    _refused(step, "has a forward or backward hook")
    handle.remove()
    handle = model[0].weight.register_hook(lambda g: g)
    _refused(step, "has a gradient hook")
    handle.remove()
    handle = optimizer.register_step_post_hook(lambda *args: None)
    _refused(step, "has step hooks")
    handle.remove()


def test_a_hook_added_after_compiling_is_refused_at_the_next_call():
    model, optimizer, fn, x, y = _replaying()
    with Diagnostics(model, optimizer), pytest.raises(tg.CaptureError, match="hook"):
        fn(x, y)


def test_anomaly_mode_is_refused():
    _, _, step = _setup()
    with tg.detect_anomaly():
        _refused(step, "anomaly detection")


def test_a_graph_returned_unused_is_refused():
    model, _, _ = _setup()
    _refused(lambda x, y: model(x), "graph backward has not gone through")


def test_a_scheduler_stepped_inside_the_step_is_refused():
    model, optimizer, step = _setup()
    scheduler = optim.StepLR(optimizer, 1)

    def stepped(x, y):
        loss = step(x, y)
        scheduler.step()
        return loss

    _refused(stepped, "options")


def test_a_step_that_leaves_another_mode_is_refused():
    model, optimizer, step = _setup()

    def toggling(x, y):  # a replay would not switch
        out = model(x).detach()
        model.train(not model.training)
        return out

    _refused(toggling, "train\\(\\) and eval\\(\\)", calls=3)


def test_a_python_number_that_changes_every_call_is_refused():
    model, optimizer, _ = _setup()
    calls = [0]

    def step(x, y):
        calls[0] += 1
        loss = nn.CrossEntropyLoss()(model(x) * calls[0], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    _refused(step, "did not do the same", calls=5)


def test_fallback_runs_eagerly_with_one_warning():
    results = []
    for compiled in (False, True):
        model, optimizer, _ = _setup()

        def step(x, y):
            loss = nn.CrossEntropyLoss()(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        fn = tg.compile(step, fallback=True) if compiled else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append([fn(x, y) for x, y in _batches()])
    assert results[0] == results[1]
    assert len(caught) == 1 and "item" in str(caught[0].message) and "runs eagerly" in str(caught[0].message)
    assert fn.eager and fn.recordings == 1
