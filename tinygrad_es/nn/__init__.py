"""Layers, activations, losses and initializers for building models, PyTorch-style."""

from . import init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
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
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
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
from .containers import ModuleDict, ModuleList, ParameterList
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .layers import AlphaDropout, Dense, Dropout, Dropout2d, Flatten, Linear, Sequential, Unflatten
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HalfMSELoss, HuberLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .sparse import Embedding
