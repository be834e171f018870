"""Models to PyTorch and back: every layer of the table computes the same outputs and gradients in
both frameworks, in float32 (1e-6) and float64 (1e-12), relative to the norm of PyTorch's array,
and keeps the same buffers (BatchNorm's running statistics) in training; the paper's MLP and the
digits CNN train on in PyTorch and come back."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from interop_cases import ALL, CASES, example, example_input, random_prelu

import tinygrad_es as tg
from tinygrad_es import data, nn
from tinygrad_es import functional as F
from tinygrad_es.interop import LAYERS, from_torch, from_torch_state_dict, to_torch, to_torch_state_dict
from tinygrad_es.nn.activation import Activation

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's, on speed

RTOL = {np.float32: 1e-6, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]
ACTIVATIONS = sorted(name for name in CASES if issubclass(LAYERS[name].cls, Activation))


@pytest.fixture(autouse=True)
def seeded():
    """Layers built without a generator draw from the default one: the same weights in any test order."""
    tg.manual_seed(0)


def test_every_layer_of_the_table_has_a_case_here():
    assert set(CASES) == set(LAYERS)


def assert_same(ours, theirs, dtype, rtol=None):
    """Equal shapes and dtypes, and |ours - theirs| <= rtol |theirs| (norms over the array)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == dtype
    assert np.linalg.norm(ours - theirs) <= (rtol or RTOL[dtype]) * np.linalg.norm(theirs)


def call(model, x):
    """model(x); a ModuleList or ModuleDict (no forward) applies its entries in turn, in either framework."""
    if isinstance(model, (nn.ModuleList, nn.ModuleDict, torch.nn.ModuleList, torch.nn.ModuleDict)):
        for child in model._modules.values() if isinstance(model, nn.Module) else model.children():
            x = call(child, x)
        return x
    return model(x)


def run_ours(model, x, rng=None, g=None):
    """The outputs (MaxPool's indices too), the input's gradient (for a float input) and every
    parameter's, from the upstream gradient g (random if not given); and g."""
    model.zero_grad()
    xt = tg.Tensor(x.copy(), requires_grad=x.dtype.kind == "f")
    out, *extra = _outputs(call(model, xt))
    g = rng.standard_normal(out.shape).astype(out.dtype) if g is None else g  # a non-uniform upstream gradient
    out.backward(g)
    grads = [xt.grad.data] if xt.requires_grad else []
    return [out.data, *(e.data for e in extra), *grads] + [p.grad.data for p in model.parameters()], g


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def run_torch(module, x, g):
    module.zero_grad()
    xt = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    out, *extra = _outputs(call(module, xt))
    out.backward(torch.from_numpy(g.copy()))
    grads = [xt.grad.numpy()] if xt.requires_grad else []
    return [out.detach().numpy(), *(e.numpy() for e in extra), *grads] + [p.grad.numpy() for p in module.parameters()]


def check_same_results(model, module, x, dtype, rng, rtol=None, reference=None):
    """The same outputs and gradients, and the same buffers after (training moves running statistics).
    With `reference`, the model in float64: both frameworks' float32 results within 1e-6 of its."""
    ours, g = run_ours(model, x, rng)
    theirs = run_torch(module, x, g)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if a.dtype.kind == "i":  # MaxPool's indices
            np.testing.assert_array_equal(a, b)
        else:
            assert_same(a, b, dtype, rtol)
    assert_same_buffers(model, module, rtol or RTOL[dtype])
    if reference is not None:
        truth, _ = run_ours(reference, x.astype(np.float64), g=g.astype(np.float64))
        for a, b, exact in zip(ours, theirs, truth):
            assert_same(a.astype(np.float64), exact, np.float64, 1e-6)
            assert_same(b.astype(np.float64), exact, np.float64, 1e-6)


def assert_same_buffers(model, module, rtol):
    ours, theirs = [b.data for b in model.buffers()], [b.numpy() for b in module.buffers()]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b)


def torch_rtol(name, dtype):
    """PyTorch's float64 backward of these rounds a constant to float32 (3e-8 relative): hardsigmoid's
    1/6, celu's 1/alpha. Ours are exact (test_our_float64_gradients_are_exact_where_pytorchs_are_not)."""
    return 1e-7 if name in ("Hardsigmoid", "CELU") and dtype == np.float64 else None


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_each_layer_alone_computes_what_its_pytorch_module_computes(name, dtype, rng):
    make, shape = ALL[name]
    model = make(dtype)
    module = to_torch(model)
    assert isinstance(module, torch.nn.Module) and module.training == model.training
    x = example_input(model, shape, dtype, rng)
    check_same_results(model, module, x, dtype, rng, torch_rtol(name, dtype))
    back = from_torch(module)
    assert repr(back) == repr(model)
    check_same_results(back, module, x, dtype, rng, torch_rtol(name, dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_each_activation_as_a_dense_layers_activation(name, dtype, rng):
    activation = CASES[name][0](dtype)
    if name == "PReLU":
        activation = random_prelu(6, dtype)
    model = nn.Sequential(
        nn.Dense(4, 6, activation=activation, dtype=dtype), nn.Dense(3 if name == "GLU" else 6, 2, dtype=dtype)
    )
    module = to_torch(model)
    assert [type(m).__name__ for m in module][:2] == ["Linear", "Step" if name == "Step" else type(activation).__name__]
    x = (3 * rng.standard_normal((5, 4))).astype(dtype)
    check_same_results(model, module, x, dtype, rng, torch_rtol(name, dtype))
    back = from_torch(module)
    assert type(back[0].activation) is type(activation) and len(back) == 2  # Linear + activation: one Dense again
    check_same_results(back, module, x, dtype, rng, torch_rtol(name, dtype))


def test_our_float64_gradients_are_exact_where_pytorchs_are_not():
    x = tg.Tensor(np.array([-2.5, -0.7, -0.1]), requires_grad=True)
    nn.Hardsigmoid()(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.data, np.full(3, 1 / 6))
    x.grad = None
    nn.CELU(1.3)(x).backward(np.ones(3))
    np.testing.assert_allclose(x.grad.data, np.exp(x.data / 1.3), rtol=1e-15)


# shapes with a batch of 0 and extra leading axes, in every memory layout
def _layouts(x):
    return {"C": x, "F": np.asfortranarray(x), "transposed": x.T.copy().T, "slice": np.repeat(x, 2, axis=-1)[..., ::2]}


@given(
    name=st.sampled_from(
        sorted(
            set(ACTIVATIONS) - {"GLU", "Softmax", "PReLU"}
            | {"Dense", "Sequential", "Dropout", "AlphaDropout", "ModuleList"}
        )
    ),
    dtype=st.sampled_from(DTYPES),
    leading=st.lists(st.integers(0, 3), max_size=2),
    layout=st.sampled_from(["C", "F", "transposed", "slice"]),
    seed=st.integers(0, 2**31),
)
def test_converted_layers_agree_on_any_batch_shape_and_layout(name, dtype, leading, layout, seed):
    rng = np.random.default_rng(seed)
    model = CASES[name][0](dtype)
    shape = (*leading, 4)
    x = _layouts((3 * rng.standard_normal(shape)).astype(dtype))[layout]
    if name == "LogSoftmax":  # its case's axis 1 may be missing here
        model = nn.LogSoftmax(axis=-1)
    # On random draws, float32 dot products that cancel differ by more than 1e-6 between the two BLAS
    # orders of summation in 1.7% of cases (the 2-layer Sequential over 1500 draws: median 1.7e-7,
    # 99th percentile 1.2e-6, largest 7.4e-6); the fixed cases above hold 1e-6, float64 holds 1e-12.
    rtol = 1e-5 if dtype == np.float32 else torch_rtol(name, dtype)
    check_same_results(model, to_torch(model), x, dtype, rng, rtol)


SPATIAL = sorted(name for name in CASES if name not in ACTIVATIONS and len(CASES[name][1]) > 2 or name == "Embedding")


@given(
    name=st.sampled_from(SPATIAL),
    dtype=st.sampled_from(DTYPES),
    batch=st.integers(0, 3),
    layout=st.sampled_from(["C", "F", "transposed", "slice"]),
    seed=st.integers(0, 2**31),
)
def test_converted_layers_with_channels_agree_on_any_batch_and_layout(name, dtype, batch, layout, seed):
    rng = np.random.default_rng(seed)
    make, shape = CASES[name]
    model = make(dtype)
    x = _layouts(example_input(model, (batch, *shape[1:]), dtype, rng))[layout]
    rtol = 1e-5 if dtype == np.float32 else None  # as above: sums in other orders
    check_same_results(model, to_torch(model), x, dtype, rng, rtol)


# ---- the paper's MLP, and training on in both frameworks ----------------------------------------------
def paper_mlp(dtype):
    tg.manual_seed(0)
    return nn.Sequential(
        nn.Dense(64, 32, activation="sigmoid", init="xavier_paper", dtype=dtype),
        nn.Dense(32, 16, activation="sigmoid", init="xavier_paper", dtype=dtype),
        nn.Dense(16, 10, activation="sigmoid", init="xavier_paper", dtype=dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_the_papers_mlp_on_the_digits(dtype, rng):
    model = paper_mlp(dtype)
    module = to_torch(model)
    assert [type(m).__name__ for m in module] == ["Linear", "Sigmoid"] * 3
    x, _ = data.load_digits()
    check_same_results(model, module, x[:100].astype(dtype), dtype, rng)
    back = from_torch(module)
    assert repr(back) == repr(model)
    state, restored = model.state_dict(), back.state_dict()
    assert list(state) == list(restored) and all(np.array_equal(state[k], restored[k]) for k in state)


def sgd_steps(model, batches, framework, lr=0.5, weight_decay=0.0):
    """Train with SGD (momentum 0.9) on the batches; the losses."""
    if framework == "torch":
        optimizer, losses = torch.optim.SGD(model.parameters(), lr, momentum=0.9, weight_decay=weight_decay), []
        for x, y in batches:
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    optimizer, losses = tg.optim.SGD(model.parameters(), lr, momentum=0.9, weight_decay=weight_decay), []
    for x, y in batches:
        loss = F.cross_entropy(model(tg.Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def assert_same_parameters(model, module, rtol):
    ours, theirs = [p.data for p in model.parameters()], [p.detach().numpy() for p in module.parameters()]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b)
    assert_same_buffers(model, module, rtol)


def digit_batches(n, size=32, images=False, seed=0):
    """n batches of float64 digits (as 1x8x8 images for the CNN) with their labels."""
    x, y = data.load_digits()
    x = x.reshape(-1, 1, 8, 8) if images else x
    order = np.random.default_rng(seed).permutation(len(x))[: size * n].reshape(n, size)
    return [(x[i].astype(np.float64), y[i]) for i in order]


def test_a_model_trained_here_trains_on_in_pytorch_and_back():
    batches = digit_batches(30)
    model = paper_mlp(np.float64)
    first = sgd_steps(model, batches[:10], "tg")
    module = to_torch(model)
    twin = from_torch(to_torch(model))  # goes on here, to compare with
    second = sgd_steps(module, batches[10:20], "torch")
    sgd_steps(twin, batches[10:20], "tg")
    assert_same_parameters(twin, module, 1e-12)  # the same training in both frameworks
    back = from_torch(module)
    third = sgd_steps(back, batches[20:], "tg")
    sgd_steps(module, batches[20:], "torch")
    assert_same_parameters(back, module, 1e-12)
    assert np.mean(first[:3]) > np.mean(second) > np.mean(third[-3:])  # and it learns all along


# ---- the digits CNN (examples/cnn_digits.py): convolutions, BatchNorm, pooling ------------------------
def digits_cnn(dtype):
    tg.manual_seed(0)
    return example("cnn_digits").cnn().to(dtype)


# In float32 a weight gradient of the first convolution sums 16 x 64 products per sample that cancel:
# each framework is within 8e-7 of the float64 result (10 seeds, train and eval), and the two differ
# by up to 1.1e-6 (both rounded, differently). So in float32 both are held to 1e-6 of float64, and
# to 2e-6 of each other; in float64, 1e-12 of each other.
CNN_RTOL = {np.float32: 2e-6, np.float64: 1e-12}


def assert_same_outputs(model, module, x, rtol):
    """The outputs on all of x. Only outputs: the digits' flat areas make windows of nearly equal
    values, where the two frameworks may round a convolution's sums apart by one unit in the last
    place and send the max pooling's gradient to another element of the window (in float32, digits
    128 to 191 hold one such window: their input gradients differ by 9e-3)."""
    with tg.no_grad(), torch.no_grad():
        ours, theirs = model(tg.Tensor(x)).data, module(torch.from_numpy(x)).numpy()
    assert_same(ours, theirs, x.dtype.type, rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_the_digits_cnn_computes_what_pytorch_computes_in_train_and_eval_mode(dtype, rng):
    model, reference = digits_cnn(dtype), digits_cnn(np.float64) if dtype == np.float32 else None
    module = to_torch(model)
    assert [type(m).__name__ for m in module] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2 + [
        "Flatten",
        "Linear",
    ]
    x = rng.standard_normal((16, 1, 8, 8)).astype(dtype)
    digits = data.load_digits()[0].reshape(-1, 1, 8, 8).astype(dtype)
    for _ in range(2):  # training: the batch's statistics, and the running ones move alike
        check_same_results(model, module, x, dtype, rng, CNN_RTOL[dtype], reference)
    for m in (model, module, reference):
        if m is not None:
            m.eval()  # inference: the running statistics
    check_same_results(model, module, x, dtype, rng, CNN_RTOL[dtype], reference)
    assert_same_outputs(model, module, digits, CNN_RTOL[dtype])
    back = from_torch(module)
    assert repr(back) == repr(model) and not back.training
    state, restored = from_torch_state_dict(module), back.state_dict()  # PyTorch's running statistics, exactly
    assert list(state) == list(restored) and all(np.array_equal(state[k], restored[k]) for k in state)
    assert int(restored["1.num_batches_tracked"]) == 2


def test_the_digits_cnn_trained_here_trains_on_in_pytorch_and_back():
    batches = digit_batches(24, images=True)
    model = digits_cnn(np.float64)
    options = {"lr": 0.05, "weight_decay": 5e-4}  # the example's
    first = sgd_steps(model, batches[:8], "tg", **options)
    module = to_torch(model)
    twin = from_torch(to_torch(model))
    second = sgd_steps(module, batches[8:16], "torch", **options)
    sgd_steps(twin, batches[8:16], "tg", **options)
    assert_same_parameters(twin, module, 1e-12)  # weights and running statistics alike
    back = from_torch(module)
    third = sgd_steps(back, batches[16:], "tg", **options)
    sgd_steps(module, batches[16:], "torch", **options)
    assert_same_parameters(back, module, 1e-12)
    assert int(back[1].num_batches_tracked.data) == 24
    back.eval(), module.eval()
    x = np.concatenate([x for x, _ in batches])
    with tg.no_grad(), torch.no_grad():
        assert_same(back(tg.Tensor(x)).data, module(torch.from_numpy(x)).numpy(), np.float64)
    assert np.mean(first[:3]) > np.mean(second) > np.mean(third[-3:])


# ---- modes, sharing, Step ------------------------------------------------------------------------------
def test_train_and_eval_modes_and_options_move_with_each_module():
    model = nn.Sequential(nn.Dense(4, 4, activation=nn.RReLU(0.1, 0.3)), nn.Dropout(0.25))
    model[1].eval()
    module = to_torch(model)
    assert [m.training for m in module] == [True, True, False]
    assert (module[1].lower, module[1].upper, module[2].p) == (0.1, 0.3, 0.25)
    back = from_torch(module)
    assert [m.training for m in back.modules()] == [True, True, True, False]
    assert (back[0].activation.lower, back[0].activation.upper, back[1].p) == (0.1, 0.3, 0.25)


def test_rrelu_in_training_draws_slopes_between_its_bounds_in_pytorch():
    module = to_torch(nn.RReLU(0.1, 0.3))
    x = -torch.rand(1000, dtype=torch.float64) - 0.1
    slopes = module(x) / x
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03


def test_a_module_used_twice_stays_one_module_with_shared_weights(rng):
    dense = nn.Dense(4, 4, dtype=np.float64)
    model = nn.Sequential(dense, nn.Tanh(), dense)
    module = to_torch(model)
    assert module[0] is module[2] and len(list(module.parameters())) == 2
    x = rng.standard_normal((3, 4))
    check_same_results(model, module, x, np.float64, rng)
    back = from_torch(module)
    assert back[0] is back[2] and back[0].activation is None


def test_step_has_a_pytorch_module_with_zero_gradient_that_pickles(tmp_path):
    model = nn.Sequential(nn.Dense(3, 2, activation="step"))
    module = to_torch(model)
    x = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], np.float32)
    path = tmp_path / "step.pt"
    torch.save(module, path)
    loaded = torch.load(path, weights_only=False)
    np.testing.assert_array_equal(loaded(torch.from_numpy(x)).detach().numpy(), model(tg.Tensor(x)).data)
    assert set(np.unique(model(tg.Tensor(x)).data)) <= {0.0, 1.0}
    assert pickle.loads(pickle.dumps(module))[1].__class__.__name__ == "Step"


# ---- what does not convert -----------------------------------------------------------------------------
class Custom(nn.Module):
    def forward(self, x):
        return x * 2


def test_a_module_outside_the_table_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="Custom is not a layer that can be converted.*to_torch_state_dict"):
        to_torch(nn.Sequential(nn.ReLU(), Custom()))
    with pytest.raises(TypeError, match=r"torch\.nn\.modules\.linear\.Bilinear has no counterpart in tinygrad_es"):
        from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Bilinear(2, 2, 2)))

    class TorchCustom(torch.nn.Sequential):  # a subclass may compute something else: refused too
        pass

    with pytest.raises(TypeError, match="TorchCustom has no counterpart"):
        from_torch(TorchCustom(torch.nn.ReLU()))


def test_pytorch_options_without_a_counterpart_are_value_errors():
    with pytest.raises(ValueError, match=r"Flatten\(end_dim=2\).*end_dim=-1"):
        from_torch(torch.nn.Flatten(1, 2))
    with pytest.raises(ValueError, match=r"Softmax\(dim=None\).*give dim"):
        from_torch(torch.nn.Softmax())
    with pytest.raises(TypeError, match="Linear holds float16 parameters"):
        from_torch(torch.nn.Linear(2, 2, dtype=torch.float16))


def test_without_pytorch_the_functions_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # import torch now fails
    with pytest.raises(ImportError, match=r'pip install "tinygrad_es\[torch\]"'):
        to_torch(nn.ReLU())


# ---- state dicts, for models written in both frameworks --------------------------------------------------
class OurNet(nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.fc1 = nn.Dense(4, 8, activation="relu", dtype=dtype)
        self.fc2 = nn.Dense(8, 3, dtype=dtype)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class TorchNet(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(4, 8, dtype=dtype), torch.nn.Linear(8, 3, dtype=dtype)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_state_dicts_move_between_models_written_in_both_frameworks(dtype, rng):
    ours, theirs = OurNet(dtype), TorchNet(getattr(torch, np.dtype(dtype).name))
    state = to_torch_state_dict(ours)
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(v.dtype == getattr(torch, np.dtype(dtype).name) for v in state.values())
    theirs.load_state_dict(state)
    x = rng.standard_normal((5, 4)).astype(dtype)
    check_same_results(ours, theirs, x, dtype, rng)
    with torch.no_grad():
        theirs.fc2.bias += 1  # trained on over there
    ours.load_state_dict(from_torch_state_dict(theirs))
    check_same_results(ours, theirs, x, dtype, rng)


def test_state_dict_conversions_copy():
    layer = nn.Dense(2, 2)
    state = to_torch_state_dict(layer.state_dict())
    layer.weight.data[...] = 7
    assert not torch.any(state["weight"] == 7)
    module = torch.nn.Linear(2, 2)
    arrays = from_torch_state_dict(module.state_dict())
    with torch.no_grad():
        module.weight.fill_(7)
    assert not np.any(arrays["weight"] == 7)
