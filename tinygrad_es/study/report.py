"""What a study shows: the paper's tables with our numbers, the measurements per cell, the results
files (results.json, results.csv) and the figures."""

import csv
import io
import json
import math
import os
from dataclasses import asdict

import numpy as np

from .grid import summarize

COST_TITLES = {"cross_entropy": "Cross-entropy", "mse": "MSE (1/2n sum of squares)"}


# ---- tables ----------------------------------------------------------------------------------------
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
    """The measurements behind each cell (see measure.py), one line each, at the chosen lr."""
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


# ---- results files ---------------------------------------------------------------------------------
def write_results(out_dir, study, records, elapsed, interrupted):
    """results.json (settings, every run, every finished cell) and results.csv (one row per cell).
    Written after every finished run, so an interrupted study keeps what it has."""
    cells = summarize(study, records)
    payload = {
        "study": asdict(study),
        "elapsed_seconds": round(elapsed, 2),
        "interrupted": interrupted,
        "split_names": {
            "train": "paper's 'Test' (60%, trained on)",
            "select": "paper's 'Train' (20%, picks lr)",
            "report": "paper's 'Validation' (20%, reported)",
        },
        "cells": cells,
        "runs": records,
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


# ---- figures ---------------------------------------------------------------------------------------
def save_plots(study, cells, out_dir):
    """accuracy_<cost>.png (report accuracy per epoch, one panel per activation, one line per init,
    like the paper's Figures 6-11) and heatmap.png (the whole grid); the paths written. Skipped
    (no paths) without matplotlib."""
    try:
        import matplotlib  # noqa: F401  (the figures below draw on matplotlib.figure.Figure)
    except ImportError:
        return []
    paths = []
    for cost in study.costs:
        mine = [c for c in cells if c["cost"] == cost]
        if mine:
            paths.append(os.path.join(out_dir, f"accuracy_{cost}.png"))
            accuracy_figure(study, mine, cost).savefig(paths[-1], dpi=100)
    paths.append(os.path.join(out_dir, "heatmap.png"))
    heatmap_figure(study, cells).savefig(paths[-1], dpi=100)
    return paths


def _averaged(study):
    """What a figure's numbers are: one run, or the mean of several seeds."""
    return f", mean of {study.seeds} seeds" if study.seeds > 1 else ""


def accuracy_figure(study, cells, cost):
    """Report accuracy per epoch of one cost's cells: a panel per activation, a line per init."""
    from matplotlib.figure import Figure  # not pyplot: no global state, no backend to choose

    columns = min(len(study.activations), 4)
    rows = math.ceil(len(study.activations) / columns)
    fig = Figure(figsize=(4 * columns, 3.2 * rows + 0.4))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, activation in zip(axes.flat, study.activations):
        for c in (c for c in cells if c["activation"] == activation):
            ax.plot(range(1, len(c["curve"]) + 1), c["curve"], label=f"{c['init']} (lr {c['lr']:g})")
        ax.set(title=activation, xlabel="epoch", ylim=(0, 100))
        ax.legend(fontsize=8)
    for ax in axes.flat[len(study.activations) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy on report split (%)" + _averaged(study).replace(", ", "\n"))
    fig.suptitle(f"{COST_TITLES.get(cost, cost)}, {study.protocol} protocol{_averaged(study)}")
    fig.tight_layout()
    return fig


def heatmap_figure(study, cells):
    """The whole grid: one column per activation, or one row per activation when there are many."""
    from matplotlib.figure import Figure

    settings = [(cost, init) for cost in study.costs for init in study.inits]
    grid = np.full((len(settings), len(study.activations)), np.nan)
    for c in cells:
        grid[settings.index((c["cost"], c["init"])), study.activations.index(c["activation"])] = c["accuracy"]
    row_names, column_names = [f"{c} / {i}" for c, i in settings], list(study.activations)
    if len(study.activations) > 4:
        grid, row_names, column_names = grid.T, column_names, row_names
    fig = Figure(figsize=(1.6 * len(column_names) + 3, 0.45 * len(row_names) + 1.5))
    ax = fig.subplots()
    ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(column_names)), column_names, rotation=30, ha="right")
    ax.set_yticks(range(len(row_names)), row_names)
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", color="white" if value < 60 else "black")
    ax.set_title(f"report accuracy (%), {study.protocol} protocol{_averaged(study)}")
    fig.tight_layout()
    return fig
