"""The `paper` command's work: the grid run with a progress bar, results written as runs finish,
Ctrl-C and SIGTERM stopping it with every finished run kept."""

import contextlib
import os
import signal
import sys
import threading
import time

from . import grid
from .parallel import execute, worker_count
from .report import format_reasons, format_tables, save_plots, write_results
from .training import CLIP_EPS


def paper(study, out_dir, jobs, plots=True):
    """Run `study`, print its tables and measurements; returns the exit code (0, or 128 + the
    signal that stopped it)."""
    workers = worker_count(jobs, len(study.runs()))
    print(
        f"{study.protocol} protocol: {len(study.cells())} cells x {len(study.lrs)} lrs x {study.seeds} seed(s) = "
        f"{len(study.runs())} runs of {study.epochs} epochs (batch {study.batch_size}), {workers} process(es)"
    )
    print(
        "splits: train on 60% (the paper's 'Test'), pick lr on 20% (its 'Train'), report the other 20% "
        "(its 'Validation')"
    )
    if study.protocol == "paper" and "cross_entropy" in study.costs:
        print(
            f"paper CE: yhat is clipped into [{CLIP_EPS:g}, 1 - {CLIP_EPS:g}] before the log, "
            "so outputs outside (0, 1) (tanh, ReLU) get no gradient from it"
        )
    start = time.perf_counter()
    cells, stopped_by = run_study(study, out_dir, jobs=jobs, plots=plots)
    elapsed = time.perf_counter() - start
    print()
    print(format_tables(study, cells))
    if cells:
        print()
        print("measured at the end of training, report split, chosen lr (see README: why tanh and ReLU fail):")
        print(format_reasons(cells))
    state = f"interrupted ({stopped_by.name}): kept" if stopped_by else "done:"
    print(f"\n{state} {len(cells)}/{len(study.cells())} cells in {elapsed:.1f} s; results in {out_dir}/")
    return 128 + stopped_by if stopped_by else 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, to be handled as Ctrl-C is."""


def run_study(study, out_dir, jobs=2, stream=None, plots=True):
    """Run the grid, writing results into `out_dir` as runs finish; returns (cells, stopped_by):
    stopped_by is None, or the signal (SIGINT for Ctrl-C, SIGTERM) that stopped the study, whose
    finished runs and cells stay in the results files, marked "interrupted"."""
    stream = stream or sys.stderr
    os.makedirs(out_dir, exist_ok=True)
    splits = grid.load_splits(study)
    progress = Progress(study, stream)
    records, stopped_by, start = [], None, time.perf_counter()
    runs = execute(study, splits, jobs, progress.epochs)
    try:
        with _sigterm_as_interrupt():
            for record in runs:
                records.append(record)
                cells = write_results(out_dir, study, records, time.perf_counter() - start, interrupted=False)
                progress.cell_done(len(cells))
    except KeyboardInterrupt as stop:
        stopped_by = signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT
    finally:
        runs.close()
        progress.close(finished=stopped_by is None)
        cells = write_results(out_dir, study, records, time.perf_counter() - start, stopped_by is not None)
    if plots and cells:
        save_plots(study, cells, out_dir)
    return cells, stopped_by


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Inside, SIGTERM raises Terminated, so that it stops the study as Ctrl-C does; the previous
    handler is back after. Outside the main thread, where Python cannot handle signals, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:  # None: a handler installed outside Python, which cannot be put back from here
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


class Progress:
    """A bar over all epochs of all runs, with finished cells in its label: tqdm when installed,
    else a line rewritten in place."""

    def __init__(self, study, stream):
        self.total, self.cells, self.done, self.count, self.stream = (
            len(study.runs()) * study.epochs,
            len(study.cells()),
            0,
            0,
            stream,
        )
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
        self.stream.write(
            f"\r{self._label()} | epochs {self.count}/{self.total} ({percent:.0f}%) | {self.shown - self.start:.1f} s"
        )
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
