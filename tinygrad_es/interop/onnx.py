"""ONNX: a model's inference graph, for onnxruntime on servers, phones and browsers, and back.

onnx is imported only inside these functions (`pip install "tinygrad_es[onnx]"`).

`to_onnx(model, example_input, path, opset=20)` writes the graph of `model` in eval mode, as
torch.onnx.export does: Dropout and its variants disappear, RReLU is a LeakyRelu with the mean slope
(lower + upper) / 2, BatchNorm normalizes by its running statistics. The graph takes "input", whose
axis 0 is the dynamic "batch" axis (the other axes have the example's sizes), and gives "output";
its dtype is the example's (float32, or float64 for float64 models; a model that starts with an
Embedding takes int64 or int32 indices and gives its parameters' dtype). Each parameter and buffer
is an initializer named by its state_dict key. Opsets 17 to the newest the onnx package knows are
accepted; the default, 20, is the first with Gelu.

Each layer becomes the ONNX op that computes it where one exists (Gemm or MatMul for Dense, Relu,
Sigmoid, Tanh, LeakyRelu, PRelu, Elu, Selu, Celu, HardSigmoid, HardSwish, Softsign, Shrink, Clip,
Softmax, LogSoftmax, Flatten, Gelu from opset 20, Mish from 18; Conv and ConvTranspose with
explicit pads, "same" too; MaxPool, AveragePool, GlobalAveragePool; BatchNormalization,
LayerNormalization, GroupNormalization from opset 21; Gather for Embedding, Reshape for Unflatten),
otherwise a composition of ONNX ops computing exactly its formula: SiLU is x * Sigmoid(x), Softplus
with its beta and threshold a Where over Softplus, LogSigmoid -Softplus(-x), Step
Cast(GreaterOrEqual(x, 0)), GLU a Split then a product, CELU in float64 (ONNX's Celu is float32
only) a Where over Exp; AvgPool2d's divisor_override an AveragePool times PyTorch's window sizes
over the divisor; adaptive average pooling to sizes that do not divide the input's the products
with the averaging matrices of PyTorch's bins (as here); GroupNorm before opset 21 (opset 18's
GroupNormalization scales each group, not each channel) InstanceNormalization of the groups, then
the per-channel weight and bias.

What has no ONNX form is an error naming it, never a different graph: MaxPool's return_indices
(ONNX counts indices over the whole tensor), Embedding's max_norm (it rescales rows in place),
BatchNorm without running statistics, ModuleList and ModuleDict (no forward), the layers with
channels on an unbatched input, Unflatten of the batch axis, and a ceil_mode pooling of an input on
which PyTorch adds a last window along one axis and leaves out one that would start in the padding
along another (ONNX's ceil_mode keeps both). onnxruntime gives the lowest float where PyTorch gives
-inf: a max pooling window that holds nothing but padding (dilated, on a tiny input).

float64: ONNX keeps float attributes (LeakyRelu's alpha, Selu's constants, Shrink's lambd, the
normalizations' epsilon) in float32, so those layers agree with ours to about 1e-8 there; and
onnxruntime 1.32's CPU build has no double kernels for Elu, Selu, Softplus, Softsign, HardSigmoid
and Erf (so neither for Mish, HardSwish, LogSigmoid and GELU, built on them), Conv,
ConvTranspose, AveragePool, GlobalAveragePool and InstanceNormalization, nor, from their opset 16
versions, for LeakyRelu and PRelu: a float64 graph holding them is valid ONNX that onnxruntime will
not run. Its double GroupNormalization agrees to about 5e-7 (ONNX computes its statistics in
float32 by default).

The model's architecture (interop.architecture) travels in the file's metadata under
"tinygrad_es.architecture", and the state the graph does not hold (BatchNorm's
num_batches_tracked) under "tinygrad_es.state". `from_onnx(path)` rebuilds the modules from the
first, loads the initializers and that state into them, and checks that the graph is the one
to_onnx writes for that model: a file changed since (or written by another exporter) is refused
with a ValueError rather than read wrongly.
"""

import json
import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..activations import SELU
from ..convolution import _avg_divisor, _bins, _sizes, conv_padding
from ..engine import Tensor, no_grad
from ..fused import plain_linear
from .architecture import document, float_dtype, from_document, layer_of

DEFAULT_OPSET, OLDEST_OPSET = 20, 17
METADATA_KEY = "tinygrad_es.architecture"
STATE_KEY = "tinygrad_es.state"  # the state_dict entries the graph does not hold (BatchNorm's num_batches_tracked)


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('this needs the onnx package: pip install "tinygrad_es[onnx]"') from None
    return onnx


class _Graph:
    """The nodes and initializers being written, in the model's dtype, for one opset."""

    def __init__(self, onnx, opset, dtype):
        self.onnx, self.opset, self.dtype = onnx, opset, np.dtype(dtype)
        self.nodes, self.initializers, self.named, self.count = [], [], {}, 0

    def node(self, op, *inputs, outputs=1, **attributes):
        """Add a node; the name of its output (a list of names for several)."""
        self.count += 1
        names = [f"{op}_{self.count}" + (f"_{i}" if outputs > 1 else "") for i in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names, name=f"{op}_{self.count}", **attributes))
        return names if outputs > 1 else names[0]

    def constant(self, value, dtype=None):
        """An initializer holding `value` (in the model's dtype unless told)."""
        name = f"constant_{len(self.initializers)}"
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(value, dtype or self.dtype), name))
        return name

    def parameter(self, name, p):
        """The initializer of parameter p, under its state_dict key (a shared one under its first)."""
        if id(p) not in self.named:
            self.named[id(p)] = name
            self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(p.data), name))
        return self.named[id(p)]


# ---- one function per layer type: (graph, module, input name, input value, path) -> output name -------
def _elementwise(op, **attributes):
    def emit(g, module, x, value, path):
        return g.node(op, x, **{k: f(module) for k, f in attributes.items()})

    return emit


def _dense(g, layer, x, value, path):
    weight = g.parameter(_key(path, "weight"), layer.weight)
    bias = [] if layer.bias is None else [g.parameter(_key(path, "bias"), layer.bias)]
    if value.ndim == 2:
        return g.node("Gemm", x, weight, *bias, transB=1)
    out = g.node("MatMul", x, g.node("Transpose", weight))
    return g.node("Add", out, *bias) if bias else out


def _prelu(g, layer, x, value, path):
    slope = g.parameter(_key(path, "weight"), layer.weight)
    if layer.weight.size > 1 and value.ndim > 2:  # one slope per channel of axis 1
        slope = g.node("Reshape", slope, g.constant((-1,) + (1,) * (value.ndim - 2), np.int64))
    return g.node("PRelu", x, slope)


def _softplus(g, layer, x, value, path):
    """Where(beta x > threshold, x, Softplus(beta x) / beta)."""
    scaled = x if layer.beta == 1 else g.node("Mul", x, g.constant(layer.beta))
    soft = g.node("Softplus", scaled)
    soft = soft if layer.beta == 1 else g.node("Div", soft, g.constant(layer.beta))
    return g.node("Where", g.node("Greater", scaled, g.constant(layer.threshold)), x, soft)


def _gelu(g, layer, x, value, path):
    if g.opset >= 20:
        return g.node("Gelu", x, approximate=layer.approximate)
    if layer.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", g.node("Mul", x, x), x)
        inner = g.node("Add", x, g.node("Mul", cube, g.constant(0.044715)))
        cdf = g.node("Tanh", g.node("Mul", inner, g.constant(math.sqrt(2 / math.pi))))
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        cdf = g.node("Erf", g.node("Mul", x, g.constant(math.sqrt(0.5))))
    return g.node("Mul", g.node("Mul", x, g.constant(0.5)), g.node("Add", cdf, g.constant(1)))


def _mish(g, layer, x, value, path):
    if g.opset >= 18:
        return g.node("Mish", x)
    return g.node("Mul", x, g.node("Tanh", g.node("Softplus", x)))


def _celu(g, layer, x, value, path):
    """ONNX's Celu takes float32 only: in float64, Where(x > 0, x, alpha (e^(x/alpha) - 1))."""
    if g.dtype == np.float32:
        return g.node("Celu", x, alpha=float(layer.alpha))
    alpha = g.constant(layer.alpha)
    negative = g.node("Mul", alpha, g.node("Sub", g.node("Exp", g.node("Div", x, alpha)), g.constant(1)))
    return g.node("Where", g.node("Greater", x, g.constant(0)), x, negative)


def _clip(low, high):
    def emit(g, layer, x, value, path):
        return g.node("Clip", x, g.constant(low(layer)), g.constant(high(layer)))

    return emit


def _axis(layer, value):
    if layer.axis is None:
        raise ValueError(f"{type(layer).__name__}(axis=None) has no ONNX counterpart: give it an axis")
    return layer.axis


def _softmax(op, negate=False):
    def emit(g, layer, x, value, path):
        return g.node(op, g.node("Neg", x) if negate else x, axis=_axis(layer, value))

    return emit


def _glu(g, layer, x, value, path):
    axis = _axis(layer, value)
    half = value.shape[axis] // 2
    a, b = g.node("Split", x, g.constant([half, half], np.int64), outputs=2, axis=axis)
    return g.node("Mul", a, g.node("Sigmoid", b))


def _threshold(g, layer, x, value, path):
    return g.node("Where", g.node("Greater", x, g.constant(layer.threshold)), x, g.constant(layer.value))


def _step(g, layer, x, value, path):
    to = g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    return g.node("Cast", g.node("GreaterOrEqual", x, g.constant(0)), to=to)


def _flatten(g, layer, x, value, path):
    start = layer.start_axis % value.ndim if value.ndim else 0
    if start == 1:
        return g.node("Flatten", x, axis=1)
    return g.node("Reshape", x, g.constant([0] * start + [-1], np.int64))  # 0: the input's size there


def _unflatten(g, layer, x, value, path):
    axis = normalize_axis_index(layer.dim, value.ndim)
    if axis == 0:
        raise ValueError(f"Unflatten(dim={layer.dim}) splits the batch axis, which the ONNX graph leaves free")
    return g.node("Reshape", x, g.constant([0, *layer(value).shape[1:]], np.int64))  # 0: the batch, as it comes


def _spatial(layer, value):
    """The number of spatial axes; a ValueError unless the input is (N, C, *spatial), as ONNX takes it."""
    d = layer.dims
    if value.ndim != d + 2:
        raise ValueError(
            f"{type(layer).__name__}: the ONNX graph needs a batched input (N, C, {d} spatial "
            f"axes), got shape {value.shape}"
        )
    return d


def _parameters(g, layer, path, *names):
    """The initializers of the layer's parameters `names` that it has."""
    return [g.parameter(_key(path, name), getattr(layer, name)) for name in names if getattr(layer, name) is not None]


def _conv(g, layer, x, value, path):
    """Conv or ConvTranspose; "same" (and any padding) as the explicit pads before and after each axis."""
    _spatial(layer, value)
    pads = conv_padding(layer.padding, layer.kernel_size, layer.stride, layer.dilation, type(layer).__name__)
    extra = {"output_padding": list(layer.output_padding)} if layer.transposed else {}
    return g.node(
        "ConvTranspose" if layer.transposed else "Conv",
        x,
        *_parameters(g, layer, path, "weight", "bias"),
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        dilations=list(layer.dilation),
        group=layer.groups,
        pads=[lo for lo, _ in pads] + [hi for _, hi in pads],
        **extra,
    )


def _pool_attributes(layer, value):
    """kernel_shape, strides, pads and ceil_mode of MaxPool and AveragePool, and the output's spatial
    sizes. PyTorch's ceil mode leaves out a last window that would start in the padding, ONNX's shape
    inference does not: ceil_mode is set where it adds windows on every axis that it changes, and
    where PyTorch leaves them out on all, floor mode gives its windows; an input with both is refused."""
    d, name = _spatial(layer, value), type(layer).__name__
    kernel = _sizes(layer.kernel_size, d, "kernel_size", name)
    stride, padding = _sizes(layer.stride, d, "stride", name), _sizes(layer.padding, d, "padding", name)
    dilation = _sizes(getattr(layer, "dilation", 1), d, "dilation", name)
    out, spans = (
        _outputs(layer(value))[0].shape[2:],
        [n + 2 * p - dl * (k - 1) - 1 for n, k, p, dl in zip(value.shape[2:], kernel, padding, dilation)],
    )
    floor, ceil = (tuple(f(span, s) + 1 for span, s in zip(spans, stride)) for f in (operator.floordiv, _ceildiv))
    if out != floor and out != ceil:
        raise ValueError(
            f"{name}(ceil_mode=True) on an input of shape {value.shape}: PyTorch's ceil mode adds a last "
            "window on one axis and leaves out one that would start in the padding on another, which "
            "ONNX's ceil_mode cannot say both; pad the input, or use other sizes"
        )
    attributes = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "pads": list(padding) * 2,
        "ceil_mode": int(out != floor),
    }
    return attributes, dilation, out


def _ceildiv(a, b):
    return -(-a // b)


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def _max_pool(g, layer, x, value, path):
    if layer.return_indices:
        raise ValueError(
            f"{type(layer).__name__}(return_indices=True) has no ONNX form here: ONNX's MaxPool counts "
            "its indices over the whole tensor, PyTorch's within each channel"
        )
    attributes, dilation, _ = _pool_attributes(layer, value)
    return g.node("MaxPool", x, dilations=list(dilation), **attributes)


def _avg_pool(g, layer, x, value, path):
    """AveragePool; with divisor_override, the mean over the windows as PyTorch counts them (the
    padding in, cut at the end of the padding) times that count over the divisor."""
    attributes, _, out = _pool_attributes(layer, value)
    divisor = getattr(layer, "divisor_override", None)
    pooled = g.node(
        "AveragePool", x, count_include_pad=int(layer.count_include_pad or divisor is not None), **attributes
    )
    if divisor is None:
        return pooled
    pads = [(p, p) for p in attributes["pads"][: len(out)]]
    count = _avg_divisor(value.shape[2:], attributes["kernel_shape"], attributes["strides"], pads, out, True, g.dtype)
    return g.node("Mul", pooled, g.constant(np.divide(count, divisor)))


def _adaptive_avg_pool(g, layer, x, value, path):
    """GlobalAveragePool to one element per axis, AveragePool where the sizes divide the input's;
    otherwise, as here, products with the averaging matrices of PyTorch's bins."""
    _spatial(layer, value)
    sizes, out = value.shape[2:], layer(value).shape[2:]
    if out == sizes:
        return x
    if all(m == 1 for m in out):
        return g.node("GlobalAveragePool", x)
    if all(n % m == 0 for n, m in zip(sizes, out)):
        kernel = [n // m for n, m in zip(sizes, out)]
        return g.node("AveragePool", x, kernel_shape=kernel, strides=kernel)
    if len(sizes) == 2 and sizes[0] != out[0]:  # rows: (out_h, H) @ x
        x = g.node("MatMul", g.constant(_bins(sizes[0], out[0], g.dtype)), x)
    if sizes[-1] != out[-1]:  # columns: x @ (W, out_w)
        x = g.node("MatMul", x, g.constant(_bins(sizes[-1], out[-1], g.dtype).T))
    return x


def _ones_if_none(g, layer, path, name, shape, fill):
    """The parameter's initializer, or a constant of `fill` where the layer has none (ONNX requires it)."""
    p = getattr(layer, name)
    return g.parameter(_key(path, name), p) if p is not None else g.constant(np.full(shape, fill))


def _batch_norm(g, layer, x, value, path):
    """BatchNormalization with the running statistics: the inference graph."""
    if not layer.track_running_stats:
        raise ValueError(
            f"{type(layer).__name__}(track_running_stats=False) normalizes by each batch's statistics "
            "in eval mode too; the ONNX graph holds running statistics"
        )
    c = layer.num_features
    return g.node(
        "BatchNormalization",
        x,
        _ones_if_none(g, layer, path, "weight", c, 1),
        _ones_if_none(g, layer, path, "bias", c, 0),
        *_parameters(g, layer, path, "running_mean", "running_var"),
        epsilon=float(layer.eps),
    )


def _layer_norm(g, layer, x, value, path):
    shape = layer.normalized_shape
    return g.node(
        "LayerNormalization",
        x,
        _ones_if_none(g, layer, path, "weight", shape, 1),
        *_parameters(g, layer, path, "bias"),
        axis=-len(shape),
        epsilon=float(layer.eps),
    )


def _group_norm(g, layer, x, value, path):
    """GroupNormalization from opset 21 (its per-channel scale; opset 18's scaled each group). Before,
    InstanceNormalization of the groups, (N, G, -1), then the per-channel weight and bias."""
    c, groups, eps = layer.num_channels, layer.num_groups, float(layer.eps)
    if g.opset >= 21:
        return g.node(
            "GroupNormalization",
            x,
            _ones_if_none(g, layer, path, "weight", c, 1),
            _ones_if_none(g, layer, path, "bias", c, 0),
            num_groups=groups,
            epsilon=eps,
        )
    grouped = g.node("Reshape", x, g.constant([0, groups, -1], np.int64))
    normalized = g.node(
        "InstanceNormalization", grouped, g.constant(np.ones(groups)), g.constant(np.zeros(groups)), epsilon=eps
    )
    out = g.node("Reshape", normalized, g.constant([0, *value.shape[1:]], np.int64))
    per_channel = g.constant((c,) + (1,) * (value.ndim - 2), np.int64)
    for op, name in (("Mul", "weight"), ("Add", "bias")):
        for p in _parameters(g, layer, path, name):
            out = g.node(op, out, g.node("Reshape", p, per_channel))
    return out


def _embedding(g, layer, x, value, path):
    """Gather of the rows the integer input names."""
    if layer.max_norm is not None:
        raise ValueError(
            f"Embedding(max_norm={layer.max_norm}) rescales the rows it looks up, in place; it has no ONNX form"
        )
    return g.node("Gather", *_parameters(g, layer, path, "weight"), x)


def _sequential(g, layer, x, value, path):
    for name, child in layer._modules.items():
        x, value = _emit(g, child, x, value, _key(path, name))
    return x


def _identity(g, layer, x, value, path):
    return x


_EMIT = {
    "Sequential": _sequential,
    "Dense": _dense,
    "Dropout": _identity,  # in eval mode, as the dropout variants
    "Dropout2d": _identity,
    "AlphaDropout": _identity,
    "Flatten": _flatten,
    "Unflatten": _unflatten,
    **dict.fromkeys(("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"), _conv),
    **dict.fromkeys(("MaxPool1d", "MaxPool2d"), _max_pool),
    **dict.fromkeys(("AvgPool1d", "AvgPool2d"), _avg_pool),
    **dict.fromkeys(("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"), _adaptive_avg_pool),
    **dict.fromkeys(("BatchNorm1d", "BatchNorm2d"), _batch_norm),
    "LayerNorm": _layer_norm,
    "GroupNorm": _group_norm,
    "Embedding": _embedding,
    "Identity": _identity,
    "Sigmoid": _elementwise("Sigmoid"),
    "Tanh": _elementwise("Tanh"),
    "ReLU": _elementwise("Relu"),
    "SELU": _elementwise("Selu", alpha=lambda m: SELU.ALPHA, gamma=lambda m: SELU.SCALE),
    "SiLU": lambda g, layer, x, value, path: g.node("Mul", x, g.node("Sigmoid", x)),
    "Mish": _mish,
    "ReLU6": _clip(lambda m: 0.0, lambda m: 6.0),
    "Hardsigmoid": _elementwise("HardSigmoid", alpha=lambda m: 1 / 6, beta=lambda m: 0.5),
    "Hardswish": _elementwise("HardSwish"),
    "Softsign": _elementwise("Softsign"),
    "LogSigmoid": lambda g, layer, x, value, path: g.node("Neg", g.node("Softplus", g.node("Neg", x))),
    "Tanhshrink": lambda g, layer, x, value, path: g.node("Sub", x, g.node("Tanh", x)),
    "LeakyReLU": _elementwise("LeakyRelu", alpha=lambda m: m.negative_slope),
    "ELU": _elementwise("Elu", alpha=lambda m: m.alpha),
    "CELU": _celu,
    "Softplus": _softplus,
    "GELU": _gelu,
    "Hardtanh": _clip(lambda m: m.min_val, lambda m: m.max_val),
    "Softshrink": _elementwise("Shrink", bias=lambda m: m.lambd, lambd=lambda m: m.lambd),
    "Hardshrink": _elementwise("Shrink", bias=lambda m: 0.0, lambd=lambda m: m.lambd),
    "Threshold": _threshold,
    "PReLU": _prelu,
    "RReLU": _elementwise("LeakyRelu", alpha=lambda m: (m.lower + m.upper) / 2),  # its eval mode
    "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"),
    "Softmin": _softmax("Softmax", negate=True),
    "GLU": _glu,
    "Step": _step,
}


def _key(path, name):
    return f"{path}.{name}" if path else name


def _emit(g, module, x, value, path):
    """The nodes of `module` on input x (whose value is `value`): (output name, output value)."""
    kind, layer = layer_of(module)
    if kind not in _EMIT:
        raise TypeError(
            f"{kind} has no forward (the forward of a model of your own calls the modules it holds), so "
            "it has no ONNX graph: put the modules in a Sequential to export them"
        )
    if value.dtype.kind != "f" and kind not in ("Embedding", "Sequential"):
        raise ValueError(
            f"{kind} takes a floating-point input, got {value.dtype} (integer inputs are the indices of a "
            "first Embedding layer)"
        )
    if kind == "Dense":
        x = _dense(g, module, x, value, path)
        value = plain_linear(value, module.weight, module.bias)
        return (
            (x, value) if module.activation is None else _emit(g, module.activation, x, value, _key(path, "activation"))
        )
    return _EMIT[kind](g, module, x, value, path), module(value)


# ---- export ----------------------------------------------------------------------------------------
def to_onnx(model, example_input, path=None, opset=DEFAULT_OPSET):
    """Write the inference graph of `model` to `path` (an .onnx file; None writes nothing) and return
    the onnx.ModelProto. `example_input` (a Tensor or array with the batch on axis 0) fixes the
    other axes' sizes and the dtype. A layer without an ONNX form is a TypeError naming it."""
    onnx = _onnx()
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or not OLDEST_OPSET <= opset <= newest:
        raise ValueError(f"to_onnx: opset must be an int from {OLDEST_OPSET} to {newest}, got {opset!r}")
    example = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    if example.dtype not in (np.float32, np.float64, np.int32, np.int64) or example.ndim == 0:
        raise ValueError(
            f"to_onnx: example_input must be a float32 or float64 array (int64 or int32 indices for an "
            f"Embedding) with a batch axis first, got a {example.dtype} array of shape {example.shape}"
        )
    architecture = document(model)  # refuses what is outside the table, before any work
    g = _Graph(onnx, opset, example.dtype if example.dtype.kind == "f" else float_dtype(model))
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            output, value = _emit(g, model, "input", Tensor(example), "")
    finally:
        for m, training in modes:
            object.__setattr__(m, "training", training)
    if output == "input":  # nothing but identities: the graph still needs a node
        output = g.node("Identity", output)
    g.nodes[-1].output[0] = "output"
    outside = {name: t.data.tolist() for name, t in model._state() if id(t) not in g.named}  # num_batches_tracked
    proto = _model_proto(
        onnx,
        g,
        example,
        value,
        {METADATA_KEY: json.dumps(architecture), **({STATE_KEY: json.dumps(outside)} if outside else {})},
    )
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        onnx.save(proto, path)
    return proto


def _model_proto(onnx, g, example, out, metadata):
    helper = onnx.helper
    graph = helper.make_graph(
        g.nodes,
        "tinygrad_es",
        [
            helper.make_tensor_value_info(
                "input", helper.np_dtype_to_tensor_dtype(example.dtype), ["batch", *example.shape[1:]]
            )
        ],
        [
            helper.make_tensor_value_info(
                "output", helper.np_dtype_to_tensor_dtype(out.dtype), ["batch", *out.shape[1:]] if out.ndim else []
            )
        ],
        initializer=g.initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", g.opset)], producer_name="tinygrad_es")
    helper.set_model_props(proto, metadata)
    return proto


# ---- import ----------------------------------------------------------------------------------------
def from_onnx(path):
    """The model a file written by `to_onnx` holds (a path, or an onnx.ModelProto), as tinygrad_es
    modules with its weights, in train mode as any new model, ready to be trained on."""
    onnx = _onnx()
    proto = path if isinstance(path, onnx.ModelProto) else onnx.load(path)
    props = {p.key: p.value for p in proto.metadata_props}
    if METADATA_KEY not in props:
        raise ValueError(
            f"from_onnx: {_name(path)} has no {METADATA_KEY!r} metadata: it was not written by "
            "tinygrad_es.interop.to_onnx, the only graphs from_onnx reads"
        )
    model = from_document(props[METADATA_KEY], f"from_onnx: {_name(path)}")
    arrays = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    arrays.update({name: np.asarray(value) for name, value in json.loads(props.get(STATE_KEY, "{}")).items()})
    state = model.state_dict()
    model.load_state_dict({k: arrays[k] for k in state if k in arrays}, strict=False)
    _check_same_graph(onnx, proto, model, path)
    return model


def _check_same_graph(onnx, proto, model, path):
    """The graph to_onnx writes for `model` must be the file's, nodes and initializers alike."""
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    tensor_type = proto.graph.input[0].type.tensor_type if len(proto.graph.input) == 1 else None
    shape = None if tensor_type is None else [d.dim_value if d.dim_value else 1 for d in tensor_type.shape.dim]
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        again = to_onnx(model, np.zeros(shape, dtype), None, opset)
    except Exception as error:  # anything that stops the same graph from being written again
        raise ValueError(f"from_onnx: {_name(path)}: its graph is not one to_onnx writes ({error})") from None
    for part in ("node", "initializer", "input", "output"):
        if list(getattr(again.graph, part)) != list(getattr(proto.graph, part)):
            raise ValueError(
                f"from_onnx: {_name(path)}: its graph's {part}s differ from what to_onnx writes for "
                "the architecture it describes; it was changed after export"
            )


def _name(path):
    return "the model" if hasattr(path, "graph") else str(path)
