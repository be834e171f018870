"""tg.explain: the backward pass of a Dense network told as the paper's equations 5-9, with the
arrays autograd computed, which equal the equations computed by hand in NumPy."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import functional as F
from tinygrad_es import nn


def _network(activation="sigmoid"):
    rng = np.random.default_rng(0)
    return nn.Sequential(
        nn.Dense(64, 32, activation=activation, dtype=np.float64, generator=rng),
        nn.Dense(32, 16, activation=activation, dtype=np.float64, generator=rng),
        nn.Dense(16, 10, dtype=np.float64, generator=rng),
    )


def test_the_deltas_and_gradients_are_the_papers_equations_by_hand():
    model = _network()
    x = np.random.default_rng(1).uniform(0, 1, (8, 64))
    y = np.arange(8) % 10
    explanation = tg.explain(F.cross_entropy(model(tg.Tensor(x)), y), show=False)
    # the forward pass and equations 5-9 by hand
    (w1, b1), (w2, b2), (w3, b3) = ((layer.weight.data, layer.bias.data) for layer in model)
    a1 = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ w2.T + b2)))
    z3 = a2 @ w3.T + b3
    softmax = np.exp(z3 - z3.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    delta3 = (softmax - np.eye(10)[y]) / len(x)  # (6): the cost's gradient on the logits, f' = 1
    delta2 = (delta3 @ w3) * a2 * (1 - a2)  # (7)
    delta1 = (delta2 @ w2) * a1 * (1 - a1)
    expected = [(delta3, a2), (delta2, a1), (delta1, x)]
    factors = [(delta3, np.ones_like(delta3)), (delta3 @ w3, a2 * (1 - a2)), (delta2 @ w2, a1 * (1 - a1))]
    assert [layer["name"] for layer in explanation.layers] == ["Linear", "Linear+Sigmoid", "Linear+Sigmoid"]
    for layer, (delta, previous), (upstream, slope), module in zip(
        explanation.layers, expected, factors, reversed(list(model))
    ):
        np.testing.assert_allclose(layer["grad_output"], upstream, rtol=1e-10, atol=1e-15)  # grad_a C, (W^T delta)
        np.testing.assert_allclose(layer["slope"], slope, rtol=1e-10, atol=1e-15)  # f'(z)
        np.testing.assert_allclose(layer["delta"], delta, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(layer["grad_bias"], delta.sum(0), rtol=1e-10, atol=1e-15)  # (8)
        np.testing.assert_allclose(layer["grad_weight"], delta.T @ previous, rtol=1e-10, atol=1e-15)  # (9)
        np.testing.assert_array_equal(module.weight.grad.data, layer["grad_weight"])  # a real backward ran


def test_the_printed_explanation_names_the_equations_the_formulas_and_the_shapes(capsys):
    model = _network("tanh")
    loss = F.cross_entropy(model(tg.Tensor(np.ones((4, 64)))), np.array([1, 2, 3, 4]))
    tg.explain(loss, values=2)
    text = capsys.readouterr().out
    assert text.startswith("backward through 3 Dense layers, a batch of 4")
    assert "cost: the gradient of the loss reached the last layer through CrossEntropy" in text
    assert "delta^3 = grad_a C (.) f'(z^3)" in text and "eq. (6), f = identity, f'(z) = 1" in text
    assert "delta^2 = ((W^3)^T delta^3) (.) f'(z^2)" in text
    assert "eq. (7), f = tanh, f'(x) = 1 - f(x)^2" in text
    assert "shape (16, 32): [" in text and "dC/dW^1 = (delta^1)^T a^0" in text
    assert "\n      (W^3)^T delta^3  shape (4, 16): [" in text and "\n      f'(z^2)          shape (4, 16): [" in text


def test_a_negative_zero_is_printed_as_zero(capsys):
    model = nn.Sequential(nn.Dense(2, 2, activation="relu", dtype=np.float64), nn.Dense(2, 1, dtype=np.float64))
    model[0].bias.data[...] = -10  # every unit off: f'(z) = 0 and delta = -w * 0 = -0 for a negative weight
    model[1].weight.data[...] = [[-1.0, -1.0]]
    explanation = tg.explain(model(tg.Tensor(np.ones((1, 2)))).sum())
    assert np.signbit(explanation.layers[1]["delta"]).all()  # the arrays keep their -0
    text = capsys.readouterr().out
    assert "delta^1          shape (1, 2): [0, 0]" in text and "-0" not in text


def test_an_activation_in_a_node_of_its_own_is_named_and_its_slope_is_in_the_gradient():
    model = nn.Sequential(nn.Dense(3, 4, activation=nn.PReLU(), dtype=np.float64), nn.Dense(4, 2, dtype=np.float64))
    x = tg.Tensor(np.random.default_rng(0).normal(size=(5, 3)))
    explanation = tg.explain(((model(x) + 1) ** 2).mean(), show=False)
    hidden = explanation.layers[1]
    assert hidden["after"] == ["PReLU"]
    z = x.data @ model[0].weight.data.T + model[0].bias.data
    upstream = (2 * (model(x).data + 1) / 10) @ model[1].weight.data
    np.testing.assert_allclose(hidden["delta"], upstream * np.where(z > 0, 1, 0.25), rtol=1e-10)
    assert "(the gradient reached this layer's output through PReLU)" in str(explanation)


def test_explain_leaves_the_engine_as_it_found_it():
    model = _network()
    with tg.detect_anomaly():
        tg.explain(F.cross_entropy(model(tg.Tensor(np.ones((2, 64)))), np.array([0, 1])), show=False)
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()


def test_without_dense_layers_there_is_nothing_to_tell():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert "no Dense layer" in str(tg.explain((x * x).sum(), show=False))


@pytest.mark.parametrize("cost", ["half_mse", "paper_ce"])
def test_the_papers_costs_on_sigmoid_outputs_are_explained_too(cost):
    model = nn.Sequential(
        nn.Dense(4, 3, activation="sigmoid", dtype=np.float64), nn.Dense(3, 2, activation="sigmoid", dtype=np.float64)
    )
    out, target = model(tg.Tensor(np.ones((5, 4)))), tg.Tensor(np.eye(2)[[0, 1, 0, 1, 1]])
    loss = (
        F.half_mse_loss(out, target)
        if cost == "half_mse"
        else F.binary_cross_entropy(out.clip(1e-7, 1 - 1e-7), target, reduction="sum") / 5
    )
    explanation = tg.explain(loss, show=False)
    a = out.data
    slope = a * (1 - a)
    grad_a = (a - target.data) / 5 if cost == "half_mse" else (a - target.data) / (a * (1 - a)) / 5
    np.testing.assert_allclose(explanation.layers[0]["delta"], grad_a * slope, rtol=1e-9)
    np.testing.assert_allclose(explanation.layers[0]["grad_output"], grad_a, rtol=1e-9)
    if cost == "paper_ce":
        assert "a clip passes the gradient only inside its bounds" in str(explanation)


@pytest.mark.parametrize("readme", ["README.md", "README.es.md"])
def test_the_readme_shows_what_its_explain_block_prints(readme):
    text = (Path(__file__).resolve().parent.parent / readme).read_text(encoding="utf-8")
    code, shown = re.search(r"```python\n([^`]*tg\.explain\(.*?)```\s*```\n(.*?)```", text, re.S).groups()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    number = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
    got, expected = printed.getvalue().splitlines(), shown.splitlines()
    assert [re.sub(number, "#", line) for line in got] == [re.sub(number, "#", line) for line in expected]
    for line, stated in zip(got, expected):  # float32 sums may round differently on another CPU
        np.testing.assert_allclose(
            [float(v) for v in re.findall(number, line)], [float(v) for v in re.findall(number, stated)], rtol=2e-3
        )
