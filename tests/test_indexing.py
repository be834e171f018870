"""Indexing follows PyTorch where it differs from NumPy, forward and backward."""

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import gradcheck

X = np.arange(24.0).reshape(2, 3, 4)
INDICES = [
    (1, slice(None), np.array([0, 2])),  # an int and an index array separated by a slice
    (np.array([1, 0]), slice(None), 3),
    (slice(None), 1, np.array([0, 3, 3])),  # a repeated index: its gradients add up
    (0, np.array([[0, 1], [2, 2]])),
    (Ellipsis, np.array([0, 1])),
    (1, None, slice(None), np.array([1, 2])),
    (np.array([True, False]), 2, slice(1, 3)),
    (np.array([0, 1]), np.array([2, 0]), 1),
    (1, 2, 3),
    (slice(None, None, 2), 0),
    np.array([1, 1, 0]),
    [0, 1],
]


def _expected_by_pytorch(index):
    torch = pytest.importorskip("torch")
    t = torch.tensor(X, requires_grad=True)
    out = (
        t[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)]
        if isinstance(index, tuple)
        else t[torch.tensor(index) if isinstance(index, np.ndarray) else index]
    )
    seed = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
    out.backward(torch.tensor(seed))
    return out.detach().numpy(), t.grad.numpy(), seed


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_indexing_gives_pytorchs_values_shape_and_gradient(index):
    want, want_grad, seed = _expected_by_pytorch(index)
    x = tg.Tensor(X, requires_grad=True)
    out = x[index]
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.data, want)
    out.backward(seed)
    np.testing.assert_array_equal(x.grad.data, want_grad)


def test_an_int_and_an_array_separated_by_a_slice_keep_the_slices_axis_first():
    out = tg.Tensor(X)[1, :, np.array([0, 2])]
    assert out.shape == (3, 2)  # NumPy's X[1, :, [0, 2]] is (2, 3)
    np.testing.assert_array_equal(out.data, X[1][:, [0, 2]])


@pytest.mark.parametrize("index", INDICES[:6], ids=str)
def test_indexing_is_differentiable_twice(index):
    x = tg.Tensor(X / 10, requires_grad=True)
    assert gradcheck(lambda t: (t * t)[index], x)
    (g,) = tg.autograd.grad(((x * x)[index] ** 2).sum(), x, create_graph=True)
    (gg,) = tg.autograd.grad((g * g).sum(), x)
    eps, direction = 1e-6, np.random.default_rng(0).standard_normal(X.shape)

    def first(a):
        t = tg.Tensor(a, requires_grad=True)
        return tg.autograd.grad(((t * t)[index] ** 2).sum(), t)[0].data

    numeric = ((first(X / 10 + eps * direction) ** 2).sum() - (first(X / 10 - eps * direction) ** 2).sum()) / (2 * eps)
    np.testing.assert_allclose((gg.data * direction).sum(), numeric, rtol=1e-5)


def test_an_index_out_of_range_is_an_index_error_naming_the_op():
    with pytest.raises(IndexError, match="GetItem: index 5 is out of bounds"):
        tg.Tensor(X)[5]


def test_a_tensor_can_be_the_index():
    x = tg.Tensor(X)
    np.testing.assert_array_equal(x[tg.Tensor(np.array([1, 0]))].data, X[[1, 0]])
    np.testing.assert_array_equal(x[x > 20].data, X[X > 20])


def test_item_assignment_follows_the_same_rules():
    x = tg.Tensor(np.zeros((2, 3, 4)))
    x[1, :, np.array([0, 2])] = tg.Tensor(np.arange(6.0).reshape(3, 2))
    expected = np.zeros((2, 3, 4))
    expected[1][:, [0, 2]] = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(x.data, expected)
