"""Layers, activations, losses and initializers for building models, PyTorch-style."""
from .module import Module, Parameter
