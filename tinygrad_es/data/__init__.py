"""Data: the digits that ship with the package, splits, a DataLoader for mini-batches, one_hot, accuracy."""
import math
from pathlib import Path

import numpy as np

from ..engine import Tensor
from ..random import default_generator

_DIGITS = Path(__file__).with_name("digits.npz")


def load_digits():
    """The 1797 8x8 handwritten digits (UCI, as scikit-learn's load_digits; see DIGITS_SOURCE.txt).

    Returns (X, y): X float32 (1797, 64), pixels scaled from 0..16 to [0, 1]; y int64 (1797,), digits 0..9."""
    with np.load(_DIGITS, allow_pickle=False) as f:
        pixels, labels = f["pixels"], f["labels"]
    return pixels.astype(np.float32) / np.float32(16), labels.astype(np.int64)


def _arrays(X, y):
    X = X.data if isinstance(X, Tensor) else np.asarray(X)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    return X, y


def train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=0, stratify=False):
    """Shuffle the samples and cut them into parts of the given fractions (which must sum to 1).

    Returns X and y of each part in turn: with three fractions (X_train, y_train, X_val, y_val, X_test,
    y_test), with two (X_train, y_train, X_test, y_test). Parts are NumPy arrays. `stratify=True` cuts each
    class separately, so every part keeps the class proportions of y (up to rounding)."""
    X, y = _arrays(X, y)
    fractions = tuple(fractions)
    if len(fractions) < 2 or min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"train_val_test_split: fractions must be 2 or more positive numbers summing to 1, "
                         f"got {fractions} (sum {sum(fractions):g})")  # fmt: skip
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts = [[] for _ in fractions]
    for members in groups:
        members = rng.permutation(members)
        bounds = np.round(np.cumsum(fractions)[:-1] * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, bounds)):
            part.append(chunk)
    out = []
    for part in parts:
        index = rng.permutation(np.concatenate(part))  # mix the classes again
        out += [X[index], y[index]]
    return tuple(out)


class DataLoader:
    """Mini-batches of (X, y) as Tensors.

    `shuffle=True` draws a new order every epoch, from `np.random.default_rng(seed)` or, with seed None,
    from the library's default generator (so `manual_seed` makes it repeatable). `len(loader)` is the
    number of batches; `drop_last=True` leaves out a last, smaller batch."""

    def __init__(self, X, y, batch_size=32, shuffle=False, seed=None, drop_last=False):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.X, self.y = _arrays(X, y)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        X, y, size = self.X, self.y, self.batch_size
        if self.shuffle:
            order = (self._rng or default_generator()).permutation(len(X))
            X, y = X[order], y[order]  # one gather per epoch; the batches are then contiguous slices
        stop = len(self) * size
        for start in range(0, stop, size):
            yield Tensor._make(X[start:start + size], False, None), Tensor._make(y[start:start + size], False, None)


def one_hot(y, num_classes=None, dtype=np.float32):
    """(N,) integer labels -> (N, num_classes) Tensor with a 1 in each label's column (float32 by default,
    ready to be a regression target). num_classes defaults to max(y) + 1."""
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got {y.dtype}")
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got values in [{y.min()}, {y.max()}]")
    out = np.zeros(y.shape + (num_classes,), dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return Tensor._make(out, False, None)


def accuracy(output, y):
    """Fraction of samples whose largest output (logit or probability) is at the true class.
    `output` is (N, C); `y` is (N,) class indices or (N, C) one-hot / probabilities."""
    output = output.data if isinstance(output, Tensor) else np.asarray(output)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if output.ndim != 2 or y.shape not in ((len(output),), output.shape):
        raise ValueError(f"accuracy: output must be (N, C) and y (N,) or (N, C); got {output.shape} and {y.shape}")
    if y.ndim == 2:
        y = y.argmax(axis=1)
    return float(np.mean(output.argmax(axis=1) == y))
