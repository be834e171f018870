"""Reductions, running products and sums, and order statistics as PyTorch's: values, indices,
dtypes and gradients over shapes from 0-d, negative axes, keepdims, empty tensors, ties, zeros and
nan; gradients and second derivatives against finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import arrays, check_gradients, same_as_torch, shapes, torch, values

import tinygrad_es as tg

with_ties = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])
with_zeros = st.sampled_from([0.0, 0.5, -1.5, 2.0, 0.0])


@st.composite
def distinct(draw, shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)):
    """An array of distinct values (no ties: sort and median have no kink), and an axis of it."""
    shape = draw(shape)
    a = np.reshape(draw(st.permutations(range(int(np.prod(shape))))), shape) * 0.37 - 1.0
    return a, draw(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1))


@st.composite
def array_and_axis(draw, elements=values, shape=shapes, dtype=np.float64):
    """An array (in any layout) and an axis of it, possibly negative (0 or -1 for a 0-d array)."""
    a = draw(arrays(shape=shape, elements=elements, dtype=dtype))
    axis = draw(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1))
    return a, axis


@given(data=st.data(), keepdim=st.booleans())
def test_prod_along_an_axis_and_of_everything_with_zeros(data, keepdim):
    a, axis = data.draw(array_and_axis(elements=with_zeros))
    same_as_torch(lambda x: x.prod(dim=axis, keepdim=keepdim), lambda x: x.prod(dim=axis, keepdim=keepdim), a)
    same_as_torch(lambda x: tg.prod(x), lambda x: torch.prod(x), a)


@settings(max_examples=15)
@given(data=st.data())
def test_prod_gradients_with_one_zero_or_several_and_second_derivatives(data):
    a, axis = data.draw(array_and_axis(elements=with_zeros, shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    check_gradients(lambda x: x.prod(axis), a)
    check_gradients(lambda x: x.prod(), a)


def test_prod_of_integers_is_int64_and_of_nothing_is_one():
    same_as_torch(lambda x: x.prod(), lambda x: x.prod(), np.array([2, 3], np.int32))
    same_as_torch(lambda x: x.prod(0), lambda x: x.prod(0), np.zeros((0, 2)))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(data=st.data())
def test_running_sums_and_products_match_torch(name, data):
    a, axis = data.draw(array_and_axis(elements=with_zeros))
    same_as_torch(lambda x: getattr(x, name)(dim=axis), lambda x: getattr(x, name)(dim=axis), a)
    same_as_torch(
        lambda x: getattr(tg, name)(x, axis),
        lambda x: getattr(torch, name)(x, axis),
        a.astype(np.float32),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@settings(max_examples=15)
@given(data=st.data())
def test_running_sums_and_products_gradients_with_zeros_and_second_derivatives(name, data):
    a, axis = data.draw(array_and_axis(elements=with_zeros, shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    check_gradients(lambda x: getattr(x, name)(axis), a)


def test_running_sums_of_integers_and_booleans_are_int64():
    same_as_torch(lambda x: x.cumsum(0), lambda x: x.cumsum(0), np.array([1, 2, 3], np.int32))
    same_as_torch(lambda x: x.cumsum(0), lambda x: x.cumsum(0), np.array([True, False, True]))


@given(data=st.data(), keepdim=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_logsumexp_matches_torch(data, keepdim, dtype):
    a, axis = data.draw(array_and_axis(elements=st.floats(-50, 50, width=64), dtype=dtype))
    same_as_torch(
        lambda x: x.logsumexp(axis, keepdim=keepdim),
        lambda x: x.logsumexp(axis, keepdim=keepdim),
        a,
        rtol=1e-5 if dtype == np.float32 else 1e-9,
        atol=1e-6,
    )


@pytest.mark.filterwarnings("error")
def test_logsumexp_of_large_and_infinite_values_as_torch_without_warnings():
    for row in ([1e4, 1e4], [-np.inf, -np.inf], [np.inf, 1.0], [-1e4, 0.0]):
        same_as_torch(lambda x: x.logsumexp(0), lambda x: x.logsumexp(0), np.array(row, np.float32))
    same_as_torch(lambda x: x.logsumexp((0, 1)), lambda x: x.logsumexp((0, 1)), np.ones((2, 3)))


@settings(max_examples=15)
@given(data=st.data())
def test_logsumexp_gradients_and_second_derivatives(data):
    a, axis = data.draw(array_and_axis(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    check_gradients(lambda x: x.logsumexp(axis), a)


NORMS = [1, 2, 3, 0.5, math.inf, -math.inf, 0, "fro"]


@pytest.mark.parametrize("p", NORMS)
@given(data=st.data(), keepdim=st.booleans())
def test_norm_matches_torch_with_zeros_and_ties(p, data, keepdim):
    a, axis = data.draw(array_and_axis(elements=with_ties))
    axis = data.draw(st.sampled_from([axis, None]))
    if p in (math.inf, -math.inf) and a.size == 0:
        return  # no identity to start from: an error in both (tested below)
    same_as_torch(lambda x: x.norm(p, dim=axis, keepdim=keepdim), lambda x: x.norm(p, dim=axis, keepdim=keepdim), a)


@pytest.mark.parametrize("p", NORMS)
@settings(max_examples=10)
@given(data=st.data())
def test_norm_gradients_and_second_derivatives_away_from_zero(p, data):
    a, axis = data.draw(
        array_and_axis(
            elements=st.floats(0.3, 2, width=64).flatmap(lambda v: st.sampled_from([v, -v])),
            shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
        )
    )
    if p in (math.inf, -math.inf) and len(np.unique(np.abs(a))) != a.size:
        return  # ties: a kink
    check_gradients(lambda x: x.norm(p, axis), a)


def test_norm_over_several_axes_and_its_errors_as_torch():
    a = np.arange(24.0).reshape(2, 3, 4) - 10
    for axes in [(0, 2), (-1, -2), [0, 1, 2]]:
        same_as_torch(lambda x, axes=axes: tg.norm(x, 2, axes), lambda x, axes=axes: torch.norm(x, 2, axes), a)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError):
        tg.zeros(0).norm(math.inf)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), keepdim=st.booleans())
def test_argmax_and_argmin_give_the_first_of_ties_as_int64(name, data, keepdim):
    a, axis = data.draw(array_and_axis(elements=with_ties, shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
    (out,) = same_as_torch(
        lambda x: getattr(x, name)(dim=axis, keepdim=keepdim), lambda x: getattr(x, name)(dim=axis, keepdim=keepdim), a
    )
    assert out.dtype == np.int64 and not out.requires_grad
    same_as_torch(lambda x: getattr(tg, name)(x), lambda x: getattr(torch, name)(x), a)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_and_min_along_an_axis_return_values_and_the_first_index_of_ties(name, data, keepdim):
    a, axis = data.draw(array_and_axis(elements=with_ties, shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
    values_, indices = same_as_torch(
        lambda x: getattr(x, name)(axis, keepdim=keepdim), lambda x: getattr(x, name)(axis, keepdim=keepdim), a
    )
    result = getattr(tg.tensor(a), name)(dim=axis)
    assert type(result).__name__ == name and result.values.shape == result.indices.shape
    assert indices.dtype == np.int64


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_without_an_axis_share_the_gradient_among_ties_and_with_a_tensor_are_elementwise(name):
    a = np.array([[1.0, 3.0, 3.0], [-1.0, -1.0, 0.0]])
    same_as_torch(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)
    same_as_torch(lambda x, y: getattr(tg, name)(x, y), lambda x, y: getattr(torch, name)(x, y), a, a[::-1].copy())
    check_gradients(lambda x: getattr(x, name)(1).values, a + np.arange(6).reshape(2, 3) * 0.1)


def test_max_and_min_of_nan_pick_the_first_nan_as_torch():
    a = np.array([[1.0, np.nan, 2.0, np.nan], [0.0, 3.0, 3.0, -1.0]])
    for name in ["max", "min", "argmax", "argmin", "median"]:
        same_as_torch(lambda x, name=name: getattr(x, name)(1), lambda x, name=name: getattr(x, name)(1), a)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin", "median"])
def test_empty_reductions_without_an_axis_or_along_an_empty_axis_as_torch(name):
    same_as_torch(lambda x: getattr(x, name)(1), lambda x: getattr(x, name)(1), np.zeros((0, 3)))
    for call in (lambda x: getattr(x, name)(0), lambda x: getattr(x, name)()):
        try:
            call(torch.zeros(0, 3))
        except (RuntimeError, IndexError) as error:
            with pytest.raises(type(error)):
                call(tg.zeros(0, 3))
        else:  # median() of nothing is nan
            same_as_torch(call, call, np.zeros((0, 3), np.float32))


@pytest.mark.parametrize("name", ["all", "any"])
@given(data=st.data(), keepdim=st.booleans())
def test_all_and_any_are_boolean(name, data, keepdim):
    a, axis = data.draw(array_and_axis(elements=st.sampled_from([0.0, 1.0, -2.0])))
    same_as_torch(
        lambda x: getattr(x, name)(dim=axis, keepdim=keepdim), lambda x: getattr(x, name)(dim=axis, keepdim=keepdim), a
    )
    same_as_torch(lambda x: getattr(tg, name)(x), lambda x: getattr(torch, name)(x), a)


# ---- order statistics -----------------------------------------------------------------------------
@given(data=st.data(), descending=st.booleans())
def test_sort_is_stable_puts_nan_last_and_its_values_carry_the_gradient(data, descending):
    a, axis = data.draw(array_and_axis(elements=st.sampled_from([2.0, 1.0, np.nan, -1.0, 2.0, 0.5])))
    same_as_torch(
        lambda x: x.sort(dim=axis, descending=descending),
        lambda x: x.sort(dim=axis, descending=descending, stable=True),
        a,
    )
    same_as_torch(
        lambda x: tg.argsort(x, axis, descending=descending),
        lambda x: torch.argsort(x, dim=axis, descending=descending, stable=True),
        a,
    )


@settings(max_examples=10)
@given(data=st.data())
def test_sort_gradients_and_second_derivatives(data):
    a, axis = data.draw(distinct())
    check_gradients(lambda x: x.sort(axis).values, a)


@given(data=st.data(), largest=st.booleans())
def test_topk_picks_the_k_largest_or_smallest_values_in_order(data, largest):
    a, axis = data.draw(array_and_axis(elements=with_ties))
    size = a.shape[axis] if a.ndim else 1
    k = data.draw(st.integers(0, size))
    values_, indices = tg.topk(tg.tensor(a, requires_grad=True), k, axis, largest=largest)
    expected = torch.topk(torch.tensor(a), k, axis, largest=largest)
    np.testing.assert_array_equal(values_.data, expected.values.numpy())  # ties: which index is left open
    ax = axis % a.ndim if a.ndim else 0
    np.testing.assert_array_equal(np.take_along_axis(a, indices.data, ax) if a.ndim else a, values_.data)
    values_.backward(np.ones(values_.shape))


def test_topk_gradient_goes_to_the_entries_picked():
    a = np.array([[0.5, 3.0, -1.0, 2.0], [1.0, 0.0, 4.0, -2.0]])
    same_as_torch(lambda x: x.topk(2, dim=1), lambda x: x.topk(2, dim=1), a)
    same_as_torch(lambda x: x.topk(3, largest=False), lambda x: x.topk(3, largest=False), a)
    check_gradients(lambda x: x.topk(2).values, a)
    with pytest.raises(RuntimeError, match="k out of range"):
        tg.tensor(a).topk(5)


@given(data=st.data(), keepdim=st.booleans())
def test_median_is_the_lower_middle_value_as_torch(data, keepdim):
    shape = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)
    a, axis = data.draw(array_and_axis(elements=st.floats(-3, 3, width=64), shape=shape))
    same_as_torch(lambda x: x.median(dim=axis, keepdim=keepdim), lambda x: x.median(dim=axis, keepdim=keepdim), a)
    same_as_torch(lambda x: x.median(), lambda x: x.median(), a)


@given(data=st.data())
def test_median_with_ties_gives_torchs_values_and_an_index_holding_that_value(data):
    a, axis = data.draw(array_and_axis(elements=with_ties, shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
    values_, indices = tg.tensor(a).median(axis)
    expected = torch.tensor(a).median(axis)
    np.testing.assert_array_equal(values_.data, expected.values.numpy())
    ax = axis % a.ndim
    picked = np.take_along_axis(a, np.expand_dims(indices.data, ax), ax).squeeze(ax)
    np.testing.assert_array_equal(picked, values_.data)  # which of the tied entries is left open, as in PyTorch
    same_as_torch(lambda x: x.median(), lambda x: x.median(), a)  # no axis: ties share the gradient, as torch


def test_median_gradients_and_second_derivatives():
    a = np.array([[0.5, 3.0, -1.0, 2.0], [1.0, 0.0, 4.0, -2.0]])
    check_gradients(lambda x: x.median(1).values, a)
    check_gradients(lambda x: x.median(), a)


def test_methods_answer_to_pytorchs_argument_names():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1) and x.mean(dim=0).shape == (3,)
    assert tg.softmax(x, dim=0).shape == (2, 3) and x.flatten(start_dim=0).shape == (6,)
    with pytest.raises(TypeError, match="both dim= and axis="):
        x.sum(dim=1, axis=1)
