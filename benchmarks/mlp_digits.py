"""The paper's workload: digits, 64-32-16-10, sigmoid hidden layers, softmax cross-entropy, SGD, batch 32.

Time per training epoch of tinygrad_es written as a user writes it (nn.Sequential of nn.Dense,
nn.CrossEntropyLoss, optim.SGD, backward, step, zero_grad) against the same network by hand in
NumPy (the floor) and in PyTorch when it is installed. The 60% training split of the digits,
same initial weights, same batch order, float32; all must end with the same loss and accuracy.
Two floors: NumPy with in-place updates where they fit (`z += b`, `grad *= slope`: the harder one),
and every expression written out of place, as most people first write it (mlp_runs.PlainNumpyRun).
"""

import harness  # first: pins BLAS threads before NumPy loads
import mlp_runs

from tinygrad_es import data

SIZES = (64, 32, 16, 10)
BATCH, LR = 32, 0.5
MAX_RATIO_TO_NUMPY = 1.3
MIN_SPEEDUP_OVER_TORCH = 3.0


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    repeats = 2 if args.quick else 40
    x_train, y_train, _, _, x_test, y_test = data.train_val_test_split(*data.load_digits(), fractions=(0.6, 0.2, 0.2))
    if args.quick:
        x_train, y_train = x_train[:128], y_train[:128]
    runs = mlp_runs.make_runs(SIZES, "sigmoid", x_train, y_train, BATCH, LR, plain=True)
    seconds, _, accuracies = mlp_runs.time_and_check(runs, repeats, x_test, y_test)

    rows = [
        harness.row("mlp_digits", f"{name}: time per epoch ({len(x_train)} samples)", s * 1e3, "ms")
        for name, s in seconds.items()
    ]
    rows.append(
        harness.ratio_row(
            "mlp_digits", "tinygrad_es / numpy", seconds["tinygrad_es"] / seconds["numpy"], MAX_RATIO_TO_NUMPY
        )
    )
    rows.append(
        harness.ratio_row(
            "mlp_digits",
            "tinygrad_es / numpy (plain: every expression out of place)",
            seconds["tinygrad_es"] / seconds["numpy (plain)"],
            MAX_RATIO_TO_NUMPY,
        )
    )
    steps = len(runs["numpy"].parts)
    rows.append(
        harness.row(
            "mlp_digits",
            f"tinygrad_es - numpy, per training step ({steps} per epoch)",
            (seconds["tinygrad_es"] - seconds["numpy"]) / steps * 1e6,
            "us",
        )
    )
    if "torch" in seconds:
        rows.append(
            harness.ratio_row(
                "mlp_digits",
                "torch / tinygrad_es (speed-up)",
                seconds["torch"] / seconds["tinygrad_es"],
                MIN_SPEEDUP_OVER_TORCH,
                at_most=False,
            )
        )
    rows.append(harness.row("mlp_digits", "test accuracy after training (all agree)", accuracies["numpy"], ""))
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
