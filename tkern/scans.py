"""The hand-written forwards of the scans, cumsum and cumprod (ops/along_rows.py runs them on rows),
with their in-place forms."""
from __future__ import annotations

from tkern.autograd.recording import differentiable
from tkern.ops import along_rows

from .math_ops import _result, cpp_type_name
from .tensor import Tensor, _written_in_place, wrap


@differentiable("cumsum")
def cumsum(input: Tensor, dim: int, *, dtype=None, out: Tensor | None = None) -> Tensor:
    """Running sums along dim (integers and bool give int64): ``tkern.cumsum(x, 0)``."""
    return _scan("sum", input, dim, dtype, out)


@differentiable("cumprod")
def cumprod(input: Tensor, dim: int, *, dtype=None, out: Tensor | None = None) -> Tensor:
    """Running products along dim (integers and bool give int64): ``tkern.cumprod(x, 0)``."""
    return _scan("prod", input, dim, dtype, out)


def _scan(op: str, input: Tensor, dim: int, dtype, out: Tensor | None) -> Tensor:
    if out is not None and isinstance(out, Tensor):
        # torch scans into out= in out's dtype, unless dtype= names another
        if dtype is not None and dtype is not out.dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {cpp_type_name(dtype)}, but got "
                               f"{cpp_type_name(out.dtype)} instead")
        dtype = out.dtype
    return _result(wrap(along_rows.scan(op, input._a, dim, dtype)), out)


def cumsum_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _written_in_place(self, lambda old: cumsum(old, dim, dtype=dtype))


def cumprod_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _written_in_place(self, lambda old: cumprod(old, dim, dtype=dtype))
