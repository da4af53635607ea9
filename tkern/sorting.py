"""The hand-written forwards of sort, argsort and topk (ops/along_rows.py sorts, stably, on either
device). Their (values, indices) results are named tuples like torch.return_types.sort and topk."""
from __future__ import annotations

from collections import namedtuple

from tkern.autograd.recording import differentiable
from tkern.ops import along_rows, normalize_dim

from . import dtypes
from .math_ops import _result
from .tensor import Tensor, wrap


def _return_type(name: str) -> type:
    """A (values, indices) named tuple printed like torch's ``torch.return_types.<name>``."""
    class ReturnType(namedtuple(name, ["values", "indices"])):  # type: ignore[misc]  # (named per operation)
        __slots__ = ()
        values: Tensor
        indices: Tensor

        def __repr__(self) -> str:
            return f"tkern.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    ReturnType.__name__ = ReturnType.__qualname__ = name
    return ReturnType


SortResult = _return_type("sort")
TopkResult = _return_type("topk")


def _into_pair(result: tuple, out, kind: type):
    if out is None:
        return result
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{kind.__name__}(): argument 'out' must be tuple of Tensors")
    return kind(_result(result[0], out[0]), _result(result[1], out[1]))


def _check_stable(name: str, stable) -> None:
    if stable is not None and not isinstance(stable, bool):
        raise TypeError(f"{name}(): argument 'stable' must be bool, not {type(stable).__name__}")


@differentiable("sort")
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool | None = False, out=None):
    """(values, indices) of input sorted along dim: ``tkern.sort(x, descending=True).values``. The sort
    is always stable (equal elements keep their order), and NaN sorts above every number, as torch's."""
    _check_stable("sort", stable)
    values, indices = along_rows.sort(input._a, dim, bool(descending))
    return _into_pair(SortResult(wrap(values), wrap(indices)), out, SortResult)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The int64 positions that sort input along dim: ``tkern.argsort(x, 1)``."""
    _check_stable("argsort", stable)
    return wrap(along_rows.sort(input._a, dim, bool(descending))[1])


@differentiable("topk")
def topk(input: Tensor, k: int, dim: int | None = None, largest: bool = True, sorted: bool = True, *, out=None):
    """(values, indices) of the k largest (smallest: largest=False) elements along dim (the last
    by default), largest first: ``tkern.topk(x, 2)``. They always come sorted."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    dim = normalize_dim(-1 if dim is None else dim, input.dim())
    size = input.shape[dim] if input.dim() else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    values, indices = (wrap(a) for a in along_rows.sort(input._a, dim, bool(largest)))
    if input.dim():
        values, indices = values.narrow(dim, 0, k).contiguous(), indices.narrow(dim, 0, k).contiguous()
    return _into_pair(TopkResult(values, indices), out, TopkResult)
