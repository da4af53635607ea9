"""tkern.linalg: vector and matrix norms, like torch.linalg (the norms whose forward is a reduction;
those that need a singular value decomposition are refused)."""
from __future__ import annotations

import math

from tkern.autograd import recording
from tkern.ops import TORCH_TYPE_NAMES

from . import dtypes
from .tensor import Tensor


def _check_floating(name: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{TORCH_TYPE_NAMES[x.dtype]}")


def _dims(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


@recording.differentiable("linalg.vector_norm")
def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ord-norm of x's elements (over ``dim``, else all of them): ``tkern.linalg.vector_norm(x)``;
    ord may be any real number, inf or -inf (0 counts the nonzero elements)."""
    _check_floating("vector_norm", x)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if dtype is not None:
        if dtypes.promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({TORCH_TYPE_NAMES[x.dtype]}) should be "
                               f"convertible without narrowing to the specified dtype ({TORCH_TYPE_NAMES[dtype]})")
        x = x.to(dtype)
    dim = _dims(dim)
    magnitude = x.abs()
    if ord == math.inf:
        return magnitude.amax(dim if dim is not None else (), keepdim=keepdim)
    if ord == -math.inf:
        return magnitude.amin(dim if dim is not None else (), keepdim=keepdim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim)
    if ord == 1:
        return magnitude.sum(dim, keepdim)
    if ord == 2:
        return (x * x).sum(dim, keepdim).sqrt()
    return magnitude.pow(ord).sum(dim, keepdim).pow(1.0 / ord)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ord-norm of the matrices over the two ``dim`` of A: 'fro', 1 and -1 (largest and smallest
    column sum of magnitudes), inf and -inf (row sums): ``tkern.linalg.matrix_norm(A)``."""
    _check_floating("matrix_norm", A)
    if dtype is not None:
        A = A.to(dtype)
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    rows, columns = (d % A.dim() for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, columns), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, kept = (rows, columns) if ord in (1, -1) else (columns, rows)
        if not keepdim and kept > summed:
            kept -= 1  # (the summed dim is gone)
        sums = A.abs().sum(summed, keepdim=keepdim)
        return sums.amax(kept, keepdim=keepdim) if ord > 0 else sums.amin(kept, keepdim=keepdim)
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs a singular value decomposition, which tkern "
                              "does not have yet ('fro', 1, -1, inf and -inf are supported)")
