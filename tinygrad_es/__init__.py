"""tinygrad_es: a small, readable reverse-mode autograd framework on NumPy."""

import numpy as np

from . import activations, autograd, data, functional, fused, nn, optim
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .compile import CaptureError, compile
from .creation import ones, rand, randn, tensor, zeros
from .engine import Function, OpError, Tensor, enable_grad, is_grad_enabled, no_grad, unbroadcast
from .gradcheck import GradcheckError, gradcheck
from .ops import (
    abs,
    add,
    clip,
    concatenate,
    div,
    exp,
    log,
    matmul,
    maximum,
    mean,
    minimum,
    mul,
    pow,
    sqrt,
    stack,
    sub,
    sum,
    where,
)
from .random import default_generator, manual_seed
from .serialization import load, save

cat = concatenate
clamp = clip
float32, float64 = np.float32, np.float64

__version__ = "0.1.0"
