"""Gradients of gradients: backward(create_graph=True), autograd.grad, gradgradcheck, second and third
derivatives of every activation (formulas, finite differences, PyTorch), the fused nodes, hooks,
and what a create_graph backward keeps alive."""
import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_es import activations as A


# ---- gradgradcheck ---------------------------------------------------------------------------------
class CubeSavingItsSlope(Function):
    """x^3 whose backward is right to first order only: it saves 3 x^2, computed in forward, which
    under create_graph is a constant, so the second derivative comes out 0 instead of 6 x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(3 * x**2)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope


class CubeDroppingItsGradient(Function):
    """x^3 whose backward reads the upstream gradient's values: right to first order, but the
    gradient no longer depends on the upstream gradient under create_graph."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad.data if isinstance(grad, Tensor) else grad) * 3 * x**2


def test_gradgradcheck_passes_where_gradcheck_does_and_the_second_derivative_is_right():
    x = Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    assert gradgradcheck(lambda x: x**3, (x,))
    assert gradgradcheck(lambda x, y: (x * y).tanh(), (x, Tensor(np.array([1.0, 0.3, -0.7]), requires_grad=True)))


def test_gradgradcheck_catches_a_backward_that_is_right_to_first_order_only():
    x = Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    assert gradcheck(CubeSavingItsSlope.apply, (x,))
    with pytest.raises(GradcheckError, match=r"output 0 with respect to input 0: d out\[0\] / d in\[0\] is 0 by "
                                             r"backward, .* numerically"):
        gradgradcheck(CubeSavingItsSlope.apply, (x,))
    assert gradgradcheck(CubeSavingItsSlope.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_checks_the_derivative_with_respect_to_the_upstream_gradient():
    x = Tensor(np.array([0.5, -1.2]), requires_grad=True)
    assert gradcheck(CubeDroppingItsGradient.apply, (x,))
    with pytest.raises(GradcheckError, match="output 0 with respect to input 1"):  # input 1: the upstream gradient
        gradgradcheck(CubeDroppingItsGradient.apply, (x,))


def test_gradgradcheck_takes_grad_outputs_and_checks_those_that_require_grad():
    x = Tensor(np.array([0.5, -1.2]), requires_grad=True)
    fixed = Tensor(np.array([2.0, -1.0]))  # not checked: only the second derivatives are
    assert gradgradcheck(CubeDroppingItsGradient.apply, (x,), grad_outputs=(fixed,))
    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradgradcheck(CubeDroppingItsGradient.apply, (x,), grad_outputs=(Tensor(fixed.data, requires_grad=True),))


def test_gradgradcheck_handles_several_outputs_and_inputs_that_need_no_grad():
    x, y = Tensor(np.array([0.5, 1.5]), requires_grad=True), Tensor(np.array([2.0, -1.0]))
    assert gradgradcheck(lambda x, y: (x * y, A.sigmoid(x)), (x, y))


def test_gradgradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="central differences need float64"):
        gradgradcheck(A.tanh, (Tensor([0.5], requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradgradcheck(A.tanh, (Tensor(np.array([0.5])),))
    with pytest.raises(ValueError, match="one gradient per output"):
        gradgradcheck(A.tanh, (Tensor(np.array([0.5]), requires_grad=True),), grad_outputs=())


def test_gradgradcheck_works_under_no_grad_and_leaves_the_callers_tensors_alone():
    x = Tensor(np.array([0.3, 0.7]), requires_grad=True)
    with tg.no_grad():
        assert gradgradcheck(A.softplus, (x,))
    assert x.grad is None
