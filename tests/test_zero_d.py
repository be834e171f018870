"""0-d tensors (and the 0-d results of reductions) through every op, activation, loss and layer,
forward and backward, as PyTorch: values, shapes and gradients, never a crash."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

UNARY = {  # name: (ours, PyTorch's)
    "neg": (lambda x: -x, lambda x: -x),
    "abs": (abs, abs),
    "exp": (tg.exp, torch.exp),
    "log": (tg.log, torch.log),
    "sqrt": (tg.sqrt, torch.sqrt),
    "log1p": (lambda x: x.log1p(), torch.log1p),
    "expm1": (lambda x: x.expm1(), torch.expm1),
    "square": (lambda x: x * x, lambda x: x * x),
    "pow": (lambda x: x**3, lambda x: x**3),
    "rpow": (lambda x: 2**x, lambda x: 2**x),
    "div": (lambda x: 1 / x, lambda x: 1 / x),
    "clip": (lambda x: x.clip(0.1, 0.5), lambda x: x.clamp(0.1, 0.5)),
    "sum": (lambda x: x.sum(), lambda x: x.sum()),
    "sum0": (lambda x: x.sum(0), lambda x: x.sum(0)),
    "mean-1": (lambda x: x.mean(-1), lambda x: x.mean(-1)),
    "amax": (lambda x: x.amax(0), lambda x: x.amax(0)),
    "reshape": (lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1)),
    "squeeze": (lambda x: x.squeeze(0), lambda x: x.squeeze(0)),
    "unsqueeze": (lambda x: x.unsqueeze(0), lambda x: x.unsqueeze(0)),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten()),
    "expand": (lambda x: x.expand(3), lambda x: x.expand(3)),
    "T": (lambda x: x.T, lambda x: x),  # T of 0-d: itself
    "transpose": (lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1)),
    "stack": (lambda x: tg.stack([x, x * 2]), lambda x: torch.stack([x, x * 2])),
    "where": (lambda x: tg.where(x > 0, x, 2 * x), lambda x: torch.where(x > 0, x, 2 * x)),
    "maximum": (lambda x: tg.maximum(x, x * 0.5), lambda x: torch.maximum(x, x * 0.5)),
    "getitem": (lambda x: x[None][0], lambda x: x[None][0]),
}
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": TF.leaky_relu,
    "elu": TF.elu,
    "selu": TF.selu,
    "celu": TF.celu,
    "softplus": TF.softplus,
    "gelu": TF.gelu,
    "silu": TF.silu,
    "mish": TF.mish,
    "hardtanh": TF.hardtanh,
    "relu6": TF.relu6,
    "hardsigmoid": TF.hardsigmoid,
    "hardswish": TF.hardswish,
    "softsign": TF.softsign,
    "logsigmoid": TF.logsigmoid,
    "tanhshrink": TF.tanhshrink,
    "softshrink": TF.softshrink,
    "hardshrink": TF.hardshrink,
    "softmax": lambda x: TF.softmax(x, -1),
    "log_softmax": lambda x: TF.log_softmax(x, -1),
    "softmin": lambda x: TF.softmin(x, -1),
}


def _compare(ours, theirs, value, seed=0.7, grad_rtol=1e-10):
    x = tg.Tensor(np.array(value), requires_grad=True)
    out = ours(x)
    t = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    expected = theirs(t)
    assert out.shape == tuple(expected.shape) and isinstance(out.data, np.ndarray)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    gradient = np.full(out.shape, seed)
    out.backward(gradient)
    expected.backward(torch.tensor(gradient))
    assert x.grad.shape == () and isinstance(x.grad.data, np.ndarray)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=grad_rtol, atol=1e-15)


@pytest.mark.parametrize("name", UNARY)
@given(value=st.floats(0.05, 3.0))
def test_ops_on_0d_tensors_match_pytorch(name, value):
    _compare(*UNARY[name], value)


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(value=st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 1e-3 and abs(abs(v) - 0.5) > 1e-3))
def test_activations_on_0d_tensors_match_pytorch(name, value):
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, also for float64
    _compare(getattr(F, name), ACTIVATIONS[name], value, grad_rtol=1e-7 if name == "hardsigmoid" else 1e-10)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", "selu", "softplus", "gelu", "silu"])
def test_activations_on_the_0d_result_of_a_reduction(name):
    x = tg.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    out = getattr(F, name)(x.mean())
    out.backward(np.array(0.7))
    t = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    expected = ACTIVATIONS[name](t.mean())
    expected.backward(torch.tensor(0.7, dtype=torch.float64))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "layer",
    [
        nn.Sigmoid(),
        nn.ReLU(),
        nn.PReLU(dtype=np.float64),
        nn.RReLU().eval(),
        nn.ELU(),
        nn.Softmax(),
        nn.Identity(),
        nn.Dropout(0.5).eval(),
    ],
    ids=repr,
)
def test_layers_take_0d_tensors(layer):
    x = tg.Tensor(np.array(-0.4), requires_grad=True)
    out = layer(x)
    assert out.shape == ()
    if out.requires_grad:
        out.backward()
        assert x.grad.shape == ()


@pytest.mark.parametrize(
    "loss, torch_loss, target",
    [
        (F.mse_loss, TF.mse_loss, 0.25),
        (F.huber_loss, TF.huber_loss, 2.5),
        (F.binary_cross_entropy, TF.binary_cross_entropy, 1.0),
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, 1.0),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_on_0d_input_and_target_match_pytorch(loss, torch_loss, target, reduction):
    _compare(
        lambda x: loss(x, tg.Tensor(np.array(target)), reduction=reduction),
        lambda x: torch_loss(x, torch.tensor(target, dtype=torch.float64), reduction=reduction),
        0.3,
    )


def test_cross_entropy_of_a_0d_input_is_an_error_in_both():
    with pytest.raises(RuntimeError):
        TF.cross_entropy(torch.tensor(0.5), torch.tensor(0))
    with pytest.raises(RuntimeError, match=r"cross_entropy: input must have shape \(N, C\)"):
        F.cross_entropy(tg.Tensor(0.5), np.array(0))


def test_a_0d_tensor_cannot_be_concatenated_or_go_through_a_dense_layer():
    with pytest.raises(RuntimeError, match="zero-dimensional tensors cannot be concatenated"):
        tg.cat([tg.Tensor(1.0), tg.Tensor(2.0)])
    with pytest.raises(RuntimeError, match="linear: the input needs at least 1 dimension"):
        nn.Dense(1, 2)(tg.Tensor(1.0))


def test_0d_conversions_as_pytorch():
    t = tg.Tensor(2.5)
    assert float(t) == 2.5 and int(t) == 2 and bool(t) and t.item() == 2.5 and t.tolist() == 2.5
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(t)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        iter(t)
    assert list(range(10))[tg.Tensor(np.array(3))] == 3  # an integer 0-d tensor is an index
