"""PyTorch: a model of ours as a torch.nn.Module and back, and state_dicts both ways.

torch is imported only inside these functions (`pip install "tinygrad_es[torch]"`).

- `to_torch(model)`: the same model in torch.nn, in the dtype of its parameters (float32 or
  float64), with its buffers (BatchNorm's running statistics and num_batches_tracked), each module
  in the train/eval mode of ours. Convolutions, pooling, normalization, Embedding, the dropout
  variants, Unflatten and the containers (Sequential, ModuleList, ModuleDict) become the torch.nn
  class of the same name with the same options. A Dense layer becomes `nn.Linear`
  followed by its activation module (inside a Sequential, both take a place of their own, as a
  PyTorch user writes it: the paper's MLP becomes Sequential(Linear, Sigmoid, Linear, Sigmoid,
  Linear)). Step, which PyTorch lacks, becomes `tinygrad_es.interop.torch.Step`, a module defined
  here with the same values and a gradient of 0.
- `from_torch(module)`: the reverse; in a Sequential a Linear followed by an activation module
  becomes one Dense layer with that activation (one graph node here, the fast path). So a model of
  Dense layers comes back as it was, keys and all, except a Dense with an activation outside a
  Sequential (alone, or in a ModuleList), which comes back inside a Sequential of its own. Options
  tinygrad_es lacks (padding_mode other than "zeros", sparse Embedding gradients, Flatten's end_dim)
  are a ValueError naming them.
- `to_torch_state_dict` / `from_torch_state_dict`: the arrays of a state_dict as torch tensors and
  back, under the same keys, for models whose classes you write in both frameworks yourself.

A module one framework holds twice (`Sequential(d, d)`) is one module in the other too, and so is a
parameter two modules share. Anything outside the table of layers (architecture.LAYERS) is refused
with a TypeError naming it.
"""

import collections

import numpy as np

from ..engine import Tensor
from ..nn import Dense, Module
from ..nn.activation import Activation
from .architecture import DTYPES, LAYERS, _plain, build, layer_of


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError('this needs PyTorch: pip install "tinygrad_es[torch]"') from None
    return torch


def __getattr__(name):
    """The torch.nn classes defined here are made when first asked for (importing this module does
    not import torch), under this module's name, so that torch.save can pickle models holding them."""
    if name == "Step":
        return _step_class(_torch())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _step_class(torch):
    if "Step" in globals():
        return globals()["Step"]

    class StepFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x >= 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            return torch.zeros_like(grad)

    class Step(torch.nn.Module):
        """Heaviside step, as tinygrad_es.nn.Step: 1 where x >= 0, else 0; its gradient is 0 everywhere."""

        def forward(self, x):
            return StepFunction.apply(x)

    Step.__module__, Step.__qualname__ = __name__, "Step"
    globals()["Step"] = Step
    return Step


def _torch_class(torch, layer):
    return _step_class(torch) if layer.torch == "tinygrad_es.Step" else getattr(torch.nn, layer.torch)


# ---- to PyTorch ---------------------------------------------------------------------------------------
def to_torch(model):
    """A torch.nn.Module computing what `model` computes, with copies of its weights and buffers
    (see the module's docstring for how each layer maps)."""
    torch = _torch()
    return _to_torch(model, torch, {}, {})


def _to_torch(module, torch, seen, tensors):
    if id(module) in seen:
        return seen[id(module)]
    name, layer = layer_of(module)
    if layer.nested == "children":
        children = {key: _to_torch(child, torch, seen, tensors) for key, child in module._modules.items()}
        if name == "Sequential":
            converted = torch.nn.Sequential(
                *[part for key, child in module._modules.items() for part in _parts(children[key], child)]
            )
        else:
            converted = getattr(torch.nn, name)(children if name == "ModuleDict" else children.values())
    else:
        options = layer.read(module)
        dtype = {"dtype": getattr(torch, options["dtype"])} if layer.dtype else {}
        converted = _torch_class(torch, layer)(**layer.torch_options(options), **dtype)
        _copy_to_torch(module, converted, torch, tensors)
        if isinstance(module, Dense) and module.activation is not None:
            converted.training = module.training
            converted = torch.nn.Sequential(converted, _to_torch(module.activation, torch, seen, tensors))
    converted.training = module.training
    seen[id(module)] = converted
    return converted


def _parts(converted, child):
    """A Dense layer with an activation takes two places in a Sequential: Linear, then the activation."""
    return list(converted) if isinstance(child, Dense) and child.activation is not None else [converted]


def _copy_to_torch(module, converted, torch, tensors):
    """The module's parameters and buffers into `converted`'s, a tensor shared with a module converted
    before shared there too (`tensors`: ours by id -> theirs)."""
    for name, t in [*module._parameters.items(), *module._buffers.items()]:
        if t is None:
            continue
        if id(t) in tensors:
            setattr(converted, name, tensors[id(t)])
            continue
        target = getattr(converted, name)
        with torch.no_grad():
            target.copy_(torch.from_numpy(np.asarray(t.data, order="C")))
        if name in module._parameters:
            target.requires_grad_(t.requires_grad)
        tensors[id(t)] = target


# ---- from PyTorch -------------------------------------------------------------------------------------
def from_torch(torch_module):
    """A model of ours computing what `torch_module` computes, with copies of its weights and
    buffers; a TypeError naming any torch module outside the table of layers."""
    torch = _torch()
    uses = collections.Counter(id(m) for _, m in torch_module.named_modules(remove_duplicate=False))
    return _from_torch(torch_module, torch, {}, {}, uses)


def _kind(torch_module, torch):
    for name, layer in LAYERS.items():
        if type(torch_module) is _torch_class(torch, layer):
            return name, layer
    raise TypeError(
        f"{type(torch_module).__module__}.{type(torch_module).__name__} has no counterpart in "
        f"tinygrad_es; the torch.nn modules that convert: "
        f"{', '.join(sorted(layer.torch for layer in LAYERS.values()))}"
    )


def _from_torch(torch_module, torch, seen, tensors, uses):
    if id(torch_module) in seen:
        return seen[id(torch_module)]
    name, layer = _kind(torch_module, torch)
    options = _torch_options(torch_module, name, layer)
    module = build(
        {
            "type": name,
            **options,
            **({layer.nested: {} if layer.nested == "children" else None} if layer.nested else {}),
        }
    )
    if name == "Sequential":
        children = [_from_torch(child, torch, seen, tensors, uses) for child in torch_module]
        for i, child in enumerate(_merged(children, list(torch_module), uses)):
            setattr(module, str(i), child)
    elif layer.nested == "children":
        for key, child in torch_module.named_children():
            setattr(module, key, _from_torch(child, torch, seen, tensors, uses))
    _copy_from_torch(torch_module, module, tensors)
    object.__setattr__(module, "training", torch_module.training)
    seen[id(torch_module)] = module
    return module


def _torch_options(torch_module, name, layer):
    options = {option: getattr(torch_module, layer.renamed.get(option, option)) for option in layer.options}
    options.update({flag: getattr(torch_module, flag) is not None for flag in layer.flags})
    if name == "Flatten" and torch_module.end_dim != -1:
        raise ValueError(
            f"Flatten(end_dim={torch_module.end_dim}): tinygrad_es's Flatten merges the axes up to the "
            "last (end_dim=-1)"
        )
    if options.get("axis", 0) is None:
        raise ValueError(
            f"{layer.torch}(dim=None): PyTorch's implicit dim is deprecated and has no counterpart; give dim"
        )
    if layer.dtype:
        tensors = [*torch_module.parameters(recurse=False), *torch_module.buffers(recurse=False)]
        dtypes = [str(t.dtype).removeprefix("torch.") for t in tensors if t.is_floating_point()]
        dtype = dtypes[0] if dtypes else "float32"
        if dtype not in DTYPES:
            raise TypeError(f"{layer.torch} holds {dtype} parameters; only float32 and float64 convert")
        options["dtype"] = dtype
    return {k: _plain(v.item() if hasattr(v, "item") else v) for k, v in options.items()}


def _merged(children, torch_children, uses):
    """A Dense layer followed by an activation becomes that Dense with the activation (each used once)."""
    merged = []
    for i, child in enumerate(children):
        previous = merged[-1] if merged else None
        if (
            isinstance(child, Activation)
            and isinstance(previous, Dense)
            and previous.activation is None
            and uses[id(torch_children[i])] == 1
            and uses[id(torch_children[i - 1])] == 1
        ):
            previous.activation = child
        else:
            merged.append(child)
    return merged


def _copy_from_torch(torch_module, module, tensors):
    parameters = dict(torch_module.named_parameters(recurse=False))
    for name, t in [*parameters.items(), *torch_module.named_buffers(recurse=False)]:
        if id(t) in tensors:
            setattr(module, name, tensors[id(t)])
            continue
        target = getattr(module, name)
        np.copyto(target.data, t.detach().cpu().numpy())
        if name in parameters:
            target.requires_grad_(t.requires_grad)
        tensors[id(t)] = target


# ---- state dicts ---------------------------------------------------------------------------------------
def to_torch_state_dict(state):
    """{key: torch.Tensor} from a Module of ours (its state_dict) or a state_dict of arrays or
    Tensors: the same keys, copies of the values in their dtypes. For `torch_model.load_state_dict`
    when the two models name their layers alike."""
    torch = _torch()
    items = state.state_dict() if isinstance(state, Module) else state
    return {
        key: torch.from_numpy(np.array(value.data if isinstance(value, Tensor) else value))
        for key, value in items.items()
    }


def from_torch_state_dict(state):
    """{key: numpy array} from a torch.nn.Module (its state_dict, buffers included) or a state_dict
    of torch tensors: the same keys, copies of the values. For `model.load_state_dict`."""
    items = state.state_dict() if hasattr(state, "state_dict") else state
    return {key: value.detach().cpu().numpy().copy() for key, value in items.items()}
