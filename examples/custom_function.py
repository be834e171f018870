"""Write your own op: a Function subclass with forward and backward, checked by gradcheck.

Here the "smooth ReLU" softplus with a temperature t: f(x) = t * log(1 + e^(x/t)), whose
derivative is the sigmoid of x/t. Computed as t * logaddexp(0, x/t) so that large x never overflows.
"""

import numpy as np

import tinygrad_es as tg


class SoftplusT(tg.Function):
    """f(x) = t log(1 + e^(x/t));  f'(x) = sigmoid(x/t) = 1 / (1 + e^(-x/t))."""

    @staticmethod
    def forward(ctx, x, t=1.0):
        ctx.save_for_backward(x)  # the input backward needs: a tensor again under create_graph
        ctx.t = t  # a number: an attribute
        return t * np.logaddexp(0, x / t)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = 0.5 * (1 + np.tanh(x / (2 * ctx.t)))  # sigmoid(x/t), no overflow for any x
        return grad * slope  # one gradient per tensor input


def main():
    x = tg.tensor(np.linspace(-3, 3, 7), requires_grad=True, dtype=tg.float64)
    y = SoftplusT.apply(x, t=0.5)
    y.sum().backward()
    print("x        ", np.round(x.data, 3).tolist())
    print("f(x)     ", np.round(y.data, 4).tolist())
    print("df/dx    ", np.round(x.grad.data, 4).tolist())

    rng = np.random.default_rng(0)
    inputs = [tg.tensor(rng.normal(size=(4, 5)), requires_grad=True, dtype=tg.float64)]
    ok = tg.gradcheck(lambda t: SoftplusT.apply(t, t=0.5), inputs)
    print("gradcheck against finite differences:", "passed" if ok else "FAILED")
    ok = tg.gradgradcheck(lambda t: SoftplusT.apply(t, t=0.5), inputs)  # backward written in NumPy runs on tensors
    print("gradgradcheck (second derivatives):", "passed" if ok else "FAILED")

    class Broken(SoftplusT):  # a wrong derivative, to show that gradcheck catches it
        @staticmethod
        def backward(ctx, grad):
            return grad * 0.5

    try:
        tg.gradcheck(lambda t: Broken.apply(t, t=0.5), inputs)
    except tg.GradcheckError as error:
        print("a wrong backward is caught:", str(error).splitlines()[0])


if __name__ == "__main__":
    main()
