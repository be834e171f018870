"""Taking a model elsewhere: to PyTorch and to ONNX and back, and the architecture file that lets a
checkpoint be rebuilt without its code. PyTorch and ONNX are optional: each is imported only by
the functions that need it (the extras "torch" and "onnx")."""

from . import architecture, export
from .architecture import LAYERS, build, describe, load_model, save_model
from .onnx import from_onnx, to_onnx
from .torch import from_torch, from_torch_state_dict, to_torch, to_torch_state_dict
