"""Containers: Sequential (chains its modules) and ModuleList (holds them), both indexable like lists."""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import cast, overload

from ...tensor import Tensor
from .module import Module, _addindent


class _ModuleSequence(Module):
    """Submodules kept in order under the keys '0', '1', ... (or a Sequential's own names), with list
    indexing; deleting one renumbers the rest, as in torch."""

    def _key(self, idx: int) -> str:
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules)[idx % size]

    def _sliced(self, items: list) -> "_ModuleSequence":
        raise NotImplementedError

    def __getitem__(self, idx: int | slice):
        if isinstance(idx, slice):
            return self._sliced(list(self._modules.items())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            delattr(self, key)
        self._modules = {str(i): module for i, module in enumerate(self._modules.values())}

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        # (Module's registry may hold None; a container's entries are the modules it was given)
        return iter(cast("dict[str, Module]", self._modules).values())

    def __dir__(self) -> list:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, module: Module):
        """Add a module at the end: ``seq.append(ReLU())``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        """Append every module of an iterable: ``seq.extend([ReLU(), Linear(2, 1)])``."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module):
        """Insert a module before position ``index``: ``seq.insert(0, Identity())``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index + n if index < 0 else index
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules = {str(i): m for i, m in enumerate(modules)}
        return self

    def pop(self, key: int | slice):
        """Remove and return the module at ``key``: ``seq.pop(-1)``."""
        value = self[key]
        del self[key]
        return value


class Sequential(_ModuleSequence):
    """Modules applied one after another, given as arguments or as an OrderedDict of named modules.

    >>> model = Sequential(tkern.nn.Linear(2, 3), tkern.nn.ReLU())
    >>> model(tkern.ones(4, 2)).shape
    tkern.Size([4, 3])
    """

    @overload
    def __init__(self, *args: Module) -> None: ...

    @overload
    def __init__(self, arg: OrderedDict[str, Module], /) -> None: ...

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _sliced(self, items: list) -> "Sequential":
        return type(self)(OrderedDict(items))

    def forward(self, input: Tensor) -> Tensor:
        for module in self:
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, each registered (so its parameters are the owner's); it has no forward.

    >>> layers = ModuleList([tkern.nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _sliced(self, items: list) -> "ModuleList":
        return type(self)(module for _, module in items)

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return type(self)(list(self) + list(other))

    def __repr__(self) -> str:
        """torch's compressed form: a run of identical modules prints once as '(i-j): n x ...'."""
        blocks: list[list] = []
        for i, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        if not blocks:
            return self._get_name() + "()"
        lines = [_addindent(f"({start}): {text}" if start == end else f"({start}-{end}): {end - start + 1} x {text}", 2)
                 for start, end, text in blocks]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
