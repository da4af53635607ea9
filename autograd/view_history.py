"""Autograd through views: the gradient of any strided view, and in-place writes through views.

A view records the geometry (shape, strides, storage offset) it reads. When a view is written in
place, the tensor that owns the memory (the base) has new values, so its history moves on to a
CopySlices node: outside the view the old base flows through, inside it the new value. Every live
view of the base is then re-derived from the base's new history as a strided view of it
(AsStridedBackward0), as torch does, so a later use of any of them sees the write.
"""
from __future__ import annotations

import functools

import numpy as np

from .grad_mode import is_grad_enabled, no_grad
from .graph import NamedNode, Node, edge_of
from .recording import differentiable


def geometry(tensor) -> tuple:
    """(shape, strides, storage offset) of a tensor, in elements."""
    a = tensor._a
    return a.shape, a.strides, a.offset


def _span(geometries) -> tuple:
    """(lowest, one past the highest) storage offset the geometries reach (an empty one reaches
    only its offset)."""
    lows, highs = [], []
    for shape, strides, offset in geometries:
        lows.append(offset)
        highs.append(offset if 0 in shape else offset + sum((n - 1) * st for n, st in zip(shape, strides)) + 1)
    return min(lows), max(highs)


def _may_overlap(shape, strides) -> bool:
    """False when no two elements can share memory: every stride, smallest first, steps past all the
    elements the smaller ones reach."""
    reach = 0
    for st, n in sorted((st, n) for n, st in zip(shape, strides) if n > 1):
        if st <= reach:
            return True
        reach += (n - 1) * st
    return False


def _element_offsets(shape, strides, offset) -> np.ndarray:
    """The storage offset of every element, in the geometry's shape."""
    offsets = np.full(shape, offset, dtype=np.int64)
    for d, (n, st) in enumerate(zip(shape, strides)):
        offsets += (np.arange(n, dtype=np.int64) * st).reshape([n if i == d else 1 for i in range(len(shape))])
    return offsets


def strided_gradient(grad, input_geometry: tuple, output_geometry: tuple):
    """The gradient of a strided view of an input (both given by their geometry over one storage),
    from the view's gradient: each memory location collects the gradients of the view's elements
    that read it, and hands them to the input's elements that hold it (shared evenly when several
    do). Written with tkern's ops, so it differentiates again under create_graph."""
    import tkern

    out_shape, out_strides, out_offset = output_geometry
    in_shape, in_strides, in_offset = input_geometry
    broadcast = [d for d, (n, st) in enumerate(zip(out_shape, out_strides)) if st == 0 and n > 1]
    if broadcast:
        # elements along a stride-0 dim all read one location: their gradients add up there
        grad = grad.sum(broadcast, keepdim=True)
        out_shape = tuple(grad.shape)
    low, high = _span((input_geometry, (out_shape, out_strides, out_offset)))
    memory = tkern.zeros(high - low, dtype=grad.dtype, device=grad.device)
    if _may_overlap(out_shape, out_strides):
        where = tkern.tensor(_element_offsets(out_shape, out_strides, out_offset - low).reshape(-1),
                             device=grad.device)
        memory = add_at(memory, where, grad.reshape(-1))
    elif 0 not in out_shape:
        memory.as_strided(out_shape, out_strides, out_offset - low).copy_(grad)
    result = memory.as_strided(in_shape, in_strides, in_offset - low)
    if _may_overlap(in_shape, in_strides):
        holders = _element_offsets(in_shape, in_strides, in_offset - low)
        counts = np.bincount(holders.reshape(-1), minlength=high - low)[holders]
        result = result / tkern.tensor(counts, dtype=grad.dtype, device=grad.device)
    return result


@differentiable("add_at")
def add_at(memory, where, values):
    """memory with ``values`` added at the flat positions ``where`` (repeats add up), out of place;
    the operation table's "add_at" (IndexPutBackward0)."""
    from tkern import ops
    from tkern.tensor import _index_array, wrap
    result = wrap(ops.clone(memory._a))
    ops.setitem(result._a, (where._a,), values.to(memory.dtype)._a, _index_array, accumulate=True)
    return result


class StridedView(NamedNode):
    """The node of a view known by its geometry: as_strided, and every view re-derived from its
    base after an in-place write."""

    def __init__(self, name: str, source, output):
        super().__init__((edge_of(source),))
        self.input_geometry = geometry(source)
        self.output_geometry = geometry(output)

    def backward(self, grads: list) -> tuple:
        grad = grads[0]
        if grad is None:
            return (None,)
        return (strided_gradient(grad, self.input_geometry, self.output_geometry),)

    def release(self) -> None:
        pass  # nothing saved: it may run again


class CopySlices(Node):
    """The base's history after an in-place write through one of its views: the old base outside
    the view, the written value inside it."""

    def __init__(self, base, view, value):
        super().__init__((edge_of(base), edge_of(value)))
        self.base_geometry = geometry(base)
        self.view_geometry = geometry(view)
        self.value_dtype = value.dtype

    def backward(self, grads: list) -> tuple:
        import tkern
        grad = grads[0]
        if grad is None:
            return (None, None)
        (shape, strides, offset), (view_shape, view_strides, view_offset) = self.base_geometry, self.view_geometry
        low, high = _span((self.base_geometry, self.view_geometry))
        # the gradient laid out like the base's memory, so the view's geometry finds its elements
        memory = tkern.zeros(high - low, dtype=grad.dtype, device=grad.device)
        grad_base = memory.as_strided(shape, strides, offset - low)
        grad_base.copy_(grad)
        inside = memory.as_strided(view_shape, view_strides, view_offset - low)
        grad_value = None
        if self.next_functions[1][0] is not None:
            grad_value = inside.clone()
            if grad_value.dtype != self.value_dtype:
                grad_value = grad_value.to(self.value_dtype)
        inside.zero_()
        return (grad_base if self.next_functions[0][0] is not None else None), grad_value

    def release(self) -> None:
        pass  # nothing saved: it may run again


def copy_slices(base, view, value) -> None:
    """``view`` (a view of ``base``) now holds ``value``: move base's history on, then re-derive its
    views from it."""
    node = CopySlices(base, view, value)
    base._requires_grad = True
    base.grad_fn = node
    base._output_nr = 0
    rederive_views(base)


def live_views(base) -> list:
    """The views of ``base`` still alive (tkern.tensor._view_of registers them)."""
    return [view for view in (ref() for ref in base.__dict__.get("_views", ())) if view is not None]


def rederive_views(base) -> None:
    """Every live view of ``base`` becomes a strided view of base's current history (not those made
    with grad mode off, nor views as another dtype, which have no history)."""
    if not base._requires_grad:
        return
    for view in live_views(base):
        if view._no_grad_view or view._a.dtype is not base._a.dtype:
            continue
        view._requires_grad = True
        if view._multi_output_view is None:
            view.grad_fn = StridedView("AsStridedBackward0", base, view)
        else:
            view.grad_fn = StaleView("AsStridedBackward0", base, view)
        view._output_nr = 0


class StaleView(StridedView):
    """A piece of split/chunk/unbind whose base was written in place: torch refuses to use it."""

    def __init__(self, name: str, source, output):
        super().__init__(name, source, output)
        self.piece = output._multi_output_view

    def backward(self, grads: list) -> tuple:
        raise RuntimeError(
            f"{self.piece} is a view and its base or another view of its base "
            "has been modified inplace. This view is the output of a function that returns multiple views. Such "
            "functions do not allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")


def take_retained_grad_hook(tensor):
    """Remove and return the retain_grad hook of a tensor about to be written in place: it moves to
    the tensor's new history (the gradient it keeps is the new value's, as in torch)."""
    node = tensor.grad_fn
    if node is None or not tensor.__dict__.get("_retains_grad") or not node._output_hooks:
        return None
    hooks = node._output_hooks.get(tensor._output_nr) or []
    for hook in hooks:
        if getattr(hook, "retains_grad", False):
            hooks.remove(hook)
            return hook
    return None


def record_strided_view(name: str):
    """Wrap a view method whose gradient follows from geometry alone (as_strided, diagonal)."""
    def wrap(fn):
        @functools.wraps(fn)
        def recorded(input, *args, **kwargs):
            if not (input._requires_grad and is_grad_enabled()):
                return fn(input, *args, **kwargs)
            with no_grad():
                result = fn(input, *args, **kwargs)
            result.__dict__.pop("_no_grad_view", None)  # (made with grad mode off here, but recorded)
            result._requires_grad = True
            result.grad_fn = StridedView(name, input, result)
            result._output_nr = 0
            return result
        return recorded
    return wrap
