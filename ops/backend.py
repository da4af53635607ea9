"""The backend interface: the primitives every device kind implements, and the registry."""
from __future__ import annotations

from tkern.device import device

from .array import Array


class Backend:
    """Primitives on raw Arrays. Operands arrive expanded to the output's shape (stride 0 where
    broadcast); the backend converts each operand to ``compute`` dtype on read and writes into
    ``out`` with a cast to out's dtype. It never broadcasts, promotes, or sees autograd state.
    """

    def empty(self, shape: tuple, dtype, device: device) -> Array:
        raise NotImplementedError

    def from_numpy(self, array, device: device) -> Array:
        """Copy a host numpy array into a new contiguous Array on ``device``."""
        raise NotImplementedError

    def to_numpy(self, src: Array):
        """A host numpy array with src's values (a view, not a copy, where the memory is host memory)."""
        raise NotImplementedError

    def fill(self, out: Array, value) -> None:
        raise NotImplementedError

    def copy(self, out: Array, src: Array) -> None:
        """Strided copy with dtype conversion; src has out's shape."""
        raise NotImplementedError

    def unary(self, op: str, out: Array, x: Array, compute) -> None:
        raise NotImplementedError

    def binary(self, op: str, out: Array, a, b, compute) -> None:
        """a and b are Arrays or Python scalars."""
        raise NotImplementedError

    def ternary(self, op: str, out: Array, a, b, c, compute) -> None:
        raise NotImplementedError

    def reduce(self, op: str, out: Array, x: Array, dims: tuple, compute) -> None:
        """out has x's shape with the reduced dims removed, or kept with size 1 (keepdim)."""
        raise NotImplementedError

    def arg_reduce(self, op: str, values: Array | None, indices: Array, x: Array, dim: int | None) -> None:
        """values/indices have x's shape with ``dim`` of size 1; dim None means over the flattened x."""
        raise NotImplementedError

    def matmul(self, out: Array, a: Array, b: Array, compute) -> None:
        """Batched (..., m, k) @ (..., k, n) with equal batch shapes."""
        raise NotImplementedError

    def gather(self, out: Array, x: Array, indices: tuple) -> None:
        """out = x[indices]; indices has one entry per dim of x: None (whole dim) or an int64 Array,
        all index Arrays already broadcast to one shape."""
        raise NotImplementedError

    def scatter(self, x: Array, indices: tuple, values: Array, accumulate: bool) -> None:
        """x[indices] = values (or +=); values has the shape that gather with these indices gives."""
        raise NotImplementedError

    def nonzero(self, x: Array) -> Array:
        """int64 Array of shape (count, x.ndim) with the coordinates of nonzero elements."""
        raise NotImplementedError

    def random(self, kind: str, out: Array, generator, low=None, high=None) -> None:
        """kind: 'uniform' on [0, 1), 'normal' (0, 1), or 'integers' on [low, high)."""
        raise NotImplementedError


BACKENDS: dict = {}


def backend_for(dev: device) -> Backend:
    """The backend that runs ``dev``'s device type; RuntimeError saying why when there is none."""
    found = BACKENDS.get(dev.type)
    if found is None:
        found = _load(dev)
    return found


def _load(dev: device) -> Backend:
    if dev.type == "cpu":
        from .numpy_backend import NumpyBackend
        BACKENDS["cpu"] = NumpyBackend()
        return BACKENDS["cpu"]
    from tkern import cuda
    cuda.check_available()
    raise RuntimeError(f"tkern: no backend for device '{dev}'")
