"""tkern's functions and Tensor methods, built once from the operation table (tkern/operations.py).

Elementwise unary and binary operations are generated here whole: the function (``tkern.sin``,
also the method ``x.sin()``), the in-place method (``x.sin_()``), the out= form, the aliases and
the operators (``x + y``, ``x += y``, ``2 - x``, ``-x``). Each tests requires_grad itself, so a
call that needs no graph goes straight to ops, and one that does goes to its recorded version
(autograd/recording.py). An operation written by hand is taken from the module the table names,
where ``recording.differentiable`` has already made it differentiable.

``FUNCTIONS`` (tkern's namespace) and ``METHODS`` (Tensor's, attached in tkern/tensor.py) are
filled once, when this module is imported.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from tkern import ops
from tkern.autograd.grad_mode import is_grad_enabled as _grad_enabled
from tkern.autograd.recording import node_maker, pair_node_maker

from .operations import OPERATIONS, Operation
from .tensor import Tensor, _binary, _inplace_binary, _into, _new_tensor, _recorded_inplace, unwrap, wrap

_ops_unary = ops.unary
_ops_binary = ops.binary


def _refuse_out_with_grad(name: str) -> None:
    raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                       "one of the arguments requires grad.")


def _unary_forms(op: Operation) -> tuple[Callable[..., Tensor], dict[str, Callable[..., Any]]]:
    """The function of a unary operation, and its in-place method and operator."""
    name = op.name
    attach = node_maker(op) if op.differentiable else None

    def recorded(input):
        # (ops record nothing themselves: no need to switch grad mode off around the forward)
        t = wrap(_ops_unary(name, input._a))
        if t._a.dtype.is_floating_point:
            attach(t, (input,), {})
        return t

    function: Callable[..., Tensor]  # (one of two signatures: with out= or without)
    if op.out:
        def function(input, *, out=None):
            if attach is not None and input._requires_grad and _grad_enabled():
                if out is not None:
                    _refuse_out_with_grad(name)
                return recorded(input)
            if out is None:
                t = _new_tensor(Tensor)
                t._a = _ops_unary(name, input._a)
                t._requires_grad = False
                return t
            return _into(out, lambda o: _ops_unary(name, input._a, out=o), lambda: _ops_unary(name, input._a), name)
    else:
        def function(input):
            if attach is not None and input._requires_grad and _grad_enabled():
                return recorded(input)
            t = _new_tensor(Tensor)
            t._a = _ops_unary(name, input._a)
            t._requires_grad = False
            return t

    def inplace(self):
        if attach is not None:
            self._check_inplace()
            if self._requires_grad and _grad_enabled():
                return _recorded_inplace(self, recorded)
        # (an operation without a gradient writes through any history, as torch's logical_not_ does)
        _ops_unary(name, self._a, out=self._a)
        return self

    def operator(self):
        if attach is not None and self._requires_grad and _grad_enabled():
            return recorded(self)
        return wrap(_ops_unary(name, self._a))

    methods: dict[str, Callable[..., Any]] = {}
    if op.inplace:
        methods.update((alias + "_", inplace) for alias in (name, *op.aliases))
    if op.operator:
        methods[f"__{op.operator}__"] = _name(operator, f"__{op.operator}__", None)
    _name(function, name, f"Elementwise {name}, like torch.{name}: ``tkern.{name}(tkern.tensor([1.0]))``.")
    _name(inplace, name + "_", f"In-place {name}: ``x.{name}_()``.")
    return function, methods


def _check_tensor_operands(function: str, **operands) -> None:
    for name, value in operands.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{function}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _refuse_number_first(name: str, input, other) -> None:
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
        f"{type(other).__name__}), but expected one of:\n"
        " * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)\n")


def _wants_grad(a, b) -> bool:
    return (isinstance(a, Tensor) and a._requires_grad or isinstance(b, Tensor) and b._requires_grad) \
        and _grad_enabled()


def _binary_recorder(op: Operation):
    """``recorded(a, b)``: the operation on two operands (one a tensor that requires grad, grad mode
    on), recorded; None for an operation without a gradient."""
    if not op.differentiable:
        return None
    name = op.name
    attach = pair_node_maker(op)

    def recorded(a, b):
        # (ops record nothing themselves: no need to switch grad mode off around the forward)
        t = _binary(name, a, b)
        if t._a.dtype.is_floating_point:
            attach(t, a, b)
        return t
    return recorded


def _binary_function(op: Operation, recorded):
    """The function of a binary operation whose forward is the elementwise op itself."""
    name = op.name

    def checked(input, other) -> None:
        if op.operands == "tensors":
            if type(input) is not Tensor or type(other) is not Tensor:
                _check_tensor_operands(name, input=input, other=other)
        elif op.operands == "tensor first" and not isinstance(input, Tensor):
            _refuse_number_first(name, input, other)

    if op.operands == "any":
        def function(input, other, *, out=None):
            if recorded is not None and _wants_grad(input, other):
                if out is not None:
                    _refuse_out_with_grad(name)
                return recorded(input, other)
            return _binary(name, input, other, out)
    else:
        def function(input, other, *, out=None):
            checked(input, other)
            if recorded is not None and _wants_grad(input, other):
                if out is not None:
                    _refuse_out_with_grad(name)
                return recorded(input, other)
            return _binary(name, input, other, out)
    return _name(function, name, f"Elementwise {name} with broadcasting, like torch.{name}.")


def _binary_methods(op: Operation, differentiable, recorded) -> dict[str, Callable[..., Any]]:
    """A binary operation's in-place method and operators. ``differentiable`` is the operation's
    function (what an in-place write needing a graph computes out of place), ``recorded`` its
    recorded call on two operands (None: the operation has no gradient)."""
    name = op.name
    methods: dict[str, Callable[..., Any]] = {}
    if recorded is None:
        differentiable = None
    if op.inplace:
        def inplace(self, other):
            if op.operands == "tensors" and not isinstance(other, Tensor):
                _check_tensor_operands(name + "_", other=other)
            return _inplace_binary(name, self, other, differentiable)
        _name(inplace, name + "_", f"In-place {name}: ``x.{name}_(y)``.")
        methods.update((alias + "_", inplace) for alias in (name, *op.aliases))
    if op.operator is None:
        return methods
    symbol = op.operator

    def operator(self, other):
        kind = type(other)
        if kind is Tensor:
            if (self._requires_grad or other._requires_grad) and recorded is not None and _grad_enabled():
                return recorded(self, other)
            b = other._a
        elif kind is float or kind is int:
            if self._requires_grad and recorded is not None and _grad_enabled():
                return recorded(self, other)
            b = other
        else:
            if (self._requires_grad or isinstance(other, Tensor) and other._requires_grad) and \
                    recorded is not None and _grad_enabled():
                return recorded(self, unwrap(other) if not isinstance(other, Tensor) else other)
            b = unwrap(other)
        t = _new_tensor(Tensor)
        t._a = _ops_binary(name, self._a, b)
        t._requires_grad = False
        return t

    def inplace_operator(self, other):
        return _inplace_binary(name, self, other, differentiable)

    methods[f"__{symbol}__"] = _name(operator, f"__{symbol}__", None)
    if op.inplace:
        methods[f"__i{symbol}__"] = _name(inplace_operator, f"__i{symbol}__", None)
    if op.reflected == "same":
        methods[f"__r{symbol}__"] = operator  # torch's __radd__ is add(self, other): the number second
    elif op.reflected == "swapped":
        def reflected(self, other):
            """``other op self`` for a non-Tensor ``other`` (Python calls __rsub__ and friends only then)."""
            kind = type(other)
            number = other if kind is float or kind is int else unwrap(other)
            if self._requires_grad and recorded is not None and _grad_enabled():
                return recorded(number, self)
            t = _new_tensor(Tensor)
            t._a = _ops_binary(name, number, self._a)
            t._requires_grad = False
            return t
        methods[f"__r{symbol}__"] = _name(reflected, f"__r{symbol}__", reflected.__doc__)
    return methods


def _name(fn, name: str, doc: str | None):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _build() -> tuple[dict[str, Callable[..., Any]], dict[str, Callable[..., Any]]]:
    functions: dict[str, Callable[..., Any]] = {}
    methods: dict[str, Callable[..., Any]] = {}
    for op in OPERATIONS.values():
        if not (op.function or op.method or op.inplace or op.operator):
            continue  # (reached by other modules only: nn.functional's, autograd's, ops')
        module = importlib.import_module(op.implemented_in) if op.implemented_in else None
        if module is None and op.kind == "unary":
            function, extra = _unary_forms(op)
        elif module is None and op.kind == "binary":
            recorded = _binary_recorder(op)
            function = _binary_function(op, recorded)
            extra = _binary_methods(op, function, recorded)
        elif op.kind == "binary":
            function = getattr(module, op.name)
            extra = _binary_methods(op, function, _binary_recorder(op))
            if hasattr(module, op.name + "_"):  # an in-place form of its own (add_'s alpha)
                extra.update((alias + "_", getattr(module, op.name + "_")) for alias in (op.name, *op.aliases))
        elif module is not None:
            function = getattr(module, op.name.rpartition(".")[2])
            extra = {}
            if op.inplace:
                extra.update((alias + "_", getattr(module, op.name + "_")) for alias in (op.name, *op.aliases))
        else:
            raise TypeError(f"operation {op.name!r}: a {op.kind} operation needs the module that implements it")
        if op.function:
            functions.update((alias, function) for alias in (op.name, *op.aliases))
        if op.method:
            method = getattr(module, op.method) if isinstance(op.method, str) else function
            methods.update((alias, method) for alias in (op.name, *op.aliases))
        methods.update(extra)
    return functions, methods


FUNCTIONS: dict[str, Callable[..., Any]]
METHODS: dict[str, Callable[..., Any]]
FUNCTIONS, METHODS = _build()
