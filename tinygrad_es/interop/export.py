"""What `tinygrad-es export CHECKPOINT --to onnx|torch` does: a model saved with `save_model`
(CHECKPOINT.npz and CHECKPOINT.json) written as an ONNX file or as a pickled torch.nn.Module."""

import numpy as np

from .architecture import float_dtype, load_model


def first_layer(description):
    """The entry of the first layer a described model applies (inside its Sequentials)."""
    while description and description.get("type") == "Sequential" and description["children"]:
        description = next(iter(description["children"].values()))
    return description or {}


def input_shape(description):
    """(1, in_features) when the first layer a model applies is a Dense layer; otherwise None."""
    first = first_layer(description)
    return (1, first["in_features"]) if first.get("type") == "Dense" else None


def export(checkpoint, to, out=None, shape=None, opset=None):
    """Convert the saved model; the path written. For ONNX `shape` is the example input's (its
    first axis, the batch, stays free), by default (1, in_features) of a first Dense layer; the
    input is int64 indices for a model that starts with an Embedding."""
    from . import architecture, onnx, torch

    model = load_model(checkpoint)
    stem = architecture.stem_of(checkpoint)
    if to == "torch":
        out = out or stem + ".pt"
        torch._torch().save(torch.to_torch(model), out)
        return out
    description = architecture.describe(model)
    shape = shape or input_shape(description)
    if shape is None:
        raise ValueError(
            "the model does not start with a Dense layer: give the input's shape (--input-shape), batch "
            "first, as 1,1,8,8 for images of one channel of 8 x 8"
        )
    dtype = np.int64 if first_layer(description).get("type") == "Embedding" else float_dtype(model)
    out = out or stem + ".onnx"
    onnx.to_onnx(model, np.zeros(shape, dtype), out, opset=opset or onnx.DEFAULT_OPSET)
    return out
