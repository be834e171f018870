"""The fast path computes what its plain composition computes: the dense layer with its activation
(fused.LinearActivation) against x @ w.T + b and then the activation op, the softmax cross-entropy
(fused.CrossEntropy) against log_softmax and nll_loss; over shapes, dtypes and memory layouts, for
values, gradients and gradients of gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_es as tg
from tinygrad_es import activations, autograd, fused, losses, nn

ELEMENTWISE = sorted(
    (
        cls
        for cls in vars(activations).values()
        if isinstance(cls, type) and issubclass(cls, activations.Elementwise) and cls is not activations.Elementwise
    ),
    key=lambda cls: cls.__name__,
)
OPTIONS = {
    activations.LeakyReLU: {"negative_slope": 0.1},
    activations.ELU: {"alpha": 1.2},
    activations.CELU: {"alpha": 0.8},
    activations.Softplus: {"beta": 2.0, "threshold": 20.0},
    activations.GELU: {"approximate": "none"},
    activations.Hardtanh: {"min_val": -0.5, "max_val": 0.7},
    activations.Softshrink: {"lambd": 0.3},
    activations.Hardshrink: {"lambd": 0.3},
    activations.Threshold: {"threshold": 0.1, "value": -1.0},
    activations.RReLU: {"lower": 0.1, "upper": 0.3, "generator": None},
}
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def _layout(array, kind):
    """The same values in another memory layout."""
    if kind == "fortran":
        return np.asfortranarray(array)
    if kind == "transposed" and array.ndim == 2:
        return np.ascontiguousarray(array.T).T
    if kind == "slice":
        wide = np.repeat(array, 2, axis=-1)
        return wide[..., ::2]
    return array


def _grads(out, seed, tensors):
    for t in tensors:
        t.grad = None
    out.backward(seed)
    return [t.grad.data for t in tensors]


@pytest.mark.parametrize("op", [None, *ELEMENTWISE], ids=lambda op: "none" if op is None else op.__name__)
@given(
    batch=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dtype=st.sampled_from([np.float32, np.float64]),
    layout=st.sampled_from(["c", "fortran", "transposed", "slice"]),
    data=st.data(),
)
def test_the_dense_node_equals_its_composition(op, batch, sizes, dtype, layout, data):
    n_in, n_out = sizes
    values = st.floats(-3, 3, width=32).filter(lambda v: abs(v) > 1e-2)  # away from the kinks at 0
    x = _layout(data.draw(hnp.arrays(dtype, batch + (n_in,), elements=values)), layout)
    w = _layout(data.draw(hnp.arrays(dtype, (n_out, n_in), elements=values)), layout)
    b = data.draw(hnp.arrays(dtype, (n_out,), elements=values))
    options = dict(OPTIONS.get(op, {}))
    if op is activations.RReLU:  # the same random slopes in both
        options["generator"] = np.random.default_rng(5)
    xs, ws, bs = (tg.Tensor(a, requires_grad=True) for a in (x, w, b))
    out = fused.linear(xs, ws, bs, op, options)
    if op is activations.RReLU:
        options["generator"] = np.random.default_rng(5)
    xp, wp, bp = (tg.Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    plain = fused.plain_linear(xp, wp, bp, op, options)
    np.testing.assert_allclose(out.data, plain.data, **TOLERANCE[dtype])
    seed = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    for a, e in zip(_grads(out, seed, [xs, ws, bs]), _grads(plain, seed, [xp, wp, bp])):
        np.testing.assert_allclose(a, e, **TOLERANCE[dtype])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus", "gelu", "elu", None])
def test_the_dense_node_has_the_second_derivatives_of_its_composition(activation):
    rng = np.random.default_rng(1)
    layer = nn.Dense(3, 2, activation=activation, dtype=np.float64, generator=rng)
    x = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda t: layer(t), x)

    def hessian_vector(through):
        out = (through(x) ** 2).sum()
        grads = autograd.grad(out, [x, layer.weight], create_graph=True)
        return autograd.grad(sum((g * g).sum() for g in grads), [x, layer.weight, layer.bias])

    plain = nn.Sequential(nn.Dense(3, 2), nn.get_activation(activation))  # the same math, op by op
    plain[0].weight, plain[0].bias = layer.weight, layer.bias
    plain[1].register_forward_hook(lambda *args: None)  # a hook keeps the activation its own node
    for a, e in zip(hessian_vector(layer), hessian_vector(plain)):
        np.testing.assert_allclose(a.data, e.data, rtol=1e-10, atol=1e-12)


def test_the_dense_sigmoid_fast_form_gives_the_plain_sigmoids_values_bitwise():
    z = np.random.default_rng(2).uniform(-100, 100, (8, 5)).astype(np.float32)
    np.testing.assert_array_equal(
        fused.DenseSigmoid.forward(fused.DenseSigmoid(), z.copy()),
        activations.Sigmoid.forward(activations.Sigmoid(), z),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(
    n=st.integers(1, 6),
    c=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    layout=st.sampled_from(["c", "fortran", "transposed", "slice"]),
    data=st.data(),
)
def test_the_cross_entropy_node_equals_log_softmax_and_nll(reduction, n, c, dtype, layout, data):
    z = _layout(data.draw(hnp.arrays(dtype, (n, c), elements=st.floats(-50, 50, width=32))), layout)
    target = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    zs, zp = tg.Tensor(z, requires_grad=True), tg.Tensor(z.copy(), requires_grad=True)
    out = fused.cross_entropy(zs, target, reduction=reduction)
    assert type(out.grad_fn) is fused.CrossEntropy
    plain = losses.cross_entropy(zp, target, reduction=reduction)
    np.testing.assert_allclose(out.data, plain.data, **TOLERANCE[dtype])
    seed = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(_grads(out, seed, [zs])[0], _grads(plain, seed, [zp])[0], **TOLERANCE[dtype])


def test_the_cross_entropy_node_has_the_second_derivatives_of_its_composition():
    z = tg.Tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
    target = np.array([0, 2, 1, 2])
    hessians = []
    for loss in (fused.cross_entropy, losses.cross_entropy):
        (g,) = autograd.grad(loss(z, target), z, create_graph=True)
        hessians.append(autograd.grad((g * g).sum(), z)[0].data)
    np.testing.assert_allclose(*hessians, rtol=1e-10)


def test_the_cross_entropy_node_takes_only_what_it_computes_right():
    z = tg.Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    assert type(fused.cross_entropy(z, np.array([0, 1])).grad_fn) is fused.CrossEntropy
    for target, options in [
        (np.array([0, -100]), {}),
        (np.array([0, 1]), {"label_smoothing": 0.1}),
        (np.array([0, 1]), {"weight": np.ones(3)}),
        (np.zeros((2, 3), np.float32), {}),
    ]:
        out = fused.cross_entropy(z, target, **options)
        assert type(out.grad_fn) is not fused.CrossEntropy  # the plain composition handles these


@pytest.mark.parametrize("loss", [fused.cross_entropy, losses.cross_entropy, losses.nll_loss])
@pytest.mark.parametrize(
    "logits",
    [[[np.inf, 0.0, 1.0]], [[-np.inf, -np.inf, -np.inf]], np.zeros((0, 3))],
    ids=["inf", "all -inf", "empty batch"],
)
def test_infinite_logits_and_empty_batches_give_nan_without_warnings(loss, logits):
    z = tg.Tensor(np.array(logits, np.float32), requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        out = loss(z, np.zeros(len(z.data), np.int64))
        out.backward()
    assert not np.isfinite(out.item())  # nan or inf, as PyTorch gives it


@pytest.mark.parametrize(
    "name", ["mse_loss", "huber_loss", "half_mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]
)
def test_the_other_losses_of_an_empty_batch_are_nan_without_warnings(name):
    empty = tg.Tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        out = getattr(losses, name)(empty, tg.Tensor(np.zeros((0, 3), np.float32)))
        out.backward()
    assert np.isnan(out.item()) and empty.grad.shape == (0, 3)
