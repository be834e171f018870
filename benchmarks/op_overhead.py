"""Framework overhead per op: forward + backward on tiny tensors, minus NumPy doing the same arithmetic.

For each op a chain of CHAIN applications is built and differentiated, y = op(y, ...) again and
again, once through tinygrad_es and once written out by hand in NumPy (forward saving what backward
needs, then the backward loop). On tiny arrays the arithmetic costs almost nothing, so the
difference divided by the chain length is what the framework adds to each op.
"""

from functools import partial

import harness  # first: pins BLAS threads before NumPy loads
import numpy as np

import tinygrad_es as tg
from tinygrad_es import activations, fused, helpers

TARGET_US = 3.0


# Each op: (tinygrad_es step, NumPy forward, NumPy backward, shape of y, shapes of the extra leaves).
# The NumPy forward returns (new y, what backward needs); backward gets (grad, saved, params, param grads)
# and returns the gradient for the previous y, accumulating into the parameter gradients.
def _twice(out):  # the output is also what backward needs
    return out, out


def _add_backward(g, saved, p, gp):
    gp[0] += g
    return g


def _mul_backward(g, y, p, gp):
    gp[0] += g * y
    return g * p[0]


def _matmul_backward(g, y, p, gp):
    gp[0] += y.T @ g
    return g @ p[0].T


def _linear_forward(y, p):  # the NumPy calls fused.linear makes (ndarray.dot, bias sum as a product with ones)
    out = y.dot(p[0].T)
    out += p[1]
    return out, y


def _linear_backward(g, y, p, gp):
    gp[0] += g.T.dot(y)
    gp[1] += helpers.ones(len(g), g.dtype).dot(g)  # the same cached vector
    return g.dot(p[0])


OPS = {
    "add": (lambda y, p: y + p[0], lambda y, p: (y + p[0], None), _add_backward, (4,), [(4,)]),
    "mul": (lambda y, p: y * p[0], lambda y, p: (y * p[0], y), _mul_backward, (4,), [(4,)]),
    "matmul": (lambda y, p: y @ p[0], lambda y, p: (y @ p[0], y), _matmul_backward, (4, 4), [(4, 4)]),
    "linear": (
        lambda y, p: fused.linear(y, p[0], p[1]),
        _linear_forward,
        _linear_backward,
        (4, 4),
        [(4, 4), (4,)],
    ),
    "sum": (
        lambda y, p: y.sum(axis=1, keepdims=True),
        lambda y, p: (y.sum(axis=1, keepdims=True), y.shape),
        lambda g, shape, p, gp: np.broadcast_to(g, shape),
        (4, 4),
        [],
    ),
    "reshape": (
        lambda y, p: y.reshape(y.shape[::-1]),
        lambda y, p: (y.reshape(y.shape[::-1]), y.shape),
        lambda g, shape, p, gp: g.reshape(shape),
        (2, 2),
        [],
    ),
    "sigmoid": (
        lambda y, p: activations.sigmoid(y),
        lambda y, p: _twice(activations._sigmoid(y)),  # the op's own NumPy calls
        lambda g, out, p, gp: g * out * (1 - out),
        (4,),
        [],
    ),
    "tanh": (
        lambda y, p: activations.tanh(y),
        lambda y, p: _twice(np.tanh(y)),
        lambda g, t, p, gp: g * (1 - t * t),
        (4,),
        [],
    ),
    "relu": (
        lambda y, p: activations.relu(y),
        lambda y, p: (np.maximum(y, 0), y > 0),
        lambda g, positive, p, gp: g * positive,
        (4,),
        [],
    ),
}


def run_tinygrad(step, x, params, chain):
    x = tg.Tensor(x, requires_grad=True)
    params = [tg.Tensor(p, requires_grad=True) for p in params]
    y = x
    for _ in range(chain):
        y = step(y, params)
    y.backward(np.ones_like(y.data))
    return x.grad.data, [p.grad.data for p in params]


def run_numpy(forward, backward, x, params, chain):
    y, saved = x, []
    for _ in range(chain):
        y, keep = forward(y, params)
        saved.append(keep)
    grad = np.ones_like(y)
    param_grads = [np.zeros_like(p) for p in params]
    for keep in reversed(saved):
        grad = backward(grad, keep, params, param_grads)
    return grad, param_grads


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    chain, repeats = (20, 2) if args.quick else (200, 15)
    rng = np.random.default_rng(0)
    rows = []
    for name, (step, forward, backward, shape, param_shapes) in OPS.items():
        # float64 and near-identity parameters: a long chain neither overflows nor dies out
        x = rng.uniform(0.5, 1.0, shape)
        params = [
            np.eye(s[0]) + 0.01 * rng.standard_normal(s) if len(s) == 2 else rng.uniform(0.99, 1.01, s)
            for s in param_shapes
        ]
        got = run_tinygrad(step, x, params, chain)
        want = run_numpy(forward, backward, x, params, chain)
        for a, b in zip([got[0], *got[1]], [want[0], *want[1]]):
            np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=f"{name}: gradients differ from NumPy's")
        seconds = harness.interleaved_medians(
            {
                "tinygrad_es": partial(run_tinygrad, step, x, params, chain),
                "numpy": partial(run_numpy, forward, backward, x, params, chain),
            },
            repeats,
        )
        overhead_us = (seconds["tinygrad_es"] - seconds["numpy"]) / chain * 1e6
        rows.append(
            harness.row(
                "op_overhead",
                f"{name}: framework overhead per op (fwd+bwd)",
                overhead_us,
                "us",
                f"<= {TARGET_US:g} us",
                overhead_us <= TARGET_US,
            )
        )
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
