"""Every notebook of notebooks/ runs top to bottom in a fresh kernel, without an error and without a
warning. Not part of the default run (that suite stays under 3 minutes) but of the full check that
CI runs (README, "The two commands"); on its own the command is

    pip install -e ".[dev,notebooks]" && python -m pytest tests/notebooks.py --durations=0

`--durations=0` prints each notebook's time; no time is asserted (the machine may be shared).
The notebooks check their own numbers with assert statements, so a wrong number fails here too."""

from pathlib import Path

import pytest

try:
    import nbformat
    from nbclient import NotebookClient
except ImportError as error:  # say what to install, rather than skip
    raise ImportError(f"{error}: the notebooks need the 'notebooks' extra: pip install -e '.[notebooks]'") from None

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_notebook_runs_top_to_bottom_without_errors_or_warnings(path):
    notebook = nbformat.read(path, as_version=4)
    # in the notebook's own folder, as Jupyter runs it; an error in a cell raises CellExecutionError
    folder = {"metadata": {"path": str(path.parent)}}
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=folder).execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert ["".join(output["text"]) for output in outputs if output.get("name") == "stderr"] == []  # warnings land here
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= 2  # each notebook teaches with plots
