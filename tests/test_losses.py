import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import losses, nn


def t64(a, requires_grad=True):
    return tg.Tensor(np.asarray(a, np.float64), requires_grad=requires_grad)


def reduce_np(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def log_softmax_np(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


REDUCTIONS = ["mean", "sum", "none"]


# ---- values against formulas written here ----------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_their_formulas(rng, reduction):
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    d = x - y
    np.testing.assert_allclose(losses.mse_loss(t64(x), t64(y), reduction).data, reduce_np(d**2, reduction))
    huber = np.where(np.abs(d) <= 0.7, 0.5 * d**2, 0.7 * (np.abs(d) - 0.35))
    np.testing.assert_allclose(losses.huber_loss(t64(x), t64(y), 0.7, reduction).data, reduce_np(huber, reduction))


def test_half_mse_divides_by_the_number_of_samples_not_elements(rng):
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    expected = ((x - y) ** 2).sum() / (2 * 5)
    xt = t64(x)
    loss = losses.half_mse_loss(xt, t64(y))
    np.testing.assert_allclose(loss.data, expected)
    loss.backward()
    np.testing.assert_allclose(xt.grad.data, (x - y) / 5)  # the paper's gradient (yhat - y) / n
    np.testing.assert_allclose(losses.half_mse_loss(t64(x), t64(y), "none").data, 0.5 * ((x - y) ** 2).sum(axis=1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropies_match_their_formulas(rng, reduction):
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(losses.binary_cross_entropy(t64(p), t64(y), reduction).data, reduce_np(bce, reduction))
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(
        losses.binary_cross_entropy_with_logits(t64(z), t64(y), reduction).data, reduce_np(bce, reduction)
    )


def test_binary_cross_entropy_clamps_each_log_at_minus_100():
    p, y = np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(losses.binary_cross_entropy(t64(p), t64(y), "none").data, [100, 100, 0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_indices_is_minus_log_softmax_at_the_target(rng, reduction):
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    expected = -log_softmax_np(z)[np.arange(6), y]
    got = losses.cross_entropy(t64(z), y, reduction=reduction)
    np.testing.assert_allclose(got.data, reduce_np(expected, reduction))
    np.testing.assert_allclose(
        losses.nll_loss(t64(log_softmax_np(z)), y, reduction=reduction).data, reduce_np(expected, reduction)
    )


def test_weighted_mean_divides_by_the_sum_of_target_weights(rng):
    z, y, w = rng.standard_normal((6, 4)), np.array([0, 1, 1, 3, 3, 3]), np.array([1.0, 2.0, 0.5, 4.0])
    per_sample = -w[y] * log_softmax_np(z)[np.arange(6), y]
    expected = per_sample.sum() / w[y].sum()
    np.testing.assert_allclose(losses.cross_entropy(t64(z), y, weight=w).data, expected)
    np.testing.assert_allclose(losses.nll_loss(t64(log_softmax_np(z)), y, weight=w).data, expected)


def test_label_smoothing_mixes_target_with_uniform(rng):
    z, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    q = np.full((5, 4), 0.1 / 4)
    q[np.arange(5), y] += 0.9
    expected = -(q * log_softmax_np(z)).sum(axis=1).mean()
    np.testing.assert_allclose(losses.cross_entropy(t64(z), y, label_smoothing=0.1).data, expected)


def test_cross_entropy_with_probability_targets(rng):
    z, t = rng.standard_normal((5, 4)), rng.dirichlet(np.ones(4), 5)
    expected = -(t * log_softmax_np(z)).sum(axis=1).mean()
    np.testing.assert_allclose(losses.cross_entropy(t64(z), t64(t, False)).data, expected)


@given(st.integers(1, 6), st.integers(2, 7), st.integers(0, 2**31))
def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(n, c, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)
    zt = t64(z)
    losses.cross_entropy(zt, y).backward()
    softmax = np.exp(log_softmax_np(z))
    np.testing.assert_allclose(zt.grad.data, (softmax - np.eye(c)[y]) / n, atol=1e-12)


# Logits with z's values in a layout other than C order: (leaf, logits of the leaf, the leaf's gradient
# read as the logits' gradient)
LAYOUTS = {
    "transposed": lambda z: (t64(z.T.copy()), lambda leaf: leaf.T, lambda g: g.T),
    "fortran": lambda z: (t64(np.asfortranarray(z)), lambda leaf: leaf, lambda g: g),
    "every other column": lambda z: (t64(np.repeat(z, 2, axis=1)), lambda leaf: leaf[:, ::2], lambda g: g[:, ::2]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_does_not_depend_on_the_logits_memory_layout(rng, layout, reduction):
    n, c = 5, 4
    z, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
    leaf, logits_of, gradient_of = LAYOUTS[layout](z)
    logits = logits_of(leaf)
    assert not logits.data.flags.c_contiguous
    losses.cross_entropy(logits, y, reduction=reduction).backward()
    expected = (np.exp(log_softmax_np(z)) - np.eye(c)[y]) / (n if reduction == "mean" else 1)
    np.testing.assert_allclose(gradient_of(leaf.grad.data), expected, atol=1e-12)


# ---- gradients against finite differences ---------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_match_finite_differences(rng, reduction):
    x, y = t64(rng.standard_normal((4, 3))), t64(rng.standard_normal((4, 3)))
    p, q = t64(rng.uniform(0.1, 0.9, (4, 3))), t64(rng.uniform(0, 1, (4, 3)))
    labels, w = rng.integers(0, 3, 4), rng.uniform(0.5, 2, 3)
    probs = t64(rng.dirichlet(np.ones(3), 4))
    checks = [
        (lambda a, b: losses.mse_loss(a, b, reduction), (x, y)),
        (lambda a, b: losses.half_mse_loss(a, b, reduction), (x, y)),
        (lambda a, b: losses.huber_loss(a, b, 0.5, reduction), (x, y)),
        (lambda a, b: losses.binary_cross_entropy(a, b, reduction), (p, q)),
        (lambda a, b: losses.binary_cross_entropy_with_logits(a, b, reduction), (x, q)),
        (lambda a: losses.cross_entropy(a, labels, reduction=reduction), (x,)),
        (lambda a: losses.cross_entropy(a, labels, w, 0.2, reduction), (x,)),
        (lambda a, b: losses.cross_entropy(a, b, w, 0.1, reduction), (x, probs)),
        (lambda a: losses.nll_loss(a, labels, w, reduction), (x,)),
    ]
    for fn, inputs in checks:
        assert tg.gradcheck(fn, inputs)


def test_cross_entropy_is_one_node_on_the_logits(rng):
    z = tg.Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 1, 2]))
    assert type(loss.grad_fn).__name__ == "CrossEntropy" and loss.grad_fn.inputs[0] is z
    assert loss.dtype == np.float32
    assert type(losses.mse_loss(z, tg.Tensor(np.zeros((3, 4), np.float32))).grad_fn).__name__ == "MSELoss"


def test_backward_twice_with_retained_graph_gives_the_same_gradient(rng):
    z = t64(rng.standard_normal((3, 4)))
    loss = losses.cross_entropy(z, np.array([0, 1, 2]))
    loss.backward(retain_graph=True)
    first = z.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(z.grad.data, 2 * first)


# ---- extreme values -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients_without_warnings(dtype):
    z = tg.Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = losses.cross_entropy(z, np.array([1, 1]))
        loss.backward()
        np.testing.assert_allclose(loss.data, 1e4, rtol=1e-6)
        np.testing.assert_allclose(z.grad.data, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-6)
        y = tg.Tensor(np.array([[0, 1, 1], [1, 0, 1]], dtype))
        bce = losses.binary_cross_entropy_with_logits(z, y, "none")
        bce.sum().backward()
        assert np.all(np.isfinite(bce.data)) and np.all(np.isfinite(z.grad.data))
        np.testing.assert_allclose(bce.data, [[1e4, 1e4, np.log(2)], [1e4, 1e4, np.log1p(np.exp(-5))]], rtol=1e-6)


# ---- errors -------------------------------------------------------------------------------------------------
def test_shape_mismatch_is_an_error_not_a_broadcast():
    x = tg.Tensor(np.zeros(4, np.float32), requires_grad=True)
    y = tg.Tensor(np.zeros((4, 1), np.float32))
    for fn in (
        losses.mse_loss,
        losses.half_mse_loss,
        losses.huber_loss,
        losses.binary_cross_entropy,
        losses.binary_cross_entropy_with_logits,
    ):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: input has shape \(4,\) but target has shape \(4, 1\)"):
            fn(x, y)


def test_dtype_mismatch_is_an_error():
    x = tg.Tensor(np.zeros(4, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="mse_loss: input is float32 but target is float64"):
        losses.mse_loss(x, tg.Tensor(np.zeros(4)))


def test_float_class_targets_are_rejected():
    z = tg.Tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"cross_entropy: a target of shape \(3,\) holds class indices, which"):
        losses.cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match=r"class indices must be in \[0, 4\), got values in \[0, 4\]"):
        losses.cross_entropy(z, np.array([0, 1, 4]))
    for negative in (np.array([0, -1, 2]), np.array([0, -1, 2], np.int32)):  # must not wrap around
        with pytest.raises(IndexError, match=r"class indices must be in \[0, 4\), got values in \[-1, 2\]"):
            losses.cross_entropy(z, negative)
    with pytest.raises(ValueError, match=r"cross_entropy: input has shape \(3, 4\), so target must be"):
        losses.cross_entropy(z, np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        losses.cross_entropy(z, np.array([0, 1, 2]), reduction="avg")


def test_binary_cross_entropy_refuses_values_outside_0_1():
    with pytest.raises(RuntimeError, match="binary_cross_entropy: all elements of input should be between 0 and 1"):
        losses.binary_cross_entropy(t64([0.5, 1.5]), t64([0.0, 1.0]))


# ---- modules and PyTorch -------------------------------------------------------------------------------------
def test_loss_modules_call_the_functions(rng):
    z, y = t64(rng.standard_normal((4, 3))), rng.integers(0, 3, 4)
    w = np.array([1.0, 2.0, 3.0])
    assert nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(z, y).item() == pytest.approx(
        losses.cross_entropy(z, y, w, 0.1).item()
    )
    assert nn.NLLLoss(reduction="sum")(z, y).item() == pytest.approx(losses.nll_loss(z, y, reduction="sum").item())
    x = t64(rng.uniform(0.1, 0.9, (4, 3)))
    assert nn.MSELoss()(z, x).item() == pytest.approx(losses.mse_loss(z, x).item())
    assert nn.BCELoss()(x, x).item() == pytest.approx(losses.binary_cross_entropy(x, x).item())
    assert nn.HuberLoss(delta=0.3)(z, x).item() == pytest.approx(losses.huber_loss(z, x, 0.3).item())
    assert nn.HalfMSELoss()(z, x).item() == pytest.approx(losses.half_mse_loss(z, x).item())
    assert nn.BCEWithLogitsLoss(reduction="sum")(z, x).item() == pytest.approx(
        losses.binary_cross_entropy_with_logits(z, x, "sum").item()
    )
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="average")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_and_gradients_match_torch(rng, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z, y, w = rng.standard_normal((5, 4)) * 4, rng.integers(0, 4, 5), rng.uniform(0.5, 2, 4)
    p, q = rng.uniform(0.01, 0.99, (5, 4)), rng.uniform(0, 1, (5, 4))
    probs = rng.dirichlet(np.ones(4), 5)
    cases = [
        (
            lambda a: losses.cross_entropy(a, y, w, 0.15, reduction),
            lambda a: F.cross_entropy(a, torch.tensor(y), torch.tensor(w), reduction=reduction, label_smoothing=0.15),
            z,
        ),
        (
            lambda a: losses.cross_entropy(a, probs, w, 0.15, reduction),
            lambda a: F.cross_entropy(
                a, torch.tensor(probs), torch.tensor(w), reduction=reduction, label_smoothing=0.15
            ),
            z,
        ),
        (
            lambda a: losses.nll_loss(a, y, w, reduction),
            lambda a: F.nll_loss(a, torch.tensor(y), torch.tensor(w), reduction=reduction),
            z,
        ),
        (lambda a: losses.mse_loss(a, q, reduction), lambda a: F.mse_loss(a, torch.tensor(q), reduction=reduction), z),
        (
            lambda a: losses.huber_loss(a, q, 0.5, reduction),
            lambda a: F.huber_loss(a, torch.tensor(q), reduction=reduction, delta=0.5),
            z,
        ),
        (
            lambda a: losses.binary_cross_entropy(a, q, reduction),
            lambda a: F.binary_cross_entropy(a, torch.tensor(q), reduction=reduction),
            p,
        ),
        (
            lambda a: losses.binary_cross_entropy_with_logits(a, q, reduction),
            lambda a: F.binary_cross_entropy_with_logits(a, torch.tensor(q), reduction=reduction),
            z,
        ),
    ]
    for ours, theirs, x in cases:
        a, b = t64(x), torch.tensor(x, requires_grad=True)
        out_a, out_b = ours(a), theirs(b)
        np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-10)
        out_a.backward(np.ones(out_a.shape))
        out_b.backward(torch.ones_like(out_b))
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-14)
