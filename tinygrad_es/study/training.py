"""The one model builder and the one training loop, shared by `paper` and `diagnose`; the paper's
costs; one run of the grid."""

import itertools
import math
import time

import numpy as np

from .. import data as datasets
from .. import nn, optim
from ..compile import compile
from ..engine import Tensor, no_grad
from ..functional import binary_cross_entropy, cross_entropy, half_mse_loss
from .measure import measure

PAPER_INIT_NAMES = {"gaussian": "gaussian", "xavier": "xavier_paper"}  # the paper's names -> nn.init names
CLIP_EPS = 1e-7  # yhat is clipped into [eps, 1 - eps] before the paper's log


# ---- the model -------------------------------------------------------------------------------------
def network(sizes, activation, init, bias_init, generator, output_activation=None):
    """Dense layers through `sizes` (inputs, hidden..., outputs): `activation` on the hidden
    layers, `output_activation` on the last; weights and biases drawn from `generator`."""
    last = len(sizes) - 2
    return nn.Sequential(
        *(
            nn.Dense(
                fan_in,
                fan_out,
                activation=output_activation if k == last else activation,
                init=init,
                bias_init=bias_init,
                generator=generator,
            )
            for k, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes))
        )
    )


def modern_init(activation):
    """The weight init suited to an activation: LeCun for SELU, Glorot for the saturating
    sigmoid/tanh-like ones, He for the rest (the ReLU family and its smooth relatives)."""
    if activation == "selu":
        return "lecun_normal"
    if activation in (
        "sigmoid",
        "tanh",
        "softsign",
        "hardtanh",
        "hardsigmoid",
        "logsigmoid",
        "tanhshrink",
        "identity",
        "linear",
        "step",
    ):
        return "xavier_normal"
    return "he_normal"


def weight_init_name(study, activation, init):
    """The nn.init function a cell's init stands for."""
    if init == "auto" and study.protocol == "modern":
        return modern_init(activation)
    return PAPER_INIT_NAMES.get(init, init)


def build_model(study, activation, init, generator):
    """64 -> hidden... -> 10, initialized as the protocol says; the paper puts its activation on
    the output too, the modern protocol leaves the output linear."""
    paper = study.protocol == "paper"
    return network(
        (64, *study.hidden, 10),
        activation,
        weight_init_name(study, activation, init),
        "gaussian" if paper else "zeros",
        generator,
        output_activation=activation if paper else None,
    )


# ---- the costs -------------------------------------------------------------------------------------
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


# ---- training --------------------------------------------------------------------------------------
def training_step(model, optimizer, loss_fn):
    """step(x, target): one optimizer step on a batch; returns the loss."""

    def step(x, target):
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def train_steps(model, optimizer, loss_fn, batches, step=None):
    """One optimizer step per (inputs, targets) batch, made by `step` (training_step's by default; a
    compiled one gives the same numbers); returns the loss summed over the samples, not finite once
    training has diverged."""
    step = step or training_step(model, optimizer, loss_fn)
    total = 0.0
    for x, target in batches:
        total += step(x, target).item() * len(x)
    return total


def random_batches(X, y, steps, generator, batch_size=32):
    """`steps` minibatches drawn with replacement from (X, y), as tensors."""
    for _ in range(steps):
        batch = generator.integers(0, len(X), batch_size)
        yield Tensor(X[batch]), Tensor(y[batch])


def accuracy(model, X, labels):
    """% of `X` that `model` classifies as `labels`, in eval mode."""
    model.eval()  # RReLU, for one, uses its mean slope when evaluated
    with no_grad():
        predicted = model(Tensor(X)).data.argmax(axis=1)
    return float((predicted == labels).mean() * 100)


def train_run(study, splits, cost, activation, init, lr, seed, on_epoch=None):
    """Train one network of the grid; returns a record with accuracy per epoch on the select and
    report splits, whether the loss left the finite numbers, and `measure` at the start and the end."""
    start = time.perf_counter()
    generator = np.random.default_rng(seed)
    model = build_model(study, activation, init, generator)
    loss_fn, uses_labels = make_cost(study, cost)
    paper_cost = loss_fn if study.protocol == "paper" else None
    optimizer = optim.SGD(model.parameters(), lr=lr)
    step = training_step(model, optimizer, loss_fn)
    if study.compiled:  # bitwise the same numbers, replayed (tinygrad_es.compile); eager if it cannot be
        step = compile(step, fallback=True)
    X, onehot, labels = splits["train"]
    loader = datasets.DataLoader(X, labels if uses_labels else onehot, study.batch_size, shuffle=True, seed=seed)
    at_init = measure(model, splits["report"], paper_cost)
    curves = {"loss": [], "select": [], "report": []}
    diverged = False
    with np.errstate(all="ignore"):  # a diverging run may overflow; it is detected below, not warned about
        for epoch in range(study.epochs):
            model.train()
            total = train_steps(model, optimizer, loss_fn, loader, step)
            curves["loss"].append(total / len(X) if math.isfinite(total) else None)  # JSON has no NaN
            curves["select"].append(accuracy(model, *splits["select"][::2]))
            curves["report"].append(accuracy(model, *splits["report"][::2]))
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
        at_end = measure(model, splits["report"], paper_cost)
    return {
        "cost": cost,
        "activation": activation,
        "init": init,
        "lr": lr,
        "seed": seed,
        "select_accuracy": curves["select"][-1],
        "report_accuracy": curves["report"][-1],
        "diverged": diverged,
        "curves": curves,
        "at_init": at_init,
        "at_end": at_end,
        "seconds": round(time.perf_counter() - start, 3),
    }
