"""The study: the grid and its summary, the one model builder and training loop, the paper's costs,
the measurements, stopping, figures."""

import io
import json
import os
import signal
import warnings

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es.study import grid, measure, parallel, report, run, training


def test_parallel_runs_give_the_same_numbers_as_serial(tmp_path):
    study = grid.Study(costs=("mse",), activations=("sigmoid",), inits=("xavier",), lrs=(1.0, 0.1), epochs=1)
    serial, _ = run.run_study(study, str(tmp_path / "a"), jobs=1, stream=io.StringIO(), plots=False)
    in_processes, _ = run.run_study(study, str(tmp_path / "b"), jobs=2, stream=io.StringIO(), plots=False)
    assert serial == in_processes


def test_learning_rate_is_chosen_on_the_select_split_not_the_report_split():
    study = grid.Study(costs=("mse",), activations=("tanh",), inits=("xavier",), lrs=(1.0, 0.1))
    measures = dict.fromkeys(("flat", "dead", "out_flat", "outside_01", "nonfinite", "top_class"), 0.0)

    def record(lr, select, report):
        return {
            "cost": "mse",
            "activation": "tanh",
            "init": "xavier",
            "lr": lr,
            "seed": 0,
            "diverged": False,
            "select_accuracy": select,
            "report_accuracy": report,
            "at_init": measures,
            "at_end": measures,
            "curves": {"report": [report]},
        }

    (cell,) = grid.summarize(study, [record(1.0, 50.0, 90.0), record(0.1, 60.0, 40.0)])
    assert cell["lr"] == 0.1 and cell["accuracy"] == 40.0 and cell["paper"] == 25.28


def test_ctrl_c_keeps_the_finished_runs(tmp_path, monkeypatch):
    calls = []
    original = parallel.train_run

    def interrupted_on_second_run(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(parallel, "train_run", interrupted_on_second_run)
    study = grid.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), lrs=(0.5,), epochs=1)
    cells, stopped_by = run.run_study(study, str(tmp_path), jobs=1, stream=io.StringIO(), plots=False)
    results = json.loads((tmp_path / "results.json").read_text())
    assert stopped_by == signal.SIGINT and results["interrupted"]
    assert [(r["activation"], r["lr"]) for r in results["runs"]] == [("sigmoid", 0.5)]
    assert [c["activation"] for c in cells] == ["sigmoid"] == [c["activation"] for c in results["cells"]]


# ---- the paper's costs -----------------------------------------------------------------------------------
def test_paper_cross_entropy_is_the_papers_formula_summed_over_outputs_averaged_over_samples(rng):
    p = rng.uniform(0.05, 0.95, size=(4, 10))
    y = np.eye(10)[[1, 3, 3, 9]]
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum() / 4
    assert training.paper_cross_entropy(tg.tensor(p), tg.tensor(y)).item() == pytest.approx(expected, rel=1e-12)


def test_paper_cross_entropy_clips_outputs_outside_0_1_and_gives_them_no_gradient():
    yhat = tg.tensor(np.array([[-0.5, 0.5, 1.5]]), requires_grad=True)
    y = tg.tensor(np.array([[1.0, 0.0, 0.0]]))
    loss = training.paper_cross_entropy(yhat, y)
    eps = training.CLIP_EPS
    assert loss.item() == pytest.approx(-(np.log(eps) + np.log(0.5) + np.log(eps)), rel=1e-9)
    loss.backward()
    np.testing.assert_allclose(yhat.grad.data, [[0.0, 1 / 0.5, 0.0]], rtol=1e-9)


def test_paper_cross_entropy_gradient_matches_finite_differences(rng):
    yhat = tg.tensor(rng.uniform(0.1, 0.9, size=(3, 10)), requires_grad=True)
    y = tg.tensor(np.eye(10)[[0, 4, 7]])
    assert tg.gradcheck(lambda p: training.paper_cross_entropy(p, y), [yhat])


def test_paper_mse_is_half_the_squared_error_summed_per_sample_averaged_over_samples(rng):
    yhat = rng.normal(size=(5, 10))
    y = np.eye(10)[[0, 1, 2, 3, 4]]
    cost, uses_labels = training.make_cost(grid.Study(), "mse")
    expected = ((y - yhat) ** 2).sum() / (2 * 5)
    assert not uses_labels and cost(tg.tensor(yhat), tg.tensor(y)).item() == pytest.approx(expected, rel=1e-12)


def test_modern_cross_entropy_is_softmax_cross_entropy_on_logits(rng):
    logits = rng.normal(size=(6, 10))
    labels = np.array([0, 2, 4, 6, 8, 9])
    cost, uses_labels = training.make_cost(grid.Study(protocol="modern"), "cross_entropy")
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(6), labels].mean()
    assert uses_labels and cost(tg.tensor(logits), labels).item() == pytest.approx(expected, rel=1e-10)


def test_paper_model_puts_the_activation_on_the_output_and_draws_biases_from_n01():
    model = training.build_model(grid.Study(), "tanh", "xavier", np.random.default_rng(0))
    x = tg.tensor(np.random.default_rng(1).uniform(0, 1, size=(50, 64)).astype(np.float32))
    out = model(x).data
    assert out.shape == (50, 10) and np.abs(out).max() < 1  # tanh on the last layer too
    first = model[0]
    assert first.weight.shape == (32, 64) and abs(first.weight.data.std() * 8 - 1) < 0.1  # N(0,1)/sqrt(64)
    biases = np.concatenate([layer.bias.data for layer in model])
    assert abs(biases.std() - 1) < 0.3  # N(0, 1), not zeros


def test_modern_model_has_a_linear_output_and_zero_biases():
    model = training.build_model(grid.Study(protocol="modern"), "relu", "auto", np.random.default_rng(0))
    x = tg.tensor(np.random.default_rng(1).uniform(0, 1, size=(50, 64)).astype(np.float32))
    assert (model(x).data < 0).any()  # no ReLU on the logits
    assert all(not layer.bias.data.any() for layer in model)
    assert abs(model[0].weight.data.std() * np.sqrt(64 / 2) - 1) < 0.1  # He: N(0, 2/fan_in)


@pytest.mark.parametrize(
    "protocol, cost, activation",
    [("paper", "cross_entropy", "sigmoid"), ("paper", "mse", "rrelu"), ("modern", "cross_entropy", "tanh")],
)
def test_compiled_training_gives_the_eager_runs_bit_for_bit(protocol, cost, activation):
    study = grid.Study(protocol=protocol, epochs=2, inits=("xavier",), activations=(activation,))
    splits = grid.load_splits(study)
    records = []
    for compiled in (False, True):
        tg.manual_seed(0)  # RReLU draws its slopes from the default generator
        records.append(
            training.train_run(
                grid.with_overrides(study, compiled=compiled), splits, cost, activation, "xavier", 0.1, seed=0
            )
        )
    eager, compiled = records
    assert {k: v for k, v in eager.items() if k != "seconds"} == {k: v for k, v in compiled.items() if k != "seconds"}


# ---- divergence and the measurements -------------------------------------------------------------------
def test_a_diverging_run_is_flagged_without_any_floating_point_warning():
    study = grid.Study(costs=("mse",), activations=("relu",), inits=("gaussian",), lrs=(100.0,), epochs=3)
    splits = grid.load_splits(study)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = training.train_run(study, splits, "mse", "relu", "gaussian", 100.0, seed=0)
    assert record["diverged"]
    assert all(len(curve) == 3 for curve in record["curves"].values())


def test_measure_counts_dead_units_outputs_outside_0_1_and_stuck_outputs():
    study = grid.Study()
    model = training.build_model(study, "relu", "xavier", np.random.default_rng(0))
    for layer in model:  # every pre-activation is -1: all ReLUs off
        layer.weight.data[...] = 0
        layer.bias.data[...] = -1
    X = np.random.default_rng(1).uniform(0, 1, size=(40, 64)).astype(np.float32)
    labels = np.arange(40) % 10
    split = (X, np.eye(10, dtype=np.float32)[labels], labels)
    measured = measure.measure(model, split, paper_cost=training.paper_cross_entropy)
    assert measured["flat"] == 100 and measured["dead"] == 100
    assert measured["outside_01"] == 100  # every output is exactly 0
    assert measured["stuck"] == 10  # the true class's output (1 in 10) is wrong by 1 and gets no gradient
    assert measured["top_class"] == 100  # all outputs tie: one class for every sample


def test_measure_finds_no_trouble_in_a_healthy_sigmoid_network():
    study = grid.Study()
    model = training.build_model(study, "sigmoid", "xavier", np.random.default_rng(0))
    X = np.random.default_rng(1).uniform(0, 1, size=(40, 64)).astype(np.float32)
    labels = np.arange(40) % 10
    split = (X, np.eye(10, dtype=np.float32)[labels], labels)
    measured = measure.measure(model, split, paper_cost=training.paper_cross_entropy)
    assert measured["outside_01"] == 0 and measured["stuck"] == 0 and measured["dead"] == 0


def test_figures_are_written_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    study = grid.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), lrs=(0.5,), epochs=2)
    run.run_study(study, str(tmp_path), jobs=1, stream=io.StringIO())
    for name in ("accuracy_mse.png", "heatmap.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def cell(activation, init, curve):
    return {"cost": "mse", "activation": activation, "init": init, "lr": 0.5, "accuracy": curve[-1], "curve": curve}


@pytest.mark.parametrize("seeds, label", [(1, ""), (5, ", mean of 5 seeds")])
def test_figures_of_several_seeds_say_they_show_means(seeds, label):
    pytest.importorskip("matplotlib")
    study = grid.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), seeds=seeds)
    cells = [cell("sigmoid", "xavier", [50.0, 90.0]), cell("tanh", "xavier", [40.0, 80.0])]
    curves = report.accuracy_figure(study, cells, "mse")
    assert curves.axes[0].get_ylabel() == "accuracy on report split (%)" + label.replace(", ", "\n")
    assert [line.get_ydata().tolist() for line in curves.axes[1].get_lines()] == [[40.0, 80.0]]
    heatmap = report.heatmap_figure(study, cells)
    assert heatmap.axes[0].get_title() == f"report accuracy (%), paper protocol{label}"


# ---- the one model builder and training loop --------------------------------------------------------------
def test_network_puts_the_activation_on_hidden_layers_and_the_output_activation_on_the_last():
    model = training.network((64, 8, 6, 10), "relu", "he_normal", "zeros", np.random.default_rng(0))
    assert [(layer.weight.shape, type(layer.activation).__name__) for layer in model] == [
        ((8, 64), "ReLU"),
        ((6, 8), "ReLU"),
        ((10, 6), "NoneType"),
    ]
    model = training.network(
        (64, 8, 10), "tanh", "xavier_paper", "gaussian", np.random.default_rng(0), output_activation="tanh"
    )
    assert [type(layer.activation).__name__ for layer in model] == ["Tanh", "Tanh"]


def test_train_steps_takes_one_step_per_batch_and_returns_the_loss_summed_over_samples(rng):
    model = training.network((4, 3, 2), "tanh", "xavier_normal", "zeros", np.random.default_rng(0))
    X, y = rng.normal(size=(7, 4)).astype(np.float32), rng.integers(0, 2, 7)
    batches = [(tg.Tensor(X[:4]), y[:4]), (tg.Tensor(X[4:]), y[4:])]
    steps = []
    optimizer = tg.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the losses can be computed beforehand
    optimizer.register_step_post_hook(lambda *args: steps.append(1))
    expected = sum(tg.functional.cross_entropy(model(x), t).item() * len(x) for x, t in batches)
    total = training.train_steps(model, optimizer, tg.functional.cross_entropy, batches)
    assert len(steps) == 2 and total == pytest.approx(expected, rel=1e-6)


def test_measure_of_a_linear_output_leaves_the_paper_cost_columns_empty():
    model = training.build_model(grid.Study(protocol="modern"), "relu", "auto", np.random.default_rng(0))
    X = np.random.default_rng(1).uniform(0, 1, size=(40, 64)).astype(np.float32)
    labels = np.arange(40) % 10
    measured = measure.measure(model, (X, np.eye(10, dtype=np.float32)[labels], labels))
    assert measured["outside_01"] is None and measured["stuck"] is None
    assert 0 < measured["flat"] < 100 and 0 <= measured["top_class"] <= 100


# ---- SIGTERM, in the process -------------------------------------------------------------------------------
def test_sigterm_stops_the_study_like_ctrl_c_and_the_previous_handler_comes_back(tmp_path, monkeypatch):
    calls, original = [], parallel.train_run

    def terminated_on_second_run(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(*args, **kwargs)

    def previous(signum, frame):
        pytest.fail("the study's own SIGTERM handler should have run")

    monkeypatch.setattr(parallel, "train_run", terminated_on_second_run)
    signal.signal(signal.SIGTERM, previous)
    try:
        study = grid.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), lrs=(0.5,), epochs=1)
        cells, stopped_by = run.run_study(study, str(tmp_path), jobs=1, stream=io.StringIO(), plots=False)
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    results = json.loads((tmp_path / "results.json").read_text())
    assert stopped_by == signal.SIGTERM and results["interrupted"] is True
    assert [c["activation"] for c in results["cells"]] == ["sigmoid"]
