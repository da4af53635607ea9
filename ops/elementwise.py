"""Elementwise semantics: promotion, broadcasting and outputs for unary, binary and ternary ops."""
from __future__ import annotations

from tkern import dtypes
from tkern.dtypes import result_type_of, scalar_dtype

from .allocation import TORCH_TYPE_NAMES, bump_version, check_output, empty
from .array import Array
from .backend import backend_for
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
    placed = [x.storage.device for x in arrays if x.shape or x.storage.device.type != "cpu"]
    if not placed:
        return arrays[0].storage.device
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
    if x.storage.device != device:
        return backend_for(x.storage.device).to_numpy(x).item()
    return expand_to(x, shape)


def _finish(op_runner, out: Array | None, shape, result_dtype, device) -> Array:
    if out is None:
        out = empty(shape, result_dtype, device)
    else:
        check_output(out, shape, result_dtype)
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
    backend = backend_for(x.storage.device)
    return _finish(lambda o: backend.unary(op, o, x, compute), out, x.shape, result, x.storage.device)


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
    if op == "div" and not promoted.is_floating_point:
        promoted = dtypes.get_default_dtype()
    elif promoted is dtypes.bool and op in ("sub", "floor_divide", "remainder", "pow", "maximum", "minimum"):
        if op == "sub":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. "
                "Use the `^` or `logical_xor()` operator instead.")
        if op in ("maximum", "minimum"):
            return promoted, promoted
        raise RuntimeError(f"\"{op}\" not implemented for 'Bool'")
    elif op in BITWISE and promoted.is_floating_point:
        raise RuntimeError(f"\"{op}_cpu\" not implemented for '{TORCH_TYPE_NAMES[promoted]}'")
    return promoted, promoted


def binary(op: str, a, b, out: Array | None = None) -> Array:
    compute, result = binary_result(op, a, b)
    if op == "pow" and not compute.is_floating_point:
        _check_integer_power(b)
    a_is = isinstance(a, Array)
    b_is = isinstance(b, Array)
    if a_is and b_is:
        if a.storage.device is b.storage.device or a.storage.device == b.storage.device:
            device = a.storage.device
        else:
            device = common_device((a, b))
        shape = a.shape if a.shape == b.shape else broadcast_shapes(a.shape, b.shape)
        a = _as_operand(a, shape, device)
        b = _as_operand(b, shape, device)
    else:
        x = a if a_is else b
        device, shape = x.storage.device, x.shape
        if not (isinstance(a, (int, float)) or isinstance(b, (int, float))):
            raise TypeError(f"unsupported operand type for {op}: {type(b if a_is else a).__name__}")
    backend = backend_for(device)
    return _finish(lambda o: backend.binary(op, o, a, b, compute), out, shape, result, device)


def _check_integer_power(exponent) -> None:
    if isinstance(exponent, Array):
        from .reduction import reduce_to_scalar
        if exponent.numel() and reduce_to_scalar("min", exponent) < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    elif exponent < 0:
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
    return _finish(lambda o: backend.ternary(op, o, a, b, c, result), out, shape, result, device)
