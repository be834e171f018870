"""Hooks: on tensors (gradients), on modules (forward, full backward), and anomaly detection."""

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import Tensor, nn
from tinygrad_es.nn import Module, Parameter


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---- tensor hooks ---------------------------------------------------------------------------------
def test_tensor_hooks_fire_in_registration_order_with_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    calls = []
    y.register_hook(lambda g: calls.append(("first", g.data.copy())))
    y.register_hook(lambda g: calls.append(("second", g.data.copy())))
    (y * y).sum().backward()
    assert [name for name, _ in calls] == ["first", "second"]
    np.testing.assert_allclose(calls[0][1], 2 * 3 * np.array([1.0, 2.0]))  # d(y^2)/dy = 2y


def test_tensor_hook_can_replace_the_gradient_and_later_hooks_see_the_replacement():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    seen = []
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(g.data.copy()))
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [10.0, 10.0])
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])


def test_tensor_hook_on_a_leaf_changes_what_accumulates():
    x = leaf([1.0, -1.0])
    x.register_hook(lambda g: g * 0)
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_removed_tensor_hook_does_not_fire():
    x = leaf([1.0])
    y = x * 2.0
    calls = []
    handle = y.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()  # twice is harmless
    y.sum().backward()
    assert calls == [] and x.grad.item() == 2.0


def test_hook_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(print)


# ---- module hooks ---------------------------------------------------------------------------------
class Scale(Module):
    """out = w * x (elementwise), hand-differentiable."""

    def __init__(self, w):
        super().__init__()
        self.w = Parameter(np.array(w, dtype=np.float64))

    def forward(self, x):
        return x * self.w


class Bilinear(Module):
    """out = sum(a * b * w * k): two tensor inputs and a number."""

    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([2.0, 3.0]))

    def forward(self, a, b, k):
        return (a * b * self.w * k).sum()


def test_forward_hooks_fire_in_order_replace_the_output_and_can_be_removed():
    m = Scale([2.0, 3.0])
    x = leaf([1.0, 1.0])
    calls = []
    h1 = m.register_forward_hook(lambda mod, inputs, out: calls.append(("h1", mod, inputs[0])))
    m.register_forward_hook(lambda mod, inputs, out: out * 10)
    out = m(x)
    assert calls == [("h1", m, x)]
    np.testing.assert_allclose(out.data, [20.0, 30.0])
    h1.remove()
    m(x)
    assert len(calls) == 1


def test_full_backward_hook_sees_hand_computed_grad_input_and_grad_output():
    m = Bilinear()
    a, b = leaf([1.0, 2.0]), leaf([5.0, 7.0])
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((mod, gin, gout)))
    (m(a, b, 3.0) * 2.0).backward()
    mod, grad_input, grad_output = seen[0]
    assert mod is m and len(seen) == 1
    np.testing.assert_allclose(grad_output[0].data, 2.0)  # d(2*out)/d(out)
    np.testing.assert_allclose(grad_input[0].data, 2.0 * np.array([5.0, 7.0]) * [2.0, 3.0] * 3.0)  # 2 b w k
    np.testing.assert_allclose(grad_input[1].data, 2.0 * np.array([1.0, 2.0]) * [2.0, 3.0] * 3.0)  # 2 a w k
    assert grad_input[2] is None  # not a tensor
    np.testing.assert_allclose(m.w.grad.data, 2.0 * np.array([5.0, 14.0]) * 3.0)  # 2 a b k


def test_full_backward_hook_counts_only_gradients_through_the_module():
    m = Scale([2.0, 3.0])
    x = leaf([1.0, 1.0])
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append(gin[0].data.copy()))
    (m(x) + x * 100.0).sum().backward()  # x also feeds the sum directly
    np.testing.assert_allclose(seen[0], [2.0, 3.0])
    np.testing.assert_allclose(x.grad.data, [102.0, 103.0])


def test_full_backward_hook_can_replace_grad_input():
    m = Bilinear()
    a, b = leaf([1.0, 2.0]), leaf([5.0, 7.0])
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 0, gin[1], None))
    m(a, b, 1.0).backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    np.testing.assert_allclose(b.grad.data, [2.0, 6.0])  # a w, untouched


def test_full_backward_hook_returning_the_wrong_count_is_an_error():
    m = Scale([1.0])
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
    with pytest.raises(RuntimeError, match="backward hook of Scale returned 2 gradients, expected 1"):
        m(leaf([1.0])).sum().backward()


def test_full_backward_hook_on_a_dense_layer_gives_grad_output_times_weight():
    from tinygrad_es import nn

    layer = nn.Dense(3, 2, dtype=np.float64)
    layer.weight.data = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    seen = []
    layer.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin[0].data, gout[0].data)))
    x = leaf([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    out = layer(x)
    (out * out).sum().backward()
    grad_input, grad_output = seen[0]
    np.testing.assert_allclose(grad_output, 2 * out.data)
    np.testing.assert_allclose(grad_input, 2 * out.data @ layer.weight.data)
    np.testing.assert_allclose(x.grad.data, grad_input)


def test_full_backward_hooks_in_a_chain_fire_from_the_output_back():
    first, second = Scale([2.0]), Scale([5.0])
    order = []
    first.register_full_backward_hook(lambda mod, gin, gout: order.append(("first", gout[0].item())))
    second.register_full_backward_hook(lambda mod, gin, gout: order.append(("second", gout[0].item())))
    second(first(leaf([1.0]))).sum().backward()
    assert order == [("second", 1.0), ("first", 5.0)]


def test_full_backward_hook_with_an_input_that_needs_no_grad_still_sees_grad_output():
    m = Scale([2.0, 3.0])
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout[0].data.copy())))
    (m(Tensor(np.ones(2))) * 4.0).sum().backward()
    assert seen[0][0] == (None,)
    np.testing.assert_allclose(seen[0][1], [4.0, 4.0])
    np.testing.assert_allclose(m.w.grad.data, [4.0, 4.0])


def test_removed_full_backward_hook_leaves_the_plain_call():
    m = Scale([2.0])
    calls = []
    handle = m.register_full_backward_hook(lambda *args: calls.append(1))
    handle.remove()
    out = m(leaf([1.0]))
    assert type(out.grad_fn).__name__ == "Mul"  # no identity nodes added
    out.sum().backward()
    assert calls == []


# ---- anomaly detection ----------------------------------------------------------------------------
def test_anomaly_names_log_of_zero_in_forward_with_shapes_and_the_calling_line():
    x = leaf([1.0, 0.0, 2.0])
    message = r"Log produced inf in its output of shape \(3,\); input shapes \(\(3,\)\)"
    with tg.detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(tg.AnomalyError, match=message) as info:
        x.log()  # the line the error must name
    line = test_anomaly_names_log_of_zero_in_forward_with_shapes_and_the_calling_line.__code__.co_firstlineno + 4
    assert f"test_hooks.py:{line}" in str(info.value)
    assert isinstance(info.value, FloatingPointError)


def test_anomaly_names_sqrt_backward_at_zero():
    x = leaf([0.0, 4.0])
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt()  # finite forward: sqrt(0) = 0
        loss = y.sum()
        message = r"Sqrt backward produced inf in the gradient of input 0 \(shape \(2,\)\)"
        with pytest.raises(tg.AnomalyError, match=message) as info:
            loss.backward()
    line = test_anomaly_names_sqrt_backward_at_zero.__code__.co_firstlineno + 3
    assert str(info.value).endswith(f"the op was called at {__file__}:{line}")


def test_anomaly_names_division_zero_by_zero():
    x = leaf([0.0, 1.0])
    with tg.detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(tg.AnomalyError, match="Div produced NaN"):
        x / x


def test_anomaly_mode_is_off_outside_the_block_and_restored_after_an_error():
    x = leaf([0.0])
    assert not tg.is_anomaly_enabled()
    with pytest.raises(tg.AnomalyError), tg.detect_anomaly(), np.errstate(divide="ignore"):
        x.log()
    assert not tg.is_anomaly_enabled()
    with np.errstate(divide="ignore"):
        assert x.log().item() == -np.inf  # no check without the mode


def test_anomaly_mode_passes_finite_computations_untouched():
    x = leaf([1.0, 2.0])
    with tg.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def test_hooks_on_a_sequential_child_run_and_the_others_are_called_directly():
    """Sequential calls a child's forward itself when the child has no hooks; a child with a forward
    hook (which may replace the output) or a full backward hook still goes through Module.__call__."""
    model = nn.Sequential(nn.Dense(3, 4, dtype=np.float64), nn.Tanh(), nn.Dense(4, 2, dtype=np.float64))
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    plain = model(x).data.copy()
    handle = model[1].register_forward_hook(lambda mod, inputs, out: out * 0)
    np.testing.assert_allclose(model(x).data, np.broadcast_to(model[2].bias.data, (5, 2)))
    handle.remove()
    np.testing.assert_allclose(model(x).data, plain)
    seen = []
    model[0].register_full_backward_hook(lambda mod, gin, gout: seen.append(gout[0].shape))
    model(x).sum().backward()
    assert seen == [(5, 4)]
