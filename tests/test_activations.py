"""Every activation: values against its formula, gradients against finite differences and the
course notes' derivatives, PyTorch's behaviour at kinks, and no overflow at extreme inputs."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import Tensor, gradcheck, nn
from tinygrad_es import functional as F

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
# Away from every kink (0, +-0.5, +-1, +-3, 6) so that finite differences are meaningful.
POINTS = np.array([[-4.3, -2.7, -1.1, -0.6], [-0.2, 0.15, 0.45, 0.9], [1.7, 3.4, 5.2, 6.8]])


def sig(x):
    return 1 / (1 + np.exp(-x))


def normal_cdf(x):
    return np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in np.ravel(x)]).reshape(np.shape(x))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# name -> (f(x), f'(x)) written plainly, for the defaults get_activation uses. The activations
# along an axis give instead (f(x), vjp(x, w)): the gradient of sum(w * f(x)).
def elementwise(f, df):
    return f, lambda x, w: w * df(x)


def glu_vjp(x, w):
    a, b = x[..., :2], x[..., 2:]
    return np.concatenate([w * sig(b), w * a * sig(b) * (1 - sig(b))], -1)


def tanh_u(x):
    return math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)


REFERENCE = {
    "identity": elementwise(lambda x: x, lambda x: np.ones_like(x)),
    "linear": elementwise(lambda x: x, lambda x: np.ones_like(x)),
    "sigmoid": elementwise(sig, lambda x: sig(x) * (1 - sig(x))),
    "tanh": elementwise(np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "relu": elementwise(lambda x: np.where(x > 0, x, 0), lambda x: np.where(x > 0, 1.0, 0.0)),
    "leaky_relu": elementwise(lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1, 0.01)),
    "prelu": elementwise(lambda x: np.where(x > 0, x, 0.25 * x), lambda x: np.where(x > 0, 1, 0.25)),
    "rrelu": elementwise(lambda x: np.where(x > 0, x, 11 / 48 * x), lambda x: np.where(x > 0, 1, 11 / 48)),
    "elu": elementwise(lambda x: np.where(x > 0, x, np.exp(x) - 1), lambda x: np.where(x > 0, 1, np.exp(x))),
    "selu": elementwise(
        lambda x: SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1)),
        lambda x: SCALE * np.where(x > 0, 1, ALPHA * np.exp(x)),
    ),
    "celu": elementwise(lambda x: np.where(x > 0, x, np.exp(x) - 1), lambda x: np.where(x > 0, 1, np.exp(x))),
    "softmax": (softmax, lambda x, w: softmax(x) * (w - (w * softmax(x)).sum(-1, keepdims=True))),
    "log_softmax": (lambda x: np.log(softmax(x)), lambda x, w: w - softmax(x) * w.sum(-1, keepdims=True)),
    "softmin": (lambda x: softmax(-x), lambda x, w: -softmax(-x) * (w - (w * softmax(-x)).sum(-1, keepdims=True))),
    "glu": (lambda x: x[..., :2] * sig(x[..., 2:]), glu_vjp),
    "step": elementwise(lambda x: np.where(x >= 0, 1.0, 0.0), lambda x: np.zeros_like(x)),
    "softplus": elementwise(lambda x: np.log(1 + np.exp(x)), sig),
    "gelu": elementwise(
        lambda x: x * normal_cdf(x), lambda x: normal_cdf(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    ),
    "silu": elementwise(lambda x: x * sig(x), lambda x: sig(x) + x * sig(x) * (1 - sig(x))),
    "swish": elementwise(lambda x: x * sig(x), lambda x: sig(x) + x * sig(x) * (1 - sig(x))),
    "mish": elementwise(
        lambda x: x * np.tanh(np.log(1 + np.exp(x))),
        lambda x: np.tanh(np.log(1 + np.exp(x))) + x * sig(x) / np.cosh(np.log(1 + np.exp(x))) ** 2,
    ),
    "hardtanh": elementwise(lambda x: np.clip(x, -1, 1), lambda x: np.where(abs(x) < 1, 1.0, 0.0)),
    "relu6": elementwise(lambda x: np.clip(x, 0, 6), lambda x: np.where((x > 0) & (x < 6), 1.0, 0.0)),
    "hardsigmoid": elementwise(lambda x: np.clip(x / 6 + 0.5, 0, 1), lambda x: np.where(abs(x) < 3, 1 / 6, 0)),
    "hardswish": elementwise(
        lambda x: x * np.clip(x + 3, 0, 6) / 6, lambda x: np.where(x < -3, 0, np.where(x > 3, 1, (2 * x + 3) / 6))
    ),
    "softsign": elementwise(lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
    "logsigmoid": elementwise(lambda x: np.log(sig(x)), lambda x: 1 - sig(x)),
    "tanhshrink": elementwise(lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2),
    "softshrink": elementwise(
        lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)), lambda x: np.where(abs(x) > 0.5, 1, 0)
    ),
    "hardshrink": elementwise(lambda x: np.where(abs(x) > 0.5, x, 0), lambda x: np.where(abs(x) > 0.5, 1, 0)),
}


def layer(name):
    """The registry's layer, in eval mode (RReLU is then deterministic)."""
    return nn.get_activation(name).eval()


# ---- every registered activation ----------------------------------------------------------------
@pytest.mark.parametrize("name", nn.activation_names())
def test_forward_matches_formula(name):
    f, _ = REFERENCE[name]
    out = layer(name)(Tensor(POINTS))
    np.testing.assert_allclose(out.data, f(POINTS), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", nn.activation_names())
def test_backward_matches_derivative(name):
    _, vjp = REFERENCE[name]
    x = Tensor(POINTS, requires_grad=True)
    out = layer(name)(x)
    w = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(w)
    np.testing.assert_allclose(x.grad.data, vjp(POINTS, w), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", nn.activation_names())
def test_gradcheck(name):
    x = Tensor(POINTS + np.random.default_rng(2).uniform(-0.05, 0.05, POINTS.shape), requires_grad=True)
    assert gradcheck(layer(name), (x,))


@pytest.mark.parametrize("name", nn.activation_names())
def test_float32_stays_float32(name):
    x = Tensor(POINTS.astype(np.float32), requires_grad=True)
    out = layer(name)(x)
    out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def no_floating_point_warnings(name):
    """Every warning NumPy gives by default raises: overflow, invalid operations (nan) and division
    by zero. Underflow, a result too small for the dtype becoming 0 or subnormal, is the right
    answer there and NumPy ignores it by default, as we do."""
    return np.errstate(all="raise", under="ignore")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", nn.activation_names())
def test_extreme_inputs_are_finite_without_warnings(name, dtype):
    x = Tensor(
        np.array([[-1e4, -1e3, -100.0, -88.0], [-20.0, -1e-3, 1e-3, 20.0], [88.0, 100.0, 1e3, 1e4]], dtype),
        requires_grad=True,
    )
    with no_floating_point_warnings(name):
        out = layer(name)(x)
        out.backward(np.ones(out.shape, dtype))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()


EXPONENTIAL = ["sigmoid", "softplus", "logsigmoid", "elu", "selu", "celu", "softmax", "log_softmax", "softmin"]


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(EXPONENTIAL),
    dtype=st.sampled_from([np.float32, np.float64]),
    values=st.lists(st.floats(-1e4, 1e4, width=32, allow_subnormal=False), min_size=1, max_size=8),
)
def test_exponentials_never_overflow(name, dtype, values):
    x = Tensor(np.array(values, dtype), requires_grad=True)
    with no_floating_point_warnings(name):
        out = layer(name)(x)
        out.backward(np.ones(out.shape, dtype))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()
    if name == "sigmoid":
        assert ((out.data >= 0) & (out.data <= 1)).all()
    if name == "softplus":
        assert (out.data >= np.maximum(x.data, 0)).all()
    if name == "logsigmoid":
        assert (out.data <= np.minimum(x.data, 0)).all()
    if name == "softmax":
        np.testing.assert_allclose(out.data.sum(), 1, rtol=1e-5)


def test_extremes_give_the_limits():
    x = Tensor(np.array([-1e4, 1e4]))
    np.testing.assert_allclose(F.sigmoid(x).data, [0, 1], atol=1e-30)
    np.testing.assert_allclose(F.softplus(x).data, [0, 1e4], atol=1e-30)
    np.testing.assert_allclose(F.logsigmoid(x).data, [-1e4, 0], atol=1e-30)
    np.testing.assert_allclose(F.elu(x).data, [-1, 1e4])
    np.testing.assert_allclose(F.log_softmax(x).data, [-2e4, 0])


# ---- derivatives at hand-chosen points (the course notes' formulas) ------------------------------
def derivative(fn, at, dtype=np.float64):
    """f'(at), by backward; at a number or an array of points."""
    x = Tensor(np.array(at, dtype), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data if x.ndim else x.grad.data[()]


@pytest.mark.parametrize(
    "fn, at, expected",
    [
        (F.sigmoid, 0.0, 0.25),
        (F.tanh, 0.0, 1.0),
        (F.relu, 2.0, 1.0),
        (F.relu, -2.0, 0.0),
        (F.leaky_relu, -3.0, 0.01),
        (F.elu, -1.0, (math.exp(-1) - 1) + 1.0),  # elu'(x) = elu(x) + alpha for x < 0
        (lambda x: F.elu(x, alpha=2.0), -1.0, 2 * (math.exp(-1) - 1) + 2.0),
        (F.selu, 1.0, SCALE),
        (F.selu, -1.0, SCALE * ALPHA * math.exp(-1)),
        (F.softplus, 0.0, 0.5),
        (F.logsigmoid, 0.0, 0.5),
        (F.gelu, 0.0, 0.5),
        (F.gelu, 1.0, 0.5 * math.erfc(-1 / math.sqrt(2)) + math.exp(-0.5) / math.sqrt(2 * math.pi)),
        (F.silu, 0.0, 0.5),
        (F.mish, 0.0, math.tanh(math.log(2))),
        (F.softsign, 0.0, 1.0),
        (F.softsign, 1.0, 0.25),
        (F.hardsigmoid, 0.0, 1 / 6),
        (F.hardswish, 0.0, 0.5),
        (F.tanhshrink, 0.0, 0.0),
        (F.step, 0.0, 0.0),
        (F.step, 2.0, 0.0),
    ],
)
def test_derivative_at_chosen_points(fn, at, expected):
    assert derivative(fn, at) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "fn, at, expected",
    [
        (F.relu, 0.0, 0.0),
        (F.leaky_relu, 0.0, 0.01),
        (lambda x: F.prelu(x, Tensor(np.array([0.3]))), 0.0, 0.3),
        (F.rrelu, 0.0, 11 / 48),
        (lambda x: F.elu(x, alpha=2.0), 0.0, 2.0),
        (F.selu, 0.0, SCALE * ALPHA),
        (lambda x: F.celu(x, alpha=2.0), 0.0, 1.0),
        (F.hardtanh, -1.0, 0.0),
        (F.hardtanh, 1.0, 0.0),
        (F.relu6, 0.0, 0.0),
        (F.relu6, 6.0, 0.0),
        (F.hardsigmoid, -3.0, 0.0),
        (F.hardsigmoid, 3.0, 0.0),
        (F.hardswish, -3.0, 0.0),
        (F.hardswish, 3.0, 1.0),
        (F.softshrink, 0.5, 0.0),
        (F.hardshrink, -0.5, 0.0),
        (lambda x: F.threshold(x, 1.0, -2.0), 1.0, 0.0),
    ],
)
def test_derivative_at_kinks_follows_pytorch(fn, at, expected):
    assert derivative(fn, at) == pytest.approx(expected, rel=1e-12)


def test_step_is_heaviside_with_one_at_zero():
    np.testing.assert_array_equal(F.step(Tensor([-2.0, -1e-9, 0.0, 3.0])).data, [0, 0, 1, 1])


@pytest.mark.parametrize("name", nn.activation_names())
def test_integer_input_gives_the_float_answer(name):
    integers = np.array([[-3, -1, 0, 2], [1, 4, -2, 7]])
    expected = layer(name)(Tensor(integers.astype(np.float64))).data
    np.testing.assert_allclose(layer(name)(Tensor(integers)).data, expected, rtol=1e-6)


def test_identity_returns_its_input():
    x = Tensor([1.0, -2.0], requires_grad=True)
    assert F.identity(x) is x and nn.Identity()(x) is x


# ---- options ----------------------------------------------------------------------------------
OPTIONS = [  # (our call, the same in plain NumPy)
    (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (lambda x: F.elu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2 * (np.exp(x) - 1))),
    (lambda x: F.celu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2 * (np.exp(x / 2) - 1))),
    (lambda x: F.softplus(x, beta=2.0, threshold=5.0), lambda x: np.where(2 * x > 5, x, np.log1p(np.exp(2 * x)) / 2)),
    (lambda x: F.gelu(x, approximate="tanh"), lambda x: 0.5 * x * (1 + np.tanh(tanh_u(x)))),
    (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: np.clip(x, -2, 3)),
    (lambda x: F.softshrink(x, 1.0), lambda x: np.sign(x) * np.maximum(abs(x) - 1, 0)),
    (lambda x: F.hardshrink(x, 1.0), lambda x: np.where(abs(x) > 1, x, 0)),
    (lambda x: F.threshold(x, 1.0, -2.0), lambda x: np.where(x > 1, x, -2)),
    (lambda x: F.softmax(x, axis=0), lambda x: np.exp(x) / np.exp(x).sum(0)),
    (lambda x: F.log_softmax(x, axis=0), lambda x: x - np.log(np.exp(x).sum(0))),
    (lambda x: F.softmin(x, axis=0), lambda x: np.exp(-x) / np.exp(-x).sum(0)),
    (lambda x: F.glu(x, axis=0), lambda x: x[:1] * sig(x[1:])),
]


@pytest.mark.parametrize("ours, plain", OPTIONS)
def test_options_forward_and_gradcheck(ours, plain):
    x = POINTS[:2] + 0.01
    np.testing.assert_allclose(ours(Tensor(x)).data, plain(x), rtol=1e-7, atol=1e-12)
    assert gradcheck(ours, (Tensor(x, requires_grad=True),))


def test_gelu_matches_math_erf_to_float64_precision():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(F.gelu(Tensor(x)).data, x * normal_cdf(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_derivative_is_the_notes_f_times_1_minus_f_as_pytorch_computes_it(dtype):
    x = np.array([-30.0, -15.0, -1.0, 0.0, 2.0, 15.0, 30.0], dtype)
    s = 1 / (1 + np.exp(-x.astype(np.float64)))
    out = F.sigmoid(Tensor(x, requires_grad=True))
    np.testing.assert_allclose(out.data, s, rtol=1e-6 if dtype == np.float32 else 1e-15)
    slope = out.data * (1 - out.data)  # in the tails 1 - f loses its digits in float32, in PyTorch too
    np.testing.assert_array_equal(derivative(F.sigmoid, x, dtype), slope)


def test_sigmoid_derivative_in_the_tails_equals_pytorchs_in_float64():
    # (in float32 both are f (1 - f) with f rounded near 1 in slightly different ways: the tails
    # keep only an absolute precision of about 6e-8, as the test above shows)
    torch = pytest.importorskip("torch")
    x = np.array([-30.0, -15.0, 15.0, 17.0, 30.0])
    t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(t).sum().backward()
    np.testing.assert_allclose(derivative(F.sigmoid, x), t.grad.numpy(), rtol=1e-12, atol=1.2e-16)


@pytest.mark.parametrize("dense", [False, True], ids=["op", "dense layer"])
@pytest.mark.parametrize("dtype, x", [(np.float32, [-85.0, -95.0, -100.0, -1e4]), (np.float64, [-705.0, -740.0, -1e4])])
def test_sigmoid_far_below_zero_is_e_to_the_x_down_to_the_subnormals(dtype, x, dense):
    # e^x itself, not clamped to e^-limit: 3.8e-44 at -100 in float32, as PyTorch gives; 0 past the
    # subnormals, without an underflow warning
    x = np.array(x, dtype)
    if dense:
        layer = nn.Dense(1, 1, activation="sigmoid").to(dtype)
        layer.load_state_dict({"weight": np.ones((1, 1), dtype), "bias": np.zeros(1, dtype)})
        out = layer(Tensor(x[:, None])).data[:, 0]
    else:
        out = F.sigmoid(Tensor(x)).data
    with np.errstate(under="ignore"):
        expected = np.exp(x.astype(np.float64)).astype(dtype)  # 1 + e^x is 1 there
    np.testing.assert_allclose(out, expected, rtol=0.02, atol=0)
    assert out[0] > 0 and out[-1] == 0


def test_softplus_at_the_threshold_is_still_soft():
    x = Tensor([20.0], dtype=np.float64, requires_grad=True)
    out = F.softplus(x)
    out.backward(np.ones(1))
    assert out.item() == pytest.approx(20 + math.log1p(math.exp(-20)), rel=1e-15)
    assert x.grad.item() == pytest.approx(1 / (1 + math.exp(-20)), rel=1e-15) and x.grad.item() < 1


def test_softplus_is_linear_past_the_threshold():
    x = Tensor([25.0, 30.0], requires_grad=True)
    out = F.softplus(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [25.0, 30.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_bad_arguments_name_the_op_and_shape():
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(Tensor([1.0]), approximate="fast")
    with pytest.raises(ValueError, match=r"GLU: the size along axis -1 must be even.*\(2, 3\)"):
        F.glu(Tensor(np.ones((2, 3))))
    for fn, op in [(F.softmax, "Softmax"), (F.log_softmax, "LogSoftmax"), (F.softmin, "Softmin"), (F.glu, "GLU")]:
        with pytest.raises(ValueError, match=rf"{op}: axis 2 is out of bounds.*\(2, 4\)"):
            fn(Tensor(np.ones((2, 4))), axis=2)


# ---- softmax, as the notes on rectifiers print it ---------------------------------------------------
@pytest.mark.parametrize(
    "scores, printed",
    [
        ([3, 0.7, 0.5], [0.846, 0.085, 0.069]),
        ([1.2, 1, 1.5], [0.316, 0.258, 0.426]),
        ([1.5] + [1.2] * 9, [0.13] + [0.097] * 9),
    ],
)
def test_softmax_reproduces_the_seed_examples(scores, printed):
    probabilities = F.softmax(Tensor(scores)).data
    np.testing.assert_allclose(np.round(probabilities, 3), printed, rtol=0, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(["softmax", "log_softmax", "softmin"]),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_along_any_axis_matches_numpy(name, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(len(shape))
    x, w = rng.standard_normal(shape), rng.standard_normal(shape)
    moved = np.moveaxis(x, axis, -1)  # the reference works on the last axis
    f, vjp = REFERENCE[name]
    t = Tensor(x, requires_grad=True)
    out = getattr(F, name)(t, axis=axis)
    out.backward(w)
    np.testing.assert_allclose(out.data, np.moveaxis(f(moved), -1, axis), rtol=1e-10, atol=1e-14)
    expected_grad = np.moveaxis(vjp(moved, np.moveaxis(w, axis, -1)), -1, axis)
    np.testing.assert_allclose(t.grad.data, expected_grad, rtol=1e-10, atol=1e-14)


def test_softmax_rows_sum_to_one_and_ignore_a_shift():
    x = np.random.default_rng(3).standard_normal((4, 5))
    s = F.softmax(Tensor(x)).data
    np.testing.assert_allclose(s.sum(-1), 1)
    np.testing.assert_allclose(F.softmax(Tensor(x + 1000)).data, s)


# ---- PReLU --------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape", [((4, 3, 5), (1,)), ((4, 3, 5), (3,)), ((6, 3), (3,)), ((7,), (1,))])
def test_prelu_gradcheck_for_input_and_slopes(x_shape, w_shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(x_shape)
    x[abs(x) < 0.05] = 0.3  # away from the kink
    w = Tensor(rng.uniform(0.1, 0.5, w_shape), requires_grad=True)
    assert gradcheck(F.prelu, (Tensor(x, requires_grad=True), w))


def test_prelu_slope_gradient_sums_over_all_but_the_channel_axis():
    x = np.array([[[-1.0, 2.0], [-3.0, -4.0]], [[-5.0, 6.0], [7.0, -8.0]]])  # (N=2, C=2, L=2)
    w = Tensor([0.1, 0.2], requires_grad=True)
    F.prelu(Tensor(x), w).sum().backward()
    np.testing.assert_allclose(w.grad.data, [-1 - 5, -3 - 4 - 8])


def test_prelu_rejects_a_slope_count_that_is_not_the_channel_count():
    with pytest.raises(ValueError, match=r"PReLU: weight of shape \(3,\).*input of shape \(2, 4\)"):
        F.prelu(Tensor(np.ones((2, 4))), Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"PReLU: weight of shape \(2,\).*input of shape \(2,\)"):
        F.prelu(Tensor(np.ones(2)), Tensor(np.ones(2)))


def test_prelu_layer_slopes_start_at_init_in_the_given_dtype():
    assert nn.PReLU().weight.dtype == np.float32
    layer = nn.PReLU(3, init=0.1, dtype=np.float64)
    assert layer.weight.dtype == np.float64
    np.testing.assert_array_equal(layer.weight.data, [0.1, 0.1, 0.1])


def test_prelu_slope_learns_by_gradient_descent():
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((64, 3)))
    target = np.where(x.data > 0, x.data, np.array([0.05, 0.5, -0.3]) * x.data)
    layer = nn.PReLU(num_parameters=3)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    for _ in range(200):
        layer.zero_grad()
        ((layer(x) - Tensor(target)) ** 2).mean().backward()
        layer.weight.data -= 0.5 * layer.weight.grad.data
    np.testing.assert_allclose(layer.weight.data, [0.05, 0.5, -0.3], atol=1e-3)


# ---- RReLU --------------------------------------------------------------------------------------
def test_rrelu_training_slopes_lie_between_the_lines_and_change():
    x = Tensor(-np.linspace(0.1, 5, 200))
    generator = np.random.default_rng(6)
    first = F.rrelu(x, training=True, generator=generator).data
    second = F.rrelu(x, training=True, generator=generator).data
    slopes = first / x.data
    assert (slopes >= 1 / 8).all() and (slopes <= 1 / 3).all() and slopes.std() > 0.03
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(F.rrelu(Tensor([0.5, 2.0]), training=True).data, [0.5, 2.0])


def test_rrelu_backward_uses_the_sampled_slopes():
    x = Tensor(np.array([-2.0, -1.0, -0.5, 1.5]), requires_grad=True)
    out = F.rrelu(x, training=True, generator=np.random.default_rng(7))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, out.data / x.data)

    def same_slopes_each_call(t):
        return F.rrelu(t, training=True, generator=np.random.default_rng(7))

    assert gradcheck(same_slopes_each_call, (Tensor(x.data, requires_grad=True),))


def test_rrelu_uses_the_default_generator():
    x = Tensor(-np.ones(5))
    tg.manual_seed(8)
    first = F.rrelu(x, training=True).data
    tg.manual_seed(8)
    np.testing.assert_array_equal(F.rrelu(x, training=True).data, first)


def test_rrelu_eval_is_leaky_relu_with_the_mean_slope():
    x = Tensor(POINTS)
    np.testing.assert_allclose(F.rrelu(x).data, F.leaky_relu(x, 11 / 48).data)
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.3).data, F.leaky_relu(x, 0.2).data)


def test_rrelu_module_follows_train_and_eval():
    model = nn.Sequential(nn.RReLU(generator=np.random.default_rng(9)))
    x = Tensor(-np.ones(50))
    assert not np.allclose(model(x).data, -11 / 48)
    model.eval()
    np.testing.assert_allclose(model(x).data, -11 / 48)


# ---- modules and the registry ----------------------------------------------------------------
def test_reprs_show_the_options():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax()) == "Softmax(axis=-1)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"


def test_module_options_are_attributes_used_by_forward():
    layer = nn.LeakyReLU(0.2)
    assert layer.negative_slope == 0.2
    layer.negative_slope = 0.5
    np.testing.assert_allclose(layer(Tensor([-2.0])).data, [-1.0])


def test_get_activation_resolves_names_to_new_layers():
    assert type(nn.get_activation("relu")) is nn.ReLU
    assert type(nn.get_activation("linear")) is nn.Identity
    assert type(nn.get_activation(None)) is nn.Identity
    assert type(nn.get_activation("Leaky_ReLU")) is nn.LeakyReLU
    assert type(nn.get_activation(nn.ELU)) is nn.ELU
    assert nn.get_activation("sigmoid") is not nn.get_activation("sigmoid")
    module = nn.Tanh()
    assert nn.get_activation(module) is module


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", "selu", "softmax", "linear"])
def test_keras_names_resolve(name):
    assert isinstance(nn.get_activation(name), nn.Module)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"get_activation: unknown activation 'relu7'; valid names: .*leaky_relu"):
        nn.get_activation("relu7")
    assert nn.activation_names() == sorted(nn.activation_names()) and "prelu" in nn.activation_names()


def test_every_activation_function_has_a_layer_and_a_name():
    functions = {name: f for name, f in vars(F).items() if getattr(f, "__module__", "") == "tinygrad_es.activations"}
    assert len(functions) == 30
    x = Tensor(np.linspace(-3, 3, 12).reshape(3, 4))
    for name in nn.activation_names():
        function = functions[{"linear": "identity", "swish": "silu"}.get(name, name)]
        layer = nn.get_activation(name).eval()
        expected = function(x, layer.weight) if name == "prelu" else function(x)
        np.testing.assert_array_equal(layer(x).data, expected.data)
    assert set(functions) - set(nn.activation_names()) == {"threshold"}  # it has no defaults


# ---- PyTorch, where installed -----------------------------------------------------------------
def torch_reference(torch, name):
    tf = torch.nn.functional
    return (
        {
            "identity": lambda x: x * 1,
            "linear": lambda x: x * 1,
            "step": lambda x: (x >= 0).to(x.dtype) + 0 * x,
            "prelu": lambda x: tf.prelu(x, torch.tensor([0.25], dtype=x.dtype)),
            "swish": tf.silu,
            "softmax": lambda x: tf.softmax(x, -1),
            "log_softmax": lambda x: tf.log_softmax(x, -1),
            "softmin": lambda x: tf.softmin(x, -1),
            "rrelu": lambda x: tf.rrelu(x, training=False),
        }.get(name)
        or getattr(tf, name, None)
        or getattr(torch, name)
    )


KINKS = np.array([[-1e4, -6.0, -3.0, -1.0], [-0.5, 0.0, 0.5, 1.0], [3.0, 6.0, 30.0, 1e4]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", nn.activation_names())
def test_matches_torch_including_kinks(name, dtype):
    torch = pytest.importorskip("torch")
    torch_fn = torch_reference(torch, name)
    w = np.random.default_rng(10).standard_normal((3, 2 if name == "glu" else 4)).astype(dtype)
    x = Tensor(KINKS.astype(dtype), requires_grad=True)
    out = layer(name)(x)
    out.backward(w)
    tx = torch.tensor(KINKS.astype(dtype), requires_grad=True)
    t_out = torch_fn(tx)
    t_out.backward(torch.tensor(w))
    # float32: relative 1e-4 (1 - s near s = 1 is rounded differently), absolute 1e-6 (PyTorch's
    # float32 erf loses GELU's tail)
    rtol, atol = (1e-6, 1e-12) if dtype == "float64" else (1e-4, 1e-6)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)


# ---- the example ------------------------------------------------------------------------------
def load_example():
    path = Path(__file__).resolve().parent.parent / "examples" / "activations.py"
    spec = importlib.util.spec_from_file_location("activations_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_table_shows_values_and_derivatives_from_backward(capsys):
    load_example().main(["--table"])
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert set(rows) == set(nn.activation_names()) - {"linear", "swish"}
    at_zero = 3  # TABLE_POINTS[3] == 0
    assert rows["sigmoid"][at_zero] == "0.500/0.250"
    assert rows["relu"][at_zero] == "0.000/0.000"
    assert rows["elu"][1] == f"{math.exp(-1) - 1:.3f}/{math.exp(-1):.3f}"


def test_example_plots_to_the_given_path(tmp_path):
    pytest.importorskip("matplotlib")
    load_example().main([str(tmp_path / "curves.png")])
    assert (tmp_path / "curves.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_along_an_empty_axis_the_result_is_empty_as_in_pytorch(name):
    x = Tensor(np.zeros((2, 0)), requires_grad=True)
    out = getattr(F, name)(x, axis=-1)
    assert out.shape == (2, 0)
    out.backward(np.zeros((2, 0)))
    assert x.grad.shape == (2, 0)
    other = getattr(F, name)(Tensor(np.ones((0, 3))), axis=-1)  # no rows: nothing to do either
    assert other.shape == (0, 3)
