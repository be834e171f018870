"""The `diagnose` command's work: train a deep network on the digits and show, layer by layer,
what happens inside it; or check, with numbers, three claims of the course notes."""

import numpy as np

from ..data import load_digits
from ..diagnostics import Diagnostics
from ..engine import Tensor
from ..functional import cross_entropy
from ..optim import SGD
from .training import network, random_batches, train_steps

SELU_DEPTH = 20
DIGITS_FEATURES, DIGITS_CLASSES = 64, 10


def deep_network(activation, init, bias_init, depth, width, generator):
    """`depth` hidden Dense layers of `width` units with `activation`, and a linear output layer."""
    return network((DIGITS_FEATURES, *[width] * depth, DIGITS_CLASSES), activation, init, bias_init, generator)


def diagnose(activation, init, bias_init, depth, width, steps, lr, seed, out=None):
    """Train a deep network with SGD (minibatches of 32), print the per-layer report and, given
    `out`, write the plots there. Returns the exit code."""
    X, y = load_digits()
    generator = np.random.default_rng(seed)
    model = deep_network(activation, init, bias_init, depth, width, generator)
    optimizer = SGD(model.parameters(), lr=lr)
    with Diagnostics(model, optimizer) as diag:
        train_steps(model, optimizer, cross_entropy, random_batches(X, y, steps, generator))
    print(
        f"{depth} hidden layers of {width} {activation}, init {init} (bias {bias_init}), "
        f"{steps} SGD steps at lr {lr}, batch 32"
    )
    print(diag.report())
    first, last = (diag.gradients[f"{i}.weight"]["grad_norm"][-1] for i in (0, depth - 1))
    print(f"weight gradient norm, first hidden layer / last hidden layer: {first / last:.3g}")
    if out:
        try:
            print(f"plots written to {diag.plot(out)}")
        except ImportError as error:
            print(f"no plots: {error}")
    return 0


def _forward_stats(model, X):
    """Diagnostics of one forward pass of X through `model` (no training)."""
    diag = Diagnostics(model)
    with diag:
        model(Tensor(X))
        diag.step()
    return diag


def _weight_grad_norms(model, X, y):
    cross_entropy(model(Tensor(X)), Tensor(y)).backward()
    return [float(np.linalg.norm(layer.weight.grad.data)) for layer in model]


def _row(values, fmt):
    return " ".join(format(v, fmt) for v in values)


def claims(depth, width, steps, lr, seed):
    """The three claims of the notes, each measured on the digits and given a verdict. Returns the text."""
    X, y = load_digits()
    lines = []

    def verdict(holds, text):
        lines.append(f"  verdict: {'CONFIRMED' if holds else 'NOT CONFIRMED'}: {text}")

    # 1. Sigmoid: each layer multiplies the gradient by f' <= 1/4, so it shrinks towards the input.
    batch = np.random.default_rng(seed).choice(len(X), 256, replace=False)
    norms = {}
    for activation, init in (("sigmoid", "xavier_paper"), ("relu", "he_normal")):
        model = deep_network(activation, init, "zeros", depth, width, np.random.default_rng(seed))
        norms[activation] = _weight_grad_norms(model, X[batch], y[batch])
    first_over_last = {a: n[0] / n[depth - 1] for a, n in norms.items()}
    per_layer = first_over_last["sigmoid"] ** (1 / max(depth - 1, 1))
    lines.append(f"claim 1: sigmoid's gradient vanishes layer by layer ({depth} layers of {width}, one batch of 256)")
    for activation, label in (("sigmoid", "sigmoid + xavier_paper"), ("relu", "relu + he_normal")):
        lines.append(f"  weight grad norm, layer 1 to {depth}, {label:<22}: {_row(norms[activation][:depth], '.1e')}")
    verdict(
        first_over_last["sigmoid"] < 0.1 * first_over_last["relu"],
        f"layer 1 gets {first_over_last['sigmoid']:.1e} of layer {depth}'s gradient with sigmoid "
        f"(x{per_layer:.2f} per layer), {first_over_last['relu']:.2f} with relu + he_normal",
    )

    # 2. ReLU: units whose input is negative for every sample output 0, get no gradient and stay dead.
    #    The paper's init draws biases N(0, 1) next to weights N(0, 1/fan_in): many biases win, negative.
    dead = {}
    for name, init, bias_init in (("bad", "xavier_paper", "gaussian"), ("good", "he_normal", "zeros")):
        generator = np.random.default_rng(seed)
        model = deep_network("relu", init, bias_init, depth, width, generator)
        at_init = _forward_stats(model, X)
        train_steps(model, SGD(model.parameters(), lr=lr), cross_entropy, random_batches(X, y, steps, generator))
        trained = _forward_stats(model, X)
        dead[name] = [[d.activations[f"{i}.activation"]["dead"][0] for i in range(depth)] for d in (at_init, trained)]
    lines.append(f"claim 2: a bad init kills ReLU units ({depth} layers of {width}; dead = 0 on all {len(X)} digits)")
    labels = {"bad": "paper init (weights N(0,1/fan_in), biases N(0,1))", "good": "he_normal, zero biases"}
    for name, label in labels.items():
        for when, fractions in zip(("at init", f"after {steps} steps"), dead[name]):
            lines.append(f"  dead per layer, {label}, {when}: {_row(fractions, '.2f')}")
    bad, good = np.mean(dead["bad"][1]), np.mean(dead["good"][1])
    verdict(bad > 0.2 and bad > 2 * good, f"{bad:.0%} of the units dead with the bad init, {good:.0%} with he_normal")

    # 3. SELU + LeCun normal init on standardized input: mean and std stay near the fixed point (0, 1).
    spread = X.std(axis=0)
    standardized = ((X - X.mean(axis=0)) / np.where(spread > 0, spread, 1)).astype(np.float32)
    lines.append(
        f"claim 3: SELU with LeCun init keeps mean 0 and std 1 ({SELU_DEPTH} layers of {width}, standardized digits)"
    )
    shown = [i for i in range(SELU_DEPTH) if i in (0, 4, 9, 14, SELU_DEPTH - 1)]
    stats = {}
    for activation in ("selu", "tanh", "relu"):
        model = deep_network(activation, "lecun_normal", "zeros", SELU_DEPTH, width, np.random.default_rng(seed))
        diag = _forward_stats(model, standardized)
        layers = [diag.activations[f"{i}.activation"] for i in range(SELU_DEPTH)]
        stats[activation] = [(layer["mean"][0], layer["std"][0]) for layer in layers]
        cells = ", ".join(f"layer {i + 1}: {stats[activation][i][0]:+.2f}/{stats[activation][i][1]:.2f}" for i in shown)
        lines.append(f"  {activation:<5} mean/std  {cells}")
    worst_mean = max(abs(m) for m, _ in stats["selu"])
    worst_std = max(abs(s - 1) for _, s in stats["selu"])
    verdict(
        worst_mean < 0.2 and worst_std < 0.2,
        f"over {SELU_DEPTH} SELU layers |mean| <= {worst_mean:.2f} and |std - 1| <= {worst_std:.2f}; "
        f"with the same init tanh ends at std {stats['tanh'][-1][1]:.2f}, relu at {stats['relu'][-1][1]:.2g}",
    )
    return "\n".join(lines)
