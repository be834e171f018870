"""The primitive ops, by kind, each forward beside its backward and attached to Tensor next to it
(as a method, an operator, and a NumPy function on tensors).

Forward works on NumPy arrays. Backward is written in plain NumPy too, so that it also runs on
Tensors for gradients of gradients (see engine.py): it keeps to operators, array methods and the
NumPy functions registered in these modules, and never writes into an array in place. A gradient
may come back in the broadcast shape of the output; the engine sums it back to each input's shape.
"""

from . import conversions, inplace  # noqa: F401  (Tensor's conversions and in-place operators)
from .arithmetic import (  # noqa: F401
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Expm1,
    Log,
    Log1p,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sign,
    Sqrt,
    Sub,
    Where,
    abs,
    add,
    astype,
    clip,
    div,
    exp,
    expm1,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sign,
    sqrt,
    sub,
    where,
)
from .indexing import GetItem, IndexAdd, getitem  # noqa: F401
from .linalg import MatMul, matmul  # noqa: F401
from .reductions import Amax, Amin, Mean, Std, Sum, Var, amax, amin, mean, std, sum, var  # noqa: F401
from .regularization import AlphaDropout, Dropout, alpha_dropout, dropout, dropout2d  # noqa: F401
from .shape import (  # noqa: F401
    Concatenate,
    Expand,
    Permute,
    Reshape,
    Stack,
    concatenate,
    expand,
    flatten,
    permute,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    unsqueeze,
)
