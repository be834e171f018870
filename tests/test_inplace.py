"""In-place writes and the gradients that depended on the old values: an error, never a wrong gradient.

Every in-place path the library offers (+= and friends, item assignment, optimizers' steps,
load_state_dict, initializers, accumulation into .grad) notes the write; a later backward through
a node that saved the old values raises PyTorch's error. Writing to `.data` is not checked.
"""

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import nn, no_grad, optim

STALE = "one of the variables needed for gradient computation has been modified by an inplace operation"


# ---- the four cases that gave wrong gradients silently -------------------------------------------
def test_a_constant_written_after_a_product_saved_it():
    c = tg.Tensor([1.0, 2.0, 3.0])
    w = tg.Tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (w * c).sum()
    c += 100.0
    with pytest.raises(RuntimeError, match=STALE + ": Mul saved an array of shape \\(3,\\)"):
        y.backward()
    assert w.grad is None


def test_a_leaf_written_under_no_grad_after_a_product_saved_it():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tg.Tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (x * w).sum()
    with no_grad():
        x += 10.0
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


def test_an_output_written_after_its_op_saved_it():
    x = tg.Tensor([0.0, 1.0], requires_grad=True)
    h = x.sigmoid()
    with no_grad():
        h *= 0.0
    with pytest.raises(RuntimeError, match=STALE + ": Sigmoid saved"):
        h.sum().backward()


def test_an_optimizer_step_between_two_backwards_through_a_retained_graph():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])
    opt.step()
    w.grad = None
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


@pytest.mark.parametrize(
    "make", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad], ids=lambda cls: cls.__name__
)
def test_every_optimizers_step_is_noted(make):
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward(retain_graph=True)
    make([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


# ---- the other in-place paths ------------------------------------------------------------------
def test_load_state_dict_writes_in_place_and_is_noted():
    layer = nn.Dense(2, 2)
    weight = layer.weight
    out = layer(tg.Tensor([[1.0, 2.0]])).sum()
    layer.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert layer.weight is weight  # the same parameter, its values replaced in place
    np.testing.assert_array_equal(weight.data, np.ones((2, 2)))
    with pytest.raises(RuntimeError, match=STALE + ": Linear saved"):
        out.backward()


def test_an_initializer_writes_in_place_and_is_noted():
    layer = nn.Dense(2, 2)
    out = layer(tg.Tensor([[1.0, 2.0]])).sum()
    nn.init.constant(layer.weight, 0.5)
    with pytest.raises(RuntimeError, match=STALE):
        out.backward()


def test_item_assignment_is_noted():
    c = tg.Tensor([1.0, 2.0, 3.0])
    w = tg.Tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = (w * c).sum()
    c[1] = 7.0
    np.testing.assert_array_equal(c.data, [1.0, 7.0, 3.0])
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


def test_a_write_through_a_view_or_a_detached_tensor_is_seen():
    for view in (lambda t: t[0], lambda t: t.detach(), lambda t: t.reshape(4), lambda t: t.T):
        c = tg.Tensor([[1.0, 2.0], [3.0, 4.0]])
        w = tg.Tensor(np.ones((2, 2), np.float32), requires_grad=True)
        y = (w * c).sum()
        v = view(c)
        v += 1.0  # v shares c's memory
        with pytest.raises(RuntimeError, match=STALE):
            y.backward()


def test_accumulating_into_grad_is_noted_where_a_node_saved_the_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    w = tg.Tensor([1.0, 1.0], requires_grad=True)
    y = (w * x.grad).sum()  # a node that saved x.grad's array
    (x * 3).sum().backward()  # adds into x.grad in place
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


def test_writing_data_directly_is_not_checked_as_in_pytorch():
    c = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([1.0, 1.0], requires_grad=True)
    y = (w * c).sum()
    c.data[...] = 5.0  # the documented escape hatch: no check, the gradient sees the new values
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 5.0])


# ---- what stays allowed -------------------------------------------------------------------------
def test_a_write_before_the_node_was_made_is_fine():
    c = tg.Tensor([1.0, 2.0])
    c += 1.0
    w = tg.Tensor([1.0, 1.0], requires_grad=True)
    (w * c).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 3.0])


def test_a_write_to_an_array_no_node_saved_is_fine():
    c = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([1.0, 1.0], requires_grad=True)
    y = (w + c).sum()  # Add saves nothing
    c += 100.0
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])


def test_training_loops_and_retained_graphs_without_writes_in_between_work():
    model = nn.Sequential(nn.Dense(3, 4, activation="tanh"), nn.Dense(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    for _ in range(3):
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward(retain_graph=True)
        loss.backward()  # twice through the same graph: nothing was written in between
        opt.step()


def test_hooks_see_the_gradient_before_the_check_of_a_stale_node():
    seen = []
    c = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([1.0, 1.0], requires_grad=True)
    h = w * c
    h.register_hook(lambda g: seen.append(g.data.copy()))
    c += 1.0
    with pytest.raises(RuntimeError, match=STALE):
        h.sum().backward()
    assert len(seen) == 1  # h's hook ran; the stale Mul below it refused


def test_in_place_on_a_tensor_in_a_recorded_graph():
    w = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w += 1
    h = w * 2
    h += 1  # a new node, as h = h + 1
    h.backward()
    assert w.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="assigning into a tensor that takes part in a graph"):
        h[0] = 5.0


def test_pytorch_raises_the_same_error_for_the_same_cases():
    torch = pytest.importorskip("torch")
    c = torch.tensor([1.0, 2.0, 3.0])
    w = torch.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (w * c).sum()
    c += 100.0
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    h = x.sigmoid()
    with torch.no_grad():
        h *= 0.0
    with pytest.raises(RuntimeError, match=STALE):
        h.sum().backward()
