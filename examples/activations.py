"""Every activation and its derivative, the derivative taken by backward (no formula written here).

    python examples/activations.py                 # one PNG, activations.png (needs matplotlib)
    python examples/activations.py out.png         # the same, to out.png
    python examples/activations.py --table         # a table of f and f' at a few points

Without matplotlib it prints the table instead. The grid is the course notes': -10..10, 1000 points.
"""
import sys

import numpy as np

from tinygrad_es import Tensor, nn

TABLE_POINTS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]


def value_and_derivative(name, x):
    """f(x) and f'(x) on a 1-D grid x. The activations along an axis get one row per point:
    (x, 0) for the softmax family, showing entry 0; (1, x) for glu, showing 1 * sigmoid(x)."""
    if name in ("softmax", "log_softmax", "softmin"):
        rows, column = np.stack([x, np.zeros_like(x)], 1), 0
    elif name == "glu":
        rows, column = np.stack([np.ones_like(x), x], 1), 1
    else:
        rows, column = x, None
    t = Tensor(rows, requires_grad=True)
    out = nn.get_activation(name).eval()(t)
    if column is None:
        out.sum().backward()
        return out.data, t.grad.data
    out = out[:, 0]
    out.sum().backward()
    return out.data, t.grad.data[:, column]


def names():
    """Each activation once (the registry's aliases "linear" and "swish" left out)."""
    return [name for name in nn.activation_names() if name not in ("linear", "swish")]


def print_table():
    print(f"{'activation':<12}" + "".join(f"{x:>16g}" for x in TABLE_POINTS))
    for name in names():
        f, df = value_and_derivative(name, np.array(TABLE_POINTS))
        print(f"{name:<12}" + "".join(f"{a:>8.3f}/{b:<7.3f}" for a, b in zip(f, df)))
    print("(each cell: f(x)/f'(x), f' by backward; softmax family: entry 0 of (x, 0); glu: of (1, x))")


def plot(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(-10, 10, 1000)
    all_names = names()
    columns = 6
    rows = -(-len(all_names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.4 * rows), sharex=True)
    for ax, name in zip(axes.flat, all_names):
        f, df = value_and_derivative(name, x)
        ax.plot(x, f, label="f")
        ax.plot(x, df, "--", label="f' (backward)")
        ax.set_title(name)
        ax.set_ylim(-3, 6)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(all_names):]:
        ax.axis("off")
    axes.flat[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


def main(argv):
    if "--table" in argv:
        print_table()
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: printing the table instead")
        print_table()
        return
    plot(argv[0] if argv else "activations.png")


if __name__ == "__main__":
    main(sys.argv[1:])
