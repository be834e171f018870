"""The paper command: argument errors, a tiny grid's results files, Ctrl-C, the paper's costs."""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import experiment as ex
from tinygrad_es.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


# ---- bad arguments: one line on stderr, exit code 2 -------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--activations", "nope"], "unknown activation 'nope'"),
    (["--activations", "sigmoid,nope"], "unknown activation 'nope'"),
    (["--lrs", "0.1", "0"], "learning rates must be > 0 and finite, got 0"),
    (["--lrs", "-1"], "learning rates must be > 0 and finite, got -1"),
    (["--lrs", "nan"], "learning rates must be > 0 and finite, got nan"),
    (["--lrs", "fast"], "not a number: 'fast'"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--seeds", "0"], "--seeds must be at least 1, got 0"),
    (["--costs", "hinge"], "unknown cost 'hinge'"),
    (["--inits", "he_normal"], "unknown init 'he_normal' for --protocol paper"),
    (["--protocol", "modern", "--inits", "nope"], "unknown initializer 'nope'"),
    (["--activations", "softmax"], "activation 'softmax' is not elementwise"),
])
def test_bad_arguments_exit_2_with_one_error_line(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["paper", "--out", str(tmp_path), *argv])
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]


def test_unwritable_out_is_an_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run([sys.executable, "-m", "tinygrad_es", "paper", "--out", str(blocker / "sub")],
                            check=False, capture_output=True, text=True, env=_env(), timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error: --out" in result.stderr and "cannot write there" in result.stderr


@pytest.mark.parametrize("argv, options", [
    ([], ["paper", "diagnose"]),
    (["paper"], ["--protocol", "--activations", "--inits", "--costs", "--lrs", "--epochs", "--batch-size", "--seeds",
                 "--jobs", "--out", "--full"]),
    (["diagnose"], ["--activation", "--depth"]),
])
def test_every_command_has_help(argv, options, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


# ---- a tiny grid ---------------------------------------------------------------------------------------
def test_tiny_grid_writes_results_json_and_csv_with_every_cell(tmp_path, capsys):
    code = main(["paper", "--out", str(tmp_path), "--activations", "sigmoid", "relu", "--inits", "xavier",
                 "--lrs", "0.5", "--epochs", "1", "--jobs", "1", "--no-plots"])
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    cells = {(c["cost"], c["activation"], c["init"]) for c in results["cells"]}
    assert cells == {(cost, act, "xavier") for cost in ("cross_entropy", "mse") for act in ("sigmoid", "relu")}
    assert len(results["runs"]) == 4 and not results["interrupted"]
    for cell in results["cells"]:
        assert cell["lr"] == 0.5 and 0 <= cell["accuracy"] <= 100
        assert cell["paper"] == ex.PAPER_ACCURACY[(cell["cost"], "xavier", cell["activation"])]
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["cost"], r["activation"]) for r in rows} == {(c, a) for c, a, _ in cells}
    printed = capsys.readouterr().out
    assert "[96.39]" in printed and "[19.44]" in printed  # the paper's numbers beside ours


def test_parallel_runs_give_the_same_numbers_as_serial(tmp_path):
    study = ex.Study(costs=("mse",), activations=("sigmoid",), inits=("xavier",), lrs=(1.0, 0.1), epochs=1)
    serial, _ = ex.run_study(study, str(tmp_path / "a"), jobs=1, stream=io.StringIO(), plots=False)
    parallel, _ = ex.run_study(study, str(tmp_path / "b"), jobs=2, stream=io.StringIO(), plots=False)
    assert serial == parallel


def test_learning_rate_is_chosen_on_the_select_split_not_the_report_split():
    study = ex.Study(costs=("mse",), activations=("tanh",), inits=("xavier",), lrs=(1.0, 0.1))
    measures = dict.fromkeys(("flat", "dead", "out_flat", "outside_01", "nonfinite", "top_class"), 0.0)

    def record(lr, select, report):
        return {"cost": "mse", "activation": "tanh", "init": "xavier", "lr": lr, "seed": 0, "diverged": False,
                "select_accuracy": select, "report_accuracy": report, "at_init": measures, "at_end": measures,
                "curves": {"report": [report]}}

    (cell,) = ex.summarize(study, [record(1.0, 50.0, 90.0), record(0.1, 60.0, 40.0)])
    assert cell["lr"] == 0.1 and cell["accuracy"] == 40.0 and cell["paper"] == 25.28


def test_ctrl_c_keeps_the_finished_runs(tmp_path, monkeypatch):
    calls = []
    original = ex.train_run

    def interrupted_on_second_run(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(ex, "train_run", interrupted_on_second_run)
    study = ex.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), lrs=(0.5,), epochs=1)
    cells, interrupted = ex.run_study(study, str(tmp_path), jobs=1, stream=io.StringIO(), plots=False)
    results = json.loads((tmp_path / "results.json").read_text())
    assert interrupted and results["interrupted"]
    assert [(r["activation"], r["lr"]) for r in results["runs"]] == [("sigmoid", 0.5)]
    assert [c["activation"] for c in cells] == ["sigmoid"] == [c["activation"] for c in results["cells"]]


def test_sigint_to_the_command_keeps_results_and_exits_130(tmp_path):
    command = [sys.executable, "-m", "tinygrad_es", "paper", "--out", str(tmp_path), "--epochs", "2", "--jobs", "2",
               "--seeds", "3", "--no-plots"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + 30
    while not (tmp_path / "results.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["interrupted"] and 1 <= len(results["runs"]) < len(ex.Study(seeds=3).runs())


# ---- the paper's costs -----------------------------------------------------------------------------------
def test_paper_cross_entropy_is_the_papers_formula_summed_over_outputs_averaged_over_samples(rng):
    p = rng.uniform(0.05, 0.95, size=(4, 10))
    y = np.eye(10)[[1, 3, 3, 9]]
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum() / 4
    assert ex.paper_cross_entropy(tg.tensor(p), tg.tensor(y)).item() == pytest.approx(expected, rel=1e-12)


def test_paper_cross_entropy_clips_outputs_outside_0_1_and_gives_them_no_gradient():
    yhat = tg.tensor(np.array([[-0.5, 0.5, 1.5]]), requires_grad=True)
    y = tg.tensor(np.array([[1.0, 0.0, 0.0]]))
    loss = ex.paper_cross_entropy(yhat, y)
    eps = ex.CLIP_EPS
    assert loss.item() == pytest.approx(-(np.log(eps) + np.log(0.5) + np.log(eps)), rel=1e-9)
    loss.backward()
    np.testing.assert_allclose(yhat.grad.data, [[0.0, 1 / 0.5, 0.0]], rtol=1e-9)


def test_paper_cross_entropy_gradient_matches_finite_differences(rng):
    yhat = tg.tensor(rng.uniform(0.1, 0.9, size=(3, 10)), requires_grad=True)
    y = tg.tensor(np.eye(10)[[0, 4, 7]])
    assert tg.gradcheck(lambda p: ex.paper_cross_entropy(p, y), [yhat])


def test_paper_mse_is_half_the_squared_error_summed_per_sample_averaged_over_samples(rng):
    yhat = rng.normal(size=(5, 10))
    y = np.eye(10)[[0, 1, 2, 3, 4]]
    cost, uses_labels = ex.make_cost(ex.Study(), "mse")
    expected = ((y - yhat) ** 2).sum() / (2 * 5)
    assert not uses_labels and cost(tg.tensor(yhat), tg.tensor(y)).item() == pytest.approx(expected, rel=1e-12)


def test_modern_cross_entropy_is_softmax_cross_entropy_on_logits(rng):
    logits = rng.normal(size=(6, 10))
    labels = np.array([0, 2, 4, 6, 8, 9])
    cost, uses_labels = ex.make_cost(ex.Study(protocol="modern"), "cross_entropy")
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(6), labels].mean()
    assert uses_labels and cost(tg.tensor(logits), labels).item() == pytest.approx(expected, rel=1e-10)


def test_paper_model_puts_the_activation_on_the_output_and_draws_biases_from_n01():
    model = ex.build_model(ex.Study(), "tanh", "xavier", np.random.default_rng(0))
    x = tg.tensor(np.random.default_rng(1).uniform(0, 1, size=(50, 64)).astype(np.float32))
    out = model(x).data
    assert out.shape == (50, 10) and np.abs(out).max() < 1  # tanh on the last layer too
    first = model[0]
    assert first.weight.shape == (32, 64) and abs(first.weight.data.std() * 8 - 1) < 0.1  # N(0,1)/sqrt(64)
    biases = np.concatenate([layer.bias.data for layer in model])
    assert abs(biases.std() - 1) < 0.3  # N(0, 1), not zeros


def test_modern_model_has_a_linear_output_and_zero_biases():
    model = ex.build_model(ex.Study(protocol="modern"), "relu", "auto", np.random.default_rng(0))
    x = tg.tensor(np.random.default_rng(1).uniform(0, 1, size=(50, 64)).astype(np.float32))
    assert (model(x).data < 0).any()  # no ReLU on the logits
    assert all(not layer.bias.data.any() for layer in model)
    assert abs(model[0].weight.data.std() * np.sqrt(64 / 2) - 1) < 0.1  # He: N(0, 2/fan_in)


# ---- divergence and the measurements -------------------------------------------------------------------
def test_a_diverging_run_is_flagged_without_any_floating_point_warning():
    study = ex.Study(costs=("mse",), activations=("relu",), inits=("gaussian",), lrs=(100.0,), epochs=3)
    splits = ex.load_splits(study)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = ex.train_run(study, splits, "mse", "relu", "gaussian", 100.0, seed=0)
    assert record["diverged"]
    assert all(len(curve) == 3 for curve in record["curves"].values())


def test_measure_counts_dead_units_outputs_outside_0_1_and_stuck_outputs():
    study = ex.Study()
    model = ex.build_model(study, "relu", "xavier", np.random.default_rng(0))
    for layer in model:  # every pre-activation is -1: all ReLUs off
        layer.weight.data[...] = 0
        layer.bias.data[...] = -1
    X = np.random.default_rng(1).uniform(0, 1, size=(40, 64)).astype(np.float32)
    labels = np.arange(40) % 10
    split = (X, np.eye(10, dtype=np.float32)[labels], labels)
    measured = ex.measure(study, model, split, "cross_entropy")
    assert measured["flat"] == 100 and measured["dead"] == 100
    assert measured["outside_01"] == 100  # every output is exactly 0
    assert measured["stuck"] == 10  # the true class's output (1 in 10) is wrong by 1 and gets no gradient
    assert measured["top_class"] == 100  # all outputs tie: one class for every sample


def test_measure_finds_no_trouble_in_a_healthy_sigmoid_network():
    study = ex.Study()
    model = ex.build_model(study, "sigmoid", "xavier", np.random.default_rng(0))
    X = np.random.default_rng(1).uniform(0, 1, size=(40, 64)).astype(np.float32)
    labels = np.arange(40) % 10
    measured = ex.measure(study, model, (X, np.eye(10, dtype=np.float32)[labels], labels), "cross_entropy")
    assert measured["outside_01"] == 0 and measured["stuck"] == 0 and measured["dead"] == 0


def test_figures_are_written_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    study = ex.Study(costs=("mse",), activations=("sigmoid", "tanh"), inits=("xavier",), lrs=(0.5,), epochs=2)
    ex.run_study(study, str(tmp_path), jobs=1, stream=io.StringIO())
    for name in ("accuracy_mse.png", "heatmap.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
