"""Does BatchNorm rescue the paper's failing cells? The study's paper protocol (tinygrad-es paper)
with Gaussian N(0, 1) weights and biases, tanh or ReLU on every layer, cross-entropy on the clipped
outputs or the 1/(2n) squared error, SGD on minibatches of 10, each cell at the learning rate that
does best on the paper's "Train" split, as the study chooses it. The same networks are trained
again with a BatchNorm1d between each hidden Dense layer and its activation (the output layer is
left as the paper has it).

For each: accuracy on the paper's "Validation" split, the learning rate chosen, and how many hidden
units are flat (|f'(z)| < 0.01: saturated tanh, ReLU switched off) at initialization.

    python examples/batchnorm_rescue.py               # 4 cells x 2 x 6 learning rates, 20 epochs
    python examples/batchnorm_rescue.py --epochs 30 --seeds 3
"""

import argparse
import os
import time
from itertools import pairwise

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # small products: one thread is faster
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from tinygrad_es import Tensor, data, nn, optim  # noqa: E402
from tinygrad_es import functional as F  # noqa: E402
from tinygrad_es.study import grid, training  # noqa: E402
from tinygrad_es.study.measure import FLAT_SLOPE  # noqa: E402


def network(study, activation, generator, batchnorm):
    """The paper's 64-32-16-10 network, Gaussian init, its activation on every layer; with
    `batchnorm`, each hidden Dense layer is followed by a BatchNorm1d before its activation."""
    if not batchnorm:
        return training.build_model(study, activation, "gaussian", generator)
    sizes, layers = (64, *study.hidden, 10), []
    for k, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        dense = nn.Dense(fan_in, fan_out, init="gaussian", bias_init="gaussian", generator=generator)
        layers += (
            [dense, nn.get_activation(activation)]
            if k == len(sizes) - 2
            else [dense, nn.BatchNorm1d(fan_out), nn.get_activation(activation)]
        )
    return nn.Sequential(*layers)


def flat_hidden_units(model, X):
    """% of (sample, hidden unit) pairs whose activation's slope is below FLAT_SLOPE. A BatchNorm1d
    standardizes by the batch's statistics, as in training (here the batch is all of X)."""
    flat, x, layers = [], Tensor(X), list(model)
    last = max(i for i, layer in enumerate(layers) if isinstance(layer, nn.Dense))
    for layer in layers[:last]:
        if isinstance(layer, nn.BatchNorm1d):
            x = F.batch_norm(x, None, None, layer.weight, layer.bias, training=True)
        elif isinstance(layer, nn.Dense):
            x = F.linear(x, layer.weight, layer.bias)
            if layer.activation is not None:  # the paper's layers: Dense with its activation
                flat.append(_flat_share(layer.activation, x))
                x = layer.activation(x)
        else:
            flat.append(_flat_share(layer, x))
            x = layer(x)
        x = x.detach()
    return round(float(np.mean(flat)) * 100, 1)


def _flat_share(activation, z):
    z = Tensor(z.data, requires_grad=True)
    activation(z).backward(np.ones(z.shape, z.dtype))  # elementwise: z.grad is f'(z)
    return (np.abs(z.grad.data) < FLAT_SLOPE).mean()


def train(study, splits, cost, activation, lr, seed, batchnorm):
    """Accuracy on the report and the select splits (%), and flat hidden units at init (%)."""
    generator = np.random.default_rng(seed)
    model = network(study, activation, generator, batchnorm)
    X, onehot, labels = splits["train"]
    flat = flat_hidden_units(model, splits["report"][0])
    loss_fn, uses_labels = training.make_cost(study, cost)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loader = data.DataLoader(X, labels if uses_labels else onehot, study.batch_size, shuffle=True, seed=seed)
    with np.errstate(all="ignore"):  # a diverging run overflows: it stops, and keeps its broken model's accuracy
        for _ in range(study.epochs):
            model.train()
            if not np.isfinite(training.train_steps(model, optimizer, loss_fn, loader)):
                break
        return (
            training.accuracy(model, *splits["report"][::2]),
            training.accuracy(model, *splits["select"][::2]),
            flat,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=grid.DEFAULT_EPOCHS)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--lrs", type=float, nargs="+", default=list(grid.PAPER_LRS))
    parser.add_argument("--activations", nargs="+", default=["tanh", "relu"])
    args = parser.parse_args(argv)
    study = grid.Study(protocol="paper", epochs=args.epochs, lrs=tuple(args.lrs))
    splits, start = grid.load_splits(study), time.perf_counter()
    print(
        f"paper protocol, Gaussian N(0,1) init, {args.epochs} epochs, {args.seeds} seed(s); learning rate chosen "
        "on the paper's 'Train' split; % on its 'Validation' split [paper's Tables 2-3]"
    )
    print(f"{'cell':<22}{'without BatchNorm':>30}{'with BatchNorm1d':>30}")
    print(f"{'':<22}" + f"{'accuracy':>12}{'lr':>8}{'flat@init':>10}" * 2)
    rows = {}
    for cost in grid.COSTS:
        for activation in args.activations:
            line = f"{cost}/{activation:<8}"[:22].ljust(22)
            for batchnorm in (False, True):
                runs = {
                    lr: [train(study, splits, cost, activation, lr, seed, batchnorm) for seed in range(args.seeds)]
                    for lr in args.lrs
                }
                best = max(args.lrs, key=lambda lr: np.mean([select for _, select, _ in runs[lr]]))
                accuracy = np.mean([report for report, _, _ in runs[best]])
                flat = np.mean([f for _, _, f in runs[best]])
                rows[(cost, activation, batchnorm)] = (accuracy, best, flat)
                line += f"{accuracy:>12.2f}{best:>8g}{flat:>9.1f}%"
            paper = grid.PAPER_ACCURACY.get((cost, "gaussian", activation))
            print(line + (f"   [{paper}]" if paper is not None else ""))
    print(f"({time.perf_counter() - start:.0f} s)")
    return rows


if __name__ == "__main__":
    main()
