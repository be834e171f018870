"""Gradients of gradients: backward(create_graph=True), autograd.grad, gradgradcheck, second and third
derivatives of every activation (formulas, finite differences, PyTorch), the fused nodes, hooks,
and what a create_graph backward keeps alive."""

import gc
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from test_engine import Cube

import tinygrad_es as tg
from tinygrad_es import Function, GradcheckError, Tensor, autograd, fused, gradcheck, gradgradcheck, nn
from tinygrad_es import activations as A
from tinygrad_es.study.training import paper_cross_entropy
from tinygrad_es.testing import LAYOUTS, assert_close, check_module, floats, shapes, tensors

POINTS = np.array([[-4.3, -2.7, -1.1, -0.6], [-0.2, 0.15, 0.45, 0.9], [1.7, 3.4, 5.2, 6.8]])  # off every kink
KINKS = np.array([[-1e4, -6.0, -3.0, -1.0], [-0.5, 0.0, 0.5, 1.0], [3.0, 6.0, 30.0, 1e4]])


def derivative(out, x, order, rng):
    """The order-th derivative of out along random directions: out seeded with a random upstream
    gradient, then each gradient with another (a vector in x's shape), recorded all the way."""
    for _ in range(order):
        if not out.requires_grad:  # a constant (the identity's gradient): its derivatives are 0
            return np.zeros(x.shape)
        (out,) = autograd.grad(out, x, Tensor(rng.standard_normal(out.shape)), create_graph=True, allow_unused=True)
        if out is None:
            return np.zeros(x.shape)
    return out.data


# ---- backward(create_graph=True) and autograd.grad ------------------------------------------------
def test_backward_with_create_graph_gives_a_grad_that_can_be_differentiated():
    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.grad_fn is not None
    assert_close(first.data, 3 * x.data**2)
    x.grad = None
    first.sum().backward()
    assert_close(x.grad.data, 6 * x.data)
    assert not x.grad.requires_grad


def test_retain_graph_defaults_to_create_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(create_graph=True)
    y.backward()  # the graph was kept
    assert_close(x.grad.data, 2 * (2 * x.data))
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="already released"):
        z.backward()


def test_create_graph_gradients_accumulate_out_of_place_and_stay_in_the_graph():
    x = Tensor([0.5, 1.5], requires_grad=True)
    (x**2).sum().backward(create_graph=True)
    first = x.grad
    (x**3).sum().backward(create_graph=True)
    assert x.grad is not first and x.grad.requires_grad  # the first gradient tensor was not written into
    assert_close(first.data, 2 * x.data)
    assert_close(x.grad.data, 2 * x.data + 3 * x.data**2)
    (second,) = autograd.grad(x.grad.sum(), x)
    assert_close(second.data, 2 + 6 * x.data)


def test_grad_returns_a_tuple_and_leaves_every_grad_alone():
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor(3.0, requires_grad=True)
    out = (x * y).sum()
    gx, gy = autograd.grad(out, (x, y), create_graph=True)
    assert x.grad is None and y.grad is None
    assert_close(gx.data, np.array([3.0, 3.0], np.float32))
    assert_close(gy.data, np.array(3.0, np.float32))
    (gxy,) = autograd.grad(gx.sum(), y)  # d/dy sum(d out/dx) = 2
    assert_close(gxy.data, np.array(2.0, np.float32))


def test_grad_of_an_unused_input_is_an_error_unless_allow_unused():
    x, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used to compute the outputs; pass allow_unused=True"):
        autograd.grad(out, (x, unused), retain_graph=True)
    gx, gu = autograd.grad(out, (x, unused), allow_unused=True)
    assert gu is None and gx.data.tolist() == [2.0]


def test_grad_weighs_a_non_scalar_output_with_grad_outputs_and_takes_intermediate_tensors():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    h = x * x
    out = h.tanh()
    w = np.array([0.5, -1.0, 2.0])
    gx, gh = autograd.grad(out, (x, h), Tensor(w), create_graph=True)
    assert_close(gh.data, w * (1 - np.tanh(x.data**2) ** 2))
    assert_close(gx.data, gh.data * 2 * x.data)
    (ggx,) = autograd.grad(gx, x, Tensor(np.ones(3)))  # d/dx [w (1 - tanh^2(x^2)) 2x]
    t = np.tanh(x.data**2)
    assert_close(ggx.data, w * (2 * (1 - t**2) - 8 * x.data**2 * t * (1 - t**2)))


def test_mixed_second_derivatives_of_a_polynomial():
    x, y = Tensor(1.5, requires_grad=True, dtype=np.float64), Tensor(-0.5, requires_grad=True, dtype=np.float64)
    f = x * x * y + y**3  # f_x = 2xy, f_y = x^2 + 3y^2, f_xx = 2y, f_xy = 2x, f_yy = 6y
    fx, fy = autograd.grad(f, (x, y), create_graph=True)
    fxx, fxy = autograd.grad(fx, (x, y), retain_graph=True)
    fyx, fyy = autograd.grad(fy, (x, y))
    assert [fxx.item(), fxy.item(), fyx.item(), fyy.item()] == [-1.0, 3.0, 3.0, -3.0]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_derivatives_of_tanh_sigmoid_and_softplus_match_their_formulas(order):
    x = Tensor(POINTS, requires_grad=True)
    t, s = np.tanh(POINTS), 1 / (1 + np.exp(-POINTS))
    formulas = {  # the order-th derivative
        A.tanh: [1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2)],
        A.sigmoid: [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s**2)],
        A.softplus: [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)],
    }
    for fn, derivatives in formulas.items():
        out = fn(x).sum()
        for _ in range(order):
            (out,) = autograd.grad(out.sum(), x, create_graph=True)
        assert_close(out.data, derivatives[order - 1], rtol=1e-12, atol=1e-14)


def torch_derivative(torch, out, x, order, rng):
    """derivative() in PyTorch, with the same random directions for the same rng seed."""
    for _ in range(order):
        if not out.requires_grad:
            return np.zeros(tuple(x.shape))
        seed = torch.tensor(rng.standard_normal(tuple(out.shape)))
        (out,) = torch.autograd.grad(out, x, seed, create_graph=True, allow_unused=True)
        if out is None:
            return np.zeros(tuple(x.shape))
    return out.detach().numpy()


@pytest.mark.parametrize("order", [2, 3])
@pytest.mark.parametrize("points", [POINTS, KINKS], ids=["smooth", "kinks"])
@pytest.mark.parametrize("name", [name for name in nn.activation_names() if name != "hardsigmoid"])
def test_second_and_third_derivatives_of_every_activation_match_pytorch(name, points, order):
    """Also at the kinks, where PyTorch's choice is 0 (ReLU, hardtanh, step; the ELU family at 0),
    and at +-1e4. PyTorch 2.13 has no second derivative for hardsigmoid (ours is 0, as for every
    piecewise linear activation, tested below), and mish's third overflows to nan at 1e4 in PyTorch,
    where it is 0."""
    torch = pytest.importorskip("torch")
    from test_activations import torch_reference

    x, tx = Tensor(points, requires_grad=True), torch.tensor(points, requires_grad=True)
    layer = nn.get_activation(name).eval()
    ours = derivative(layer(x) * 1, x, order, np.random.default_rng(order))  # * 1: the identity is an op then
    theirs = torch_derivative(torch, torch_reference(torch, name)(tx) * 1, tx, order, np.random.default_rng(order))
    compared = ~np.isnan(theirs) if name == "mish" else np.ones(points.shape, bool)
    assert_close(ours[compared], theirs[compared], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name", nn.activation_names())
def test_second_derivatives_of_every_activation_pass_gradgradcheck(name):
    layer = nn.get_activation(name).eval()
    x = Tensor(POINTS + np.random.default_rng(2).uniform(-0.05, 0.05, POINTS.shape), requires_grad=True)
    assert gradgradcheck(layer, (x,))


@pytest.mark.parametrize(
    "fn, kinks",
    [
        (A.relu, [0.0]),
        (lambda x: A.leaky_relu(x, 0.1), [0.0]),
        (A.hardtanh, [-1.0, 1.0]),
        (A.relu6, [0.0, 6.0]),
        (A.step, [0.0]),
        (A.hardsigmoid, [-3.0, 3.0]),
        (A.softshrink, [-0.5, 0.5]),
        (A.hardshrink, [-0.5, 0.5]),
        (lambda x: A.threshold(x, 0.5, 2.0), [0.5]),
    ],
    ids=["relu", "leaky_relu", "hardtanh", "relu6", "step", "hardsigmoid", "softshrink", "hardshrink", "threshold"],
)
def test_piecewise_linear_activations_have_a_second_derivative_of_0_also_at_their_kinks(fn, kinks):
    points = np.concatenate([POINTS.ravel(), kinks])
    x = Tensor(points, requires_grad=True)
    (first,) = autograd.grad(fn(x).sum(), x, create_graph=True)
    (second,) = autograd.grad(first.sum(), x)
    assert_close(second.data, np.zeros_like(points))


@pytest.mark.parametrize(
    "fn, left",
    [
        (A.elu, np.exp),
        (lambda x: A.elu(x, 2.0), lambda x: 2 * np.exp(x)),
        (A.selu, lambda x: A.SELU.SCALE * A.SELU.ALPHA * np.exp(x)),
        (lambda x: A.celu(x, 0.5), lambda x: np.exp(x / 0.5) / 0.5),
    ],
    ids=["elu", "elu_alpha_2", "selu", "celu_alpha_half"],
)
def test_elu_family_second_derivative_is_0_from_the_kink_on_as_pytorch(fn, left):
    points = np.array([-1.0, -1e-9, 0.0, 1e-9, 2.0])
    x = Tensor(points, requires_grad=True)
    (first,) = autograd.grad(fn(x).sum(), x, create_graph=True)
    (second,) = autograd.grad(first.sum(), x)
    assert_close(second.data, np.where(points < 0, left(points), 0.0))


def test_pow_mixed_second_derivative_at_exponent_0_is_1_over_x():
    """d/dp d/dx x^p = x^(p-1) (1 + p log x): 1/x at p = 0 (PyTorch gives 0 there, masking p = 0)."""
    x, p = Tensor(np.array([0.5, 2.0]), requires_grad=True), Tensor(np.array([0.0, 0.0]), requires_grad=True)
    (gx,) = autograd.grad((x**p).sum(), x, create_graph=True)
    assert gx.data.tolist() == [0.0, 0.0]  # x^0 is constant in x
    (gxp,) = autograd.grad(gx.sum(), p)
    assert_close(gxp.data, 1 / x.data)
    assert gradgradcheck(lambda x, p: x**p, (x, p))
    zero = Tensor(np.array([0.0]), requires_grad=True)  # 0^p at p = 0: still 0, not 0 * inf
    (g0,) = autograd.grad((zero ** Tensor(np.array([0.0]))).sum(), zero, create_graph=True)
    assert g0.data.tolist() == [0.0]


# ---- every loss, as a user calls it --------------------------------------------------------------
RNG = np.random.default_rng(6)
LOGITS, LABELS, TARGET = RNG.standard_normal((4, 3)), np.array([2, 0, 1, 1]), RNG.uniform(0.1, 0.9, (4, 3))
LOSSES = {  # name -> (loss of the tensor x, values of x)
    "mse_loss": (lambda x: tg.losses.mse_loss(x, Tensor(TARGET)), LOGITS),
    "half_mse_loss": (lambda x: tg.losses.half_mse_loss(x, Tensor(TARGET)), LOGITS),
    "huber_loss": (lambda x: tg.losses.huber_loss(x, Tensor(TARGET), delta=0.5), LOGITS),
    "binary_cross_entropy": (lambda x: tg.losses.binary_cross_entropy(x, Tensor(TARGET)), TARGET[::-1].copy()),
    "binary_cross_entropy_with_logits": (
        lambda x: tg.losses.binary_cross_entropy_with_logits(x, Tensor(TARGET)),
        LOGITS,
    ),
    "nll_loss": (lambda x: tg.losses.nll_loss(A.log_softmax(x), LABELS), LOGITS),
    "cross_entropy": (lambda x: tg.functional.cross_entropy(x, LABELS), LOGITS),
    "cross_entropy, probabilities": (
        lambda x: tg.losses.cross_entropy(x, Tensor(TARGET / TARGET.sum(1)[:, None])),
        LOGITS,
    ),
    "cross_entropy, weights, smoothing, ignored": (
        lambda x: tg.losses.cross_entropy(
            x, np.array([2, -100, 1, 0]), weight=np.array([0.5, 2.0, 1.0]), label_smoothing=0.1
        ),
        LOGITS,
    ),
    "paper_cross_entropy": (lambda x: paper_cross_entropy(A.sigmoid(x), Tensor(TARGET)), LOGITS),
}


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_has_right_second_derivatives(name):
    loss, values = LOSSES[name]
    assert gradgradcheck(loss, (Tensor(values, requires_grad=True),))


# ---- the fused nodes -------------------------------------------------------------------------------
def dense_activations():
    """Every activation a Dense layer takes by name (it fuses the elementwise ones into its node)."""
    return [name for name in nn.activation_names() if name not in ("linear", "swish")]  # aliases


@pytest.mark.parametrize("name", dense_activations())
def test_dense_layer_with_every_activation_passes_check_module_to_second_order(name):
    layer = nn.Dense(3, 4, activation=name, generator=np.random.default_rng(0))  # float32: checked in float64
    if name == "glu":
        layer = nn.Sequential(nn.Dense(3, 4, generator=np.random.default_rng(0)), nn.GLU())
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    assert check_module(layer.eval(), x, order=2)
    assert layer.parameters().__next__().dtype == np.float32  # the layer's own parameters are untouched


@pytest.mark.parametrize(
    "activation",
    sorted(set(A.Elementwise.__subclasses__()) | {A.SELU, A.ReLU6}, key=lambda a: a.__name__),
    ids=lambda a: a.__name__,
)
def test_fused_linear_gives_the_plain_compositions_first_and_second_derivatives(activation):
    options = {
        A.LeakyReLU: {"negative_slope": 0.1},
        A.ELU: {"alpha": 1.0},
        A.CELU: {"alpha": 1.0},
        A.Softplus: {"beta": 1.0, "threshold": 20.0},
        A.GELU: {"approximate": "tanh"},
        A.Hardtanh: {"min_val": -1.0, "max_val": 1.0},
        A.Softshrink: {"lambd": 0.5},
        A.Hardshrink: {"lambd": 0.5},
        A.Threshold: {"threshold": 0.1, "value": 2.0},
        A.RReLU: {"lower": 0.1, "upper": 0.3, "generator": np.random.default_rng(5)},
    }.get(activation, {})
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(shape) for shape in ((4, 3), (2, 3), (2,))]

    def second_order(fn):
        x, w, b = (Tensor(v, requires_grad=True) for v in values)
        out = fn(x, w, b)
        grads = autograd.grad(((out + 1) ** 2).mean(), (x, w, b), create_graph=True)
        loss = sum((g * g).sum() for g in grads)  # a gradient penalty: it needs the second derivatives
        return [g.data for g in grads] + [g.data for g in autograd.grad(loss, (x, w, b))]

    if activation is A.RReLU:  # the same slopes in both: a generator in the same state
        options_again = {**options, "generator": np.random.default_rng(5)}
    else:
        options_again = options
    fused_results = second_order(lambda x, w, b: fused.linear(x, w, b, activation, options))
    plain_results = second_order(lambda x, w, b: fused.plain_linear(x, w, b, activation, options_again))
    for ours, plain in zip(fused_results, plain_results):
        assert_close(ours, plain, rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(x=tensors(shapes(2, 3, min_side=2, max_side=3), layouts=LAYOUTS, elements=floats(-2, 2)))
def test_dense_second_derivatives_do_not_depend_on_the_inputs_memory_layout(x):
    """A gradient penalty through a Dense layer (fused, the batch axes flattened), with x in C,
    Fortran, transposed or strided memory, equals the one from the same values in C order."""
    layer = nn.Dense(x.shape[-1], 2, activation="tanh", dtype=np.float64, generator=np.random.default_rng(0))

    def penalty_gradient(x):
        x = Tensor(x.data, requires_grad=True)
        (gx,) = autograd.grad(((layer(x) + 1) ** 2).mean(), x, create_graph=True)
        return autograd.grad((gx * gx).sum(), (x, layer.weight))

    for ours, plain in zip(penalty_gradient(x), penalty_gradient(Tensor(np.ascontiguousarray(x.data)))):
        assert_close(ours.data, plain.data, rtol=1e-12, atol=1e-14)


def test_fused_linear_with_rrelu_keeps_its_slopes_under_create_graph():
    """RReLU draws its slopes on each call: a fused node that composes again under create_graph
    would draw others, so fused.linear runs it as a node of its own."""
    rng = np.random.default_rng(0)
    x = Tensor(-np.abs(rng.standard_normal((2, 3))), requires_grad=True)
    w, b = Tensor(np.abs(rng.standard_normal((2, 3))), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    out = fused.linear(x, w, b, A.RReLU, {"lower": 0.1, "upper": 0.3, "generator": np.random.default_rng(7)})
    (plain,) = autograd.grad(out.sum(), x, retain_graph=True)
    (recorded,) = autograd.grad(out.sum(), x, create_graph=True)
    assert_close(recorded.data, plain.data)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_has_the_plain_second_derivatives(reduction):
    rng = np.random.default_rng(4)
    logits, target = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    results = []
    for loss_fn in (fused.cross_entropy, tg.losses.cross_entropy):
        z = Tensor(logits, requires_grad=True)
        out = loss_fn(z, target, reduction=reduction)
        assert type(out.grad_fn) is (fused.CrossEntropy if loss_fn is fused.cross_entropy else type(out.grad_fn))
        (g,) = autograd.grad(out, z, Tensor(rng.standard_normal(out.shape)), create_graph=True)
        results.append(autograd.grad(g, z, Tensor(rng.standard_normal(g.shape)))[0].data)
        rng = np.random.default_rng(4)
        rng.standard_normal((5, 4))
    assert_close(results[0], results[1], rtol=1e-12, atol=1e-12)
    assert gradgradcheck(
        lambda z: fused.cross_entropy(z, target, reduction=reduction), (Tensor(logits, requires_grad=True),)
    )


def test_gradient_penalty_through_a_dense_network_matches_pytorch():
    """A WGAN-GP style penalty: (||d critic / d x|| - 1)^2, whose gradient with respect to the weights
    needs the second derivatives of every layer."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    critic = nn.Sequential(
        nn.Dense(3, 8, activation="tanh", dtype=np.float64, generator=rng),
        nn.Dense(8, 8, activation="softplus", dtype=np.float64, generator=rng),
        nn.Dense(8, 1, dtype=np.float64, generator=rng),
    )
    x_values = rng.standard_normal((6, 3))
    x = Tensor(x_values, requires_grad=True)
    (gx,) = autograd.grad(critic(x).sum(), x, create_graph=True)
    penalty = ((((gx * gx).sum(axis=1)) ** 0.5 - 1) ** 2).mean()
    penalty.backward()

    layers = [
        torch.nn.Linear(3, 8, dtype=torch.float64),
        torch.nn.Linear(8, 8, dtype=torch.float64),
        torch.nn.Linear(8, 1, dtype=torch.float64),
    ]
    with torch.no_grad():
        for theirs, ours in zip(layers, critic):
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    t_critic = torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1], torch.nn.Softplus(), layers[2])
    tx = torch.tensor(x_values, requires_grad=True)
    (tgx,) = torch.autograd.grad(t_critic(tx).sum(), tx, create_graph=True)
    t_penalty = ((tgx.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
    t_penalty.backward()
    assert_close(penalty.data, t_penalty.detach().numpy())
    for theirs, ours in zip(layers, critic):
        assert_close(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    for theirs, ours in zip(layers[:2], critic):
        assert_close(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    last_bias = critic[2].bias.grad  # the penalty does not depend on it: PyTorch leaves None, 0 here
    assert layers[2].bias.grad is None and (last_bias is None or not last_bias.data.any())


# ---- hooks ----------------------------------------------------------------------------------------
def test_tensor_and_module_hooks_see_tensors_under_create_graph_as_in_pytorch():
    torch = pytest.importorskip("torch")
    values, seen = np.array([0.3, -0.2]), []
    x = Tensor(values, requires_grad=True)
    layer = nn.Tanh()
    layer.register_full_backward_hook(lambda module, gi, go: (seen.append(type(gi[0].data)), (gi[0] * 3,))[1])
    (g,) = autograd.grad((layer(x) ** 2).sum(), x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x)  # the hook runs again on the way through the forward graph
    assert seen == [np.ndarray, np.ndarray] and g.requires_grad

    tx = torch.tensor(values, requires_grad=True)
    t_layer = torch.nn.Tanh()
    t_layer.register_full_backward_hook(lambda module, gi, go: (gi[0] * 3,))
    (tg_,) = torch.autograd.grad((t_layer(tx) ** 2).sum(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad(tg_.sum(), tx)
    assert_close(g.data, tg_.detach().numpy())
    assert_close(gg.data, tgg.numpy())


# ---- memory ---------------------------------------------------------------------------------------
@pytest.fixture
def no_garbage_collector():
    """Objects must die by reference counting alone: a reference cycle would keep them."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_create_graph_backward_frees_its_graph_when_the_gradients_are_dropped(no_garbage_collector):
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    hidden = A.tanh(x * 2)
    out = (hidden**2).sum()
    out.backward(create_graph=True)
    first = x.grad
    refs = [weakref.ref(t) for t in (hidden, out, first)] + [weakref.ref(out.grad_fn), weakref.ref(first.grad_fn)]
    del hidden, out
    assert refs[0]() is not None  # the gradient's graph still holds the forward's tensors
    del first
    x.grad = None
    assert [r() for r in refs] == [None] * len(refs)


def test_grad_with_create_graph_frees_everything_when_its_results_are_dropped(no_garbage_collector):
    x = Tensor(np.linspace(-1, 1, 5), requires_grad=True)
    out = A.softplus(x).sum()
    (g,) = autograd.grad(out, x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x, create_graph=True)
    refs = [weakref.ref(t) for t in (out, g, gg, g.grad_fn, gg.grad_fn)]
    del out, g, gg
    assert [r() for r in refs] == [None] * len(refs)


def test_a_plain_backward_keeps_no_extra_references(no_garbage_collector):
    x = Tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    w = Tensor(np.random.default_rng(2).standard_normal((2, 2)), requires_grad=True)
    counts = [sys.getrefcount(t) for t in (x, w)] + [sys.getrefcount(t.data) for t in (x, w)]
    hidden = A.sigmoid(x @ w)
    out = ((hidden + 1) ** 2).mean()
    refs = [weakref.ref(hidden), weakref.ref(out), weakref.ref(hidden.grad_fn)]
    out.backward()
    assert not x.grad.requires_grad and x.grad.grad_fn is None and w.grad.grad_fn is None
    assert hidden.grad_fn.inputs is None and hidden.grad_fn.saved_tensors == ()  # released on the way back
    del hidden, out
    assert [r() for r in refs] == [None, None, None]
    assert [sys.getrefcount(t) for t in (x, w)] + [sys.getrefcount(t.data) for t in (x, w)] == counts


# ---- gradgradcheck ---------------------------------------------------------------------------------
class CubeSavingItsSlope(Function):
    """x^3 whose backward is right to first order only: it saves 3 x^2, computed in forward, which
    under create_graph is a constant, so the second derivative comes out 0 instead of 6 x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(3 * x**2)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope


class CubeDroppingItsGradient(Cube):
    """x^3 whose backward reads the upstream gradient's values: right to first order, but the
    gradient no longer depends on the upstream gradient under create_graph."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad.data if isinstance(grad, Tensor) else grad) * 3 * x**2


def test_gradgradcheck_passes_where_gradcheck_does_and_the_second_derivative_is_right():
    x = Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    assert gradgradcheck(lambda x: x**3, (x,))
    assert gradgradcheck(lambda x, y: (x * y).tanh(), (x, Tensor(np.array([1.0, 0.3, -0.7]), requires_grad=True)))


def test_gradgradcheck_catches_a_backward_that_is_right_to_first_order_only():
    x = Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    assert gradcheck(CubeSavingItsSlope.apply, (x,))
    with pytest.raises(
        GradcheckError,
        match=r"output 0 with respect to input 0: d out\[0\] / d in\[0\] is 0 by "
        r"backward, .* numerically",
    ):
        gradgradcheck(CubeSavingItsSlope.apply, (x,))
    assert gradgradcheck(CubeSavingItsSlope.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_checks_the_derivative_with_respect_to_the_upstream_gradient():
    x = Tensor(np.array([0.5, -1.2]), requires_grad=True)
    assert gradcheck(CubeDroppingItsGradient.apply, (x,))
    with pytest.raises(GradcheckError, match="output 0 with respect to input 1"):  # input 1: the upstream gradient
        gradgradcheck(CubeDroppingItsGradient.apply, (x,))


def test_gradgradcheck_takes_grad_outputs_and_checks_those_that_require_grad():
    x = Tensor(np.array([0.5, -1.2]), requires_grad=True)
    fixed = Tensor(np.array([2.0, -1.0]))  # not checked: only the second derivatives are
    assert gradgradcheck(CubeDroppingItsGradient.apply, (x,), grad_outputs=(fixed,))
    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradgradcheck(CubeDroppingItsGradient.apply, (x,), grad_outputs=(Tensor(fixed.data, requires_grad=True),))


def test_gradgradcheck_handles_several_outputs_and_inputs_that_need_no_grad():
    x, y = Tensor(np.array([0.5, 1.5]), requires_grad=True), Tensor(np.array([2.0, -1.0]))
    assert gradgradcheck(lambda x, y: (x * y, A.sigmoid(x)), (x, y))


def test_gradgradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="central differences need float64"):
        gradgradcheck(A.tanh, (Tensor([0.5], requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradgradcheck(A.tanh, (Tensor(np.array([0.5])),))
    with pytest.raises(ValueError, match="one gradient per output"):
        gradgradcheck(A.tanh, (Tensor(np.array([0.5]), requires_grad=True),), grad_outputs=())


def test_gradgradcheck_works_under_no_grad_and_leaves_the_callers_tensors_alone():
    x = Tensor(np.array([0.3, 0.7]), requires_grad=True)
    with tg.no_grad():
        assert gradgradcheck(A.softplus, (x,))
    assert x.grad is None
