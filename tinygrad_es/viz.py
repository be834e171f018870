"""Pictures of the graph behind a tensor, as Graphviz DOT.

    print(to_dot(loss, names=dict(model.named_parameters())))
    render(loss, "graph.svg")          # needs the `dot` program from Graphviz

Ops are boxes named after their Function (a fused node after what it does: Linear+Sigmoid);
tensors are ellipses with their shape and dtype.
Leaves that require grad (the parameters) are filled blue. Draw before `backward()`, or pass
`retain_graph=True` to it: backward releases the graph's inputs.
"""

import os
import shutil
import subprocess

from .engine import Tensor, _node_name

FORMATS = ("svg", "png", "pdf")


def to_dot(tensor, names=None):
    """DOT text of the graph that produced `tensor`. `names` maps names to tensors to label them."""
    label_of = {id(t): name for name, t in (names or {}).items()}
    lines = ["digraph graph_of_tensor {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        lines.append(_tensor_node(t, label_of.get(id(t))))
        ctx = t.grad_fn
        if ctx is None:
            continue
        op = f"op{id(ctx)}"
        lines.append(f'  {op} [label="{_node_name(ctx)}", shape=box, style=filled, fillcolor=lightgray];')
        lines.append(f"  {op} -> t{id(t)};")
        for x in ctx.inputs or ():  # None once backward released the graph
            if isinstance(x, Tensor):
                lines.append(f"  t{id(x)} -> {op};")
                stack.append(x)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _tensor_node(t, name):
    label = f"{t.shape}\\n{t.dtype}"
    if name:
        label = f"{name}\\n{label}"
    style = ""
    if t.grad_fn is None and t.requires_grad:
        style = ", style=filled, fillcolor=lightblue"
    return f'  t{id(t)} [label="{label}", shape=ellipse{style}];'


def render(tensor, path, format="svg", names=None):
    """Write the graph of `tensor` to `path` as svg, png or pdf with Graphviz's `dot`."""
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render needs the Graphviz `dot` program, which is not installed: "
            "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
            "or use to_dot() to get the DOT text"
        )
    result = subprocess.run(
        [dot, f"-T{format}", "-o", os.fspath(path)],
        input=to_dot(tensor, names),
        text=True,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"render: dot failed: {result.stderr.strip()}")
    return path
