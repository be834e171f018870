"""Every layer of interop.architecture.LAYERS, built with options away from their defaults, with an
input shape it takes: the cases the PyTorch and ONNX conversion tests run."""
import numpy as np

from tinygrad_es import nn

# Every layer of the table with options away from their defaults, and an input shape it takes.
CASES = {
    "Identity": (lambda d: nn.Identity(), (5, 4)),
    "Sigmoid": (lambda d: nn.Sigmoid(), (5, 4)),
    "Tanh": (lambda d: nn.Tanh(), (5, 4)),
    "ReLU": (lambda d: nn.ReLU(), (5, 4)),
    "SELU": (lambda d: nn.SELU(), (5, 4)),
    "SiLU": (lambda d: nn.SiLU(), (5, 4)),
    "Mish": (lambda d: nn.Mish(), (5, 4)),
    "ReLU6": (lambda d: nn.ReLU6(), (5, 4)),
    "Hardsigmoid": (lambda d: nn.Hardsigmoid(), (5, 4)),
    "Hardswish": (lambda d: nn.Hardswish(), (5, 4)),
    "Softsign": (lambda d: nn.Softsign(), (5, 4)),
    "LogSigmoid": (lambda d: nn.LogSigmoid(), (5, 4)),
    "Tanhshrink": (lambda d: nn.Tanhshrink(), (5, 4)),
    "LeakyReLU": (lambda d: nn.LeakyReLU(0.2), (5, 4)),
    "ELU": (lambda d: nn.ELU(0.7), (5, 4)),
    "CELU": (lambda d: nn.CELU(1.3), (5, 4)),
    "Softplus": (lambda d: nn.Softplus(beta=2.0, threshold=3.0), (5, 4)),
    "GELU": (lambda d: nn.GELU(), (5, 4)),
    "Hardtanh": (lambda d: nn.Hardtanh(-0.5, 2.0), (5, 4)),
    "Softshrink": (lambda d: nn.Softshrink(0.3), (5, 4)),
    "Hardshrink": (lambda d: nn.Hardshrink(0.7), (5, 4)),
    "Threshold": (lambda d: nn.Threshold(0.3, -2.0), (5, 4)),
    "PReLU": (lambda d: random_prelu(4, d), (5, 4, 3)),
    "RReLU": (lambda d: nn.RReLU(0.1, 0.4).eval(), (5, 4)),
    "Softmax": (lambda d: nn.Softmax(axis=1), (5, 4, 3)),
    "LogSoftmax": (lambda d: nn.LogSoftmax(axis=1), (5, 4, 3)),
    "Softmin": (lambda d: nn.Softmin(), (5, 4)),
    "GLU": (lambda d: nn.GLU(axis=1), (5, 4, 3)),
    "Step": (lambda d: nn.Step(), (5, 4)),
    "Dropout": (lambda d: nn.Dropout(0.3).eval(), (5, 4)),
    "Flatten": (lambda d: nn.Flatten(2), (5, 2, 3, 4)),
    "Dense": (lambda d: nn.Dense(4, 3, dtype=d, generator=np.random.default_rng(1)), (5, 4)),
    "Sequential": (lambda d: nn.Sequential(nn.Dense(4, 6, activation="tanh", dtype=d), nn.Dense(6, 2, dtype=d)),
                   (5, 4)),
}


def random_prelu(channels, dtype):
    layer = nn.PReLU(channels, dtype=dtype)
    layer.weight.data[...] = np.random.default_rng(2).uniform(-0.5, 0.5, channels)
    return layer
