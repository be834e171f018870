"""Every activation and its derivative, the derivative taken by backward (no formula written here).

    python examples/activations.py                 # one PNG, activations.png (needs matplotlib)
    python examples/activations.py out.png         # the same, to out.png
    python examples/activations.py --table         # a table of f and f' at a few points

Without matplotlib it prints the table instead. The grid is the course notes': -10..10, 1000 points.
"""

import sys

import numpy as np

from tinygrad_es import Tensor, autograd, nn

TABLE_POINTS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]
GRID = np.linspace(-10, 10, 1000)  # the notes' grid


def derivatives(name, x, order=1):
    """[f(x), f'(x), ...] up to the order-th derivative on a 1-D grid x, each by backward (recording
    a graph with create_graph=True while another derivative is still to come). The activations along
    an axis get one row per point: (x, 0) for the softmax family, showing entry 0; (1, x) for glu,
    showing 1 * sigmoid(x)."""
    if name in ("softmax", "log_softmax", "softmin"):
        rows, column = np.stack([x, np.zeros_like(x)], 1), 0
    elif name == "glu":
        rows, column = np.stack([np.ones_like(x), x], 1), 1
    else:
        rows, column = x, None
    t = Tensor(rows, requires_grad=True)
    out = nn.get_activation(name).eval()(t)
    curves = [out if column is None else out[:, 0]]  # a row's entry 0 depends on that row only: sums keep rows apart
    for k in range(1, order + 1):
        last, grad = curves[-1], None
        if last.requires_grad:  # otherwise a constant (the identity's f'), whose derivative is 0
            (grad,) = autograd.grad(last.sum(), t, create_graph=k < order, allow_unused=True)
        grad = Tensor(np.zeros_like(rows)) if grad is None else grad
        curves.append(grad if column is None else grad[:, column])
    return [curve.data for curve in curves]


def names():
    """Each activation once (the registry's aliases "linear" and "swish" left out)."""
    return [name for name in nn.activation_names() if name not in ("linear", "swish")]


def print_table():
    print(f"{'activation':<12}" + "".join(f"{x:>16g}" for x in TABLE_POINTS))
    for name in names():
        f, df = derivatives(name, np.array(TABLE_POINTS))
        print(f"{name:<12}" + "".join(f"{a:>8.3f}/{b:<7.3f}" for a, b in zip(f, df)))
    print("(each cell: f(x)/f'(x), f' by backward; softmax family: entry 0 of (x, 0); glu: of (1, x))")


def figure(path, draw, ylim):
    """One panel per activation, `draw(ax, name)` filling each, the legend of sigmoid's panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_names = names()
    columns = 6
    rows = -(-len(all_names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.4 * rows), sharex=True)
    for ax, name in zip(axes.flat, all_names):
        draw(ax, name)
        ax.set_title(name)
        ax.set_ylim(*ylim)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(all_names) :]:
        ax.axis("off")
    fig.legend(*axes.flat[all_names.index("sigmoid")].get_legend_handles_labels(), loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


def plot(path):
    def draw(ax, name):
        f, df = derivatives(name, GRID)
        ax.plot(GRID, f, label="f")
        ax.plot(GRID, df, "--", label="f' (backward)")

    figure(path, draw, (-3, 6))


def run(argv, print_table, plot, default_path):
    """The command line: --table prints the table; otherwise the figure, to argv[0] or default_path
    (the table instead when matplotlib is not installed)."""
    if "--table" in argv:
        print_table()
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: printing the table instead")
        print_table()
        return
    plot(argv[0] if argv else default_path)


def main(argv):
    run(argv, print_table, plot, "activations.png")


if __name__ == "__main__":
    main(sys.argv[1:])
