"""What the tests of the PyTorch surface share: running one op in both frameworks and comparing
values, dtypes and gradients; second derivatives against finite differences; arrays in every
memory layout."""

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_es as tg
from tinygrad_es import Tensor

torch = pytest.importorskip("torch")

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
nonempty_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
# numbers in [-3, 3], 0 included but no tiny ones, whose powers underflow (a norm of 1e-169 is 0)
values = st.floats(-3, 3, allow_nan=False, width=64).map(lambda v: 0.0 if abs(v) < 1e-3 else v)


def leaf(array, dtype=np.float64):
    return Tensor(np.array(array, dtype), requires_grad=True)


@st.composite
def laid_out(draw, array):
    """`array`'s values in C order, Fortran order, as a transposed view, or as a strided slice."""
    layout = draw(st.sampled_from(["C", "F", "transposed", "strided"]))
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "transposed":
        return np.ascontiguousarray(array.T).T
    if layout == "strided" and array.ndim:
        return np.repeat(array, 2, axis=-1)[..., ::2]
    return np.ascontiguousarray(array)


@st.composite
def arrays(draw, shape=nonempty_shapes, elements=values, dtype=np.float64):
    return draw(
        laid_out(
            draw(hnp.arrays(dtype, draw(shape) if isinstance(shape, st.SearchStrategy) else shape, elements=elements))
        )
    )


def _flat(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _to_torch(x, grad):
    if isinstance(x, (np.ndarray, np.generic)):
        return torch.tensor(np.asarray(x), requires_grad=grad and x.dtype.kind == "f")
    return x


def _to_ours(x, grad):
    if isinstance(x, (np.ndarray, np.generic)):  # an array as it is laid out: Tensor shares its memory
        return Tensor(np.asarray(x), requires_grad=grad and x.dtype.kind == "f")
    return x


def same_as_torch(ours, theirs, *inputs, grad=True, rtol=1e-6, atol=1e-9, seed=0):
    """ours(*tensors) against theirs(*torch tensors) on the same inputs (arrays become tensors, other
    values pass as they are): every output's values, shape and dtype, then the gradient of every
    floating input for a random upstream gradient. Returns our outputs."""
    mine = [_to_ours(x, grad) for x in inputs]
    yours = [_to_torch(x, grad) for x in inputs]
    out, expected = _flat(ours(*mine)), _flat(theirs(*yours))
    assert len(out) == len(expected)
    for o, e in zip(out, expected):
        assert isinstance(o, Tensor), type(o)
        e = e.detach().numpy()
        assert o.shape == e.shape and o.dtype == e.dtype, (o.shape, o.dtype, e.shape, e.dtype)
        np.testing.assert_allclose(o.data, e, rtol=rtol, atol=atol, equal_nan=True)
    wanted = [(m, y) for m, y in zip(mine, yours) if isinstance(m, Tensor) and m.requires_grad]
    outputs = [(o, e) for o, e in zip(out, expected) if o.requires_grad and e.requires_grad]
    if not (grad and wanted and outputs):
        return out
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(o.shape).astype(o.dtype) for o, _ in outputs]
    found = tg.autograd.grad([o for o, _ in outputs], [m for m, _ in wanted], upstream, allow_unused=True)
    known = torch.autograd.grad(
        [e for _, e in outputs], [y for _, y in wanted], [torch.tensor(u) for u in upstream], allow_unused=True
    )
    for f, k, (m, _) in zip(found, known, wanted):
        if k is None:
            assert f is None or not np.any(f.data), "torch gives no gradient here"
            continue
        f = np.zeros(m.shape, m.dtype) if f is None else f.data
        np.testing.assert_allclose(f, k.numpy(), rtol=rtol, atol=atol, equal_nan=True)
    return out


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """The second derivative: h(x) = sum_i <dL/dx_i, w_i>, the first gradient (taken with
    create_graph=True) against random weights w, differentiated by backward and by central
    differences of h. Inputs are float64 tensors that require grad."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    rng = np.random.default_rng(seed)
    leaves = [Tensor(x.data.copy(), requires_grad=True) for x in inputs]
    outputs = [o for o in _flat(fn(*leaves)) if o.requires_grad]
    upstream = [rng.standard_normal(o.shape) for o in outputs]
    weights = [rng.standard_normal(x.shape) for x in leaves]

    def h(*xs):
        outs = [o for o in _flat(fn(*xs)) if o.requires_grad]
        grads = tg.autograd.grad(outs, xs, upstream, create_graph=True, allow_unused=True)
        total = Tensor(np.zeros(()), requires_grad=False)
        for g, w in zip(grads, weights):
            if g is not None:
                total = total + (g * w).sum()
        return total

    value = h(*leaves)
    if not value.requires_grad:  # the first gradient does not depend on the inputs: nothing second-order
        return True
    value.backward()
    for i, x in enumerate(leaves):
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        for j in range(x.data.size):
            probe = [Tensor(y.data.copy(), requires_grad=True) for y in leaves]
            probe[i].data.flat[j] += eps
            plus = h(*probe).item()
            probe = [Tensor(y.data.copy(), requires_grad=True) for y in leaves]
            probe[i].data.flat[j] -= eps
            minus = h(*probe).item()
            numeric = (plus - minus) / (2 * eps)
            got = analytic.flat[j]
            assert abs(got - numeric) <= atol + rtol * abs(numeric), (
                f"second derivative of input {i} at {j}: {got} by backward, {numeric} numerically"
            )
    return True


def check_gradients(fn, *arrays):
    """gradcheck and gradgradcheck of fn on float64 leaves made from `arrays`."""
    inputs = [leaf(a) for a in arrays]
    assert tg.gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)
