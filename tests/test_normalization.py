"""Normalization: batch_norm, layer_norm, group_norm and their layers against PyTorch (values,
gradients, running statistics, train and eval, state_dict), against finite differences (first and
second order), and PyTorch's errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_checks import against_torch, layout

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---- the functions ---------------------------------------------------------------------------------
@given(
    st.sampled_from([(5, 3), (4, 3, 6), (2, 3, 4, 5), (3, 2, 1, 1)]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0.1, 0.5]),
    st.sampled_from(["C", "F", "strided"]),
    st.data(),
)
def test_batch_norm_matches_torch_values_gradients_and_running_statistics(
    torch, shape, training, affine, momentum, kind, data
):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = layout(rng.standard_normal(shape) * 3 + 1, kind)
    parameters = [rng.standard_normal(shape[1]) for _ in range(2)] if affine else []
    means, variances = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5
    ours = [tg.Tensor(means.copy()), tg.Tensor(variances.copy())]
    theirs = [torch.tensor(means), torch.tensor(variances)]
    against_torch(
        lambda x, *p: F.batch_norm(x, *ours, *p, training=training, momentum=momentum),
        lambda x, *p: torch.nn.functional.batch_norm(x, *theirs, *p, training=training, momentum=momentum),
        [x, *parameters],
        rng,
    )
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine.data, expected.numpy(), rtol=1e-12)


@given(
    st.sampled_from([((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((3, 2, 2, 2), (2, 2, 2))]),
    st.booleans(),
    st.sampled_from(["C", "F", "strided"]),
    st.data(),
)
def test_layer_norm_matches_torch(torch, shapes, affine, kind, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape, normalized = shapes
    parameters = [rng.standard_normal(normalized) for _ in range(2)] if affine else []
    against_torch(
        lambda x, *p: F.layer_norm(x, normalized, *p),
        lambda x, *p: torch.nn.functional.layer_norm(x, normalized, *p),
        [layout(rng.standard_normal(shape) * 2 - 1, kind), *parameters],
        rng,
    )


@given(st.sampled_from([((2, 6), 3), ((2, 6, 5), 2), ((3, 4, 2, 3), 4), ((2, 4, 3), 1)]), st.booleans(), st.data())
def test_group_norm_matches_torch(torch, case, affine, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape, groups = case
    parameters = [rng.standard_normal(shape[1]) for _ in range(2)] if affine else []
    against_torch(
        lambda x, *p: F.group_norm(x, groups, *p),
        lambda x, *p: torch.nn.functional.group_norm(x, groups, *p),
        [rng.standard_normal(shape), *parameters],
        rng,
    )


def test_batch_norm_standardizes_each_channel_and_keeps_the_unbiased_running_variance():
    x = np.array([[[1.0, 3.0]], [[5.0, 7.0]]])  # one channel, four values: mean 4, biased var 5, unbiased 20/3
    running_mean, running_var = tg.Tensor(np.zeros(1)), tg.Tensor(np.ones(1))
    out = F.batch_norm(tg.Tensor(x), running_mean, running_var, training=True, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(out.data.ravel(), (x.ravel() - 4) / np.sqrt(5))
    np.testing.assert_allclose(running_mean.data, [2.0])
    np.testing.assert_allclose(running_var.data, [0.5 + 0.5 * 20 / 3])


@pytest.mark.parametrize(
    "norm",
    [
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: F.batch_norm(x, tg.Tensor(np.array([0.5, -1, 0])), tg.Tensor(np.array([1.0, 2, 3])), w, b) ** 2,
        lambda x, w, b: F.layer_norm(x, (3, 2), w[:, None] * b[None, :2], b[:, None] + w[None, :2]),
        lambda x, w, b: F.group_norm(x[:, :2], 2, w[:2], b[:2]) ** 2,
    ],
)
def test_normalization_gradients_of_first_and_second_order_match_finite_differences(rng, norm):
    x = tg.Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal(3), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(3), requires_grad=True)
    assert tg.gradcheck(norm, (x, w, b))
    assert tg.gradgradcheck(norm, (x, w, b))


def test_normalization_without_parameters_has_second_order_gradients(rng):
    x = tg.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert tg.gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))
    assert tg.gradgradcheck(lambda x: F.layer_norm(x, 3), (x,))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.batch_norm(tg.randn(4, 3), tg.zeros(4), tg.ones(4)),
            RuntimeError,
            r"running_mean should have shape \(3,\) for an input of shape \(4, 3\), got \(4,\)",
        ),
        (
            lambda: F.batch_norm(tg.randn(1, 3), None, None, training=True),
            ValueError,
            r"expected more than 1 value per channel when training, got input shape \(1, 3\)",
        ),
        (
            lambda: F.layer_norm(tg.randn(2, 3), 4),
            RuntimeError,
            r"given normalized_shape=\(4,\), expected an input of shape \(\*, 4\), got \(2, 3\)",
        ),
        (lambda: F.group_norm(tg.randn(2, 6, 3), 4), RuntimeError, "C is divisible by num_groups=4, got shape"),
    ],
)
def test_bad_normalization_arguments_raise_pytorchs_error_class(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- the layers ------------------------------------------------------------------------------------
def _pair(torch, ours, theirs):
    """ours with theirs's parameters and buffers, through our load_state_dict."""
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "layer, shape",
    [
        ("BatchNorm1d", (8, 3)),
        ("BatchNorm1d", (6, 3, 5)),
        ("BatchNorm2d", (4, 3, 5, 2)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_layers_follow_torch_over_training_steps_then_in_eval(torch, rng, layer, shape, momentum):
    theirs = getattr(torch.nn, layer)(3, momentum=momentum)
    ours, theirs = _pair(torch, getattr(nn, layer)(3, momentum=momentum), theirs)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, state[name].numpy(), rtol=1e-5, atol=1e-6)
    assert ours.num_batches_tracked.data == 3 and ours.num_batches_tracked.dtype == np.int64
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_batch_norm_state_dict_has_pytorchs_keys_and_loads_from_torch(torch, rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    reference(torch.randn(4, 1, 5, 5))  # moves the running statistics off their start
    assert list(model.state_dict()) == list(reference.state_dict())
    _pair(torch, model, reference)
    model.eval(), reference.eval()
    x = rng.standard_normal((2, 1, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(model(tg.Tensor(x)).data, reference(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_batch_norm_buffers_survive_save_and_load(tmp_path, rng):
    trained = nn.BatchNorm1d(3)
    trained(tg.Tensor(rng.standard_normal((10, 3)).astype(np.float32) * 4 + 2))
    tg.save(trained.state_dict(), tmp_path / "bn.npz")
    fresh = nn.BatchNorm1d(3)
    fresh.load_state_dict(tg.load(tmp_path / "bn.npz"))
    for name, value in trained.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value)
    assert fresh.num_batches_tracked.dtype == np.int64 and fresh.num_batches_tracked.data == 1


def test_batch_norm_options_as_pytorch(torch):
    untracked = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(untracked.state_dict()) == list(torch.nn.BatchNorm1d(3, track_running_stats=False).state_dict())
    assert untracked.running_mean is None and list(untracked.buffers()) == []
    x = tg.Tensor(np.array([[0.0, 1, 2], [2, 3, 4]], np.float32))
    np.testing.assert_allclose(untracked.eval()(x).data, [[-1, -1, -1], [1, 1, 1]], atol=1e-4)  # batch statistics
    assert list(nn.BatchNorm2d(2, affine=False).state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert [name for name, _ in nn.BatchNorm2d(2, bias=False).named_parameters()] == ["weight"]
    assert repr(nn.BatchNorm2d(3)) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_layer_and_group_norm_layers_match_torch_and_ignore_the_mode(torch, rng):
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    for ours, theirs in (
        _pair(torch, nn.LayerNorm((3, 3)), torch.nn.LayerNorm((3, 3))),
        _pair(torch, nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
    ):
        with torch.no_grad():
            theirs.weight.normal_(), theirs.bias.normal_()
        _pair(torch, ours, theirs)
        expected = theirs(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(ours(tg.Tensor(x)).data, expected, atol=1e-5)
        np.testing.assert_allclose(ours.eval()(tg.Tensor(x)).data, expected, atol=1e-5)
    assert [p.shape for p in nn.LayerNorm(5, elementwise_affine=False).parameters()] == []
    assert [p.shape for p in nn.LayerNorm([2, 3]).parameters()] == [(2, 3), (2, 3)]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 4)), ValueError, r"BatchNorm1d: expected 2D or 3D input \(got 4D"),
        (lambda: nn.BatchNorm2d(3)(tg.randn(2, 3, 4)), ValueError, r"BatchNorm2d: expected 4D input \(got 3D"),
        (lambda: nn.BatchNorm2d(3)(tg.randn(2, 4, 4, 4)), RuntimeError, r"BatchNorm2d: running_mean should have shape"),
        (lambda: nn.GroupNorm(3, 4), ValueError, r"num_channels \(4\) must be divisible by num_groups \(3\)"),
        (lambda: nn.LayerNorm(4)(tg.randn(2, 3)), RuntimeError, "LayerNorm: given normalized_shape"),
    ],
)
def test_bad_normalization_layer_use_raises_pytorchs_error_class_naming_the_layer(call, error, message):
    with pytest.raises(error, match=message):
        call()
