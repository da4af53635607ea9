"""torch.autograd.Variable, the wrapper tensors outgrew: kept because tutorials still call it.
``Variable(t, requires_grad=True)`` is a new tensor sharing t's memory, outside t's history."""
from __future__ import annotations


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        from tkern.tensor import Tensor
        return isinstance(instance, Tensor)  # (as in torch: every tensor is a Variable)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: returns a Tensor, as torch's does."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from tkern.creation import empty
        from tkern.tensor import Tensor
        if data is None:
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        result = data.detach()
        result.requires_grad = requires_grad
        return result
