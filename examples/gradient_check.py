"""Check every activation and every loss against finite differences, in float64.

For each function f we compare the gradient backward computes with central differences
(f(x + eps) - f(x - eps)) / (2 eps), print the largest difference, and let tg.gradcheck give the
verdict. Inputs keep clear of the kinks (ReLU at 0, hardtanh at +-1, ...), where no derivative exists.
"""

import numpy as np

import tinygrad_es as tg
from tinygrad_es import losses, nn
from tinygrad_es.study.training import paper_cross_entropy

KINKS = np.array([-3, -1, -0.5, 0, 0.5, 1, 3, 6])
rng = np.random.default_rng(0)


def away_from_kinks(shape, low=-4.0, high=7.0):
    x = rng.uniform(low, high, size=shape)
    near = np.abs(x[..., None] - KINKS).min(axis=-1) < 0.05
    return np.where(near, x + 0.1, x)


def max_error(fn, x, eps=1e-6):
    """Largest |backward - central difference| over the elements of x, for the scalar fn(x)."""
    t = tg.tensor(x, requires_grad=True)
    fn(t).backward()
    numeric = np.empty_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (fn(tg.tensor(x + step)).item() - fn(tg.tensor(x - step)).item()) / (2 * eps)
    return np.abs(t.grad.data - numeric).max()


def check(name, fn, x):
    error = max_error(fn, x)
    try:
        passed = tg.gradcheck(fn, [tg.tensor(x, requires_grad=True)])
    except tg.GradcheckError:
        passed = False
    print(f"{name:<34} {error:>12.2e}   {'pass' if passed else 'FAIL'}")
    return passed


def main():
    print(f"{'function':<34} {'max abs err':>12}   verdict")
    results = []
    for name in nn.activation_names():
        layer = nn.get_activation(name).eval()  # eval: RReLU uses its fixed mean slope
        weights = rng.normal(size=(3, 2) if name == "glu" else (3, 4))  # a scalar from the outputs
        results.append(
            check(name, lambda t, layer=layer, w=weights: (layer(t) * tg.tensor(w)).sum(), away_from_kinks((3, 4)))
        )

    labels = np.array([0, 2, 1])
    target = rng.uniform(0, 1, size=(3, 4))
    probabilities = rng.dirichlet(np.ones(4), size=3)
    for name, fn, x in [
        ("mse_loss", lambda t: losses.mse_loss(t, tg.tensor(target)), rng.normal(size=(3, 4))),
        ("half_mse_loss", lambda t: losses.half_mse_loss(t, tg.tensor(target)), rng.normal(size=(3, 4))),
        ("huber_loss", lambda t: losses.huber_loss(t, tg.tensor(target)), away_from_kinks((3, 4), -2, 2)),
        (
            "binary_cross_entropy",
            lambda t: losses.binary_cross_entropy(t, tg.tensor(target)),
            rng.uniform(0.05, 0.95, size=(3, 4)),
        ),
        (
            "binary_cross_entropy_with_logits",
            lambda t: losses.binary_cross_entropy_with_logits(t, tg.tensor(target)),
            rng.normal(size=(3, 4)),
        ),
        ("cross_entropy (class indices)", lambda t: losses.cross_entropy(t, labels), rng.normal(size=(3, 4))),
        (
            "cross_entropy (probabilities)",
            lambda t: losses.cross_entropy(t, tg.tensor(probabilities)),
            rng.normal(size=(3, 4)),
        ),
        ("nll_loss", lambda t: losses.nll_loss(t.log_softmax(), labels), rng.normal(size=(3, 4))),
        (
            "paper_cross_entropy (clipped)",
            lambda t: paper_cross_entropy(t, tg.tensor(np.eye(4)[labels])),
            rng.uniform(0.05, 0.95, size=(3, 4)),
        ),
    ]:
        results.append(check(name, fn, x))
    print(f"\n{sum(results)} of {len(results)} pass")
    return all(results)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
