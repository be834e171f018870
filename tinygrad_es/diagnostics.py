"""See inside training: per layer and per step, what the activations and gradients are doing.

    diag = Diagnostics(model, optimizer)       # with the optimizer, every optimizer.step() is recorded (a step hook)
    with diag:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
    print(diag.report())
    diag.plot("diagnostics.png")               # needs matplotlib

Recorded for each layer (activation modules, and leaf modules with parameters such as the last Dense):
- mean and std of its output over the batch;
- dead: for ReLU and ReLU6, the fraction of units whose output is exactly 0 for every sample of the
  batch (no gradient flows through them);
- saturated: for Sigmoid, Tanh and Softsign, the fraction of outputs where |f'| < 0.01, the flat
  tails (|x| > 4.6 for sigmoid, whose f' is at most 1/4; |x| > 3.0 for tanh, at most 1).
And for each parameter: the norm of its gradient and the update-to-weight ratio ||w_new - w|| / ||w||.

Without an optimizer, call `diag.step()` after each `optimizer.step()` (before the gradients are zeroed).
`every=k` records one step in k, for long runs. Forward passes under `no_grad` are not recorded.
Cost on the paper's 64-32-16-10 digits model, batch 32: about +70% per training step recording every
step, +13% with every=10 (benchmarks/diagnostics_overhead.py).
"""

import math

import numpy as np

from . import engine
from .nn.activation import Activation
from .nn.layers import Dense

SATURATION_THRESHOLD = 0.01
DEAD_FAMILY = ("ReLU", "ReLU6")  # output 0 and slope 0 for x < 0: a unit off for every sample learns nothing
# |f'| of the saturating activations, from their output y.
DERIVATIVE_FROM_OUTPUT = {
    "Sigmoid": lambda y: y * (1 - y),
    "Tanh": lambda y: 1 - y * y,
    "Softsign": lambda y: np.square(1 - np.abs(y)),
}
ACTIVATION_STATS = ("mean", "std", "dead", "saturated")
PARAMETER_STATS = ("grad_norm", "update_ratio")


def _norm(a):
    flat = a.ravel()
    return math.sqrt(flat.dot(flat))  # the method: np.vdot first runs NumPy's dispatch in Python


def _watched(module):
    """Activation layers, and leaf layers with their own parameters (a Dense without activation)."""
    return isinstance(module, Activation) or (module._parameters and not module._modules)


class Diagnostics:
    """Records layer and parameter statistics of `model` while attached (see the module docstring)."""

    def __init__(self, model, optimizer=None, every=1):
        if every < 1:
            raise ValueError(f"Diagnostics: every must be >= 1, got {every}")
        self.model, self.optimizer, self.every = model, optimizer, every
        self.layers = {name: m for name, m in model.named_modules() if _watched(m)}
        # An activation inside a Dense is watched through the Dense, whose output is the activation's:
        # a hook on the activation itself would make the Dense run it as a graph node of its own.
        host = {
            id(m.activation): m
            for m in model.modules()
            if isinstance(m, Dense) and m.activation is not None and type(m).forward is Dense.forward
        }
        self._hooked = {name: host.get(id(m), m) for name, m in self.layers.items()}
        self.parameters = dict(model.named_parameters())
        self.steps = []  # the step numbers recorded
        self.activations = {name: {key: [] for key in ACTIVATION_STATS} for name in self.layers}
        self.gradients = {name: {key: [] for key in PARAMETER_STATS} for name in self.parameters}
        self.outputs = {}  # each layer's output in the last training forward
        self.recorded_outputs = {}  # the outputs of the last recorded step (for histograms)
        self._step, self._before, self._handles, self._step_hook = 0, None, [], None

    # ---- attaching ------------------------------------------------------------------------------
    def attach(self):
        if self.optimizer is not None:
            self._step_hook = self.optimizer.register_step_post_hook(lambda optimizer, args, kwargs: self.step())
        self._prepare()
        return self

    def detach(self):
        self._watch(False)
        if self._step_hook is not None:
            self._step_hook.remove()
            self._step_hook = None

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc_info):
        self.detach()

    def _watch(self, on):
        """Forward hooks on the layers only while a step to record runs: the others pay nothing."""
        if on and not self._handles:
            outputs = self.outputs

            def keeper(name):
                def hook(module, inputs, out):
                    if engine.is_grad_enabled():
                        outputs[name] = out.data

                return hook

            self._handles = [module.register_forward_hook(keeper(name)) for name, module in self._hooked.items()]
        elif not on:
            for handle in self._handles:
                handle.remove()
            self._handles = []

    def _prepare(self):
        """Get ready for the coming step: if it is one to record, keep the weights and watch the layers."""
        if self._step % self.every == 0:
            self._before = self._snapshot()
            self._watch(True)
        elif self._handles:
            self._watch(False)

    # ---- recording ------------------------------------------------------------------------------
    def step(self):
        """Record this step (if it is one in `every`); call it after optimizer.step()."""
        if self._step % self.every == 0:
            self._record()
        self._step += 1
        self._prepare()

    def _snapshot(self):
        return {name: p.data.copy() for name, p in self.parameters.items()}

    def _record(self):
        self.steps.append(self._step)
        for name, module in self.layers.items():
            stats, y = self.activations[name], self.outputs.get(name)
            if y is None:  # the layer did not run in a training forward
                for values in stats.values():
                    values.append(math.nan)
                continue
            # sum, a dot product and count_nonzero: a few times faster than mean, std and bool.mean on small arrays
            kind, size = type(module).__name__, y.size
            mean = float(y.sum()) / size
            centered = y - mean
            stats["mean"].append(mean)
            stats["std"].append(_norm(centered) / math.sqrt(size))
            alive = np.count_nonzero(y.any(axis=0)) / (size // len(y)) if kind in DEAD_FAMILY else math.nan
            stats["dead"].append(1 - alive)
            derivative = DERIVATIVE_FROM_OUTPUT.get(kind)
            flat = np.count_nonzero(derivative(y) < SATURATION_THRESHOLD) / size if derivative else math.nan
            stats["saturated"].append(flat)
        self.recorded_outputs = dict(self.outputs)
        self.outputs.clear()
        before = self._before or {}
        for name, p in self.parameters.items():
            stats = self.gradients[name]
            stats["grad_norm"].append(math.nan if p.grad is None else _norm(p.grad.data))
            old = before.get(name)
            old_norm = 0.0 if old is None else _norm(old)
            stats["update_ratio"].append(_norm(p.data - old) / old_norm if old_norm else math.nan)

    # ---- showing --------------------------------------------------------------------------------
    def report(self, index=-1):
        """A table of the statistics at one recorded step (the last by default)."""
        if not self.steps:
            return "Diagnostics: nothing recorded yet (call step() after optimizer.step(), or pass the optimizer)"
        lines = [f"step {self.steps[index]} ({len(self.steps)} recorded)"]
        width = max(len(n) + len(type(m).__name__) + 3 for n, m in self.layers.items()) if self.layers else 5
        lines.append(f"{'layer':<{width}} {'mean':>9} {'std':>9} {'dead':>7} {'saturated':>9}")
        for name, module in self.layers.items():
            s = self.activations[name]
            label = f"{name} ({type(module).__name__})"
            lines.append(
                f"{label:<{width}} {s['mean'][index]:>9.4f} {s['std'][index]:>9.4f} "
                f"{_percent(s['dead'][index]):>7} {_percent(s['saturated'][index]):>9}"
            )
        width = max(len(n) for n in self.parameters) if self.parameters else 9
        lines.append(f"{'parameter':<{width}} {'shape':>10} {'grad norm':>10} {'update/weight':>13}")
        for name, p in self.parameters.items():
            s = self.gradients[name]
            lines.append(
                f"{name:<{width}} {p.shape!s:>10} {s['grad_norm'][index]:>10.3e} {s['update_ratio'][index]:>13.3e}"
            )
        return "\n".join(lines)

    def plot(self, path):
        """PNG: the gradient norm of each weight over the steps (top), and a histogram of each
        layer's output at the last recorded step (below). Needs matplotlib."""
        try:
            from matplotlib import colormaps
            from matplotlib.figure import Figure  # not pyplot: no global figure, no backend chosen for the caller
        except ImportError:
            raise ImportError("Diagnostics.plot needs matplotlib: pip install matplotlib") from None
        if not self.steps:
            raise ValueError("Diagnostics.plot: nothing recorded yet")
        columns = min(len(self.recorded_outputs), 6) or 1
        rows = -(-len(self.recorded_outputs) // columns)
        fig = Figure(figsize=(2.2 * max(columns, 5), 3.5 + 1.8 * rows))
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.5, 1.8 * rows])
        ax = top.subplots()
        weights = [name for name in self.gradients if name.endswith("weight")] or list(self.gradients)
        colors = colormaps["viridis"](np.linspace(0, 0.9, max(len(weights), 1)))
        for color, name in zip(colors, weights):
            ax.plot(self.steps, self.gradients[name]["grad_norm"], color=color, label=name)
        ax.set(yscale="log", xlabel="step", ylabel="gradient norm", title="gradient norm of each weight")
        if weights:  # a model without parameters (a lone activation) has no lines to name
            ax.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1, 0.5))
        axes = np.atleast_1d(bottom.subplots(rows, columns, gridspec_kw={"hspace": 0.7})).ravel()
        for ax, (name, y) in zip(axes, self.recorded_outputs.items()):
            ax.hist(np.ravel(y), bins=40, color="tab:blue")
            ax.set_title(f"{name} output, step {self.steps[-1]}", fontsize=8)
            ax.tick_params(labelsize=6)
        for ax in axes[len(self.recorded_outputs) :]:
            ax.axis("off")
        fig.savefig(path, dpi=90, bbox_inches="tight")
        return path


def _percent(fraction):
    return "-" if math.isnan(fraction) else f"{100 * fraction:.1f}%"
