"""A network is a universal approximator: the step-unit construction of the course notes.

Part 1 builds the notes' network of step units with the weights set by hand:
  layer 1 (step):     x, x-4, x-8, x-12                 -- which vertical lines x is past
  layer 2 (step):     y1-y2-1, y2-y3-1, y3-y4-1         -- which pair of lines x lies between
  layer 3 (identity): 7 z1 + 3 z2 + 1 z3                -- the value for that interval
and prints the notes' table for x = -2, 0, ..., 14.

Part 2 trains networks with a smooth activation on a curve and shows the error shrink as hidden
units are added.
"""

import numpy as np

import tinygrad_es as tg
from tinygrad_es import nn, optim


def dense(weight, bias, activation):
    """A Dense layer whose weight (out, in) and bias are set by hand."""
    weight = np.array(weight, dtype=np.float64)
    layer = nn.Dense(weight.shape[1], weight.shape[0], activation=activation, dtype=np.float64)
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    return layer


def step_network():
    return nn.Sequential(
        dense([[1], [1], [1], [1]], [0, -4, -8, -12], "step"),
        dense([[1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1]], [-1, -1, -1], "step"),
        dense([[7, 3, 1]], [0], "linear"),
    )


def step_table(xs=range(-2, 15, 2)):
    """Rows (x, y1..y4, z1..z3, output) as in the notes."""
    model = step_network()
    x = tg.tensor(np.array(xs, dtype=np.float64)[:, None])
    first = model[0](x)
    second = model[1](first)
    out = model[2](second)
    return np.hstack([x.data, first.data, second.data, out.data]).astype(int)


def curve(x):
    return np.sin(2 * x) + 0.5 * x


def fit(hidden, steps=2000, seed=0):
    """Train 1 -> hidden (tanh) -> 1 on the curve; return the mean squared error."""
    generator = np.random.default_rng(seed)
    x = np.linspace(-3, 3, 200)[:, None]
    X, Y = tg.tensor(x), tg.tensor(curve(x))
    model = nn.Sequential(
        nn.Dense(1, hidden, activation="tanh", init="xavier_normal", dtype=np.float64, generator=generator),
        nn.Dense(hidden, 1, init="xavier_normal", dtype=np.float64, generator=generator),
    )
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss = ((model(X) - Y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with tg.no_grad():
        return ((model(X) - Y) ** 2).mean().item()


def main():
    print("Part 1: step units with hand-set weights (the notes' table)")
    print("   x  y1 y2 y3 y4  z1 z2 z3  out")
    for x, *first, z1, z2, z3, out in step_table():
        print(f"{x:>4}  " + "  ".join(map(str, first)) + f"   {z1}  {z2}  {z3}  {out:>3}")
    print("\nPart 2: tanh units trained on sin(2x) + x/2 over [-3, 3]")
    for hidden in (1, 2, 4, 8):
        print(f"  {hidden:>2} hidden units: mean squared error {fit(hidden):.5f}")


if __name__ == "__main__":
    main()
