"""tg.autograd.functional: vjp, jvp, jacobian, hessian, hvp and vhp, against finite differences
(always) and PyTorch (where installed), with PyTorch's return structures and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import Tensor, no_grad
from tinygrad_es import activations as A
from tinygrad_es.autograd import functional as AF
from tinygrad_es.testing import assert_close, broadcastable_shapes, floats, shapes, tensors

EPS = 1e-6


def numeric_jacobian(fn, values, j):
    """d fn(*values) / d values[j] by central differences, shaped output.shape + input.shape."""

    def evaluate(shifted):
        out = fn(*[Tensor(v, requires_grad=True) for v in shifted])  # requiring grad: fn may differentiate
        return out.data

    x = values[j]
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = EPS
        plus = [v if i != j else v + step.reshape(x.shape) for i, v in enumerate(values)]
        minus = [v if i != j else v - step.reshape(x.shape) for i, v in enumerate(values)]
        columns.append((evaluate(plus) - evaluate(minus)) / (2 * EPS))
    out_shape = evaluate(values).shape
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(out_shape + x.shape)


def f(x, y):
    """Two inputs, a (2,) output: a mix of broadcasting, a reduction and a nonlinearity."""
    return (A.tanh(x) * y).sum(axis=1) ** 2


def scalar(x, y):
    return (A.softplus(x * y) * x).sum() + (y**3).sum()


def t_f(torch):
    return lambda x, y: (torch.tanh(x) * y).sum(dim=1) ** 2


def t_scalar(torch):
    return lambda x, y: (torch.nn.functional.softplus(x * y) * x).sum() + (y**3).sum()


@pytest.fixture
def values():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((2, 3)), rng.standard_normal(3)]


def tensors_of(values):
    return tuple(Tensor(v) for v in values)


# ---- values against finite differences --------------------------------------------------------------
def test_jacobian_matches_finite_differences(values):
    jx, jy = AF.jacobian(f, tensors_of(values))
    assert jx.shape == (2, 2, 3) and jy.shape == (2, 3)
    assert_close(jx.data, numeric_jacobian(f, values, 0), rtol=1e-6, atol=1e-8)
    assert_close(jy.data, numeric_jacobian(f, values, 1), rtol=1e-6, atol=1e-8)


def test_hessian_matches_finite_differences_of_the_gradient(values):
    hessian = AF.hessian(scalar, tensors_of(values))
    for i in range(2):

        def gradient(*xs, i=i):
            return tg.autograd.grad(scalar(*xs), xs)[i]

        for j in range(2):
            assert hessian[i][j].shape == values[i].shape + values[j].shape
            assert_close(hessian[i][j].data, numeric_jacobian(gradient, values, j), rtol=1e-5, atol=1e-7)
    assert_close(hessian[0][1].data, np.moveaxis(hessian[1][0].data, 0, -1))  # symmetric


def test_hvp_vhp_jvp_vjp_are_the_products_with_the_jacobian_and_hessian(values):
    rng = np.random.default_rng(1)
    inputs = tensors_of(values)
    v_in = tuple(Tensor(rng.standard_normal(v.shape)) for v in values)
    v_out = Tensor(rng.standard_normal(2))
    jx, jy = AF.jacobian(f, inputs)
    (hxx, hxy), (hyx, hyy) = AF.hessian(scalar, inputs)

    out, (vjp_x, vjp_y) = AF.vjp(f, inputs, v_out)
    assert_close(out.data, f(*inputs).data)
    assert_close(vjp_x.data, np.tensordot(v_out.data, jx.data, 1), atol=1e-12, rtol=1e-12)
    assert_close(vjp_y.data, v_out.data @ jy.data, atol=1e-12, rtol=1e-12)

    out, jv = AF.jvp(f, inputs, v_in)
    assert_close(jv.data, np.tensordot(jx.data, v_in[0].data, 2) + jy.data @ v_in[1].data, atol=1e-12, rtol=1e-12)

    hv_x = np.tensordot(hxx.data, v_in[0].data, 2) + np.tensordot(hxy.data, v_in[1].data, 1)
    hv_y = np.tensordot(hyx.data, v_in[0].data, 2) + hyy.data @ v_in[1].data
    for product in (AF.hvp, AF.vhp):
        out, (px, py) = product(scalar, inputs, v_in)
        assert_close(out.data, scalar(*inputs).data)
        assert_close(px.data, hv_x, atol=1e-12, rtol=1e-12)
        assert_close(py.data, hv_y, atol=1e-12, rtol=1e-12)


@settings(max_examples=15)
@given(x=tensors(shapes(0, 3, max_side=3), elements=floats(-2, 2)), data=st.data())
def test_jacobian_and_hessian_on_any_shape_with_broadcasting(x, data):
    y = data.draw(tensors(broadcastable_shapes(x.shape, max_side=3), elements=floats(-2, 2)))

    def g(x, y):
        return A.sigmoid(x) * y + x * x

    jx, jy = AF.jacobian(g, (x, y))
    assert_close(jx.data, numeric_jacobian(g, [x.data, y.data], 0), rtol=1e-5, atol=1e-8)
    assert_close(jy.data, numeric_jacobian(g, [x.data, y.data], 1), rtol=1e-5, atol=1e-8)
    h = AF.hessian(lambda x: (A.tanh(x) ** 2).sum(), x)
    t = np.tanh(x.data).ravel()
    expected = np.diag(2 * (1 - t**2) * (1 - 3 * t**2)).reshape(x.shape + x.shape)  # (tanh^2)'' on the diagonal
    assert_close(h.data, expected, rtol=1e-10, atol=1e-12)


# ---- against PyTorch --------------------------------------------------------------------------------
def test_every_function_matches_pytorch(values):
    torch = pytest.importorskip("torch")
    tF = torch.autograd.functional
    rng = np.random.default_rng(2)
    ours_in, theirs_in = tensors_of(values), tuple(torch.tensor(v) for v in values)
    v_in = [rng.standard_normal(v.shape) for v in values]
    v_out = rng.standard_normal(2)

    def same(ours, theirs):
        if isinstance(theirs, tuple):
            assert isinstance(ours, tuple) and len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                same(a, b)
        else:
            assert isinstance(ours, Tensor)
            assert_close(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

    same(AF.jacobian(f, ours_in), tF.jacobian(t_f(torch), theirs_in))
    same(
        AF.jacobian(lambda x: f(x, ours_in[1]), ours_in[0]),
        tF.jacobian(lambda x: t_f(torch)(x, theirs_in[1]), theirs_in[0]),
    )
    same(AF.jacobian(lambda x, y: (x * y, x.sum()), ours_in), tF.jacobian(lambda x, y: (x * y, x.sum()), theirs_in))
    same(AF.hessian(scalar, ours_in), tF.hessian(t_scalar(torch), theirs_in))
    same(
        AF.hessian(lambda x: scalar(x, ours_in[1]), ours_in[0]),
        tF.hessian(lambda x: t_scalar(torch)(x, theirs_in[1]), theirs_in[0]),
    )
    same(AF.vjp(f, ours_in, Tensor(v_out)), tF.vjp(t_f(torch), theirs_in, torch.tensor(v_out)))
    same(
        AF.jvp(f, ours_in, tuple(Tensor(v) for v in v_in)),
        tF.jvp(t_f(torch), theirs_in, tuple(torch.tensor(v) for v in v_in)),
    )
    for ours, theirs in ((AF.hvp, tF.hvp), (AF.vhp, tF.vhp)):
        same(
            ours(scalar, ours_in, tuple(Tensor(v) for v in v_in)),
            theirs(t_scalar(torch), theirs_in, tuple(torch.tensor(v) for v in v_in)),
        )
        same(
            ours(lambda x: scalar(x, ours_in[1]), ours_in[0], Tensor(v_in[0])),
            theirs(lambda x: t_scalar(torch)(x, theirs_in[1]), theirs_in[0], torch.tensor(v_in[0])),
        )


# ---- structure and options -----------------------------------------------------------------------
def test_a_tensor_gives_a_tensor_and_a_tuple_a_tuple():
    x = Tensor(np.array([1.0, 2.0]))
    assert isinstance(AF.jacobian(A.tanh, x), Tensor)
    assert isinstance(AF.jacobian(A.tanh, (x,)), tuple) and len(AF.jacobian(A.tanh, (x,))) == 1
    jac = AF.jacobian(lambda x: (x * 2, x.sum()), x)
    assert isinstance(jac, tuple) and [j.shape for j in jac] == [(2, 2), (2,)]
    out, grad = AF.vjp(lambda x: (x**2).sum(), x)  # v may be None for one output of one element
    assert isinstance(out, Tensor) and grad.data.tolist() == [2.0, 4.0]
    out, jv = AF.jvp(lambda x: x * 3, Tensor(np.array([2.0])))  # and for one input of one element
    assert jv.data.tolist() == [3.0]


def test_results_are_cut_from_the_graph_unless_create_graph():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    h = AF.hessian(lambda x: (x**3).sum(), x)
    assert not h.requires_grad and x.grad is None
    out, hv = AF.hvp(lambda x: (x**3).sum(), x, Tensor(np.array([1.0, 1.0])), create_graph=True)
    assert hv.requires_grad and out.requires_grad
    (third,) = tg.autograd.grad(hv.sum(), x)  # d/dx of sum(6 x v) = 6 v
    assert_close(third.data, np.array([6.0, 6.0]))


def test_an_unused_input_gives_zeros_or_with_strict_an_error():
    x, unused = Tensor(np.array([1.0, 2.0])), Tensor(np.array([3.0]))
    jx, ju = AF.jacobian(lambda x, u: x * 2, (x, unused))
    assert ju.shape == (2, 1) and not ju.data.any()
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in strict mode"):
        AF.jacobian(lambda x, u: x * 2, (x, unused), strict=True)
    _, (hx, hu) = AF.vhp(lambda x, u: (x**3).sum(), (x, unused), (Tensor(np.ones(2)), Tensor(np.ones(1))))
    assert not hu.data.any()
    _, jv = AF.jvp(lambda x: Tensor(np.ones(2)), x, Tensor(np.ones(2)))  # output does not depend on x at all
    assert not jv.data.any()


def test_the_functions_work_under_no_grad():
    x = Tensor(np.array([0.2, 0.4]))
    with no_grad():
        assert_close(AF.jacobian(A.tanh, x).data, np.diag(1 - np.tanh(x.data) ** 2))


def test_linear_and_constant_pieces_have_zero_second_derivatives():
    x = Tensor(np.array([0.5, -2.0, 3.0]))
    assert not AF.hessian(lambda x: (x * 2 + 1).sum(), x).data.any()
    assert not AF.hessian(lambda x: A.relu(x).sum(), x).data.any()
    assert_close(AF.hessian(lambda x: (x * x).sum(), x).data, 2 * np.eye(3))


def test_errors_follow_pytorch():
    x = Tensor(np.array([1.0, 2.0]))
    with pytest.raises(
        RuntimeError,
        match="v can only be None if the user-provided function returns a single Tensor with a single element",
    ):
        AF.vjp(A.tanh, x)
    with pytest.raises(
        RuntimeError,
        match="v can only be None if the input to the user-provided function is a single Tensor with a single element",
    ):
        AF.jvp(A.tanh, x)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: v\[0\] has a shape of \(3,\)"):
        AF.vjp(A.tanh, x, Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 1 but got 2"):
        AF.jvp(A.tanh, x, (Tensor(np.ones(2)), Tensor(np.ones(2))))
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(A.tanh, [x])
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to vjp must be"):
        AF.vjp(lambda x: 3.0, x, Tensor(np.ones(2)))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        AF.hessian(A.tanh, x)
    with pytest.raises(RuntimeError, match="The function given to hvp should return a single Tensor"):
        AF.hvp(lambda x: (x.sum(), x.sum()), x, Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(A.tanh, x, strategy="sideways")
