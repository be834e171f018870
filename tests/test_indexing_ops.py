"""gather, scatter, scatter_add, index_select, masked_fill, masked_select and nonzero as PyTorch's:
values, gradients (added up where an index repeats), errors; second derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import arrays, check_gradients, same_as_torch, torch

import tinygrad_es as tg

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


@st.composite
def gather_case(draw):
    """x, an axis, and an int64 index of x's number of axes, no longer than x off the axis, with
    repeats (the gradient adds them up)."""
    a = draw(arrays(shape=shapes))
    axis = draw(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1))
    ax = axis % a.ndim if a.ndim else 0
    shape = tuple(draw(st.integers(0, 4)) if i == ax else draw(st.integers(0, n)) for i, n in enumerate(a.shape))
    size = a.shape[ax] if a.ndim else 1
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, size - 1)))
    return a, axis, index


@given(case=gather_case())
def test_gather_as_torch(case):
    a, axis, index = case
    same_as_torch(lambda x: x.gather(axis, tg.tensor(index)), lambda x: x.gather(axis, torch.tensor(index)), a)
    same_as_torch(
        lambda x: tg.gather(x, dim=axis, index=index), lambda x: torch.gather(x, axis, torch.tensor(index)), a
    )


@given(case=gather_case(), data=st.data())
def test_scatter_add_and_scatter_as_torch(case, data):
    a, axis, index = case
    src = data.draw(hnp.arrays(np.float64, index.shape, elements=st.floats(-3, 3, width=64)))
    same_as_torch(
        lambda x, s: x.scatter_add(axis, tg.tensor(index), s),
        lambda x, s: x.scatter_add(axis, torch.tensor(index), s),
        a,
        src,
    )
    larger = np.pad(src, 1)[tuple(slice(1, n + 2) for n in src.shape)]  # src may be longer than index: its start
    same_as_torch(
        lambda x, s: x.scatter_add(axis, tg.tensor(index), s),
        lambda x, s: x.scatter_add(axis, torch.tensor(index), s),
        a,
        larger,
        grad=False,
    )
    ax = axis % max(a.ndim, 1)
    if index.ndim == 0 or (np.diff(np.sort(index, axis=ax), axis=ax) != 0).all():  # a repeated index: which write
        # stays is left open
        same_as_torch(
            lambda x, s: x.scatter(axis, tg.tensor(index), s),
            lambda x, s: x.scatter(axis, torch.tensor(index), s),
            a,
            src,
        )
        same_as_torch(
            lambda x: x.scatter(axis, tg.tensor(index), 2.5), lambda x: x.scatter(axis, torch.tensor(index), 2.5), a
        )


def test_gather_and_scatter_are_differentiable_twice():
    a = np.arange(12.0).reshape(3, 4) * 0.3 - 1
    index = np.array([[0, 0, 2], [1, 3, 3]])
    check_gradients(lambda x: x.gather(1, tg.tensor(index[:, :2])) ** 2, a)
    check_gradients(lambda x, s: x.scatter_add(1, tg.tensor(index), s) ** 2, a, np.ones((2, 3)) * 0.5)
    check_gradients(lambda x, s: x.scatter(0, tg.tensor([[2, 0, 1, 1]]), s) ** 2, a, np.ones((1, 4)) * 0.5)


def test_scatter_gives_no_gradient_to_an_entry_written_over():
    """Where an index repeats the last write stays, so the entries written over do not reach the
    output: their gradient is 0 (PyTorch, whose result is then undefined, gives them the gradient)."""
    x, src = tg.tensor(np.zeros(3), requires_grad=True), tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = x.scatter(0, tg.tensor([2, 0, 2]), src)
    np.testing.assert_array_equal(out.data, [2.0, 0.0, 3.0])
    out.backward(tg.tensor(np.array([10.0, 20.0, 30.0])))
    np.testing.assert_array_equal(src.grad.data, [0.0, 10.0, 30.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 20.0, 0.0])
    index = tg.tensor([[1, 1, 0], [1, 1, 1]])
    check_gradients(lambda x, s: x.scatter(0, index, s) ** 2, np.arange(6.0).reshape(2, 3), np.ones((2, 3)) * 0.5 + 1)


def test_gather_and_scatter_errors_as_torch():
    x = tg.zeros(3, 2)
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(0, tg.tensor([[5, 0]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(0, tg.tensor([[-1, 0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, tg.tensor([0]))
    with pytest.raises(RuntimeError, match="no larger"):
        x.gather(0, tg.tensor([[0, 0, 0]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_add(0, tg.tensor([[3, 0]]), tg.ones(1, 2))
    with pytest.raises(TypeError):
        x.gather(0, tg.tensor([[0.0, 1.0]]))


@given(data=st.data())
def test_index_select_with_repeats_as_torch(data):
    a = data.draw(arrays(shape=shapes))
    axis = data.draw(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1))
    size = a.shape[axis] if a.ndim else 1
    index = np.array(
        data.draw(st.lists(st.integers(0, size - 1), min_size=1 if not a.ndim else 0, max_size=1 if not a.ndim else 5)),
        np.int64,
    )
    same_as_torch(
        lambda x: x.index_select(axis, tg.tensor(index)), lambda x: x.index_select(axis, torch.tensor(index)), a
    )
    check_gradients(lambda x: x.index_select(axis, index) ** 2, a)


def test_index_select_errors_as_torch():
    with pytest.raises(IndexError, match="out of range"):
        tg.zeros(3).index_select(0, tg.tensor([3]))
    with pytest.raises(IndexError, match="vector"):
        tg.zeros(3).index_select(0, tg.tensor([[0]]))


@st.composite
def with_mask(draw):
    a = draw(arrays(shape=shapes))
    mask_shape = draw(hnp.broadcastable_shapes(a.shape, min_dims=0))
    return a, draw(hnp.arrays(bool, mask_shape))


@given(case=with_mask(), value=st.sampled_from([0.0, -1.5, float("inf")]))
def test_masked_fill_and_masked_select_as_torch(case, value):
    a, mask = case
    same_as_torch(
        lambda x: x.masked_fill(tg.tensor(mask), value), lambda x: x.masked_fill(torch.tensor(mask), value), a
    )
    same_as_torch(
        lambda x, v: x.masked_fill(tg.tensor(mask), v),
        lambda x, v: x.masked_fill(torch.tensor(mask), v),
        a,
        np.array(value),
    )
    same_as_torch(lambda x: x.masked_select(tg.tensor(mask)), lambda x: x.masked_select(torch.tensor(mask)), a)


@settings(max_examples=10)
@given(case=with_mask())
def test_masked_fill_and_masked_select_are_differentiable_twice(case):
    a, mask = case
    check_gradients(lambda x: x.masked_fill(mask, 0.5) ** 2, a)
    check_gradients(lambda x: x.masked_select(tg.tensor(mask)) ** 2, a)


def test_masked_fill_keeps_the_dtype_and_wants_a_boolean_mask_as_torch():
    same_as_torch(lambda x: x.masked_fill(x > 1, 7), lambda x: x.masked_fill(x > 1, 7), np.array([1, 2, 3]))
    with pytest.raises(RuntimeError, match="boolean masks"):
        tg.zeros(3).masked_fill(tg.tensor([1.0, 0.0, 1.0]), 0)
    with pytest.raises(RuntimeError, match="0-dimensional"):
        tg.zeros(3).masked_fill(tg.tensor([True, False, True]), tg.zeros(3))


@given(
    a=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
        elements=st.sampled_from([0.0, 1.0, -2.0]),
    )
)
def test_nonzero_as_torch(a):
    same_as_torch(lambda x: x.nonzero(), lambda x: x.nonzero(), a)
    same_as_torch(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), a)
