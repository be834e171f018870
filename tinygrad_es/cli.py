"""The `tinygrad-es` command (also `python -m tinygrad_es`).

    tinygrad-es paper                       # the paper's grid, quick settings (under a minute)
    tinygrad-es paper --full                # the paper's settings: 30 epochs, 5 seeds
    tinygrad-es paper --protocol modern --activations relu elu selu gelu
    tinygrad-es diagnose --activation relu --depth 12   # inside a deep network, layer by layer
"""
import argparse
import math
import os
import sys
import time

from . import experiment as ex
from .diagnostics import add_diagnose_command

COST_ALIASES = {"cross_entropy": "cross_entropy", "cross-entropy": "cross_entropy", "ce": "cross_entropy",
                "mse": "mse"}


def _names(text):
    """A list option's value: names separated by commas and/or given as several arguments."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _flatten(groups):
    return None if groups is None else tuple(x for group in groups for x in group)


def add_paper_command(subparsers):
    p = subparsers.add_parser(
        "paper",
        help="reproduce the student paper's cost x activation x init study on the digits",
        description=(
            "Train a 64-32-16-10 network with minibatch SGD on the digits for every cost x activation x init, "
            "at every learning rate, and print the paper's Tables 2-3 with our numbers beside them. Splits: train "
            "on 60% (the paper's 'Test'), choose each cell's learning rate on 20% (its 'Train'), report accuracy "
            "on the other 20% (its 'Validation'). Results go to OUT/results.json, results.csv and PNG figures."
        ),
    )
    p.add_argument("--protocol", choices=ex.PROTOCOLS, default="paper",
                   help="paper: its activation on the output too, its CE/MSE formulas and inits; modern: linear "
                        "output with softmax CE or MSE, init suited to the activation (default: paper)")
    p.add_argument("--costs", type=_names, nargs="+", metavar="COST", help="cross_entropy (ce), mse (default: both)")
    p.add_argument("--activations", type=_names, nargs="+", metavar="NAME",
                   help="any registered activation name (default: sigmoid tanh relu)")
    p.add_argument("--inits", type=_names, nargs="+", metavar="INIT",
                   help="paper protocol: gaussian, xavier (default: both); modern: auto (suited to the activation) "
                        "or any nn.init name (default: auto)")
    p.add_argument("--lrs", type=_number, nargs="+", metavar="LR",
                   help="learning rates, each > 0 (default: 1 0.1 ... 1e-5)")
    p.add_argument("--epochs", type=int,
                   help=f"epochs per run (default: {ex.DEFAULT_EPOCHS}; --full: {ex.FULL_EPOCHS})")
    p.add_argument("--batch-size", type=int, help=f"minibatch size (default: {ex.DEFAULT_BATCH})")
    p.add_argument("--seeds", type=int, help=f"seeds per setting, for mean and spread (default: {ex.DEFAULT_SEEDS}; "
                                             f"--full: {ex.FULL_SEEDS})")
    p.add_argument("--jobs", type=int, default=2, help="runs trained in parallel processes (default: 2)")
    p.add_argument("--out", default=os.path.join("runs", "paper"),
                   help="directory for results and figures (default: runs/paper)")
    p.add_argument("--full", action="store_true",
                   help=f"the paper's full settings: {ex.FULL_EPOCHS} epochs, {ex.FULL_SEEDS} seeds")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.set_defaults(run=run_paper, parser=p)
    return p


def study_from_args(args, parser):
    """The Study the arguments ask for; bad values end in parser.error (one line, exit code 2)."""
    from .nn import activation_names
    from .nn import init as nn_init

    costs = _flatten(args.costs)
    if costs is not None:
        unknown = [c for c in costs if c not in COST_ALIASES]
        if unknown:
            parser.error(f"unknown cost {unknown[0]!r}; choose from cross_entropy (ce), mse")
        costs = tuple(dict.fromkeys(COST_ALIASES[c] for c in costs))
    activations = _flatten(args.activations)
    if activations is not None:
        known = set(activation_names())
        for name in activations:
            if name not in known:
                parser.error(f"unknown activation {name!r}; choose from: {', '.join(sorted(known))}")
            if name in ex.NOT_ELEMENTWISE:
                parser.error(f"activation {name!r} is not elementwise, a Dense layer of the grid cannot use it")
    inits = _flatten(args.inits) or (ex.PAPER_INITS if args.protocol == "paper" else ("auto",))
    for name in inits:
        if args.protocol == "paper" and name not in ex.PAPER_INITS:
            parser.error(f"unknown init {name!r} for --protocol paper; choose from gaussian, xavier")
        if args.protocol == "modern" and name not in ("auto", *ex.PAPER_INITS):
            try:
                nn_init.get_initializer(name)
            except ValueError as error:
                parser.error(f"{error} (or auto, xavier)")
    lrs = args.lrs and tuple(dict.fromkeys(args.lrs))
    for lr in lrs or ():
        if not 0 < lr < math.inf:
            parser.error(f"learning rates must be > 0 and finite, got {lr:g}")
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size), ("--seeds", args.seeds),
                          ("--jobs", args.jobs)):
        if value is not None and value < 1:
            parser.error(f"{option} must be at least 1, got {value}")
    _check_writable(args.out, parser)
    full = {"epochs": ex.FULL_EPOCHS, "seeds": ex.FULL_SEEDS} if args.full else {}
    return ex.with_overrides(
        ex.Study(protocol=args.protocol, inits=tuple(dict.fromkeys(inits)), **full),
        costs=costs, activations=activations and tuple(dict.fromkeys(activations)), lrs=lrs,
        epochs=args.epochs, batch_size=args.batch_size, seeds=args.seeds,
    )


def _check_writable(out, parser):
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        parser.error(f"--out {out}: cannot write there ({error.strerror or error})")


def run_paper(args):
    study = study_from_args(args, args.parser)
    runs = len(study.runs())
    print(f"{study.protocol} protocol: {len(study.cells())} cells x {len(study.lrs)} lrs x {study.seeds} seed(s) = "
          f"{runs} runs of {study.epochs} epochs (batch {study.batch_size}), {args.jobs} process(es)")
    print("splits: train on 60% (the paper's 'Test'), pick lr on 20% (its 'Train'), report the other 20% "
          "(its 'Validation')")
    if study.protocol == "paper" and "cross_entropy" in study.costs:
        print(f"paper CE: yhat is clipped into [{ex.CLIP_EPS:g}, 1 - {ex.CLIP_EPS:g}] before the log, "
              "so outputs outside (0, 1) (tanh, ReLU) get no gradient from it")
    start = time.perf_counter()
    cells, interrupted = ex.run_study(study, args.out, jobs=args.jobs, plots=not args.no_plots)
    elapsed = time.perf_counter() - start
    print()
    print(ex.format_tables(study, cells))
    if cells:
        print()
        print("measured at the end of training, report split, chosen lr (see README: why tanh and ReLU fail):")
        print(ex.format_reasons(cells))
    state = "interrupted: kept" if interrupted else "done:"
    print(f"\n{state} {len(cells)}/{len(study.cells())} cells in {elapsed:.1f} s; results in {args.out}/")
    return 130 if interrupted else 0


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygrad-es", description="tinygrad_es: experiments and tools")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_paper_command(subparsers)
    add_diagnose_command(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
