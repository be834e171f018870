"""Layers, activations, losses and initializers for building models, PyTorch-style."""
from .module import Module, Parameter
from . import init
from .layers import Dense, Flatten, Linear, Sequential
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HalfMSELoss, HuberLoss, MSELoss, NLLLoss
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
