"""The functional forms of PyTorch's surface (one_hot, normalize, cosine_similarity,
pairwise_distance) and its losses (l1, smooth_l1, soft_margin, kl_div, poisson_nll, cross_entropy
with ignore_index): values and gradients as torch's; second derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import arrays, check_gradients, same_as_torch, torch

import tinygrad_es as tg
from tinygrad_es import functional as F

TF = torch.nn.functional if torch is not None else None
reductions = st.sampled_from(["mean", "sum", "none"])


def test_one_hot_as_torch():
    labels = np.array([[0, 2], [1, 1]])
    same_as_torch(F.one_hot, TF.one_hot, labels)
    same_as_torch(lambda t: F.one_hot(t, 5), lambda t: TF.one_hot(t, 5), labels)
    same_as_torch(lambda t: F.one_hot(t, 3), lambda t: TF.one_hot(t, 3), np.zeros(0, np.int64))
    for bad, num_classes in (([-1, 0], -1), ([0, 3], 3)):
        with pytest.raises(RuntimeError, match="Class values|class values"):
            F.one_hot(tg.tensor(bad), num_classes)
        with pytest.raises(RuntimeError):
            TF.one_hot(torch.tensor(bad), num_classes)


@given(
    a=arrays(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)),
    p=st.sampled_from([1.0, 2.0, 3.0]),
    data=st.data(),
)
def test_normalize_as_torch(a, p, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    same_as_torch(lambda x: F.normalize(x, p, dim=axis), lambda x: TF.normalize(x, p, dim=axis), a)
    same_as_torch(lambda x: F.normalize(x * 0), lambda x: TF.normalize(x * 0), a[None])  # zero vectors stay zero


@given(data=st.data())
def test_cosine_similarity_and_pairwise_distance_as_torch(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=2, max_dims=3, min_side=1, max_side=3))
    a, b = (data.draw(hnp.arrays(np.float64, s, elements=st.floats(-3, 3, width=64))) for s in shapes.input_shapes)
    axis = data.draw(st.integers(-len(shapes.result_shape), len(shapes.result_shape) - 1))
    same_as_torch(
        lambda x, y: F.cosine_similarity(x, y, dim=axis),
        lambda x, y: TF.cosine_similarity(x, y, dim=axis),
        a + 0.5,
        b - 0.5,
    )
    same_as_torch(lambda x, y: F.pairwise_distance(x, y), lambda x, y: TF.pairwise_distance(x, y), a, b)
    same_as_torch(
        lambda x, y: F.pairwise_distance(x, y, 1.0, keepdim=True),
        lambda x, y: TF.pairwise_distance(x, y, 1.0, keepdim=True),
        a,
        b,
    )


def test_functional_compositions_are_differentiable_twice():
    a, b = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]), np.array([[1.0, 0.2, -0.4], [0.1, -2.0, 0.9]])
    check_gradients(lambda x: F.normalize(x, dim=1), a)
    check_gradients(lambda x, y: F.cosine_similarity(x, y), a, b)
    check_gradients(lambda x, y: F.pairwise_distance(x, y), a, b)


@pytest.mark.filterwarnings("ignore:reduction")  # PyTorch's advice to prefer kl_div's "batchmean"
@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "soft_margin_loss", "kl_div", "poisson_nll_loss"])
@given(a=arrays(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)), reduction=reductions, data=st.data())
def test_losses_as_torch(name, a, reduction, data):
    nonnegative = st.floats(0, 3, width=64).map(lambda v: v * (v > 1e-3))  # no tiny targets: log t underflows
    target = data.draw(hnp.arrays(np.float64, a.shape, elements=nonnegative))
    if name == "soft_margin_loss":
        target = np.where(target > 1.5, 1.0, -1.0)
    if name == "kl_div":
        a = -np.abs(a) - 0.1  # log-probabilities
    if name == "soft_margin_loss":  # PyTorch refuses a target that requires grad
        same_as_torch(
            lambda x: F.soft_margin_loss(x, tg.tensor(target), reduction=reduction),
            lambda x: TF.soft_margin_loss(x, torch.tensor(target), reduction=reduction),
            a,
        )
        return
    same_as_torch(
        lambda x, t: getattr(F, name)(x, t, reduction=reduction),
        lambda x, t: getattr(TF, name)(x, t, reduction=reduction),
        a,
        target,
    )


@pytest.mark.filterwarnings("ignore:reduction")
def test_loss_options_as_torch():
    x, t = np.array([[-0.5, 0.2, 1.9], [-2.1, 0.0, 0.7]]), np.array([[0.0, 0.5, 2.0], [1.0, 0.0, 0.25]])
    for beta in (0.0, 0.5, 2.0):
        same_as_torch(
            lambda a, b: F.smooth_l1_loss(a, b, beta=beta), lambda a, b: TF.smooth_l1_loss(a, b, beta=beta), x, t
        )
    same_as_torch(
        lambda a, b: F.kl_div(a, b, reduction="batchmean"),
        lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
        -np.abs(x),
        t,
    )
    same_as_torch(lambda a, b: F.kl_div(a, b, log_target=True), lambda a, b: TF.kl_div(a, b, log_target=True), x, t)
    same_as_torch(
        lambda a, b: F.poisson_nll_loss(a, b, log_input=False),
        lambda a, b: TF.poisson_nll_loss(a, b, log_input=False),
        np.abs(x) + 0.1,
        t,
    )
    # full: PyTorch's target gradient is nan where the target is 0 (a masked log 0); ours is that of the formula, 0
    same_as_torch(
        lambda a: F.poisson_nll_loss(a, tg.tensor(t * 3), full=True),
        lambda a: TF.poisson_nll_loss(a, torch.tensor(t * 3), full=True),
        x,
    )
    check_gradients(lambda a, b: F.poisson_nll_loss(a, b, full=True), x, t * 3 + 0.1)


def test_losses_are_differentiable_twice():
    x, t = np.array([[-0.5, 0.2, 1.9], [-2.1, 0.4, 0.7]]), np.array([[0.1, 0.5, 2.0], [1.0, 0.3, 0.25]])
    check_gradients(F.l1_loss, x, t)
    check_gradients(F.smooth_l1_loss, x, t)
    check_gradients(F.soft_margin_loss, x, np.sign(t - 0.4))
    check_gradients(lambda a, b: F.kl_div(a, b, reduction="batchmean"), -np.abs(x), t)
    check_gradients(lambda a, b: F.kl_div(a, b, log_target=True), x, t)
    check_gradients(F.poisson_nll_loss, x, t)


@settings(max_examples=15)
@given(n=st.integers(1, 5), c=st.integers(2, 4), data=st.data(), reduction=reductions)
def test_cross_entropy_with_ignore_index_as_torch(n, c, data, reduction):
    logits = data.draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-3, 3, width=64)))
    ignore = data.draw(st.sampled_from([-100, 1]))
    target = np.array(data.draw(st.lists(st.sampled_from([*range(c), ignore]), min_size=n, max_size=n)), np.int64)
    same_as_torch(
        lambda z: F.cross_entropy(z, target, ignore_index=ignore, reduction=reduction),
        lambda z: TF.cross_entropy(z, torch.tensor(target), ignore_index=ignore, reduction=reduction),
        logits,
    )
    weight = np.linspace(0.5, 2, c)
    same_as_torch(
        lambda z: F.cross_entropy(z, target, weight=weight, ignore_index=ignore, reduction=reduction),
        lambda z: TF.cross_entropy(
            z, torch.tensor(target), weight=torch.tensor(weight), ignore_index=ignore, reduction=reduction
        ),
        logits,
    )
