"""A model's architecture as plain data, and the table of the layers that can leave tinygrad_es
(for PyTorch or ONNX) and come back.

`save_model(model, path)` writes two files: `path.npz`, the state_dict (`tg.save`), and
`path.json`, the architecture; `load_model(path)` builds the model from the JSON and loads the
weights into it. The JSON file is

    {"format": "tinygrad_es.model", "version": 1, "model": LAYER}

where a LAYER is an object holding "type", the name of one entry of `LAYERS`, and the constructor
arguments that entry lists (PyTorch's names where the layer has them), for example

    {"type": "Sequential", "children": {"0": LAYER, "1": LAYER}}   (child names as in the state_dict;
                                         ModuleList and ModuleDict alike)
    {"type": "Dense", "in_features": 64, "out_features": 32, "bias": true, "dtype": "float32",
     "activation": LAYER or null}
    {"type": "Conv2d", "in_channels": 1, "out_channels": 16, "kernel_size": [3, 3], "stride": [1, 1],
     "padding": [1, 1], "dilation": [1, 1], "groups": 1, "bias": false, "padding_mode": "zeros",
     "dtype": "float32"}                 (padding may be "same" or "valid")
    {"type": "BatchNorm2d", "num_features": 16, "eps": 1e-05, "momentum": 0.1, "affine": true,
     "track_running_stats": true, "bias": true, "dtype": "float32"}
    {"type": "MaxPool2d", "kernel_size": 2, "stride": 2, "padding": 0, "dilation": 1,
     "return_indices": false, "ceil_mode": false}
    {"type": "ReLU"}    {"type": "LeakyReLU", "negative_slope": 0.01}    {"type": "Softmax", "axis": -1}
    {"type": "PReLU", "num_parameters": 1, "dtype": "float32"}    {"type": "Dropout", "p": 0.5}
    {"same_as": "0"}    the module already described under that dotted name (one module used twice)

Every option must be given (there are no defaults in the file); values are JSON numbers, booleans,
strings, null or lists. `bias` says whether the layer has one. Weights are not in it: they are the
state_dict in the .npz (buffers too: BatchNorm's running statistics and num_batches_tracked), under
the keys the built model has. A file that does not follow this (an unknown type, a missing or
unknown option, a bad value) is refused with a ValueError naming the entry, as
"model.children.1.activation".

One entry per layer type (`Layer`): its class here, the options that describe it (its
constructor's arguments), and its class in torch.nn with the options PyTorch names differently.
PyTorch and ONNX conversions walk a model through this table, so a new layer type is one entry
here (and its ONNX nodes in onnx.py).
"""

import dataclasses
import inspect
import json
import os

import numpy as np

from .. import nn
from ..nn import activation as act
from ..serialization import load, save

FORMAT, VERSION = "tinygrad_es.model", 1
DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer type: `cls` here, `torch` its class name in torch.nn, `options` the constructor
    arguments that describe it (read back from the attributes of the same names), `renamed` those
    that PyTorch calls otherwise, `flags` those given as a flag but kept as a parameter or None
    (`bias`). `dtype`: built with dtype= (that of its parameters and buffers). `nested`: where its
    layers are, "children" (a container) or "activation" (Dense)."""

    cls: type
    options: tuple = ()
    torch: str = ""
    renamed: dict = dataclasses.field(default_factory=dict)
    dtype: bool = False
    flags: tuple = ()
    nested: str | None = None

    def read(self, module):
        """The options of `module`, as JSON values."""
        options = {
            name: getattr(module, name) is not None if name in self.flags else _plain(getattr(module, name))
            for name in self.options
        }
        if self.dtype:
            options["dtype"] = _dtype_name(module)
        return options

    def torch_options(self, options):
        return {
            self.renamed.get(name, name): tuple(value) if isinstance(value, list) else value
            for name, value in options.items()
            if name != "dtype"
        }


# constructor arguments that are not options: the weights' dtype, how to draw them, the layers inside
_NOT_OPTIONS = {"dtype", "generator", "init", "bias_init", "_weight", "_freeze", "activation", "values", "modules"}


def _layer(cls, torch=None, **renamed):
    """An entry whose options are its constructor's arguments."""
    parameters = inspect.signature(cls).parameters
    options = tuple(
        name
        for name, p in parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in _NOT_OPTIONS
    )
    nested = "activation" if "activation" in parameters else "children" if cls in CONTAINERS else None
    return Layer(
        cls,
        options,
        torch or cls.__name__,
        renamed,
        "dtype" in parameters,
        tuple(name for name in options if name == "bias"),
        nested,
    )


CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)  # layers made of named children
LAYERS = {
    **{cls.__name__: _layer(cls) for cls in CONTAINERS},
    "Dense": _layer(nn.Dense, "Linear"),
    "Flatten": _layer(nn.Flatten, start_axis="start_dim"),
    **{
        cls.__name__: _layer(cls)
        for cls in (
            nn.Dropout,
            nn.Dropout2d,
            nn.AlphaDropout,
            nn.Unflatten,
            nn.Conv1d,
            nn.Conv2d,
            nn.ConvTranspose1d,
            nn.ConvTranspose2d,
            nn.MaxPool1d,
            nn.MaxPool2d,
            nn.AvgPool1d,
            nn.AvgPool2d,
            nn.AdaptiveAvgPool1d,
            nn.AdaptiveAvgPool2d,
            nn.BatchNorm1d,
            nn.BatchNorm2d,
            nn.LayerNorm,
            nn.GroupNorm,
            nn.Embedding,
        )
    },
    **{
        cls.__name__: _layer(cls)
        for cls in (
            act.Identity,
            act.Sigmoid,
            act.Tanh,
            act.ReLU,
            act.SELU,
            act.SiLU,
            act.Mish,
            act.ReLU6,
            act.Hardsigmoid,
            act.Hardswish,
            act.Softsign,
            act.LogSigmoid,
            act.Tanhshrink,
            act.LeakyReLU,
            act.ELU,
            act.CELU,
            act.Softplus,
            act.GELU,
            act.Hardtanh,
            act.Softshrink,
            act.Hardshrink,
            act.Threshold,
            act.PReLU,
            act.RReLU,
        )
    },
    **{cls.__name__: _layer(cls, axis="dim") for cls in (act.Softmax, act.LogSoftmax, act.Softmin, act.GLU)},
    "Step": _layer(act.Step, torch="tinygrad_es.Step"),  # PyTorch has none: interop.torch defines it
}
_BY_CLASS = {layer.cls: name for name, layer in LAYERS.items()}


def layer_of(module):
    """(type name, entry) of a module of ours, or a TypeError naming what it is."""
    name = _BY_CLASS.get(type(module))
    if name is None:
        raise TypeError(
            f"{type(module).__name__} is not a layer that can be converted; the layers that can: "
            f"{', '.join(sorted(LAYERS))}. For a model class of your own, move its weights with "
            "to_torch_state_dict / from_torch_state_dict"
        )
    return name, LAYERS[name]


def _plain(value):
    """A JSON value: NumPy scalars as Python numbers, tuples as lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _dtype_name(module):
    """The dtype of the module's own parameters and floating buffers (BatchNorm's running statistics)."""
    tensors = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
    dtypes = {t.dtype for t in tensors if t.dtype.kind == "f"}
    if len(dtypes) > 1:
        raise TypeError(
            f"{type(module).__name__} holds parameters of several dtypes ({', '.join(map(str, dtypes))}); "
            "convert them to one first"
        )
    name = str(dtypes.pop()) if dtypes else "float32"
    if name not in DTYPES:
        raise TypeError(f"{type(module).__name__} holds {name} parameters; only float32 and float64 can be described")
    return name


def float_dtype(model):
    """The dtype of a model's floating parameters and buffers: float64 if any is, else float32."""
    tensors = [*model.parameters(), *model.buffers()]
    return np.dtype(np.float64 if any(t.dtype == np.float64 for t in tensors) else np.float32)


# ---- describe and build ----------------------------------------------------------------------------
def describe(module):
    """The architecture of `module` (a layer of the table, or a tree of them) as a dict of JSON values."""
    return _describe(module, "", {})


def _describe(module, path, seen):
    if id(module) in seen:
        return {"same_as": seen[id(module)]}
    seen[id(module)] = path
    name, layer = layer_of(module)
    entry = {"type": name, **layer.read(module)}
    if layer.nested == "children":
        entry["children"] = {key: _describe(child, _join(path, key), seen) for key, child in module._modules.items()}
    elif layer.nested == "activation":
        entry["activation"] = (
            None if module.activation is None else _describe(module.activation, _join(path, "activation"), seen)
        )
    return entry


def _join(path, name):
    return f"{path}.{name}" if path else name


def build(description):
    """A new model (parameters freshly initialized) from what `describe` returns; a ValueError
    naming the entry for anything it does not know."""
    return _build(description, "model", "", {})


def _build(entry, where, path, built):
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: a layer is a JSON object, got {json.dumps(entry)}")
    if "same_as" in entry:
        if set(entry) != {"same_as"} or entry["same_as"] not in built:
            raise ValueError(
                f"{where}: same_as must be alone and name a module described before it, got {json.dumps(entry)}"
            )
        return built[entry["same_as"]]
    kind = entry.get("type")
    if kind not in LAYERS:
        raise ValueError(f"{where}: unknown layer type {kind!r}; known types: {', '.join(sorted(LAYERS))}")
    layer = LAYERS[kind]
    nested = layer.nested
    expected = {"type", *layer.options, *(("dtype",) if layer.dtype else ()), *((nested,) if nested else ())}
    missing, unknown = expected - set(entry), set(entry) - expected
    if missing or unknown:
        problems = [f"missing {', '.join(sorted(missing))}"] if missing else []
        problems += [f"unknown {', '.join(sorted(unknown))}"] if unknown else []
        raise ValueError(
            f"{where}: {kind} takes options {', '.join(sorted(expected - {'type'}))}; " + "; ".join(problems)
        )
    options = {name: entry[name] for name in layer.options}
    for name, value in options.items():
        if not isinstance(value, (bool, int, float, str, list, type(None))):
            raise ValueError(f"{where}.{name}: {json.dumps(value)} is not an option value")
    if layer.dtype:
        if entry["dtype"] not in DTYPES:
            raise ValueError(f"{where}.dtype: {entry['dtype']!r} is not one of {', '.join(DTYPES)}")
        options["dtype"] = DTYPES[entry["dtype"]]
    try:
        module = layer.cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    except (TypeError, ValueError, NotImplementedError, AssertionError) as error:  # what the constructor refuses
        raise ValueError(f"{where}: {kind}: {error}") from None
    built[path] = module
    if nested == "children":
        if not isinstance(entry["children"], dict):
            raise ValueError(f"{where}.children: an object of named layers, got {json.dumps(entry['children'])}")
        for name, child in entry["children"].items():
            setattr(module, name, _build(child, f"{where}.children.{name}", _join(path, name), built))
    elif nested == "activation" and entry["activation"] is not None:
        module.activation = _build(entry["activation"], f"{where}.activation", _join(path, "activation"), built)
    return module


# ---- files --------------------------------------------------------------------------------------------
def stem_of(path):
    """The path without .npz or .json: save_model writes both files beside it."""
    path = os.fspath(path)
    for suffix in (".npz", ".json"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def document(model):
    """The whole JSON document of `model`'s architecture (format, version, model)."""
    return {"format": FORMAT, "version": VERSION, "model": describe(model)}


def from_document(text, where):
    """A new model from the JSON text of a document (parameters freshly initialized); a ValueError
    beginning with `where` (the file) for anything that is not a document this version reads."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: the architecture is not JSON: {error}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'{where}: not a tinygrad_es architecture (no "format": "{FORMAT}")')
    if doc.get("version") != VERSION:
        raise ValueError(
            f"{where}: architecture version {doc.get('version')!r}; this tinygrad_es reads version {VERSION}"
        )
    if set(doc) != {"format", "version", "model"}:
        raise ValueError(f"{where}: an architecture holds format, version and model; got {', '.join(sorted(doc))}")
    try:
        return build(doc["model"])
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def save_model(model, path):
    """Write `path.npz` (the state_dict) and `path.json` (the architecture; see the module's
    docstring). `path` may end in .npz or .json: the other file goes beside it."""
    stem = stem_of(path)
    text = json.dumps(document(model), indent=1)
    save(model.state_dict(), stem + ".npz")
    with open(stem + ".json", "w", encoding="utf-8") as f:
        f.write(text + "\n")


def load_model(path):
    """The model `save_model` wrote at `path` (with or without .npz/.json), its weights loaded."""
    stem = stem_of(path)
    with open(stem + ".json", encoding="utf-8") as f:
        model = from_document(f.read(), f"load_model: {stem}.json")
    model.load_state_dict(load(stem + ".npz"))
    return model
