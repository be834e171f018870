"""A small convolutional network on the 8x8 digits, beside the student paper's MLP.

The split is the study's (tinygrad-es paper): train on the 60%, report accuracy on the 20% the
paper's Tables 2 and 3 show (its "Validation"); the other 20% (its "Train") is watched during
training. Each network trains with three seeds; the mean is the number to read.

    python examples/cnn_digits.py              # 3 seeds, 1-3 s per seed on 2 cores
    python examples/cnn_digits.py --no-batchnorm --epochs 30
"""

import argparse
import os
import time

# Matrix products this small are fastest on one thread: OpenBLAS spreading them over the cores costs
# more than it saves (on two cores busy with other work this example took 65 s instead of 9 s).
# Set before NumPy loads; a value already in the environment wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

import tinygrad_es as tg  # noqa: E402
from tinygrad_es import data, nn, optim  # noqa: E402
from tinygrad_es import functional as F  # noqa: E402


def cnn(batchnorm=True):
    """Conv 3x3 (16) -> ReLU -> max pool -> Conv 3x3 (32) -> ReLU -> max pool -> Dense (10), with a
    BatchNorm2d after each convolution (its bias then does nothing, so the convolutions have none)."""

    def block(c_in, c_out):
        return (
            [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batchnorm)]
            + ([nn.BatchNorm2d(c_out)] if batchnorm else [])
            + [nn.ReLU(), nn.MaxPool2d(2)]
        )

    return nn.Sequential(*block(1, 16), *block(16, 32), nn.Flatten(), nn.Dense(32 * 2 * 2, 10))


def paper_mlp():
    """The paper's 64-32-16-10 network with sigmoid hidden layers and its "Xavier" init, read as
    logits by the cross-entropy (the study's modern protocol)."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Dense(64, 32, activation="sigmoid", init="xavier_paper"),
        nn.Dense(32, 16, activation="sigmoid", init="xavier_paper"),
        nn.Dense(16, 10, init="xavier_paper"),
    )


def accuracy(model, X, y):
    model.eval()
    with tg.no_grad():
        return data.accuracy(model(tg.Tensor(X)), y)


def train(model, splits, epochs, lr, seed, log):
    """SGD with momentum 0.9 and weight decay 5e-4, the learning rate annealed on a cosine, batches of 32."""
    (X, y), watched, reported = splits
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = data.DataLoader(X, y, batch_size=32, shuffle=True, seed=seed)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        schedule.step()
        if log and (epoch % 5 == 0 or epoch == epochs):
            print(
                f"    epoch {epoch:>2}: train loss {total / len(X):.4f}, accuracy on the paper's 'Train' split "
                f"{accuracy(model, *watched):.2%}"
            )
    return accuracy(model, *reported)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-batchnorm", action="store_true", help="the CNN without its BatchNorm2d layers")
    args = parser.parse_args(argv)
    X, y = data.load_digits()
    parts = data.train_val_test_split(X.reshape(-1, 1, 8, 8), y, (0.6, 0.2, 0.2), seed=0, stratify=True)
    splits = list(zip(parts[::2], parts[1::2]))  # train, the paper's "Train", the paper's "Validation"
    results = {}
    for name, make, lr in (
        ("CNN" + ("" if args.no_batchnorm else " + BatchNorm"), lambda: cnn(not args.no_batchnorm), 0.05),
        ("paper's MLP 64-32-16-10 sigmoid", paper_mlp, 1.0),
    ):
        print(f"{name}:")
        scores = []
        for seed in args.seeds:
            tg.manual_seed(seed)
            model, start = make(), time.perf_counter()
            scores.append(train(model, splits, args.epochs, lr, seed, log=seed == args.seeds[0]))
            print(
                f"  seed {seed}: {scores[-1]:.2%} on the paper's 'Validation' split "
                f"({time.perf_counter() - start:.1f} s)"
            )
        results[name] = scores
        print(
            f"  {sum(p.size for p in model.parameters())} parameters; mean over {len(scores)} seeds: "
            f"{np.mean(scores):.2%}\n"
        )
    for name, scores in results.items():
        print(f"{name:<32} test accuracy {np.mean(scores):.2%} (seeds: {', '.join(f'{s:.2%}' for s in scores)})")
    return results


if __name__ == "__main__":
    main()
