"""Convolution and pooling (tinygrad_es.convolution): values and gradients against PyTorch over
drawn sizes, strides, paddings, dilations and groups; gradients of first and second order against
finite differences; PyTorch's errors for bad arguments."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from nn_checks import against_torch, layout

import tinygrad_es as tg
from tinygrad_es import functional as F

# PyTorch warns that an even kernel with padding="same" makes it copy the input
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


@pytest.fixture(scope="module")
def TF():  # noqa: N802  (PyTorch's functional namespace, as its users name it)
    return pytest.importorskip("torch").nn.functional


# ---- convolution -----------------------------------------------------------------------------------
@st.composite
def conv_cases(draw, dims=2):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    per_group_in, per_group_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = draw(
        st.one_of(st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * dims), st.just("valid"), st.just("same"))
    )
    if padding == "same":
        stride = (1,) * dims
    pads = (padding,) * dims if isinstance(padding, int) else (0,) * dims if isinstance(padding, str) else padding
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = tuple(draw(st.integers(max(1, span - 2 * p), max(1, span - 2 * p) + 5)) for span, p in zip(spans, pads))
    return dict(
        n=draw(st.integers(1, 3)),
        groups=groups,
        c_in=groups * per_group_in,
        c_out=groups * per_group_out,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        padding=padding,
        sizes=sizes,
        bias=draw(st.booleans()),
        layout=draw(st.sampled_from(["C", "F", "strided"])),
    )


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_conv1d_and_conv2d_match_torch_in_value_and_every_gradient(TF, dims, data):
    case = data.draw(conv_cases(dims))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = layout(rng.standard_normal((case["n"], case["c_in"], *case["sizes"])), case["layout"])
    w = rng.standard_normal((case["c_out"], case["c_in"] // case["groups"], *case["kernel"]))
    arrays = [x, w] + ([rng.standard_normal(case["c_out"])] if case["bias"] else [])
    options = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    ours, theirs = getattr(F, f"conv{dims}d"), getattr(TF, f"conv{dims}d")
    against_torch(lambda x, w, *b: ours(x, w, *b, **options), lambda x, w, *b: theirs(x, w, *b, **options), arrays, rng)


@given(conv_cases(2), st.data())
def test_conv_transpose2d_matches_torch_in_value_and_every_gradient(TF, case, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    assume(case["padding"] not in ("same", "valid"))
    padding = case["padding"]
    extra = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(case["stride"], case["dilation"]))
    pads = (padding,) * 2 if isinstance(padding, int) else padding
    sizes = tuple(
        max(n, 1 + (2 * p - d * (k - 1) - e) // s + 1)
        for n, p, d, k, e, s in zip(case["sizes"], pads, case["dilation"], case["kernel"], extra, case["stride"])
    )  # the output has at least one element
    x = layout(rng.standard_normal((case["n"], case["c_in"], *sizes)), case["layout"])
    w = rng.standard_normal((case["c_in"], case["c_out"] // case["groups"], *case["kernel"]))
    arrays = [x, w] + ([rng.standard_normal(case["c_out"])] if case["bias"] else [])
    options = dict(
        stride=case["stride"], padding=padding, output_padding=extra, groups=case["groups"], dilation=case["dilation"]
    )
    against_torch(
        lambda x, w, *b: F.conv_transpose2d(x, w, *b, **options),
        lambda x, w, *b: TF.conv_transpose2d(x, w, *b, **options),
        arrays,
        rng,
    )


def test_conv_transpose1d_upsamples_as_torch(TF, rng):
    x, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal((3, 4, 3)), rng.standard_normal(4)
    out = against_torch(
        lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
        [x, w, b],
        rng,
    )
    assert out.shape == (2, 4, 10)


def test_depthwise_convolution_keeps_channels_apart(TF, rng):
    x, w = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((8, 1, 3, 3))  # two filters per channel
    out = against_torch(
        lambda x, w: F.conv2d(x, w, groups=4, padding=1), lambda x, w: TF.conv2d(x, w, groups=4, padding=1), [x, w], rng
    )
    alone = F.conv2d(tg.Tensor(x[:, :1]), tg.Tensor(w[:2]), padding=1)  # channel 0 alone gives outputs 0 and 1
    np.testing.assert_allclose(out.data[:, :2], alone.data, rtol=1e-12)


def test_unbatched_input_gives_an_unbatched_output_as_torch(TF, rng):
    x, w = rng.standard_normal((3, 5, 4)), rng.standard_normal((2, 3, 2, 2))
    out = against_torch(lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w), [x, w], rng)
    assert out.shape == (2, 4, 3)
    assert F.conv1d(tg.Tensor(x[:, 0]), tg.Tensor(w[:, :, 0])).shape == (2, 3)


def test_same_padding_with_an_even_kernel_puts_the_extra_zero_after_as_torch():
    x = tg.Tensor(np.arange(1.0, 6.0).reshape(1, 1, 5))
    taps = tg.Tensor(np.array([[[1.0, 0.0, 0.0, 0.0]]]))  # picks the element 1 to the left of the window's middle
    np.testing.assert_array_equal(F.conv1d(x, taps, padding="same").data, [[[0.0, 1, 2, 3, 4]]])
    np.testing.assert_array_equal(F.conv1d(x, taps[..., :2], padding="same").data, [[[1.0, 2, 3, 4, 5]]])


def test_empty_batch_runs_forward_and_backward():
    x = tg.Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    w = tg.Tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    assert out.shape == (0, 3, 5, 5)
    out.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5) and np.all(w.grad.data == 0)


def test_float32_stays_float32_and_matches_float64(rng):
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    single = F.conv2d(*(tg.Tensor(a.astype(np.float32)) for a in (x, w, b)), padding=1)
    assert single.dtype == np.float32
    np.testing.assert_allclose(
        single.data, F.conv2d(tg.Tensor(x), tg.Tensor(w), tg.Tensor(b), padding=1).data, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "options",
    [
        dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
        dict(stride=1, padding="same", dilation=2, groups=1),
    ],
)
def test_conv2d_gradients_of_first_and_second_order_match_finite_differences(rng, options):
    x = tg.Tensor(rng.standard_normal((2, 4, 5, 4)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((4, 4 // options["groups"], 3, 2)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(4), requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), (x, w, b))
    assert tg.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), (x, w, b))


def test_conv_transpose2d_gradients_of_first_and_second_order_match_finite_differences(rng):
    x = tg.Tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((4, 1, 3, 2)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(2), requires_grad=True)
    options = dict(stride=2, padding=1, output_padding=1, groups=2)
    assert tg.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **options), (x, w, b))
    assert tg.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **options), (x, w, b))


def test_conv1d_gradients_of_first_and_second_order_match_finite_differences(rng):
    x = tg.Tensor(rng.standard_normal((2, 3, 9)), requires_grad=True)
    w = tg.Tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x, w: F.conv1d(x, w, stride=2, dilation=2), (x, w))
    assert tg.gradgradcheck(lambda x, w: F.conv1d(x, w, stride=2, dilation=2), (x, w))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.conv2d(tg.randn(1, 3, 2, 2), tg.randn(8, 3, 5, 5)),
            RuntimeError,
            r"conv2d: the input of shape \(1, 3, 2, 2\), padded to \(2, 2\) per channel, "
            r"is smaller than the kernel \(5, 5\)",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(8, 3, 3, 3)),
            RuntimeError,
            r"groups=1 and a weight of shape \(8, 3, 3, 3\), expected an input with 3 channels, "
            r"got shape \(1, 4, 5, 5\)",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(3, 2, 3, 3), groups=2),
            RuntimeError,
            r"groups=2 must divide the weight's first axis, got weight shape \(3, 2, 3, 3\)",
        ),
        (
            lambda: F.conv2d(tg.randn(5, 5), tg.randn(8, 3, 3, 3)),
            RuntimeError,
            r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5, 5\)",
        ),
        (lambda: F.conv1d(tg.randn(5), tg.randn(8, 1, 3)), RuntimeError, r"conv1d: expected a 2-D .* got shape \(5,\)"),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), padding=-1),
            RuntimeError,
            "conv2d: negative padding is not supported",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), stride=0),
            RuntimeError,
            r"conv2d: stride must be positive, got \(0, 0\)",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), padding="same", stride=2),
            RuntimeError,
            "padding='same' is not supported for strided convolutions",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), padding="full"),
            RuntimeError,
            "invalid padding string 'full'",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), tg.randn(7)),
            RuntimeError,
            r"expected a bias of shape \(8,\) for a weight of shape \(8, 3, 3, 3\), got \(7,\)",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5, dtype=np.float64), tg.randn(8, 3, 3, 3)),
            RuntimeError,
            "input and weight must have the same dtype, got float64 and float32",
        ),
        (
            lambda: F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(8, 3, 3, 3), stride=1.5),
            TypeError,
            "stride must be an int or a tuple of 2 ints",
        ),
        (
            lambda: F.conv_transpose2d(tg.randn(1, 3, 4, 4), tg.randn(3, 2, 3, 3), stride=2, output_padding=2),
            RuntimeError,
            "output padding must be smaller than either stride or dilation",
        ),
        (
            lambda: F.conv_transpose2d(tg.randn(1, 3, 1, 1), tg.randn(3, 2, 1, 1), padding=1),
            RuntimeError,
            r"output size per channel would be \(-1, -1\): output size is too small",
        ),
    ],
)
def test_bad_convolution_arguments_raise_pytorchs_error_class_naming_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- pooling ---------------------------------------------------------------------------------------
@st.composite
def pool_cases(draw, dims=2, dilated=True):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * dims)))
    sizes = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 8)) for k, d, p in zip(kernel, dilation, padding))
    return dict(
        kernel=kernel,
        dilation=dilation,
        padding=padding,
        stride=stride,
        sizes=sizes,
        ceil_mode=draw(st.booleans()),
        n=draw(st.integers(1, 2)),
        c=draw(st.integers(1, 3)),
        ties=draw(st.booleans()),
        layout=draw(st.sampled_from(["C", "F", "strided"])),
    )


def every_window_touches_the_input(case):
    """Dilation can make a window skip the input, all padding: PyTorch then sends its gradient to an index
    past the input's plane (into the next channel), which is not worth matching."""
    for n, k, d, p, s in zip(
        case["sizes"], case["kernel"], case["dilation"], case["padding"], case["stride"] or case["kernel"]
    ):
        out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if case["ceil_mode"] else 0)) // s + 1
        out -= case["ceil_mode"] and (out - 1) * s >= n + p
        if any(not any(0 <= o * s - p + i * d < n for i in range(k)) for o in range(out)):
            return False
    return True


def pool_input(case, rng):
    x = rng.standard_normal((case["n"], case["c"], *case["sizes"]))
    if case["ties"]:  # few distinct values: many windows with several maxima
        x = np.round(x)
    return layout(x, case["layout"])


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_max_pool_matches_torch_gradient_to_the_first_maximum_and_indices(TF, dims, data):
    case = data.draw(pool_cases(dims))
    assume(every_window_touches_the_input(case))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    options = dict(
        kernel_size=case["kernel"],
        stride=case["stride"],
        padding=case["padding"],
        dilation=case["dilation"],
        ceil_mode=case["ceil_mode"],
    )
    ours, theirs, x = getattr(F, f"max_pool{dims}d"), getattr(TF, f"max_pool{dims}d"), pool_input(case, rng)
    against_torch(lambda x: ours(x, **options), lambda x: theirs(x, **options), [x], rng)
    _, indices = ours(tg.Tensor(x), **options, return_indices=True)
    torch = pytest.importorskip("torch")
    _, expected = theirs(torch.tensor(x, requires_grad=True), **options, return_indices=True)  # autograd path
    np.testing.assert_array_equal(indices.data, expected.numpy())


@given(pool_cases(2, dilated=False), st.booleans(), st.sampled_from([None, 3]), st.data())
def test_avg_pool2d_matches_torch_with_its_divisor_rules(TF, case, count_include_pad, divisor_override, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    options = dict(
        kernel_size=case["kernel"],
        stride=case["stride"],
        padding=case["padding"],
        ceil_mode=case["ceil_mode"],
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )
    against_torch(
        lambda x: F.avg_pool2d(x, **options), lambda x: TF.avg_pool2d(x, **options), [pool_input(case, rng)], rng
    )


@given(pool_cases(1, dilated=False), st.booleans(), st.data())
def test_avg_pool1d_matches_torch(TF, case, count_include_pad, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    options = dict(
        kernel_size=case["kernel"],
        stride=case["stride"],
        padding=case["padding"],
        ceil_mode=case["ceil_mode"],
        count_include_pad=count_include_pad,
    )
    against_torch(
        lambda x: F.avg_pool1d(x, **options), lambda x: TF.avg_pool1d(x, **options), [pool_input(case, rng)], rng
    )


@given(
    st.tuples(st.integers(1, 9), st.integers(1, 9)),
    st.tuples(st.one_of(st.none(), st.integers(1, 10)), st.one_of(st.none(), st.integers(1, 10))),
    st.data(),
)
def test_adaptive_avg_pool2d_matches_torch_for_any_bins(TF, sizes, output_size, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((2, 3, *sizes))
    against_torch(
        lambda x: F.adaptive_avg_pool2d(x, output_size), lambda x: TF.adaptive_avg_pool2d(x, output_size), [x], rng
    )


def test_adaptive_avg_pool1d_and_global_pooling(TF, rng):
    x = rng.standard_normal((2, 3, 7))
    against_torch(lambda x: F.adaptive_avg_pool1d(x, 3), lambda x: TF.adaptive_avg_pool1d(x, 3), [x], rng)
    image = rng.standard_normal((2, 3, 5, 4))
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(tg.Tensor(image), 1).data, image.mean(axis=(2, 3), keepdims=True), rtol=1e-12
    )


def test_max_pool_sends_a_tied_windows_gradient_to_its_first_maximum_only():
    x = tg.Tensor(np.array([[[[1.0, 1.0], [1.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).backward(np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(x.grad.data, [[[[5.0, 0.0], [0.0, 0.0]]]])


def test_overlapping_max_windows_add_up_their_gradients():
    x = tg.Tensor(np.array([[[0.0, 3.0, 1.0, 0.0]]]), requires_grad=True)
    F.max_pool1d(x, 2, stride=1).backward(np.array([[[1.0, 10.0, 100.0]]]))  # the 3 is the maximum of two windows
    np.testing.assert_array_equal(x.grad.data, [[[0.0, 11.0, 100.0, 0.0]]])


def test_a_nan_in_a_window_is_its_maximum_and_the_last_nan_takes_the_gradient_as_in_torch():
    x = tg.Tensor(np.array([[[1.0, np.nan, np.nan, 3.0, 5.0, 5.0]]]), requires_grad=True)
    out = F.max_pool1d(x, 3)
    np.testing.assert_array_equal(out.data, [[[np.nan, 5.0]]])
    out.backward(np.array([[[1.0, 1.0]]]))
    np.testing.assert_array_equal(x.grad.data, [[[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]]])


def test_pooling_takes_unbatched_inputs_and_empty_batches():
    assert F.max_pool2d(tg.randn(3, 6, 6), 2).shape == (3, 3, 3)
    assert F.avg_pool1d(tg.randn(3, 6), 3).shape == (3, 2)
    assert F.max_pool2d(tg.randn(0, 3, 6, 6), 2).shape == (0, 3, 3, 3)


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1, dilation=(1, 2), ceil_mode=True) ** 2,
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2,
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)) ** 2,
    ],
)
def test_pooling_gradients_of_first_and_second_order_match_finite_differences(rng, pool):
    x = tg.Tensor(rng.standard_normal((2, 2, 5, 6)), requires_grad=True)  # distinct values: no ties
    assert tg.gradcheck(pool, x)
    assert tg.gradgradcheck(pool, (x,))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.max_pool2d(tg.randn(1, 1, 5, 5), 3, padding=2), "padding should be at most half of the kernel size"),
        (
            lambda: F.max_pool2d(tg.randn(5, 5), 2),
            r"max_pool2d: expected a 3-D \(unbatched\) or 4-D .* got shape \(5, 5\)",
        ),
        (lambda: F.max_pool2d(tg.randn(1, 1, 1, 1), 2), r"output size would be \(0, 0\): output size is too small"),
        (lambda: F.avg_pool2d(tg.randn(1, 1, 5, 5), 3, padding=-1), r"padding must be non-negative, got \(-1, -1\)"),
        (lambda: F.max_pool2d(tg.randn(1, 1, 5, 5), 3, stride=0), r"stride must be positive, got \(0, 0\)"),
        (lambda: F.adaptive_avg_pool2d(tg.randn(4, 4), 2), r"adaptive_avg_pool2d: expected a 3-D or 4-D input"),
    ],
)
def test_bad_pooling_arguments_raise_a_runtime_error_naming_the_shapes(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()
