"""Layers, activations, losses and initializers for building models, PyTorch-style."""
from .module import Module, Parameter
from . import init
from .layers import Dense, Dropout, Flatten, Linear, Sequential
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HalfMSELoss, HuberLoss, MSELoss, NLLLoss
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    RReLU,
    ReLU,
    ReLU6,
    SELU,
    SiLU,
    Sigmoid,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Step,
    Tanh,
    Tanhshrink,
    Threshold,
    activation_names,
    get_activation,
)
