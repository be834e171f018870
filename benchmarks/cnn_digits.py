"""The digits CNN of examples/cnn_digits.py against the same network in PyTorch.

Time per training epoch (the 60% training split, 1078 samples, batches of 32 in a fixed order,
SGD with momentum 0.9 and weight decay 5e-4) of the example's network, with its BatchNorm2d layers
and without them: Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1),
ReLU, MaxPool2d(2), Flatten, Dense(128, 10). PyTorch gets our initial weights and runs on one
thread, as BLAS does; both must end with the same loss and accuracy.

    python benchmarks/cnn_digits.py --profile   # also: where our time goes, op by op
"""

import argparse
import collections
import importlib.util
import os
import time

import harness  # first: pins BLAS threads before NumPy loads
import numpy as np

import tinygrad_es as tg
from tinygrad_es import data, engine, optim
from tinygrad_es import functional as F

_EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "cnn_digits.py")
_spec = importlib.util.spec_from_file_location("cnn_digits_example", _EXAMPLE)  # this file has the same name
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

BATCH, LR, MOMENTUM, WEIGHT_DECAY = 32, 0.05, 0.9, 5e-4
MAX_RATIO_TO_TORCH = 1.0


def torch_twin(torch, model):
    """The same layers in PyTorch, with our model's weights and buffers."""
    layers = {
        "Conv2d": lambda m: torch.nn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None
        ),
        "BatchNorm2d": lambda m: torch.nn.BatchNorm2d(m.num_features),
        "ReLU": lambda m: torch.nn.ReLU(),
        "MaxPool2d": lambda m: torch.nn.MaxPool2d(m.kernel_size),
        "Flatten": lambda m: torch.nn.Flatten(),
        "Dense": lambda m: torch.nn.Linear(m.in_features, m.out_features),
    }
    twin = torch.nn.Sequential(*(layers[type(m).__name__](m) for m in model))
    twin.load_state_dict({name: torch.from_numpy(array) for name, array in model.state_dict().items()})
    return twin


class Run:
    """One framework's training over fixed batches of 32, written the same way for both: `tensor`
    makes its tensors from arrays, `cross_entropy` and `no_grad` are its own."""

    def __init__(self, model, optimizer, cross_entropy, tensor, no_grad, x, y):
        self.model, self.optimizer, self.cross_entropy, self.tensor, self.no_grad = (
            model,
            optimizer,
            cross_entropy,
            tensor,
            no_grad,
        )
        self.batches = [(tensor(x[i : i + BATCH]), tensor(y[i : i + BATCH])) for i in range(0, len(x), BATCH)]

    def step(self, x, y):
        loss = self.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def epoch(self):
        return float(np.mean([self.step(x, y) for x, y in self.batches]))

    def predict(self, x):
        self.model.eval()
        with self.no_grad():
            logits = np.asarray(self.model(self.tensor(x)))
        self.model.train()
        return logits.argmax(axis=1)


def tinygrad_run(model, x, y):
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return Run(model, optimizer, F.cross_entropy, tg.Tensor, tg.no_grad, x, y)


def torch_run(torch, model, x, y):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return Run(model, optimizer, torch.nn.functional.cross_entropy, torch.from_numpy, torch.no_grad, x, y)


def op_profile(run, epochs):
    """Seconds per epoch in each op's forward and backward, each without the ops it calls (the rest
    of an epoch is Python around them)."""
    spent, inner = collections.defaultdict(float), []  # inner: time spent in the ops each running op calls
    originals = []
    classes = [engine.Function]
    for cls in classes:
        classes += cls.__subclasses__()
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                original = cls.__dict__[name]

                def timed(*args, _fn=original.__func__, _key=f"{cls.__name__}.{name}", **kwargs):
                    start = time.perf_counter()
                    inner.append(0.0)
                    try:
                        return _fn(*args, **kwargs)
                    finally:
                        elapsed = time.perf_counter() - start
                        spent[_key] += elapsed - inner.pop()
                        if inner:
                            inner[-1] += elapsed

                originals.append((cls, name, original))
                setattr(cls, name, type(original)(timed))
    try:
        start = time.perf_counter()
        for _ in range(epochs):
            run.epoch()
        total = (time.perf_counter() - start) / epochs
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
    return total, {key: seconds / epochs for key, seconds in sorted(spent.items(), key=lambda kv: -kv[1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1-2 repeats: checks that it runs")
    parser.add_argument("--json", metavar="FILE", help="also write the result rows to FILE")
    parser.add_argument("--profile", action="store_true", help="print the time spent in each op")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 25
    X, y = data.load_digits()
    x_train, y_train, _, _, x_test, y_test = data.train_val_test_split(
        X.reshape(-1, 1, 8, 8), y, (0.6, 0.2, 0.2), seed=0, stratify=True
    )
    if args.quick:
        x_train, y_train = x_train[:128], y_train[:128]
    torch = harness.import_torch()
    rows = []
    for name, batchnorm in (("cnn_digits", True), ("cnn_digits (no BatchNorm)", False)):
        tg.manual_seed(0)
        model = example.cnn(batchnorm)
        runs = {"tinygrad_es": tinygrad_run(model, x_train, y_train)}
        if torch is not None:
            runs["torch"] = torch_run(torch, torch_twin(torch, model), x_train, y_train)
        seconds = harness.interleaved_medians({k: run.epoch for k, run in runs.items()}, repeats)
        losses = {k: run.epoch() for k, run in runs.items()}
        accuracies = {k: float((run.predict(x_test) == y_test).mean()) for k, run in runs.items()}
        print(f"{name}: last epoch's mean loss {losses}, test accuracy {accuracies}")
        rows += [
            harness.row(name, f"{k}: time per epoch ({len(x_train)} samples)", s * 1e3, "ms")
            for k, s in seconds.items()
        ]
        if torch is not None:
            assert abs(losses["tinygrad_es"] - losses["torch"]) <= 0.02 * abs(losses["torch"]) + 1e-4, losses
            assert abs(accuracies["tinygrad_es"] - accuracies["torch"]) <= 0.01, accuracies
            rows.append(
                harness.ratio_row(
                    name, "tinygrad_es / torch", seconds["tinygrad_es"] / seconds["torch"], MAX_RATIO_TO_TORCH
                )
            )
        rows.append(harness.row(name, "test accuracy after training (all agree)", accuracies["tinygrad_es"], ""))
        if args.profile:
            total, spent = op_profile(runs["tinygrad_es"], 3 if args.quick else 20)
            print(f"{name}: {total * 1e3:.1f} ms per epoch, of which in the ops' forward and backward:")
            for key, s in spent.items():
                print(f"  {key:<28} {s * 1e3:6.2f} ms  {s / total:6.1%}")
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
