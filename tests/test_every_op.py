"""Every op of the package, differentiated once and twice: gradcheck and gradgradcheck in float64, on
shapes from 0-d up where the op takes them, with random upstream gradients (gradgradcheck's).

The sweep finds every Function subclass in the package and requires an entry for it: in CASES (how
to call it, on what values) or in NO_CASE (why it needs none). A new op is one entry in CASES; a new
elementwise activation one entry in ACTIVATIONS. Values keep `MARGIN` away from an op's kinks, where
no derivative exists and finite differences mean nothing.
"""

import importlib
import pkgutil
from collections.abc import Callable
from typing import NamedTuple

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_es
from tinygrad_es import (
    Function,
    Tensor,
    convolution,
    embedding,
    engine,
    fused,
    gradcheck,
    gradgradcheck,
    losses,
    nn,
    ops,
)
from tinygrad_es import activations as A
from tinygrad_es import normalization as norms
from tinygrad_es.testing import broadcastable_shapes, floats, shapes

MARGIN = 0.01


def by_name(classes):
    return sorted(classes, key=lambda c: f"{c.__module__}.{c.__name__}")


class Case(NamedTuple):
    fn: Callable  # fn(*args, **options): the op, on the drawn arguments (float64 arrays become tensors)
    args: Callable  # args(shape strategy) -> strategy of (args tuple, options dict)
    min_dims: int = 0  # the fewest axes the op takes


def arrays(shape, elements):
    """float64 arrays of `shape`: `elements` is a strategy of floats, or a function shape -> strategy of arrays."""
    return elements(shape) if callable(elements) else hnp.arrays(np.float64, shape, elements=elements)


def distinct(shape):
    """Values at least 0.25 apart (no ties for max, a spread for var and std), in a random order."""
    size = int(np.prod(shape))
    return st.permutations(range(size)).map(lambda p: (np.array(p, np.float64) * 0.25 - size / 8).reshape(shape))


def axes(ndim):
    """axis= for a reduction: None, one axis (negative too), or a tuple of distinct axes."""
    one = st.integers(-ndim, ndim - 1) if ndim else st.sampled_from([0, -1])
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple) if ndim else st.just(None)
    return st.one_of(st.none(), one, several)


def case(fn, *elements, min_dims=0, broadcast=False, axis=False, options=None):
    """fn on one float64 array per entry of `elements` (the values each input takes), all of the drawn
    shape or, with broadcast=True, of shapes broadcasting with it and with each other. axis=True also
    draws `axis` and `keepdims`; `options` (a function of the shape) draws more keyword arguments."""

    @st.composite
    def args(draw, shape_strategy):
        shape = together = draw(shape_strategy)
        drawn = [draw(arrays(shape, elements[0]))]
        for values in elements[1:]:
            drawn.append(draw(arrays(draw(broadcastable_shapes(together, max_side=3)) if broadcast else shape, values)))
            together = np.broadcast_shapes(together, drawn[-1].shape)  # the next input broadcasts with all before it
        kwargs = {} if options is None else dict(draw(options(shape)))
        if axis:
            kwargs.update(axis=draw(axes(len(shape))), keepdims=draw(st.booleans()))
        return tuple(drawn), kwargs

    return Case(fn, args, min_dims)


def keeping(c, keep):
    """Case c, drawing only arguments for which keep(*args) holds (values away from a kink)."""
    return Case(c.fn, lambda shape_strategy: c.args(shape_strategy).filter(lambda drawn: keep(*drawn[0])), c.min_dims)


def choice(**options):
    """options= for case(): each keyword drawn from its list."""
    return lambda shape: st.fixed_dictionaries({k: st.sampled_from(v) for k, v in options.items()})


def apart(x, y):
    return bool(np.all(np.abs(x - y) >= MARGIN))


# ---- elementwise activations: options and kinks (a new one: one entry) ------------------------------
def _slopes():  # RReLU in training: the same slopes on every call, so that finite differences mean something
    return {"lower": 0.1, "upper": 0.3, "generator": np.random.default_rng(7)}


ACTIVATIONS = {  # op -> (options, or a function giving them for each call; kinks)
    A.Sigmoid: ({}, ()),
    A.Tanh: ({}, ()),
    A.LogSigmoid: ({}, ()),
    A.Softsign: ({}, (0,)),  # f'' jumps at 0
    A.Tanhshrink: ({}, ()),
    A.ReLU: ({}, (0,)),
    A.LeakyReLU: ({"negative_slope": 0.1}, (0,)),
    A.RReLU: (_slopes, (0,)),
    A.ELU: ({"alpha": 1.5}, (0,)),
    A.SELU: ({}, (0,)),
    A.CELU: ({"alpha": 0.7}, (0,)),
    A.Softplus: ({"beta": 2.0, "threshold": 3.0}, (1.5,)),  # linear where beta x > threshold
    A.GELU: ({"approximate": "none"}, ()),
    A.SiLU: ({}, ()),
    A.Mish: ({}, ()),
    A.Hardtanh: ({"min_val": -1.0, "max_val": 2.0}, (-1, 2)),
    A.ReLU6: ({}, (0, 6)),
    A.Hardsigmoid: ({}, (-3, 3)),
    A.Hardswish: ({}, (-3, 3)),
    A.Softshrink: ({"lambd": 0.5}, (-0.5, 0.5)),
    A.Hardshrink: ({"lambd": 0.5}, (-0.5, 0.5)),
    A.Threshold: ({"threshold": 0.3, "value": -2.0}, (0.3,)),
    A.Step: ({}, (0,)),
}


def activation_options(op):
    options = ACTIVATIONS[op][0]
    return options() if callable(options) else options


def activation_case(op):
    kinks = ACTIVATIONS[op][1]
    return case(lambda x: op.apply(x, **activation_options(op)), floats(-7, 7, avoid=kinks, margin=MARGIN))


# ---- special arguments ----------------------------------------------------------------------------
@st.composite
def matmul_args(draw, shape_strategy):
    """x @ y for every combination of 1-D, 2-D and batched operands (batch axes broadcasting)."""
    m, n, p = (draw(st.integers(1, 3)) for _ in range(3))
    x_ndim, y_ndim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(shapes(0, 1, max_side=2))
    x_shape = (n,) if x_ndim == 1 else batch[: x_ndim - 2] + (m, n)
    y_shape = (n,) if y_ndim == 1 else draw(broadcastable_shapes(batch, max_dims=1, max_side=2))[: y_ndim - 2] + (n, p)
    return (draw(arrays(x_shape, floats(-2, 2))), draw(arrays(y_shape, floats(-2, 2)))), {}


def indices(shape):
    """An index of an array of `shape`: basic (ints, slices, None, ...), integer arrays (repeats
    included), a boolean mask, or PyTorch's mix of ints and an index array."""
    basic = hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)
    if not shape:
        return basic

    def picks(n):  # positions along an axis of length n, repeats allowed
        return st.lists(st.integers(-n, n - 1), min_size=1, max_size=4).map(np.array)

    mixed = st.tuples(st.integers(0, shape[0] - 1), st.just(slice(None)), picks(shape[2])) if len(shape) >= 3 else None
    return st.one_of(
        basic,
        hnp.integer_array_indices(shape),
        picks(shape[0]),
        hnp.arrays(bool, shape),
        *([] if mixed is None else [mixed]),
    )


@st.composite
def getitem_args(draw, shape_strategy):
    shape = draw(shape_strategy)
    return (draw(arrays(shape, floats())),), {"index": draw(indices(shape))}


@st.composite
def index_add_args(draw, shape_strategy):
    """IndexAdd (indexing's gradient) on its own: values of the indexed shape, added into zeros of `shape`."""
    shape = draw(shape_strategy)
    index = draw(indices(shape).filter(lambda i: len(ops.indexing._pytorch_index(i)) == 1))
    return (draw(arrays(np.zeros(shape)[index].shape, floats())),), {"shape": shape, "index": index}


@st.composite
def joined_args(draw, shape_strategy, stacking):
    """2 or 3 arrays to concatenate (sizes differing along the axis) or to stack (one shape)."""
    shape = draw(shape_strategy)
    ndim = len(shape)
    axis = draw(st.integers(-ndim - 1, ndim) if stacking else st.integers(-ndim, ndim - 1))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        part = list(shape)
        if not stacking:
            part[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(part), floats())))
    return tuple(parts), {"axis": axis}


@st.composite
def permute_args(draw, shape_strategy):
    shape = draw(shape_strategy)
    return (draw(arrays(shape, floats())),), {"axes": tuple(draw(st.permutations(range(len(shape)))))}


def count(shape, axis):
    """How many elements a reduction over `axis` takes together."""
    if axis is None or not shape:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in np.atleast_1d(axis)]))


@st.composite
def spread_args(draw, shape_strategy):
    """var and std: distinct values, and a correction smaller than the count (or 0)."""
    shape = draw(shape_strategy)
    axis = draw(axes(len(shape)))
    correction = draw(st.integers(0, 1)) if count(shape, axis) > 1 else 0
    return (draw(arrays(shape, distinct)),), {"axis": axis, "keepdims": draw(st.booleans()), "correction": correction}


@st.composite
def glu_args(draw, shape_strategy):
    shape = list(draw(shape_strategy))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] = 2 * draw(st.integers(1, 2))
    return (draw(arrays(tuple(shape), floats())),), {"axis": axis}


@st.composite
def prelu_args(draw, shape_strategy):
    shape = draw(shape_strategy)
    channels = 1 if len(shape) < 2 or draw(st.booleans()) else shape[1]
    x = draw(arrays(shape, floats(avoid=[0], margin=MARGIN)))
    return (x, draw(arrays((channels,), floats(0.05, 0.5)))), {}


@st.composite
def linear_args(draw, shape_strategy):
    """activation(x @ w.T + b) in one node, for any elementwise activation; the bias moves each
    pre-activation column off the activation's kinks."""
    op = draw(st.sampled_from(by_name(ACTIVATIONS)))
    shape = draw(shape_strategy)
    x, w = draw(arrays(shape, floats(-2, 2))), draw(arrays((draw(st.integers(1, 3)), shape[-1]), floats(-2, 2)))
    b = draw(arrays(w.shape[:1], floats(-2, 2)))
    kinks = np.asarray(ACTIVATIONS[op][1], np.float64)
    if kinks.size:
        z = (x @ w.T + b).reshape(-1, len(b))
        shifts = np.linspace(0, 1, 1000, endpoint=False)
        distance = np.abs(z[None, :, :, None] + shifts[:, None, None, None] - kinks).min(axis=(1, 3))
        b = b + shifts[np.argmax(distance >= MARGIN, axis=0)]  # per column, the first shift that clears them
    return (x, w, b), {"activation": op}


def linear(x, w, b, activation):
    return fused.linear(x, w, b, activation, activation_options(activation))


@st.composite
def class_args(draw, shape_strategy):
    """Logits (N, C) and class indices, for the fused softmax cross-entropy."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return (draw(arrays((n, c), floats())), target), draw(reductions(None))


EINSUMS = [
    "ij,jk->ik",
    "i,i->",
    "i,j->ij",
    "ii->i",
    "ii",
    "iij->ij",
    "ij->",
    "ij,ij->i",
    "ij,jk,kl->il",
    ",i->i",
    "...ij,...jk->...ik",
    "i...->...",
    "...,...->...",
    "...->",
    "...,...,...",
]


@st.composite
def einsum_args(draw, shape_strategy):
    """An equation and its operands: each letter's length drawn once (so the operands fit), the
    drawn shape standing for the ellipsis, which broadcasts between operands. A 0-d shape draws
    from the equations of ellipses alone, whose first operand is then 0-d."""
    batch = draw(shape_strategy)
    equations = EINSUMS if batch else [e for e in EINSUMS if not set(e) - set(".,->")]
    equation = draw(st.sampled_from(equations))
    length = {c: draw(st.integers(1, 3)) for c in sorted(set(equation) - set(".,->"))}
    operands, together = [], None
    for spec in equation.split("->")[0].split(","):
        ellipsis = ()
        if "..." in spec:  # the drawn shape first, then shapes broadcasting with those before
            ellipsis = batch if together is None else draw(broadcastable_shapes(together, max_side=3))
            together = np.broadcast_shapes(ellipsis, together or ())
        operands.append(draw(arrays(ellipsis + tuple(length[c] for c in spec.replace("...", "")), floats(-2, 2))))
    return tuple(operands), {"subscripts": equation}


def off_multiples(step):
    """Floats in [-4, 4] at least MARGIN away from every multiple of `step`."""
    return floats(avoid=list(np.arange(-4, 4 + step, step)), margin=MARGIN)


# fmod and remainder jump where x / y is an integer: with y a power of 2 no smaller than 1/2, x kept off
# the multiples of 1/2 is off every multiple of y.
divisors = st.sampled_from([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])


def axis_of(shape):
    """axis= for an op along one axis: any of the shape's (negative too); 0 or -1 for a 0-d tensor."""
    return st.integers(-len(shape), len(shape) - 1) if shape else st.sampled_from([0, -1])


@st.composite
def scatter_args(draw, shape_strategy):
    """x, src no smaller than the index, and an index along `axis` (repeats included: the last write stays)."""
    shape = draw(shape_strategy)
    axis = draw(axis_of(shape))
    along = axis % len(shape) if shape else 0
    index_shape = tuple(draw(st.integers(1, 3 if a == along else n)) for a, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, (shape[along] if shape else 1) - 1)))
    src = draw(arrays(tuple(n + draw(st.integers(0, 1)) for n in index_shape), floats()))
    return (draw(arrays(shape, floats())), src), {"axis": axis, "index": index}


@st.composite
def pad_args(draw, shape_strategy):
    """Constant padding of the last axes, widths from -1 (a crop, where the axis is long enough) to 2."""
    shape = draw(shape_strategy)
    widths = []
    for n in shape[::-1][: draw(st.integers(0, len(shape)))]:
        widths += [draw(st.integers(-1 if n > 2 else 0, 2)) for _ in range(2)]
    return (draw(arrays(shape, floats())),), {"pad": tuple(widths), "value": draw(st.sampled_from([0.0, 1.5]))}


@st.composite
def roll_args(draw, shape_strategy):
    """Shifts over the flattened tensor, along one axis, or along several (an axis twice adds its shifts)."""
    shape = draw(shape_strategy)
    shift = st.integers(-4, 4)
    axis = draw(st.one_of(st.none(), axis_of(shape), st.lists(axis_of(shape), min_size=1, max_size=2).map(tuple)))
    shifts = draw(shift) if not isinstance(axis, tuple) else tuple(draw(shift) for _ in axis)
    return (draw(arrays(shape, floats())),), {"shifts": shifts, "axis": axis}


@st.composite
def flip_args(draw, shape_strategy):
    shape = draw(shape_strategy)
    several = st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)) if shape else st.just([0])
    axis = draw(axis_of(shape) | several.map(tuple))
    return (draw(arrays(shape, floats())),), {"axis": axis}


@st.composite
def repeat_args(draw, shape_strategy):
    """repeat(x, *reps): reps for each axis, and maybe one more in front."""
    shape = draw(shape_strategy)
    reps = draw(st.lists(st.integers(1, 2), min_size=len(shape), max_size=len(shape) + 1))
    return (draw(arrays(shape, floats())),), {"reps": tuple(reps)}


def distinct_sizes(shape):
    """Values whose sizes |x| are distinct and at least 0.25, signs drawn (no ties for the inf-norms, no kink at 0)."""
    size = int(np.prod(shape))
    return st.tuples(st.permutations(range(size)), hnp.arrays(bool, shape)).map(
        lambda drawn: np.asarray((np.reshape(drawn[0], shape) * 0.25 + 0.25) * np.where(drawn[1], -1, 1))
    )


def one_axis(shape):
    """options= for cumsum and cumprod: the axis they run along."""
    return st.fixed_dictionaries({"axis": axis_of(shape)})


def one_axis_or_none(shape):
    """options= for prod: all entries, or one axis; keepdims."""
    return st.fixed_dictionaries({"axis": st.none() | axis_of(shape), "keepdims": st.booleans()})


# prod and cumprod: their gradients take their own path at zeros. Away from 0 they divide the product
# by an entry (as PyTorch's do), which keeps no relative precision once both are subnormal (5e-324
# squared is 0): entries this tiny are zeros to these ops, and tested as such.
with_zeros = st.one_of(st.just(0.0), floats(-2, 2).filter(lambda v: abs(v) >= 1e-150))


@st.composite
def window_args(draw, shape_strategy, transposed=False, pooling=False, dilated=True):
    """A small convolution (or pooling) on 1 or 2 spatial axes: (N, C, *spatial) distinct values (no
    ties for max pooling), a weight and a bias, and stride, padding, dilation and groups."""
    d, groups = draw(st.integers(1, 2)), 1 if pooling else draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride = (tuple(draw(st.integers(1, 2)) for _ in range(d)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(d))
    # pooling: no padding where dilated, so that no window is all padding (its maximum -inf)
    padding = tuple(
        draw(st.integers(0, (k // 2 if dl == 1 else 0) if pooling else 1)) for k, dl in zip(kernel, dilation)
    )
    sizes = tuple(draw(st.integers(max(1, dl * (k - 1) + 1 - 2 * p), 4)) for k, dl, p in zip(kernel, dilation, padding))
    x = draw(arrays((draw(st.integers(1, 2)), c_in, *sizes), distinct))
    if transposed:  # padding crops the output of a transposed convolution: leave at least one element
        padding = tuple(
            min(p, ((n - 1) * s + dl * (k - 1)) // 2)
            for p, n, s, dl, k in zip(padding, sizes, stride, dilation, kernel)
        )
    options = dict(stride=stride, padding=padding, **({"dilation": dilation} if dilated else {}))
    if pooling:
        return (x,), dict(kernel_size=kernel, **options)
    shape = (c_in, c_out // groups) if transposed else (c_out, c_in // groups)
    w, b = draw(arrays(shape + kernel, floats(-2, 2))), draw(arrays((c_out,), floats(-2, 2)))
    return (x, w, b), dict(groups=groups, **options)


@st.composite
def weight_gradient_args(draw, shape_strategy):
    """ConvWeight on its own: an input, a gradient of its convolution's output shape, and the options."""
    (x, w, _), options = draw(window_args(shape_strategy))
    padding = tuple((p, p) for p in options["padding"])
    out = convolution._out_sizes(
        [n + 2 * p for n, p in zip(x.shape[2:], options["padding"])],
        w.shape[2:],
        options["stride"],
        options["dilation"],
    )
    g = draw(arrays((len(x), len(w), *out), floats(-2, 2)))
    options.update(
        kernel=w.shape[2:],
        padding=convolution._exact(padding, x.shape[2:], out, w.shape[2:], options["stride"], options["dilation"]),
    )
    return (x, g), options


def unfolded(x, kernel_size, stride, padding, dilation, fold=False):
    """Unfold on its own (and Fold, its transpose, after it): the windows of a pooling's input."""
    sizes = x.shape[2:]
    out = convolution._out_sizes([n + 2 * p for n, p in zip(sizes, padding)], kernel_size, stride, dilation)
    exact = convolution._exact(tuple((p, p) for p in padding), sizes, out, kernel_size, stride, dilation)
    options = dict(kernel=kernel_size, stride=stride, padding=exact, dilation=dilation)
    windows = convolution.Unfold.apply(x, **options)
    return convolution.Fold.apply(windows * windows, size=sizes, **options) if fold else windows


@st.composite
def normalize_args(draw, shape_strategy):
    """Batch (training or with running statistics), layer or group norm, on distinct values."""
    shape = (draw(st.integers(2, 3)), 2, *draw(shapes(0, 2, max_side=2)))
    parameters = tuple(draw(arrays((2,), floats(-2, 2))) for _ in range(2))
    return (draw(arrays(shape, distinct)), *parameters), {"kind": draw(st.sampled_from(["batch", "running", "group"]))}


def normalized(x, weight, bias, kind):
    if kind == "batch":
        return norms.batch_norm(x, None, None, weight, bias, training=True)
    if kind == "running":
        return norms.batch_norm(x, np.array([0.5, -1.0]), np.array([2.0, 0.5]), weight, bias)
    return norms.group_norm(x, 2, weight, bias) + norms.layer_norm(x, x.shape[1:])


@st.composite
def embedding_args(draw, shape_strategy):
    """Indices (repeats included) into 1-4 rows; row 0 as the padding row is never picked, as its
    gradient is 0 by design, which finite differences would contradict."""
    rows, padding_idx = draw(st.integers(2, 4)), draw(st.sampled_from([None, 0]))
    indices = np.array(draw(st.lists(st.integers(0 if padding_idx is None else 1, rows - 1), min_size=1, max_size=5)))
    return (indices, draw(arrays((rows, 2), floats()))), {"padding_idx": padding_idx}


reductions = choice(reduction=["mean", "sum", "none"])
probabilities = floats(0.05, 0.95)


def with_hook(x):
    """A layer with a full backward hook: its input and output pass through _Tap nodes and a _Gate."""
    layer = nn.Tanh()
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: None)
    return layer(x)


# ---- the table -------------------------------------------------------------------------------------
CASES = {
    # arithmetic
    ops.Add: case(lambda x, y: x + y, floats(), floats(), broadcast=True),
    ops.Sub: case(lambda x, y: x - y, floats(), floats(), broadcast=True),
    ops.Mul: case(lambda x, y: x * y, floats(), floats(), broadcast=True),
    ops.Div: case(lambda x, y: x / y, floats(), floats(-3, 3, avoid=[0], margin=0.5), broadcast=True),
    ops.Neg: case(lambda x: -x, floats()),
    ops.Pow: case(lambda x, p: x**p, floats(0.5, 2), floats(-2, 3), broadcast=True),
    ops.Exp: case(ops.exp, floats(-3, 3)),
    ops.Log: case(ops.log, floats(0.2, 4)),
    ops.Log1p: case(ops.log1p, floats(-0.7, 4)),
    ops.Expm1: case(ops.expm1, floats(-3, 3)),
    ops.Sqrt: case(ops.sqrt, floats(0.2, 4)),
    ops.Abs: case(ops.abs, floats(avoid=[0])),
    ops.Sign: case(ops.sign, floats(avoid=[0])),
    ops.Clip: case(lambda x: x.clip(-1.0, 2.0), floats(avoid=[-1, 2])),
    ops.Maximum: keeping(case(ops.maximum, floats(), floats(), broadcast=True), apart),
    ops.Minimum: keeping(case(ops.minimum, floats(), floats(), broadcast=True), apart),
    ops.Where: case(
        lambda x, y, condition: ops.where(condition, x, y),
        floats(),
        floats(),
        broadcast=True,
        options=lambda shape: st.fixed_dictionaries({"condition": hnp.arrays(bool, shape)}),
    ),
    ops.Cast: case(lambda x: x.astype(np.longdouble).astype(np.float64), floats()),
    ops.Lerp: case(ops.lerp, floats(), floats(), floats(-1, 2), broadcast=True),  # two formulas, equal at |w| = 0.5
    ops.Fmod: case(ops.fmod, off_multiples(0.5), divisors, broadcast=True),
    ops.Remainder: case(ops.remainder, off_multiples(0.5), divisors, broadcast=True),
    ops.Floor: case(ops.floor, off_multiples(1)),  # steps: a gradient of 0 between them
    ops.Ceil: case(ops.ceil, off_multiples(1)),
    ops.Trunc: case(ops.trunc, off_multiples(1)),
    ops.Round: case(
        ops.round,
        floats().map(lambda v: np.round(v, 1) + 0.03),  # off the jumps at the halves
        options=choice(decimals=[0, 1]),
    ),  # (decimals=0) and at the x.x5 (decimals=1)
    ops.NanToNum: case(ops.nan_to_num, floats()),
    # elementary functions, away from their poles and the edges of their domains
    ops.Square: case(ops.square, floats()),
    ops.Rsqrt: case(ops.rsqrt, floats(0.2, 4)),
    ops.Reciprocal: case(ops.reciprocal, floats(-3, 3, avoid=[0], margin=0.5)),
    ops.Exp2: case(ops.exp2, floats(-3, 3)),
    ops.Log2: case(ops.log2, floats(0.2, 4)),
    ops.Log10: case(ops.log10, floats(0.2, 4)),
    ops.Sin: case(ops.sin, floats()),
    ops.Cos: case(ops.cos, floats()),
    ops.Tan: case(ops.tan, floats(-1.2, 1.2)),  # poles at +-pi/2
    ops.Asin: case(ops.asin, floats(-0.9, 0.9)),
    ops.Acos: case(ops.acos, floats(-0.9, 0.9)),
    ops.Atan: case(ops.atan, floats()),
    ops.Atan2: case(ops.atan2, floats(avoid=[0], margin=0.1), floats(), broadcast=True),  # y off 0: a jump for x < 0
    ops.Sinh: case(ops.sinh, floats(-3, 3)),
    ops.Cosh: case(ops.cosh, floats(-3, 3)),
    # shape
    ops.Reshape: case(lambda x: x.reshape(-1), floats()),
    ops.Permute: Case(lambda x, axes: ops.permute(x, axes), permute_args),
    ops.Expand: case(lambda x: x.expand((2,) + x.shape), floats()),
    ops.Concatenate: Case(lambda *xs, axis: ops.concatenate(xs, axis), lambda s: joined_args(s, False), min_dims=1),
    ops.Stack: Case(lambda *xs, axis: ops.stack(xs, axis), lambda s: joined_args(s, True)),
    ops.Clone: case(ops.clone, floats()),
    # rearrangements
    ops.Flip: Case(ops.flip, flip_args),
    ops.Roll: Case(ops.roll, roll_args),
    ops.Tile: Case(lambda x, reps: ops.repeat(x, *reps), repeat_args),
    ops.ConstantPad: Case(ops.pad, pad_args),
    ops.Tril: case(ops.tril, floats(), min_dims=2, options=choice(diagonal=[-1, 0, 2])),
    ops.Triu: case(ops.triu, floats(), min_dims=2, options=choice(diagonal=[-2, 0, 1])),
    # reductions
    ops.Sum: case(ops.sum, floats(), axis=True),
    ops.Mean: case(ops.mean, floats(), axis=True),
    ops.Amax: case(ops.amax, distinct, axis=True),
    ops.Amin: case(ops.amin, distinct, axis=True),
    ops.Var: Case(ops.var, spread_args),
    ops.Std: Case(ops.std, spread_args),
    ops.Prod: case(ops.prod, with_zeros, options=one_axis_or_none),
    ops.Cumsum: case(ops.cumsum, floats(), options=one_axis),
    ops.Cumprod: case(ops.cumprod, with_zeros, options=one_axis),
    ops.LogSumExp: case(ops.logsumexp, floats(), axis=True),
    ops.Norm: case(ops.norm, distinct_sizes, axis=True, options=choice(p=[2, 1, 3, 1.5, 0.5, -1, np.inf, -np.inf, 0])),
    ops.Median: case(ops.median, distinct),
    # indexing, matrices, dropout
    ops.GetItem: Case(ops.getitem, getitem_args),
    ops.IndexAdd: Case(ops.IndexAdd.apply, index_add_args),
    ops.Scatter: Case(lambda x, src, axis, index: ops.scatter(x, axis, index, src), scatter_args),
    ops.MatMul: Case(ops.matmul, matmul_args, min_dims=1),
    ops.Einsum: Case(lambda *xs, subscripts: ops.einsum(subscripts, *xs), einsum_args),
    ops.Dropout: case(
        lambda x, p: ops.dropout(x, p, generator=np.random.default_rng(3)), floats(), options=choice(p=[0.2, 0.5])
    ),
    # activations (the elementwise ones come from ACTIVATIONS, below)
    A.PReLU: Case(A.prelu, prelu_args),
    A.NormalCDF: case(A.NormalCDF.apply, floats(-6, 6)),
    A.Softmax: case(A.softmax, floats(), options=choice(axis=[0, -1])),
    A.Softmin: case(A.softmin, floats(), options=choice(axis=[0, -1])),
    A.LogSoftmax: case(A.log_softmax, floats(), options=choice(axis=[0, -1])),
    A.GLU: Case(A.glu, glu_args, min_dims=1),
    # losses
    losses.MSELoss: case(losses.mse_loss, floats(), floats(), options=reductions),
    losses.HalfMSELoss: case(losses.half_mse_loss, floats(), floats(), options=reductions, min_dims=1),
    losses.HuberLoss: keeping(
        case(losses.huber_loss, floats(), floats(), options=reductions), lambda x, y: apart(np.abs(x - y), 1.0)
    ),  # delta = 1: its kink
    losses.BinaryCrossEntropy: case(losses.binary_cross_entropy, probabilities, probabilities, options=reductions),
    losses.BinaryCrossEntropyWithLogits: case(
        losses.binary_cross_entropy_with_logits, floats(), probabilities, options=reductions
    ),
    losses.L1Loss: keeping(case(losses.l1_loss, floats(), floats(), options=reductions), apart),
    losses.SmoothL1Loss: keeping(
        case(
            losses.smooth_l1_loss,
            floats(),
            floats(),
            options=choice(reduction=["mean", "sum", "none"], beta=[0.0, 1.0]),
        ),
        lambda x, y: apart(x, y) and apart(np.abs(x - y), 1.0),
    ),  # kinks at 0 (beta = 0), beta
    losses.SoftMarginLoss: case(losses.soft_margin_loss, floats(), floats(), options=reductions),
    losses.KLDivLoss: case(
        losses.kl_div,
        floats(-3, 0),
        probabilities,
        options=choice(reduction=["mean", "batchmean", "sum", "none"], log_target=[False, True]),
    ),
    # convolution, pooling, normalization, embedding, dropout variants
    convolution.Conv: Case(convolution.convolution, window_args, min_dims=1),
    convolution.ConvTranspose: Case(
        convolution.transposed_convolution, lambda s: window_args(s, transposed=True), min_dims=1
    ),
    convolution.ConvWeight: Case(convolution.ConvWeight.apply, weight_gradient_args, min_dims=1),
    convolution.MaxPool: Case(
        lambda x, **o: convolution.max_pool(x, d=x.ndim - 2, **o), lambda s: window_args(s, pooling=True), min_dims=1
    ),
    convolution.AvgPool: Case(
        lambda x, **o: convolution.avg_pool(x, d=x.ndim - 2, count_include_pad=False, **o),
        lambda s: window_args(s, pooling=True, dilated=False),
        min_dims=1,
    ),
    convolution.Unfold: Case(unfolded, lambda s: window_args(s, pooling=True), min_dims=1),
    convolution.Fold: Case(
        lambda x, **o: unfolded(x, fold=True, **o), lambda s: window_args(s, pooling=True), min_dims=1
    ),
    norms.Normalize: Case(normalized, normalize_args, min_dims=1),
    embedding.Embedding: Case(embedding.embedding, embedding_args, min_dims=1),
    ops.AlphaDropout: case(
        lambda x, p: ops.alpha_dropout(x, p, training=True, generator=np.random.default_rng(3)),
        floats(),
        options=choice(p=[0.2, 0.5]),
    ),
    # the fast path
    fused.LinearActivation: Case(linear, linear_args, min_dims=1),
    fused.CrossEntropy: Case(fused.cross_entropy, class_args, min_dims=2),
    # the engine, and a module's backward hooks
    engine._Constant: case(lambda x: engine._Constant.apply(np.ones(3), x), floats()),
    nn.module._Tap: case(with_hook, floats()),
    nn.module._Gate: case(with_hook, floats()),
}
CASES.update({op: activation_case(op) for op in ACTIVATIONS})

NO_CASE = {  # a Function subclass -> why the sweep has no case for it
    A.Elementwise: "a base class: the elementwise activations derive from it, it computes nothing",
    ops.elementary.Unary: "a base class: the elementary functions derive from it, it computes nothing",
    ops.elementary.UnaryFromOutput: "a base class, as Unary: Exp2, Rsqrt, Reciprocal and Tan derive from it",
    ops.arithmetic.Rounding: "the base class of Floor, Ceil, Round and Trunc, never applied itself; theirs cover it",
    ops.rearrange.Triangle: "the base class of Tril and Triu, never applied itself; theirs cover it",
    fused.DenseSigmoid: "only runs inside LinearActivation (a Dense layer with sigmoid), whose case covers it",
}


# ---- the sweep ------------------------------------------------------------------------------------
def function_classes():
    """Every Function subclass the package defines, after importing each of its modules."""
    for module in pkgutil.walk_packages(tinygrad_es.__path__, "tinygrad_es."):
        if not module.name.endswith("__main__"):  # running it is the command line
            importlib.import_module(module.name)
    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("tinygrad_es.") and sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def test_every_function_in_the_package_has_a_case_or_a_reason():
    classes = function_classes()
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in classes - set(CASES) - set(NO_CASE))
    assert not missing, "ops without a case in CASES or a reason in NO_CASE: " + ", ".join(missing)
    assert set(CASES) & set(NO_CASE) == set()
    assert set(CASES) | set(NO_CASE) <= classes  # no stale entry
    assert len(classes) >= 70


def nodes(out):
    """The op classes in the graph of `out` (a tensor or a tuple of them)."""
    found, stack = set(), [t for t in (out if isinstance(out, tuple) else (out,)) if t.grad_fn is not None]
    while stack:
        ctx = stack.pop().grad_fn
        found.add(type(ctx))
        stack.extend(x for x in ctx.inputs if isinstance(x, Tensor) and x.grad_fn is not None)
    return found


def check_both_orders(op, drawn):
    case = CASES[op]
    args, options = drawn
    inputs = tuple(
        Tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in args
    )

    def fn(*xs):
        return case.fn(*xs, **options)

    assert op in nodes(fn(*inputs)), f"the case for {op.__name__} does not run it"
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("op", by_name(CASES), ids=lambda op: op.__name__)
@settings(max_examples=8)
@given(data=st.data())
def test_first_and_second_derivatives(op, data):
    case = CASES[op]
    check_both_orders(op, data.draw(case.args(shapes(case.min_dims, 3, max_side=3)), label="args"))


@pytest.mark.parametrize(
    "op", by_name(op for op, case in CASES.items() if case.min_dims == 0), ids=lambda op: op.__name__
)
@settings(max_examples=3)
@given(data=st.data())
def test_first_and_second_derivatives_at_0d(op, data):
    check_both_orders(op, data.draw(CASES[op].args(st.just(())), label="args"))
