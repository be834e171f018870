"""Containers: ModuleList, ModuleDict, ParameterList, as PyTorch's. Their entries are registered
under their positions ("0", "1", ...) or keys, so parameters(), state_dict(), train()/eval() and
to() reach them; unlike Sequential they have no forward of their own."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import Tensor
from .module import Module, Parameter

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11


class _Container(Module):
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward: call the entries it holds")


class _List(_Container):
    """What ModuleList and ParameterList share: entries registered as "0", "1", ... in `registry`. An
    entry is a Module in a ModuleList, a Parameter in a ParameterList (typed Any here, for both)."""

    registry = "_modules"
    _checked: Callable[[Any], Any]  # each list's check of a new entry (a staticmethod)

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _entries(self):
        return list(getattr(self, self.registry).values())

    def _position(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {len(self)} entries")
        return index % len(self)

    def _renumber(self, values):
        for name in list(getattr(self, self.registry)):
            delattr(self, name)
        self.extend(values)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self._entries()[index])
        return self._entries()[self._position(index)]

    def __setitem__(self, index: int, value: Any) -> None:
        setattr(self, str(self._position(index)), self._checked(value))

    def __delitem__(self, index: int | slice) -> None:
        values = self._entries()
        del values[index if isinstance(index, slice) else self._position(index)]
        self._renumber(values)

    def __len__(self) -> int:
        return len(getattr(self, self.registry))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries())

    def __iadd__(self, values: Iterable[Any]) -> Self:
        return self.extend(values)

    def __add__(self, other: Iterable[Any]) -> Self:
        return type(self)([*self, *other])

    def append(self, value: Any) -> Self:
        setattr(self, str(len(self)), self._checked(value))
        return self

    def extend(self, values: Iterable[Any]) -> Self:
        for value in values:
            self.append(value)
        return self

    def insert(self, index: int, value: Any) -> None:
        values = self._entries()
        values.insert(index, value)
        self._renumber(values)


class ModuleList(_List):
    """A list of modules: `layers = nn.ModuleList([nn.Dense(8, 8) for _ in range(3)])`, then
    `for layer in layers: x = layer(x)` in the model's forward."""

    @staticmethod
    def _checked(value):
        return _module(value, "ModuleList")


def _module(value, container):
    if not isinstance(value, Module):
        raise TypeError(f"{container}: {type(value).__name__} is not a Module")
    return value


class ParameterList(_List):
    """A list of parameters, registered as "0", "1", ...; a tensor or an array given is made a
    Parameter (sharing its memory)."""

    registry = "_parameters"

    @staticmethod
    def _checked(value):
        if isinstance(value, Parameter):
            return value
        if isinstance(value, (Tensor, np.ndarray)):
            return Parameter(value.data if isinstance(value, Tensor) else value)
        raise TypeError(f"ParameterList: {type(value).__name__} is not a tensor or an array")

    def extra_repr(self) -> str:
        return "\n  ".join(f"({i}): Parameter of shape {p.shape}, dtype {p.dtype}" for i, p in enumerate(self))


class ModuleDict(_Container):
    """A dict of modules by name, in insertion order: `nn.ModuleDict({"conv": ..., "pool": ...})`."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: a key must be a non-empty string without '.', got {key!r}")
        if hasattr(self, key) and key not in self._modules:
            raise KeyError(f"ModuleDict: {key!r} is already an attribute of the container")
        setattr(self, key, _module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        for key, module in modules.items() if hasattr(modules, "items") else modules:
            self[key] = module

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]
