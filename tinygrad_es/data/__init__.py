"""Data: the digits that ship with the package, splits, a DataLoader for mini-batches, one_hot, accuracy."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..engine import Tensor
from ..random import default_generator

_DIGITS = Path(__file__).with_name("digits.npz")


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 handwritten digits (UCI, as scikit-learn's load_digits; see DIGITS_SOURCE.txt).

    Returns (X, y): X float32 (1797, 64), pixels scaled from 0..16 to [0, 1]; y int64 (1797,), digits 0..9."""
    with np.load(_DIGITS, allow_pickle=False) as f:
        pixels, labels = f["pixels"], f["labels"]
    return pixels.astype(np.float32) / np.float32(16), labels.astype(np.int64)


def _arrays(X: Tensor | npt.ArrayLike, y: Tensor | npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    # Tensor's rule: Python numbers and lists become float32, NumPy arrays keep their dtype. Labels in a
    # list keep integers as integers (int64), as cross_entropy, one_hot and accuracy want them.
    X = Tensor(X).data
    if isinstance(y, Tensor):
        y = y.data
    elif not isinstance(y, np.ndarray):
        y = np.asarray(y)
        y = y.astype(np.float32) if y.dtype.kind == "f" else y
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    return X, y


def _class_counts(class_sizes, fractions, sizes):
    """counts[i, j], how many samples of class i go to part j: rows sum to the class sizes, columns to the
    part sizes, and each count is within 1 of class_sizes[i] * fractions[j]."""
    target = np.outer(class_sizes, fractions)
    slack = 1e-9 * (class_sizes[:, None] + 1)  # the fractions may sum to 1 only within 1e-9
    low = np.maximum(np.ceil(target - 1 - slack), 0).astype(int)
    high = np.floor(target + 1 + slack).astype(int)
    cuts = np.round(np.cumsum(fractions)[:-1] * class_sizes[:, None]).astype(int)
    counts = np.diff(cuts, prepend=0, append=class_sizes[:, None], axis=1)  # each class cut on its own
    # The part sizes drift (ten classes of 5 cut 0.7/0.3 give 40/10, not 35/15). Move samples from parts with
    # too many to parts with too few along a shortest chain of parts, each step moving one sample of some
    # class within the bounds: a max-flow augmenting path, which always exists, since
    # class_sizes[i] * sizes[j] / n is a solution within the bounds, so an integer one exists too.
    while (excess := counts.sum(0) - sizes).any():
        can_give, can_take = counts > low, counts < high
        capacity = (can_give[:, :, None] & can_take[:, None, :]).sum(0)  # [j, k]: classes that can move j -> k
        came_from = {j: None for j in np.flatnonzero(excess > 0)}
        queue = list(came_from)
        for j in queue:  # breadth-first: the queue grows while we walk it
            for k in np.flatnonzero(capacity[j]):
                if k not in came_from:
                    came_from[k] = j
                    queue.append(k)
        path = [next(k for k in queue if excess[k] < 0)]
        while came_from[path[-1]] is not None:
            path.append(came_from[path[-1]])
        path.reverse()  # from a part with too many to one with too few
        steps = list(zip(path, path[1:]))
        amount = min(excess[path[0]], -excess[path[-1]], *(capacity[j, k] for j, k in steps))
        moves = []
        for j, k in steps:  # chosen before any move, so each class moves at most once per step, within bounds
            # the classes most over their share in j and under it in k
            gain = np.where(
                can_give[:, j] & can_take[:, k], counts[:, j] - target[:, j] - counts[:, k] + target[:, k], -np.inf
            )
            moves.append((j, k, np.argsort(-gain, kind="stable")[:amount]))
        for j, k, classes in moves:
            counts[classes, j] -= 1
            counts[classes, k] += 1
    return counts


def train_val_test_split(
    X: Tensor | npt.ArrayLike,
    y: Tensor | npt.ArrayLike,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int | None = 0,
    stratify: bool = False,
) -> tuple[np.ndarray, ...]:
    """Shuffle the samples and cut them into parts of the given fractions (which must sum to 1).

    Returns X and y of each part in turn: with three fractions (X_train, y_train, X_val, y_val, X_test,
    y_test), with two (X_train, y_train, X_test, y_test). Parts are NumPy arrays. `stratify=True` keeps the
    class proportions of y in every part: the parts have the sizes they have without it, and each class's
    count in a part is within 1 of the class's size times the part's fraction."""
    X, y = _arrays(X, y)
    fractions = tuple(fractions)
    if len(fractions) < 2 or min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(
            f"train_val_test_split: fractions must be 2 or more positive numbers summing to 1, "
            f"got {fractions} (sum {sum(fractions):g})"
        )
    rng = np.random.default_rng(seed)
    cuts = np.round(np.cumsum(fractions)[:-1] * len(y)).astype(int)
    sizes = np.diff(cuts, prepend=0, append=len(y))
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    counts = _class_counts(np.array([len(members) for members in groups], dtype=int), fractions, sizes)
    parts = [[np.zeros(0, int)] for _ in fractions]
    for members, row in zip(groups, counts):
        for part, chunk in zip(parts, np.split(rng.permutation(members), np.cumsum(row)[:-1])):
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
    number of batches; `drop_last=True` leaves out a last, smaller batch. Python lists become float32 (integer
    labels stay int64) and NumPy arrays keep their dtype, as for Tensor."""

    def __init__(
        self,
        X: Tensor | npt.ArrayLike,
        y: Tensor | npt.ArrayLike,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.X, self.y = _arrays(X, y)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        X, y, size = self.X, self.y, self.batch_size
        if self.shuffle:
            order = (self._rng or default_generator()).permutation(len(X))
            X, y = X[order], y[order]  # one gather per epoch; the batches are then contiguous slices
        stop = len(self) * size
        for start in range(0, stop, size):
            yield Tensor._make(X[start : start + size], False, None), Tensor._make(y[start : start + size], False, None)


def one_hot(y: Tensor | npt.ArrayLike, num_classes: int | None = None, dtype: npt.DTypeLike = np.float32) -> Tensor:
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


def accuracy(output: Tensor | npt.ArrayLike, y: Tensor | npt.ArrayLike) -> float:
    """Fraction of samples whose largest output (logit or probability) is at the true class.
    `output` is (N, C); `y` is (N,) class indices or (N, C) one-hot / probabilities."""
    output = output.data if isinstance(output, Tensor) else np.asarray(output)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if output.ndim != 2 or y.shape not in ((len(output),), output.shape):
        raise ValueError(f"accuracy: output must be (N, C) and y (N,) or (N, C); got {output.shape} and {y.shape}")
    if y.ndim == 2:
        y = y.argmax(axis=1)
    return float(np.mean(output.argmax(axis=1) == y))
