"""tinygrad_es: a small, readable reverse-mode autograd framework on NumPy."""
import numpy as np

from . import data, functional, nn, optim
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .engine import Function, Tensor, _sizes, is_grad_enabled, no_grad, tensor, unbroadcast
from .gradcheck import GradcheckError, gradcheck
from .ops import concatenate, maximum, minimum, stack, where
from .random import default_generator, manual_seed, rand, randn
from .serialization import load, save

cat = concatenate
float32, float64 = np.float32, np.float64


def zeros(*shape, requires_grad=False, dtype=np.float32):
    return Tensor(np.zeros(_sizes(shape), dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=np.float32):
    return Tensor(np.ones(_sizes(shape), dtype), requires_grad=requires_grad)


__version__ = "0.1.0"
