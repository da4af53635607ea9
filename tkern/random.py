"""Random number generators: one per device, reset by manual_seed."""
from __future__ import annotations

import numpy as np

from .device import as_device, device

_DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded stream of random numbers for one device (``tkern.Generator('cpu')``)."""

    def __init__(self, device: "str | device" = "cpu"):
        self.device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._numpy = None
        self.offset = 0

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < -(2 ** 63) or seed >= 2 ** 64:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed % 2 ** 64
        self._numpy = None
        self.offset = 0
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        self.manual_seed(int.from_bytes(np.random.default_rng().bytes(8), "little"))
        return self._seed

    def numpy_generator(self) -> np.random.Generator:
        """The host bit stream (the CPU backend draws from it)."""
        if self._numpy is None:
            self._numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self._numpy


_generators: dict = {}


def default_generator(dev: device) -> Generator:
    key = as_device(dev)
    gen = _generators.get(key)
    if gen is None:
        gen = _generators[key] = Generator(key)
    return gen


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator; returns the CPU one like torch."""
    cpu = default_generator(as_device("cpu"))
    cpu.manual_seed(seed)
    for gen in _generators.values():
        gen.manual_seed(seed)
    return cpu


def seed() -> int:
    value = default_generator(as_device("cpu")).seed()
    manual_seed(value)
    return value


def initial_seed() -> int:
    return default_generator(as_device("cpu")).initial_seed()
