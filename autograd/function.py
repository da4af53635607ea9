"""Recording an operation: ``tkern.autograd.Function`` for user code, and the same machinery for
tkern's own differentiable operations (autograd/recording.py, autograd/formulas.py).

``Function.apply`` runs ``forward`` with gradients off, then, if any input requires grad, makes
the outputs depend on a node whose ``backward`` is the class's. The node is the ``ctx`` the user
saw in forward, as in torch.
"""
from __future__ import annotations

from typing import cast

from .grad_mode import is_grad_enabled, no_grad
from .graph import Node, SavedTensor, edge_of


def _tensor_type():
    from tkern.tensor import Tensor
    return Tensor


def attach(outputs: tuple, node: Node, differentiable: list | None = None) -> None:
    """Make each of ``outputs`` (tensors; None skipped) output i of ``node``."""
    for i, out in enumerate(outputs):
        if out is None or differentiable is not None and not differentiable[i]:
            continue
        out._requires_grad = True
        out.grad_fn = node
        out._output_nr = i


class BackwardCFunction(Node):
    """The node of a custom Function, and the ``ctx`` its forward and backward receive."""

    _forward_cls: type[Function] | None = None  # the Function this node class belongs to (set by _FunctionMeta)
    _output_meta: list  # (shape, dtype, device) of each output, None for a non-tensor (set by Function.apply)

    def __init__(self, next_functions: tuple):
        super().__init__(next_functions)
        self.needs_input_grad: tuple = ()
        self._to_save: tuple = ()
        self._saved: list | None = None
        self._dirty: tuple = ()
        self._non_differentiable: tuple = ()
        self.materialize_grads = True
        self._input_meta: list = []
        self.num_outputs = 1

    # ----- ctx API used in forward -----
    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            from .graph import _FREED
            raise RuntimeError(_FREED)
        if self._saved is None:
            return tuple(self._to_save)
        return tuple(None if s is None else s.unpack(self, self._create_graph) for s in self._saved)

    _create_graph = False

    def backward(self, grads: list) -> tuple:
        from tkern.creation import zeros
        if self.materialize_grads:
            grads = [zeros(meta[0], dtype=meta[1], device=meta[2]) if g is None and meta is not None else g
                     for g, meta in zip(grads, self._output_meta)]
        self._create_graph = is_grad_enabled()
        result = cast("type[Function]", self._forward_cls).backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self.next_functions)
        if len(result) != expected and not (len(result) > expected and all(r is None for r in result[expected:])):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(result)})")
        return tuple(result[:expected])

    def release(self) -> None:
        if self._saved:
            super().release()
            self._saved = None


class _FunctionMeta(type):
    """Gives every Function subclass its own node class, named like torch's (``MyFnBackward``)."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` static methods; call
    ``MyFn.apply(x)``:

        class Square(tkern.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensor_type()
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        record = is_grad_enabled() and any(a._requires_grad for a in tensor_args)
        edges = tuple(edge_of(a) if isinstance(a, Tensor) else (None, 0) for a in args) if record else ()
        ctx = cls._backward_cls(edges)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not record:
            return outputs
        dirty = ctx._dirty
        for t in dirty:
            t._check_inplace()
        non_differentiable = ctx._non_differentiable
        tensor_outs = tuple(o if isinstance(o, Tensor) else None for o in outs)
        # an input returned as it is (and not modified in place) becomes a new tensor sharing its data
        tensor_outs = tuple(o if o is None or not _among(o, args) or _among(o, dirty) else _alias(o)
                            for o in tensor_outs)
        ctx.num_outputs = len(outs)
        ctx._output_meta = [(tuple(o.shape), o.dtype, o.device) if o is not None else None for o in tensor_outs]
        differentiable = [o is not None and o.dtype.is_floating_point and not _among(o, non_differentiable)
                          for o in tensor_outs]
        attach(tensor_outs, ctx, differentiable)
        ctx._saved = [_save(t, ctx, tensor_outs) for t in ctx._to_save]
        ctx._to_save = ctx._dirty = ctx._non_differentiable = ()  # (they may be outputs: no cycles)
        if single:
            return tensor_outs[0]
        return tuple(t if t is not None else o for t, o in zip(tensor_outs, outs))


def _among(tensor, tensors) -> bool:
    return any(tensor is t for t in tensors)


def _alias(tensor):
    from tkern.tensor import wrap
    return wrap(tensor._a)


def _save(tensor, node: Node, outputs: tuple):
    if tensor is None:
        return None
    for i, out in enumerate(outputs):
        if out is tensor:
            return SavedTensor(tensor, node, i)
    return SavedTensor(tensor)


class FunctionCtx:
    """Stand-in for torch.autograd.function.FunctionCtx (the type of ``ctx``)."""


__all__ = ["Function", "FunctionCtx", "attach"]
