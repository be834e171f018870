"""PyTorch's in-place methods (add_, mul_, zero_, fill_, clamp_, copy_, normal_, uniform_, ...): they
write the tensor's memory where no graph is recorded through it, refuse where one is, and the
in-place checks see their writes."""

import numpy as np
import pytest
from torch_check import torch

import tinygrad_es as tg
from tinygrad_es import nn


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.add_(2.0),
        lambda t: t.add_(t.flip(0), alpha=0.5),
        lambda t: t.sub_(1.0, alpha=3),
        lambda t: t.mul_(-2.0),
        lambda t: t.div_(4.0),
        lambda t: t.zero_(),
        lambda t: t.fill_(7.5),
        lambda t: t.clamp_(min=-0.5, max=1.0),
        lambda t: t.clamp_(max=0.0),
        lambda t: t.copy_(t.flip(0) * 3),
        lambda t: t.masked_fill_(t > 0, -1.0),
    ],
)
def test_in_place_methods_change_the_tensor_as_torch_and_return_it(call):
    values = np.array([-1.5, 0.25, 2.0])
    ours, theirs = tg.tensor(values), torch.tensor(values)
    memory = ours.data
    assert call(ours) is ours and ours.data is memory
    call(theirs)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_copy_broadcasts_and_converts_the_source_as_torch():
    ours, theirs = tg.zeros(2, 3, dtype=tg.int64), torch.zeros(2, 3, dtype=torch.int64)
    ours.copy_(tg.tensor([1.7, -2.2, 3.0]))
    theirs.copy_(torch.tensor([1.7, -2.2, 3.0]))
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_random_fills_draw_from_their_distributions_with_the_seed():
    tg.manual_seed(0)
    a = tg.zeros(10000).normal_(2.0, 0.5)
    b = tg.zeros(10000).uniform_(-1.0, 3.0)
    assert abs(a.data.mean() - 2) < 0.02 and abs(a.data.std() - 0.5) < 0.02 and a.dtype == np.float32
    assert -1 <= b.data.min() and b.data.max() < 3 and abs(b.data.mean() - 1) < 0.05
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.zeros(10000).normal_(2.0, 0.5).data, a.data)


def test_under_no_grad_they_update_parameters_as_an_initialization_does():
    layer = nn.Linear(3, 2)
    with tg.no_grad():
        layer.weight.normal_(0, 0.01)
        layer.bias.zero_()
    assert np.all(layer.bias.data == 0) and layer.weight.requires_grad


def test_in_a_graph_they_refuse_rather_than_lose_the_change():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    y = w * 2
    with pytest.raises(RuntimeError, match="takes part in a graph"):
        y.mul_(3.0)
    with pytest.raises(RuntimeError, match="takes part in a graph"):
        tg.zeros(2).add_(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_a_node_that_saved_the_tensor_raises_after_an_in_place_method():
    x = tg.tensor([1.0, 2.0])
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()  # saved x for w's gradient
    x.mul_(10.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_write_that_does_not_fit_is_an_error_as_torch():
    with pytest.raises(RuntimeError):
        tg.zeros(3, dtype=tg.int64).add_(0.5)
    with pytest.raises(RuntimeError):
        tg.zeros(3).add_(tg.zeros(2))
