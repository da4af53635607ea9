"""The graph autograd records: nodes (a tensor's ``grad_fn``), their edges, and saved tensors.

A node knows the edges to the nodes that produced its inputs (``next_functions``) and how to turn
the gradients of its outputs into gradients of its inputs. A leaf that requires grad ends in an
AccumulateGrad node, which adds what reaches it into the leaf's ``.grad``. Nothing points from a
node to the tensor it produced, so a graph lives exactly as long as the tensors that hold it, and
reference counting alone frees it.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TypeVar

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
          "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")


class RemovableHandle:
    """What register_hook returns: ``handle.remove()`` takes the hook out again."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Node:
    """A recorded operation. ``next_functions`` holds one (node, output number) edge per input
    (``(None, 0)`` for an input that needs no gradient)."""

    num_outputs = 1

    def __init__(self, next_functions: tuple):
        self.next_functions = next_functions
        self._output_hooks: dict | None = None  # output number -> hooks of the tensor it produced
        self._released = False

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def backward(self, grads: list) -> Sequence:
        """Gradients of the inputs, one per edge, from those of the outputs (None: zero)."""
        raise NotImplementedError

    def release(self) -> None:
        """Drop what backward needs: the graph was walked without retain_graph. A node that saved
        nothing can run again (torch lets `(x + 1).sum()` backward twice)."""
        self._released = True

    def run_output_hooks(self, grads: list) -> list:
        """The hooks registered on the tensors this node produced, retain_grad's last (as in torch)."""
        hooks = self._output_hooks
        assert hooks is not None  # (the engine calls it for a node with hooks only)
        return [_run_hooks(hooks.get(i), g) for i, g in enumerate(grads)]

    def output_hooks(self, output_nr: int) -> list:
        if self._output_hooks is None:
            self._output_hooks = {}
        return self._output_hooks.setdefault(output_nr, [])


def _run_hooks(hooks: list | None, grad):
    if hooks and grad is not None:
        # retain_grad's hook sees the gradient the others leave, as in torch
        for hook in sorted(hooks, key=lambda h: getattr(h, "retains_grad", False)):
            replaced = hook(grad)
            if replaced is not None:
                grad = replaced
    return grad


_NAMED_CLASSES: dict = {}
_N = TypeVar("_N")


def named_subclass(cls: type[_N], name: str) -> type[_N]:
    """A subclass of ``cls`` called ``name``: a node's type carries torch's node name, as in torch
    (``type(y.grad_fn).__name__ == "MulBackward0"``)."""
    sub = _NAMED_CLASSES.get((cls, name))
    if sub is None:
        sub = _NAMED_CLASSES[(cls, name)] = type(name, (cls,), {"__module__": cls.__module__})
    return sub


class NamedNode(Node):
    """A node whose first constructor argument is its name: it is made as an instance of a
    subclass of that name."""

    def __new__(cls, name: str, *args, **kwargs):
        return object.__new__(named_subclass(cls, name))


class AccumulateGrad(Node):
    """The end of every path into a leaf: adds the gradient that arrives into ``leaf.grad``."""

    def __init__(self, leaf):
        super().__init__(())
        self.variable = leaf

    def backward(self, grads: list) -> tuple:
        return ()

    def release(self) -> None:
        # nothing saved: a leaf may be reached by any number of backward passes
        pass


def accumulator(leaf) -> AccumulateGrad:
    """The one AccumulateGrad of a leaf (kept weakly by the leaf, strongly by the graph)."""
    ref = leaf.__dict__.get("_accumulator")
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)
    return node


def edge_of(tensor) -> tuple:
    """The (node, output number) a gradient for ``tensor`` flows into; (None, 0) if it needs none."""
    if not getattr(tensor, "_requires_grad", False):
        return (None, 0)
    node = tensor.grad_fn
    if node is None:
        return (accumulator(tensor), 0)
    return (node, tensor._output_nr)


class SavedTensor:
    """A tensor kept for backward, with the version it had: an in-place write in between makes
    backward fail like torch instead of using the wrong values. An op's own output is kept as its
    data only (a Tensor pointing back at the node would be a reference cycle) and made a Tensor
    again when unpacked."""

    __slots__ = ("tensor", "array", "version", "output_nr")

    def __init__(self, tensor, node: Node | None = None, output_nr: int = 0):
        """``node``: the node ``tensor`` is an output of (its data is kept, not the tensor)."""
        self.version = tensor._version
        self.output_nr = output_nr
        if node is None:
            self.tensor, self.array = tensor, None
        else:
            self.tensor, self.array = None, tensor._a

    def unpack(self, owner: Node, create_graph: bool):
        if self.tensor is not None:
            tensor = self.tensor
        else:
            tensor = _wrap(self.array)
            if create_graph:
                # the output again, as part of the graph: a second derivative goes through this node
                tensor._requires_grad = True
                tensor.grad_fn = owner
                tensor._output_nr = self.output_nr
        if tensor._version != self.version:
            raise RuntimeError(_modified_message(tensor, owner, self))
        return tensor


def _wrap(array):
    global _wrap
    from tkern.tensor import wrap as _wrap  # (tkern.tensor imports this module: bound on first use)
    return _wrap(array)


def _modified_message(tensor, owner: Node, saved: SavedTensor) -> str:
    from tkern.ops.allocation import TORCH_TYPE_NAMES
    kind = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
            "bfloat16": "BFloat16Tensor"}.get(tensor.dtype.name, TORCH_TYPE_NAMES[tensor.dtype])
    prefix = "tkern.cuda." if tensor.device.type == "cuda" else "tkern."
    where = f", which is output {saved.output_nr} of {owner.name()}," if saved.tensor is None else ""
    return (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{prefix}{kind} {list(tensor.shape)}]{where} is at version {tensor._version}; expected version "
            f"{saved.version} instead. Hint: the backtrace further above shows the operation that failed to "
            f"compute its gradient. The variable in question was changed in there or anywhere later. Good luck!")
