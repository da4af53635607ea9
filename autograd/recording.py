"""Recording tkern's differentiable operations: the node of a call (OpNode), the wrapper that
records one (``record``, from an entry of the operation table) and the recorders with shapes of
their own (max/min with indices, split's pieces, in-place writes through setitem and index_put_, the
fused polynomial loss). ``differentiable(name)`` makes a hand-written forward the differentiable
operation the table declares under ``name``.

A recorded call records a node only when grad mode is on and a tensor argument requires grad;
otherwise it is the plain op. The generated front end (tkern/front_end.py) tests requires_grad
itself before coming here.
"""
from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, cast

from tkern.operations import OPERATIONS, Operation
from tkern.ops import TORCH_TYPE_NAMES
from tkern.tensor import Tensor as _Tensor

from .formulas import _basic_key, _copy_slices, _index_put, _is_tensor, _narrow, _select
from .function import attach
from .grad_mode import _set as _set_grad_enabled
from .grad_mode import is_grad_enabled, no_grad
from .graph import NamedNode, SavedTensor, edge_of, named_subclass


class OpNode(NamedNode):
    """The node of one of tkern's own operations; ``formula(ctx, grad)`` gives one gradient per
    positional argument of the call (None for non-tensors and tensors that need none)."""

    def __init__(self, name: str, edges: tuple, formula, args: tuple, kwargs: dict, saved: dict, meta: dict,
                 positions: list):
        super().__init__(edges)
        self._formula = formula
        self.args = args
        self.kwargs = kwargs
        self._saved = saved
        self.meta = meta
        self._positions = positions  # (argument index, list index or None) of each tensor input, edge order
        # argument index -> whether that tensor argument wants a gradient
        self._needs = {arg: node is not None for (arg, item), (node, _) in zip(positions, edges) if item is None}
        self.create_graph = False

    def input(self, i: int):
        """Tensor argument i as it was at the call (saved), or its non-tensor value."""
        saved = self._saved.get(i)
        if saved is not None:
            return saved.unpack(self, self.create_graph)
        return self.args[i]

    def output(self):
        return self._saved["out"].unpack(self, self.create_graph)

    def argument(self, i: int, name: str, default=None):
        """The call's argument ``i``, passed by position or as ``name=``, else ``default``."""
        return self.args[i] if len(self.args) > i else self.kwargs.get(name, default)

    def backward(self, grads: list) -> list:
        self.create_graph = is_grad_enabled()
        by_argument = self._formula(self, grads[0])
        given = len(by_argument)
        meta = self.meta
        result = []
        for position, (node, _) in zip(self._positions, self.next_functions):
            arg, item = position
            grad = by_argument[arg] if node is not None and arg < given else None
            if grad is not None:
                if item is not None:
                    grad = grad[item]
                _, dtype, device = meta[position]
                a = grad._a
                if a.dtype is not dtype or a.device is not device and a.device != device:
                    grad = grad.to(dtype=dtype, device=device)  # a gradient has its input's dtype
            result.append(grad)
        return result

    def release(self) -> None:
        if self._saved:
            self._released = True  # (Node.release, without the cost of super() on every node)
            self._saved = {}


def _any_requires_grad(a) -> bool:
    if isinstance(a, _Tensor):
        return a._requires_grad
    return any(isinstance(t, _Tensor) and t._requires_grad for t in a)


def _get(args: tuple, position: tuple):
    arg, item = position
    return args[arg] if item is None else args[arg][item]


_POSITIONS: tuple[tuple[int, int | None], ...] = tuple((i, None) for i in range(16))
_new_object = object.__new__


def node_maker(op: Operation):
    """``attach(output, args, kwargs)``: make ``output`` (just computed from the call's ``args``)
    the output of a new OpNode of ``op``: its node name (or the rule for it), its formula, and the
    arguments the formula reads (``op.saves``), which are kept and version-checked; an entry (i, j)
    keeps argument i only when argument j requires grad. Tensors in a list passed first (cat, stack)
    are inputs too. Written for speed: every recorded call of tkern goes through it."""
    name_of = op.node if callable(op.node) else None
    # (an operation recorded has a node: its name, or the rule that names it)
    fixed_class = None if name_of else named_subclass(OpNode, cast(str, op.node))
    formula = op.formula
    saves_output = "out" in op.saves
    keeps = tuple(entry if isinstance(entry, tuple) else (entry, None) for entry in op.saves if entry != "out")

    def attach(output, args: tuple, kwargs: dict) -> None:
        positions, edges, meta, stripped, needs = [], [], {}, [], {}
        for i, t in enumerate(args):
            if isinstance(t, _Tensor):
                position = _POSITIONS[i]
                positions.append(position)
                edge = edge_of(t)
                edges.append(edge)
                needs[i] = edge[0] is not None
                a = t._a
                meta[position] = (a.shape, a.dtype, a.device)
                t = None  # (a tensor the formula reads is kept by the node's SavedTensor)
            elif i == 0 and isinstance(t, (list, tuple)):
                pieces = []
                for j, piece in enumerate(t):
                    if isinstance(piece, _Tensor):
                        positions.append((0, j))
                        edges.append(edge_of(piece))
                        a = piece._a
                        meta[(0, j)] = (a.shape, a.dtype, a.device)
                        piece = None
                    pieces.append(piece)
                t = pieces
            stripped.append(t)
        saved = {}
        n = len(args)
        for i, j in keeps:
            if i < n and isinstance(args[i], _Tensor) and (
                    j is None or j < n and isinstance(args[j], _Tensor) and args[j]._requires_grad):
                saved[i] = SavedTensor(args[i])
        # (fixed_class None: name_of is the node's naming rule)
        node_class = fixed_class or named_subclass(OpNode, cast(Callable[..., str], name_of)(args, kwargs))
        _attach_node(output, node_class, tuple(edges), formula, tuple(stripped), kwargs, saved, meta, positions, needs,
                     saves_output)
    return attach


def _attach_node(output, node_class: type[OpNode], edges: tuple, formula, args: tuple, kwargs: dict, saved: dict,
                 meta: dict, positions, needs: dict, saves_output: bool) -> None:
    """A new OpNode (of ``node_class``, a subclass named like torch's node) with ``output`` as its
    output, kept in ``saved`` when the formula reads it."""
    node: OpNode = _new_object(node_class)
    # (one dict literal: ~0.2 us less than ten attribute writes)
    node.__dict__ = {"next_functions": edges, "_output_hooks": None, "_released": False, "_formula": formula,
                     "args": args, "kwargs": kwargs, "_saved": saved, "meta": meta, "_positions": positions,
                     "_needs": needs, "create_graph": False}
    output._requires_grad = True
    output.grad_fn = node
    output._output_nr = 0
    if saves_output:
        saved["out"] = SavedTensor(output, node, 0)


_FIRST, _SECOND = _POSITIONS[0], _POSITIONS[1]
_BOTH = (_FIRST, _SECOND)


def pair_node_maker(op: Operation):
    """``attach(output, a, b)``: node_maker's attach for a binary elementwise operation on ``a`` and
    ``b`` (either may be a number), written out for two operands: ~0.8 us less a call, which is a
    seventh of the recording of ``b * x`` and so of the sin fit's recorded forward."""
    name_of = op.node if callable(op.node) else None
    # (an operation recorded has a node: its name, or the rule that names it)
    fixed_class = None if name_of else named_subclass(OpNode, cast(str, op.node))
    formula = op.formula
    saves_output = "out" in op.saves
    keeps = tuple(entry if isinstance(entry, tuple) else (entry, None) for entry in op.saves if entry != "out")

    def attach(output, a, b) -> None:
        edges: tuple[tuple[Any, int], ...]
        positions: tuple[tuple[int, int | None], ...]
        if isinstance(a, _Tensor):
            edge_a, array_a = edge_of(a), a._a
            if isinstance(b, _Tensor):
                edge_b, array_b = edge_of(b), b._a
                edges, positions, stripped = (edge_a, edge_b), _BOTH, (None, None)
                meta = {_FIRST: (array_a.shape, array_a.dtype, array_a.device),
                        _SECOND: (array_b.shape, array_b.dtype, array_b.device)}
                needs = {0: edge_a[0] is not None, 1: edge_b[0] is not None}
            else:
                edges, positions, stripped = (edge_a,), (_FIRST,), (None, b)
                meta = {_FIRST: (array_a.shape, array_a.dtype, array_a.device)}
                needs = {0: edge_a[0] is not None}
        else:
            edge_b, array_b = edge_of(b), b._a
            edges, positions, stripped = (edge_b,), (_SECOND,), (a, None)
            meta = {_SECOND: (array_b.shape, array_b.dtype, array_b.device)}
            needs = {1: edge_b[0] is not None}
        args = (a, b)
        saved = {}
        for i, j in keeps:
            kept = args[i]
            if isinstance(kept, _Tensor) and (j is None or isinstance(args[j], _Tensor) and args[j]._requires_grad):
                saved[i] = SavedTensor(kept)
        node_class = fixed_class or named_subclass(OpNode, cast(Callable[..., str], name_of)(args, {}))
        _attach_node(output, node_class, edges, formula, stripped, {}, saved, meta, positions, needs, saves_output)
    return attach


def record(op: Operation):
    """Wrap ``fn`` so that a call with gradients needed runs it with grad mode off and records an
    OpNode of ``op`` (node_maker) for its result."""
    def decorate(fn):
        call = recording_call(op, fn)

        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            if not is_grad_enabled():
                # (checked first: formulas run their ops with grad mode off when no graph is made)
                return fn(*args, **kwargs)
            for a in args:
                if type(a) is _Tensor:
                    if a._requires_grad:
                        break
                elif isinstance(a, (_Tensor, list, tuple)) and _any_requires_grad(a):
                    break
            else:
                return fn(*args, **kwargs)
            return call(*args, **kwargs)
        return recorded
    return decorate


def recording_call(op: Operation, fn):
    """``fn`` called where a graph is needed (grad mode on, a tensor argument requires grad): run
    with grad mode off, its result recorded as an OpNode of ``op`` (node_maker)."""
    attach = node_maker(op)
    is_view = op.kind == "view"
    may_return_input = op.kind == "copy"
    checks_result_dtype = op.any_result_dtype
    # (a function without out= must refuse one as Python does, with its TypeError)
    takes_out = _takes_out(fn)

    def call(*args, **kwargs):
        if takes_out and kwargs.get("out") is not None:
            raise RuntimeError(f"{fn.__name__}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        _set_grad_enabled(False)  # (the no_grad context manager costs ~1 us a call)
        try:
            result = fn(*args, **kwargs)
        finally:
            _set_grad_enabled(True)
        output = result[0] if isinstance(result, tuple) else result
        if is_view:
            output.__dict__.pop("_no_grad_view", None)  # (made with grad mode off here, but recorded)
            if output._a.dtype is not args[0]._a.dtype:
                return result  # x.view(dtype): no gradient, as in torch
        if not output._a.dtype.is_floating_point:
            if checks_result_dtype:
                # torch records these whatever dtype= asks for, and its autograd then refuses the dtype
                raise RuntimeError(f"Autograd not support dtype: {TORCH_TYPE_NAMES[output._a.dtype]}")
            return result  # not differentiable
        if may_return_input and any(output is t for t in args):
            return result  # an input handed back as it is (x.to(its own dtype))
        attach(output, args, kwargs)
        return result
    return call


def differentiable(name: str, tests_grad_itself: bool = False):
    """Decorator: ``fn``, the hand-written forward of the operation the table declares as ``name``,
    made differentiable as the table says it is recorded. With ``tests_grad_itself`` ``fn`` is
    returned as it is, its recorded call put at ``fn.recorded``: the hottest operations (sum, pow:
    every step of the seed's loop) test requires_grad in their own first lines and go there, sparing
    a call of a front."""
    op = OPERATIONS[name]

    def decorate(fn):
        if tests_grad_itself:
            fn.recorded = recording_call(op, fn)
            return fn
        if op.recorder == "extremum":
            return _extremum(op, fn)
        if op.recorder == "pieces":
            return _pieces(op, fn)
        if op.recorder == "strided view":
            from .view_history import record_strided_view  # (it imports this module)
            return record_strided_view(op.node)(fn)
        if op.recorder == "fused loss":
            return _record_poly_mse_loss(op, fn)
        if op.kind == "join":
            return record(op)(fn)
        return _inline_front(fn, recording_call(op, fn), op.kind in _ONE_TENSOR_KINDS)
    return decorate


# kinds whose operations take one tensor, the first argument (its other arguments are options)
_ONE_TENSOR_KINDS = frozenset(("reduction", "view", "copy"))


def _inline_front(fn, recorded, one_tensor: bool):
    """``fn`` with the requires-grad test written into a function of its own signature, going to
    ``recorded`` when a graph is needed: a call needing none costs one plain call more, not the
    recording wrapper's generic walk over its arguments (~0.7 us on x.sum()). Any positional argument may be a tensor, unless
    ``one_tensor`` says only the first is; the front hands them all on by position, as record
    follows positional tensors (clamp's min= and max=)."""
    signature = inspect.signature(fn)
    parameters = list(signature.parameters.values())
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    passed = []
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            passed.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            passed.append("**" + p.name)
        elif p.kind is p.KEYWORD_ONLY:
            passed.append(f"{p.name}={p.name}")
        else:
            passed.append(p.name)
    variadic = [p.name for p in parameters if p.kind is p.VAR_POSITIONAL]
    if one_tensor:
        wants = [f"{positional[0]}._requires_grad"]
    else:
        wants = [f"isinstance({name}, _Tensor) and {name}._requires_grad" for name in positional]
        wants += [f"_any_requires_grad_of({name})" for name in variadic]
    call = ", ".join(passed)
    source = (f"def {fn.__name__}{_unannotated(signature)}:\n"
              f"    if ({' or '.join(wants) or 'False'}) and _grad_enabled():\n"
              f"        return recorded({call})\n"
              f"    return fn({call})\n")
    namespace = {"_Tensor": _Tensor, "_grad_enabled": is_grad_enabled, "recorded": recorded, "fn": fn,
                 "_any_requires_grad_of": _any_tensor_requires_grad}
    exec(compile(source, f"<front of {fn.__module__}.{fn.__name__}>", "exec"), namespace)  # noqa: S102
    front = cast(types.FunctionType, namespace[fn.__name__])  # (the function the source above defines)
    functools.update_wrapper(front, fn)
    front.__defaults__, front.__kwdefaults__ = fn.__defaults__, fn.__kwdefaults__
    return front


def _unannotated(signature: inspect.Signature) -> str:
    """The signature as source, without annotations; defaults stand as their names (the front takes
    fn's own default values)."""
    return str(signature.replace(
        parameters=[p.replace(annotation=p.empty, default=p.empty if p.default is p.empty else _Placeholder(p.name))
                    for p in signature.parameters.values()], return_annotation=inspect.Signature.empty))


class _Placeholder:
    """A default value written as source: replaced by fn's own defaults after the front is made."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return "None"


def _any_tensor_requires_grad(values: tuple) -> bool:
    return any(isinstance(v, _Tensor) and v._requires_grad for v in values)


def _takes_out(fn) -> bool:
    parameters = inspect.signature(fn).parameters.values()
    return any(p.name == "out" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _record_poly_mse_loss(op: Operation, fn):
    """poly_mse_loss as one node: the forward asks the fused pass for exactly the gradients the
    inputs that require grad need, and keeps them on the node."""
    from tkern import fused

    @functools.wraps(fn)
    def recorded(x, y, coeffs, reduction="sum"):
        tensors = (x, y, coeffs)
        if reduction not in ("sum", "mean") or not is_grad_enabled() or not any(
                isinstance(t, _Tensor) and t._requires_grad for t in tensors):
            return fn(x, y, coeffs, reduction)
        loss, grad, grad_x, grad_y = fused.loss_and_gradients(
            x, y, coeffs, reduction, getattr(x, "_requires_grad", False), getattr(y, "_requires_grad", False),
            "poly_mse_loss", unrounded=True)
        positions = [(0, None), (1, None), (2, None)]
        meta = {p: (tuple(t.shape), t.dtype, t.device) for p, t in zip(positions, tensors)}
        saved = {i: SavedTensor(t) for i, t in enumerate(tensors)}
        node = OpNode(op.node, tuple(edge_of(t) for t in tensors), op.formula,
                      (None, None, None, reduction), {"_gradients": (grad_x, grad_y, grad)}, saved, meta, positions)
        attach((loss,), node)
        return loss
    return recorded


def _extremum(op: Operation, fn):
    """max/min: all-reduce (a tensor) or over a dim ((values, indices)); the values differentiate."""
    @functools.wraps(fn)
    def recorded(input, dim=None, keepdim=False, *args, **kwargs):
        if _is_tensor(dim):
            import tkern
            return (tkern.maximum if op.name == "max" else tkern.minimum)(input, dim)
        if not (input._requires_grad and is_grad_enabled()) or args or kwargs:
            return fn(input, dim, keepdim, *args, **kwargs)
        with no_grad():
            result = fn(input, dim, keepdim)
        values = result[0] if isinstance(result, tuple) else result
        node = OpNode(op.node((input, dim), {}), (edge_of(input),), op.formula, (None, dim, keepdim),
                      {"_indices": result[1]} if isinstance(result, tuple) else {},
                      {0: SavedTensor(input)}, {(0, None): (tuple(input.shape), input.dtype, input.device)},
                      [(0, None)])
        attach((values,), node)
        node._saved["out"] = SavedTensor(values, node, 0)
        return result
    return recorded


def _pieces(op: Operation, fn):
    """split/chunk/unbind: every piece is its own view node of the input. As in torch, no piece may
    be written in place where autograd would have to record it."""
    name = cast(str, op.node)  # (a piece's node is named, never by a rule)
    short = name[:-len("Backward0")]

    @functools.wraps(fn)
    def recorded(input, *args, **kwargs):
        if not (input._requires_grad and is_grad_enabled()):
            pieces = fn(input, *args, **kwargs)
            for i, piece in enumerate(pieces):
                piece._multi_output_view = f"Output {i} of {short}"
            return pieces
        with no_grad():
            pieces = fn(input, *args, **kwargs)
        dim = args[-1] if len(args) > (0 if name == "UnbindBackward0" else 1) else kwargs.get("dim", 0)
        dim %= max(input.ndim, 1)
        start = 0
        meta = {(0, None): (tuple(input.shape), input.dtype, input.device)}
        for i, piece in enumerate(pieces):
            if name == "UnbindBackward0":
                node = OpNode(name, (edge_of(input),), _select, (None, dim, start), {}, {}, meta, [(0, None)])
                start += 1
            else:
                length = piece.shape[dim]
                node = OpNode(name, (edge_of(input),), _narrow, (None, dim, start, length), {}, {}, meta,
                              [(0, None)])
                start += length
            attach((piece,), node)
            piece._multi_output_view = f"Output {i} of {short}"
            piece.__dict__.pop("_no_grad_view", None)  # (made with grad mode off here, but recorded)
        return pieces
    return recorded


def recorded_index_put(tensor, indices: tuple, values, accumulate: bool):
    """``tensor.index_put_(indices, values, accumulate)`` where either side is part of a graph."""
    from tkern.tensor import _recorded_inplace

    def compute(old):
        with no_grad():
            new = old.detach().clone().index_put_(indices, values, accumulate)
        args = (old, indices, values)
        positions = [(0, None), (2, None)]
        meta = {p: (tuple(_get(args, p).shape), _get(args, p).dtype, _get(args, p).device) for p in positions}
        node = OpNode("IndexPutBackward0", tuple(edge_of(_get(args, p)) for p in positions), _index_put,
                      (None, indices, None, accumulate), {}, {}, meta, positions)
        attach((new,), node)
        return new

    return _recorded_inplace(tensor, compute)


def recorded_setitem(tensor, key, value) -> None:
    """``tensor[key] = value`` where either side is part of a graph: the new value of the whole
    tensor depends on its old value (outside ``key``) and on ``value`` (inside)."""
    from tkern.tensor import Tensor, _recorded_inplace

    def compute(old):
        with no_grad():
            new = old.detach().clone()
            new[key] = value
        args = (old, key, value)
        positions = [(0, None)] + ([(2, None)] if isinstance(value, Tensor) else [])
        meta = {p: (tuple(_get(args, p).shape), _get(args, p).dtype, _get(args, p).device) for p in positions}
        name = "CopySlices" if _basic_key(key) else "IndexPutBackward0"
        node = OpNode(name, tuple(edge_of(_get(args, p)) for p in positions), _copy_slices,
                      (None, key, None), {}, {}, meta, positions)
        attach((new,), node)
        return new

    _recorded_inplace(tensor, compute)
