"""Quickstart: a small classifier for the 8x8 digits, written as one would in PyTorch.

python examples/quickstart.py             # train and evaluate
python examples/quickstart.py --compile   # the same with tg.compile, and the time it saves
"""

import sys
import time

import numpy as np

import tinygrad_es as tg
from tinygrad_es import data, nn, optim


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Dense(64, 64, activation="relu", init="he_normal")
        self.out = nn.Dense(64, 10)  # logits; the loss applies the softmax

    def forward(self, x):
        return self.out(self.hidden(x))


def main(epochs=10, compiled=False, verbose=True):
    """Train and evaluate; returns (test accuracy, seconds spent training, the model)."""
    tg.manual_seed(0)  # repeatable inits and batches
    X, y = data.load_digits()
    X_train, y_train, X_val, y_val, X_test, y_test = data.train_val_test_split(X, y, seed=0, stratify=True)
    model = Classifier()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = data.DataLoader(X_train, y_train, batch_size=32, shuffle=True)
    if verbose:
        print(model)

    def step(x, target):
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    if compiled:  # recorded on its first calls, then replayed: the same numbers, less time
        step = tg.compile(step)

    training = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        total, start = 0.0, time.perf_counter()
        for x, target in loader:
            total += step(x, target).item() * len(x)
        training += time.perf_counter() - start
        model.eval()
        with tg.no_grad():
            val_accuracy = data.accuracy(model(tg.tensor(X_val)), y_val)
        if verbose:
            print(f"epoch {epoch:>2}: train loss {total / len(X_train):.4f}, validation accuracy {val_accuracy:.1%}")

    with tg.no_grad():
        test_accuracy = data.accuracy(model(tg.tensor(X_test)), y_test)
    if verbose:
        print(f"test accuracy: {test_accuracy:.1%} ({np.round(test_accuracy * len(y_test)):.0f} of {len(y_test)})")
    return test_accuracy, training, model


if __name__ == "__main__":
    if "--compile" in sys.argv[1:]:
        _, compiled_seconds, compiled_model = main(compiled=True)
        _, eager_seconds, eager_model = main(verbose=False)
        same = all(
            np.array_equal(p.data, q.data) for p, q in zip(compiled_model.parameters(), eager_model.parameters())
        )
        print(
            f"training took {compiled_seconds:.2f} s compiled, {eager_seconds:.2f} s eager: "
            f"{eager_seconds - compiled_seconds:.2f} s saved ({1 - compiled_seconds / eager_seconds:.0%}); "
            f"the same weights, bit for bit: {same}"
        )
    else:
        main()
