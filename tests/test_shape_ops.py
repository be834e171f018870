"""Shape ops and rearrangements of PyTorch's surface (split, chunk, unbind, narrow, movedim, the
stacks, meshgrid, flip, roll, repeat, tile, repeat_interleave, pad, tril/triu, diagonals): values
and gradients as torch's, over shapes from 0-d, negative axes and empty tensors; gradients and
second derivatives against finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import arrays, check_gradients, same_as_torch, shapes, torch

import tinygrad_es as tg
from tinygrad_es import functional as F

small = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)


@st.composite
def array_and_axis(draw, shape=small):
    a = draw(arrays(shape=shape))
    return a, draw(st.integers(-a.ndim, a.ndim - 1))


@given(data=st.data())
def test_split_by_size_and_by_sections_as_torch(data):
    a, axis = data.draw(array_and_axis())
    length = a.shape[axis]
    size = data.draw(st.integers(1, 4))
    same_as_torch(lambda x: x.split(size, dim=axis), lambda x: x.split(size, dim=axis), a)
    cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=3)))
    sections = np.diff([0, *cuts, length]).tolist()
    same_as_torch(lambda x: tg.split(x, sections, axis), lambda x: torch.split(x, sections, axis), a)


@given(data=st.data(), chunks=st.integers(1, 5))
def test_chunk_and_unbind_as_torch(data, chunks):
    a, axis = data.draw(array_and_axis())
    same_as_torch(lambda x: x.chunk(chunks, axis), lambda x: x.chunk(chunks, axis), a)
    same_as_torch(lambda x: x.unbind(axis), lambda x: x.unbind(axis), a)


def test_pieces_are_differentiable_twice():
    a = np.arange(12.0).reshape(3, 4) * 0.3
    check_gradients(lambda x: x.split([1, 3], 1), a)
    check_gradients(lambda x: x.chunk(2, 0)[1] * x.unbind(1)[2][:2, None], a)
    check_gradients(lambda x: x.narrow(1, 1, 2) ** 2, a)


def test_split_and_narrow_errors_as_torch():
    x = tg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="sum exactly to 3"):
        x.split([1, 1])
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 3)
    with pytest.raises(IndexError):
        x.narrow(1, 9, 1)
    with pytest.raises(np.exceptions.AxisError):
        x.split(2, dim=2)


@given(data=st.data())
def test_narrow_with_negative_start_and_unflatten_as_torch(data):
    a, axis = data.draw(array_and_axis(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))
    length = a.shape[axis]
    start = data.draw(st.integers(-length, length - 1))
    size = data.draw(st.integers(0, length - start % length))
    same_as_torch(lambda x: x.narrow(axis, start, size), lambda x: x.narrow(axis, start, size), a)
    same_as_torch(lambda x: x.unflatten(axis, (1, length)), lambda x: x.unflatten(axis, (1, length)), a)
    same_as_torch(lambda x: x.unflatten(axis, (length, -1)), lambda x: x.unflatten(axis, (length, -1)), a)


@given(data=st.data())
def test_movedim_as_torch(data):
    a = data.draw(arrays(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3)))
    source = data.draw(st.lists(st.integers(0, a.ndim - 1), unique=True, min_size=1))
    destination = data.draw(st.permutations(range(-a.ndim, 0)))[: len(source)]
    same_as_torch(lambda x: x.movedim(source, destination), lambda x: x.movedim(source, destination), a)
    same_as_torch(lambda x: tg.moveaxis(x, source[0], -1), lambda x: torch.moveaxis(x, source[0], -1), a)


def test_t_swapdims_and_the_like_methods():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
    same_as_torch(lambda x: x.t(), lambda x: x.t(), a)
    same_as_torch(lambda x: x.t(), lambda x: x.t(), a[0])
    same_as_torch(lambda x: x.swapdims(0, 1), lambda x: x.swapdims(0, 1), a)
    same_as_torch(lambda x, y: x.view_as(y), lambda x, y: x.view_as(y), a, b)
    same_as_torch(lambda x, y: x.reshape_as(y), lambda x, y: x.reshape_as(y), a, b)
    same_as_torch(lambda x, y: x[:1].expand_as(y), lambda x, y: x[:1].expand_as(y), a, a)
    same_as_torch(lambda x: x.clone() * 2, lambda x: x.clone() * 2, a)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        tg.zeros(1, 2, 3).t()


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack"])
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), count=st.integers(1, 3))
def test_stacks_as_torch(name, shape, count):
    parts = [np.full(shape, float(i)) + np.arange(np.prod(shape)).reshape(shape) for i in range(count)]
    same_as_torch(lambda *xs: getattr(tg, name)(xs), lambda *xs: getattr(torch, name)(xs), *parts)


@given(lengths=st.lists(st.integers(0, 3), min_size=1, max_size=3), indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_as_torch(lengths, indexing):
    vectors = [np.arange(n) + 0.5 * i for i, n in enumerate(lengths)]
    same_as_torch(
        lambda *xs: tg.meshgrid(*xs, indexing=indexing), lambda *xs: torch.meshgrid(*xs, indexing=indexing), *vectors
    )


# ---- rearrangements ---------------------------------------------------------------------------------
@given(data=st.data())
def test_flip_and_roll_as_torch(data):
    a = data.draw(arrays(shape=shapes))
    axes = data.draw(
        st.lists(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1), unique_by=lambda i: i % max(a.ndim, 1), min_size=1)
    )
    same_as_torch(lambda x: x.flip(axes), lambda x: x.flip(axes), a)
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes)))
    same_as_torch(lambda x: x.roll(shifts, axes), lambda x: x.roll(shifts, axes), a)
    same_as_torch(lambda x: x.roll(shifts[0]), lambda x: x.roll(shifts[0]), a)


def test_roll_adds_the_shifts_of_an_axis_named_twice_as_torch():
    a = np.arange(12.0).reshape(3, 4)
    out = same_as_torch(lambda x: x.roll((1, 2, -1), (1, -1, 0)), lambda x: x.roll((1, 2, -1), (1, -1, 0)), a)[0]
    np.testing.assert_array_equal(out.data, np.roll(a, (3, -1), (1, 0)))
    check_gradients(lambda x: x.roll((1, 1), (0, 0)) * x, a)


@given(data=st.data())
def test_repeat_and_tile_as_torch(data):
    a = data.draw(arrays(shape=shapes))
    reps = data.draw(st.lists(st.integers(0, 3), min_size=a.ndim, max_size=a.ndim + 2))
    same_as_torch(lambda x: x.repeat(*reps), lambda x: x.repeat(*reps), a)
    dims = reps[: data.draw(st.integers(0, len(reps)))]
    same_as_torch(lambda x: x.tile(dims), lambda x: x.tile(dims), a)


@given(data=st.data())
def test_repeat_interleave_as_torch(data):
    a, axis = data.draw(array_and_axis())
    same_as_torch(lambda x: x.repeat_interleave(2, dim=axis), lambda x: x.repeat_interleave(2, dim=axis), a)
    same_as_torch(lambda x: x.repeat_interleave(3), lambda x: x.repeat_interleave(3), a)
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=a.shape[axis], max_size=a.shape[axis])), np.int64)
    same_as_torch(
        lambda x: x.repeat_interleave(tg.tensor(counts), axis),
        lambda x: x.repeat_interleave(torch.tensor(counts), axis),
        a,
    )


def test_rearrangements_are_differentiable_twice():
    a = np.arange(12.0).reshape(3, 4) * 0.3 - 1
    check_gradients(lambda x: x.flip((0, 1)) * x, a)
    check_gradients(lambda x: x.roll((1, -1), (0, 1)) * x, a)
    check_gradients(lambda x: x.repeat(2, 1, 2) ** 2, a)
    check_gradients(lambda x: x.repeat_interleave(tg.tensor([1, 0, 2]), 0) ** 2, a)
    check_gradients(lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect") ** 2, a)
    check_gradients(lambda x: F.pad(x, (1, -1), value=0.5) ** 2, a)
    check_gradients(lambda x: x.tril(1) * x.triu(-1), a)
    check_gradients(lambda x: x.diagonal(1) ** 2 + x.trace(), a)
    check_gradients(lambda x: tg.diag(x[0], -1) ** 2, a)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@given(data=st.data())
def test_pad_as_torch(mode, data):
    axes = data.draw(st.integers(1, 3))  # PyTorch pads the last 1-3 axes of a batch: 1 or 2 more axes
    ndim = data.draw(st.integers(axes + 1, min(axes + 2, 4)))
    a = data.draw(arrays(shape=hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=2, max_side=3)))
    limit = {"constant": 3, "reflect": 1, "replicate": 3, "circular": 2}[mode]
    low = -1 if mode == "constant" else 0
    widths = data.draw(st.lists(st.integers(low, limit), min_size=2 * axes, max_size=2 * axes))
    kwargs = {"value": 1.5} if mode == "constant" else {}
    same_as_torch(
        lambda x: F.pad(x, widths, mode=mode, **kwargs),
        lambda x: torch.nn.functional.pad(x, widths, mode=mode, **kwargs),
        a,
    )


def test_constant_pad_of_a_0d_tensor_is_a_copy_as_torch():
    out = same_as_torch(lambda x: F.pad(x, ()), lambda x: torch.nn.functional.pad(x, ()), np.array(1.5))[0]
    assert out.shape == () and out.item() == 1.5
    check_gradients(lambda x: F.pad(x, (), value=2.0) ** 2, np.array(1.5))


def test_pad_errors_as_torch():
    with pytest.raises(RuntimeError):
        F.pad(tg.zeros(1, 2, 3), (3, 3), mode="reflect")  # padding must be smaller than the axis
    with pytest.raises(RuntimeError):
        F.pad(tg.zeros(1, 2, 3), (1, 2, 3))  # an odd number of widths


@pytest.mark.parametrize("name", ["tril", "triu"])
@given(data=st.data(), k=st.integers(-3, 3))
def test_triangles_as_torch(name, data, k):
    a = data.draw(arrays(shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=4)))
    same_as_torch(lambda x: getattr(x, name)(k), lambda x: getattr(x, name)(k), a)
    with pytest.raises(RuntimeError):
        getattr(tg.zeros(3), name)()


@given(data=st.data(), offset=st.integers(-3, 3))
def test_diagonals_and_trace_as_torch(data, offset):
    a = data.draw(arrays(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4)))
    dim1, dim2 = data.draw(
        st.lists(st.integers(-a.ndim, a.ndim - 1), min_size=2, max_size=2, unique_by=lambda i: i % a.ndim)
    )
    same_as_torch(lambda x: x.diagonal(offset, dim1, dim2), lambda x: x.diagonal(offset, dim1, dim2), a)
    same_as_torch(
        lambda x: x.diagonal(offset=offset, dim1=dim1, dim2=dim2),
        lambda x: x.diagonal(offset=offset, dim1=dim1, dim2=dim2),
        a,
    )
    if 0 in a.shape[:-1]:
        return
    same_as_torch(lambda x: x[(0,) * (a.ndim - 2)].diag(offset), lambda x: x[(0,) * (a.ndim - 2)].diag(offset), a)
    same_as_torch(lambda x: x[(0,) * (a.ndim - 1)].diag(offset), lambda x: x[(0,) * (a.ndim - 1)].diag(offset), a)
    same_as_torch(lambda x: x[(0,) * (a.ndim - 2)].trace(), lambda x: x[(0,) * (a.ndim - 2)].trace(), a)


def test_moves_stacks_and_views_are_differentiable_twice():
    a, b = np.arange(6.0).reshape(2, 3) * 0.4 - 1, np.arange(3.0) - 1.5
    check_gradients(lambda x: x.movedim(0, 1) * x.t() * x.swapdims(0, 1), a)
    check_gradients(lambda x, y: tg.hstack([x, x]) ** 2 + tg.vstack([y, y]).sum() + tg.dstack([x, x]).sum(), a, b)
    check_gradients(lambda x, y: tg.meshgrid(x[0], y)[0] * tg.meshgrid(x[0], y, indexing="xy")[1].t(), a, b)
    check_gradients(lambda x: x.unflatten(1, (3, 1)).view_as(x).clone() ** 2, a)


@settings(max_examples=10)
@given(data=st.data())
def test_split_flip_and_pad_of_any_shape_are_differentiable_twice(data):
    a, axis = data.draw(array_and_axis(shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3)))
    check_gradients(lambda x: x.split(2, axis)[0] * x.narrow(axis, 0, 1), a)
    check_gradients(lambda x: x.flip(axis).roll(1, axis) * x, a)
    check_gradients(lambda x: F.pad(x, (1, 0), mode="replicate") ** 2, a)
