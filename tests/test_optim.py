import math

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import nn, optim

# Gradients fed to the optimizers, one per step: fixed numbers, so the expected values can be written out.
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-0.4, 0.0, 1.0])]
P0 = np.array([1.0, -2.0, 0.5])


def run(make, steps=3):
    p = nn.Parameter(P0.copy())
    opt = make([p])
    for g in GRADS[:steps]:
        p.grad = nn.Parameter(g.copy(), requires_grad=False)
        opt.step()
    return p.data


def test_plain_sgd_steps_against_the_gradient():
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, lr=0.1)), P0 - 0.1 * sum(GRADS))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_step_is_p_minus_lr_g_exactly_in_the_parameters_dtype(dtype):
    p0, g = P0.astype(dtype), GRADS[0].astype(dtype)
    p = nn.Parameter(p0.copy())
    p.grad = nn.Parameter(g, requires_grad=False)
    opt = optim.SGD([p], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(p.data, p0 - 0.1 * g)  # lr rounded to the dtype, not to float32
    assert p.data.dtype == dtype
    opt.param_groups[0]["lr"] = np.array(0.3)  # a new lr, even as an array, counts from the next step
    opt.step()
    np.testing.assert_array_equal(p.data, p0 - 0.1 * g - 0.3 * g)


def test_sgd_momentum_dampening_weight_decay_follow_pytorch_rule():
    lr, m, damp, wd = 0.1, 0.9, 0.2, 0.01
    p, buf = P0.copy(), None
    for g in GRADS:
        g = g + wd * p
        buf = g.copy() if buf is None else m * buf + (1 - damp) * g
        p = p - lr * buf
    got = run(lambda ps: optim.SGD(ps, lr=lr, momentum=m, dampening=damp, weight_decay=wd))
    np.testing.assert_allclose(got, p)


def test_sgd_nesterov():
    lr, m = 0.1, 0.9
    p, buf = P0.copy(), None
    for g in GRADS:
        buf = g.copy() if buf is None else m * buf + g
        p = p - lr * (g + m * buf)
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, lr=lr, momentum=m, nesterov=True)), p)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw(decoupled):
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.9, 1e-8, 0.1
    p, m, v = P0.copy(), 0.0, 0.0
    for t, g in enumerate(GRADS, 1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    cls = optim.AdamW if decoupled else optim.Adam
    np.testing.assert_allclose(run(lambda ps: cls(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)), p)


def test_rmsprop_and_adagrad():
    lr, alpha, eps = 0.01, 0.9, 1e-8
    p, v = P0.copy(), 0.0
    for g in GRADS:
        v = alpha * v + (1 - alpha) * g * g
        p = p - lr * g / (np.sqrt(v) + eps)
    np.testing.assert_allclose(run(lambda ps: optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps)), p)
    p, s = P0.copy(), 0.0
    for g in GRADS:
        s = s + g * g
        p = p - 0.1 * g / (np.sqrt(s) + 1e-10)
    np.testing.assert_allclose(run(lambda ps: optim.Adagrad(ps, lr=0.1)), p)


def test_update_is_in_place_skips_missing_grads_and_never_touches_grads():
    a, b = nn.Parameter(np.ones(3, np.float32)), nn.Parameter(np.ones(2, np.float32))
    shared = np.full(3, 2.0, np.float32)
    a.grad = nn.Parameter(shared, requires_grad=False)
    before = a.data
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    opt.step()
    opt.step()
    assert a.data is before and a.data.dtype == np.float32
    np.testing.assert_array_equal(b.data, np.ones(2))  # no grad: untouched
    np.testing.assert_array_equal(shared, np.full(3, 2.0))
    opt.zero_grad()
    assert a.grad is None


def test_parameter_groups_take_their_own_options():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    for p in (a, b):
        p.grad = nn.Parameter(np.ones(1), requires_grad=False)
    opt.step()
    assert a.data[0] == pytest.approx(-0.1) and b.data[0] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def one(param):
    return [param()]


# Bad inputs PyTorch 2.13 refuses too, with the same error class: (optimizer, params given a factory of
# fresh parameters, options, error class, our message).
BAD_INPUTS = [
    ("Adam", one, {"betas": (1.0, 0.9)}, ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    ("Adam", one, {"betas": (0.9, 1.0)}, ValueError, r"Adam: betas\[1\] must be in \[0, 1\), got 1.0"),
    ("AdamW", one, {"betas": (-0.1, 0.9)}, ValueError, r"AdamW: betas\[0\] must be in \[0, 1\), got -0.1"),
    ("Adam", one, {"betas": (float("nan"), 0.9)}, ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got nan"),
    ("Adam", one, {"betas": (0.9, "0.99")}, TypeError, r"Adam: betas\[1\] must be a number, got '0.99'"),
    ("SGD", one, {"lr": "0.1"}, TypeError, "SGD: lr must be a number, got '0.1'"),
    ("SGD", one, {"lr": None}, TypeError, "SGD: lr must be a number, got None"),
    ("SGD", one, {"lr": 1j}, TypeError, r"SGD: lr must be a number, got 1j"),
    ("SGD", one, {"lr": -1}, ValueError, "SGD: lr must be a finite number >= 0, got -1"),
    ("SGD", one, {"lr": 0.1, "momentum": -0.5}, ValueError, "SGD: momentum must be a finite number >= 0, got -0.5"),
    ("SGD", one, {"lr": 0.1, "weight_decay": -1}, ValueError, "SGD: weight_decay must be a finite number >= 0"),
    ("SGD", one, {"lr": 0.1, "nesterov": True}, ValueError, "SGD: Nesterov momentum needs momentum > 0"),
    ("Adam", one, {"eps": -1e-8}, ValueError, "Adam: eps must be a finite number >= 0, got -1e-08"),
    ("RMSprop", one, {"alpha": -0.1}, ValueError, r"RMSprop: alpha must be in \[0, 1\], got -0.1"),
    ("RMSprop", one, {"eps": -1}, ValueError, "RMSprop: eps must be a finite number >= 0, got -1"),
    ("Adagrad", one, {"lr_decay": -1}, ValueError, "Adagrad: lr_decay must be a finite number >= 0, got -1"),
    (
        "Adagrad",
        one,
        {"initial_accumulator_value": -1},
        ValueError,
        "Adagrad: initial_accumulator_value must be a finite number >= 0, got -1",
    ),
    ("SGD", lambda param: [], {"lr": 0.1}, ValueError, "SGD got an empty parameter list"),
    ("SGD", lambda param: param(), {"lr": 0.1}, TypeError, "SGD takes an iterable of parameters"),
    (
        "SGD",
        lambda param: [1.0],
        {"lr": 0.1},
        TypeError,
        "SGD can only optimize Tensors, but one of the params is float",
    ),
    (
        "SGD",
        lambda param: [param(), {"params": [param()]}],
        {"lr": 0.1},
        TypeError,
        "SGD can only optimize Tensors, but one of the params is dict",
    ),
    (
        "SGD",
        lambda param: [{"params": [param()]}, param()],
        {"lr": 0.1},
        TypeError,
        r"SGD: give either parameters or parameter groups \(dicts\), not both",
    ),
    ("SGD", lambda param: [param() * 2], {"lr": 0.1}, ValueError, "SGD: can't optimize a non-leaf Tensor"),
    (
        "Adam",
        lambda param: (lambda p: [{"params": [p]}, {"params": [param(), p]}])(param()),
        {},
        ValueError,
        "Adam: a parameter appears in more than one group",
    ),
]


@pytest.mark.parametrize("name, params, options, error, message", BAD_INPUTS)
def test_bad_inputs_are_errors_at_construction(name, params, options, error, message):
    with pytest.raises(error, match=message):
        getattr(optim, name)(params(lambda: nn.Parameter(np.zeros(1))), **options)


@pytest.mark.parametrize("name, params, options, error, message", BAD_INPUTS)
def test_torch_refuses_the_same_bad_inputs_with_the_same_error_class(name, params, options, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        getattr(torch.optim, name)(params(lambda: torch.zeros(1, requires_grad=True)), **options)


def test_a_parameter_given_twice_in_one_group_is_refused():
    p = nn.Parameter(np.zeros(1))  # PyTorch only warns ("in future, this will cause an error"): step would
    with pytest.raises(ValueError, match=r"SGD: a parameter appears twice in one group \(step would update it twice\)"):
        optim.SGD([p, p], lr=0.1)  # update it twice


def test_a_groups_own_options_are_checked_too():
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got -1"):  # PyTorch checks only
        optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "lr": -1}], lr=0.1)  # the defaults


@pytest.mark.parametrize("lr", [float("nan"), float("inf")])
def test_a_learning_rate_that_is_not_finite_is_refused(lr):
    with pytest.raises(ValueError, match=f"SGD: lr must be a finite number >= 0, got {lr}"):  # PyTorch accepts it and
        optim.SGD([nn.Parameter(np.zeros(1))], lr=lr)  # the first step makes every parameter nan


def test_a_tensor_that_does_not_require_grad_is_accepted_and_left_alone():
    frozen = tg.Tensor(np.ones(3))  # as in PyTorch: it has no grad, so step skips it
    optim.SGD([frozen], lr=0.1).step()
    np.testing.assert_array_equal(frozen.data, np.ones(3))


@pytest.mark.parametrize("lr", [0.1, 1, np.float32(0.5), np.array(0.25), True], ids=repr)
def test_any_real_number_is_a_learning_rate(lr):
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, lr=lr), steps=1), P0 - float(lr) * GRADS[0])


# ---- step hooks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_step_hooks_run_around_every_optimizers_step_until_removed(name):
    p = nn.Parameter(P0.copy())
    p.grad = nn.Parameter(GRADS[0].copy(), requires_grad=False)
    opt = getattr(optim, name)([p], lr=0.1)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o, args, kwargs, p.data.copy())))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", o, args, kwargs, p.data.copy())))
    opt.step()
    (when_pre, *call_pre, before), (when_post, *call_post, after) = seen
    assert (when_pre, when_post) == ("pre", "post") and call_pre == call_post == [opt, (), {}]
    np.testing.assert_array_equal(before, P0)  # the pre-hook sees the parameter before the update
    assert not np.array_equal(after, P0)  # the post-hook after it
    pre.remove()
    post.remove()
    opt.step()
    assert len(seen) == 2


def test_a_subclass_step_calling_super_runs_the_hooks_once():
    class ClippedSGD(optim.SGD):
        def step(self):
            for group in self.param_groups:
                for q in group["params"]:
                    np.clip(q.grad.data, -1, 1, out=q.grad.data)
            super().step()

    p = nn.Parameter(P0.copy())
    p.grad = nn.Parameter(GRADS[0].copy(), requires_grad=False)
    opt = ClippedSGD([p], lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda *args: calls.append(1))
    opt.step()
    assert calls == [1]
    np.testing.assert_allclose(p.data, P0 - 0.1 * np.clip(GRADS[0], -1, 1))


def test_a_hook_that_raises_leaves_the_optimizer_usable():
    p = nn.Parameter(P0.copy())
    p.grad = nn.Parameter(GRADS[0].copy(), requires_grad=False)
    opt = optim.SGD([p], lr=0.1)

    def failing(*args):
        raise RuntimeError("hook failed")

    handle = opt.register_step_pre_hook(failing)
    with pytest.raises(RuntimeError, match="hook failed"):
        opt.step()
    np.testing.assert_array_equal(p.data, P0)
    handle.remove()
    calls = []
    opt.register_step_post_hook(lambda *args: calls.append(1))
    opt.step()
    assert calls == [1]  # the hooks run again: the failed step did not leave the optimizer "inside" a step


def test_state_dict_round_trip_continues_identically():
    def make(p):
        return optim.Adam([p], lr=0.05)

    p = nn.Parameter(P0.copy())
    opt = make(p)
    for g in GRADS[:2]:
        p.grad = nn.Parameter(g, requires_grad=False)
        opt.step()
    saved_p, saved = p.data.copy(), opt.state_dict()
    p.grad = nn.Parameter(GRADS[2], requires_grad=False)
    opt.step()
    q = nn.Parameter(saved_p)
    restored = make(q)
    restored.load_state_dict(saved)
    q.grad = nn.Parameter(GRADS[2], requires_grad=False)
    restored.step()
    np.testing.assert_array_equal(q.data, p.data)
    with pytest.raises(ValueError, match=r"saved groups hold \[1\] parameters, this optimizer's \[2\]"):
        optim.Adam([nn.Parameter(P0.copy()), q]).load_state_dict(saved)


def test_schedulers_follow_their_formulas():
    def lrs(make, epochs=7):
        opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.5)
        sched = make(opt)
        out = []
        for _ in range(epochs):
            out.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return out

    assert lrs(lambda o: optim.StepLR(o, step_size=3, gamma=0.1)) == pytest.approx([0.5] * 3 + [0.05] * 3 + [0.005])
    assert lrs(lambda o: optim.ExponentialLR(o, gamma=0.9)) == pytest.approx([0.5 * 0.9**e for e in range(7)])
    cosine = [0.1 + 0.4 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(7)]
    assert lrs(lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=0.1)) == pytest.approx(cosine)


@pytest.mark.parametrize(
    "name, options",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
        ("AdamW", {"lr": 0.01}),
        ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ],
)
def test_optimizers_match_torch(name, options):
    torch = pytest.importorskip("torch")
    ours = run(lambda ps: getattr(optim, name)(ps, **options))
    p = torch.tensor(P0.copy(), requires_grad=True)
    opt = getattr(torch.optim, name)([p], **options)
    for g in GRADS:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(ours, p.detach().numpy(), rtol=1e-12)


def test_cosine_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    ours = optim.CosineAnnealingLR(optim.SGD([nn.Parameter(np.zeros(1))], lr=0.5), T_max=4, eta_min=0.01)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_opt, T_max=4, eta_min=0.01)
    for _ in range(6):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        theirs_opt.step()
        ours.step()
        theirs.step()
