"""Parameter: a Tensor that a Module registers as one of its learnable weights."""
from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that shares ``data``'s storage, requires grad by default, and registers itself when
    assigned as a Module attribute.

    >>> Parameter(tkern.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        self._a = (empty(0) if data is None else data)._a
        self.requires_grad = requires_grad

    def __repr__(self) -> str:  # type: ignore[override]  # (torch's takes no tensor_contents)
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return type(self), (self.data, self.requires_grad)
