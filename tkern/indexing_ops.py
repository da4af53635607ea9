"""The hand-written forwards of indexing along a dim: gather, scatter, scatter_add (with their
in-place forms), index_select and masked_select. The table (tkern/operations.py) declares each with
its gradient; the semantics are ops/gathering.py's."""
from __future__ import annotations

from tkern.autograd.grad_mode import is_grad_enabled
from tkern.autograd.recording import differentiable
from tkern.ops import gathering

from .math_ops import _result
from .tensor import Tensor, _written_in_place, wrap


def _check_tensor(name: str, argument: str, position: int, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


@differentiable("gather")
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """out[i][j] = input[index[i][j]][j] for dim 0 (and so on): ``tkern.gather(x, 1, idx)``."""
    _check_tensor("gather", "index", 3, index)
    if sparse_grad:
        raise NotImplementedError("gather(): sparse_grad=True makes a sparse gradient; tkern has no sparse tensors")
    return _result(wrap(gathering.gather(input._a, dim, index._a)), out)


def _scattered(name: str, input: Tensor, dim: int, index: Tensor, src, value, reduce, target=None) -> Tensor:
    """input with src (a tensor) or value (a number) written, or added, at index along dim: into
    ``target``'s Array when given, else into a copy."""
    _check_tensor(name, "index", 3, index)
    if src is None and value is None:
        raise TypeError(f"{name}() missing required argument 'src' or 'value'")
    source = src if src is not None else value
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if reduce == "multiply":
        raise NotImplementedError("scatter(): reduce='multiply' is not implemented in tkern (reduce='add' is)")
    if isinstance(source, Tensor):
        source = source._a
    elif not isinstance(source, (int, float, bool)):
        raise TypeError(f"{name}(): argument 'src' must be Tensor or a number, not {type(source).__name__}")
    return wrap(gathering.scatter(input._a, dim, index._a, source, reduce == "add", name,
                                  None if target is None else target._a))


@differentiable("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None,
            out: Tensor | None = None) -> Tensor:
    """A copy of input with src's values (or the number value) at index along dim:
    ``tkern.zeros(3).scatter(0, tkern.tensor([2]), 1.0)``. reduce='add' adds them instead."""
    return _result(_scattered("scatter", input, dim, index, src, value, reduce), out)


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    if _needs_graph(self, src):
        return _written_in_place(self, lambda old: scatter(old, dim, index, src, value=value, reduce=reduce), src)
    self._check_inplace()
    _scattered("scatter_", self, dim, index, src, value, reduce, target=self)
    return self


@differentiable("scatter_add")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of input with src's values added at index along dim, repeated indices adding up."""
    _check_tensor("scatter_add", "src", 4, src)
    return _result(_scattered("scatter_add", input, dim, index, src, None, "add"), out)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    _check_tensor("scatter_add_", "src", 3, src)
    if not _needs_graph(self, src):
        self._check_inplace()
        _scattered("scatter_add_", self, dim, index, src, None, "add", target=self)
        return self
    return _written_in_place(self, lambda old: scatter_add(old, dim, index, src), src)


def _needs_graph(self: Tensor, src) -> bool:
    return is_grad_enabled() and (self._requires_grad or isinstance(src, Tensor) and src._requires_grad)


@differentiable("index_select")
def index_select(input: Tensor, dim: int, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input's slices at the positions of the vector index along dim: ``x.index_select(0, idx)``."""
    _check_tensor("index_select", "index", 3, index)
    return _result(wrap(gathering.index_select(input._a, dim, index._a)), out)


@differentiable("masked_select")
def masked_select(input: Tensor, mask: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The 1-d tensor of input's elements where the bool mask (broadcast with input) is True."""
    _check_tensor("masked_select", "mask", 2, mask)
    return _result(wrap(gathering.masked_select(input._a, mask._a)), out)
