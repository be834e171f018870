"""What Diagnostics costs when left on: the paper's workload (digits, 64-32-16-10, sigmoid hidden
layers, cross-entropy, SGD, batch 32), one training epoch without diagnostics, with diagnostics
recording every step, and recording one step in 10.
"""

import harness  # first: pins BLAS threads before NumPy loads

import tinygrad_es as tg
from tinygrad_es import nn, optim
from tinygrad_es.data import load_digits
from tinygrad_es.diagnostics import Diagnostics
from tinygrad_es.losses import cross_entropy

BATCH, LR = 32, 0.1
# Recording a step hooks every layer (a Dense with its activation still runs as one node), copies the
# weights and computes statistics; recording one step in 10 is the setting meant to be left on.
MAX_OVERHEAD_EVERY_STEP = 2.0
MAX_OVERHEAD_EVERY_10 = 1.15


def make_run(X, y, every):
    """An epoch function; `every` None means no diagnostics."""
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Dense(64, 32, activation="sigmoid"), nn.Dense(32, 16, activation="sigmoid"), nn.Dense(16, 10)
    )
    optimizer = optim.SGD(model.parameters(), lr=LR)
    batches = [(tg.Tensor(X[i : i + BATCH]), tg.Tensor(y[i : i + BATCH])) for i in range(0, len(X), BATCH)]
    if every is not None:
        Diagnostics(model, optimizer, every=every).attach()

    def epoch():
        for xb, yb in batches:
            loss = cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


def main(argv=None):
    args = harness.parse_args(__doc__, argv)
    X, y = load_digits()
    X, y = X[:1078], y[:1078]  # the paper's 60% training split size
    repeats = 2 if args.quick else 30
    runs = {"off": make_run(X, y, None), "every step": make_run(X, y, 1), "every 10": make_run(X, y, 10)}
    times = harness.interleaved_medians(runs, repeats)
    name = "diagnostics overhead"
    rows = [
        harness.row(name, "epoch without diagnostics", times["off"] * 1e3, "ms"),
        harness.ratio_row(
            name,
            "epoch with diagnostics every step / without",
            times["every step"] / times["off"],
            MAX_OVERHEAD_EVERY_STEP,
        ),
        harness.ratio_row(
            name,
            "epoch with diagnostics every 10 steps / without",
            times["every 10"] / times["off"],
            MAX_OVERHEAD_EVERY_10,
        ),
    ]
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
