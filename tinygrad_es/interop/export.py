"""What `tinygrad-es export CHECKPOINT --to onnx|torch` does: a model saved with `save_model`
(CHECKPOINT.npz and CHECKPOINT.json) written as an ONNX file or as a pickled torch.nn.Module."""

import numpy as np

from .architecture import DTYPES, load_model


def input_shape(description):
    """(1, in_features) when the first layer a model applies is a Dense layer; otherwise None."""
    while description and description.get("type") == "Sequential" and description["children"]:
        description = next(iter(description["children"].values()))
    if description and description.get("type") == "Dense":
        return (1, description["in_features"])
    return None


def export(checkpoint, to, out=None, shape=None, opset=None):
    """Convert the saved model; the path written. For ONNX `shape` is the example input's (its
    first axis, the batch, stays free), by default (1, in_features) of a first Dense layer."""
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
        raise ValueError("the model does not start with a Dense layer: give the input's shape (--input-shape)")
    dtypes = {p.dtype for p in model.parameters()} or {np.dtype(np.float32)}
    dtype = DTYPES[str(max(dtypes, key=lambda d: d.itemsize))]
    out = out or stem + ".onnx"
    onnx.to_onnx(model, np.zeros(shape, dtype), out, opset=opset or onnx.DEFAULT_OPSET)
    return out
