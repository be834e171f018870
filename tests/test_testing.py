"""tinygrad_es.testing: assert_close as torch.testing's, check_gradients and check_module in float64,
and the hypothesis strategies (which need hypothesis only when used)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_higher_order import CubeSavingItsSlope  # right to first order only

import tinygrad_es as tg
from tinygrad_es import GradcheckError, Tensor, nn
from tinygrad_es import activations as A
from tinygrad_es.testing import (
    LAYOUTS,
    assert_close,
    broadcastable_shapes,
    check_gradients,
    check_module,
    floats,
    hitting,
    shapes,
    tensors,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- assert_close ------------------------------------------------------------------------------------
def test_assert_close_defaults_follow_the_dtype():
    assert_close(np.float32([1.0]), np.float32([1.0 + 1e-6]))  # within float32's rtol 1.3e-6
    with pytest.raises(AssertionError):
        assert_close(np.float64([1.0]), np.float64([1.0 + 1e-6]))  # float64: rtol 1e-7
    assert_close(Tensor([1.0, 2.0]), Tensor([1.0, 2.0 + 2e-6]))
    assert_close(np.arange(3), np.arange(3))
    with pytest.raises(AssertionError):
        assert_close(np.array([1, 2]), np.array([1, 3]))  # integers: exact
    assert_close(1.0, 1.0 + 1e-8)  # a Python float is float64
    assert_close(np.float64([1.0]), np.float64([1.5]), rtol=0.5, atol=0.0)


def test_assert_close_message_names_the_worst_element():
    actual = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    expected = actual.copy()
    expected[1, 2] = 6.5
    expected[0, 0] = 1.1
    with pytest.raises(AssertionError) as error:
        assert_close(actual, expected)
    message = str(error.value)
    assert "Mismatched elements: 2 / 6 (33.3%)" in message
    assert "Greatest absolute difference: 0.5 at index (1, 2) (up to 1e-07 allowed)" in message
    assert "Greatest relative difference: 0.0909" in message and "at index (0, 0) (up to 1e-07 allowed)" in message


def test_assert_close_checks_shape_dtype_nan_and_its_arguments():
    with pytest.raises(AssertionError, match=r"'shape' do not match: \(2,\) != \(1, 2\)"):
        assert_close(np.zeros(2), np.zeros((1, 2)))
    with pytest.raises(AssertionError, match="'dtype' do not match: float32 != float64"):
        assert_close(np.zeros(2, np.float32), np.zeros(2))
    assert_close(np.zeros(2, np.float32), np.zeros(2), check_dtype=False)
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    assert_close(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), equal_nan=True)
    with pytest.raises(AssertionError):
        assert_close(np.array([np.inf]), np.array([-np.inf]))
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        assert_close(1.0, 1.0, rtol=1e-3)
    with pytest.raises(AssertionError, match="^my message"):
        assert_close(1.0, 2.0, msg="my message")


@settings(max_examples=40)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    values=st.lists(floats(-10, 10), min_size=1, max_size=5),
    scale=st.sampled_from([0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-3]),
    nan=st.booleans(),
)
def test_assert_close_decides_as_torch_testing_does(dtype, values, scale, nan):
    torch = pytest.importorskip("torch")
    expected = np.array(values, dtype)
    actual = (expected * (1 + scale) + scale).astype(dtype)
    if nan:
        actual[0] = expected[0] = np.nan
    outcomes = []
    for check in (assert_close, torch.testing.assert_close):
        a, e = (actual, expected) if check is assert_close else (torch.tensor(actual), torch.tensor(expected))
        try:
            check(a, e, equal_nan=nan)
            outcomes.append(True)
        except AssertionError:
            outcomes.append(False)
    assert outcomes[0] == outcomes[1]


# ---- check_gradients and check_module ------------------------------------------------------------------
def test_check_gradients_works_in_float64_whatever_the_dtype():
    x = Tensor(np.array([0.3, -1.2, 2.0], np.float32), requires_grad=True)
    assert check_gradients(A.softplus, x, order=2)
    assert x.dtype == np.float32 and x.grad is None  # the caller's tensor is untouched
    assert check_gradients(lambda a, b: a * b, np.array([1.0, 2.0]), Tensor([3.0, -1.0]))  # arrays too


def test_check_gradients_order_2_catches_a_wrong_second_derivative():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    assert check_gradients(CubeSavingItsSlope.apply, x)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        check_gradients(CubeSavingItsSlope.apply, x, order=2)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        check_gradients(A.tanh, x, order=3)


def test_check_gradients_checks_the_inputs_that_require_grad_and_passes_the_rest():
    x, y = Tensor(np.array([0.5, 1.0]), requires_grad=True), Tensor(np.array([2.0, 3.0]))
    rows = np.array([1, 0])

    def fn(x, y, rows):
        return (x * y)[rows]

    assert check_gradients(fn, x, y, rows, order=2)  # y stays a constant, rows an index


def test_check_module_checks_inputs_and_parameters_and_leaves_the_module_alone():
    layer = nn.Dense(3, 2, activation="tanh", generator=np.random.default_rng(0))
    before = {name: p.copy() for name, p in layer.state_dict().items()}
    parameters = list(layer.parameters())
    assert check_module(layer, np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32), order=2)
    assert list(layer.parameters()) == parameters and layer.weight is parameters[0]
    for name, value in layer.state_dict().items():
        assert value.dtype == np.float32 and np.array_equal(value, before[name])
        assert getattr(layer, name).grad is None


class Wrong(nn.Module):
    """A layer whose slope parameter gets a wrong gradient (the cube's, right only to first order)."""

    def __init__(self):
        super().__init__()
        self.slope = nn.Parameter(np.array([0.7, -0.4]))

    def forward(self, x):
        return x * CubeSavingItsSlope.apply(self.slope)


def test_check_module_finds_a_parameters_wrong_second_derivative_and_handles_shared_ones():
    x = Tensor(np.array([[1.0, 2.0], [0.5, -1.0]]))
    assert check_module(Wrong(), x)
    with pytest.raises(GradcheckError, match="with respect to input 1"):  # input 1: the parameter
        check_module(Wrong(), x, order=2)
    shared = nn.Dense(2, 2, generator=np.random.default_rng(2))
    model = nn.Sequential(shared, nn.Tanh(), shared)  # one layer used twice: its parameters get both shares
    assert check_module(model, x, order=2)


# ---- strategies -------------------------------------------------------------------------------------------
@settings(max_examples=60)
@given(shape=shapes(), data=st.data())
def test_shapes_and_broadcastable_shapes(shape, data):
    assert 0 <= len(shape) <= 3 and all(1 <= n <= 4 for n in shape)
    other = data.draw(broadcastable_shapes(shape))
    assert np.broadcast_shapes(shape, other) is not None


def test_shapes_start_at_0d_and_can_be_empty():
    seen = set()

    @settings(max_examples=100)
    @given(shapes(min_side=0))
    def collect(shape):
        seen.add(len(shape) if np.prod(shape) else "empty")

    collect()
    assert {0, 1, 2, 3, "empty"} <= seen


def test_tensors_draw_every_memory_layout_with_the_same_values():
    layouts = set()

    @settings(max_examples=80)
    @given(tensors(shapes(2, 2, min_side=2), dtype=np.float32, layouts=LAYOUTS, requires_grad=True))
    def collect(t):
        a = t.data
        assert t.requires_grad and t.dtype == np.float32
        layouts.add(
            "C"
            if a.flags.c_contiguous
            else "F"
            if a.flags.f_contiguous and a.base is None
            else "transposed"
            if a.flags.f_contiguous
            else "strided"
        )

    collect()
    assert layouts == set(LAYOUTS)


@settings(max_examples=60)
@given(x=st.one_of(floats(-2, 2, avoid=[0, 1], margin=0.1)))
def test_floats_keep_away_from_the_points_to_avoid(x):
    assert -2 <= x <= 2 and abs(x) >= 0.1 and abs(x - 1) >= 0.1


def test_hitting_gives_the_points_themselves():
    seen = set()

    @settings(max_examples=60)
    @given(hitting([0.0, 6.0], -10, 10))
    def collect(x):
        seen.add(x)

    collect()
    assert {0.0, 6.0} <= seen


def test_importing_the_package_and_assert_close_need_no_hypothesis():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import tinygrad_es, tinygrad_es.testing as t\n"
        "t.assert_close(tinygrad_es.Tensor([1.0]), tinygrad_es.Tensor([1.0]))\n"
        "try:\n    t.shapes()\nexcept ImportError as e:\n    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the strategies of tinygrad_es.testing need hypothesis: pip install hypothesis\n"
    assert tg.testing.assert_close is assert_close
