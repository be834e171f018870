"""f, f' and f'' of every activation, all three by autograd: f' by backward with create_graph=True,
f'' by differentiating that gradient once more. No derivative is written here.

Beside them, the course notes' formulas for the six activations they derive (sigmoid, tanh, ReLU,
ELU, SELU, softmax): their f', and f'' obtained by differentiating their f' by hand. The largest
difference from autograd over the notes' grid (-10..10, 1000 points) is printed for each.

    python examples/second_derivatives.py                 # second_derivatives.png (needs matplotlib)
    python examples/second_derivatives.py out.png         # the same, to out.png
    python examples/second_derivatives.py --table         # the table only

Without matplotlib it prints the table.
"""
import sys

import numpy as np

from tinygrad_es import Tensor, autograd, nn

TABLE_POINTS = [-2.0, -0.5, 0.5, 2.0]
GRID = np.linspace(-10, 10, 1000)  # the notes' grid; 0 is not on it (ReLU's f' has no value there)
ALPHA, LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946  # SELU's constants


def sig(x):
    return 1 / (1 + np.exp(-x))


def elu(x):
    return np.where(x >= 0, x, np.exp(x) - 1)


# The notes' f' for each activation, and f'' = d/dx of it (alpha = 1 for ELU; softmax: entry i
# against its own input, s_i (1 - s_i), as the notes' last line writes it).
NOTES = {
    "sigmoid": ("s (1 - s)", lambda x: sig(x) * (1 - sig(x)),
                "s (1 - s) (1 - 2 s)", lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))),
    "tanh": ("1 - tanh^2", lambda x: 1 - np.tanh(x) ** 2,
             "-2 tanh (1 - tanh^2)", lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "relu": ("0 (x < 0), 1 (x >= 0)", lambda x: np.where(x >= 0, 1.0, 0.0),
             "0", np.zeros_like),
    "elu": ("1 (x >= 0), ELU + alpha (x < 0)", lambda x: np.where(x >= 0, 1.0, elu(x) + 1),
            "0 (x >= 0), alpha e^x (x < 0)", lambda x: np.where(x >= 0, 0.0, np.exp(x))),
    "selu": ("lambda (x >= 0), lambda alpha e^x (x < 0)", lambda x: LAMBDA * np.where(x >= 0, 1, ALPHA * np.exp(x)),
             "0 (x >= 0), lambda alpha e^x (x < 0)", lambda x: LAMBDA * np.where(x >= 0, 0, ALPHA * np.exp(x))),
    "softmax": ("s_i (1 - s_i)", lambda x: sig(x) * (1 - sig(x)),  # entry 0 of softmax(x, 0) is sigmoid(x)
                "s_i (1 - s_i) (1 - 2 s_i)", lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))),
}


def derivatives(name, x):
    """f(x), f'(x), f''(x) on a 1-D grid, by autograd. The activations along an axis get one row per
    point: (x, 0) for the softmax family, showing entry 0 against x; (1, x) for glu, showing 1 * sigmoid(x)."""
    if name in ("softmax", "log_softmax", "softmin"):
        rows, column = np.stack([x, np.zeros_like(x)], 1), 0
    elif name == "glu":
        rows, column = np.stack([np.ones_like(x), x], 1), 1
    else:
        rows, column = x, None
    t = Tensor(rows, requires_grad=True)
    out = nn.get_activation(name).eval()(t) * 1  # * 1: the identity returns t itself, this makes it an op
    if column is not None:
        out = out[:, 0]  # each row's entry 0 depends on that row only: the sums below keep the rows apart
    (first,) = autograd.grad(out.sum(), t, create_graph=True)
    first = first if column is None else first[:, column]
    (second,) = autograd.grad(first.sum(), t, allow_unused=True)
    second = np.zeros_like(rows) if second is None else second.data
    return out.data, first.data, second if column is None else second[:, column]


def names():
    """Each activation once (the registry's aliases "linear" and "swish" left out)."""
    return [name for name in nn.activation_names() if name not in ("linear", "swish")]


def print_table():
    print("f / f' / f'' by autograd (f'' by differentiating the gradient recorded with create_graph=True)")
    print(f"{'activation':<12}" + "".join(f"{f'x = {x:g}':>24}" for x in TABLE_POINTS))
    for name in names():
        values = zip(*derivatives(name, np.array(TABLE_POINTS)))
        print(f"{name:<12}" + "".join(f"{f'{a:.3f}/{b:.3f}/{c:.3f}':>24}" for a, b, c in values))
    print("(softmax family: entry 0 of (x, 0); glu: of (1, x))")
    print("\nthe course notes' formulas against autograd, largest |difference| on -10..10 (1000 points):")
    for name, (first_text, first, second_text, second) in NOTES.items():
        _, d1, d2 = derivatives(name, GRID)
        print(f"{name:<8} f'  = {first_text:<42} {np.abs(d1 - first(GRID)).max():.1e}")
        print(f"{'':<8} f'' = {second_text:<42} {np.abs(d2 - second(GRID)).max():.1e}")


def plot(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_names = names()
    columns = 6
    rows = -(-len(all_names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.4 * rows), sharex=True)
    for ax, name in zip(axes.flat, all_names):
        f, d1, d2 = derivatives(name, GRID)
        ax.plot(GRID, f, label="f")
        ax.plot(GRID, d1, "--", label="f'")
        ax.plot(GRID, d2, ":", label="f''")
        if name in NOTES:  # the notes' formulas, every 40th point
            _, first, _, second = NOTES[name]
            ax.plot(GRID[::40], first(GRID[::40]), "o", ms=3, color="C1", label="notes f'")
            ax.plot(GRID[::40], second(GRID[::40]), "x", ms=3, color="C2", label="notes f''")
        ax.set_title(name)
        ax.set_ylim(-2, 4)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(all_names):]:
        ax.axis("off")
    fig.legend(*axes.flat[all_names.index("sigmoid")].get_legend_handles_labels(), loc="lower right", fontsize=9)
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
    plot(argv[0] if argv else "second_derivatives.png")
    print_table()


if __name__ == "__main__":
    main(sys.argv[1:])
