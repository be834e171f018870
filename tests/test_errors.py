"""Mistakes raise the exception class PyTorch raises for the same mistake, with a message naming
the op and the shapes. Where the class differs from NumPy's, ours derives from both (OpError is
a RuntimeError and a ValueError; an axis out of range is NumPy's AxisError, an IndexError)."""

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn

A, B = np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)

# name: (our mistake, the same mistake in PyTorch (t = torch), class, our message)
CASES = {
    "stack along a missing axis": (
        lambda: tg.stack([tg.Tensor(A), tg.Tensor(A)], axis=77),
        lambda t: t.stack([t.tensor(A), t.tensor(A)], dim=77),
        IndexError,
        r"Stack: axis 77 is out of bounds .* \(input shapes \(2, 3\), \(2, 3\)\)",
    ),
    "sum over a missing axis": (
        lambda: tg.Tensor(A).sum(5),
        lambda t: t.tensor(A).sum(5),
        IndexError,
        "Sum: axis 5 is out of bounds",
    ),
    "transpose a missing axis": (
        lambda: tg.Tensor(A).transpose(0, 5),
        lambda t: t.tensor(A).transpose(0, 5),
        IndexError,
        "transpose: axis 5 is out of bounds",
    ),
    "softmax along a missing axis": (
        lambda: F.softmax(tg.Tensor(A), axis=2),
        lambda t: t.tensor(A).softmax(2),
        IndexError,
        "Softmax: axis 2 is out of bounds",
    ),
    "squeeze a missing axis": (
        lambda: tg.Tensor(A).squeeze(3),
        lambda t: t.tensor(A).squeeze(3),
        IndexError,
        "squeeze: axis 3 is out of bounds",
    ),
    "a 0-d tensor's axis 1": (
        lambda: tg.Tensor(1.0).sum(1),
        lambda t: t.tensor(1.0).sum(1),
        IndexError,
        "axis 1 is out of range for a 0-d tensor",
    ),
    "matmul of shapes that do not fit": (
        lambda: tg.Tensor(A) @ tg.Tensor(A),
        lambda t: t.tensor(A) @ t.tensor(A),
        RuntimeError,
        r"MatMul: .*\(input shapes \(2, 3\), \(2, 3\)\)",
    ),
    "matmul of a tensor and a list": (
        lambda: tg.Tensor(A) @ [1.0, 2.0, 3.0],
        lambda t: t.tensor(A) @ [1.0, 2.0, 3.0],
        TypeError,
        r"unsupported operand type\(s\) for @: 'Tensor' and 'list'",
    ),
    "matmul of a tensor and a number": (
        lambda: 2.0 @ tg.Tensor(A),
        lambda t: 2.0 @ t.tensor(A),
        TypeError,
        r"unsupported operand type\(s\) for @: 'float' and 'Tensor'",
    ),
    "add of shapes that do not broadcast": (
        lambda: tg.Tensor(A) + tg.Tensor(B),
        lambda t: t.tensor(A) + t.tensor(B),
        RuntimeError,
        r"Add: .*broadcast.*\(input shapes \(2, 3\), \(3, 2\)\)",
    ),
    "reshape to a wrong size": (
        lambda: tg.Tensor(A).reshape(4),
        lambda t: t.tensor(A).reshape(4),
        RuntimeError,
        r"Reshape: cannot reshape array of size 6 into shape \(4,\)",
    ),
    "expand to a wrong size": (
        lambda: tg.Tensor(A).expand(3, 3),
        lambda t: t.tensor(A).expand(3, 3),
        RuntimeError,
        r"Expand: .*\(input shapes \(2, 3\)\)",
    ),
    "permute with too few axes": (
        lambda: tg.Tensor(np.ones((2, 3, 4))).permute(1, 0),
        lambda t: t.ones(2, 3, 4).permute(1, 0),
        RuntimeError,
        "Permute: axes don't match",
    ),
    "index out of range": (
        lambda: tg.Tensor(A)[5],
        lambda t: t.tensor(A)[5],
        IndexError,
        "GetItem: index 5 is out of bounds",
    ),
    "concatenating 0-d tensors": (
        lambda: tg.cat([tg.Tensor(1.0), tg.Tensor(2.0)]),
        lambda t: t.cat([t.tensor(1.0), t.tensor(2.0)]),
        RuntimeError,
        "zero-dimensional tensors cannot be concatenated",
    ),
    "a linear layer given the wrong number of features": (
        lambda: nn.Dense(3, 2)(tg.Tensor(np.ones((1, 4), np.float32))),
        lambda t: t.nn.Linear(3, 2)(t.ones(1, 4)),
        RuntimeError,
        r"Dense: expected input with 3 features .* \(1, 4\)",
    ),
    "a linear layer given a list": (
        lambda: nn.Dense(3, 2)([[1.0, 2.0, 3.0]]),
        lambda t: t.nn.Linear(3, 2)([[1.0, 2.0, 3.0]]),
        TypeError,
        "Dense: the input must be a Tensor, got list",
    ),
    "a float32 linear layer given float64": (
        lambda: nn.Dense(3, 2)(tg.Tensor(np.ones((1, 3)))),
        lambda t: t.nn.Linear(3, 2)(t.ones(1, 3, dtype=t.float64)),
        RuntimeError,
        "input and weight must have the same dtype, got float64 and float32",
    ),
    "matmul of float32 and float64": (
        lambda: tg.Tensor(A) @ tg.Tensor(B.astype(np.float64)),
        lambda t: t.tensor(A) @ t.tensor(B, dtype=t.float64),
        RuntimeError,
        "same dtype, got float32 and float64",
    ),
    "binary cross-entropy of values outside [0, 1]": (
        lambda: F.binary_cross_entropy(tg.Tensor([1.5]), tg.Tensor([1.0])),
        lambda t: t.nn.functional.binary_cross_entropy(t.tensor([1.5]), t.tensor([1.0])),
        RuntimeError,
        "all elements of input should be between 0 and 1",
    ),
    "binary cross-entropy of nan": (
        lambda: F.binary_cross_entropy(tg.Tensor([np.nan]), tg.Tensor([1.0])),
        lambda t: t.nn.functional.binary_cross_entropy(t.tensor([float("nan")]), t.tensor([1.0])),
        RuntimeError,
        "all elements of input should be between 0 and 1",
    ),
    "a class index out of range": (
        lambda: F.cross_entropy(tg.Tensor(A), np.array([0, 3])),
        lambda t: t.nn.functional.cross_entropy(t.tensor(A), t.tensor([0, 3])),
        IndexError,
        r"class indices must be in \[0, 3\), got values in \[0, 3\]",
    ),
    "float class indices": (
        lambda: F.cross_entropy(tg.Tensor(A), np.array([0.0, 1.0])),
        lambda t: t.nn.functional.cross_entropy(t.tensor(A), t.tensor([0.0, 1.0])),
        RuntimeError,
        "holds class indices, which must be integers",
    ),
    "an integer tensor that requires grad": (
        lambda: tg.Tensor(np.arange(3)).requires_grad_(),
        lambda t: t.arange(3).requires_grad_(),
        RuntimeError,
        "only floating-point tensors can require gradients",
    ),
    "backward of a non-scalar without a gradient": (
        lambda: (tg.Tensor(A, requires_grad=True) * 2).backward(),
        lambda t: (t.tensor(A, requires_grad=True) * 2).backward(),
        RuntimeError,
        "needs a scalar output",
    ),
    "backward of a tensor without a graph": (
        lambda: tg.Tensor(A).sum().backward(),
        lambda t: t.tensor(A).sum().backward(),
        RuntimeError,
        "does not require grad",
    ),
    "the truth of several values": (
        lambda: bool(tg.Tensor(A)),
        lambda t: bool(t.tensor(A)),
        RuntimeError,
        "the boolean value of a tensor of 6 elements is ambiguous",
    ),
    "len of a 0-d tensor": (
        lambda: len(tg.Tensor(1.0)),
        lambda t: len(t.tensor(1.0)),
        TypeError,
        r"len\(\) of a 0-d tensor",
    ),
    "a float result into an integer tensor": (
        lambda: tg.Tensor(np.arange(3)).__iadd__(0.5),
        lambda t: t.arange(3).__iadd__(0.5),
        RuntimeError,
        "add in place: cannot write into a tensor",
    ),
    "an in-place op on a leaf that requires grad": (
        lambda: tg.Tensor(A, requires_grad=True).__iadd__(1),
        lambda t: t.tensor(A, requires_grad=True).add_(1),
        RuntimeError,
        "a leaf Variable that requires grad is being used in an in-place",
    ),
    "glu of an odd axis": (
        lambda: F.glu(tg.Tensor(A)),
        lambda t: t.nn.functional.glu(t.tensor(A)),
        RuntimeError,
        "GLU: the size along axis -1 must be even",
    ),
    "gelu with an unknown approximation": (
        lambda: F.gelu(tg.Tensor(A), approximate="fast"),
        lambda t: t.nn.functional.gelu(t.tensor(A), approximate="fast"),
        RuntimeError,
        "approximate must be 'none' or 'tanh', got 'fast'",
    ),
    "prelu with slopes that fit no axis": (
        lambda: F.prelu(tg.Tensor(A), tg.Tensor([0.25, 0.25])),
        lambda t: t.nn.functional.prelu(t.tensor(A), t.tensor([0.25, 0.25])),
        RuntimeError,
        r"PReLU: weight of shape \(2,\) needs one slope",
    ),
    "an unknown reduction": (
        lambda: F.mse_loss(tg.Tensor(A), tg.Tensor(A), reduction="avg"),
        lambda t: t.nn.functional.mse_loss(t.tensor(A), t.tensor(A), reduction="avg"),
        ValueError,
        "reduction must be 'mean', 'sum' or 'none', got 'avg'",
    ),
    "a dropout probability above 1": (
        lambda: F.dropout(tg.Tensor(A), p=1.5),
        lambda t: t.nn.functional.dropout(t.tensor(A), p=1.5),
        ValueError,
        r"dropout: p must be in \[0, 1\], got 1.5",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_raises_pytorchs_class_with_a_message_naming_the_op(name):
    ours, _, kind, message = CASES[name]
    with pytest.raises(kind, match=message):
        ours()


@pytest.mark.parametrize("name", CASES)
def test_pytorch_raises_the_same_class_for_the_same_mistake(name):
    torch = pytest.importorskip("torch")
    _, theirs, kind, _ = CASES[name]
    with pytest.raises(kind):
        theirs(torch)


@pytest.mark.parametrize(
    "name",
    [
        "matmul of shapes that do not fit",
        "add of shapes that do not broadcast",
        "binary cross-entropy of values outside [0, 1]",
        "stack along a missing axis",
    ],
)
def test_shape_and_axis_errors_are_also_what_numpy_raises(name):
    with pytest.raises(ValueError):  # OpError and AxisError derive from ValueError too
        CASES[name][0]()


@pytest.mark.parametrize("data", [None, "text", object(), {"a": 1}, [1, "a"]], ids=repr)
def test_tensor_refuses_what_is_not_numbers(data):
    with pytest.raises(TypeError, match="a tensor holds numbers"):
        tg.Tensor(data)
