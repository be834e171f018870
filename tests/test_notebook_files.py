"""The notebooks as files: stored without outputs, the Spanish and the English ones cell for cell the
same code, each ending with exercises and their hidden answers, each plot titled and labelled, each
listed in both READMEs. (Running them is tests/notebooks.py, outside the default run.)"""

import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPANISH = sorted((ROOT / "notebooks" / "es").glob("*.ipynb"))
ENGLISH = sorted((ROOT / "notebooks" / "en").glob("*.ipynb"))
PAIRS = list(zip(SPANISH, ENGLISH))
ALL = SPANISH + ENGLISH


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


# string literals, and from Python 3.12 on the text parts of an f-string (its expressions stay)
WORDS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def code_without_words(code):
    """The code's tokens, comments dropped and the text of every string emptied: what must not
    change from one language to the other."""
    return [
        (token.type, "" if token.type in WORDS else token.string)
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL)
    ]


def test_five_notebooks_in_each_language_numbered_alike():
    assert len(SPANISH) == len(ENGLISH) == 5
    assert [path.name[:3] for path in SPANISH] == [path.name[:3] for path in ENGLISH] == [f"0{i}_" for i in range(1, 6)]


@pytest.mark.parametrize("path", ALL, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_stored_without_outputs_as_a_python_3_notebook(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert (notebook["nbformat"], notebook["metadata"]["kernelspec"]["name"]) == (4, "python3")
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("spanish, english", PAIRS, ids=lambda path: path.stem)
def test_both_languages_have_the_same_cells_and_the_same_code(spanish, english):
    es, en = cells(spanish), cells(english)
    assert [(c["cell_type"], c["metadata"]) for c in es] == [(c["cell_type"], c["metadata"]) for c in en]
    for a, b in zip(es, en):
        if a["cell_type"] == "code":
            assert code_without_words(source(a)) == code_without_words(source(b)), source(b)


@pytest.mark.parametrize("path", ALL, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_it_ends_with_exercises_each_followed_by_its_hidden_answer(path):
    heading = "## Ejercicios" if path.parent.name == "es" else "## Exercises"
    notebook = cells(path)
    (start,) = [i for i, cell in enumerate(notebook) if heading in source(cell)]
    exercises = [i for i, cell in enumerate(notebook) if i >= start and re.search(r"^\*\*\d\.", source(cell), re.M)]
    assert len(exercises) >= 3
    for i in exercises:
        answer = notebook[i + 1]
        hidden_code = answer["cell_type"] == "code" and answer["metadata"].get("jupyter", {}).get("source_hidden")
        assert hidden_code or source(answer).startswith("<details>"), source(notebook[i])


@pytest.mark.parametrize("path", ALL, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_every_plot_has_a_title_and_an_axis_label(path):
    for cell in cells(path):
        code = source(cell)
        if "plt.show()" in code:
            assert "title" in code and "xlabel" in code, code


# English words a Spanish sentence should not borrow (code spans and formulas aside)
BORROWED = ["accuracy", "learning rate", "epoch", "dataset", "training", "layer", "weights", "backpropagation", "loss"]


@pytest.mark.parametrize("path", SPANISH, ids=lambda path: path.stem)
def test_the_spanish_prose_uses_spanish_terms(path):
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            prose = re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", "", source(cell), flags=re.S).lower()
            assert not [word for word in BORROWED if re.search(rf"\b{word}\b", prose)], source(cell)


@pytest.mark.parametrize("readme, folder", [("README.md", "en"), ("README.es.md", "es")])
def test_each_readme_lists_its_notebooks_and_the_command_that_opens_them(readme, folder):
    text = (ROOT / readme).read_text(encoding="utf-8")
    for path in (ROOT / "notebooks" / folder).glob("*.ipynb"):
        assert f"notebooks/{folder}/{path.name}" in text
    assert f'pip install ".[notebooks]" && jupyter lab notebooks/{folder}' in text
