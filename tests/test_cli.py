"""The `tinygrad-es` command: argument errors before any work, help, version, worker count, a tiny
grid's results files, Ctrl-C and SIGTERM, and the diagnose command."""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import tinygrad_es as tg
from tinygrad_es.cli import main
from tinygrad_es.study import diagnose, grid, parallel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def one_error_line(capsys):
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1, errors
    return errors[0]


# ---- bad arguments: one line on stderr, exit code 2 -------------------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
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
    ],
)
def test_bad_arguments_exit_2_with_one_error_line(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["paper", "--out", str(tmp_path), *argv])
    assert exit_info.value.code == 2
    assert message in one_error_line(capsys)


def test_unwritable_out_is_an_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_es", "paper", "--out", str(blocker / "sub")],
        check=False,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error: --out" in result.stderr and "cannot write there" in result.stderr


@pytest.mark.parametrize(
    "argv, options",
    [
        ([], ["paper", "diagnose"]),
        (
            ["paper"],
            [
                "--protocol",
                "--activations",
                "--inits",
                "--costs",
                "--lrs",
                "--epochs",
                "--batch-size",
                "--seeds",
                "--jobs",
                "--out",
                "--full",
            ],
        ),
        (["diagnose"], ["--activation", "--depth"]),
    ],
)
def test_every_command_has_help(argv, options, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"tinygrad-es {tg.__version__}\n" == "tinygrad-es 0.1.0\n"


def test_full_is_not_called_the_papers_settings(capsys):
    with pytest.raises(SystemExit):
        main(["paper", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--full longer runs, 30 epochs and 5 seeds (the paper gives neither its epochs nor its batch size" in text
    assert "the paper's full settings" not in text


# ---- processes: never more than runs or cores -------------------------------------------------------------
@pytest.mark.parametrize(
    "jobs, runs, expected",
    [
        (1000, 1, 1),
        (1000, 500, os.cpu_count()),
        (2, 500, min(2, os.cpu_count())),
        (1, 500, 1),
    ],
)
def test_worker_count_is_capped_by_runs_and_cores(jobs, runs, expected):
    assert parallel.worker_count(jobs, runs) == expected


def test_a_thousand_jobs_for_one_run_start_no_pool(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parallel, "_start_workers", lambda *args: pytest.fail("started a pool for one run"))
    code = main(
        [
            "paper",
            "--out",
            str(tmp_path),
            "--activations",
            "sigmoid",
            "--inits",
            "xavier",
            "--costs",
            "mse",
            "--lrs",
            "0.5",
            "--epochs",
            "1",
            "--jobs",
            "1000",
            "--no-plots",
        ]
    )
    assert code == 0
    assert "= 1 runs of 1 epochs (batch 10), 1 process(es)" in capsys.readouterr().out


# ---- a tiny grid ---------------------------------------------------------------------------------------
def test_tiny_grid_writes_results_json_and_csv_with_every_cell(tmp_path, capsys):
    code = main(
        [
            "paper",
            "--out",
            str(tmp_path),
            "--activations",
            "sigmoid",
            "relu",
            "--inits",
            "xavier",
            "--lrs",
            "0.5",
            "--epochs",
            "1",
            "--jobs",
            "1",
            "--no-plots",
        ]
    )
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    cells = {(c["cost"], c["activation"], c["init"]) for c in results["cells"]}
    assert cells == {(cost, act, "xavier") for cost in ("cross_entropy", "mse") for act in ("sigmoid", "relu")}
    assert len(results["runs"]) == 4 and not results["interrupted"]
    for cell in results["cells"]:
        assert cell["lr"] == 0.5 and 0 <= cell["accuracy"] <= 100
        assert cell["paper"] == grid.PAPER_ACCURACY[(cell["cost"], "xavier", cell["activation"])]
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["cost"], r["activation"]) for r in rows} == {(c, a) for c, a, _ in cells}
    printed = capsys.readouterr().out
    assert "[96.39]" in printed and "[19.44]" in printed  # the paper's numbers beside ours


def test_no_compile_trains_eagerly_to_the_same_results(tmp_path, capsys):
    results = []
    for flags in ([], ["--no-compile"]):
        out = tmp_path / (flags[0] if flags else "compiled")
        assert (
            main(
                [
                    "paper",
                    "--out",
                    str(out),
                    "--activations",
                    "tanh",
                    "--inits",
                    "xavier",
                    "--costs",
                    "ce",
                    "--lrs",
                    "0.1",
                    "--epochs",
                    "2",
                    "--jobs",
                    "1",
                    "--no-plots",
                    *flags,
                ]
            )
            == 0
        )
        results.append(json.loads((out / "results.json").read_text()))
    assert [r["study"]["compiled"] for r in results] == [True, False]
    assert results[0]["cells"] == results[1]["cells"]
    assert [r["curves"] for r in results[0]["runs"]] == [r["curves"] for r in results[1]["runs"]]


# ---- stopping: Ctrl-C and SIGTERM keep the finished runs -----------------------------------------------
@pytest.mark.parametrize("stop, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_command_keeps_results_marked_interrupted(tmp_path, stop, code):
    command = [
        sys.executable,
        "-m",
        "tinygrad_es",
        "paper",
        "--out",
        str(tmp_path),
        "--epochs",
        "2",
        "--jobs",
        "2",
        "--seeds",
        "3",
        "--no-plots",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + 30
    while not (tmp_path / "results.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(stop)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err and f"interrupted ({stop.name}): kept" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["interrupted"] is True and 1 <= len(results["runs"]) < len(grid.Study(seeds=3).runs())


# ---- the diagnose command ----------------------------------------------------------------------------------
def test_diagnose_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["diagnose", "--help"])
    assert exit_info.value.code == 0 and "--claims" in capsys.readouterr().out


def test_diagnose_tiny_run_prints_the_report(capsys):
    argv = ["--depth", "2", "--width", "8", "--steps", "3", "--activation", "relu", "--init", "he_normal"]
    assert main(["diagnose", *argv]) == 0
    out = capsys.readouterr().out
    assert "step 2 (3 recorded)" in out and "1.activation (ReLU)" in out
    assert "weight gradient norm, first hidden layer / last hidden layer: " in out


def test_diagnose_writes_its_plots_to_the_png_it_is_given(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "inside.png"
    assert main(["diagnose", "--depth", "2", "--width", "4", "--steps", "2", "--out", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG" and f"plots written to {path}" in capsys.readouterr().out


def test_diagnose_claims_are_each_confirmed_with_numbers(capsys):
    assert main(["diagnose", "--claims", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert out.count("verdict: CONFIRMED") == 3, out
    assert "x0." in out  # sigmoid's factor per layer


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--depth", "0"], "--depth must be at least 1, got 0"),
        (["--seed", "-1"], "--seed must be at least 0, got -1"),
        (["--lr", "-1"], "--lr must be > 0 and finite, got -1"),
        (["--lr", "inf"], "--lr must be > 0 and finite, got inf"),
        (["--activation", "nope"], "--activation: unknown name 'nope'"),
        (["--init", "nope"], "--init: unknown initializer 'nope'"),
        (["--steps", "x"], "invalid int value"),
        (["--out", "/no/such/dir/d.png"], "--out /no/such/dir/d.png: its directory does not exist"),
        (["--out", "plots.pdf"], "--out plots.pdf: the plots are a PNG image; give a name ending in .png"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
@pytest.mark.parametrize("claims", [[], ["--claims"]], ids=["report", "claims"])
def test_diagnose_bad_arguments_exit_2_with_one_error_line_before_training(argv, message, claims, capsys, monkeypatch):
    monkeypatch.setattr(diagnose, "diagnose", lambda *args: pytest.fail("trained before checking its arguments"))
    monkeypatch.setattr(diagnose, "claims", lambda *args: pytest.fail("trained before checking its arguments"))
    with pytest.raises(SystemExit) as exit_info:
        main(["diagnose", *claims, *argv])
    assert exit_info.value.code == 2
    assert message in one_error_line(capsys)


def test_diagnose_out_in_an_unwritable_directory_is_an_error_before_training(tmp_path, capsys, monkeypatch):
    def refused(*args, **kwargs):  # what a read-only directory gives (root may write anywhere)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    monkeypatch.setattr(diagnose, "diagnose", lambda *args: pytest.fail("trained before checking its arguments"))
    with pytest.raises(SystemExit) as exit_info:
        main(["diagnose", "--out", str(tmp_path / "d.png")])
    assert exit_info.value.code == 2
    assert f"--out {tmp_path / 'd.png'}: cannot write there (Permission denied)" in one_error_line(capsys)
