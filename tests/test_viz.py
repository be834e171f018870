"""Graph pictures: DOT text of the graph behind a tensor, rendered by Graphviz when present."""

import re
import shutil

import numpy as np
import pytest

from tinygrad_es import Tensor, viz


def nodes_and_edges(dot):
    nodes = re.findall(r"^\s+(\w+) \[label=\"([^\"]*)\"", dot, re.MULTILINE)
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, re.MULTILINE)
    return dict(nodes), edges


def test_dot_of_a_known_graph_has_its_ops_tensors_and_edges():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    w = Tensor(np.ones((3, 4)), requires_grad=True)
    loss = (x @ w).sum()
    dot = viz.to_dot(loss)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    nodes, edges = nodes_and_edges(dot)
    assert sorted(nodes.values()) == sorted(
        ["MatMul", "Sum", "(2, 3)\\nfloat64", "(3, 4)\\nfloat64", "(2, 4)\\nfloat64", "()\\nfloat64"]
    )
    assert len(edges) == 5  # x -> MatMul, w -> MatMul, MatMul -> x@w, x@w -> Sum, Sum -> loss
    op = {label: name for name, label in nodes.items()}
    assert (f"t{id(x)}", op["MatMul"]) in edges and (op["Sum"], f"t{id(loss)}") in edges


def test_leaves_that_require_grad_are_filled_and_names_label_them():
    w = Tensor(np.ones(3), requires_grad=True)
    data = Tensor(np.ones(3))
    dot = viz.to_dot(w * data, names={"weight": w})
    leaf_lines = [line for line in dot.splitlines() if "fillcolor=lightblue" in line]
    assert len(leaf_lines) == 1 and "weight\\n(3,)" in leaf_lines[0]
    assert f't{id(data)} [label="(3,)\\nfloat64", shape=ellipse];' in dot  # data: plain, no fill


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = Tensor(np.ones(2), requires_grad=True)
    nodes, edges = nodes_and_edges(viz.to_dot(x * x))
    assert len(nodes) == 3 and edges.count((f"t{id(x)}", next(n for n, lbl in nodes.items() if lbl == "Mul"))) == 2


def test_a_deep_chain_is_drawn_without_recursion():
    x = Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes, edges = nodes_and_edges(viz.to_dot(y))
    assert len(nodes) == 3001 + 3000 and len(edges) == 2 * 3000


def test_render_without_graphviz_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz"):
        viz.render(Tensor([1.0], requires_grad=True) * 2.0, tmp_path / "g.svg")


def test_render_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="render: format must be one of svg, png, pdf, got 'gif'"):
        viz.render(Tensor([1.0]), tmp_path / "g.gif", format="gif")


def test_render_writes_svg_with_graphviz(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed")
    path = viz.render(Tensor([1.0], requires_grad=True).exp(), tmp_path / "g.svg")
    assert "<svg" in path.read_text()
