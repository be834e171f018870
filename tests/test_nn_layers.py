"""The layers built on the convolution, pooling and embedding ops, and the dropout variants: PyTorch's
arguments, defaults, initialization, state_dict keys and outputs for the same weights."""

import math

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _same_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


def _outputs_and_gradients_agree(torch, ours, theirs, x, rng, atol=1e-5):
    mine, reference = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(mine), theirs(reference)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=atol)
    upstream = rng.standard_normal(out.shape).astype(x.dtype)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), atol=atol)
    ours_parameters = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_parameters[name].grad.data, p.grad.numpy(), atol=atol, rtol=1e-4)


# ---- convolution layers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, arguments, shape",
    [
        ("Conv2d", dict(in_channels=4, out_channels=6, kernel_size=3, padding=1), (2, 4, 7, 5)),
        (
            "Conv2d",
            dict(in_channels=4, out_channels=4, kernel_size=(3, 2), stride=2, dilation=(1, 2), groups=4, bias=False),
            (2, 4, 9, 8),
        ),
        ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=4, padding="same"), (1, 2, 6, 6)),
        ("Conv1d", dict(in_channels=3, out_channels=2, kernel_size=5, stride=2, padding="valid"), (3, 3, 11)),
        (
            "ConvTranspose2d",
            dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1),
            (2, 4, 3, 4),
        ),
        ("ConvTranspose1d", dict(in_channels=2, out_channels=4, kernel_size=2, stride=2, groups=2), (2, 2, 5)),
    ],
)
def test_convolution_layers_take_torchs_weights_and_give_its_outputs_and_gradients(torch, rng, layer, arguments, shape):
    ours, theirs = getattr(nn, layer)(**arguments), getattr(torch.nn, layer)(**arguments)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    x = rng.standard_normal(shape).astype(np.float32)
    _outputs_and_gradients_agree(torch, _same_weights(ours, theirs), theirs, x, rng)


def test_convolution_layers_repr_as_torch(torch):
    for arguments in (
        dict(kernel_size=3, padding=1),
        dict(kernel_size=3, padding="same"),
        dict(kernel_size=(3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False),
    ):
        assert repr(nn.Conv2d(2, 4, **arguments)) == repr(torch.nn.Conv2d(2, 4, **arguments))
    assert repr(nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1)) == repr(
        torch.nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1)
    )
    assert repr(nn.Conv1d(3, 4, 3)) == repr(torch.nn.Conv1d(3, 4, 3))


@pytest.mark.parametrize(
    "layer, fan_in",
    [(nn.Conv2d(8, 16, 3), 72), (nn.Conv1d(4, 8, 5, groups=2), 10), (nn.ConvTranspose2d(6, 8, 2, groups=2), 16)],
)
def test_convolution_init_is_torchs_uniform_on_one_over_root_fan_in(layer, fan_in):
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform with a = sqrt(5), and the bias's interval
    assert 0.9 * bound < np.abs(layer.weight.data).max() <= bound  # 128 or more draws fill the interval
    assert np.abs(layer.bias.data).max() <= bound
    assert layer.weight.dtype == layer.bias.dtype == np.float32


def test_convolution_layer_initialization_repeats_with_a_generator():
    first, second = (nn.Conv2d(3, 4, 3, generator=np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(first.weight.data, second.weight.data)
    assert nn.Conv2d(3, 4, 3, dtype=np.float64).weight.dtype == np.float64


def test_conv_layer_gradients_of_second_order(rng):
    layer = nn.Conv2d(2, 2, 2, stride=1, padding=1, dtype=np.float64, generator=rng)
    x = tg.Tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    assert tg.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1).tanh(), (x, layer.weight, layer.bias))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: nn.Conv2d(3, 8, 3, groups=2),
            ValueError,
            r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)",
        ),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, r"out_channels \(6\) must be divisible by groups \(4\)"),
        (lambda: nn.Conv2d(3, 8, 3, padding="full"), ValueError, "Conv2d: invalid padding string 'full'"),
        (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), ValueError, "Conv2d: padding='same' is not supported"),
        (lambda: nn.Conv2d(3, 8, 3, padding=-1), RuntimeError, "Conv2d: negative padding is not supported"),
        (lambda: nn.Conv2d(3, 8, 3, padding_mode="reflect"), NotImplementedError, "padding_mode='reflect'"),
        (
            lambda: nn.Conv2d(3, 8, 5)(tg.randn(1, 3, 2, 2)),
            RuntimeError,
            r"Conv2d: the input of shape \(1, 3, 2, 2\), padded to \(2, 2\) per channel, is smaller than the kernel",
        ),
        (lambda: nn.Conv2d(3, 8, 3)(tg.randn(1, 4, 5, 5)), RuntimeError, r"Conv2d: given groups=1 .* got shape \(1, 4"),
        (
            lambda: nn.Conv1d(3, 8, 3)(tg.randn(1, 1, 3, 5)),
            RuntimeError,
            r"Conv1d: expected a 2-D \(unbatched\) or 3-D",
        ),
    ],
)
def test_bad_convolution_layers_raise_pytorchs_error_class_naming_the_layer(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ---- pooling layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, arguments, shape",
    [
        ("MaxPool2d", dict(kernel_size=2), (2, 3, 8, 7)),
        ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True), (1, 2, 7, 7)),
        ("MaxPool1d", dict(kernel_size=3, stride=1), (2, 2, 6)),
        ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 2, 6, 5)),
        ("AvgPool2d", dict(kernel_size=2, divisor_override=3), (1, 2, 4, 4)),
        ("AvgPool1d", dict(kernel_size=2, ceil_mode=True), (1, 2, 5)),
        ("AdaptiveAvgPool2d", dict(output_size=(3, None)), (2, 2, 7, 4)),
        ("AdaptiveAvgPool1d", dict(output_size=2), (2, 2, 5)),
    ],
)
def test_pooling_layers_give_torchs_outputs_gradients_and_repr(torch, rng, layer, arguments, shape):
    ours, theirs = getattr(nn, layer)(**arguments), getattr(torch.nn, layer)(**arguments)
    _outputs_and_gradients_agree(torch, ours, theirs, rng.standard_normal(shape).astype(np.float32), rng)
    assert repr(ours) == repr(theirs)


def test_max_pool_layer_returns_torchs_indices(torch, rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    _, indices = nn.MaxPool2d(2, return_indices=True)(tg.Tensor(x))
    _, expected = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, expected.numpy())


# ---- embedding -----------------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_adds_the_gradients_of_repeated_indices(torch, rng):
    ours, theirs = nn.Embedding(6, 3), torch.nn.Embedding(6, 3)
    _same_weights(ours, theirs)
    indices = np.array([[0, 2, 2], [5, 0, 2]])
    out, expected = ours(indices), theirs(torch.tensor(indices))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.data[2], upstream[0, 1] + upstream[0, 2] + upstream[1, 2], rtol=1e-6)


@pytest.mark.parametrize(
    "arguments",
    [
        dict(padding_idx=1),
        dict(padding_idx=-1, scale_grad_by_freq=True),
        dict(max_norm=1.0),
        dict(max_norm=0.5, norm_type=1.0),
    ],
)
def test_embedding_options_as_torch(torch, rng, arguments):
    ours, theirs = nn.Embedding(5, 4, **arguments), torch.nn.Embedding(5, 4, **arguments)
    _same_weights(ours, theirs)
    assert ours.padding_idx == theirs.padding_idx
    indices = np.array([1, 4, 1, 3, 4, 4])
    out, expected = ours(tg.Tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)  # max_norm renormalizes
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    layer = nn.Embedding(1000, 8, padding_idx=3, generator=np.random.default_rng(0))
    assert np.all(layer.weight.data[3] == 0)
    assert abs(layer.weight.data.std() - 1) < 0.05 and layer.weight.dtype == np.float32
    assert repr(layer) == "Embedding(1000, 8, padding_idx=3)"


def test_embedding_from_pretrained_is_frozen_unless_asked(rng):
    table = rng.standard_normal((4, 2)).astype(np.float32)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(np.array([3, 0])).data, table[[3, 0]])
    assert nn.Embedding.from_pretrained(tg.Tensor(table), freeze=False).weight.requires_grad


def test_embedding_gradient_of_second_order(rng):
    weight = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    indices = np.array([[1, 1, 3], [0, 2, 1]])
    assert tg.gradcheck(lambda w: F.embedding(indices, w) ** 2, weight)
    assert tg.gradgradcheck(lambda w: F.embedding(indices, w, padding_idx=3) ** 2, (weight,))  # row 3 never gets one


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: nn.Embedding(3, 2)(np.array([0, 3])),
            IndexError,
            r"Embedding: index out of range: indices from 0 to 3 "
            "for 3 embeddings",
        ),
        (lambda: nn.Embedding(3, 2)(np.array([-1])), IndexError, "Embedding: index out of range"),
        (lambda: nn.Embedding(3, 2)(np.array([0.0])), RuntimeError, "Embedding: indices must be integers, got float64"),
        (lambda: nn.Embedding(3, 2, padding_idx=3), AssertionError, r"padding_idx \(3\) must be within num_embeddings"),
    ],
)
def test_bad_embedding_use_raises_pytorchs_error_class(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- dropout variants, Unflatten, Identity -------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer = nn.Dropout2d(0.5, generator=np.random.default_rng(0))
    out = layer(tg.Tensor(np.ones((8, 16, 3, 3), np.float32))).data
    per_channel = out.reshape(8, 16, 9)
    assert np.all(per_channel == per_channel[..., :1])  # a channel is kept or dropped whole
    assert set(np.unique(out)) == {0.0, 2.0} and 0.35 < (out == 0).mean() < 0.65
    assert np.all(layer.eval()(tg.Tensor(np.ones((2, 3, 2, 2)))).data == 1)


def test_dropout2d_gradient_passes_through_the_same_channels():
    x = tg.Tensor(np.ones((2, 6, 2, 2)), requires_grad=True)
    out = F.dropout2d(x, 0.5, generator=np.random.default_rng(1))
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.data, out.data)


def test_dropout2d_on_3d_input_drops_channels_of_n_c_l_and_warns_as_torch():
    with pytest.warns(UserWarning, match="dropout2d: received a 3-D input"):
        out = F.dropout2d(tg.Tensor(np.ones((4, 5, 6))), 0.5, generator=np.random.default_rng(0))
    assert np.all(out.data == out.data[..., :1])


def test_alpha_dropout_keeps_mean_zero_and_variance_one_of_selu_activations():
    x = np.random.default_rng(0).standard_normal(200_000)
    out = F.alpha_dropout(tg.Tensor(x), 0.2, training=True, generator=np.random.default_rng(1)).data
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    saturated = 1.0507009873554804934193349852946 * -1.6732632423543772848170429916717
    a = ((1 - 0.2) * (1 + 0.2 * saturated**2)) ** -0.5
    dropped = np.isclose(out, a * saturated * (1 - 0.2))  # a dropped element: a * a' + b
    assert 0.19 < dropped.mean() < 0.21
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] - a * saturated * 0.2, rtol=1e-9)


def test_alpha_dropout_gradient_and_eval_mode(rng):
    x = tg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    dropped = lambda x: F.alpha_dropout(x, 0.3, training=True, generator=np.random.default_rng(2)) ** 2  # noqa: E731
    assert tg.gradcheck(dropped, x) and tg.gradgradcheck(dropped, (x,))
    layer = nn.AlphaDropout(0.3)
    assert F.alpha_dropout(x, 0.3) is x and layer.eval()(x) is x  # functional default training=False, as PyTorch
    with pytest.raises(ValueError, match=r"alpha_dropout: p must be in \[0, 1\], got 1.5"):
        F.alpha_dropout(x, 1.5, training=True)


def test_unflatten_splits_an_axis_as_torch(torch):
    x = tg.randn(3, 8)
    expected = torch.nn.Unflatten(1, (2, -1))(torch.randn(3, 8)).shape
    assert nn.Unflatten(1, (2, -1))(x).shape == (3, 2, 4) == tuple(expected)
    assert nn.Unflatten(-1, (2, 2, 2))(x).shape == (3, 2, 2, 2)
    empty = torch.nn.Unflatten(1, (2, -1))(torch.randn(0, 8, 3)).shape  # -1 comes from the axis, not the size
    assert nn.Unflatten(1, (2, -1))(tg.randn(0, 8, 3)).shape == (0, 2, 4, 3) == tuple(empty)
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
    with pytest.raises(RuntimeError, match=r"Unflatten: sizes \(2, -1\) don't multiply up to the size of axis 1 \(7\)"):
        nn.Unflatten(1, (2, -1))(tg.randn(3, 7))


def test_identity_takes_and_ignores_any_arguments():
    x = tg.randn(2, 3)
    assert nn.Identity(54, unused_argument=0.1)(x) is x
