"""Layers, activations, losses and initializers for building models, PyTorch-style."""
from .module import Module, Parameter
from .activation import (
    Identity,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    activation_names,
    get_activation,
)
