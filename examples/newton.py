"""Newton's method with second derivatives from autograd, checked against exact answers.

1. The Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from the classic start (-1.2, 1).
   tg.autograd.functional.hessian gives the Hessian written by hand, and Newton's steps
   p <- p - H^-1 grad f reach the exact minimum (1, 1): near it the error squares at each step.
2. A small network (a linear layer) fitted by least squares with Hessian-free Newton: the conjugate
   gradient method solves H d = -g with Hessian-vector products only (tg.autograd.functional.hvp),
   never forming H. The loss is quadratic in the weights, so one Newton step lands on the exact
   least-squares solution, np.linalg.lstsq's. The products are checked against the full Hessian.
"""

import numpy as np

from tinygrad_es import Tensor, autograd
from tinygrad_es import functional as F
from tinygrad_es.autograd.functional import hessian, hvp, vjp


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_hessian_by_hand(p):
    x, y = p
    return np.array([[2 - 400 * (y - 3 * x**2), -400 * x], [-400 * x, 200.0]])


def newton_on_rosenbrock():
    p = Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    h = hessian(rosenbrock, p)
    print("Rosenbrock, from (-1.2, 1)")
    print(
        f"  Hessian by autograd equals the hand-written one: max |difference| "
        f"{np.abs(h.data - rosenbrock_hessian_by_hand(p.data)).max():.1e}"
    )
    for step in range(1, 21):
        (g,) = autograd.grad(rosenbrock(p), p)
        h = hessian(rosenbrock, p)
        p = Tensor(p.data - np.linalg.solve(h.data, g.data), requires_grad=True)
        error = np.abs(p.data - 1).max()
        print(
            f"  step {step}: (x, y) = ({p.data[0]:.12f}, {p.data[1]:.12f})  f = {rosenbrock(p).item():.3e}  "
            f"|(x, y) - (1, 1)| = {error:.1e}"
        )
        if error < 1e-12:
            break
    return p.data


def flat(tensors):
    return np.concatenate([t.data.ravel() for t in tensors])


def unflat(vector, like):
    """The vector cut into tensors shaped as `like`."""
    parts, start = [], 0
    for t in like:
        parts.append(Tensor(vector[start : start + t.size].reshape(t.shape)))
        start += t.size
    return tuple(parts)


def newton_cg_on_a_linear_layer():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((50, 3)))
    y = Tensor(x.data @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((50, 1)))

    def loss(weight, bias):
        return F.mse_loss(F.linear(x, weight, bias), y)

    params = (Tensor(np.zeros((1, 3))), Tensor(np.zeros(1)))
    print("\nA linear layer fitted by least squares, with Hessian-vector products only")
    v = unflat(rng.standard_normal(4), params)
    _, hv = hvp(loss, params, v)
    (h_ww, h_wb), (h_bw, h_bb) = hessian(loss, params)
    full = np.block([[h_ww.data.reshape(3, 3), h_wb.data.reshape(3, 1)], [h_bw.data.reshape(1, 3), h_bb.data]])
    print(f"  hvp equals the full Hessian times v: max |difference| {np.abs(flat(hv) - full @ flat(v)).max():.1e}")

    _, gradient = vjp(loss, params)  # the gradient: the loss has one element, so v defaults to 1
    gradient = flat(gradient)
    products = []

    def hessian_times(d):
        products.append(d)
        return flat(hvp(loss, params, unflat(d, params))[1])

    direction = conjugate_gradient(hessian_times, -gradient)
    weight, bias = unflat(flat(params) + direction, params)
    exact, *_ = np.linalg.lstsq(np.hstack([x.data, np.ones((50, 1))]), y.data, rcond=None)
    difference = np.abs(np.concatenate([weight.data.ravel(), bias.data]) - exact.ravel()).max()
    print(
        f"  one Newton step (conjugate gradient, {len(products)} Hessian-vector products): "
        f"weight {np.round(weight.data.ravel(), 6).tolist()}, bias {bias.data[0]:.6f}"
    )
    print(f"  np.linalg.lstsq's solution: max |difference| {difference:.1e}")
    return difference


def conjugate_gradient(product, b, steps=10, tolerance=1e-14):
    """Solve A d = b for a symmetric positive definite A given only as d -> A d."""
    d, r = np.zeros_like(b), b.copy()
    p, rr = r.copy(), r @ r
    for _ in range(steps):
        if rr < tolerance:
            break
        ap = product(p)
        alpha = rr / (p @ ap)
        d, r = d + alpha * p, r - alpha * ap
        rr, previous = r @ r, rr
        p = r + (rr / previous) * p
    return d


def main():
    minimum = newton_on_rosenbrock()
    assert np.abs(minimum - 1).max() < 1e-12
    assert newton_cg_on_a_linear_layer() < 1e-10


if __name__ == "__main__":
    main()
