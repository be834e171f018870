"""Creation functions with PyTorch's dtypes: tensor infers as torch.tensor, arange and full from
their arguments, the *_like functions keep the tensor's; values as torch's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch_check import torch

import tinygrad_es as tg


def same(ours, theirs):
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape and ours.dtype == expected.dtype, (
        ours.shape,
        ours.dtype,
        expected.shape,
        expected.dtype,
    )
    np.testing.assert_array_equal(ours.data, expected)


@pytest.mark.parametrize(
    "data",
    [
        [1, 2],
        [1.0, 2],
        [True, False],
        [[1, 2], [3, 4]],
        3,
        2.5,
        True,
        [],
        np.array([1, 2], np.int32),
        np.array([1.5]),
        np.float64(2.0),
        [True, 1],
    ],
)
def test_tensor_infers_dtypes_as_torch_tensor(data):
    same(tg.tensor(data), torch.tensor(data))
    same(tg.as_tensor(data), torch.as_tensor(data))


def test_tensor_copies_and_as_tensor_and_from_numpy_share_memory():
    array = np.zeros(3)
    copied, shared, from_numpy = tg.tensor(array), tg.as_tensor(array), tg.from_numpy(array)
    array[0] = 1
    assert copied.data[0] == 0 and shared.data[0] == 1 and from_numpy.data[0] == 1
    assert tg.as_tensor(shared) is shared and tg.as_tensor(array, dtype=np.float32).dtype == np.float32
    assert tg.tensor([1, 2], dtype=tg.float64).dtype == np.float64
    assert tg.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(TypeError):
        tg.from_numpy([1, 2])


@pytest.mark.parametrize(
    "args",
    [(5,), (2, 7), (0, 10, 3), (5, 0, -2), (0, 1, 0.1), (0.5, 3), (-1.0, 1.0, 0.25), (3, 3), (0, 2.5, 0.5), (1e3,)],
)
def test_arange_as_torch(args):
    same(tg.arange(*args), torch.arange(*args))
    same(tg.arange(*args, dtype=tg.float64), torch.arange(*args, dtype=torch.float64))


def test_arange_errors_as_torch():
    with pytest.raises(RuntimeError):
        tg.arange(0, 5, 0)
    with pytest.raises(RuntimeError):
        tg.arange(5, 0, 1)


@given(start=st.floats(-10, 10), end=st.floats(-10, 10), steps=st.integers(0, 20))
def test_linspace_as_torch(start, end, steps):
    ours, theirs = tg.linspace(start, end, steps), torch.linspace(start, end, steps)
    assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        tg.linspace(start, end, steps, dtype=tg.float64).data,
        torch.linspace(start, end, steps, dtype=torch.float64).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_full_eye_zeros_ones_empty_as_torch():
    for value in (3, 1.5, True, -2):
        same(tg.full((2, 3), value), torch.full((2, 3), value))
    same(tg.full((2,), 7, dtype=tg.float64), torch.full((2,), 7, dtype=torch.float64))
    same(tg.eye(3), torch.eye(3))
    same(tg.eye(2, 4, dtype=tg.int64), torch.eye(2, 4, dtype=torch.int64))
    same(tg.zeros(2, 3, dtype=tg.long), torch.zeros(2, 3, dtype=torch.long))
    same(tg.ones((2, 1)), torch.ones((2, 1)))
    same(tg.empty(2, 2), torch.zeros(2, 2))  # empty hands out zeros, never unwritten memory


@pytest.mark.parametrize("data", [np.array([[1.5, 2.0]], np.float64), np.array([1, 2], np.int32), np.array(True)])
def test_like_functions_keep_the_dtype_unless_given(data):
    t, reference = tg.tensor(data), torch.tensor(data)
    same(tg.zeros_like(t), torch.zeros_like(reference))
    same(tg.ones_like(t), torch.ones_like(reference))
    same(tg.full_like(t, 4), torch.full_like(reference, 4))
    same(tg.empty_like(t), torch.zeros_like(reference))
    same(tg.zeros_like(t, dtype=tg.float32), torch.zeros_like(reference, dtype=torch.float32))


def test_random_like_functions_and_randint():
    t = tg.zeros(3, 4, dtype=tg.float64)
    for draw in (tg.rand_like(t), tg.randn_like(t)):
        assert draw.shape == (3, 4) and draw.dtype == np.float64 and np.unique(draw.data).size == 12
    assert 0 <= tg.rand_like(t).data.min() and tg.rand_like(t).data.max() < 1
    with pytest.raises(RuntimeError, match="floating"):
        tg.rand_like(tg.tensor([1, 2]))
    tg.manual_seed(0)
    a = tg.randint(5, (1000,))
    assert a.dtype == np.int64 and a.shape == (1000,) and set(a.tolist()) == set(range(5))
    b = tg.randint(-2, 2, size=(2, 3))
    assert b.shape == (2, 3) and b.data.min() >= -2 and b.data.max() < 2
    tg.manual_seed(0)
    assert tg.randint(5, (1000,)).tolist() == a.tolist()
    with pytest.raises(RuntimeError):
        tg.randint(3, 3, (2,))


def test_dtype_names_as_torchs():
    assert (tg.float, tg.double, tg.half, tg.long, tg.int, tg.bool) == (
        np.float32,
        np.float64,
        np.float16,
        np.int64,
        np.int32,
        np.bool_,
    )
    t = tg.tensor([1.7, -2.2])
    for name in ("long", "int", "bool", "half", "float", "double"):
        same(getattr(t, name)(), getattr(torch.tensor([1.7, -2.2]), name)())
    assert t.to(tg.float64).dtype == np.float64 and t.to("cpu") is t and t.type_as(tg.tensor([1])).dtype == np.int64
    assert t.size() == (2,) and t.size(0) == 2 and t.size == 2 and t.numel() == 2 and t.dim() == 1
