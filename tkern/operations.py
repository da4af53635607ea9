"""The operation table: every public operation of tkern declared once.

An entry gives the operation's name and aliases, its kind, the forms it takes (``tkern.<name>``,
``Tensor.<name>``, the in-place ``Tensor.<name>_``, ``out=``, an operator), its result-dtype rule
(elementwise operations: ops/elementwise.py reads it), torch's node name (or a rule for it), its
backward formula and what the formula reads. From it tkern/front_end.py builds the functions and
methods once, already differentiable; tkern/tensor.py attaches the methods where Tensor is defined,
and tkern/__init__.py exports the functions. tests/test_operation_table.py holds every entry
against both backends and the gradient tests.

Adding an elementwise operation: an entry here (with its formula, when it has a gradient), its
numpy function (ops/numpy_backend.py, ``_UNARY`` or ``_BINARY``) and its Triton function
(ops/triton_elementwise.py, ``UNARY_OPS`` or ``BINARY_OPS``). Its tests come from the table.
An operation whose forward is written by hand names the module that holds it (``implemented_in``):
the function there has the operation's name and is made differentiable with
``@tkern.autograd.recording.differentiable(name)``; its in-place form, where it has one, is
``<name>_`` in the same module.

Formulas take (ctx, g) and give one gradient per positional argument of the call (None where none is
needed); ``ctx.input(i)`` is argument i as it was at the call (kept when ``saves`` names it),
``ctx.output()`` the result (kept when ``saves`` has "out"). Short ones are written beside their
entry; the longer ones live in autograd/formulas.py.

This module imports nothing but the formulas: ops/elementwise.py reads it while tkern is loading.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tkern.autograd import formulas as f
from tkern.autograd.formulas import _is_tensor

KINDS = frozenset(("unary", "binary", "ternary", "reduction", "linear algebra", "join", "view", "copy", "composite",
                   "functional", "random", "creation", "internal", "indexing", "sort", "scan"))

# how a differentiable call is recorded: one node for the call (most); max/min's values of a
# (values, indices) pair; one view node per piece (split, chunk, unbind); a view known by its
# geometry alone (as_strided); the fused polynomial loss, whose forward computes the gradients
RECORDERS = frozenset(("call", "extremum", "pieces", "strided view", "fused loss"))


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str
    node: str | Callable | None = None  # torch's node name, or (args, kwargs) -> name; None: no gradient
    formula: Callable | None = None
    saves: tuple = ()  # argument positions the formula reads ((i, j): i only when j requires grad), "out"
    aliases: tuple[str, ...] = ()
    function: bool = True  # tkern.<name> (and its aliases)
    method: bool | str = True  # Tensor.<name>; a string names a method implementation of its own
    inplace: bool = False  # Tensor.<name>_
    out: bool = True  # takes out=
    operator: str | None = None  # Tensor.__<operator>__ and __i<operator>__
    reflected: str | None = None  # Tensor.__r<operator>__: "same" (torch's add(self, other)) or "swapped"
    implemented_in: str | None = None  # the module with the hand-written forward; None: built from kind
    recorder: str = "call"
    any_result_dtype: bool = False  # recorded whatever dtype= makes of the result (which autograd then refuses)
    # ----- dtype rules of the elementwise kinds (ops/elementwise.py) -----
    result: str = "same"  # "same" (the promoted type), "float" (integers give the default float), "bool"
    operands: str = "any"  # binary: "tensors" (two tensors only), "tensor first" (no number first)
    exact_out: bool = False  # unary: out= must have the input's dtype
    copies: str | None = None  # unary: inputs returned as they are, "integers" (and bool) or "bool"
    bool_error: tuple | None = None  # unary: (exception class, message) torch raises for a bool input
    bool_result: str | None = None  # unary: the result dtype for a bool input, where not bool
    bool_kernel: str | None = None  # binary: torch's kernel that refuses bool operands
    integers_only: bool = False  # binary: floating point operands refused

    @property
    def differentiable(self) -> bool:
        return self.node is not None

    @property
    def forms(self) -> tuple[str, ...]:
        """Every public name the operation is reached by: functions, methods, in-place methods."""
        names = []
        if self.function:
            names += [self.name, *self.aliases]
        if self.method:
            names += [f"Tensor.{n}" for n in (self.name, *self.aliases)]
        if self.inplace:
            names += [f"Tensor.{n}_" for n in (self.name, *self.aliases)]
        return tuple(names)


def _not_for_bool(kernel: str) -> tuple:
    return (NotImplementedError, f"\"{kernel}\" not implemented for 'Bool'")


def unary(name: str, node=None, formula=None, saves=(), *, result="same", inplace=True, out=True, **rules) -> Operation:
    return Operation(name, "unary", node, formula, saves, result=result, inplace=inplace, out=out, **rules)


def binary(name: str, node=None, formula=None, saves=(), *, inplace=True, **rules) -> Operation:
    return Operation(name, "binary", node, formula, saves, inplace=inplace, **rules)


def functional(name: str, node, formula, saves=()) -> Operation:
    """An operation of tkern.nn.functional only (``F.silu``), recorded as one node."""
    return Operation(f"nn.functional.{name}", "functional", node, formula, saves, function=False, method=False,
                     out=False, implemented_in="tkern.nn.functional")


# ----- formulas of the unary operations -----

def _neg(ctx, g):
    return (-g,)


def _abs(ctx, g):
    return (g * ctx.input(0).sign(),)


def _exp(ctx, g):
    return (g * ctx.output(),)


def _log(ctx, g):
    return (g / ctx.input(0),)


def _log1p(ctx, g):
    return (g / (ctx.input(0) + 1),)


def _expm1(ctx, g):
    return (g * (ctx.output() + 1),)


def _sqrt(ctx, g):
    return (g / (2 * ctx.output()),)


def _sin(ctx, g):
    return (g * ctx.input(0).cos(),)


def _cos(ctx, g):
    return (-g * ctx.input(0).sin(),)


def _atan(ctx, g):
    x = ctx.input(0)
    return (g / (x * x + 1),)  # torch: grad / (x.pow(2) + 1)


def _tanh(ctx, g):
    out = ctx.output()
    return (g * (1 - out * out),)


def _sigmoid(ctx, g):
    out = ctx.output()
    return (g * out * (1 - out),)


def _relu(ctx, g):
    import tkern
    # torch's threshold_backward: 0 where the result is <= 0, g elsewhere (a NaN result passes g)
    return (tkern.where(ctx.output() <= 0, 0.0, g),)


def _square(ctx, g):
    return (2 * ctx.input(0) * g,)


def _reciprocal(ctx, g):
    out = ctx.output()
    return (-g * out * out,)


def _zero(ctx, g):
    return (g * 0,)


# ----- formulas of nn.functional's activations (torch's, in its order of operations) -----

def _silu(ctx, g):
    x = ctx.input(0)
    s = x.sigmoid()
    return (g * s * (1 + x * (1 - s)),)


def _softplus(ctx, g):
    import tkern
    x = ctx.input(0)
    beta, threshold = ctx.argument(1, "beta", 1.0), ctx.argument(2, "threshold", 20.0)
    z = (x * beta).exp()
    return (tkern.where(x * beta > threshold, g, g * z / (z + 1)),)


def _leaky_relu(ctx, g):
    import tkern
    x = ctx.input(0)
    return (tkern.where(x > 0, g, g * ctx.argument(1, "negative_slope", 0.01)),)


def _elu(ctx, g):
    import tkern
    x = ctx.input(0)
    # (torch's x <= 0 test: a NaN takes the positive side's g)
    return (tkern.where(x <= 0, g * ctx.argument(1, "alpha", 1.0) * x.exp(), g),)


# ----- node names that depend on the call -----

def _given_dim(args, kwargs) -> bool:
    return (len(args) > 1 and args[1] is not None) or kwargs.get("dim") is not None


def _second_is_tensor(backward: str):
    def name(args, kwargs) -> str:
        return backward + ("1" if _is_tensor(args[1]) else "0")
    return name


def _third_is_tensor(backward: str):
    def name(args, kwargs) -> str:
        return backward + ("1" if _is_tensor(args[2]) else "0")
    return name


def _remainder_node(args, kwargs) -> str:
    return "NotImplemented" if not _is_tensor(args[0]) else _second_is_tensor("RemainderBackward")(args, kwargs)


def _pow_node(args, kwargs) -> str:
    if not _is_tensor(args[0]):
        return "PowBackward2"  # a number raised to a tensor
    return _second_is_tensor("PowBackward")(args, kwargs)


def _clamp_node(args, kwargs) -> str:
    return "ClampBackward0" if any(_is_tensor(b) for b in args[1:]) else "ClampBackward1"


def _scatter_node(args, kwargs) -> str:
    """ScatterBackward0 for a tensor src, 1 for a number; torch records no gradient with reduce=."""
    if kwargs.get("reduce") is not None:
        return "NotImplemented"
    return "ScatterBackward0" if len(args) > 3 and _is_tensor(args[3]) else "ScatterBackward1"


def _by_dim(backward: str):
    def name(args, kwargs) -> str:
        return backward + ("1" if _given_dim(args, kwargs) else "0")
    return name


def _extremum_node(backward: str):
    """max/min: Backward0 over a dim (values and indices), Backward1 over everything."""
    def name(args, kwargs) -> str:
        return backward + ("0" if _given_dim(args, kwargs) else "1")
    return name


def _normal_node(args, kwargs) -> str:
    mean_tensor = _is_tensor(args[0] if args else kwargs.get("mean"))
    std_tensor = _is_tensor(args[1] if len(args) > 1 else kwargs.get("std"))
    if mean_tensor:
        return "NormalBackward3" if std_tensor else "NormalBackward1"
    return "NormalBackward2"


def _getitem_node(args, kwargs) -> str:
    """torch's node of x[key]: IndexBackward0 for advanced indexing; else that of the last view the
    key makes, a full slice ``:`` making none (x[:, 1] is SelectBackward0, x[1, None] Unsqueeze...)."""
    key = args[1]
    if not f._basic_key(key):
        return "IndexBackward0"
    for k in reversed(key if isinstance(key, tuple) else (key,)):
        if k is None:
            return "UnsqueezeBackward0"
        if isinstance(k, int):
            return "SelectBackward0"
        if isinstance(k, slice) and k != slice(None):
            return "SliceBackward0"
    return "SliceBackward0"


_MATH = "tkern.math_ops"
_INDEXING = "tkern.indexing_ops"
_SORTING = "tkern.sorting"
_SCANS = "tkern.scans"
_LAYOUT = "tkern.layout"
_CREATION = "tkern.creation"
_SAMPLING = "tkern.sampling"
_FUNCTIONAL = "tkern.nn.functional"
_PAIR = ((0, 1), (1, 0))  # a product's operands: each is kept only when the other needs its gradient

_TABLE = (
    # ----- unary -----
    unary("neg", "NegBackward0", _neg, aliases=("negative",), operator="neg", exact_out=True,
          bool_error=(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                                    "to invert a mask, use the `~` or `logical_not()` operator instead.")),
    unary("abs", "AbsBackward0", _abs, (0,), aliases=("absolute",), operator="abs", exact_out=True,
          bool_error=_not_for_bool("abs_cpu")),
    unary("exp", "ExpBackward0", _exp, ("out",), result="float"),
    unary("log", "LogBackward0", _log, (0,), result="float"),
    unary("log1p", "Log1PBackward0", _log1p, (0,), result="float"),
    unary("expm1", "Expm1Backward0", _expm1, ("out",), result="float"),
    unary("sqrt", "SqrtBackward0", _sqrt, ("out",), result="float"),
    unary("sin", "SinBackward0", _sin, (0,), result="float"),
    unary("cos", "CosBackward0", _cos, (0,), result="float"),
    unary("atan", "AtanBackward0", _atan, (0,), result="float"),
    unary("erf", "ErfBackward0", f._erf, (0,), result="float"),
    unary("tanh", "TanhBackward0", _tanh, ("out",), result="float"),
    unary("sigmoid", "SigmoidBackward0", _sigmoid, ("out",), result="float"),
    unary("relu", "ReluBackward0", _relu, ("out",), out=False,
          bool_error=(RuntimeError, "Boolean inputs not supported for relu")),
    unary("square", "PowBackward0", _square, (0,), bool_result="int64"),
    unary("reciprocal", "ReciprocalBackward0", _reciprocal, ("out",), result="float"),
    unary("floor", "FloorBackward0", _zero, exact_out=True, copies="integers", bool_error=_not_for_bool("floor_vml_cpu")),
    unary("ceil", "CeilBackward0", _zero, exact_out=True, copies="integers", bool_error=_not_for_bool("ceil_vml_cpu")),
    unary("trunc", "TruncBackward0", _zero, exact_out=True, copies="integers", bool_error=_not_for_bool("trunc_vml_cpu")),
    unary("round", "RoundBackward0", _zero, exact_out=True, copies="integers", bool_error=_not_for_bool("round_vml_cpu")),
    unary("sign", "SignBackward0", _zero, exact_out=True, copies="bool"),
    unary("isnan", result="bool", inplace=False, out=False),
    unary("isinf", result="bool", inplace=False, out=False),
    unary("isfinite", result="bool", inplace=False, out=False),
    unary("logical_not", result="bool"),
    unary("bitwise_not", exact_out=True, function=False, method=False, inplace=False, out=False),  # ~x
    # ----- binary -----
    binary("add", "AddBackward0", f._add, implemented_in=_MATH, operator="add", reflected="same"),
    binary("sub", "SubBackward0", f._sub, aliases=("subtract",), implemented_in=_MATH, operator="sub",
           reflected="swapped"),
    binary("mul", "MulBackward0", f._mul, _PAIR, aliases=("multiply",), operator="mul", reflected="same"),
    binary("div", f._div_name, f._div, ((0, 1), 1), aliases=("divide", "true_divide"), implemented_in=_MATH,
           operator="truediv", result="float"),
    binary("floor_divide", "NotImplemented", f._not_implemented("floor_divide"), operator="floordiv",
           reflected="swapped", bool_kernel="div_floor_cpu"),
    binary("trunc_divide", function=False, method=False, inplace=False, bool_kernel="div_trunc_cpu"),  # div(rounding_mode='trunc')
    binary("remainder", _remainder_node, f._remainder_like("floor"), ((0, 1), (1, 1)), operator="mod",
           reflected="swapped", bool_kernel="remainder_cpu"),
    binary("fmod", _second_is_tensor("FmodBackward"), f._remainder_like("trunc"), ((0, 1), (1, 1)),
           operands="tensor first", bool_kernel="fmod_cpu"),
    binary("pow", _pow_node, f._pow, (0, 1, "out"), implemented_in=_MATH, operator="pow",
           reflected="swapped", bool_kernel="pow"),
    binary("maximum", "MaximumBackward0", f._extremum_pair(True), (0, 1), operands="tensors", inplace=False),
    binary("minimum", "MinimumBackward0", f._extremum_pair(False), (0, 1), operands="tensors", inplace=False),
    binary("atan2", "Atan2Backward0", f._atan2, (0, 1), operands="tensors", inplace=False, result="float"),
    binary("eq", operands="tensor first", inplace=False, operator="eq", result="bool"),
    binary("ne", aliases=("not_equal",), operands="tensor first", inplace=False, operator="ne", result="bool"),
    binary("lt", aliases=("less",), operands="tensor first", inplace=False, operator="lt", result="bool"),
    binary("le", aliases=("less_equal",), operands="tensor first", inplace=False, operator="le", result="bool"),
    binary("gt", aliases=("greater",), operands="tensor first", inplace=False, operator="gt", result="bool"),
    binary("ge", aliases=("greater_equal",), operands="tensor first", inplace=False, operator="ge", result="bool"),
    binary("logical_and", operands="tensors", result="bool"),
    binary("logical_or", operands="tensors", result="bool"),
    binary("logical_xor", operands="tensors", result="bool"),
    binary("bitwise_and", operator="and", reflected="same", integers_only=True),
    binary("bitwise_or", operator="or", reflected="same", integers_only=True),
    binary("bitwise_xor", operator="xor", reflected="same", integers_only=True),
    # ----- ternary -----
    Operation("clamp", "ternary", _clamp_node, f._clamp_between(1, 2), (0, 1, 2), aliases=("clip",), inplace=True,
              implemented_in=_MATH),
    Operation("clamp_min", "ternary", _second_is_tensor("ClampMinBackward"), f._clamp_between(1, None), (0, 1),
              inplace=True, implemented_in=_MATH),
    Operation("clamp_max", "ternary", _second_is_tensor("ClampMaxBackward"), f._clamp_between(None, 1), (0, 1),
              inplace=True, implemented_in=_MATH),
    Operation("masked_fill", "ternary", _third_is_tensor("MaskedFillBackward"), f._masked_fill, (1,), inplace=True,
              out=False, implemented_in=_MATH),
    Operation("where", "ternary", "WhereBackward0", f._where, (0,), method="where_method", implemented_in=_MATH),
    Operation("lerp", "ternary", _third_is_tensor("LerpBackward"), f._lerp, (0, 1, 2), inplace=True,
              implemented_in=_MATH),
    # ----- reductions -----
    Operation("sum", "reduction", _by_dim("SumBackward"), f._sum, implemented_in=_MATH, any_result_dtype=True),
    Operation("mean", "reduction", _by_dim("MeanBackward"), f._mean, implemented_in=_MATH),
    Operation("prod", "reduction", _by_dim("ProdBackward"), f._prod, (0, "out"), out=False, implemented_in=_MATH,
              any_result_dtype=True),
    Operation("var", "reduction", "VarBackward0", f._var_like(False), (0,), out=False, implemented_in=_MATH),
    Operation("std", "reduction", "StdBackward0", f._var_like(True), (0, "out"), out=False, implemented_in=_MATH),
    Operation("max", "reduction", _extremum_node("MaxBackward"), f._extremum_reduction, out=False, implemented_in=_MATH,
              recorder="extremum"),
    Operation("min", "reduction", _extremum_node("MinBackward"), f._extremum_reduction, out=False, implemented_in=_MATH,
              recorder="extremum"),
    Operation("amax", "reduction", "AmaxBackward0", f._extremum_reduction, (0, "out"), out=False,
              implemented_in=_MATH),
    Operation("amin", "reduction", "AminBackward0", f._extremum_reduction, (0, "out"), out=False,
              implemented_in=_MATH),
    Operation("logsumexp", "reduction", "LogsumexpBackward0", f._logsumexp, (0, "out"), out=False,
              implemented_in=_MATH),
    Operation("linalg.vector_norm", "reduction", "LinalgVectorNormBackward0", f._vector_norm, (0, "out"), function=False,
              method=False, out=False, implemented_in="tkern.linalg"),
    Operation("norm", "composite", out=False, implemented_in=_MATH),  # (linalg's norms, as torch.norm calls them)
    Operation("argmax", "reduction", out=False, implemented_in=_MATH),
    Operation("argmin", "reduction", out=False, implemented_in=_MATH),
    Operation("all", "reduction", out=False, implemented_in=_MATH),
    Operation("any", "reduction", out=False, implemented_in=_MATH),
    Operation("nonzero", "reduction", out=False, implemented_in=_MATH),
    # ----- linear algebra -----
    Operation("matmul", "linear algebra", f._matmul_name, f._matmul, _PAIR, implemented_in=_MATH,
              any_result_dtype=True),
    Operation("mm", "linear algebra", "MmBackward0", f._matmul, _PAIR, implemented_in=_MATH, any_result_dtype=True),
    Operation("bmm", "linear algebra", "BmmBackward0", f._matmul, _PAIR, implemented_in=_MATH, any_result_dtype=True),
    Operation("dot", "linear algebra", "DotBackward0", f._matmul, _PAIR, implemented_in=_MATH, any_result_dtype=True),
    Operation("addmm", "linear algebra", "AddmmBackward0", f._add_product, ((1, 2), (2, 1)), inplace=True,
              implemented_in=_MATH),
    Operation("baddbmm", "linear algebra", "BaddbmmBackward0", f._add_product, ((1, 2), (2, 1)), inplace=True,
              implemented_in=_MATH),
    # ----- joining -----
    Operation("cat", "join", "CatBackward0", f._cat, aliases=("concat", "concatenate"), method=False,
              implemented_in=_MATH),
    Operation("stack", "join", "StackBackward0", f._stack, method=False, implemented_in=_MATH),
    # ----- indexing along a dim, sorting, scans -----
    Operation("gather", "indexing", "GatherBackward0", f._gather, (2,), implemented_in=_INDEXING),
    Operation("scatter", "indexing", _scatter_node, f._scatter, (2,), inplace=True, implemented_in=_INDEXING),
    Operation("scatter_add", "indexing", "ScatterAddBackward0", f._scatter_add, (2,), inplace=True,
              implemented_in=_INDEXING),
    Operation("index_select", "indexing", "IndexSelectBackward0", f._index_select, (2,), implemented_in=_INDEXING),
    Operation("masked_select", "indexing", "MaskedSelectBackward0", f._masked_select, (1,), implemented_in=_INDEXING),
    Operation("sort", "sort", "SortBackward0", f._sort, (0,), implemented_in=_SORTING),
    Operation("argsort", "sort", out=False, implemented_in=_SORTING),
    Operation("topk", "sort", "TopkBackward0", f._topk, (0,), implemented_in=_SORTING),
    Operation("cumsum", "scan", "CumsumBackward0", f._cumsum, inplace=True, implemented_in=_SCANS,
              any_result_dtype=True),
    Operation("cumprod", "scan", "CumprodBackward0", f._cumprod, (0, "out"), inplace=True, implemented_in=_SCANS,
              any_result_dtype=True),
    # ----- views (function forms where torch has them) -----
    Operation("view", "view", "ViewBackward0", f._reshape_back, function=False, out=False, implemented_in=_LAYOUT),
    Operation("reshape", "view", "ViewBackward0", f._reshape_back, out=False, implemented_in=_LAYOUT),
    Operation("flatten", "view", "ViewBackward0", f._reshape_back, out=False, implemented_in=_LAYOUT),
    Operation("unflatten", "view", "ViewBackward0", f._reshape_back, out=False, implemented_in=_LAYOUT),
    Operation("squeeze", "view", "SqueezeBackward0", f._reshape_back, out=False, implemented_in=_LAYOUT),
    Operation("unsqueeze", "view", "UnsqueezeBackward0", f._reshape_back, out=False, implemented_in=_LAYOUT),
    Operation("permute", "view", "PermuteBackward0", f._permute, out=False, implemented_in=_LAYOUT),
    Operation("transpose", "view", "TransposeBackward0", f._transpose, out=False, implemented_in=_LAYOUT),
    Operation("t", "view", "TBackward0", f._t, out=False, implemented_in=_LAYOUT),
    Operation("expand", "view", "ExpandBackward0", f._expand, function=False, out=False, implemented_in=_LAYOUT),
    Operation("narrow", "view", "SliceBackward0", f._narrow, out=False, implemented_in=_LAYOUT),
    Operation("select", "view", "SelectBackward0", f._select, function=False, out=False, implemented_in=_LAYOUT),
    Operation("diagonal", "view", "DiagonalBackward0", f._diagonal, out=False, implemented_in=_LAYOUT),
    Operation("__getitem__", "view", _getitem_node, f._getitem, (1,), function=False, out=False,
              implemented_in=_LAYOUT),
    Operation("as_strided", "view", "AsStridedBackward0", out=False, implemented_in=_LAYOUT, recorder="strided view"),
    Operation("split", "view", "SplitBackward0", out=False, implemented_in=_LAYOUT, recorder="pieces"),
    Operation("chunk", "view", "SplitBackward0", out=False, implemented_in=_LAYOUT, recorder="pieces"),
    Operation("unbind", "view", "UnbindBackward0", out=False, implemented_in=_LAYOUT, recorder="pieces"),
    # ----- copies -----
    Operation("clone", "copy", "CloneBackward0", f._identity, function=False, out=False, implemented_in=_LAYOUT),
    Operation("contiguous", "copy", "CloneBackward0", f._identity, function=False, out=False, implemented_in=_LAYOUT),
    Operation("to", "copy", "ToCopyBackward0", f._to_copy, function=False, out=False, implemented_in=_LAYOUT),
    # ----- composites: written with the operations above, which record their own nodes -----
    Operation("tril", "copy", "TrilBackward0", lambda ctx, g: (g.tril(ctx.argument(1, "diagonal", 0)),),
              inplace=True, implemented_in=_MATH),
    Operation("triu", "copy", "TriuBackward0", lambda ctx, g: (g.triu(ctx.argument(1, "diagonal", 0)),),
              inplace=True, implemented_in=_MATH),
    Operation("flip", "copy", "FlipBackward0", lambda ctx, g: (g.flip(*ctx.args[1:]),), out=False,
              implemented_in=_MATH),
    Operation("repeat", "copy", "RepeatBackward0", f._repeat, function=False, out=False, implemented_in=_MATH),
    Operation("tile", "composite", out=False, implemented_in=_MATH),  # (repeat, as torch records it)
    Operation("roll", "copy", "RollBackward0", f._roll, out=False, implemented_in=_MATH),
    Operation("outer", "composite", aliases=("ger",), out=False, implemented_in=_MATH),
    Operation("softmax", "composite", out=False, implemented_in=_MATH),
    Operation("einsum", "composite", method=False, out=False, implemented_in="tkern.contraction"),
    Operation("log_softmax", "composite", out=False, implemented_in=_MATH),
    # ----- Tensor.new_*: factories in the tensor's dtype and device -----
    Operation("new_ones", "creation", function=False, out=False, implemented_in=_CREATION),
    Operation("new_zeros", "creation", function=False, out=False, implemented_in=_CREATION),
    Operation("new_empty", "creation", function=False, out=False, implemented_in=_CREATION),
    Operation("new_full", "creation", function=False, out=False, implemented_in=_CREATION),
    Operation("new_tensor", "creation", function=False, out=False, implemented_in=_CREATION),
    # ----- random draws (torch's own streams on 'cpu') -----
    Operation("uniform_", "random", function=False, out=False, implemented_in=_SAMPLING),
    Operation("normal_", "random", function=False, out=False, implemented_in=_SAMPLING),
    Operation("random_", "random", function=False, out=False, implemented_in=_SAMPLING),
    Operation("exponential_", "random", function=False, out=False, implemented_in=_SAMPLING),
    Operation("bernoulli_", "random", function=False, out=False, implemented_in=_SAMPLING),
    Operation("bernoulli", "random", "BernoulliBackward0", f._drawn, (0,), implemented_in=_SAMPLING),
    Operation("normal", "random", _normal_node, f._drawn, (0, 1), method=False, implemented_in=_SAMPLING),
    Operation("multinomial", "random", implemented_in=_SAMPLING),
    # ----- tkern.nn.functional's operations with a node of their own -----
    functional("_silu", "SiluBackward0", _silu, (0,)),  # (F.silu, in place or not)
    functional("softplus", "SoftplusBackward0", _softplus, (0,)),
    functional("_leaky_relu", "LeakyReluBackward0", _leaky_relu, (0,)),  # (F.leaky_relu)
    functional("_elu", "EluBackward0", _elu, (0,)),  # (F.elu)
    functional("gelu", "GeluBackward0", f._gelu, (0,)),
    Operation("nn.functional.softmax", "functional", "SoftmaxBackward0", f._softmax, ("out",), function=False,
              method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional.log_softmax", "functional", "LogSoftmaxBackward0", f._log_softmax, ("out",), function=False,
              method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional._squared_error", "functional", "MseLossBackward0", f._squared_error, (0, 1), function=False,
              method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional.poly_mse_loss", "functional", "PolyMseLossBackward0", f._poly_mse_loss, function=False,
              method=False, out=False, implemented_in=_FUNCTIONAL, recorder="fused loss"),
    functional("_binary_cross_entropy", "BinaryCrossEntropyBackward0", f._binary_cross_entropy, (0, 1, 2)),
    functional("_binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
               f._binary_cross_entropy_with_logits, (0, 1, 2, 3)),
    functional("_smooth_l1_loss", "SmoothL1LossBackward0", f._clipped_difference("beta", True), (0, 1)),
    functional("_huber_loss", "HuberLossBackward0", f._clipped_difference("delta", False), (0, 1)),
    Operation("nn.functional.layer_norm", "functional", "NativeLayerNormBackward0", f._layer_norm, (0, 2),
              function=False, method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional._batch_norm", "functional", "NativeBatchNormBackward0", f._batch_norm, (0, 1, 3, 4),
              function=False, method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional._embedding", "functional", "EmbeddingBackward0", f._embedding, (1,), function=False,
              method=False, out=False, implemented_in=_FUNCTIONAL),
    Operation("nn.functional.one_hot", "functional", function=False, method=False, out=False, implemented_in=_FUNCTIONAL),
    # ----- inside autograd: a strided view's gradient where view elements share memory -----
    Operation("add_at", "internal", "IndexPutBackward0", f._add_at, (1,), function=False, method=False, out=False,
              implemented_in="tkern.autograd.view_history"),
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in _TABLE}


def of_kind(kind: str) -> dict[str, Operation]:
    return {name: op for name, op in OPERATIONS.items() if op.kind == kind}
