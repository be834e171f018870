"""Every layer of interop.architecture.LAYERS, built with options away from their defaults, with an
input shape it takes: the cases the PyTorch and ONNX conversion tests run. VARIANTS adds the other
options of the layers that have many (padding, ceil_mode, affine, ...); ONNX_REFUSED names those
that have no ONNX form, with the message that says so."""

import importlib.util
import os
from pathlib import Path

import numpy as np

from tinygrad_es import nn

EMBEDDINGS = 10  # the indices an Embedding case takes: 0 to 9


def _rng(seed):
    return np.random.default_rng(seed)


def randomized(module, seed=3):
    """`module` with every parameter and floating buffer drawn at random (a running variance in
    [0.5, 1.5]) and every count set to 3: BatchNorm's ones and zeros would hide a swapped weight."""
    rng = _rng(seed)
    for name, t in [*module.named_parameters(), *module.named_buffers()]:
        if t.dtype.kind != "f":
            t.data[...] = 3
        elif name.endswith("running_var"):
            t.data[...] = rng.uniform(0.5, 1.5, t.shape)
        else:
            t.data[...] = rng.standard_normal(t.shape)
    return module


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
    "Dropout2d": (lambda d: nn.Dropout2d(0.3).eval(), (5, 4, 3, 2)),
    "AlphaDropout": (lambda d: nn.AlphaDropout(0.2).eval(), (5, 4)),
    "Flatten": (lambda d: nn.Flatten(2), (5, 2, 3, 4)),
    "Unflatten": (lambda d: nn.Unflatten(1, (3, -1)), (5, 6, 2)),
    "Dense": (lambda d: nn.Dense(4, 3, dtype=d, generator=_rng(1)), (5, 4)),
    "Sequential": (
        lambda d: nn.Sequential(nn.Dense(4, 6, activation="tanh", dtype=d), nn.Dense(6, 2, dtype=d)),
        (5, 4),
    ),
    # containers without a forward: the tests apply their entries in turn
    "ModuleList": (lambda d: nn.ModuleList([nn.Dense(4, 3, dtype=d), nn.Tanh()]), (5, 4)),
    "ModuleDict": (
        lambda d: nn.ModuleDict({"norm": randomized(nn.BatchNorm1d(2, dtype=d)), "conv": nn.Conv1d(2, 3, 2, dtype=d)}),
        (5, 2, 6),
    ),
    "Conv1d": (
        lambda d: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, dtype=d, generator=_rng(1)),
        (5, 4, 9),
    ),
    # "same" with a kernel of 2: the extra padding goes after, as PyTorch
    "Conv2d": (lambda d: nn.Conv2d(4, 6, (3, 2), padding="same", groups=2, dtype=d, generator=_rng(1)), (5, 4, 7, 6)),
    "ConvTranspose1d": (
        lambda d: nn.ConvTranspose1d(
            4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d, generator=_rng(1)
        ),
        (5, 4, 7),
    ),
    "ConvTranspose2d": (
        lambda d: nn.ConvTranspose2d(
            4,
            6,
            (3, 2),
            stride=(2, 3),
            padding=(1, 0),
            output_padding=(1, 2),
            groups=2,
            dilation=(1, 2),
            dtype=d,
            generator=_rng(1),
        ),
        (5, 4, 5, 4),
    ),
    "MaxPool1d": (lambda d: nn.MaxPool1d(3, stride=2, padding=1, dilation=2), (5, 4, 9)),
    "MaxPool2d": (lambda d: nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True), (5, 4, 8, 7)),
    "AvgPool1d": (lambda d: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (5, 4, 9)),
    "AvgPool2d": (
        lambda d: nn.AvgPool2d((3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True, divisor_override=5),
        (5, 4, 8, 7),
    ),
    "AdaptiveAvgPool1d": (lambda d: nn.AdaptiveAvgPool1d(4), (5, 3, 9)),  # bins of 2 and 3 elements
    "AdaptiveAvgPool2d": (lambda d: nn.AdaptiveAvgPool2d((3, None)), (5, 4, 7, 6)),
    "BatchNorm1d": (lambda d: randomized(nn.BatchNorm1d(4, eps=1e-3, momentum=0.2, dtype=d)), (5, 4, 3)),
    "BatchNorm2d": (lambda d: randomized(nn.BatchNorm2d(4, momentum=None, dtype=d)), (5, 4, 3, 2)),
    "LayerNorm": (lambda d: randomized(nn.LayerNorm((3, 2), eps=1e-3, bias=False, dtype=d)), (5, 4, 3, 2)),
    "GroupNorm": (lambda d: randomized(nn.GroupNorm(2, 4, eps=1e-3, dtype=d)), (5, 4, 3, 2)),
    "Embedding": (lambda d: nn.Embedding(EMBEDDINGS, 3, padding_idx=2, dtype=d, generator=_rng(1)), (5, 4)),
}

# more options of the layers that have many, as (make, input shape)
VARIANTS = {
    "Conv2d strided, padded, dilated, no bias": (
        lambda d: nn.Conv2d(3, 4, (2, 3), stride=(2, 1), padding=(1, 0), dilation=(2, 1), bias=False, dtype=d),
        (2, 3, 7, 6),
    ),
    "Conv1d same, even kernel, dilated": (
        lambda d: nn.Conv1d(3, 4, 4, padding="same", dilation=3, dtype=d),
        (2, 3, 11),
    ),
    "Conv2d valid": (lambda d: nn.Conv2d(3, 4, 3, padding="valid", dtype=d), (2, 3, 5, 5)),
    "ConvTranspose2d plain": (lambda d: nn.ConvTranspose2d(3, 2, 2, stride=2, dtype=d), (2, 3, 4, 3)),
    # ceil_mode's last window would start in the padding: PyTorch drops it, as floor mode does
    "MaxPool2d ceil_mode without the last window": (
        lambda d: nn.MaxPool2d(2, stride=3, padding=1, ceil_mode=True),
        (2, 3, 5, 5),
    ),
    # ceil_mode adds a window across the width, and PyTorch leaves out one across the height
    "MaxPool2d ceil_mode on one axis only": (
        lambda d: nn.MaxPool2d(4, stride=3, padding=2, ceil_mode=True),
        (2, 3, 1, 2),
    ),
    "MaxPool2d dilated, ceil_mode": (
        lambda d: nn.MaxPool2d(2, stride=2, dilation=(2, 1), ceil_mode=True),
        (2, 3, 8, 7),
    ),
    "AvgPool2d ceil_mode counting the padding": (
        lambda d: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
        (2, 3, 8, 7),
    ),
    "AvgPool2d ceil_mode without the padding": (
        lambda d: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 3, 8, 7),
    ),
    "AvgPool2d divisor_override": (lambda d: nn.AvgPool2d(2, divisor_override=3), (2, 3, 6, 4)),
    "AvgPool1d ceil_mode": (lambda d: nn.AvgPool1d(2, ceil_mode=True), (2, 3, 7)),
    "AdaptiveAvgPool2d global": (lambda d: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 4)),
    "AdaptiveAvgPool2d dividing the input": (lambda d: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 8, 6)),
    "AdaptiveAvgPool1d keeping the size": (lambda d: nn.AdaptiveAvgPool1d(5), (2, 3, 5)),
    "BatchNorm1d without affine, on (N, C)": (lambda d: randomized(nn.BatchNorm1d(4, affine=False, dtype=d)), (5, 4)),
    "BatchNorm2d without bias": (lambda d: randomized(nn.BatchNorm2d(3, bias=False, dtype=d)), (4, 3, 2, 2)),
    "BatchNorm2d without running statistics": (
        lambda d: randomized(nn.BatchNorm2d(3, track_running_stats=False, dtype=d)),
        (4, 3, 2, 2),
    ),
    "LayerNorm without affine": (lambda d: nn.LayerNorm(4, elementwise_affine=False, dtype=d), (5, 3, 4)),
    "LayerNorm with bias": (lambda d: randomized(nn.LayerNorm(4, dtype=d)), (5, 4)),
    "GroupNorm without affine, on (N, C, L)": (lambda d: nn.GroupNorm(3, 6, affine=False, dtype=d), (2, 6, 5)),
    "GroupNorm one group, no bias": (lambda d: randomized(nn.GroupNorm(1, 4, bias=False, dtype=d)), (2, 4, 3, 3)),
    "Embedding with max_norm": (lambda d: nn.Embedding(EMBEDDINGS, 3, max_norm=1.0, dtype=d), (5, 4)),
    "Embedding, Flatten, Dense": (
        lambda d: nn.Sequential(nn.Embedding(EMBEDDINGS, 4, dtype=d), nn.Flatten(), nn.Dense(12, 2, dtype=d)),
        (5, 3),
    ),
    "Unflatten a negative axis": (lambda d: nn.Unflatten(-1, (2, 2)), (3, 4)),
    "MaxPool2d with indices": (lambda d: nn.MaxPool2d(2, return_indices=True), (2, 3, 4, 4)),
}

# what has no ONNX form, and the error that says so
ONNX_REFUSED = {
    "BatchNorm2d without running statistics": (ValueError, "track_running_stats=False"),
    "Embedding with max_norm": (ValueError, "max_norm"),
    "MaxPool2d with indices": (ValueError, "return_indices=True"),
    "MaxPool2d ceil_mode on one axis only": (ValueError, "ONNX's ceil_mode cannot say both"),
    "ModuleList": (TypeError, "ModuleList has no forward"),
    "ModuleDict": (TypeError, "ModuleDict has no forward"),
}

ALL = {**CASES, **VARIANTS}


def integer_input(model):
    """Whether `model` takes indices (its first layer is an Embedding)."""
    while isinstance(model, nn.Sequential):
        model = model[0]
    return isinstance(model, nn.Embedding)


def example_input(model, shape, dtype, rng):
    """An input for `model`: indices for an Embedding, else 3 N(0, 1) (both sides of the kinks at +-3)."""
    if integer_input(model):
        return rng.integers(0, EMBEDDINGS, shape)
    return (3 * rng.standard_normal(shape)).astype(dtype)


def random_prelu(channels, dtype):
    layer = nn.PReLU(channels, dtype=dtype)
    layer.weight.data[...] = np.random.default_rng(2).uniform(-0.5, 0.5, channels)
    return layer


def example(name):
    """The module examples/NAME.py (its functions; its main() is not run), the environment left as it was."""
    environment = dict(os.environ)
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return module
