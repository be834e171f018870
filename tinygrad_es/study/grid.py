"""What to run: the grid cost x activation x init x learning rate x seed, the paper's published
numbers, and the summary of the finished runs, one entry per cell."""

from dataclasses import dataclass, field, replace

import numpy as np

from .. import data as datasets
from .training import weight_init_name

# Tables 2 and 3 of the paper: validation accuracy in %.
PAPER_ACCURACY = {
    ("cross_entropy", "xavier", "sigmoid"): 96.39,
    ("cross_entropy", "xavier", "tanh"): 67.22,
    ("cross_entropy", "xavier", "relu"): 19.44,
    ("cross_entropy", "gaussian", "sigmoid"): 85.83,
    ("cross_entropy", "gaussian", "tanh"): 8.89,
    ("cross_entropy", "gaussian", "relu"): 10.56,
    ("mse", "xavier", "sigmoid"): 91.67,
    ("mse", "xavier", "tanh"): 25.28,
    ("mse", "xavier", "relu"): 19.17,
    ("mse", "gaussian", "sigmoid"): 82.50,
    ("mse", "gaussian", "tanh"): 9.17,
    ("mse", "gaussian", "relu"): 22.50,
}
COSTS = ("cross_entropy", "mse")
PROTOCOLS = ("paper", "modern")
PAPER_ACTIVATIONS = ("sigmoid", "tanh", "relu")
PAPER_INITS = ("xavier", "gaussian")
PAPER_LRS = (1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5)
# The paper gives no epoch count or batch size; 30 epochs of minibatches of 10 are the settings of
# Nielsen's book, its reference [6].
FULL_EPOCHS, FULL_SEEDS = 30, 5
DEFAULT_EPOCHS, DEFAULT_SEEDS, DEFAULT_BATCH = 20, 1, 10
# Activations not applied elementwise have no per-unit slope; a Dense layer cannot use them in the grid.
NOT_ELEMENTWISE = frozenset({"softmax", "log_softmax", "softmin", "glu"})


@dataclass(frozen=True)
class Study:
    """What to run. `runs()` lists one training per (cost, activation, init, lr, seed)."""

    protocol: str = "paper"
    costs: tuple = COSTS
    activations: tuple = PAPER_ACTIVATIONS
    inits: tuple = PAPER_INITS
    lrs: tuple = PAPER_LRS
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH
    seeds: int = DEFAULT_SEEDS
    hidden: tuple = (32, 16)
    split_seed: int = 0
    splits: dict = field(default_factory=lambda: {"train": 0.6, "select": 0.2, "report": 0.2})
    compiled: bool = True  # training steps replayed by tinygrad_es.compile: the same numbers, faster

    def cells(self):
        return [(c, a, i) for c in self.costs for a in self.activations for i in self.inits]

    def runs(self):
        return [(c, a, i, lr, s) for c, a, i in self.cells() for lr in self.lrs for s in range(self.seeds)]


def with_overrides(study, **changes):
    """The study with the given fields replaced (None leaves a field as it is)."""
    return replace(study, **{k: v for k, v in changes.items() if v is not None})


def load_splits(study):
    """{'train': (X, Y, labels), 'select': ..., 'report': ...}; Y is one-hot float32."""
    X, y = datasets.load_digits()
    parts = datasets.train_val_test_split(X, y, tuple(study.splits.values()), seed=study.split_seed, stratify=True)
    pairs = zip(parts[::2], parts[1::2])
    return {name: (Xs, datasets.one_hot(ys, 10).data, ys) for name, (Xs, ys) in zip(study.splits, pairs)}


def summarize(study, records):
    """One entry per finished cell: the lr with the best mean select accuracy over seeds, and the
    report accuracy (mean, std over seeds) at that lr, the paper's number beside it."""
    by_cell = {}
    for r in records:
        by_cell.setdefault((r["cost"], r["activation"], r["init"]), []).append(r)
    cells = []
    for key in study.cells():
        runs = by_cell.get(key, [])
        if len(runs) < len(study.lrs) * study.seeds:
            continue
        best_lr = max(study.lrs, key=lambda lr: np.mean([r["select_accuracy"] for r in runs if r["lr"] == lr]))
        chosen = [r for r in runs if r["lr"] == best_lr]
        report = [r["report_accuracy"] for r in chosen]
        cost, activation, init = key
        cells.append(
            {
                "cost": cost,
                "activation": activation,
                "init": init,
                "weight_init": weight_init_name(study, activation, init),
                "lr": best_lr,
                "accuracy": round(float(np.mean(report)), 2),
                "std": round(float(np.std(report)), 2),
                "select_accuracy": round(float(np.mean([r["select_accuracy"] for r in chosen])), 2),
                "paper": PAPER_ACCURACY.get((cost, init, activation)) if study.protocol == "paper" else None,
                "diverged_lrs": sorted({r["lr"] for r in runs if r["diverged"]}),
                **{
                    f"{k}_{when}": _mean([r[f"at_{when}"][k] for r in chosen])
                    for when in ("init", "end")
                    for k in chosen[0]["at_init"]
                },
                "curve": np.mean([r["curves"]["report"] for r in chosen], axis=0).round(2).tolist(),
            }
        )
    return cells


def _mean(values):
    return None if values[0] is None else round(float(np.mean(values)), 2)
