"""Why a network does not learn, in numbers: flat and dead hidden units, outputs the paper's cost
cannot reach, and predictions collapsed onto one class."""

import numpy as np

from ..engine import Tensor
from ..functional import linear

FLAT_SLOPE = 0.01  # a unit whose |f'(z)| is below this passes on less than 1% of its gradient


def measure(model, split, paper_cost=None):
    """Percentages on one split (X, one-hot Y, labels) for a Sequential of Dense layers:
    - flat: share of (sample, hidden unit) pairs with |f'(z)| < FLAT_SLOPE (saturated or switched off);
    - dead: share of hidden units flat for every sample (they pass on no gradient at all);
    - top_class: share of samples given the most common prediction (100: one class for every input).
    Given the paper protocol's cost (on one-hot targets), also:
    - outside_01: share of outputs outside (0, 1), where the paper's CE is undefined;
    - stuck: share of outputs wrong by more than 0.5 to which the cost sends almost no gradient
      (|dJ/dz| < FLAT_SLOPE per sample), so they stay wrong.
    Without it, those two are None."""
    X, onehot, labels = split
    model.eval()
    layers = list(model)
    flat, dead = [], []
    a = Tensor(X)
    for k, layer in enumerate(layers):
        z = Tensor(linear(a, layer.weight, layer.bias).data, requires_grad=True)
        out = z if layer.activation is None else layer.activation(z)
        if k < len(layers) - 1:
            out.backward(np.ones_like(out.data))  # elementwise, so z.grad is f'(z)
            is_flat = np.abs(z.grad.data) < FLAT_SLOPE
            flat.append(is_flat.mean())
            dead.append(is_flat.all(axis=0).mean())
            a = out.detach()
    counts = np.bincount(out.data.argmax(axis=1), minlength=10)
    result = {
        "flat": _pct(np.mean(flat)),
        "dead": _pct(np.mean(dead)),
        "top_class": _pct(counts.max() / len(X)),
        "outside_01": None,
        "stuck": None,
    }
    if paper_cost is not None:
        paper_cost(out, onehot).backward()
        push = np.abs(z.grad.data) * len(X)
        result["outside_01"] = _pct(((out.data <= 0) | (out.data >= 1)).mean())
        result["stuck"] = _pct(((np.abs(out.data - onehot) > 0.5) & (push < FLAT_SLOPE)).mean())
    model.zero_grad()  # a learnable activation (PReLU) got gradients from the probes above
    return result


def _pct(share):
    return round(float(share) * 100, 2)
