import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn
from tinygrad_es.nn import init


# ---- Dense ------------------------------------------------------------------------------------------
def test_dense_computes_x_wT_plus_b_in_one_node(rng):
    layer = nn.Dense(4, 3, generator=rng)
    x = tg.Tensor(rng.standard_normal((5, 4)).astype(np.float32))
    out = layer(x)
    np.testing.assert_allclose(out.data, x.data @ layer.weight.data.T + layer.bias.data, rtol=1e-6)
    assert repr(out).endswith("grad_fn=<LinearBackward>)")


def test_dense_parameters_have_pytorch_shapes_and_float32_by_default():
    layer = nn.Dense(64, 32)
    assert layer.weight.shape == (32, 64) and layer.bias.shape == (32,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Dense(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_dense_without_bias_has_one_parameter():
    layer = nn.Dense(3, 2, bias=False)
    assert layer.bias is None and len(list(layer.parameters())) == 1
    x = tg.Tensor(np.ones((1, 3), np.float32))
    np.testing.assert_allclose(layer(x).data, layer.weight.data.sum(axis=1, keepdims=True).T, rtol=1e-6)


def test_linear_is_dense():
    assert nn.Linear is nn.Dense


def test_dense_gradients_match_finite_differences(rng):
    layer = nn.Dense(3, 2, dtype=np.float64, generator=rng)
    x = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: tg.fused.linear(x, w, b).tanh(), (x, layer.weight, layer.bias))


def test_dense_default_init_is_pytorch_uniform_for_weight_and_bias():
    layer = nn.Dense(100, 200, generator=np.random.default_rng(0))
    bound = 1 / math.sqrt(100)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound  # uses the whole interval
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_named_init_zeroes_the_bias_and_bias_init_overrides():
    layer = nn.Dense(50, 40, init="he_normal", generator=np.random.default_rng(0))
    assert np.all(layer.bias.data == 0)
    assert abs(layer.weight.data.std() - math.sqrt(2 / 50)) < 0.1 * math.sqrt(2 / 50)
    layer = nn.Dense(50, 40, init="xavier_paper", bias_init="gaussian", generator=np.random.default_rng(0))
    assert abs(layer.bias.data.std() - 1) < 0.3


def test_paper_xavier_reproduces_standard_normal_over_sqrt_fan_in():
    layer = nn.Dense(64, 32, init="xavier_paper", bias_init="gaussian", generator=np.random.default_rng(1))
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((32, 64)) / math.sqrt(64)
    bias = rng.standard_normal(32)
    np.testing.assert_allclose(layer.weight.data, weight.astype(np.float32))
    np.testing.assert_allclose(layer.bias.data, bias.astype(np.float32))


def test_dense_accepts_a_callable_init():
    def halves(weight, generator=None):
        weight.data[...] = 0.5
        return weight

    assert np.all(nn.Dense(3, 2, init=halves).weight.data == 0.5)


def test_dense_same_generator_seed_gives_same_weights():
    a = nn.Dense(8, 4, generator=np.random.default_rng(7))
    b = nn.Dense(8, 4, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    tg.manual_seed(3)
    c = nn.Dense(8, 4)
    tg.manual_seed(3)
    np.testing.assert_array_equal(c.weight.data, nn.Dense(8, 4).weight.data)


def test_dense_wrong_input_width_names_layer_and_shape():
    with pytest.raises(ValueError, match=r"Dense: expected input with 4 features.*\(2, 3\)"):
        nn.Dense(4, 2)(tg.Tensor(np.ones((2, 3), np.float32)))


def test_unknown_init_name_is_an_error():
    with pytest.raises(ValueError, match="unknown initializer 'glorious'"):
        nn.Dense(3, 2, init="glorious")


def test_dense_repr():
    assert repr(nn.Dense(64, 32)) == "Dense(in_features=64, out_features=32, bias=True)"


def test_dense_weights_move_to_and_from_torch(rng):
    torch = pytest.importorskip("torch")
    ours = nn.Dense(5, 3, generator=rng)
    theirs = torch.nn.Linear(5, 3)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5)


# ---- Sequential, Flatten --------------------------------------------------------------------------------
def test_sequential_chains_and_names_children_by_position(rng):
    model = nn.Sequential(nn.Dense(4, 3, generator=rng), nn.Dense(3, 2, generator=rng))
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(model) == 2 and model[1] is list(model)[1]
    assert isinstance(model[:1], nn.Sequential) and len(model[:1]) == 1
    x = tg.Tensor(rng.standard_normal((2, 4)).astype(np.float32))
    np.testing.assert_allclose(model(x).data, model[1](model[0](x)).data)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential: argument 1 is a function"):
        nn.Sequential(nn.Dense(2, 2), lambda x: x)


def test_sequential_slice_keeps_the_children_names_as_pytorch(rng):
    model = nn.Sequential(nn.Dense(4, 3, generator=rng), nn.Tanh(), nn.Dense(3, 2, generator=rng))
    tail = model[1:]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]  # the original's keys
    assert len(tail) == 2 and tail[0] is model[1] and tail[-1] is model[2]
    x = tg.Tensor(rng.standard_normal((2, 3)).astype(np.float32))
    np.testing.assert_allclose(tail(x).data, model[2](model[1](x)).data)
    tail.load_state_dict({k: v for k, v in model.state_dict().items() if k.startswith("2.")})


@given(st.data())
def test_sequential_slice_runs_its_children_in_slice_order_and_append_numbers_past_them(data):
    n = data.draw(st.integers(0, 5))
    index = data.draw(st.slices(n))
    model = nn.Sequential(*[nn.Dense(2, 2, generator=np.random.default_rng(i)) for i in range(n)])
    part = model[index]
    assert [name for name, _ in part.named_children()] == [str(i) for i in range(n)][index]
    assert list(part) == list(model)[index]
    x = tg.Tensor(np.ones((1, 2), np.float32))
    expected = x
    for layer in list(model)[index]:
        expected = layer(expected)
    np.testing.assert_array_equal(part(x).data, expected.data)
    extra = nn.Tanh()
    part.append(extra)  # a new name: never replaces a child the slice kept
    assert list(part) == list(model)[index] + [extra]


def test_flatten_merges_trailing_axes_and_passes_gradient():
    x = tg.Tensor(np.arange(24, dtype=np.float64).reshape(2, 3, 4), requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (2, 12)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3, 4)))


# ---- Module: traversal of shared children, apply, requires_grad_, zero_grad ---------------------------
def _shared_model():
    """Sequential(d, Sequential(d, Dropout), d): one Dense reached by three paths."""
    d = nn.Dense(2, 2, generator=np.random.default_rng(0))
    return nn.Sequential(d, nn.Sequential(d, nn.Dropout(0.5)), d), d


def test_named_modules_lists_a_shared_child_once_under_its_first_name():
    d = nn.Dense(2, 2)
    twice = nn.Sequential(d, d)
    assert [name for name, _ in twice.named_modules()] == ["", "0"]
    assert list(twice.modules()) == [twice, d]
    model, _ = _shared_model()
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "1.1"]
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "1.0", "1.1", "2"]
    assert [name for name, _ in model.named_modules("net")] == ["net", "net.0", "net.1", "net.1.1"]


def test_children_lists_a_child_registered_under_two_names_once():
    d = nn.Dense(2, 2)
    twice = nn.Sequential(d, d)
    assert [name for name, _ in twice.named_children()] == ["0"] and list(twice.children()) == [d]
    assert list(twice) == [d, d] and len(twice) == 2  # Sequential still runs it twice


def test_shared_child_parameters_come_once_but_state_dict_lists_every_name():
    model, d = _shared_model()
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert list(model.parameters()) == [d.weight, d.bias]
    every = ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "2.weight", "2.bias"]
    assert [name for name, _ in model.named_parameters(remove_duplicate=False)] == every
    state = model.state_dict()
    assert list(state) == every
    state = {k: v + 1 for k, v in state.items()}
    model.load_state_dict(state)
    np.testing.assert_array_equal(d.weight.data, state["1.0.weight"])


def test_train_and_eval_reach_every_module_of_a_model_with_a_shared_child():
    model, _ = _shared_model()
    model.eval()
    assert not any(m.training for _, m in model.named_modules(remove_duplicate=False))
    model.train()
    assert all(m.training for _, m in model.named_modules(remove_duplicate=False))


def test_shared_child_traversal_matches_torch():
    torch = pytest.importorskip("torch")
    ours, _ = _shared_model()
    lin = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(lin, torch.nn.Sequential(lin, torch.nn.Dropout(0.5)), lin)

    def names(pairs):
        return [name for name, _ in pairs]

    for dedup in (True, False):
        assert names(ours.named_modules(remove_duplicate=dedup)) == names(theirs.named_modules(remove_duplicate=dedup))
        assert names(ours.named_parameters(remove_duplicate=dedup)) == names(
            theirs.named_parameters(remove_duplicate=dedup)
        )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert names(ours.named_children()) == names(theirs.named_children())


def test_apply_calls_fn_on_children_first_then_self_and_returns_self():
    model, d = _shared_model()
    seen = []
    assert model.apply(seen.append) is model
    inner = model[1]
    # children first; within one parent a child under two names comes once, under two parents twice
    assert seen == [d, d, inner[1], inner, model]


def test_apply_order_matches_torch():
    torch = pytest.importorskip("torch")
    ours, _ = _shared_model()
    lin = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(lin, torch.nn.Sequential(lin, torch.nn.Dropout(0.5)), lin)
    names = {torch.nn.Linear: "Dense", torch.nn.Sequential: "Sequential", torch.nn.Dropout: "Dropout"}
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(names[type(m)]))
    assert seen_ours == seen_theirs


def test_apply_can_initialize_every_dense_layer():
    model = nn.Sequential(nn.Dense(3, 2), nn.Tanh(), nn.Dense(2, 1))

    def init_weights(m):
        if isinstance(m, nn.Dense):
            init.ones(m.weight)
            init.zeros(m.bias)

    model.apply(init_weights)
    np.testing.assert_allclose(model(tg.Tensor(np.ones((1, 3), np.float32))).data, [[2 * math.tanh(3)]], rtol=1e-6)


def test_requires_grad_false_freezes_every_parameter_and_returns_self():
    model = nn.Sequential(nn.Dense(3, 2, activation="prelu"), nn.Dense(2, 1))
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    x = tg.Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in model.parameters())
    assert model.requires_grad_() is model and all(p.requires_grad for p in model.parameters())


def test_requires_grad_false_on_a_submodule_freezes_only_it():
    model = nn.Sequential(nn.Dense(3, 2), nn.Dense(2, 1))
    model[0].requires_grad_(False)
    model(tg.Tensor(np.ones((4, 3), np.float32))).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[1].weight.grad is not None and model[1].bias.grad is not None


def test_zero_grad_sets_gradients_to_none_by_default():
    model = nn.Sequential(nn.Dense(3, 2), nn.Dense(2, 1))
    model(tg.Tensor(np.ones((4, 3), np.float32))).sum().backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_set_to_none_false_zeroes_the_existing_gradients_in_place():
    model = nn.Sequential(nn.Dense(3, 2), nn.Dense(2, 1))
    model[1].requires_grad_(False)
    x = tg.Tensor(np.ones((4, 3), np.float32))
    model(x).sum().backward()
    grad = model[0].weight.grad
    array = grad.data
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and grad.data is array  # same tensor, same memory
    np.testing.assert_array_equal(array, np.zeros((2, 3)))
    assert model[1].weight.grad is None  # a parameter without a gradient keeps None
    model(x).sum().backward()  # the next backward accumulates into the zeros: one step's gradient
    once = model[0].weight.grad.data.copy()
    model.zero_grad(set_to_none=False)
    model(x).sum().backward()
    np.testing.assert_array_equal(model[0].weight.grad.data, once)


# ---- init ---------------------------------------------------------------------------------------------
def _weight(shape):
    return nn.Parameter(np.empty(shape, np.float32))


@pytest.mark.parametrize(
    "fn, expected_std",
    [
        (init.gaussian, 1.0),
        (init.xavier_paper, 1 / math.sqrt(400)),
        (init.lecun_normal, 1 / math.sqrt(400)),
        (init.xavier_normal, math.sqrt(2 / (400 + 300))),
        (init.glorot_uniform, math.sqrt(6 / (400 + 300)) / math.sqrt(3)),
        (init.kaiming_normal, math.sqrt(2 / 400)),
        (init.he_uniform, math.sqrt(2) * math.sqrt(3 / 400) / math.sqrt(3)),
    ],
)
def test_initializer_standard_deviation_follows_its_formula(fn, expected_std):
    w = _weight((300, 400))  # fan_out = 300, fan_in = 400
    assert fn(w, generator=np.random.default_rng(0)) is w
    assert abs(w.data.std() - expected_std) < 0.02 * expected_std
    assert abs(w.data.mean()) < 0.02 * expected_std


def test_uniform_initializers_stay_inside_their_bound():
    w = _weight((30, 40))
    init.xavier_uniform(w, gain=2.0, generator=np.random.default_rng(0))
    assert np.abs(w.data).max() <= 2.0 * math.sqrt(6 / 70)
    init.kaiming_uniform(w, nonlinearity="relu", generator=np.random.default_rng(0))
    assert np.abs(w.data).max() <= math.sqrt(2) * math.sqrt(3 / 40)


def test_initializers_work_in_place():
    w = _weight((3, 4))
    view = w.data
    init.ones(w)
    assert np.all(view == 1)
    init.constant(w, 2.5)
    assert np.all(view == 2.5)
    init.zeros(w)
    assert np.all(view == 0)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\(5,\)"):
        init.xavier_normal(_weight((5,)))


def test_gain_values():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unknown nonlinearity 'swoosh'"):
        init.calculate_gain("swoosh")


def test_dense_activation_is_a_child_module_given_by_name_or_module(rng):
    layer = nn.Dense(4, 3, activation="sigmoid", generator=rng)
    assert isinstance(layer.activation, nn.Module) and list(layer.children()) == [layer.activation]
    x = tg.Tensor(rng.standard_normal((2, 4)).astype(np.float32))
    z = x.data @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, 1 / (1 + np.exp(-z)), rtol=1e-5)
    relu = nn.get_activation("relu")
    assert nn.Dense(4, 3, activation=relu).activation is relu
    assert "(activation): " in repr(layer)


# ---- Dropout ------------------------------------------------------------------------------------------
def test_dropout_zeroes_about_p_and_scales_the_rest_in_training():
    layer = nn.Dropout(0.25, generator=np.random.default_rng(0))
    x = tg.Tensor(np.ones((200, 100), np.float32), requires_grad=True)
    out = layer(x)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.01 and out.dtype == np.float32
    np.testing.assert_allclose(out.data[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # the gradient goes through the same mask


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = tg.Tensor(np.ones((3, 4), np.float32))
    model = nn.Sequential(nn.Dropout(0.5)).eval()
    assert model(x) is x and nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)


def test_dropout_same_generator_seed_same_mask_and_gradcheck():
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    a = nn.Dropout(0.5, generator=np.random.default_rng(1))(x)
    b = nn.Dropout(0.5, generator=np.random.default_rng(1))(x)
    np.testing.assert_array_equal(a.data, b.data)
    assert tg.gradcheck(lambda x: F.dropout(x, 0.3, generator=np.random.default_rng(2)), (x,))


def test_dropout_probability_must_be_in_0_1():
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\], got -0.1"):
        F.dropout(tg.Tensor([1.0]), -0.1)


def test_functional_namespace_has_linear_and_the_losses(rng):
    x, w, b = (tg.Tensor(rng.standard_normal(s)) for s in [(2, 3), (4, 3), (4,)])
    np.testing.assert_allclose(F.linear(x, w, b).data, x.data @ w.data.T + b.data)
    for name in (
        "cross_entropy",
        "nll_loss",
        "mse_loss",
        "half_mse_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "huber_loss",
    ):
        assert callable(getattr(F, name))


def test_dense_activation_parameters_and_mode_belong_to_the_model():
    model = nn.Sequential(nn.Dense(3, 2, activation="prelu"), nn.Dense(2, 2, activation="rrelu"))
    assert "0.activation.weight" in dict(model.named_parameters())  # PReLU's slope is trained too
    model.eval()
    assert model[1].activation.training is False
    model.train()
    assert model[1].activation.training is True


def test_fans_and_gains_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 5), (4, 2, 3, 3)]:
        assert init.calculate_fans(_weight(shape)) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for name, param in [("relu", None), ("tanh", None), ("sigmoid", None), ("selu", None), ("leaky_relu", 0.2)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus"])
def test_dense_with_fused_activation_matches_the_two_node_layer(activation):
    """Dense runs an elementwise activation inside its own node; a hook on the activation
    layer makes it run as a separate node. Both give the same values and gradients."""
    rng = np.random.default_rng(1)
    x = tg.Tensor(rng.standard_normal((5, 4)) + 0.05, requires_grad=True)  # away from kinks at 0
    layer = nn.Dense(4, 3, activation=activation, dtype=np.float64, generator=np.random.default_rng(2))
    assert layer.activation.fused() == (layer.activation.op, layer.activation.options())
    fused = layer(x)
    assert repr(fused).endswith(f"grad_fn=<Linear+{layer.activation.op.__name__}Backward>)")
    fused.sum().backward()
    fused_grads = [x.grad.data, layer.weight.grad.data, layer.bias.grad.data]
    x.grad = layer.weight.grad = layer.bias.grad = None

    handle = layer.activation.register_forward_hook(lambda module, inputs, out: None)
    assert layer.activation.fused() is None
    separate = layer(x)
    assert type(separate.grad_fn) is layer.activation.op
    separate.sum().backward()
    handle.remove()
    np.testing.assert_allclose(fused.data, separate.data, rtol=1e-12)
    for a, b in zip(fused_grads, [x.grad.data, layer.weight.grad.data, layer.bias.grad.data]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert tg.gradcheck(
        lambda x, w, b: tg.fused.linear(x, w, b, layer.activation.op, layer.activation.options()),
        (x, layer.weight, layer.bias),
    )
