"""Activation layers: one Module per function of `tinygrad_es.activations`, and `get_activation`,
which turns a name such as "relu" (or None, or a Module) into a layer."""
from .. import activations as A
from .module import Module


class Activation(Module):
    """Base of the activation layers: `forward(x)` is `function(x, **options)`, the options being
    the keyword arguments given to the constructor (kept as attributes, shown by repr)."""

    function = None  # the functional form, set by each subclass

    def __init__(self, **options):
        super().__init__()
        self._option_names = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, x):
        if not self._option_names:
            return self.function(x)
        return self.function(x, **{name: getattr(self, name) for name in self._option_names})

    def extra_repr(self):
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._option_names)


class Identity(Activation):
    """f(x) = x; Keras calls it "linear"."""

    function = staticmethod(lambda x: x)


class Sigmoid(Activation):
    function = staticmethod(A.sigmoid)


class Tanh(Activation):
    function = staticmethod(A.tanh)


class ReLU(Activation):
    function = staticmethod(A.relu)


class Softmax(Activation):
    function = staticmethod(A.softmax)

    def __init__(self, axis=-1):
        super().__init__(axis=axis)


class LogSoftmax(Activation):
    function = staticmethod(A.log_softmax)

    def __init__(self, axis=-1):
        super().__init__(axis=axis)


# Names accepted by get_activation: the functional names, plus Keras' "linear".
_REGISTRY = {
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
}


def activation_names():
    """The names get_activation accepts, sorted."""
    return sorted(_REGISTRY)


def get_activation(spec):
    """A new activation layer from a name ("relu", "leaky_relu", Keras' "linear", ...), from an
    activation class, or None (the identity). A Module is returned as it is."""
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str) and spec.lower() in _REGISTRY:
        return _REGISTRY[spec.lower()]()
    raise ValueError(f"get_activation: unknown activation {spec!r}; valid names: {', '.join(activation_names())}")
