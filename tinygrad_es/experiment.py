"""The student paper's study as an experiment anyone can rerun.

A 64-32-16-10 network is trained with minibatch SGD on the digits for every cell of the grid
cost x activation x initialization, at each learning rate and seed. The paper's Table 1 calls
its 60% split "Test" and its two 20% splits "Train" and "Validation", yet trains on the 60%. We
keep the sizes and name the splits by their use: train on the 60% ("train"), choose each cell's
learning rate on one 20% split ("select", the paper's "Train") and report accuracy on the other
20% ("report", the paper's "Validation", which its Tables 2 and 3 show).

Two protocols:
- "paper": the same activation on every layer including the output, the paper's costs on one-hot
  targets (CE = -1/n sum [y log yhat + (1-y) log(1-yhat)], MSE = 1/(2n) sum ||y - yhat||^2),
  weights N(0,1) ("gaussian") or N(0,1)/sqrt(fan_in) ("xavier") and biases N(0,1). Outputs that
  leave (0, 1) (tanh, ReLU) would put a negative number into a log: yhat is clipped into
  [eps, 1-eps] first, as many from-scratch codes do, so the loss stays finite but such outputs
  get no gradient from the cost. The measurements below say how often that happens.
- "modern": the named activation on the hidden layers only, a linear output (logits) with
  softmax cross-entropy or with the same 1/(2n) squared error, a weight init suited to the
  activation (He for the ReLU family, LeCun for SELU, Glorot for sigmoid/tanh-like) and zero biases.
"""
import csv
import io
import itertools
import json
import math
import os
import signal
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import data as datasets
from . import nn, optim
from .engine import Tensor, no_grad
from .fused import linear
from .losses import binary_cross_entropy, cross_entropy, half_mse_loss

# Tables 2 and 3 of the paper: validation accuracy in %.
PAPER_ACCURACY = {
    ("cross_entropy", "xavier", "sigmoid"): 96.39, ("cross_entropy", "xavier", "tanh"): 67.22,
    ("cross_entropy", "xavier", "relu"): 19.44, ("cross_entropy", "gaussian", "sigmoid"): 85.83,
    ("cross_entropy", "gaussian", "tanh"): 8.89, ("cross_entropy", "gaussian", "relu"): 10.56,
    ("mse", "xavier", "sigmoid"): 91.67, ("mse", "xavier", "tanh"): 25.28,
    ("mse", "xavier", "relu"): 19.17, ("mse", "gaussian", "sigmoid"): 82.50,
    ("mse", "gaussian", "tanh"): 9.17, ("mse", "gaussian", "relu"): 22.50,
}
COSTS = ("cross_entropy", "mse")
COST_TITLES = {"cross_entropy": "Cross-entropy", "mse": "MSE (1/2n sum of squares)"}
PROTOCOLS = ("paper", "modern")
PAPER_ACTIVATIONS = ("sigmoid", "tanh", "relu")
PAPER_INITS = ("xavier", "gaussian")
PAPER_INIT_NAMES = {"gaussian": "gaussian", "xavier": "xavier_paper"}  # the paper's names -> nn.init names
PAPER_LRS = (1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5)
# The paper gives no epoch count or batch size; 30 epochs of minibatches of 10 are the settings of
# Nielsen's book, its reference [6].
FULL_EPOCHS, FULL_SEEDS = 30, 5
DEFAULT_EPOCHS, DEFAULT_SEEDS, DEFAULT_BATCH = 20, 1, 10
CLIP_EPS = 1e-7  # yhat is clipped into [eps, 1 - eps] before the paper's log
FLAT_SLOPE = 0.01  # a unit whose |f'(z)| is below this passes on less than 1% of its gradient
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

    def cells(self):
        return [(c, a, i) for c in self.costs for a in self.activations for i in self.inits]

    def runs(self):
        return [(c, a, i, lr, s) for c, a, i in self.cells() for lr in self.lrs for s in range(self.seeds)]


def load_splits(study):
    """{'train': (X, Y, labels), 'select': ..., 'report': ...}; Y is one-hot float32."""
    X, y = datasets.load_digits()
    parts = datasets.train_val_test_split(X, y, tuple(study.splits.values()), seed=study.split_seed, stratify=True)
    pairs = zip(parts[::2], parts[1::2])
    return {name: (Xs, datasets.one_hot(ys, 10).data, ys) for name, (Xs, ys) in zip(study.splits, pairs)}


# ---- model and cost --------------------------------------------------------------------------------
def modern_init(activation):
    """The weight init suited to an activation: LeCun for SELU, Glorot for the saturating
    sigmoid/tanh-like ones, He for the rest (the ReLU family and its smooth relatives)."""
    if activation == "selu":
        return "lecun_normal"
    if activation in ("sigmoid", "tanh", "softsign", "hardtanh", "hardsigmoid", "logsigmoid", "tanhshrink",
                      "identity", "linear", "step"):
        return "xavier_normal"
    return "he_normal"


def weight_init_name(study, activation, init):
    """The nn.init function a cell's init stands for."""
    if init == "auto" and study.protocol == "modern":
        return modern_init(activation)
    return PAPER_INIT_NAMES.get(init, init)


def build_model(study, activation, init, generator):
    """64 -> hidden... -> 10 Dense layers, initialized as the protocol says."""
    weight_init = weight_init_name(study, activation, init)
    bias_init = "gaussian" if study.protocol == "paper" else "zeros"
    sizes = (64, *study.hidden, 10)
    layers = []
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        is_output = k == len(sizes) - 2
        act = "linear" if (is_output and study.protocol == "modern") else activation
        layers.append(nn.Dense(fan_in, fan_out, activation=act, init=weight_init, bias_init=bias_init,
                               generator=generator))
    return nn.Sequential(*layers)


def paper_cross_entropy(yhat, target, eps=CLIP_EPS):
    """-1/n sum over samples and outputs of [y log yhat + (1-y) log(1-yhat)], yhat clipped into
    [eps, 1-eps] (outside it the cost is flat, so clipped outputs get no gradient)."""
    return binary_cross_entropy(yhat.clip(eps, 1 - eps), target, reduction="sum") / len(yhat)


def make_cost(study, cost):
    """(loss(output, target), whether the target is the class labels rather than one-hot rows)."""
    if cost == "mse":
        return half_mse_loss, False
    if study.protocol == "paper":
        return paper_cross_entropy, False
    return cross_entropy, True


# ---- one training run ------------------------------------------------------------------------------
def _accuracy(model, X, labels):
    model.eval()  # RReLU, for one, uses its mean slope when evaluated
    with no_grad():
        predicted = model(Tensor(X)).data.argmax(axis=1)
    return float((predicted == labels).mean() * 100)


def train_run(study, splits, cost, activation, init, lr, seed, on_epoch=None):
    """Train one network; returns a record with accuracy per epoch on the select and report
    splits, whether the loss left the finite numbers, and `measure` at the start and the end."""
    start = time.perf_counter()
    generator = np.random.default_rng(seed)
    model = build_model(study, activation, init, generator)
    loss_fn, uses_labels = make_cost(study, cost)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    X, onehot, labels = splits["train"]
    loader = datasets.DataLoader(X, labels if uses_labels else onehot, study.batch_size, shuffle=True, seed=seed)
    at_init = measure(study, model, splits["report"], cost)
    curves = {"loss": [], "select": [], "report": []}
    diverged = False
    with np.errstate(all="ignore"):  # a diverging run may overflow; it is detected below, not warned about
        for epoch in range(study.epochs):
            model.train()
            total = 0.0
            for x, target in loader:
                loss = loss_fn(model(x), target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(x)
            curves["loss"].append(total / len(X) if math.isfinite(total) else None)  # JSON has no NaN
            curves["select"].append(_accuracy(model, *splits["select"][::2]))
            curves["report"].append(_accuracy(model, *splits["report"][::2]))
            if not math.isfinite(total):
                diverged = True
                left = study.epochs - epoch - 1  # the broken model's accuracy stands for the rest
                for name in curves:
                    curves[name] += curves[name][-1:] * left
                if on_epoch:
                    on_epoch(left + 1)
                break
            if on_epoch:
                on_epoch(1)
        at_end = measure(study, model, splits["report"], cost)
    return {
        "cost": cost, "activation": activation, "init": init, "lr": lr, "seed": seed,
        "select_accuracy": curves["select"][-1], "report_accuracy": curves["report"][-1],
        "diverged": diverged, "curves": curves, "at_init": at_init, "at_end": at_end,
        "seconds": round(time.perf_counter() - start, 3),
    }


def measure(study, model, split, cost):
    """Why a network does not learn, in numbers (percentages), on one split:
    - flat: share of (sample, hidden unit) pairs with |f'(z)| < FLAT_SLOPE (saturated or switched off);
    - dead: share of hidden units flat for every sample (they pass on no gradient at all);
    - outside_01: share of outputs outside (0, 1), where the paper's CE is undefined (paper protocol);
    - stuck: share of outputs wrong by more than 0.5 to which the cost sends almost no gradient
      (|dJ/dz| < FLAT_SLOPE per sample), so they stay wrong (paper protocol);
    - top_class: share of samples given the most common prediction (100: one class for every input)."""
    X, onehot, labels = split
    loss_fn, uses_labels = make_cost(study, cost)
    model.eval()
    layers = list(model)
    flat, dead = [], []
    a = Tensor(X)
    for k, layer in enumerate(layers):
        z = Tensor(linear(a, layer.weight, layer.bias).data, requires_grad=True)
        out = layer.activation(z)
        if k < len(layers) - 1:
            out.backward(np.ones_like(out.data))  # elementwise, so z.grad is f'(z)
            is_flat = np.abs(z.grad.data) < FLAT_SLOPE
            flat.append(is_flat.mean())
            dead.append(is_flat.all(axis=0).mean())
            a = out.detach()
    counts = np.bincount(out.data.argmax(axis=1), minlength=10)
    result = {"flat": _pct(np.mean(flat)), "dead": _pct(np.mean(dead)), "top_class": _pct(counts.max() / len(X)),
              "outside_01": None, "stuck": None}
    if study.protocol == "paper":
        loss_fn(out, labels if uses_labels else onehot).backward()
        push = np.abs(z.grad.data) * len(X)
        result["outside_01"] = _pct(((out.data <= 0) | (out.data >= 1)).mean())
        result["stuck"] = _pct(((np.abs(out.data - onehot) > 0.5) & (push < FLAT_SLOPE)).mean())
    model.zero_grad()  # a learnable activation (PReLU) got gradients from the probes above
    return result


def _mean(values):
    return None if values[0] is None else round(float(np.mean(values)), 2)


def _pct(share):
    return round(float(share) * 100, 2)


# ---- the grid --------------------------------------------------------------------------------------
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
        cells.append({
            "cost": cost, "activation": activation, "init": init,
            "weight_init": weight_init_name(study, activation, init), "lr": best_lr,
            "accuracy": round(float(np.mean(report)), 2), "std": round(float(np.std(report)), 2),
            "select_accuracy": round(float(np.mean([r["select_accuracy"] for r in chosen])), 2),
            "paper": PAPER_ACCURACY.get((cost, init, activation)) if study.protocol == "paper" else None,
            "diverged_lrs": sorted({r["lr"] for r in runs if r["diverged"]}),
            **{f"{k}_{when}": _mean([r[f"at_{when}"][k] for r in chosen])
               for when in ("init", "end") for k in chosen[0]["at_init"]},
            "curve": np.mean([r["curves"]["report"] for r in chosen], axis=0).round(2).tolist(),
        })
    return cells


def format_tables(study, cells):
    """One table per cost in the paper's layout, rows inits and columns activations (transposed
    when there are more activations than fit across); each entry is our report accuracy (± std
    over seeds when several) and, for the paper's cells, its number in brackets."""
    lookup = {(c["cost"], c["init"], c["activation"]): c for c in cells}
    transpose = len(study.activations) > 4
    rows, columns = (study.activations, study.inits) if transpose else (study.inits, study.activations)
    width = 12 + (6 if study.seeds > 1 else 0) + (8 if study.protocol == "paper" else 0)
    width = max(width, *(len(name) + 2 for name in columns))
    blocks = []
    for cost in study.costs:
        lines = [f"{COST_TITLES.get(cost, cost):<26}" + "".join(f"{name:>{width}}" for name in columns)]
        for row in rows:
            entries = [lookup.get((cost, col, row) if transpose else (cost, row, col)) for col in columns]
            lines.append(f"{row:<26}" + "".join(f"{_entry(cell, study.seeds):>{width}}" for cell in entries))
        blocks.append("\n".join(lines))
    legend = "ours: % on the report split (the paper's Validation)"
    if study.seeds > 1:
        legend += f", mean ± std over {study.seeds} seeds"
    if study.protocol == "paper":
        legend += "; [paper's Tables 2-3]"
    return "\n\n".join(blocks) + "\n" + legend


def _entry(cell, seeds):
    if cell is None:
        return "--"
    text = f"{cell['accuracy']:.2f}"
    if seeds > 1:
        text += f"±{cell['std']:.1f}"
    if cell["paper"] is not None:
        text += f" [{cell['paper']:.2f}]"
    return text


def format_reasons(cells):
    """The measurements behind each cell (see `measure`), one line each, at the chosen lr."""
    names = []
    for c in cells:
        init = f"auto={c['weight_init']}" if c["init"] == "auto" else c["init"]
        names.append(f"{c['cost']}/{c['activation']}/{init}")
    width = max(len(name) for name in names) + 1
    columns = "lr      out∉(0,1)%  stuck-out%  hidden-flat% init→end  dead%  top-class%  diverged lrs"
    lines = [f"{'cell':<{width}} {columns}"]
    for name, c in zip(names, cells):
        diverged = ",".join(f"{lr:g}" for lr in c["diverged_lrs"]) or "-"
        lines.append(
            f"{name:<{width}} {c['lr']:<7g} {_number(c['outside_01_end']):>10} {_number(c['stuck_end']):>11}"
            f" {c['flat_init']:>10.1f} → {c['flat_end']:<5.1f} {c['dead_end']:>6.1f} {c['top_class_end']:>11.1f}"
            f"  {diverged}"
        )
    return "\n".join(lines)


def _number(value):
    return "-" if value is None else f"{value:.1f}"


def write_results(out_dir, study, records, elapsed, interrupted):
    """results.json (settings, every run, every finished cell) and results.csv (one row per cell).
    Written after every finished run, so an interrupted study keeps what it has."""
    cells = summarize(study, records)
    payload = {
        "study": asdict(study), "elapsed_seconds": round(elapsed, 2), "interrupted": interrupted,
        "split_names": {"train": "paper's 'Test' (60%, trained on)", "select": "paper's 'Train' (20%, picks lr)",
                        "report": "paper's 'Validation' (20%, reported)"},
        "cells": cells, "runs": records,
    }
    _atomic_write(os.path.join(out_dir, "results.json"), json.dumps(payload, indent=1))
    columns = [k for k in (cells[0] if cells else {}) if k != "curve"]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns or ["cost", "activation", "init"], extrasaction="ignore")
    writer.writeheader()
    for c in cells:
        writer.writerow({**c, "diverged_lrs": " ".join(f"{lr:g}" for lr in c["diverged_lrs"])})
    _atomic_write(os.path.join(out_dir, "results.csv"), table.getvalue())
    return cells


def _atomic_write(path, text):
    with open(path + ".tmp", "w", newline="") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


# ---- running the grid, in parallel ------------------------------------------------------------------
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_worker = {}  # in each worker process: the study, the splits and the queue for epoch ticks


def _init_worker(study, splits, ticks):
    _worker.update(study=study, splits=splits, ticks=ticks)


def _start_workers(context, jobs, initargs):
    """A pool of fresh processes that ignore Ctrl-C (the parent handles it and stops them) and whose
    BLAS runs on one thread: these matrices are small, and two processes each spinning several BLAS
    threads on two cores run slower than one process alone. Both settings are inherited at start."""
    saved_env = {name: os.environ.get(name) for name in _BLAS_THREADS}
    saved_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(dict.fromkeys(_BLAS_THREADS, "1"))
    try:
        return context.Pool(jobs, _init_worker, initargs)
    finally:
        signal.signal(signal.SIGINT, saved_handler)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


def _work(run):
    return train_run(_worker["study"], _worker["splits"], *run, on_epoch=_worker["ticks"].put)


def execute(study, splits, jobs, on_epoch):
    """Yield each run's record as it finishes; `jobs` > 1 trains in that many processes."""
    runs = study.runs()
    if jobs <= 1:
        for run in runs:
            yield train_run(study, splits, *run, on_epoch=on_epoch)
        return
    import multiprocessing as mp
    import queue

    context = mp.get_context("spawn")
    ticks = context.Queue()
    pool = _start_workers(context, jobs, (study, splits, ticks))
    with pool:  # leaving it, even by Ctrl-C, terminates the workers
        results = pool.imap_unordered(_work, runs)
        for _ in runs:
            record = None
            while record is None:
                try:
                    record = results.next(timeout=0.05)
                except mp.TimeoutError:
                    pass
                try:
                    while True:
                        on_epoch(ticks.get_nowait())
                except queue.Empty:
                    pass
            yield record


class Progress:
    """A bar over all epochs of all runs, with finished cells in its label: tqdm when installed,
    else a line rewritten in place."""

    def __init__(self, study, stream):
        self.total, self.cells, self.done, self.count, self.stream = (
            len(study.runs()) * study.epochs, len(study.cells()), 0, 0, stream)
        self.start, self.shown = time.perf_counter(), 0.0
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=self.total, unit="epoch", file=stream, desc=self._label(), mininterval=0.5)

    def _label(self):
        return f"cells {self.done}/{self.cells}"

    def epochs(self, n):
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.perf_counter() - self.shown > 0.5:
            self._show_line()

    def _show_line(self):
        self.shown = time.perf_counter()
        percent = 100 * self.count / max(self.total, 1)
        self.stream.write(f"\r{self._label()} | epochs {self.count}/{self.total} ({percent:.0f}%)"
                          f" | {self.shown - self.start:.1f} s")
        self.stream.flush()

    def cell_done(self, done):
        self.done = done
        if self.bar is not None:
            self.bar.set_description(self._label())

    def close(self, finished):
        if finished:  # epoch ticks may still be in flight from the workers
            self.count = self.total
        if self.bar is not None:
            self.bar.update(self.count - self.bar.n)
            self.bar.close()
        else:
            self._show_line()
            self.stream.write("\n")


def run_study(study, out_dir, jobs=2, stream=None, plots=True):
    """Run the grid, writing results into `out_dir` as runs finish; returns (cells, interrupted).
    Ctrl-C stops it: the finished runs and cells stay in the results files."""
    import sys

    stream = stream or sys.stderr
    os.makedirs(out_dir, exist_ok=True)
    splits = load_splits(study)
    progress = Progress(study, stream)
    records, interrupted, start = [], False, time.perf_counter()
    runs = execute(study, splits, jobs, progress.epochs)
    try:
        for record in runs:
            records.append(record)
            cells = write_results(out_dir, study, records, time.perf_counter() - start, interrupted=False)
            progress.cell_done(len(cells))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runs.close()
        progress.close(finished=not interrupted)
        cells = write_results(out_dir, study, records, time.perf_counter() - start, interrupted)
    if plots and cells:
        save_plots(study, cells, out_dir)
    return cells, interrupted


# ---- figures ---------------------------------------------------------------------------------------
def save_plots(study, cells, out_dir):
    """accuracy_<cost>.png (report accuracy per epoch, one panel per activation, one line per init,
    like the paper's Figures 6-11) and heatmap.png (the whole grid). Skipped without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    columns = min(len(study.activations), 4)
    rows = math.ceil(len(study.activations) / columns)
    for cost in study.costs:
        mine = [c for c in cells if c["cost"] == cost]
        if not mine:
            continue
        fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.2 * rows + 0.4), squeeze=False)
        for ax, activation in zip(axes.flat, study.activations):
            for c in (c for c in mine if c["activation"] == activation):
                ax.plot(range(1, len(c["curve"]) + 1), c["curve"], label=f"{c['init']} (lr {c['lr']:g})")
            ax.set(title=activation, xlabel="epoch", ylim=(0, 100))
            ax.legend(fontsize=8)
        for ax in axes.flat[len(study.activations):]:
            ax.axis("off")
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy on report split (%)")
        fig.suptitle(f"{COST_TITLES.get(cost, cost)}, {study.protocol} protocol")
        fig.tight_layout()
        paths.append(os.path.join(out_dir, f"accuracy_{cost}.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

    # The heatmap: one column per activation, or one row per activation when there are many.
    settings = [(cost, init) for cost in study.costs for init in study.inits]
    grid = np.full((len(settings), len(study.activations)), np.nan)
    for c in cells:
        grid[settings.index((c["cost"], c["init"])), study.activations.index(c["activation"])] = c["accuracy"]
    setting_names = [f"{c} / {i}" for c, i in settings]
    row_names, column_names = setting_names, list(study.activations)
    if len(study.activations) > 4:
        grid, row_names, column_names = grid.T, column_names, row_names
    fig, ax = plt.subplots(figsize=(1.6 * len(column_names) + 3, 0.45 * len(row_names) + 1.5))
    ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(column_names)), column_names, rotation=30, ha="right")
    ax.set_yticks(range(len(row_names)), row_names)
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", color="white" if value < 60 else "black")
    ax.set_title(f"report accuracy (%), {study.protocol} protocol")
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "heatmap.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def with_overrides(study, **changes):
    """The study with the given fields replaced (None leaves a field as it is)."""
    return replace(study, **{k: v for k, v in changes.items() if v is not None})
