"""Elementwise semantics: promotion, broadcasting and outputs for unary, binary and ternary ops."""
from __future__ import annotations

import warnings

import numpy as np

from tkern import dtypes
from tkern.dtypes import result_type_of, scalar_dtype
from tkern.operations import of_kind

from .allocation import TORCH_TYPE_NAMES, check_no_partial_overlap, check_output
from .array import Array
from . import copying
from .backend import BACKENDS, FLOAT32_SCALAR_OPS, backend_for
from .shapes import broadcast_shapes, expand_strides

# the dtype rules, as the operation table (tkern/operations.py) declares them
_UNARY = of_kind("unary")
_BINARY = of_kind("binary")
FLOAT_RESULT_UNARY = frozenset(name for name, op in _UNARY.items() if op.result == "float")
BOOL_RESULT_UNARY = frozenset(name for name, op in _UNARY.items() if op.result == "bool")
# unary ops whose out= must have the input's dtype exactly, as in torch
SAME_DTYPE_UNARY = frozenset(name for name, op in _UNARY.items() if op.exact_out)
# unary ops that return integer inputs (bool too) as they are, and those that return bool ones
_INTEGERS_UNCHANGED = frozenset(name for name, op in _UNARY.items() if op.copies == "integers")
_BOOL_UNCHANGED = frozenset(name for name, op in _UNARY.items() if op.copies is not None)
# unary ops that treat bool inputs apart: refused (with torch's exception), or given another dtype
_BOOL_UNARY = {name: op for name, op in _UNARY.items() if op.bool_error or op.bool_result or op.copies == "bool"}
BOOL_RESULT_BINARY = frozenset(name for name, op in _BINARY.items() if op.result == "bool")
FLOAT_RESULT_BINARY = frozenset(name for name, op in _BINARY.items() if op.result == "float")
INTEGER_BINARY = frozenset(name for name, op in _BINARY.items() if op.integers_only)
# binary ops on bool results: torch's kernel that refuses them (pow by a bool exponent is served after all)
_BOOL_REFUSING_BINARY = {name: op.bool_kernel for name, op in _BINARY.items() if op.bool_kernel}


def result_type(*operands) -> dtypes.dtype:
    """torch.result_type over Arrays and Python scalars."""
    dim: list[dtypes.dtype] = []
    zero: list[dtypes.dtype] = []
    scalars: list[dtypes.dtype] = []
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


def _on_device(x, device):
    """A 0-d CPU Array beside operands on another device joins the op as a Python scalar."""
    if type(x) is Array and x.device != device:
        return backend_for(x.device).to_numpy(x).item()
    return x


def _check_out(out: Array, shape: tuple, result_dtype, operands) -> None:
    """torch's checks on an in-place or out= target, then its version bump; the full checks run only
    when a cheap test says they might fail. An Array whose storage was never made has no other views
    (so no overlap, no stride 0) and a version nobody has read (so no bump)."""
    storage = out._storage
    if out.shape != shape or result_dtype.category > out.dtype.category or storage is not None and 0 in out.strides:
        check_output(out, shape, result_dtype)
    if storage is not None:
        for x in operands:
            if type(x) is Array and x is not out and x._storage is storage:
                check_no_partial_overlap(out, (x,))
        storage.version += 1


def unary(op: str, x: Array, out: Array | None = None) -> Array:
    d = x.dtype
    if op in FLOAT_RESULT_UNARY:
        result = d if d.is_floating_point else dtypes.get_default_dtype()
    elif op in BOOL_RESULT_UNARY:
        result = dtypes.bool
    elif d is dtypes.bool and op in _BOOL_UNARY:
        rule = _BOOL_UNARY[op]
        if rule.bool_error is not None:
            error, message = rule.bool_error
            raise error(message)
        # sign keeps bool values as they are; square promotes them to int64 (bool ** 2)
        result = getattr(dtypes, rule.bool_result) if rule.bool_result else d
    else:
        result = d
    compute = result if op not in BOOL_RESULT_UNARY else d
    if out is not None:
        if out.dtype is not d and op in SAME_DTYPE_UNARY:
            raise RuntimeError(f"Found dtype {TORCH_TYPE_NAMES[out.dtype]} but expected {TORCH_TYPE_NAMES[d]}")
        _check_out(out, x.shape, result, (x,))
    backend = backend_for(x.device)
    if op in _INTEGERS_UNCHANGED and not d.is_floating_point or op in _BOOL_UNCHANGED and d is dtypes.bool:
        # integers are their own floor, ceil, trunc and round (exactly, beyond 2**53 too)
        target = out if out is not None else backend.empty(x.shape, d, x.device)
        backend.copy(target, x)
        return target
    return backend.unary(op, x, compute, result, out)


def binary_result(op: str, a, b) -> tuple:
    """(compute dtype, result dtype) of a binary op, by torch's rules."""
    if isinstance(a, Array) and isinstance(b, Array) and a.dtype is b.dtype:
        promoted = a.dtype
    elif isinstance(a, Array) and not isinstance(b, Array) and type(b) is float and a.dtype.is_floating_point:
        promoted = a.dtype
    else:
        promoted = result_type(a, b)
    if op in BOOL_RESULT_BINARY:
        return promoted, dtypes.bool
    if op == "sub" and any(x is True or x is False or isinstance(x, Array) and x.dtype is dtypes.bool for x in (a, b)):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
            "mask, use the `~` or `logical_not()` operator instead.")
    if op in FLOAT_RESULT_BINARY and not promoted.is_floating_point:
        promoted = dtypes.get_default_dtype()
    elif promoted is dtypes.bool and op in _BOOL_REFUSING_BINARY:
        if op == "pow" and type(b) is bool:
            return promoted, promoted
        raise NotImplementedError(f"\"{_BOOL_REFUSING_BINARY[op]}\" not implemented for 'Bool'")
    elif op in INTEGER_BINARY and promoted.is_floating_point:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{TORCH_TYPE_NAMES[promoted]}'")
    return promoted, promoted


# promotion is decided, and the backend's launcher bound, once per operand combination; a call then
# costs one dict lookup. Keys: (op, dtype, dtype, device type) for operands of one shape, where
# 0-d-ness cannot sway promotion; (op, dtype, is 0-d, dtype, is 0-d, device type) otherwise; a
# Python scalar operand stands as its type. Values: (compute, result, launch).
_BINARY_PLANS: dict = {}
dtypes.on_default_dtype_change(_BINARY_PLANS.clear)


def _plan_binary(op: str, a, b, device_type: str) -> tuple:
    _check_scalar(a)
    _check_scalar(b)
    compute, result = binary_result(op, a, b)
    operand_types = tuple(x.dtype if type(x) is Array else type(x) for x in (a, b))
    backend = BACKENDS.get(device_type) or backend_for(a.device if type(a) is Array else b.device)
    return compute, result, backend.binary_launcher(op, compute, result, *operand_types)


_REDUCED_FLOATS = frozenset((dtypes.float16, dtypes.bfloat16))


def _scalar_as_read(op: str, tensor: Array, number, second: bool):
    """A scalar operand beside a float16/bfloat16 ``tensor`` as torch's CPU kernel reads it: rounded
    to the tensor's type (x + 2049 in float16 adds 2048; x + 70000 is inf), or for the second operand
    of mul and the divisions rounded to float32 only (x * 70000 is finite where it fits). A 0-d CPU
    tensor of another dtype beside a tensor with dims is read the same way; a 0-d GPU tensor is cast."""
    if type(number) is Array:
        if not tensor.shape or number.dtype is tensor.dtype:
            return number
        if number.device.type != "cpu":
            # torch's CUDA rule: a 0-d CUDA tensor is cast to the 16-bit type for every op (reading it as a
            # number would synchronise)
            return copying.converted(number, tensor.dtype)
        number = backend_for(number.device).to_numpy(number).item()
    elif second and op == "pow" and type(number) is not bool:
        copying.checked_scalar(number, tensor.dtype)  # a number exponent the type cannot hold is refused
    if type(number) is bool:
        return number
    if second and op in FLOAT32_SCALAR_OPS:
        return number if type(number) is int and abs(number) < 1 << 24 else float(np.float32(number))
    return rounded_to(number, tensor.dtype)


def rounded_to(number, dtype: dtypes.dtype):
    """A Python number as torch casts it to a 16-bit float type (through float32, as c10 does), kept an
    int when the type holds it exactly."""
    with np.errstate(over="ignore"):
        rounded = float(np.float32(number).astype(dtype.numpy))
    if type(number) is int and rounded == number:
        return number
    return rounded


# integer types a 16-bit float cannot hold exactly (bool, uint8 and int8 it can: no cast, and a bool
# operand still meets its own checks, such as sub's refusal)
_WIDE_INTEGERS = frozenset((dtypes.int16, dtypes.int32, dtypes.int64))


def _cast_to_16_bit(a: Array, b: Array) -> tuple[Array, Array]:
    """Both operands in the float16/bfloat16 type an op of the two computes in, as torch casts them
    first (a bfloat16 tensor plus an int64 one holding 257 adds 256), when it computes in one."""
    result = result_type(a, b)
    if result not in _REDUCED_FLOATS:
        return a, b
    return copying.converted(a, result), copying.converted(b, result)


def _as_16_bit_operands(op: str, a: Array, b: Array) -> tuple:
    """Two tensors of different dtypes as torch reads them beside a float16/bfloat16 one: a 0-d
    operand like a number (_scalar_as_read), a wide integer one cast to the 16-bit type."""
    if a.dtype in _REDUCED_FLOATS and not b.shape:
        b = _scalar_as_read(op, a, b, True)
    elif b.dtype in _REDUCED_FLOATS and not a.shape:
        a = _scalar_as_read(op, b, a, False)
    if type(a) is Array and type(b) is Array and (a.dtype in _REDUCED_FLOATS and b.dtype in _WIDE_INTEGERS or
                                                   b.dtype in _REDUCED_FLOATS and a.dtype in _WIDE_INTEGERS):
        a, b = _cast_to_16_bit(a, b)
    return a, b


def binary(op: str, a, b, out: Array | None = None) -> Array:
    key: tuple  # the plan's: the op, the operands' dtypes (or scalar types), 0-d flags, the device type
    shape: tuple | None  # None: broadcast below
    if type(a) is Array:
        device = a.device
        shape = a.shape
        if type(b) is Array:
            if a.dtype is not b.dtype and (a.dtype in _REDUCED_FLOATS or b.dtype in _REDUCED_FLOATS):
                read_a, read_b = _as_16_bit_operands(op, a, b)
                if read_a is not a or read_b is not b:
                    return binary(op, read_a, read_b, out)
            if shape == b.shape:
                key = (op, a.dtype, b.dtype, device.type)
            elif not b.shape:
                key = (op, a.dtype, False, b.dtype, True, device.type)
            elif not shape:
                key = (op, a.dtype, True, b.dtype, False, device.type)
                shape = b.shape
            else:
                key = (op, a.dtype, False, b.dtype, False, device.type)
                shape = None
            if device is not b.device:
                shape = None
        else:
            if type(b) is int and not -9223372036854775808 <= b < 18446744073709551616:  # (int64 to uint64)
                copying.checked_scalar(b, a.dtype)  # raises torch's OverflowError
            if a.dtype in _REDUCED_FLOATS:
                b = _scalar_as_read(op, a, b, True)
            key = (op, a.dtype, type(b), device.type)
    elif type(b) is Array:
        device = b.device
        shape = b.shape
        if type(a) is int and not -9223372036854775808 <= a < 18446744073709551616:
            copying.checked_scalar(a, b.dtype)
        if b.dtype in _REDUCED_FLOATS:
            a = _scalar_as_read(op, b, a, False)
        key = (op, type(a), b.dtype, device.type)
    else:
        raise TypeError(f"{op}: expected at least one tensor operand, got {type(a).__name__} and {type(b).__name__}")
    plan = _BINARY_PLANS.get(key)
    if plan is None:
        plan = _BINARY_PLANS[key] = _plan_binary(op, a, b, device.type)
    compute, result, launch = plan
    if shape is None:
        if device is not b.device and device != b.device:
            # a 0-d CPU tensor beside a GPU tensor: the launcher bound for a's device won't do
            device = common_device((a, b))
            a = _on_device(a, device)
            b = _on_device(b, device)
            launch = None
        shape = broadcast_shapes(a.shape if type(a) is Array else (), b.shape if type(b) is Array else ())
    elif op == "pow" and type(b) is not Array:
        b = _scalar_exponent(b, compute)
    if out is not None:
        _check_out(out, shape, result, (a, b))
    if launch is not None:
        return launch(a, b, shape, out)
    return backend_for(device).binary(op, a, b, shape, compute, result, out)


def _check_scalar(x) -> None:
    if not isinstance(x, (Array, int, float)):
        raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _scalar_exponent(exponent, compute: dtypes.dtype):
    """A Python exponent as torch's pow takes it: refused when negative for integers; an integer type
    must hold an int exponent (int8 ** 256 is torch's overflow error, not a power). (float16 and
    bfloat16 exponents were rounded to the type by _scalar_as_read.)"""
    if not compute.is_floating_point:
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if compute is not dtypes.bool and type(exponent) is int:
            copying.checked_scalar(exponent, compute)
    return exponent


def where(condition: Array, a, b, out: Array | None = None) -> Array:
    if condition.dtype is not dtypes.bool:
        if condition.dtype is not dtypes.uint8:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{TORCH_TYPE_NAMES[condition.dtype]}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in "
                      "a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=4)
        condition = binary("ne", condition, 0)
    result = result_type(a, b)
    if not result.is_floating_point:
        # a number is converted to an integer result type first, refused as torch refuses it there
        a, b = (x if type(x) is Array else copying.checked_scalar(x, result) for x in (a, b))
    else:
        # a float result takes a number as it is (where(c, half, 1e10) is inf), an int torch cannot
        # read at all excepted (2**70)
        a, b = (copying.checked_scalar(x, dtypes.float64) if type(x) is int else x for x in (a, b))
    return _ternary("where", condition, a, b, result, out)


def clamp(x: Array, low=None, high=None, out: Array | None = None) -> Array:
    if low is None and high is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    result = result_type(x, low, high)
    if result is dtypes.bool:
        _check_bool_clamp(low, high)
    # number bounds are converted to the result type first, refused as torch refuses them when they overflow it
    if low is not None and type(low) is not Array:
        low = copying.checked_scalar(low, result)
    if high is not None and type(high) is not Array:
        high = copying.checked_scalar(high, result)
    return _ternary("clamp", x, low, high, result, out)


def _check_bool_clamp(low, high) -> None:
    """torch clamps bool by one tensor bound (maximum or minimum) but has no bool kernel for two tensor
    bounds or for Python bounds."""
    if isinstance(low, Array) and isinstance(high, Array):
        raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
    if not isinstance(low, Array) and not isinstance(high, Array):
        kernel = "clamp_scalar_cpu" if low is not None and high is not None else (
            "clamp_min_scalar_cpu" if high is None else "clamp_max_scalar_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if low is not None and high is not None:
        raise NotImplementedError("\"clamp_scalar_cpu\" not implemented for 'Bool'")


def _ternary(op: str, a, b, c, result, out) -> Array:
    operands = (a, b, c)
    device = common_device(operands)
    shape = broadcast_shapes(*(x.shape for x in operands if isinstance(x, Array)))
    a, b, c = (_on_device(x, device) for x in operands)
    if out is not None:
        _check_out(out, shape, result, (a, b, c))
    return backend_for(device).ternary(op, a, b, c, shape, result, out)
