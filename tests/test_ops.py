"""Every primitive op: forward against NumPy, backward against finite differences (float64)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_es as tg
from tinygrad_es import Tensor, gradcheck


def leaf(array):
    return Tensor(np.asarray(array, np.float64), requires_grad=True)


values = st.floats(-3, 3, allow_nan=False, width=64)
positive = st.floats(0.2, 3, allow_nan=False, width=64)


@st.composite
def broadcastable_pair(draw, elements=values):
    """Two arrays whose shapes broadcast (size-1 axes, missing leading axes and 0-d included)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    a, b = (draw(hnp.arrays(np.float64, s, elements=elements)) for s in shapes.input_shapes)
    return a, b


@pytest.mark.parametrize(
    "op, reference",
    [
        (lambda x, y: x + y, np.add),
        (lambda x, y: x - y, np.subtract),
        (lambda x, y: x * y, np.multiply),
        (lambda x, y: tg.maximum(x, y), np.maximum),
        (lambda x, y: tg.minimum(x, y), np.minimum),
    ],
    ids=["add", "sub", "mul", "maximum", "minimum"],
)
@given(pair=broadcastable_pair())
def test_binary_ops_broadcast_forward_and_backward(op, reference, pair):
    a, b = pair
    np.testing.assert_allclose(op(leaf(a), leaf(b)).data, reference(a, b))
    if reference in (np.maximum, np.minimum):
        b = b + 0.25 + np.abs(a).max(initial=0)  # keep x != y: max/min have a kink at ties
    assert gradcheck(op, (leaf(a), leaf(b)))


@given(pair=broadcastable_pair(elements=positive))
def test_div_and_pow_broadcast(pair):
    a, b = pair
    np.testing.assert_allclose((leaf(a) / leaf(b)).data, a / b)
    np.testing.assert_allclose((leaf(a) ** leaf(b)).data, a**b)
    assert gradcheck(lambda x, y: x / y, (leaf(a), leaf(b)))
    assert gradcheck(lambda x, y: x**y, (leaf(a), leaf(b)))


@pytest.mark.parametrize(
    "op, reference, domain",
    [
        (lambda x: -x, np.negative, values),
        (lambda x: x.exp(), np.exp, values),
        (lambda x: x.log(), np.log, positive),
        (lambda x: x.sqrt(), np.sqrt, positive),
        (lambda x: x.abs(), np.abs, positive.map(lambda v: v * np.sign(v - 1.5))),
        (lambda x: x**3, lambda a: a**3, values),
        (lambda x: x**-0.5, lambda a: a**-0.5, positive),
        (lambda x: 2**x, lambda a: 2**a, values),
        (lambda x: x.clip(-1, 1), lambda a: np.clip(a, -1, 1), values.filter(lambda v: abs(abs(v) - 1) > 1e-3)),
        (lambda x: x.clip(min=0.5), lambda a: np.clip(a, 0.5, None), positive.filter(lambda v: abs(v - 0.5) > 1e-3)),
    ],
    ids=["neg", "exp", "log", "sqrt", "abs", "cube", "rsqrt", "rpow", "clip", "clip_min"],
)
@given(data=st.data())
def test_unary_ops(op, reference, domain, data):
    a = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), elements=domain))
    np.testing.assert_allclose(op(leaf(a)).data, reference(a))
    assert gradcheck(op, leaf(a))


@pytest.mark.parametrize("scalar", [2.0, -1.5])
def test_python_scalars_and_arrays_work_on_either_side(scalar):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = leaf(a)
    arr = np.array([0.5, -2.0])
    pairs = [
        (scalar - t, scalar - a),
        (t - scalar, a - scalar),
        (scalar / t, scalar / a),
        (arr * t, arr * a),
        (t + arr, a + arr),
        (arr - t, arr - a),
    ]
    for result, expected in pairs:
        assert isinstance(result, Tensor)
        np.testing.assert_allclose(result.data, expected)
    assert gradcheck(lambda x: scalar / x + arr * x - scalar, t)


def test_python_scalar_keeps_float32():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert (t * 2.5 + 1).dtype == np.float32
    assert (2.5 / t).dtype == np.float32


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((3, 4), (4, 2)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((3, 4), (2, 4, 5)),
        ((1, 3, 4), (2, 4, 2)),
        ((4,), (2, 4, 3)),
        ((2, 3, 4), (4,)),
    ],
)
def test_matmul_matches_numpy_and_gradcheck(a_shape, b_shape, rng):
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    np.testing.assert_allclose((leaf(a) @ leaf(b)).data, a @ b)
    assert gradcheck(lambda x, y: x @ y, (leaf(a), leaf(b)))


def test_matmul_with_array_on_the_left(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    t = leaf(b)
    np.testing.assert_allclose((a @ t).data, a @ b)
    assert gradcheck(lambda y: a @ y, t)


def test_linear_fused_matches_matmul_plus_bias(rng):
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    fused = tg.fused.linear(leaf(x), leaf(w), leaf(b))
    np.testing.assert_allclose(fused.data, x @ w.T + b)
    assert gradcheck(tg.fused.linear, (leaf(x), leaf(w), leaf(b)))
    assert gradcheck(tg.fused.linear, (leaf(rng.standard_normal((2, 5, 3))), leaf(w), leaf(b)))
    assert gradcheck(lambda x, w: tg.fused.linear(x, w), (leaf(rng.standard_normal(3)), leaf(w)))


@given(batch=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), data=st.data())
def test_linear_takes_any_number_of_batch_axes(batch, data):
    x = data.draw(hnp.arrays(np.float64, batch + (3,), elements=values))
    w = data.draw(hnp.arrays(np.float64, (2, 3), elements=values))
    b = data.draw(hnp.arrays(np.float64, (2,), elements=values))
    out = tg.fused.linear(leaf(x), leaf(w), leaf(b))
    assert out.shape == batch + (2,)
    np.testing.assert_allclose(out.data, x @ w.T + b, atol=1e-12)
    assert gradcheck(tg.fused.linear, (leaf(x), leaf(w), leaf(b)))


def test_linear_of_a_0d_input_is_an_error():
    with pytest.raises(ValueError, match=r"linear: the input needs at least 1 dimension .*\(input shapes \(\), \(2,"):
        tg.fused.linear(leaf(1.0), leaf(np.ones((2, 1))))


axes = st.sampled_from([None, 0, -1, (0, 1), 1])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var"])
@given(order=st.permutations(range(12)), axis=axes, keepdims=st.booleans())
def test_reductions(name, order, axis, keepdims):
    a = np.reshape(order, (3, 4)) * 0.37 - 2  # distinct values: max and min have no ties to break
    reference = {
        "sum": np.sum,
        "mean": np.mean,
        "amax": np.max,
        "amin": np.min,
        "var": lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1),
    }[name]
    out = getattr(leaf(a), name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, reference(a, axis=axis, keepdims=keepdims))
    assert gradcheck(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), leaf(a))


def test_max_shares_gradient_between_ties():
    x = leaf([1.0, 3.0, 3.0, 0.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0.5, 0.5, 0])


def test_maximum_splits_gradient_at_ties_like_pytorch():
    x, y = leaf([1.0, 2.0]), leaf([1.0, 0.0])
    tg.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 1.0])
    np.testing.assert_array_equal(y.grad.data, [0.5, 0.0])


def test_var_correction_and_std(rng):
    a = rng.standard_normal((4, 5))
    np.testing.assert_allclose(leaf(a).var(correction=0).data, np.var(a))
    np.testing.assert_allclose(leaf(a).std(axis=1).data, np.std(a, axis=1, ddof=1))
    assert gradcheck(lambda x: x.std(axis=0), leaf(a))


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.reshape(6, 2),
        lambda x: x.reshape((-1,)),
        lambda x: x.transpose(),
        lambda x: x.transpose(0, 2),
        lambda x: x.permute(1, 2, 0),
        lambda x: x.T,
        lambda x: x.flatten(),
        lambda x: x.flatten(1),
        lambda x: x.unsqueeze(1).squeeze(1),
        lambda x: x[:, :1].squeeze(),
        lambda x: x[None].expand(2, 3, 2, 2),
        lambda x: x.broadcast_to((4, 3, 2, 2)),
    ],
    ids=[
        "reshape",
        "reshape-1",
        "transpose",
        "swap",
        "permute",
        "T",
        "flatten",
        "flatten1",
        "unsqueeze",
        "squeeze",
        "expand",
        "broadcast_to",
    ],
)
def test_shape_ops(op, rng):
    a = rng.standard_normal((3, 2, 2))
    out = op(leaf(a))
    np.testing.assert_allclose(out.data, op(_NumpyView(a)))
    assert gradcheck(op, leaf(a))


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), st.data())
def test_transpose_of_two_axes_swaps_them_for_any_number_of_axes(shape, data):
    a, b = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    np.testing.assert_array_equal(leaf(x).transpose(a, b).data, np.swapaxes(x, a, b))


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3), st.data())
def test_flatten_merges_the_axes_from_start_to_end_included(shape, data):
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape), len(shape) - 1))
    s, e = start % len(shape), end
    expected = shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :]
    assert leaf(np.zeros(shape)).flatten(start, end).shape == expected


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=2), st.data())
def test_squeeze_of_given_axes_drops_only_those_of_length_1(shape, data):
    axes = tuple(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    expected = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    assert leaf(np.zeros(shape)).squeeze(axes).shape == expected
    assert leaf(np.zeros(shape)).squeeze(axes[0]).shape == tuple(
        n for i, n in enumerate(shape) if not (i == axes[0] and n == 1)
    )


def test_bad_axes_for_shape_ops_are_errors_naming_the_op():
    x = leaf(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"Permute: .*\(2, 3, 4\)"):
        x.permute(1, 0)  # a permutation names every axis
    with pytest.raises(ValueError, match=r"transpose: axis 5 is out of bounds for array of dimension 3"):
        x.transpose(0, 5)
    with pytest.raises(ValueError, match="flatten: axis 5 is out of bounds"):
        x.flatten(5)
    with pytest.raises(ValueError, match="flatten: start_axis 2 comes after end_axis 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match="squeeze: axis 3 is out of bounds"):
        x.squeeze(3)


class _NumpyView:
    """The same method calls on a plain array, to get NumPy's answer for each shape op."""

    def __init__(self, a):
        self.a = a

    def reshape(self, *s):
        return self.a.reshape(*s)

    def transpose(self, *axes):
        if len(axes) == 2:
            return np.swapaxes(self.a, *axes)
        return self.a.transpose(*axes)

    def permute(self, *axes):
        return self.a.transpose(axes)

    T = property(lambda self: self.a.T)

    def flatten(self, start=0):
        return self.a.reshape(self.a.shape[:start] + (-1,))

    def unsqueeze(self, axis):
        return _NumpyView(np.expand_dims(self.a, axis))

    def squeeze(self, axis=None):
        return np.squeeze(self.a, axis)

    def __getitem__(self, index):
        return _NumpyView(self.a[index])

    def expand(self, *shape):
        return np.broadcast_to(self.a, shape)

    def broadcast_to(self, shape):
        return np.broadcast_to(self.a, shape)


@pytest.mark.parametrize(
    "index",
    [1, -1, slice(1, 3), (slice(None), 0), (Ellipsis, 1), (None, 0), (1, slice(None, None, -1))],
    ids=["int", "negative", "slice", "column", "ellipsis", "newaxis", "reversed"],
)
def test_basic_indexing(index, rng):
    a = rng.standard_normal((4, 3))
    np.testing.assert_allclose(leaf(a)[index].data, a[index])
    assert gradcheck(lambda x: x[index], leaf(a))


def test_integer_array_indexing_adds_up_repeated_indices():
    x = leaf([10.0, 20.0, 30.0])
    picked = x[np.array([0, 2, 0, 0])]
    np.testing.assert_array_equal(picked.data, [10, 30, 10, 10])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 0, 1])


def test_advanced_indexing_rows_and_columns(rng):
    a = rng.standard_normal((4, 3))
    rows, cols = np.array([0, 3, 0]), np.array([2, 1, 2])
    np.testing.assert_allclose(leaf(a)[rows, cols].data, a[rows, cols])
    assert gradcheck(lambda x: x[rows, cols], leaf(a))
    assert gradcheck(lambda x: x[Tensor(np.array([1, 1, 2]))], leaf(a))
    assert gradcheck(lambda x: x[a > 0], leaf(a))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(tg.concatenate([leaf(a), leaf(b)], axis).data, np.concatenate([a, b], axis))
    np.testing.assert_allclose(tg.stack([leaf(a), leaf(b)], axis).data, np.stack([a, b], axis))
    assert gradcheck(lambda x, y: tg.concatenate([x, y * 2], axis), (leaf(a), leaf(b)))
    assert gradcheck(lambda x, y: tg.stack([x, y * 2], axis), (leaf(a), leaf(b)))


def test_where_gives_no_gradient_to_the_condition(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    condition = a > 0
    np.testing.assert_allclose(tg.where(condition, leaf(a), leaf(b)).data, np.where(condition, a, b))
    assert gradcheck(lambda x, y: tg.where(condition, x, y), (leaf(a), leaf(b)))
    assert gradcheck(lambda x: tg.where(Tensor(condition), x, 0.0), leaf(a))


def test_comparisons_return_boolean_tensors_without_graph():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [
        (t > 2, [0, 0, 1]),
        (t >= 2, [0, 1, 1]),
        (t < 2, [1, 0, 0]),
        (t <= 2, [1, 1, 0]),
        (t == 2, [0, 1, 0]),
        (t != 2, [1, 0, 1]),
    ]:
        assert result.dtype == bool and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.data, np.array(expected, bool))


def test_astype_passes_gradient_back_in_the_input_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


# ---- edge values: PyTorch's results, without warnings -----------------------------------------------
def grads_of(fn, *values):
    inputs = [leaf(v) for v in values]
    fn(*inputs).sum().backward()
    return [x.grad.data for x in inputs]


@pytest.mark.filterwarnings("error")
def test_pow_gradients_at_zero_are_pytorchs():
    np.testing.assert_array_equal(grads_of(lambda x: x**0, [0.0, 2.0])[0], [0, 0])  # x^0 is constant
    gx, gp = grads_of(lambda x, p: x**p, [0.0, 0.0, 2.0], [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(gx, [0, 0, 12])
    np.testing.assert_allclose(gp, [0, 0, 8 * np.log(2)])  # d/dp of 0^p is 0 for p >= 0
    np.testing.assert_array_equal(grads_of(lambda p: 0.0**p, [0.0, 1.0])[0], [0, 0])
    np.testing.assert_array_equal(grads_of(lambda x: x**0.5, [0.0])[0], [np.inf])


@pytest.mark.filterwarnings("error")
def test_exp_log_sqrt_give_ieee_values_at_their_limits_without_warnings():
    assert leaf([1000.0]).exp().data[0] == np.inf
    assert leaf([0.0]).log().data[0] == -np.inf and np.isnan(leaf([-1.0]).log().data[0])
    np.testing.assert_array_equal(grads_of(lambda x: x.log(), [0.0])[0], [np.inf])
    np.testing.assert_array_equal(grads_of(lambda x: x.sqrt(), [0.0])[0], [np.inf])


@pytest.mark.filterwarnings("error")
def test_std_of_equal_values_has_a_zero_gradient():
    np.testing.assert_array_equal(grads_of(lambda x: x.std(), [2.0, 2.0, 2.0])[0], [0, 0, 0])
    np.testing.assert_array_equal(
        grads_of(lambda x: x.std(axis=1), [[1.0, 1.0], [0.0, 2.0]])[0], [[0, 0], [-1 / np.sqrt(2), 1 / np.sqrt(2)]]
    )
    assert gradcheck(lambda x: x.std(axis=0, keepdims=True), leaf(np.arange(6.0).reshape(3, 2) ** 2))


@pytest.mark.filterwarnings("error")
def test_max_and_min_of_a_slice_holding_nan_are_nan_and_its_nans_take_the_gradient():
    x = leaf([[np.nan, 1.0, np.nan], [2.0, 3.0, 3.0]])
    out = x.amax(axis=1)
    out.sum().backward()
    assert np.isnan(out.data[0]) and out.data[1] == 3
    np.testing.assert_array_equal(x.grad.data, [[0.5, 0, 0.5], [0, 0.5, 0.5]])  # PyTorch's amax shares the same way
    np.testing.assert_array_equal(grads_of(lambda t: t.min(), [1.0, np.nan])[0], [0, 1])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_over_an_empty_axis_is_nan_without_warnings(dtype):
    x = Tensor(np.zeros((0, 3), dtype), requires_grad=True)
    by_column = x.mean(axis=0)
    assert by_column.dtype == dtype and np.isnan(by_column.data).all() and by_column.shape == (3,)
    assert x.mean(axis=1).shape == (0,) and np.isnan(x.mean().item())
    by_column.sum().backward()
    assert x.grad.shape == (0, 3)


def test_variance_of_one_value_is_nan_with_a_nan_gradient():
    x = leaf([2.0])
    with pytest.warns(RuntimeWarning):  # NumPy's, as PyTorch warns about the degrees of freedom
        out = x.var()
    out.backward()
    assert np.isnan(out.item()) and np.isnan(x.grad.data[0])


def test_expand_keeps_an_axis_given_as_minus_one():
    x = leaf([[1.0, 2.0, 3.0]])
    assert x.expand(2, -1).shape == (2, 3) and x.expand(4, 2, -1).shape == (4, 2, 3)
    assert gradcheck(lambda t: t.expand(2, -1), x)
