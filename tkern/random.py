"""Random number generators: one per device, reset by manual_seed.

A 'cpu' generator is torch's: a Mersenne Twister (MT19937, numpy's engine) seeded with the low 32 bits
of the seed, drawing 32-bit words (``random``) or 64-bit ones made of two words, the first one high
(``random64``), and keeping the second value of a scalar Box-Muller pair for the next scalar normal
draw, as torch's CPUGeneratorImpl does; ops/cpu_random.py turns the words into torch's distributions,
so after the same seed tkern and torch draw the same numbers on 'cpu'. A 'cuda' generator keeps a seed
and an offset into Triton's Philox stream (torch's CUDA stream depends on its launch geometry, so it is
not reproduced).
"""
from __future__ import annotations

import os

import numpy as np

from .device import as_device, device

_DEFAULT_SEED = 67280421310721  # torch's seed for a new Generator


def _nondeterministic_seed() -> int:
    # torch's default CPU generator starts from 53 bits of std::random_device, fresh per process
    return int.from_bytes(os.urandom(8), "little") & (2 ** 53 - 1)


class Generator:
    """A seeded stream of random numbers for one device (``tkern.Generator('cpu')``)."""

    def __init__(self, device: "str | device" = "cpu"):
        self.device = as_device(device)
        self._engine = np.random.MT19937(0) if self.device.type == "cpu" else None
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < -(2 ** 63) or seed >= 2 ** 64:
            raise RuntimeError("Overflow when unpacking long")
        self._seed = seed % 2 ** 64
        self.offset = 0
        if self._engine is not None:
            self._engine._legacy_seeding(self._seed & 0xFFFFFFFF)
        self.next_double_normal: float | None = None  # the cached second value of a scalar Box-Muller pair
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        self.manual_seed(_nondeterministic_seed())
        return self._seed

    def philox_offset(self, counters: int) -> tuple:
        """(seed, offset) for a draw of ``counters`` Philox counters; the next draw starts after them."""
        offset = self.offset
        self.offset = offset + counters
        return self._seed, offset

    def random(self, count: int) -> np.ndarray:
        """The next ``count`` 32-bit words of a 'cpu' generator (as uint64)."""
        assert self._engine is not None, "a 'cpu' generator's draw"
        return self._engine.random_raw(count)

    def random64(self, count: int) -> np.ndarray:
        """The next ``count`` 64-bit words of a 'cpu' generator, each two 32-bit words, the first one high."""
        assert self._engine is not None, "a 'cpu' generator's draw"
        words = self._engine.random_raw(2 * count)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    def get_state(self):
        """The generator's state as a uint8 tensor, for set_state."""
        from . import dtypes
        from .creation import tensor
        if self._engine is None:
            values = np.array([self._seed, self.offset], dtype=np.uint64)
        else:
            state = self._engine.state["state"]
            cached = np.nan if self.next_double_normal is None else self.next_double_normal
            values = np.concatenate([np.array([self._seed, state["pos"]], dtype=np.uint64),
                                     state["key"].astype(np.uint64), np.array([cached]).view(np.uint64)])
        return tensor(values.view(np.uint8), dtype=dtypes.uint8)

    def set_state(self, new_state) -> "Generator":
        from . import dtypes
        if getattr(new_state, "dtype", None) is not dtypes.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        raw = np.ascontiguousarray(new_state.detach().cpu().numpy())
        words = 2 if self._engine is None else 627
        if raw.shape != (8 * words,):
            raise RuntimeError(f"Expected either a THGeneratorState of size {8 * words} but found the input "
                               f"RNG state size to be {raw.size}")
        values = raw.view(np.uint64)
        self._seed = int(values[0])
        if self._engine is None:
            self.offset = int(values[1])
        else:
            self._engine.state = {"bit_generator": "MT19937",
                                  "state": {"key": values[2:626].astype(np.uint32), "pos": int(values[1])}}
            cached = float(values[626:].view(np.float64)[0])
            self.next_double_normal = None if np.isnan(cached) else cached
        return self


_generators: dict = {}
# the last manual_seed: a device's generator made after it starts from it, like torch's lazy CUDA seeding
_global_seed = None


def default_generator(dev: str | device) -> Generator:
    key = as_device(dev)
    gen = _generators.get(key)
    if gen is None:
        gen = _generators[key] = Generator(key)
        if _global_seed is not None:
            gen.manual_seed(_global_seed)
        elif key.type == "cpu":
            gen.seed()
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


def get_rng_state():
    """The default 'cpu' generator's state (``tkern.get_rng_state()``)."""
    return default_generator(as_device("cpu")).get_state()


def set_rng_state(new_state) -> None:
    default_generator(as_device("cpu")).set_state(new_state)
