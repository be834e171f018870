"""The `tinygrad-es` command (also `python -m tinygrad_es`): its arguments, checked before any
work starts (a bad one is one line on stderr and exit code 2), and the dispatch to the study.

    tinygrad-es paper                       # the paper's grid, quick settings (under a minute)
    tinygrad-es paper --full                # longer: 30 epochs, 5 seeds
    tinygrad-es paper --protocol modern --activations relu elu selu gelu
    tinygrad-es diagnose --activation relu --depth 12   # inside a deep network, layer by layer
    tinygrad-es export mlp --to onnx        # mlp.npz + mlp.json (interop.save_model) -> mlp.onnx
"""

import argparse
import math
import os
import sys
import tempfile

from . import __version__, interop
from .nn import activation_names
from .nn import init as nn_init
from .study import diagnose, grid
from .study.diagnose import SELU_DEPTH
from .study.run import paper

COST_ALIASES = {"cross_entropy": "cross_entropy", "cross-entropy": "cross_entropy", "ce": "cross_entropy", "mse": "mse"}


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


# ---- paper ---------------------------------------------------------------------------------------------
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
    p.add_argument(
        "--protocol",
        choices=grid.PROTOCOLS,
        default="paper",
        help="paper: its activation on the output too, its CE/MSE formulas and inits; modern: linear "
        "output with softmax CE or MSE, init suited to the activation (default: paper)",
    )
    p.add_argument("--costs", type=_names, nargs="+", metavar="COST", help="cross_entropy (ce), mse (default: both)")
    p.add_argument(
        "--activations",
        type=_names,
        nargs="+",
        metavar="NAME",
        help="any registered activation name (default: sigmoid tanh relu)",
    )
    p.add_argument(
        "--inits",
        type=_names,
        nargs="+",
        metavar="INIT",
        help="paper protocol: gaussian, xavier (default: both); modern: auto (suited to the activation) "
        "or any nn.init name (default: auto)",
    )
    p.add_argument(
        "--lrs", type=_number, nargs="+", metavar="LR", help="learning rates, each > 0 (default: 1 0.1 ... 1e-5)"
    )
    p.add_argument(
        "--epochs", type=int, help=f"epochs per run (default: {grid.DEFAULT_EPOCHS}; --full: {grid.FULL_EPOCHS})"
    )
    p.add_argument("--batch-size", type=int, help=f"minibatch size (default: {grid.DEFAULT_BATCH})")
    p.add_argument(
        "--seeds",
        type=int,
        help=f"seeds per setting, for mean and spread (default: {grid.DEFAULT_SEEDS}; --full: {grid.FULL_SEEDS})",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="runs trained in parallel processes; never more processes than runs or CPU cores "
        f"({os.cpu_count()} here) (default: 2)",
    )
    p.add_argument(
        "--out", default=os.path.join("runs", "paper"), help="directory for results and figures (default: runs/paper)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help=f"longer runs, {grid.FULL_EPOCHS} epochs and {grid.FULL_SEEDS} seeds (the paper gives "
        "neither its epochs nor its batch size; 30 epochs of minibatches of 10 are Nielsen's book's)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--no-compile",
        action="store_true",
        help="run every training step eagerly; by default each run's step is recorded once and replayed "
        "(tinygrad_es.compile), which gives the same numbers bit for bit in less time",
    )
    p.set_defaults(run=run_paper, parser=p)
    return p


def study_from_args(args, parser):
    """The Study the arguments ask for; bad values end in parser.error (one line, exit code 2)."""
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
            if name in grid.NOT_ELEMENTWISE:
                parser.error(f"activation {name!r} is not elementwise, a Dense layer of the grid cannot use it")
    inits = _flatten(args.inits) or (grid.PAPER_INITS if args.protocol == "paper" else ("auto",))
    for name in inits:
        if args.protocol == "paper" and name not in grid.PAPER_INITS:
            parser.error(f"unknown init {name!r} for --protocol paper; choose from gaussian, xavier")
        if args.protocol == "modern" and name not in ("auto", *grid.PAPER_INITS):
            try:
                nn_init.get_initializer(name)
            except ValueError as error:
                parser.error(f"{error} (or auto, xavier)")
    lrs = args.lrs and tuple(dict.fromkeys(args.lrs))
    for lr in lrs or ():
        _check_learning_rate(lr, "learning rates", parser)
    for option in ("epochs", "batch_size", "seeds", "jobs"):
        _check_at_least(args, option, 1, parser)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {args.out}: cannot write there ({error.strerror or error})")
    _check_writable(args.out, args.out, parser)
    full = {"epochs": grid.FULL_EPOCHS, "seeds": grid.FULL_SEEDS} if args.full else {}
    return grid.with_overrides(
        grid.Study(protocol=args.protocol, inits=tuple(dict.fromkeys(inits)), compiled=not args.no_compile, **full),
        costs=costs,
        activations=activations and tuple(dict.fromkeys(activations)),
        lrs=lrs,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seeds=args.seeds,
    )


def run_paper(args):
    return paper(study_from_args(args, args.parser), args.out, args.jobs, plots=not args.no_plots)


# ---- diagnose ------------------------------------------------------------------------------------------
def add_diagnose_command(subparsers):
    """Register `diagnose` on the main command's subparsers."""
    p = subparsers.add_parser(
        "diagnose",
        help="train a deep network on the digits and show what happens inside it, layer by layer",
        description=(
            "Train a deep network (DEPTH hidden Dense layers of WIDTH units) on the digits with SGD and print, "
            "per layer, activation mean and std, dead units (ReLU), saturated units (sigmoid, tanh), gradient "
            "norms and update-to-weight ratios. --claims instead checks, with numbers, three claims of the course "
            "notes: sigmoid's gradient vanishes layer by layer, a bad init kills ReLU units, and SELU with LeCun init "
            f"keeps mean 0 and std 1 through {SELU_DEPTH} layers."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--activation", default="sigmoid", help="activation of the hidden layers (any registered name)")
    p.add_argument("--init", default="xavier_paper", help="weight initializer (an nn.init name)")
    p.add_argument("--bias-init", default="zeros", help="bias initializer (an nn.init name)")
    p.add_argument("--depth", type=int, default=12, help="number of hidden layers")
    p.add_argument("--width", type=int, default=32, help="units per hidden layer")
    p.add_argument("--steps", type=int, default=100, help="SGD steps (minibatches of 32)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed for the init and the batches (>= 0)")
    p.add_argument("--out", help="also write the plots (gradient norms, activation histograms) to this PNG")
    p.add_argument("--claims", action="store_true", help="check the notes' three claims and print a verdict for each")
    p.set_defaults(run=run_diagnose, parser=p)
    return p


def check_diagnose_args(args, parser):
    """Bad values end in parser.error (one line, exit code 2), before any training."""
    for option in ("depth", "width", "steps"):
        _check_at_least(args, option, 1, parser)
    _check_at_least(args, "seed", 0, parser)
    _check_learning_rate(args.lr, "--lr", parser)
    if args.activation not in activation_names():
        parser.error(f"--activation: unknown name {args.activation!r}; choose one of {', '.join(activation_names())}")
    for option in ("init", "bias_init"):
        try:
            nn_init.get_initializer(getattr(args, option))
        except ValueError as error:
            parser.error(f"--{option.replace('_', '-')}: {error}")
    if args.out:
        if not args.out.lower().endswith(".png"):
            parser.error(f"--out {args.out}: the plots are a PNG image; give a name ending in .png")
        directory = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(directory):
            parser.error(f"--out {args.out}: its directory does not exist")
        _check_writable(directory, args.out, parser)


def run_diagnose(args):
    check_diagnose_args(args, args.parser)
    if args.claims:
        print(diagnose.claims(args.depth, args.width, args.steps, args.lr, args.seed))
        return 0
    return diagnose.diagnose(
        args.activation, args.init, args.bias_init, args.depth, args.width, args.steps, args.lr, args.seed, args.out
    )


# ---- export --------------------------------------------------------------------------------------------
def add_export_command(subparsers):
    """Register `export` on the main command's subparsers."""
    p = subparsers.add_parser(
        "export",
        help="write a saved model (save_model's .npz + .json) as an ONNX file or a PyTorch module",
        description=(
            "Read CHECKPOINT.npz (the weights) and CHECKPOINT.json (the architecture), as "
            "tinygrad_es.interop.save_model(model, CHECKPOINT) writes them, and write the model for another "
            "runtime: --to onnx writes the inference graph (onnxruntime and any ONNX runtime; needs the onnx "
            "extra), --to torch a pickled torch.nn.Module (load it with torch.load(PATH, weights_only=False); "
            "needs the torch extra)."
        ),
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="the saved model, with or without .npz or .json")
    p.add_argument("--to", required=True, choices=("onnx", "torch"), help="the format to write")
    p.add_argument("--out", help="the file to write (default: CHECKPOINT.onnx or CHECKPOINT.pt)")
    p.add_argument(
        "--input-shape",
        type=_shape,
        metavar="N,D,...",
        help="ONNX: the shape of an input, batch first (the batch stays free); default 1,IN for a model "
        "whose first layer is a Dense layer with IN features",
    )
    p.add_argument(
        "--opset",
        type=int,
        default=interop.onnx.DEFAULT_OPSET,
        help=f"ONNX: the opset ({interop.onnx.OLDEST_OPSET} or later; default {interop.onnx.DEFAULT_OPSET})",
    )
    p.set_defaults(run=run_export, parser=p)
    return p


def _shape(text):
    try:
        shape = tuple(int(n) for n in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (sizes separated by commas, e.g. 1,64)") from None
    if not shape or min(shape) < 0:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (sizes >= 0, at least one)")
    return shape


def run_export(args):
    """Bad arguments, files that cannot be read and missing extras end in parser.error (exit code 2)."""
    parser = args.parser
    stem = interop.architecture.stem_of(args.checkpoint)
    for path in (stem + ".npz", stem + ".json"):
        if not os.path.isfile(path):
            parser.error(f"{args.checkpoint}: no {path} (export reads what tinygrad_es.interop.save_model writes)")
    if args.out:
        _check_writable(os.path.dirname(os.path.abspath(args.out)), args.out, parser)
    try:
        out = interop.export.export(args.checkpoint, args.to, args.out, args.input_shape, args.opset)
    except (ValueError, TypeError, RuntimeError, ImportError) as error:  # the model or the options
        parser.error(f"{args.checkpoint}: {error}")
    print(f"wrote {out}")
    return 0


# ---- shared checks -------------------------------------------------------------------------------------
def _check_at_least(args, option, lowest, parser):
    value = getattr(args, option)
    if value is not None and value < lowest:
        parser.error(f"--{option.replace('_', '-')} must be at least {lowest}, got {value}")


def _check_learning_rate(lr, name, parser):
    if not 0 < lr < math.inf:
        parser.error(f"{name} must be > 0 and finite, got {lr:g}")


def _check_writable(directory, out, parser):
    """Fail now, not after the training, if no file can be written into `directory`."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        parser.error(f"--out {out}: cannot write there ({error.strerror or error})")


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygrad-es", description="tinygrad_es: experiments and tools")
    parser.add_argument("--version", action="version", version=f"tinygrad-es {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_paper_command(subparsers)
    add_diagnose_command(subparsers)
    add_export_command(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
