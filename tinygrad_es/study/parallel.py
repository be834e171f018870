"""The runs of a study in worker processes, their records and epoch ticks streamed back."""

import multiprocessing as mp
import os
import queue
import signal
from typing import Any

from .training import train_run

_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_worker: dict[str, Any] = {}  # in each worker process: the study, the splits and the queue for epoch ticks


def worker_count(jobs, runs):
    """Processes worth starting for `jobs` asked and `runs` to do: one more than the runs or the
    cores would only wait, and each costs the memory of a Python with NumPy."""
    return max(1, min(jobs, runs, os.cpu_count() or 1))


def execute(study, splits, jobs, on_epoch):
    """Yield each run's record as it finishes; with more than one worker (see worker_count) the
    runs are trained in that many processes."""
    runs = study.runs()
    workers = worker_count(jobs, len(runs))
    if workers == 1:
        for run in runs:
            yield train_run(study, splits, *run, on_epoch=on_epoch)
        return
    context = mp.get_context("spawn")
    ticks = context.Queue()
    pool = _start_workers(context, workers, (study, splits, ticks))
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


def _start_workers(context, workers, initargs):
    """A pool of fresh processes that ignore Ctrl-C (the parent handles it and stops them) and whose
    BLAS runs on one thread: these matrices are small, and two processes each spinning several BLAS
    threads on two cores run slower than one process alone. Both settings are inherited at start."""
    saved_env = {name: os.environ.get(name) for name in _BLAS_THREADS}
    saved_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(dict.fromkeys(_BLAS_THREADS, "1"))
    try:
        return context.Pool(workers, _init_worker, initargs)
    finally:
        signal.signal(signal.SIGINT, saved_handler)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


def _init_worker(study, splits, ticks):
    _worker.update(study=study, splits=splits, ticks=ticks)


def _work(run):
    return train_run(_worker["study"], _worker["splits"], *run, on_epoch=_worker["ticks"].put)
