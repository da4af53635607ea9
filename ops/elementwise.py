"""Elementwise semantics: promotion, broadcasting and outputs for unary, binary and ternary ops."""
from __future__ import annotations

from tkern import dtypes
from tkern.dtypes import result_type_of, scalar_dtype

from .allocation import TORCH_TYPE_NAMES, bump_version, check_no_partial_overlap, check_output, empty
from .array import Array
from .backend import BACKENDS, backend_for
from .shapes import broadcast_shapes, expand_strides

FLOAT_RESULT_UNARY = frozenset(("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal"))
BOOL_RESULT_UNARY = frozenset(("logical_not", "isnan", "isinf", "isfinite"))
COMPARISONS = frozenset(("eq", "ne", "lt", "le", "gt", "ge"))
LOGICAL = frozenset(("logical_and", "logical_or", "logical_xor"))
BITWISE = frozenset(("bitwise_and", "bitwise_or", "bitwise_xor"))


def result_type(*operands) -> dtypes.dtype:
    """torch.result_type over Arrays and Python scalars."""
    dim, zero, scalars = [], [], []
    for x in operands:
        if isinstance(x, Array):
            (dim if x.shape else zero).append(x.dtype)
        elif x is not None:
            scalars.append(scalar_dtype(x))
    return result_type_of(dim, zero, scalars)


def expand_to(x: Array, shape: tuple) -> Array:
    if x.shape == shape:
        return x
    return Array(x.storage, shape, expand_strides(x.shape, x.strides, shape), x.offset, x.dtype)


def common_device(operands):
    """The device all Array operands share; a 0-d CPU array may join a GPU op like a Python scalar."""
    arrays = [x for x in operands if isinstance(x, Array)]
    placed = [x.device for x in arrays if x.shape or x.device.type != "cpu"]
    if not placed:
        return arrays[0].device
    for d in placed[1:]:
        if d != placed[0]:
            raise _device_mismatch(placed[0], d)
    return placed[0]


def _device_mismatch(a, b) -> RuntimeError:
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, {a} and {b}!")


def _as_operand(x, shape: tuple, device):
    """Expand an Array to the output shape; a 0-d CPU array beside GPU operands becomes a scalar."""
    if not isinstance(x, Array):
        return x
    if x.device != device:
        return backend_for(x.device).to_numpy(x).item()
    return expand_to(x, shape)


def _finish(op_runner, out: Array | None, shape, result_dtype, device, operands=()) -> Array:
    if out is None:
        out = empty(shape, result_dtype, device)
    else:
        check_output(out, shape, result_dtype)
        check_no_partial_overlap(out, operands)
        bump_version(out)
    op_runner(out)
    return out


def unary(op: str, x: Array, out: Array | None = None) -> Array:
    d = x.dtype
    if op in FLOAT_RESULT_UNARY:
        result = d if d.is_floating_point else dtypes.get_default_dtype()
    elif op in BOOL_RESULT_UNARY:
        result = dtypes.bool
    else:
        if d is dtypes.bool and op in ("neg", "relu", "sign", "abs"):
            if op == "neg":
                raise RuntimeError(
                    "Negation, the `-` operator, on a bool tensor is not supported. "
                    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
            if op != "abs":
                raise RuntimeError(f"\"{op}\" not implemented for 'Bool'")
        result = d
    compute = result if op not in BOOL_RESULT_UNARY else d
    backend = backend_for(x.device)
    return _finish(lambda o: backend.unary(op, o, x, compute), out, x.shape, result, x.device, (x,))


def binary_result(op: str, a, b) -> tuple:
    """(compute dtype, result dtype) of a binary op, by torch's rules."""
    if isinstance(a, Array) and isinstance(b, Array) and a.dtype is b.dtype:
        promoted = a.dtype
    elif isinstance(a, Array) and not isinstance(b, Array) and type(b) is float and a.dtype.is_floating_point:
        promoted = a.dtype
    else:
        promoted = result_type(a, b)
    if op in COMPARISONS or op in LOGICAL:
        return promoted, dtypes.bool
    if op == "sub" and any(x is True or x is False or isinstance(x, Array) and x.dtype is dtypes.bool for x in (a, b)):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
            "mask, use the `~` or `logical_not()` operator instead.")
    if op == "div" and not promoted.is_floating_point:
        promoted = dtypes.get_default_dtype()
    elif promoted is dtypes.bool and op in ("floor_divide", "remainder", "pow", "maximum", "minimum"):
        if op in ("maximum", "minimum") or op == "pow" and type(b) is bool:
            return promoted, promoted
        kernel = {"floor_divide": "div_floor_cpu", "remainder": "remainder_cpu"}.get(op, op)
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    elif op in BITWISE and promoted.is_floating_point:
        raise RuntimeError(f"\"{op}_cpu\" not implemented for '{TORCH_TYPE_NAMES[promoted]}'")
    return promoted, promoted


# (op, dtype or scalar type, is 0-d, ...) -> (compute, result): promotion is decided once per
# combination, which keeps the per-call cost of small ops near numpy's own
_BINARY_TYPES: dict = {}
dtypes.on_default_dtype_change(_BINARY_TYPES.clear)


def binary(op: str, a, b, out: Array | None = None) -> Array:
    a_is_array = type(a) is Array
    b_is_array = type(b) is Array
    if a_is_array:
        device = a.device
        key = (op, a.dtype, not a.shape, b.dtype, not b.shape) if b_is_array else (op, a.dtype, not a.shape, type(b))
    elif b_is_array:
        device = b.device
        key = (op, type(a), b.dtype, not b.shape)
    else:
        raise TypeError(f"{op}: expected at least one tensor operand, got {type(a).__name__} and {type(b).__name__}")
    types = _BINARY_TYPES.get(key)
    if types is None:
        _check_scalar(a)
        _check_scalar(b)
        types = _BINARY_TYPES[key] = binary_result(op, a, b)
    compute, result = types
    if op == "pow" and not compute.is_floating_point:
        _check_integer_power(b)
    if a_is_array and b_is_array:
        shape = a.shape
        if shape != b.shape or device is not b.device:
            if device is not b.device and device != b.device:
                device = common_device((a, b))
            shape = broadcast_shapes(shape, b.shape)
            a = _as_operand(a, shape, device)
            b = _as_operand(b, shape, device)
    else:
        shape = a.shape if a_is_array else b.shape
    backend = BACKENDS.get(device.type) or backend_for(device)
    if out is None:
        out = backend.empty(shape, result, device)
    else:
        check_output(out, shape, result)
        check_no_partial_overlap(out, (a, b))
        bump_version(out)
    backend.binary(op, out, a, b, compute)
    return out


def _check_scalar(x) -> None:
    if not isinstance(x, (Array, int, float)):
        raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _check_integer_power(exponent) -> None:
    # torch refuses a negative scalar exponent for integers; tensor exponents follow integer pow
    if not isinstance(exponent, Array) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def where(condition: Array, a, b, out: Array | None = None) -> Array:
    if condition.dtype is not dtypes.bool:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{TORCH_TYPE_NAMES[condition.dtype]}")
    result = result_type(a, b)
    return _ternary("where", condition, a, b, result, out)


def clamp(x: Array, low=None, high=None, out: Array | None = None) -> Array:
    if low is None and high is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if x.dtype is dtypes.bool:
        raise RuntimeError("\"clamp\" not implemented for 'Bool'")
    result = result_type(x, low, high)
    return _ternary("clamp", x, low, high, result, out)


def _ternary(op: str, a, b, c, result, out) -> Array:
    operands = (a, b, c)
    device = common_device(operands)
    shape = broadcast_shapes(*(x.shape for x in operands if isinstance(x, Array)))
    a, b, c = (_as_operand(x, shape, device) for x in operands)
    backend = backend_for(device)
    return _finish(lambda o: backend.ternary(op, o, a, b, c, result), out, shape, result, device, (a, b, c))
