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
from activations import GRID, derivatives, figure, names, run  # the example next to this one

TABLE_POINTS = [-2.0, -0.5, 0.5, 2.0]
ALPHA, LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946  # SELU's constants


def sig(x):
    return 1 / (1 + np.exp(-x))


def elu(x):
    return np.where(x >= 0, x, np.exp(x) - 1)


# The notes' f' for each activation, and f'' = d/dx of it (alpha = 1 for ELU; softmax: entry i
# against its own input, s_i (1 - s_i), as the notes' last line writes it).
NOTES = {
    "sigmoid": (
        "s (1 - s)",
        lambda x: sig(x) * (1 - sig(x)),
        "s (1 - s) (1 - 2 s)",
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
    ),
    "tanh": (
        "1 - tanh^2",
        lambda x: 1 - np.tanh(x) ** 2,
        "-2 tanh (1 - tanh^2)",
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
    ),
    "relu": ("0 (x < 0), 1 (x >= 0)", lambda x: np.where(x >= 0, 1.0, 0.0), "0", np.zeros_like),
    "elu": (
        "1 (x >= 0), ELU + alpha (x < 0)",
        lambda x: np.where(x >= 0, 1.0, elu(x) + 1),
        "0 (x >= 0), alpha e^x (x < 0)",
        lambda x: np.where(x >= 0, 0.0, np.exp(x)),
    ),
    "selu": (
        "lambda (x >= 0), lambda alpha e^x (x < 0)",
        lambda x: LAMBDA * np.where(x >= 0, 1, ALPHA * np.exp(x)),
        "0 (x >= 0), lambda alpha e^x (x < 0)",
        lambda x: LAMBDA * np.where(x >= 0, 0, ALPHA * np.exp(x)),
    ),
    "softmax": (
        "s_i (1 - s_i)",
        lambda x: sig(x) * (1 - sig(x)),  # entry 0 of softmax(x, 0) is sigmoid(x)
        "s_i (1 - s_i) (1 - 2 s_i)",
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
    ),
}


def print_table():
    print("f / f' / f'' by autograd (f'' by differentiating the gradient recorded with create_graph=True)")
    print(f"{'activation':<12}" + "".join(f"{f'x = {x:g}':>24}" for x in TABLE_POINTS))
    for name in names():
        values = zip(*derivatives(name, np.array(TABLE_POINTS), order=2))
        print(f"{name:<12}" + "".join(f"{f'{a:.3f}/{b:.3f}/{c:.3f}':>24}" for a, b, c in values))
    print("(softmax family: entry 0 of (x, 0); glu: of (1, x))")
    print("\nthe course notes' formulas against autograd, largest |difference| on -10..10 (1000 points):")
    for name, (first_text, first, second_text, second) in NOTES.items():
        _, d1, d2 = derivatives(name, GRID, order=2)
        print(f"{name:<8} f'  = {first_text:<42} {np.abs(d1 - first(GRID)).max():.1e}")
        print(f"{'':<8} f'' = {second_text:<42} {np.abs(d2 - second(GRID)).max():.1e}")


def plot(path):
    def draw(ax, name):
        f, d1, d2 = derivatives(name, GRID, order=2)
        ax.plot(GRID, f, label="f")
        ax.plot(GRID, d1, "--", label="f'")
        ax.plot(GRID, d2, ":", label="f''")
        if name in NOTES:  # the notes' formulas, every 40th point
            _, first, _, second = NOTES[name]
            ax.plot(GRID[::40], first(GRID[::40]), "o", ms=3, color="C1", label="notes f'")
            ax.plot(GRID[::40], second(GRID[::40]), "x", ms=3, color="C2", label="notes f''")

    figure(path, draw, (-2, 4))
    print_table()


if __name__ == "__main__":
    run(sys.argv[1:], print_table, plot, "second_derivatives.png")
