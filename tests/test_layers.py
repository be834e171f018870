"""The package's layers: each module imports only modules of lower layers (the table below, which
the README's "What is inside" describes), and the engine stays small enough to read in one sitting."""

import ast
import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_es"

# The layers, lowest first. A module may import its own package's modules and any lower layer's.
LAYERS = [
    {"helpers", "versions"},
    {"engine", "random"},
    {"ops"},
    {"creation", "autograd"},
    {"activations", "convolution", "normalization", "embedding"},
    {"losses"},
    {"fused"},
    {"functional", "gradcheck", "linalg"},
    {"testing"},
    {"nn", "optim", "data", "serialization"},
    {"anomaly", "viz", "diagnostics"},
    {"interop", "compile", "explain"},
    {"study"},
    {"cli"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ENGINE_CODE_LINES = 300  # about 250, which a learner reads top to bottom


def _component(path):
    """'ops' for tinygrad_es/ops/shape.py, 'engine' for tinygrad_es/engine.py."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_components(path):
    """The package's components a file imports, anywhere in it (also inside functions)."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 1 inside a sub-package
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x, from ..x
                base = path.relative_to(PACKAGE).parts[: depth + 1 - node.level]
                parts = [*base, *(node.module.split(".") if node.module else [])]
                if parts:
                    found.add(parts[0].removesuffix(".py"))
                else:  # from . import a, b (at the top of the package)
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "tinygrad_es":
                rest = node.module.split(".")[1:]
                found.update([rest[0]] if rest else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("tinygrad_es."))
    return found


def test_every_module_belongs_to_a_layer():
    modules = {_component(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    modules |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules - set(RANK) == set(), "add the new module to LAYERS (and to the README's table)"


def test_modules_import_only_lower_layers():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue  # the package's top re-exports the public names of every layer
        own = _component(path)
        for imported in _imported_components(path) - {own}:
            if RANK.get(imported, -1) >= RANK[own]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert not upward, "imports that go up or sideways:\n" + "\n".join(sorted(upward))


def test_the_engine_imports_nothing_of_ours_but_the_helpers_and_the_write_clock():
    # and, for a type checker only (under TYPE_CHECKING), the stubs of the methods the op modules attach
    assert _imported_components(PACKAGE / "engine.py") == {"helpers", "versions", "tensor_methods"}


def _code_lines(path):
    """Lines holding code: not blank, not comments, not docstrings."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            docstrings.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    code = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            code.update(line for line in range(token.start[0], token.end[0] + 1) if line not in docstrings)
    return len(code)


def test_the_engine_reads_in_one_sitting():
    assert _code_lines(PACKAGE / "engine.py") <= ENGINE_CODE_LINES


def test_the_readmes_list_the_layers_of_this_table_in_order():
    numbered_item = re.compile(r"^\d+\. (.*(?:\n   .*)*)", re.M)
    module_name = re.compile(r"`(\w+)(?:\.py|/)`")
    for readme, table_head in (("README.md", "| file |"), ("README.es.md", "| archivo |")):
        text = (PACKAGE.parent / readme).read_text(encoding="utf-8")
        section = text[text.index("`tests/test_layers.py`") : text.index(table_head)]
        listed = [set(module_name.findall(item)) for item in numbered_item.findall(section)]
        assert listed == LAYERS, readme
