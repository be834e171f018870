"""Backpropagation told as the student paper writes it, layer by layer, from a real backward pass.

    explanation = tg.explain(loss)   # runs loss.backward() and prints what it computed
    explanation.layers[0]["delta"]   # the arrays, to compare with your own

For a network of Dense layers the paper's equations are, with delta^k = dC/dz^k:
    (6)  delta^K = grad_a C (.) f'(z^K)                  the output layer K
    (7)  delta^k = ((W^(k+1))^T delta^(k+1)) (.) f'(z^k)  a hidden layer k
    (8)  dC/db^k = delta^k                                (summed over the samples of a batch)
    (9)  dC/dW^k = delta^k (a^(k-1))^T                    (as a matrix: (delta^k)^T a^(k-1), summed over samples)
The explanation watches the backward pass (it installs itself as the engine's checks for the
time of one backward: nothing is slowed outside it) and reports, for each Dense node, the delta
with its two factors (the gradient reaching the layer's output, and f'(z)), dC/db and dC/dW, their
shapes and first values, and the formula that produced them: the activation's f' (from its
docstring) and the cost's derivative.
"""

import numpy as np

from . import engine
from .activations import Elementwise
from .fused import LinearActivation

# what the common costs give the last layer: the "grad_a C" of equation 6 (n: the batch size)
COST_DERIVATIVES = {
    "CrossEntropy": "softmax cross-entropy on the last layer's output a: grad_a C = (softmax(a) - y) / n",
    "HalfMSELoss": "the paper's quadratic cost 1/(2n) sum ||a - y||^2: grad_a C = (a - y) / n",
    "MSELoss": "mean squared error: grad_a C = 2 (a - y) / (number of elements)",
    "BinaryCrossEntropy": "binary cross-entropy: grad_a C = (a - y) / (a (1 - a)), over the reduction",
    "Clip": "a clip passes the gradient only inside its bounds: grad_a C = 0 where a was clipped",
}


class Explanation:
    """What one backward pass computed, per Dense layer, output layer first. `layers` holds one dict
    per layer: its name, activation, the nodes between it and the layer after it (`after`), and the
    arrays grad_output (dC/da, what reached the layer's output), slope (f'(z)), delta (their
    product), grad_bias and grad_weight; `cost` names the nodes between the loss and the last layer."""

    def __init__(self, values=4):
        self.values, self.layers, self.cost, self._passed = values, [], [], []

    # the engine calls these two while the backward pass runs
    def check_forward(self, ctx, inputs, out):
        pass

    def check_backward(self, ctx, grad, input_grads):
        if not isinstance(ctx, LinearActivation):
            (self._passed if self.layers else self.cost).append(engine._node_name(ctx))
            return
        if ctx.activation is None:
            slope, delta = np.ones_like(grad), grad
        else:  # the activation is elementwise: its backward given ones is f'(z), given grad it is delta
            backward = type(ctx.activation_ctx).backward
            slope, delta = backward(ctx.activation_ctx, np.ones_like(grad)), backward(ctx.activation_ctx, grad)
        weight = ctx.saved_tensors[1]
        self.layers.append(
            {
                "name": engine._node_name(ctx),
                "shape": weight.shape,
                "activation": ctx.activation,
                "after": self._passed,
                "grad_output": np.array(grad),
                "slope": np.array(slope),
                "delta": np.array(delta),
                "grad_bias": _array(input_grads[2]),
                "grad_weight": _array(input_grads[1]),
            }
        )
        self._passed = []

    def __str__(self):
        if not self.layers:
            return "explain: no Dense layer (fused.LinearActivation node) took part in this backward pass"
        count, batch = len(self.layers), self.layers[0]["delta"].reshape(-1, self.layers[0]["shape"][0]).shape[0]
        lines = [
            f"backward through {count} Dense layers, a batch of {batch}, as the paper's equations 5-9 write it",
            f"cost: the gradient of the loss reached the last layer through {' <- '.join(self.cost) or 'nothing'}",
        ]
        lines += [f"  {COST_DERIVATIVES[name]}" for name in self.cost if name in COST_DERIVATIVES]
        for position, layer in enumerate(self.layers):
            k = count - position
            out_features, in_features = layer["shape"]
            lines.append(f"layer {k}: {layer['name']} {in_features} -> {out_features}")
            if position == 0:
                upstream, formula, equation = "grad_a C", f"delta^{k} = grad_a C (.) f'(z^{k})", "(6)"
            else:
                upstream = f"(W^{k + 1})^T delta^{k + 1}"
                formula, equation = f"delta^{k} = ({upstream}) (.) f'(z^{k})", "(7)"
            if layer["after"]:  # an activation that ran as a node of its own (PReLU): its f' is in the gradient
                upstream = "through " + " <- ".join(layer["after"])
                lines.append(f"  (the gradient reached this layer's output {upstream})")
            lines.append(f"  {formula:<44} eq. {equation}, {_derivative_formula(layer['activation'])}")
            labels = [upstream, f"f'(z^{k})", f"delta^{k}"]
            width = max(map(len, labels))
            for label, key in zip(labels, ("grad_output", "slope", "delta")):
                lines.append(self._values(f"{label:<{width}}", layer[key]))
            lines.append(self._row(f"dC/db^{k} = sum over samples of delta^{k}", "(8)", layer["grad_bias"]))
            lines.append(self._row(f"dC/dW^{k} = (delta^{k})^T a^{k - 1}", "(9)", layer["grad_weight"]))
        return "\n".join(lines)

    def _row(self, formula, source, array):
        if array is None:
            return f"  {formula:<44} eq. {source}: not computed (needs no gradient)"
        return f"  {formula:<44} eq. {source}\n" + self._values("", array)

    def _values(self, label, array):
        """One array as the printout shows it: an optional label, its shape, its first values."""
        shown = ", ".join(f"{v + 0.0:.4g}" for v in np.ravel(array)[: self.values])  # + 0.0: -0 shows as 0
        more = ", ..." if np.size(array) > self.values else ""
        return f"      {label + '  ' if label else ''}shape {np.shape(array)}: [{shown}{more}]"


def _array(gradient):
    return None if gradient is None else np.array(engine._data(gradient))


def _derivative_formula(activation):
    """f'(x) as the activation op's docstring gives it, e.g. "f'(x) = f(x) (1 - f(x))"."""
    if activation is None:
        return "f = identity, f'(z) = 1"
    doc = " ".join((activation.__doc__ or "").split())
    start = doc.find("f'(x)")
    if start < 0 or not issubclass(activation, Elementwise):
        return f"f = {activation.__name__.lower()}"
    return f"f = {activation.__name__.lower()}, " + doc[start:].split(";")[0].split(". ")[0].rstrip(".")


def explain(loss, values=4, show=True):
    """Run `loss.backward()` and print (unless `show=False`) how each Dense layer's gradients came
    out of the paper's equations 5-9, with the first `values` entries of each array. Returns the
    Explanation, whose `layers` hold the arrays. The gradients accumulate into `.grad` as with any
    backward; anomaly detection, if on, pauses for this one backward pass."""
    explanation = Explanation(values)
    previous, engine.checks = engine.checks, explanation
    try:
        loss.backward()
    finally:
        engine.checks = previous
    if show:
        print(explanation)
    return explanation
