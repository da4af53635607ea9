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

    def philox_offset(self, counters: int) -> tuple:
        """(seed, offset) for a draw of ``counters`` Philox counters; the next draw starts after them."""
        offset = self.offset
        self.offset = offset + counters
        return self._seed, offset

    def numpy_generator(self) -> np.random.Generator:
        """The host bit stream (the CPU backend draws from it)."""
        if self._numpy is None:
            self._numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self._numpy


_generators: dict = {}
# the last manual_seed: a device's generator made after it starts from it, like torch's lazy CUDA seeding
_global_seed = None


def default_generator(dev: device) -> Generator:
    key = as_device(dev)
    gen = _generators.get(key)
    if gen is None:
        gen = _generators[key] = Generator(key)
        if _global_seed is not None:
            gen.manual_seed(_global_seed)
    return gen


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator; returns the CPU one like torch."""
    global _global_seed
    cpu = default_generator(as_device("cpu"))
    cpu.manual_seed(seed)
    _global_seed = cpu.initial_seed()
    for gen in _generators.values():
        gen.manual_seed(seed)
    return cpu


def seed() -> int:
    value = default_generator(as_device("cpu")).seed()
    manual_seed(value)
    return value


def initial_seed() -> int:
    return default_generator(as_device("cpu")).initial_seed()
