"""Each example runs on its own, in seconds, and prints what it promises."""

import os
import re
import subprocess
import sys

import pytest

from tinygrad_es import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, timeout=60):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    return result.stdout


def test_quickstart_learns_the_digits():
    out = run_example("quickstart.py")
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy > 90


def test_quickstart_compiled_reports_the_time_saved_and_the_same_weights():
    out = run_example("quickstart.py", "--compile")
    assert float(re.search(r"test accuracy: ([\d.]+)%", out).group(1)) > 90
    assert re.search(r"training took [\d.]+ s compiled, [\d.]+ s eager: -?[\d.]+ s saved \(-?\d+%\)", out)
    assert "the same weights, bit for bit: True" in out


def test_universal_approximator_reproduces_the_notes_table_and_improves_with_units():
    out = run_example("universal_approximator.py")
    rows = [list(map(int, line.split())) for line in out.splitlines() if re.fullmatch(r"\s*-?\d+(\s+\d+){8}", line)]
    expected_out = {-2: 0, 0: 7, 2: 7, 4: 3, 6: 3, 8: 1, 10: 1, 12: 0, 14: 0}
    assert {row[0]: row[-1] for row in rows} == expected_out
    assert [row[1:5] for row in rows if row[0] == 8] == [[1, 1, 1, 0]]  # past the lines at 0, 4, 8, not 12
    assert [row[5:8] for row in rows if row[0] == 4] == [[0, 1, 0]]  # between the lines at 4 and 8
    errors = [float(e) for e in re.findall(r"mean squared error ([\d.]+)", out)]
    assert len(errors) == 4 and errors[-1] < errors[0] / 10


def test_softmax_intuition_prints_the_notes_three_cases():
    out = run_example("softmax_intuition.py")
    assert "[0.846, 0.085, 0.069]" in out
    assert "[0.316, 0.258, 0.426]" in out
    assert "[0.13, " + ", ".join(["0.097"] * 9) + "]" in out


def test_custom_function_passes_gradcheck_and_a_wrong_backward_is_caught():
    out = run_example("custom_function.py")
    assert "gradcheck against finite differences: passed" in out
    assert "gradgradcheck (second derivatives): passed" in out
    assert "a wrong backward is caught: Jacobian mismatch" in out


def test_cnn_reaches_98_5_percent_on_the_studys_report_split_beside_the_papers_mlp():
    out = run_example("cnn_digits.py")
    cnn, mlp = (
        float(re.search(rf"{name}\s+test accuracy ([\d.]+)%", out).group(1))
        for name in (r"CNN \+ BatchNorm", "paper's MLP 64-32-16-10 sigmoid")
    )
    assert cnn >= 98.5 > mlp  # mean over three seeds
    assert out.count("seed ") == 6 and "epoch 15: train loss" in out


def test_batchnorm_rescue_trains_each_cell_with_and_without_batchnorm():
    out = run_example("batchnorm_rescue.py", "--epochs", "1", "--lrs", "0.1")
    rows = [line.split() for line in out.splitlines() if line.startswith(("cross_entropy/", "mse/"))]
    assert [row[0] for row in rows] == ["cross_entropy/tanh", "cross_entropy/relu", "mse/tanh", "mse/relu"]
    for row in rows:  # accuracy, lr, flat% without BatchNorm, then with it, then the paper's number
        assert len(row) == 8 and row[2] == row[5] == "0.1"
    assert [row[6] for row in rows if "tanh" in row[0]] == ["0.1%", "0.1%"]  # BatchNorm: tanh starts unsaturated


@pytest.mark.parametrize("name", ["gradient_check.py"])
def test_gradient_check_passes_for_every_activation_and_loss(name):
    out = run_example(name)
    passed, total = map(int, re.search(r"(\d+) of (\d+) pass", out).groups())
    assert passed == total >= 30
    assert "FAIL" not in out


def test_second_derivatives_table_covers_every_activation_and_matches_the_notes_formulas():
    out = run_example("second_derivatives.py", "--table")
    table = [line.split() for line in out.splitlines() if re.fullmatch(r"\w+( +-?[\d./-]+){4}", line)]
    rows = {row[0]: row[1:] for row in table}
    assert set(rows) == set(nn.activation_names()) - {"linear", "swish"}
    assert rows["sigmoid"][2] == "0.622/0.235/-0.058"  # x = 0.5: s, s (1 - s), s (1 - s) (1 - 2 s)
    assert rows["tanh"][3] == "0.964/0.071/-0.136"  # x = 2: t, 1 - t^2, -2 t (1 - t^2)
    assert rows["relu"][3] == "2.000/1.000/0.000"
    differences = [float(line.split()[-1]) for line in out.splitlines() if re.search(r"f'{1,2} += ", line)]
    assert len(differences) == 12 and max(differences) < 1e-12  # six activations, f' and f''


def test_second_derivatives_draws_its_figure(tmp_path):
    pytest.importorskip("matplotlib")
    run_example("second_derivatives.py", str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_newton_reaches_the_exact_minimum_and_the_least_squares_solution():
    out = run_example("newton.py")
    assert "Hessian by autograd equals the hand-written one: max |difference| 0.0e+00" in out
    errors = [float(e) for e in re.findall(r"\|\(x, y\) - \(1, 1\)\| = (\S+)", out)]
    assert errors[-1] < 1e-12 and len(errors) < 10
    assert errors[-2] < errors[-3] ** 1.5  # quadratic convergence near the minimum
    differences = [float(d) for d in re.findall(r"max \|difference\| (\S+)", out)]
    assert len(differences) == 3 and max(differences) < 1e-10
    assert "4 Hessian-vector products" in out  # conjugate gradient: as many as the 4 parameters


def test_pytorch_snippets_run_unchanged_and_agree_with_pytorch():
    pytest.importorskip("torch")
    out = run_example("pytorch_snippets.py")
    assert out.count("same as PyTorch") == 6 and "DIFFERENT" not in out
    assert "0.75" in out  # the top-2 accuracy of the second snippet
