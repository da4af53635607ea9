"""The backward pass: an iterative walk of the recorded graph in dependency order.

``backward`` adds gradients into the ``.grad`` of leaves; ``grad`` returns the gradients of chosen
inputs and leaves ``.grad`` alone. A node runs once every path into it has delivered its gradient;
no recursion, so graphs of any depth work.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from .grad_mode import _set as _set_grad_enabled
from .grad_mode import is_grad_enabled, no_grad
from .graph import _FREED, AccumulateGrad, Node, _run_hooks, edge_of


def _dependencies(roots: list) -> dict:
    """node -> number of edges arriving at it from the part of the graph above it."""
    counts: dict = {}
    is_root = set(roots)
    stack = list(roots)
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is None:
                continue
            count = counts.get(child)
            if count is None:
                counts[child] = 1
                if child not in is_root:
                    stack.append(child)
            else:
                counts[child] = count + 1
    return counts


def _leading_to(roots: list, targets: dict) -> set:
    """The nodes from which some target can be reached: autograd.grad runs only those, so the rest
    of the graph keeps its saved tensors."""
    needed = set(targets)
    order, seen, stack = [], set(), [(n, False) for n in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((child, False) for child, _ in node.next_functions if child is not None and child not in seen)
    for node in order:  # children come before their parents here
        if any(child in needed for child, _ in node.next_functions if child is not None):
            needed.add(node)
    return needed


def _accumulate(buffer: list, index: int, grad) -> None:
    if grad is None:
        return
    previous = buffer[index]
    buffer[index] = grad if previous is None else previous + grad


# sys.getrefcount of a gradient nothing else holds, as _into_leaf sees it from the walk: the walk's
# list of the node's gradients, _into_leaf's argument, getrefcount's own argument
_UNSHARED = 3


def _into_leaf(leaf, grad, create_graph: bool, from_walk: bool = False) -> None:
    """leaf.grad += grad, like torch: the first gradient is stored as a tensor of its own. Like
    torch's AccumulateGrad, a gradient the walk made and nothing else holds (not the caller's, not
    also on its way to another leaf, not a view) is taken as it is rather than copied."""
    a, target = grad._a, leaf._a
    if a.dtype is not target.dtype or a.device != target.device:
        grad = grad.to(dtype=target.dtype, device=target.device)
    existing = leaf.__dict__.get("_grad")
    if existing is None:
        if a.shape != target.shape:
            leaf.grad = grad  # (the setter raises torch's error)
        if create_graph:
            grad = grad.clone()
        elif not (from_walk and sys.getrefcount(grad) <= _UNSHARED and grad._base is None and not grad._requires_grad
                  and "_views" not in grad.__dict__):
            grad = grad.detach().clone()
        leaf.__dict__["_grad"] = grad
    elif create_graph:
        leaf.grad = existing + grad
    elif is_grad_enabled():
        with no_grad():
            existing += grad
    else:
        existing += grad


def run(outputs: list, grad_outputs: list, retain_graph: bool, create_graph: bool,
        inputs: list | None = None) -> list:
    """Propagate ``grad_outputs`` back from ``outputs``. With ``inputs`` the gradients reaching them
    are returned instead of being added into leaves."""
    roots: list = []
    buffers: dict = {}
    for tensor, grad in zip(outputs, grad_outputs):
        node, nr = edge_of(tensor)
        if node is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if node not in buffers:
            buffers[node] = [None] * node.num_outputs
            roots.append(node)
        _accumulate(buffers[node], nr, grad)
    captured: list = []  # (empty without inputs)
    targets: dict = {}
    if inputs is not None:
        captured = [None] * len(inputs)
        for i, tensor in enumerate(inputs):
            node, nr = edge_of(tensor)
            if node is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(node, []).append((i, nr))
    counts = _dependencies(roots)
    needed = _leading_to(roots, targets) if inputs is not None else None
    ready = [n for n in roots if counts.get(n, 0) == 0]
    previous_mode = is_grad_enabled()
    _set_grad_enabled(create_graph)  # (a context manager object costs ~1 us)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            leaf = type(node) is AccumulateGrad
            if leaf:
                if grads[0] is not None:
                    grads[0] = _run_hooks(node.variable.__dict__.get("_leaf_hooks"), grads[0])
            elif node._output_hooks:
                grads = node.run_output_hooks(grads)
            if targets and node in targets:
                for i, nr in targets[node]:
                    captured[i] = grads[nr]
            if leaf:
                if inputs is None and grads[0] is not None:
                    _into_leaf(node.variable, grads[0], create_graph, from_walk=True)
                continue
            edges = node.next_functions
            if (grads[0] is None if len(grads) == 1 else all(g is None for g in grads)) or \
                    needed is not None and node not in needed:
                results: Sequence = (None,) * len(edges)
            else:
                if node._released:
                    raise RuntimeError(_FREED)
                results = node.backward(grads)
                if not retain_graph:
                    node.release()
            for (child, nr), grad in zip(edges, results):
                if child is None:
                    continue
                buffer = buffers.get(child)
                if buffer is None:
                    buffer = buffers[child] = [None] * child.num_outputs
                if grad is not None:  # (_accumulate, inlined: one call per edge is a tenth of this loop)
                    previous = buffer[nr]
                    buffer[nr] = grad if previous is None else previous + grad
                count = counts[child] - 1
                counts[child] = count
                if count == 0:
                    ready.append(child)
            results, grad = (), None  # (a reference kept here would stop AccumulateGrad taking a gradient over)
    finally:
        _set_grad_enabled(previous_mode)
    return captured


def _make_grads(outputs: list, grad_outputs) -> list:
    from tkern.ops import empty
    from tkern.ops.backend import backend_for
    from tkern.tensor import Tensor, wrap
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    elif not isinstance(grad_outputs, (list, tuple)):
        raise TypeError(f"gradient must be a Tensor or a sequence of Tensors, got {type(grad_outputs).__name__}")
    elif len(grad_outputs) and not isinstance(grad_outputs[0], (Tensor, type(None))) and len(outputs) == 1:
        raise TypeError(f"gradient must be a Tensor, not {type(grad_outputs).__name__}")
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"Mismatch in number of tensors: got {len(outputs)} tensors and {len(grad_outputs)} "
                           "gradients")
    grads = []
    for index, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if grad is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            # (ones_like's argument checks cost more than the fill)
            a = out._a
            grad = wrap(empty(a.shape, a.dtype, a.device))
            backend_for(a.device).fill(grad._a, 1)
        elif tuple(grad.shape) != tuple(out.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {grad.shape} and output[0] has a shape of "
                f"{out.shape}.")
        elif grad._a.device != out._a.device:
            if grad.ndim:
                raise RuntimeError(
                    f"invalid gradient at index {index} - expected device {out.device} but got {grad.device}")
            grad = grad.to(out.device)  # torch moves a 0-d gradient to its output's device
        grads.append(grad)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Add the gradients of ``tensors`` into the ``.grad`` of the leaves they depend on:
    ``tkern.autograd.backward(loss)`` is ``loss.backward()``."""
    from tkern.tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        captured = run(tensors, grads, retain_graph, create_graph, inputs)
        for leaf, grad in zip(inputs, captured):
            if grad is not None:
                _into_leaf(leaf, grad, create_graph)
        return
    run(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, ``.grad`` untouched:
    ``(gx,) = tkern.autograd.grad(y.sum(), x)``."""
    from tkern.tensor import Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    captured = run(outputs, grads, retain_graph, create_graph, inputs)
    if not allow_unused:
        for i, g in enumerate(captured):
            if g is None:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
    return tuple(captured)


__all__ = ["Node", "backward", "grad"]
