"""One MLP training loop written three ways (four with tg.compile), for mlp_digits, large_mlp and
compiled_step.

Dense layers with a hidden activation ("sigmoid" or "relu"), the last layer linear, softmax
cross-entropy on its logits (mean over the batch), plain SGD. Each `*Run` starts from the same
weights (a list [w1, b1, w2, b2, ...], w of shape (out, in)), trains on the same arrays in the
same batch order, and reports the epoch's mean loss, so the runs can be checked to agree.
"""

from itertools import pairwise

import harness  # first: pins BLAS threads before NumPy loads
import numpy as np

import tinygrad_es as tg
from tinygrad_es import nn, optim


def initial_weights(sizes, rng, dtype=np.float32):
    """PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    weights = []
    for fan_in, fan_out in pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return weights


def batches(n, batch_size):
    return [slice(start, start + batch_size) for start in range(0, n, batch_size)]


class TinygradRun:
    """tinygrad_es as a user writes it: nn.Sequential of nn.Dense, nn.CrossEntropyLoss, optim.SGD;
    with `compiled`, the training step is tg.compile'd."""

    def __init__(self, sizes, activation, weights, x, y, batch_size, lr, compiled=False):
        last = len(sizes) - 2
        self.model = nn.Sequential(
            *[
                nn.Dense(fan_in, fan_out, activation=None if i == last else activation)
                for i, (fan_in, fan_out) in enumerate(pairwise(sizes))
            ]
        )
        names = [name for name, _ in self.model.named_parameters()]
        self.model.load_state_dict({name: w.copy() for name, w in zip(names, weights)})
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr)
        self.x, self.y, self.parts = x, y, batches(len(x), batch_size)
        self.step = tg.compile(self.eager_step) if compiled else self.eager_step

    def eager_step(self, x, y):
        loss = self.loss_fn(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def epoch(self):
        total = 0.0
        for part in self.parts:
            total += self.step(tg.Tensor(self.x[part]), self.y[part]).item()
        return total / len(self.parts)

    def predict(self, x):
        with tg.no_grad():
            return self.model(tg.Tensor(x)).data.argmax(axis=1)


NUMPY_ACTIVATIONS = {  # f(z) (may overwrite z), and f'(z) from f's output
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda out: out * (1 - out)),
    "relu": (lambda z: np.maximum(z, 0, out=z), lambda out: out > 0),
}


class NumpyRun:
    """The floor: the same network with forward and backward derived by hand, nothing spent on a graph."""

    def __init__(self, sizes, activation, weights, x, y, batch_size, lr):
        self.f, self.slope = NUMPY_ACTIVATIONS[activation]
        self.params = [w.copy() for w in weights]
        self.x, self.y, self.parts, self.lr = x, y, batches(len(x), batch_size), lr

    def forward(self, x):
        """The input of every layer, then the logits."""
        outputs = [x]
        weights, biases = self.params[0::2], self.params[1::2]
        for w, b in zip(weights[:-1], biases[:-1]):
            z = outputs[-1] @ w.T
            z += b
            outputs.append(self.f(z))
        logits = outputs[-1] @ weights[-1].T
        logits += biases[-1]
        return outputs, logits

    def step(self, x, y):
        outputs, logits = self.forward(x)
        # softmax cross-entropy with the max subtracted; d loss / d logits = (softmax - onehot) / n
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = np.log(total[:, 0]).mean() - logits[rows, y].mean()
        grad = e / total
        grad[rows, y] -= 1
        grad /= len(y)
        grads = []
        for layer in range(len(outputs) - 1, -1, -1):
            w = self.params[2 * layer]
            grads += [grad.sum(axis=0), grad.T @ outputs[layer]]
            if layer:
                grad = grad @ w
                grad *= self.slope(outputs[layer])
        for p, g in zip(self.params, reversed(grads)):
            p -= self.lr * g
        return loss

    def epoch(self):
        return float(np.mean([self.step(self.x[part], self.y[part]) for part in self.parts]))

    def predict(self, x):
        return self.forward(x)[1].argmax(axis=1)


class PlainNumpyRun(NumpyRun):
    """The floor as it is first written: every expression out of place (`z = x @ w.T + b`, the one-hot
    target built, `grad = (softmax - onehot) / n`). NumpyRun's in-place updates spare it a few
    allocations, which makes NumpyRun the harder floor; the benchmarks report against both."""

    def forward(self, x):
        outputs = [x]
        weights, biases = self.params[0::2], self.params[1::2]
        for w, b in zip(weights[:-1], biases[:-1]):
            outputs.append(self.f(outputs[-1] @ w.T + b))
        return outputs, outputs[-1] @ weights[-1].T + biases[-1]

    def step(self, x, y):
        outputs, logits = self.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        onehot = np.eye(logits.shape[1], dtype=logits.dtype)[y]
        loss = np.mean(np.log(total[:, 0]) - (shifted * onehot).sum(axis=1))
        delta = (e / total - onehot) / len(y)
        grads = []
        for layer in range(len(outputs) - 1, -1, -1):
            w = self.params[2 * layer]
            grads += [delta.sum(axis=0), delta.T @ outputs[layer]]
            if layer:
                delta = (delta @ w) * self.slope(outputs[layer])
        for p, g in zip(self.params, reversed(grads)):
            p -= self.lr * g
        return loss


class TorchRun:
    def __init__(self, torch, sizes, activation, weights, x, y, batch_size, lr):
        self.torch = torch
        layers, activation = [], {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation]
        for fan_in, fan_out in pairwise(sizes):
            layers += [torch.nn.Linear(fan_in, fan_out), activation()]
        self.model = torch.nn.Sequential(*layers[:-1])
        with torch.no_grad():
            for p, w in zip(self.model.parameters(), weights):
                p.copy_(torch.from_numpy(w))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
        self.parts = batches(len(x), batch_size)

    def epoch(self):
        total = 0.0
        for part in self.parts:
            loss = self.torch.nn.functional.cross_entropy(self.model(self.x[part]), self.y[part])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.parts)

    def predict(self, x):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).argmax(dim=1).numpy()


def make_runs(sizes, activation, x, y, batch_size, lr, seed=0, torch=True, compiled=False, plain=False):
    """{"tinygrad_es": ..., "numpy": ..., "numpy (plain)": ... (when wanted), "torch": ... (when installed
    and wanted), "compiled": ... (when wanted)}, all from the same weights."""
    weights = initial_weights(sizes, np.random.default_rng(seed))
    runs = {
        "tinygrad_es": TinygradRun(sizes, activation, weights, x, y, batch_size, lr),
        "numpy": NumpyRun(sizes, activation, weights, x, y, batch_size, lr),
    }
    if plain:
        runs["numpy (plain)"] = PlainNumpyRun(sizes, activation, weights, x, y, batch_size, lr)
    if compiled:
        runs["compiled"] = TinygradRun(sizes, activation, weights, x, y, batch_size, lr, compiled=True)
    torch = harness.import_torch() if torch else None
    if torch is not None:
        runs["torch"] = TorchRun(torch, sizes, activation, weights, x, y, batch_size, lr)
    return runs


def time_and_check(runs, repeats, x_test, y_test, loss_rtol=1e-3):
    """Median seconds per epoch of each run (taking turns), then one more epoch each from the
    same state: the losses must agree within `loss_rtol` and the test predictions almost all."""
    seconds = harness.interleaved_medians({name: run.epoch for name, run in runs.items()}, repeats)
    return (seconds, *check_agreement(runs, x_test, y_test, loss_rtol))


def check_agreement(runs, x_test, y_test, loss_rtol=1e-3):
    """One more epoch of each run from where it is: (losses, test accuracies), which must agree
    (losses within `loss_rtol`, accuracies within 1%)."""
    losses = {name: run.epoch() for name, run in runs.items()}
    accuracies = {name: float((run.predict(x_test) == y_test).mean()) for name, run in runs.items()}
    print("last epoch's mean loss:", losses)
    print("test accuracy:", accuracies)
    for name in runs:
        assert abs(losses[name] - losses["numpy"]) <= loss_rtol * abs(losses["numpy"]), f"losses differ: {losses}"
        assert abs(accuracies[name] - accuracies["numpy"]) <= 0.01, f"accuracies differ: {accuracies}"
    return losses, accuracies
