"""The READMEs' Python examples run as written (and say what they print)."""
import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "README.es.md"]


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_readme_examples_run_and_print_what_they_say(readme):
    blocks = python_blocks(readme)
    assert len(blocks) >= 3
    printed, namespace = io.StringIO(), {}  # blocks build on each other, as a reader types them
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(readme), "exec"), namespace)
    assert "validation accuracy: 0.972" in printed.getvalue()
    assert "True" in printed.getvalue()  # the gradcheck of the user-defined op


def test_spanish_readme_has_the_same_commands():
    commands = [re.findall(r"```bash\n(.*?)```", p.read_text(encoding="utf-8"), re.S) for p in READMES]
    assert commands[0] == commands[1]
