"""Containers (ModuleList, ModuleDict, ParameterList), buffers, Module.to and nn.utils, as PyTorch's."""

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import nn, optim


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---- ModuleList, ModuleDict, ParameterList ------------------------------------------------------------
def test_module_list_registers_its_modules_as_pytorch_names_them(torch):
    layers = nn.ModuleList([nn.Dense(2, 3), nn.ReLU()])
    layers.append(nn.Dense(3, 1)).extend([nn.Tanh()])
    layers.insert(1, nn.Dropout(0.1))
    reference = torch.nn.ModuleList(
        [torch.nn.Linear(2, 3), torch.nn.Dropout(0.1), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Tanh()]
    )
    assert list(layers.state_dict()) == list(reference.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert [type(m).__name__ for m in layers] == ["Dense", "Dropout", "ReLU", "Dense", "Tanh"]
    assert len(layers) == 5 and layers[-1] is layers[4] and isinstance(layers[1:3], nn.ModuleList)
    assert len(list(layers.parameters())) == 4
    layers.eval()
    assert not any(m.training for m in layers)


def test_module_list_deleting_and_replacing_renumbers_as_pytorch():
    first, second, third = nn.Dense(1, 1), nn.Dense(1, 1), nn.Dense(1, 1)
    layers = nn.ModuleList([first, second, third])
    del layers[0]
    assert [name for name, _ in layers.named_children()] == ["0", "1"] and layers[0] is second
    layers[1] = first
    layers += [third]
    assert list(layers) == [second, first, third]
    assert list(nn.ModuleList([first]) + nn.ModuleList([second])) == [first, second]


def test_a_module_list_inside_a_model_trains_with_it(rng):
    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Dense(4, 4, activation="tanh", generator=rng) for _ in range(3))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x.sum()

    model = Deep()
    assert [name for name, _ in model.named_parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    model(tg.Tensor(rng.standard_normal((2, 4)).astype(np.float32))).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_module_dict_is_an_ordered_dict_of_modules(torch):
    layers = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "pool": nn.MaxPool2d(2)})
    layers["act"] = nn.ReLU()
    layers.update([("out", nn.Dense(2, 1))])
    reference = torch.nn.ModuleDict(
        {
            "conv": torch.nn.Conv2d(1, 2, 3),
            "pool": torch.nn.MaxPool2d(2),
            "act": torch.nn.ReLU(),
            "out": torch.nn.Linear(2, 1),
        }
    )
    assert list(layers.state_dict()) == list(reference.state_dict())
    assert list(layers) == list(layers.keys()) == ["conv", "pool", "act", "out"]
    assert "act" in layers and isinstance(layers.pop("act"), nn.ReLU) and "act" not in layers
    del layers["pool"]
    assert [k for k, _ in layers.items()] == ["conv", "out"] and len(layers.values()) == 2
    layers.clear()
    assert len(layers) == 0 and list(layers.parameters()) == []


def test_parameter_list_makes_parameters_of_tensors_and_arrays_and_an_optimizer_updates_them():
    weights = nn.ParameterList([tg.Tensor(np.ones(2, np.float32)), np.zeros(3, np.float32)])
    weights.append(nn.Parameter(np.ones(1, np.float32)))
    assert all(isinstance(p, nn.Parameter) for p in weights) and len(weights) == 3
    assert list(weights.state_dict()) == ["0", "1", "2"]
    loss = (weights[0] * 2).sum() + weights[1].sum()
    optimizer = optim.SGD(weights.parameters(), lr=0.5)
    loss.backward()
    optimizer.step()
    np.testing.assert_allclose(weights[0].data, [0.0, 0.0])
    np.testing.assert_allclose(weights[1].data, [-0.5, -0.5, -0.5])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.ModuleList([3]), TypeError, "ModuleList: int is not a Module"),
        (lambda: nn.ModuleList([nn.ReLU()])[3], IndexError, "ModuleList: index 3 is out of range for 1 entries"),
        (lambda: nn.ModuleDict({"training": nn.ReLU()}), KeyError, "'training' is already an attribute"),
        (lambda: nn.ModuleDict({"a.b": nn.ReLU()}), KeyError, "a key must be a non-empty string without '.'"),
        (lambda: nn.ModuleList([nn.ReLU()])(tg.randn(2)), NotImplementedError, "ModuleList has no forward"),
        (lambda: nn.ParameterList(["w"]), TypeError, "ParameterList: str is not a tensor or an array"),
    ],
)
def test_container_misuse_raises_pytorchs_error_class(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- buffers -----------------------------------------------------------------------------------------
class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, np.float32))
        self.register_buffer("total", np.zeros(2, np.float32))
        self.register_buffer("steps", np.array(0, np.int64))
        self.register_buffer("scratch", tg.zeros(3), persistent=False)
        self.register_buffer("unset", None)


def test_buffers_are_listed_and_persistent_ones_saved_after_the_parameters():
    model = nn.Sequential(Counter(), nn.BatchNorm1d(2))
    assert [name for name, _ in model.named_buffers()] == [
        "0.total",
        "0.steps",
        "0.scratch",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert list(model.state_dict()) == [
        "0.scale",
        "0.total",
        "0.steps",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert len(list(model.buffers())) == 6 and len(list(model[0].buffers(recurse=False))) == 3


def test_buffers_match_pytorchs_order_and_keys(torch):
    class Reference(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2))
            self.register_buffer("total", torch.zeros(2))
            self.register_buffer("steps", torch.tensor(0))
            self.register_buffer("scratch", torch.zeros(3), persistent=False)
            self.register_buffer("unset", None)

    assert list(Counter().state_dict()) == list(Reference().state_dict())
    assert [n for n, _ in Counter().named_buffers()] == [n for n, _ in Reference().named_buffers()]


def test_assigning_a_tensor_to_a_buffer_keeps_it_a_buffer():
    model = Counter()
    model.total = tg.Tensor(np.full(2, 7.0, np.float32))
    np.testing.assert_array_equal(model.state_dict()["total"], [7.0, 7.0])
    model.unset = tg.ones(1)
    assert "unset" in model.state_dict()
    with pytest.raises(TypeError, match="cannot assign a int to buffer 'total'"):
        model.total = 3


def test_load_state_dict_writes_buffers_in_place_and_checks_everything_first():
    model = Counter()
    total = model.total.data
    model.load_state_dict({"scale": np.full(2, 2.0), "total": np.full(2, 5.0), "steps": np.array(9)})
    assert model.total.data is total and list(total) == [5.0, 5.0] and model.steps.data == 9
    with pytest.raises(RuntimeError, match=r"shape mismatch for total"):
        model.load_state_dict({"scale": np.zeros(2), "total": np.zeros(3), "steps": np.array(1)})
    assert list(model.scale.data) == [2.0, 2.0] and model.steps.data == 9  # nothing changed


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("a.b", tg.zeros(1), KeyError),
        ("", tg.zeros(1), KeyError),
        ("scale", tg.zeros(1), KeyError),
        ("x", 3, TypeError),
        (1, tg.zeros(1), TypeError),
    ],
)
def test_register_buffer_refuses_what_pytorch_refuses(name, value, error):
    with pytest.raises(error):
        Counter().register_buffer(name, value)


# ---- to, double, float ---------------------------------------------------------------------------------
def test_to_converts_parameters_gradients_and_floating_buffers_in_place():
    model = nn.Sequential(nn.Dense(3, 2), nn.BatchNorm1d(2))
    parameters = list(model.parameters())
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model(tg.randn(4, 3)).sum().backward()
    assert model.double() is model
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert list(model.parameters()) == parameters  # the same objects: the optimizer still holds them
    assert model[1].running_var.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    optimizer.step()
    model.zero_grad()
    model(tg.randn(4, 3, dtype=np.float64)).sum().backward()
    assert model.float()[0].weight.dtype == np.float32 and model.to("cpu") is model


def test_to_refuses_other_devices_and_non_floating_dtypes():
    with pytest.raises(ValueError, match="CPU only, got device 'cuda'"):
        nn.Dense(2, 2).to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes, got int32"):
        nn.Dense(2, 2).to(np.int32)


# ---- nn.utils -----------------------------------------------------------------------------------------
def _twins(torch, rng):
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Dense(4, 3), nn.Dense(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((5, 4)).astype(np.float32)
    (ours(tg.Tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (1.0, 1), (0.1, float("inf")), (1e6, 2.0)])
def test_clip_grad_norm_scales_all_gradients_together_as_torch(torch, rng, max_norm, norm_type):
    ours, theirs = _twins(torch, rng)
    total = nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    np.testing.assert_allclose(total.data, expected.numpy(), rtol=1e-5)
    for mine, reference in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_refuses_a_non_finite_norm_when_asked():
    w = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    (w * np.float32(np.inf)).sum().backward()
    with pytest.raises(RuntimeError, match="the total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([], 1.0).data == 0


def test_clip_grad_value_clamps_each_element_as_torch(torch, rng):
    ours, theirs = _twins(torch, rng)
    nn.utils.clip_grad_value_(ours.parameters(), 0.3)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.3)
    for mine, reference in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_parameters_to_vector_and_back(torch, rng):
    model = nn.Sequential(nn.Dense(3, 2), nn.Dense(2, 1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    reference = torch.nn.utils.parameters_to_vector(
        torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)).parameters()
    )
    assert vector.shape == tuple(reference.shape) == (11,)
    (vector**2).sum().backward()  # differentiable, as PyTorch's
    np.testing.assert_allclose(model[0].weight.grad.data, 2 * model[0].weight.data)
    nn.utils.vector_to_parameters(tg.Tensor(np.arange(11.0)), model.parameters())
    np.testing.assert_array_equal(model[0].weight.data, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(model[1].bias.data, [10])
    with pytest.raises(TypeError, match="expected a Tensor, but got list"):
        nn.utils.vector_to_parameters([1.0], model.parameters())
    with pytest.raises(RuntimeError, match=r"expected a vector of 11 elements, got shape \(3,\)"):
        nn.utils.vector_to_parameters(tg.zeros(3), model.parameters())


def test_summary_tables_layers_output_shapes_and_parameter_counts_without_moving_batch_norm(capsys):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dense(64, 10)
    )
    model[1].weight.requires_grad_(False)
    text = nn.utils.summary(model, (2, 1, 8, 8))
    assert capsys.readouterr().out == text + "\n"
    lines = text.splitlines()
    assert lines[0] == "Sequential: input shape (2, 1, 8, 8)"
    assert lines[3].split() == ["0", "(Conv2d)", "(2,", "4,", "8,", "8)", "40"]
    assert lines[6].split()[-5:] == ["(2,", "4,", "4,", "4)", "0"]
    assert lines[-3:] == ["Total params: 698", "Trainable params: 694", "Non-trainable params: 4"]
    assert model.training and model[1].num_batches_tracked.data == 0
