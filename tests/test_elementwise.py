"""Elementwise ops of PyTorch's surface: values, dtypes and gradients as torch's, over shapes from
0-d, broadcasting and memory layouts; gradients and second derivatives against finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_check import arrays, check_gradients, laid_out, same_as_torch, torch, values

import tinygrad_es as tg
from tinygrad_es import Tensor

positive = st.floats(0.2, 3, width=64)
inside_one = st.floats(-0.9, 0.9, width=64)
away_from_zero = st.floats(0.2, 3, width=64).flatmap(lambda v: st.sampled_from([v, -v]))

UNARY = {  # name: (domain, torch's name)
    "sin": (values, "sin"),
    "cos": (values, "cos"),
    "tan": (st.floats(-1.2, 1.2, width=64), "tan"),
    "asin": (inside_one, "asin"),
    "acos": (inside_one, "acos"),
    "atan": (values, "atan"),
    "sinh": (values, "sinh"),
    "cosh": (values, "cosh"),
    "square": (values, "square"),
    "rsqrt": (positive, "rsqrt"),
    "reciprocal": (away_from_zero, "reciprocal"),
    "log2": (positive, "log2"),
    "log10": (positive, "log10"),
    "exp2": (values, "exp2"),
    "log1p": (positive, "log1p"),
    "expm1": (values, "expm1"),
    "nan_to_num": (values, "nan_to_num"),
    "arcsin": (inside_one, "arcsin"),
    "arctan": (values, "arctan"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_unary_ops_match_torch(name, data, dtype):
    domain, theirs = UNARY[name]
    a = data.draw(arrays(elements=domain)).astype(dtype)
    same_as_torch(
        lambda x: getattr(x, name)(), lambda x: getattr(x, theirs)(), a, rtol=2e-6 if dtype == np.float32 else 1e-9
    )
    same_as_torch(getattr(tg, name), getattr(torch, theirs), a, rtol=2e-6 if dtype == np.float32 else 1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data())
def test_unary_ops_gradients_and_second_derivatives(name, data):
    a = data.draw(arrays(elements=UNARY[name][0], shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    check_gradients(getattr(tg, name), a)


@pytest.mark.filterwarnings("error")
def test_unary_ops_at_the_edges_of_their_domains_give_torchs_values_without_warnings():
    a = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e4, -1e4], np.float32)
    for name in [
        "rsqrt",
        "reciprocal",
        "log2",
        "log10",
        "exp2",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tan",
        "square",
        "sin",
    ]:
        same_as_torch(lambda x, name=name: getattr(x, name)(), lambda x, name=name: getattr(x, name)(), a, rtol=1e-6)


def test_integer_and_boolean_inputs_give_float32_as_torch():
    for data in [np.array([1, 2, 3]), np.array([True, False])]:
        for name in ["sin", "cos", "rsqrt", "reciprocal", "log2", "exp2", "atan", "sinh"]:
            same_as_torch(
                lambda x, name=name: getattr(x, name)(), lambda x, name=name: getattr(x, name)(), data, rtol=1e-6
            )
    assert tg.tensor([1, 2]).square().dtype == np.int64  # as torch: square keeps integers


@given(data=st.data())
def test_nan_to_num_replaces_nan_and_infinities_and_passes_the_gradient_where_finite(data):
    a = data.draw(arrays(elements=st.sampled_from([np.nan, np.inf, -np.inf, 0.5, -2.0])))
    options = data.draw(st.sampled_from([{}, {"nan": 1.5}, {"posinf": 9.0, "neginf": -9.0}]))
    same_as_torch(lambda x: x.nan_to_num(**options), lambda x: x.nan_to_num(**options), a)
    same_as_torch(lambda x: x.nan_to_num(**options), lambda x: x.nan_to_num(**options), a.astype(np.float32))


@st.composite
def broadcast_pair(draw, first=values, second=values):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    a, b = (draw(hnp.arrays(np.float64, s, elements=e)) for s, e in zip(shapes.input_shapes, (first, second)))
    return draw(laid_out(a)), draw(laid_out(b))


BINARY = {  # name: (domain of the first, of the second, torch's function)
    "atan2": (values, away_from_zero, torch.atan2),
    "fmod": (values, away_from_zero, torch.fmod),
    "remainder": (values, away_from_zero, torch.remainder),
    "clamp_min": (values, values, torch.clamp_min),
    "clamp_max": (values, values, torch.clamp_max),
    "pow": (positive, values, torch.pow),
    "maximum": (values, values, torch.maximum),
    "minimum": (values, values, torch.minimum),
}


def _no_kink(name, a, b):
    """Inputs away from each op's kinks (ties, jumps), for gradcheck."""
    if name in ("clamp_min", "clamp_max", "maximum", "minimum"):
        return np.all(np.abs(a - b) > 1e-3)
    if name == "pow":  # where p = 0 the gradient is 0 by definition (as PyTorch), not by the formula
        return np.all(np.abs(b) > 1e-3)
    if name == "atan2":  # the branch cut: y = 0, x < 0
        return np.all((np.abs(a) > 1e-3) | (b > 0))
    if name in ("fmod", "remainder"):
        ratio = a / b
        return np.all(np.abs(ratio - np.round(ratio)) > 1e-3)
    return True


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_ops_broadcast_as_torch(name, data):
    first, second, theirs = BINARY[name]
    a, b = data.draw(broadcast_pair(first, second))
    same_as_torch(getattr(tg, name), theirs, a, b)
    if name not in ("fmod", "remainder") or _no_kink(name, a, b):  # at a jump, float32's rounding picks the side
        same_as_torch(
            lambda x, y: getattr(x, name)(y), theirs, a.astype(np.float32), b.astype(np.float32), rtol=1e-5, atol=1e-6
        )
    if _no_kink(name, a, b):
        check_gradients(getattr(tg, name), a, b)


def test_clamp_min_and_max_take_numbers_and_pass_the_gradient_at_the_bound_as_torch():
    a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    same_as_torch(lambda x: x.clamp_min(-1.0).clamp_max(1.0), lambda x: x.clamp_min(-1.0).clamp_max(1.0), a)
    same_as_torch(lambda x: x.clamp(min=-1, max=1), lambda x: x.clamp(min=-1, max=1), a)


def test_clamp_without_bounds_is_an_error_as_torch():
    with pytest.raises(RuntimeError, match="at least one of min and max"):
        tg.zeros(2).clamp()


def test_atan2_at_the_origin_has_a_zero_gradient_as_torch():
    same_as_torch(tg.atan2, torch.atan2, np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]))


@given(data=st.data(), weight_is_tensor=st.booleans())
def test_lerp_matches_torch_and_is_exact_at_its_ends(data, weight_is_tensor):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
    start, end, weight = (data.draw(hnp.arrays(np.float64, s, elements=values)) for s in shapes.input_shapes)
    if weight_is_tensor:
        same_as_torch(tg.lerp, torch.lerp, start, end, weight)
        check_gradients(tg.lerp, start, end, weight)
    else:
        for w in (0.0, 0.3, 0.5, 1.0, 1.7):
            same_as_torch(lambda s, e, w=w: s.lerp(e, w), lambda s, e, w=w: s.lerp(e, w), start, end)
    assert np.array_equal(
        tg.lerp(tg.tensor(start), tg.tensor(end), 1.0).data,
        np.broadcast_to(end, np.broadcast_shapes(start.shape, end.shape)),
    )


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
@given(data=st.data())
def test_rounding_matches_torch_with_half_way_ties_and_a_zero_gradient(name, data):
    a = data.draw(arrays(elements=st.sampled_from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.2, 0.7, 3.0, -0.0])))
    out = same_as_torch(getattr(tg, name), getattr(torch, name), a)
    assert out[0].requires_grad  # as in PyTorch: in the graph, with a gradient of 0
    same_as_torch(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a.astype(np.int64))


def test_round_takes_decimals_as_torch():
    a = np.array([1.2345, -2.5551, 0.125])
    same_as_torch(lambda x: x.round(decimals=2), lambda x: x.round(decimals=2), a)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
@given(data=st.data())
def test_predicates_are_boolean_tensors_without_gradient(name, data):
    a = data.draw(arrays(elements=st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.5])))
    (out,) = same_as_torch(getattr(tg, name), getattr(torch, name), a)
    assert out.dtype == bool and not out.requires_grad


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge"])
@given(data=st.data())
def test_comparisons_and_logical_ops_broadcast_to_boolean_tensors(name, data):
    a, b = data.draw(broadcast_pair(st.sampled_from([0.0, 1.0, 2.0]), st.sampled_from([0.0, 1.0, 2.0])))
    (out,) = same_as_torch(getattr(tg, name), getattr(torch, name), a, b)
    assert out.dtype == bool and not out.requires_grad
    same_as_torch(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b)


def test_where_as_a_method_and_with_the_condition_alone():
    a, b = np.array([[1.0, -2.0], [3.0, -4.0]]), np.array([10.0, 20.0])
    same_as_torch(lambda x, y: x.where(x > 0, y), lambda x, y: x.where(x > 0, y), a, b)
    rows, cols = tg.where(tg.tensor(a) > 0)
    expected = torch.where(torch.tensor(a) > 0)
    assert rows.tolist() == expected[0].tolist() and cols.tolist() == expected[1].tolist()
    assert rows.dtype == np.int64


def test_pow_as_a_method_and_a_function_with_tensor_exponents():
    a, p = np.array([0.5, 1.5, 2.0]), np.array([2.0, -1.0, 0.5])
    same_as_torch(lambda x, y: x.pow(y), lambda x, y: x.pow(y), a, p)
    same_as_torch(lambda x: tg.pow(x, 3), lambda x: torch.pow(x, 3), a)
    same_as_torch(lambda x: tg.pow(2.0, x), lambda x: torch.pow(2.0, x), a)


def test_unary_functions_run_as_numpy_functions_on_tensors():
    x = tg.tensor([0.5, 1.0], dtype=np.float64, requires_grad=True)
    out = np.sin(x) + np.log2(x) + np.arctan2(x, x + 1) + np.floor(x) + np.square(x)
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    expected = np.cos(x.data) + 1 / (x.data * np.log(2)) + 1 / (x.data**2 + (x.data + 1) ** 2) + 2 * x.data
    np.testing.assert_allclose(x.grad.data, expected)
