"""Every Python block of README.md and README.es.md runs as written, on its own (a fresh namespace,
in an empty directory), and does what the text around it says."""

import contextlib
import functools
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "README.es.md"]


def blocks(path, language):
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@functools.cache  # each block runs once; the tests below read what it left
def run_block(code):
    """(namespace, printed text) of one block run in a fresh namespace inside an empty directory
    (a traceback's line numbers count from the block's first line)."""
    namespace, printed, cwd = {"__name__": "__main__"}, io.StringIO(), os.getcwd()
    with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stdout(printed):
        os.chdir(directory)
        try:
            exec(compile(code, "<README block>", "exec"), namespace)
        finally:
            os.chdir(cwd)
    return namespace, printed.getvalue()


def readme_blocks():
    return [
        pytest.param(path, index, code, id=f"{path.name}-{index}")
        for path in READMES
        for index, code in enumerate(blocks(path, "python"))
    ]


@pytest.mark.parametrize("readme, index, code", readme_blocks())
def test_every_python_block_runs_on_its_own(readme, index, code):
    for extra in re.findall(r"^import (torch|onnxruntime)$", code, re.M):  # the optional extras (CI has them)
        pytest.importorskip(extra)
    run_block(code)


def find_block(readme, marker):
    (code,) = [code for code in blocks(readme, "python") if marker in code]
    return code


@pytest.fixture(params=READMES, ids=lambda path: path.name)
def readme(request):
    return request.param


def test_quick_start_prints_the_accuracy_the_text_gives(readme):
    _, printed = run_block(find_block(readme, "validation accuracy"))
    (stated,) = re.findall(r"`validation accuracy: ([\d.]+)`", readme.read_text(encoding="utf-8"))
    (got,) = re.findall(r"validation accuracy: ([\d.]+)", printed)
    assert abs(float(got) - float(stated)) <= 0.006  # two digits of 360: what another CPU may round differently


def test_gradient_block_gives_the_gradients_of_its_comment(readme):
    namespace, _ = run_block(find_block(readme, "print(x.grad, w.grad, b.grad)"))
    x, w = namespace["x"].data, namespace["w"].data
    np.testing.assert_array_equal(namespace["x"].grad.data, np.ones((2, 1)) @ w.T)  # [[0.5, -1], [0.5, -1]]
    np.testing.assert_array_equal(namespace["w"].grad.data, x.T @ np.ones((2, 1)))  # [[4], [6]]
    np.testing.assert_array_equal(namespace["b"].grad.data, [2.0])


def test_custom_op_block_passes_gradcheck(readme):
    _, printed = run_block(find_block(readme, "class Cube"))
    assert printed == "True\n"


def test_tools_block_records_steps_runs_a_hook_and_draws_a_graph(readme):
    namespace, printed = run_block(find_block(readme, "Diagnostics("))
    assert namespace["report"].splitlines()[0] == "step 4 (5 recorded)"
    assert printed == "dense 0: (16, 32)\n"
    dot = namespace["dot"]
    assert dot.count("->") >= 6 and '"0.weight' in dot and '"1.bias' in dot  # a graph, with the parameters named


def test_cnn_block_prints_the_summary_table_shown_below_it_and_pytorchs_keys(readme):
    namespace, printed = run_block(find_block(readme, "nn.utils.summary"))
    assert namespace["table"] in readme.read_text(encoding="utf-8")
    assert printed.startswith(namespace["table"] + "\n")
    assert namespace["logits"].shape == (5, 10)
    assert printed.splitlines()[-1] == "['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var']"


def test_the_pytorch_block_gives_the_same_outputs_and_a_pytorch_module(readme):
    pytest.importorskip("torch")
    namespace, printed = run_block(find_block(readme, "to_torch(model)"))
    assert printed.endswith("True\n")
    assert [type(m).__name__ for m in namespace["module"]] == ["Linear", "Sigmoid", "Linear"]
    assert repr(namespace["back"]) == repr(namespace["model"])


def test_the_onnx_block_gives_onnxruntimes_outputs_and_the_modules_back(readme):
    pytest.importorskip("onnxruntime")
    namespace, printed = run_block(find_block(readme, "to_onnx(model"))
    assert printed == "True\n"
    assert namespace["probabilities"].shape == (1797, 10)
    assert repr(namespace["again"]) == repr(namespace["model"])


def test_the_cnn_block_gives_pytorchs_and_onnxruntimes_outputs(readme):
    pytest.importorskip("torch"), pytest.importorskip("onnxruntime")
    namespace, printed = run_block(find_block(readme, '"cnn.onnx"'))
    assert printed == "True\nTrue\n"
    assert int(namespace["cnn"][1].num_batches_tracked.data) == 20 and not namespace["module"].training


def test_compile_block_records_and_replays_as_its_comment_says(readme):
    namespace, printed = run_block(find_block(readme, "@tg.compile"))
    assert printed == "5 calls recorded, 280 replayed\n"
    assert len({id(loss.data) for loss in namespace["losses"]}) == 285  # a new loss every call


def test_both_readmes_have_the_same_commands_and_the_same_python_statements():
    # the same commands, except that each README opens the notebooks in its own language
    commands = [[block.replace("notebooks/es", "notebooks/en") for block in blocks(path, "bash")] for path in READMES]
    assert commands[0] == commands[1]
    code = [[re.sub(r"\s*#.*", "", block) for block in blocks(path, "python")] for path in READMES]
    assert code[0] == code[1]  # only the comments are translated


def test_second_derivative_block_gives_the_values_of_its_comments(readme):
    namespace, printed = run_block(find_block(readme, "create_graph=True)   #"))
    np.testing.assert_array_equal(namespace["g"].data, [0.75, 3.0])  # 3 x^2 at 0.5 and -1
    np.testing.assert_array_equal(namespace["h"].data, [3.0, -6.0])  # 6 x
    assert printed.splitlines()[0] == "[0.75 3.  ] [ 3. -6.]"


def test_testing_kit_block_checks_a_custom_op_to_second_order(readme):
    namespace, printed = run_block(find_block(readme, "class Softsign"))
    assert printed == "checked\n"
    assert namespace["test_softsign"].hypothesis.inner_test  # a hypothesis test, run above


def test_the_pytorch_block_prints_the_same_with_pytorch(readme):
    code = find_block(readme, "import tinygrad_es as torch")
    _, printed = run_block(code)
    (stated,) = re.findall(r"# ([\d.]+ \[[\d, ]+\])", code)
    assert printed.strip() == stated
    pytest.importorskip("torch")
    with_torch = code.replace(
        "import tinygrad_es as torch\nfrom tinygrad_es import functional as F",
        "import torch\nfrom torch.nn import functional as F",
    )
    _, printed_by_torch = run_block(with_torch)
    assert printed_by_torch == printed
