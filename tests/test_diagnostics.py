"""Diagnostics: per-layer statistics, dead and saturated units, gradient norms, update ratios, plots."""

import math
import sys

import numpy as np
import pytest

from tinygrad_es import Tensor, nn, no_grad, optim
from tinygrad_es.diagnostics import Diagnostics


def set_dense(layer, weight, bias):
    layer.weight.data = np.array(weight, dtype=np.float64)
    layer.bias.data = np.array(bias, dtype=np.float64)
    return layer


def test_dead_fraction_of_a_relu_layer_with_hand_set_weights():
    layer = set_dense(
        nn.Dense(3, 4, activation="relu"),
        [[-1, -1, -1], [1, 0, 0], [0, 0, 0], [1, 1, 1]],
        [0, 0, -1, -5],  # unit 0: never > 0 on x >= 0; unit 2: always -1; unit 3: on only when sum(x) > 5
    )
    x = Tensor(np.array([[1.0, 2.0, 0.5], [3.0, 2.0, 1.0], [0.0, 0.1, 0.0]]))
    with Diagnostics(layer) as diag:
        layer(x)
        diag.step()
    assert diag.activations["activation"]["dead"] == [0.5]
    assert math.isnan(diag.activations["activation"]["saturated"][0])  # ReLU does not saturate


@pytest.mark.parametrize(
    "module, inputs, saturated",
    [  # sigmoid' < 0.01 where |x| > 4.595; tanh' < 0.01 where |x| > 2.993
        (nn.Sigmoid(), [-10.0, -4.0, 0.0, 4.0, 4.7, 10.0], 3 / 6),
        (nn.Tanh(), [-3.1, 0.0, 2.9, 5.0], 2 / 4),
    ],
)
def test_saturated_fraction_on_hand_built_inputs(module, inputs, saturated):
    with Diagnostics(module) as diag:
        module(Tensor(np.array([inputs])))
        diag.step()
    assert diag.activations[""]["saturated"] == [pytest.approx(saturated)]
    assert math.isnan(diag.activations[""]["dead"][0])


def test_activation_mean_and_std_match_numpy(rng):
    model = nn.Sequential(nn.Dense(5, 4, activation="tanh"), nn.Dense(4, 2))
    x = rng.standard_normal((8, 5)).astype(np.float32)
    with Diagnostics(model) as diag:
        model(Tensor(x))
        diag.step()
    w0, b0, w1, b1 = (p.data for p in model.parameters())
    hidden = np.tanh(x @ w0.T + b0)
    logits = hidden @ w1.T + b1
    assert list(diag.activations) == ["0.activation", "1"]
    assert diag.activations["0.activation"]["mean"][0] == pytest.approx(hidden.mean(), abs=1e-6)
    assert diag.activations["0.activation"]["std"][0] == pytest.approx(hidden.std(), abs=1e-6)
    assert diag.activations["1"]["std"][0] == pytest.approx(logits.std(), abs=1e-6)


def test_gradient_norm_and_update_ratio_after_an_sgd_step():
    layer = set_dense(nn.Dense(2, 1), [[3.0, 4.0]], [0.0])
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    x = Tensor(np.array([[1.0, 2.0], [0.5, -1.0]]))
    with Diagnostics(layer, optimizer) as diag:
        (layer(x) ** 2).sum().backward()
        grad = layer.weight.grad.data.copy()
        optimizer.step()  # recorded by the wrapped optimizer
    out = x.data @ np.array([3.0, 4.0])  # [11, -2.5]
    expected_grad = 2 * out @ x.data  # d/dw sum(out^2)
    np.testing.assert_allclose(grad[0], expected_grad)
    stats = diag.gradients["weight"]
    assert stats["grad_norm"] == [pytest.approx(np.linalg.norm(expected_grad))]
    assert stats["update_ratio"] == [pytest.approx(0.1 * np.linalg.norm(expected_grad) / 5.0)]  # ||w|| = 5
    assert math.isnan(diag.gradients["bias"]["update_ratio"][0])  # bias was 0: no ratio


def test_detach_restores_the_optimizer_and_removes_the_hooks():
    layer = nn.Dense(2, 2, activation="relu")
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    with Diagnostics(layer, optimizer) as diag:
        assert "step" not in optimizer.__dict__  # watched through a step hook, not by replacing step
        layer(Tensor(np.ones((1, 2), np.float32))).sum().backward()
        optimizer.step()
    layer(Tensor(np.ones((1, 2), np.float32))).sum().backward()
    optimizer.step()
    assert diag.steps == [0]
    assert layer.activation._forward_hooks == {}


def test_every_k_records_one_step_in_k_with_the_update_of_that_step():
    layer = set_dense(nn.Dense(1, 1), [[2.0]], [1.0])
    hooked = []
    with Diagnostics(layer, every=3) as diag:
        for step in range(7):
            hooked.append(bool(layer._forward_hooks))
            layer.weight.data = layer.weight.data + step  # an "optimizer" that moves w by `step`
            diag.step()
    assert hooked == [True, False, False, True, False, False, True]  # the layers are watched only when recorded
    assert diag.steps == [0, 3, 6]
    weight_before_step_3 = 2.0 + 0 + 1 + 2
    assert diag.gradients["weight"]["update_ratio"][1] == pytest.approx(3 / weight_before_step_3)


def test_forward_under_no_grad_is_not_recorded():
    relu = nn.ReLU()
    with Diagnostics(relu) as diag:
        relu(Tensor([[1.0, -1.0]]))
        with no_grad():
            relu(Tensor([[5.0, 5.0]]))
        diag.step()
    assert diag.activations[""]["mean"] == [0.5] and diag.activations[""]["dead"] == [0.5]


def test_selu_with_lecun_init_keeps_mean_zero_and_std_one_over_twenty_layers():
    generator = np.random.default_rng(0)
    model = nn.Sequential(
        *[nn.Dense(64, 64, activation="selu", init="lecun_normal", generator=generator) for _ in range(20)]
    )
    x = generator.standard_normal((512, 64)).astype(np.float32)  # standardized input
    with Diagnostics(model) as diag:
        model(Tensor(x))
        diag.step()
    means = [diag.activations[f"{i}.activation"]["mean"][0] for i in range(20)]
    stds = [diag.activations[f"{i}.activation"]["std"][0] for i in range(20)]
    assert max(abs(m) for m in means) < 0.15
    assert max(abs(s - 1) for s in stds) < 0.15


def test_report_is_a_table_of_the_last_step():
    model = nn.Sequential(nn.Dense(3, 2, activation="sigmoid"), nn.Dense(2, 1))
    diag = Diagnostics(model)
    assert "nothing recorded" in diag.report()
    with diag:
        model(Tensor(np.ones((4, 3), np.float32))).sum().backward()
        diag.step()
    text = diag.report()
    assert text.splitlines()[0] == "step 0 (1 recorded)"
    assert "0.activation (Sigmoid)" in text and "1 (Dense)" in text
    grad_norm = np.linalg.norm(model[0].weight.grad.data)
    assert f"{grad_norm:.3e}" in text


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="Diagnostics: every must be >= 1, got 0"):
        Diagnostics(nn.ReLU(), every=0)


def test_plot_writes_a_png(tmp_path, rng):
    pytest.importorskip("matplotlib")
    model = nn.Sequential(nn.Dense(3, 2, activation="tanh"), nn.Dense(2, 1))
    with Diagnostics(model) as diag:
        for _ in range(3):
            model.zero_grad()
            model(Tensor(rng.standard_normal((4, 3), np.float32))).sum().backward()
            diag.step()
    path = diag.plot(tmp_path / "diag.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_draws_without_pyplot_and_leaves_the_backend_alone(monkeypatch, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # importing pyplot now fails
    monkeypatch.setattr(matplotlib, "use", lambda *args, **kwargs: pytest.fail("plot chose a backend"))
    relu = nn.ReLU()
    with Diagnostics(relu) as diag:
        relu(Tensor([[1.0, -1.0]]))
        diag.step()
    assert diag.plot(tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    relu = nn.ReLU()
    with Diagnostics(relu) as diag:
        relu(Tensor([[1.0]]))
        diag.step()
    with pytest.raises(ImportError, match="Diagnostics.plot needs matplotlib: pip install matplotlib"):
        diag.plot(tmp_path / "d.png")
