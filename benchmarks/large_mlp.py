"""784-512-512-10 ReLU network, batch 256, synthetic data: the size where BLAS does most of the work.

Time per epoch (8 batches) of tinygrad_es against the same network by hand in NumPy and in
PyTorch, same weights, data and batch order, float32, BLAS on one thread.
"""

import harness  # first: pins BLAS threads before NumPy loads
import mlp_runs
import numpy as np

MAX_RATIO_TO_NUMPY = 1.1


def synthetic(n, features, classes, rng):
    """Gaussian inputs labelled by a random linear teacher, so the network has something to learn."""
    teacher = rng.standard_normal((features, classes)).astype(np.float32)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, (x @ teacher).argmax(axis=1)


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    sizes, batch, batches, repeats = ((784, 64, 64, 10), 32, 2, 2) if args.quick else ((784, 512, 512, 10), 256, 8, 15)
    x, y = synthetic(batch * batches + 1000, sizes[0], sizes[-1], np.random.default_rng(0))
    x_train, y_train, x_test, y_test = x[:-1000], y[:-1000], x[-1000:], y[-1000:]
    runs = mlp_runs.make_runs(sizes, "relu", x_train, y_train, batch, lr=0.01)
    seconds, _, accuracies = mlp_runs.time_and_check(runs, repeats, x_test, y_test)
    name = "x".join(map(str, sizes))
    rows = [
        harness.row("large_mlp", f"{fw}: time per epoch ({name}, {batches} batches of {batch})", s * 1e3, "ms")
        for fw, s in seconds.items()
    ]
    rows.append(
        harness.ratio_row(
            "large_mlp", "tinygrad_es / numpy", seconds["tinygrad_es"] / seconds["numpy"], MAX_RATIO_TO_NUMPY
        )
    )
    if "torch" in seconds:
        rows.append(harness.row("large_mlp", "torch / tinygrad_es", seconds["torch"] / seconds["tinygrad_es"], "x"))
    rows.append(harness.row("large_mlp", "test accuracy (all agree)", accuracies["numpy"], ""))
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
