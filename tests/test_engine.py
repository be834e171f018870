"""The engine: tensors, the graph, backward, no_grad, and gradcheck itself."""

import gc
import re
import weakref

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import Function, GradcheckError, Tensor, gradcheck, no_grad


# ---- creation and dtypes ----------------------------------------------------------------------
@pytest.mark.parametrize("data", [1.5, 3, [1, 2, 3], [[1.0, 2.0]], ((0.5,),)])
def test_python_data_becomes_float32(data):
    assert Tensor(data).dtype == np.float32


def test_arrays_keep_their_dtype():
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor(np.zeros(3, np.float32)).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.int64
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor([True, False]).dtype == bool


def test_tensor_copies_its_data_and_Tensor_shares_an_arrays_memory():
    array = np.ones(3)
    shared, copied = Tensor(array), tg.tensor(array)
    array[0] = 5.0
    assert shared.data[0] == 5.0 and copied.data[0] == 1.0
    assert tg.tensor([1.0, 2]).dtype == np.float32 and tg.tensor(array, dtype=np.float32).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64 and Tensor([1, 2]).dtype == np.float32  # as torch.tensor / torch.Tensor
    assert tg.tensor(shared).data is not shared.data


@pytest.mark.parametrize(
    "op",
    [lambda t, s: t * s, lambda t, s: s - t, lambda t, s: t / s, lambda t, s: t**s, lambda t, s: tg.maximum(t, s)],
    ids=["mul", "rsub", "div", "pow", "maximum"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_scalars_act_as_python_numbers_and_keep_the_tensors_dtype(op, dtype):
    t = Tensor(np.array([1.0, 2.0], dtype), requires_grad=True)
    for scalar in (np.float64(1.5), np.float32(1.5), np.int64(2), 1.5):
        out = op(t, scalar)
        assert out.dtype == dtype, type(scalar)
        np.testing.assert_allclose(out.data, op(t.data, float(scalar)), rtol=1e-6)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients.*int64"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        Tensor(np.arange(3)).requires_grad_()


def test_array_access():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert t.numpy() is t.data
    np.testing.assert_array_equal(np.asarray(t), t.data)
    assert Tensor(2.5).item() == 2.5
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_repr_shows_values_and_grad_fn():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "Tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "Tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(Tensor([3.0])) == "Tensor([3.])"


# ---- backward ----------------------------------------------------------------------------------
def test_linear_model_gradients_match_hand_derivation(rng):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    y = (x @ w + b).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.ones((4, 2)) @ w.data.T)
    np.testing.assert_allclose(w.grad.data, x.data.T @ np.ones((4, 2)))
    np.testing.assert_allclose(b.grad.data, [4.0, 4.0])


def test_linear_model_gradients_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    xs, ws, bs = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    x, w, b = (Tensor(a.astype(np.float32), requires_grad=True) for a in (xs, ws, bs))
    tx, tw, tb = (torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (xs, ws, bs))
    ((x @ w + b).exp().sum() / 3).backward()
    ((tx @ tw + tb).exp().sum() / 3).backward()
    for ours, theirs in [(x, tx), (w, tw), (b, tb)]:
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-5)


def test_a_node_used_twice_gets_both_contributions():
    a = Tensor(3.0, requires_grad=True)
    (a * a).backward()
    assert a.grad.item() == 6.0  # not 3: both uses add up
    a, b = Tensor(1.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    s = a + b
    (s * s).backward()
    assert a.grad.item() == 8.0  # d(a+b)^2/da = 2(a+b), each node visited once


def test_diamond_graph():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    z = y.exp() + y * y + x
    z.backward()
    assert np.isclose(x.grad.item(), 3 * np.exp(6.0) + 2 * 6 * 3 + 1)


def test_gradients_accumulate_until_zeroed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_scalar_leaf_backward_from_itself_keeps_a_gradient_of_its_own(create_graph):
    # the seed 1 of a 0-d output is shared and read-only: a leaf must copy it
    x, y = Tensor(2.0, requires_grad=True), Tensor(5.0, requires_grad=True)
    x.backward(create_graph=create_graph)
    x.backward()
    y.backward()
    assert x.grad.item() == 2.0 and y.grad.item() == 1.0
    assert x.grad.data.flags.writeable and not np.shares_memory(x.grad.data, y.grad.data)


def test_grad_has_the_leaf_shape_and_dtype_and_is_its_own_array():
    a = Tensor(np.ones((2, 1), np.float32), requires_grad=True)
    b = Tensor(np.ones(3, np.float32), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.shape == (2, 1) and b.grad.shape == (3,)
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.data, [[3.0], [3.0]])
    c, d = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    (c + d).sum().backward()
    c.grad.data += 1  # must not change d's gradient
    assert d.grad.item() == 1.0


def test_non_scalar_backward_needs_a_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"needs a scalar output, got shape \(2,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\), output has shape \(2,\)"):
        y.backward(np.ones(3))


def test_non_scalar_backward_with_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(Tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 40.0])


def test_backward_of_a_leaf_keeps_a_copy_of_the_given_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    given = np.array([1.0, 2.0, 3.0])  # x's dtype: nothing to convert
    x.backward(given)
    (x * 2).sum().backward()  # adds into x.grad, which must not be the caller's array
    np.testing.assert_array_equal(given, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0, 5.0])


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_graph_is_released_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    assert y.grad_fn.inputs is None and not vars(y.grad_fn)  # saved arrays dropped
    with pytest.raises(RuntimeError, match="already released.*retain_graph=True"):
        y.backward()


def test_new_graph_on_released_parts_is_an_error_and_leaves_grads_alone():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y, z = x * 2, x * 3
    (y + z).sum().backward()  # releases y's and z's nodes
    before = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="already released"):
        (y * z).sum().backward()  # two released nodes in one backward
    np.testing.assert_array_equal(x.grad.data, before)


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_through_a_chain_100000_deep():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_dies_with_its_output():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * 2).exp()
    node = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert node() is None


# ---- no_grad, detach, requires_grad_ -------------------------------------------------------------
def test_no_grad_records_no_graph():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2 + 1
    assert y.grad_fn is None and not y.requires_grad
    assert (x * 2).requires_grad  # switched back on afterwards


def test_no_grad_as_decorator_and_nested():
    @no_grad()
    def f(t):
        return t * 2

    x = Tensor([1.0], requires_grad=True)
    assert f(x).grad_fn is None
    with no_grad():
        with no_grad():
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_only_tensors_that_need_grad_record_nodes():
    a, b = Tensor([1.0]), Tensor([2.0])
    assert (a * b).grad_fn is None
    c = Tensor([3.0], requires_grad=True)
    assert (a * c).grad_fn.needs_input_grad == (False, True)


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_requires_grad_in_place():
    x = Tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * 5).sum().backward()
    assert x.grad.item() == 5.0


# ---- user-defined ops -----------------------------------------------------------------------------
class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x**2 * grad  # deliberately wrong


def test_user_function_is_differentiable(rng):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    np.testing.assert_allclose(Cube.apply(x).data, x.data**3)
    assert gradcheck(Cube.apply, x)


def test_user_function_with_options_and_broadcast_gradient(rng):
    class ScaledAdd(Function):
        @staticmethod
        def forward(ctx, x, y, scale):
            ctx.scale = scale
            return (x + y) * scale

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.scale, grad * ctx.scale  # broadcast shape: the engine reduces it

    x, y = Tensor(rng.standard_normal((3, 4)), requires_grad=True), Tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda a, b: ScaledAdd.apply(a, b, scale=2.5), (x, y))


@pytest.mark.parametrize(
    "input_shape, gradient_shape",
    [((2,), (1,)), ((4, 3), (3, 4)), ((5, 1), (5,)), ((2, 3), (2, 2))],
    ids=["shorter", "transposed", "fewer axes", "not a broadcast"],
)
def test_a_backward_returning_a_gradient_of_the_wrong_shape_is_an_error(input_shape, gradient_shape):
    class Identity(Function):
        forward = staticmethod(lambda ctx, x: x.copy())
        backward = staticmethod(lambda ctx, grad: np.ones(gradient_shape))

    x = Tensor(np.ones(input_shape), requires_grad=True)
    message = f"Identity.backward: a gradient of shape {gradient_shape} does not fit an input of shape {input_shape}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        Identity.apply(x).backward(np.ones(input_shape))
    assert x.grad is None


# ---- gradcheck itself -----------------------------------------------------------------------------
def test_gradcheck_catches_a_wrong_backward():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    expected = r"output 0 with respect to input 0: d out\[0\] / d in\[0\] is 2 by backward, 3"
    with pytest.raises(GradcheckError, match=expected):
        gradcheck(WrongCube.apply, x)
    assert gradcheck(WrongCube.apply, x, raise_exception=False) is False


def test_gradcheck_names_the_input_and_element():
    # At 0 the wrong derivative 2x^2 agrees with 3x^2, so the first mismatch is y[1, 0], inside out[0].
    x, y = Tensor(np.ones(2), requires_grad=True), Tensor(np.array([[0.0, 0.0], [3.0, 4.0]]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1: d out\[0\] / d in\[1, 0\] is 18 by backward, 27"):
        gradcheck(lambda a, b: a * WrongCube.apply(b).sum(axis=0), (x, y))


def test_gradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="input 0 is float32.*float64"):
        gradcheck(Cube.apply, Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(Cube.apply, Tensor(np.ones(2)))


def test_gradcheck_leaves_the_callers_tensors_alone():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = Tensor(np.array([7.0, 7.0]))
    assert gradcheck(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_gradcheck_handles_tuple_outputs(rng):
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda t: (t.exp(), t * 2), x)


@pytest.mark.parametrize(
    "op, message",
    [
        (lambda: Tensor(np.ones(3)) + Tensor(np.ones(4)), r"Add: .* \(input shapes \(3,\), \(4,\)\)"),
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), r"MatMul: .* \(input shapes \(2, 3\), \(4, 5\)\)"),
        (lambda: Tensor(np.ones(6)).reshape(4, 2), r"Reshape: .* \(input shapes \(6,\)\)"),
    ],
)
def test_shape_errors_name_the_op_and_the_shapes(op, message):
    with pytest.raises(ValueError, match=message):
        op()


def test_the_package_namespace_works_like_torchs():
    import subprocess
    import sys

    code = (
        "import tinygrad_es as tg; print(tg.nn.Dense.__name__, tg.optim.SGD.__name__, "
        "tg.data.load_digits.__name__, tg.functional.relu.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Dense", "SGD", "load_digits", "relu"]
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones(2).dtype == np.float32
    assert tg.tensor([1.0, 2.0], requires_grad=True).requires_grad


# ---- Python protocols, as PyTorch ---------------------------------------------------------------------
def test_one_element_tensors_convert_to_python_values():
    assert not Tensor([0.0]) and Tensor([2.0]) and Tensor(3.0).sum() > 2
    assert float(Tensor([2.5])) == 2.5 and int(Tensor(3.0)) == 3
    np.testing.assert_array_equal(abs(Tensor([-1.0, 2.0])).data, [1.0, 2.0])
    assert Tensor([1.0]) not in [Tensor([5.0])]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_np_array_of_a_tensor_is_a_copy_and_np_asarray_shares():
    t = Tensor([1.0, 2.0])
    snapshot = np.array(t)
    snapshot[0] = 99.0
    assert t.data[0] == 1.0 and np.asarray(t) is t.data


def test_casting_to_integers_or_bools_leaves_the_graph():
    x = Tensor([1.5, 2.5], requires_grad=True)
    for dtype in (np.int64, bool):
        out = x.astype(dtype)
        assert out.dtype == dtype and not out.requires_grad and out.grad_fn is None
    assert x.astype(np.float64).requires_grad


def test_in_place_update_under_no_grad_changes_the_parameter():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    before = w
    with no_grad():
        w -= 0.5 * w.grad
        w *= 2
    assert w is before and not w.grad_fn
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_in_place_ops_outside_no_grad():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w += 1
    h = w * 2
    h += 1  # inside a graph: a new node, as h = h + 1
    h.backward()
    assert w.grad.item() == 2.0
    total = Tensor(0.0)  # needs no gradient: in place, as PyTorch
    total += Tensor([3.0]).sum()
    total /= 2
    assert total.item() == 1.5
    counts = Tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="add in place: cannot write into a tensor of shape"):
        counts += 0.5  # a float result does not go into ints (PyTorch: RuntimeError, NumPy: TypeError)


def test_a_gradient_that_hooks_have_seen_is_not_kept_as_the_leafs_grad():
    replacement = Tensor([10.0, 10.0])
    a = Tensor([1.0, 1.0], requires_grad=True)
    a.register_hook(lambda g: replacement)
    for _ in range(2):
        (a * 2).sum().backward()
    np.testing.assert_array_equal(replacement.data, [10.0, 10.0])
    np.testing.assert_array_equal(a.grad.data, [20.0, 20.0])
    seen, b = [], Tensor([1.0, 1.0], requires_grad=True)
    b.register_hook(seen.append)
    for _ in range(2):
        (b * 3).sum().backward()
    assert [s.tolist() for s in seen] == [[3.0, 3.0], [3.0, 3.0]]


def test_no_grad_works_as_a_bare_decorator():
    @no_grad
    def doubled(x):
        return x * 2

    out = doubled(Tensor([1.0], requires_grad=True))
    assert not out.requires_grad and doubled.__name__ == "doubled"


# ---- a leaf's first gradient is kept without a copy only when its op says no one else holds it
class Double(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_fresh_gradient_array_becomes_grad_without_copy():
    returned = []

    class Spy(Double):
        fresh_gradients = True

        @staticmethod
        def backward(ctx, grad):
            g = grad * 2
            returned.append(id(g))  # the id only: no reference kept
            return g

    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    Spy.apply(x).sum().backward()
    assert id(x.grad.data) == returned[0]
    np.testing.assert_array_equal(x.grad.data, [2, 2, 2])


def test_gradient_of_an_op_not_declared_fresh_is_copied():
    kept = []

    class Keeper(Double):
        @staticmethod
        def backward(ctx, grad):
            kept.append(grad * 2)
            return kept[-1]

    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    Keeper.apply(x).sum().backward()
    assert x.grad.data is not kept[0]
    x.grad.data += 1
    np.testing.assert_array_equal(kept[0], [2, 2, 2])


def test_one_gradient_array_for_two_leaves_gives_each_its_own():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    seed = np.arange(3.0)
    (a + b).backward(seed)  # Add hands the same array to both inputs
    a.grad.data += 10
    np.testing.assert_array_equal(b.grad.data, [0, 1, 2])
    np.testing.assert_array_equal(seed, [0, 1, 2])


def test_broadcast_view_gradient_is_copied_and_accumulates():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # Sum's backward is a read-only broadcast view
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_backward_order_handles_shared_subgraphs():
    # y = (a*b) used by two consumers, then combined: every node waits for all its consumers
    a = Tensor(np.array([2.0]), requires_grad=True)
    b = Tensor(np.array([3.0]), requires_grad=True)
    y = a * b
    z = (y * y + y).sum()  # dz/dy = 2y + 1 = 13
    z.backward()
    np.testing.assert_allclose(a.grad.data, [13 * 3.0])
    np.testing.assert_allclose(b.grad.data, [13 * 2.0])
