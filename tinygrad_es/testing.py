"""Tools for testing gradients, yours and ours: `assert_close`, `check_gradients` and `check_module`,
and hypothesis strategies for tensors, shapes and values.

    from tinygrad_es.testing import check_gradients, floats, tensors

    @given(tensors(shapes(), elements=floats(-3, 3, avoid=[0])))
    def test_my_op(x):
        check_gradients(my_op, x, order=2)      # first and second derivatives, in float64

The checks compute in float64 whatever the dtype given, where central differences are accurate.
The strategies need hypothesis (a development dependency): it is imported when one is first used,
so the rest of this module, and tinygrad_es, work without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .engine import Tensor
from .gradcheck import gradcheck, gradgradcheck

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

# torch.testing.assert_close's default (rtol, atol) by dtype; integers and booleans compare exactly
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}
LAYOUTS = ("C", "F", "transposed", "strided")  # the memory layouts `tensors` can draw


def assert_close(
    actual: Tensor | npt.ArrayLike,
    expected: Tensor | npt.ArrayLike,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_dtype: bool = True,
    msg: str | None = None,
) -> None:
    """Raise AssertionError unless every |actual - expected| <= atol + rtol |expected|, as
    torch.testing.assert_close: the shapes must be equal (nothing is broadcast), the dtypes too
    unless `check_dtype=False`, and nan equals nan only with `equal_nan`. Without rtol and atol the
    defaults follow the dtype (float32: 1.3e-6 and 1e-5, float64: 1e-7 and 1e-7, float16: 1e-3 and
    1e-5, integers and booleans: exact), the looser of the two dtypes. Tensors, arrays, numbers and
    lists are all accepted (a Python float is float64). The message counts the mismatches and names
    the worst element, by absolute and by relative difference."""
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got rtol={rtol} and atol={atol}."
        )
    actual, expected = (np.asarray(x.data if isinstance(x, Tensor) else x) for x in (actual, expected))
    if actual.shape != expected.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    if rtol is None:
        rtol, atol = (max(pair) for pair in zip(*(_TOLERANCES.get(x.dtype, (0.0, 0.0)) for x in (actual, expected))))
    common = np.result_type(actual.dtype, expected.dtype, np.float64)
    a, e = actual.astype(common), expected.astype(common)
    with np.errstate(all="ignore"):
        difference = np.abs(a - e)
        close = (a == e) | (np.isfinite(e) & (difference <= atol + rtol * np.abs(e)))  # infinities: only equal ones
        if equal_nan:
            close |= np.isnan(a) & np.isnan(e)
        if close.all():
            return
        relative = difference / np.abs(e)
    raise AssertionError(_mismatch_message(close, difference, relative, rtol, atol, msg))


def _mismatch_message(close, difference, relative, rtol, atol, msg):
    bad = ~close
    lines = [
        "Tensor-likes are not close!" if msg is None else msg,
        "",
        f"Mismatched elements: {bad.sum()} / {bad.size} ({100 * bad.mean():.1f}%)",
    ]
    for name, values, allowed in (("absolute", difference, atol), ("relative", relative, rtol)):
        worst = np.where(bad, np.nan_to_num(values, nan=np.inf), -1)  # a nan difference counts as the worst
        index = np.unravel_index(np.argmax(worst), worst.shape)
        lines.append(
            f"Greatest {name} difference: {values[index]} at index {tuple(map(int, index))} (up to {allowed} allowed)"
        )
    return "\n".join(lines)


# ---- gradient checks ------------------------------------------------------------------------------
def check_gradients(
    fn: Callable[..., Any],
    *inputs: Any,
    order: int = 1,
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check the derivatives of `fn(*inputs)` against finite differences: order=1 runs gradcheck,
    order=2 gradcheck and gradgradcheck (second derivatives). The floating inputs are copied to
    float64 whatever their dtype; those that require grad are checked, or every floating one when
    none does. `fn` may return a tensor or a tuple of tensors. Returns True, or raises
    GradcheckError naming the output, the input, the element and both values."""
    if order not in (1, 2):
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order}")
    inputs = _in_float64(inputs)
    gradcheck(fn, inputs, eps, atol, rtol)
    if order == 2:
        gradgradcheck(fn, inputs, grad_outputs, eps, atol, rtol)
    return True


def _in_float64(inputs):
    floating = [_is_floating(x) for x in inputs]
    chosen = [f and isinstance(x, Tensor) and x.requires_grad for f, x in zip(floating, inputs)]
    if not any(chosen):
        chosen = floating
    return tuple(_float64(x, c) if f else x for x, f, c in zip(inputs, floating, chosen))


def _is_floating(x):
    return isinstance(x, (Tensor, np.ndarray)) and _array(x).dtype.kind == "f"


def _float64(x, requires_grad):
    """A float64 copy of a tensor or an array, as a leaf."""
    return Tensor(np.array(_array(x), np.float64), requires_grad=requires_grad)


def _array(x):
    return x.data if isinstance(x, Tensor) else x


def check_module(
    module: Any, *inputs: Any, order: int = 1, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """check_gradients for a layer or a model: the derivatives of `module(*inputs)` with respect to
    its floating inputs and to each parameter that requires grad, in float64 (the module's own
    parameters are left as they were). The module runs in its current mode: call `.eval()` first if
    it draws random numbers (dropout), or fix its generator."""
    # id(parameter) -> (parameter, every (module, attribute name) that holds it)
    owners: dict[int, tuple[Tensor, list[tuple[Any, str]]]] = {}
    for _, owner in module.named_modules(remove_duplicate=False):
        for name, p in owner._parameters.items():
            if p.requires_grad:
                places = owners.setdefault(id(p), (p, []))[1]
                if (owner, name) not in places:  # a module reached twice
                    places.append((owner, name))
    n = len(inputs)

    def call(*args):
        for (_, places), value in zip(owners.values(), args[n:]):
            for owner, name in places:
                object.__setattr__(owner, name, value)  # not registered: the module's parameters stay its own
        try:
            return module(*args[:n])
        finally:
            for p, places in owners.values():
                for owner, name in places:
                    object.__setattr__(owner, name, p)

    values = [_float64(x, True) if _is_floating(x) else x for x in inputs]
    values += [_float64(p, True) for p, _ in owners.values()]
    return check_gradients(call, *values, order=order, eps=eps, atol=atol, rtol=rtol)


# ---- hypothesis strategies ------------------------------------------------------------------------
def _hypothesis():
    try:
        import hypothesis.extra.numpy as hnp
        import hypothesis.strategies as st
    except ImportError as error:
        raise ImportError("the strategies of tinygrad_es.testing need hypothesis: pip install hypothesis") from error
    return st, hnp


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> SearchStrategy[tuple[int, ...]]:
    """Array shapes, from 0-d (a scalar) up; min_side=0 adds empty tensors."""
    _, hnp = _hypothesis()
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    shape: tuple[int, ...], min_dims: int = 0, max_dims: int | None = None, min_side: int = 1, max_side: int = 4
) -> SearchStrategy[tuple[int, ...]]:
    """Shapes that broadcast with `shape` (fewer axes, or axes of length 1, or more leading ones)."""
    _, hnp = _hypothesis()
    max_dims = max(len(shape), 1) + 1 if max_dims is None else max_dims
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def floats(
    min_value: float = -4.0, max_value: float = 4.0, avoid: Sequence[float] = (), margin: float = 0.01, width: int = 64
) -> SearchStrategy[float]:
    """Finite floats in [min_value, max_value], at least `margin` away from every point of `avoid`
    (an op's kinks, where its derivative jumps and finite differences mean nothing)."""
    st, _ = _hypothesis()
    values = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    if not avoid:
        return values
    points = np.asarray(avoid, np.float64)
    return values.filter(lambda x: bool(np.all(np.abs(x - points) >= margin)))


def hitting(
    points: Sequence[float], min_value: float = -4.0, max_value: float = 4.0, width: int = 64
) -> SearchStrategy[float]:
    """Floats in [min_value, max_value] that are often exactly one of `points` (an op's kinks, ties,
    the edges of its domain): to test what the op does there."""
    st, _ = _hypothesis()
    return st.one_of(
        st.sampled_from([float(p) for p in points]),
        st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width),
    )


def tensors(
    shape: Sequence[int] | SearchStrategy[tuple[int, ...]] | None = None,
    dtype: npt.DTypeLike = np.float64,
    elements: SearchStrategy[Any] | None = None,
    requires_grad: bool = False,
    layouts: Sequence[str] = ("C",),
) -> SearchStrategy[Tensor]:
    """Tensors of `shape` (a tuple, or a strategy such as `shapes()`; default shapes()) and `dtype`,
    with values from `elements` (default: floats in [-4, 4], integers, or booleans, by dtype).
    `layouts` are the memory layouts drawn from: "C", "F" (Fortran), "transposed" (the transpose of
    a C array) and "strided" (every other element of a larger array); LAYOUTS holds all four."""
    st, hnp = _hypothesis()
    dtype = np.dtype(dtype)
    if elements is None and dtype.kind == "f":
        elements = floats(width=8 * dtype.itemsize)
    shape = shapes() if shape is None else shape
    arrays = hnp.arrays(dtype, shape if not isinstance(shape, (tuple, list)) else tuple(shape), elements=elements)
    return st.tuples(arrays, st.sampled_from(tuple(layouts))).map(
        lambda pair: Tensor(_in_layout(*pair), requires_grad=requires_grad)
    )


def _in_layout(array, layout):
    """The same values in another memory layout."""
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "transposed":
        return np.ascontiguousarray(array.T).T
    if layout == "strided":
        wider = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype) if array.ndim else None
        if wider is None:
            return array.copy()
        wider[..., ::2] = array
        return wider[..., ::2]
    return np.ascontiguousarray(array)
