"""Creating tensors: from data, filled, ranges, random, *_like, and the legacy type constructors."""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from tkern import ops
from tkern.ops.backend import backend_for
from tkern.ops.copying import checked_scalar

from . import dtypes
from .array_interfaces import lends_memory, shared_tensor
from .device import as_device, factory_device
from .random import default_generator
from .storage import Storage
from .tensor import Tensor, wrap


def _finish(array, requires_grad: bool) -> Tensor:
    t = wrap(array)
    if requires_grad:
        t.requires_grad = True
    return t


def _check_nesting(data) -> None:
    """Raise torch's error for ragged nested sequences: the first element at each depth fixes the shape."""
    shape, probe = [], data
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        probe = probe[0] if probe else None
    _check_level(data, shape, 0)


def _check_level(data, shape: list, dim: int) -> None:
    if dim == len(shape):
        if isinstance(data, (list, tuple)):
            raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as an integer")
        return
    if not isinstance(data, (list, tuple)):
        raise TypeError("not a sequence")
    if len(data) != shape[dim]:
        raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(data)})")
    for item in data:
        _check_level(item, shape, dim + 1)


def _scalars_of(data):
    """Replace 0-d Tensors inside nested lists with Python numbers."""
    if isinstance(data, Tensor):
        if data.ndim:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_scalars_of(d) for d in data]
    return data


def _host_values(data) -> tuple:
    """(numpy array, inferred tkern dtype) for tensor()'s data argument."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        values = np.asarray(data)
        return values, dtypes.from_numpy_dtype(values.dtype)
    if isinstance(data, (list, tuple)):
        data = _scalars_of(data)
        _check_nesting(data)
    elif not isinstance(data, (builtins.bool, builtins.int, builtins.float)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    try:
        values = np.array(data)
    except (ValueError, OverflowError) as exc:
        raise ValueError("Overflow when unpacking long long") if isinstance(exc, OverflowError) else exc
    kind = values.dtype.kind
    if kind == "b":
        return values, dtypes.bool
    if kind == "i":
        return values, dtypes.int64
    if kind == "f":
        return values, dtypes.get_default_dtype()
    if kind in "uO":
        raise ValueError("Overflow when unpacking long long")
    raise TypeError(f"new(): invalid data type '{values.dtype.name}'")


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of data: ``tkern.tensor([[1, 2], [3, 4]])``."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
            "sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning, stacklevel=2)
        array = ops.converted(data._a, dtype, as_device(device) if device is not None else None, force_copy=True)
        return _finish(array, requires_grad)
    if lends_memory(data):
        dtype = dtypes.checked_dtype_argument(dtype)
        source = shared_tensor(data)
        target = as_device(device) if device is not None else None
        return _finish(ops.converted(source._a, dtype, target, force_copy=True), requires_grad)
    values, inferred = _host_values(data)
    dtype = dtypes.checked_dtype_argument(dtype) or inferred
    target = factory_device(device)
    host = values.astype(dtype.numpy, copy=False)
    return _finish(backend_for(target).from_numpy(host, target), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Share memory with data when dtype and device allow, else copy."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if lends_memory(data):
        dtype = dtypes.checked_dtype_argument(dtype)
        shared = shared_tensor(data, device)
        return shared if dtype is None else shared.to(dtype)
    if isinstance(data, np.ndarray) and factory_device(device).type == "cpu":
        shared = from_numpy(data)
        return shared if dtype is None else shared.to(dtype)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ndarray: writes to either show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtype = dtypes.from_numpy_dtype(ndarray.dtype)
    item = ndarray.itemsize
    if any(s < 0 for s in ndarray.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are "
            "not currently supported. (You can probably work around this by making a copy of your array  with "
            "array.copy().) ")
    if any(s % item for s in ndarray.strides):
        raise RuntimeError("given numpy array strides not a multiple of the element byte size. "
                           "Copy the numpy array to reallocate the memory.")
    span = item + builtins.sum((n - 1) * s for n, s in zip(ndarray.shape, ndarray.strides)) if ndarray.size else 0
    storage = Storage(ndarray, span, as_device("cpu"))
    strides = tuple(s // item for s in ndarray.strides)
    return wrap(ops.Array(storage, ndarray.shape, strides, 0, dtype, ndarray))


def _filled(size, value, dtype, device, requires_grad) -> Tensor:
    shape = ops.check_shape_arg(size)
    target = factory_device(device)
    array = ops.empty(shape, dtypes.checked_dtype_argument(dtype) or dtypes.get_default_dtype(), target)
    if value is not None:
        backend_for(target).fill(array, checked_scalar(value, array.dtype))
    return _finish(array, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """``tkern.zeros(2, 3)``; size as ints or one sequence."""
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None,
          memory_format=None, pin_memory: bool = False) -> Tensor:
    return _filled(size, None, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled((size,), fill_value, dtype or dtypes.scalar_dtype(fill_value), device, requires_grad)


# ----- Tensor.new_*: factories whose dtype and device default to the tensor's own -----

def new_ones(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
             pin_memory: bool = False) -> Tensor:
    """``x.new_ones(2, 3)``: ones in x's dtype on x's device."""
    return _filled(size, 1, dtype or self.dtype, _own_device(self, device), requires_grad)


def new_zeros(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
              pin_memory: bool = False) -> Tensor:
    return _filled(size, 0, dtype or self.dtype, _own_device(self, device), requires_grad)


def new_empty(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
              pin_memory: bool = False) -> Tensor:
    return _filled(size, None, dtype or self.dtype, _own_device(self, device), requires_grad)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
             pin_memory: bool = False) -> Tensor:
    if not isinstance(size, (tuple, list)) and type(size).__name__ != "Size":
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled((size,), fill_value, dtype or self.dtype, _own_device(self, device), requires_grad)


def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
               pin_memory: bool = False) -> Tensor:
    """A copy of ``data`` in x's dtype on x's device (unless given): ``x.new_tensor([1, 2])``."""
    dtype, device = dtype or self.dtype, _own_device(self, device)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
            UserWarning, stacklevel=2)
        return _finish(ops.converted(data._a, dtype, as_device(device), force_copy=True), requires_grad)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _own_device(self: Tensor, device):
    return self.device if device is None else device


def _like(input: Tensor, dtype, device):
    return input.shape, dtype or input.dtype, device if device is not None else input.device


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _filled((shape,), 0, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
              memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _filled((shape,), 1, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _filled((shape,), None, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
              memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _filled((shape,), fill_value, dtype, device, requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
           out=None) -> Tensor:
    """Values from start up to (not including) end: ``tkern.arange(0, 10, 2)``."""
    if end is None:
        start, end = 0, start
    bounds = [b.item() if isinstance(b, Tensor) else b for b in (start, end, step)]
    start, end, step = bounds
    dtype = dtypes.checked_dtype_argument(dtype)
    if dtype is None:
        is_float = builtins.any(isinstance(b, builtins.float) for b in bounds)
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is dtypes.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if dtype.is_floating_point:
        count = math.ceil((end - start) / step)
        return _sequence(count, float(start), float(step), 0.0, count, dtypes.float64, dtype, device, requires_grad)
    # integer types take start and step truncated to integers (torch's int64 accumulation); int64
    # counts its length from the truncated bounds as well, the narrower types from the given ones
    first, stride = int(start), int(step)
    if dtype is dtypes.int64:
        if stride == 0:
            raise ValueError("step must be nonzero")
        count = -((first - int(end)) // stride)
    elif all(isinstance(b, int) for b in bounds):
        count = -((start - end) // step)
    else:
        count = math.ceil((end - start) / step)
    return _sequence(count, first, stride, 0, count, dtypes.int64, dtype, device, requires_grad)


def _sequence(count: int, start, step, end, split: int, compute, dtype, device, requires_grad: bool) -> Tensor:
    """A new 1-d tensor filled by the backend's sequence primitive (on the device itself)."""
    target = factory_device(device)
    array = ops.empty((count,), dtype, target)
    backend_for(target).sequence(array, start, step, end, split, compute)
    return _finish(array, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
             out=None) -> Tensor:
    """steps evenly spaced values from start to end, computed like torch (from both ends)."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtypes.checked_dtype_argument(dtype) or dtypes.get_default_dtype()
    if dtype is dtypes.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    if not dtype.is_floating_point:
        # torch casts the bounds to the integer type first, then steps between them in float64
        start, end = _integer_bound(start, dtype), _integer_bound(end, dtype)
    if steps <= 1:
        return _sequence(steps, float(start), 0.0, float(start), steps, dtypes.float64, dtype, device, requires_grad)
    # the step is rounded to the working precision, then each value is one multiply-add in float64
    # (torch's kernel): exact for float32 operands, rounded once on the cast to dtype
    work = np.float32 if dtype in (dtypes.float32, dtypes.float16, dtypes.bfloat16) else np.float64
    lo, hi = work(start), work(end)
    step = float((hi - lo) / work(steps - 1))
    return _sequence(steps, float(lo), step, float(hi), steps // 2, dtypes.float64, dtype, device, requires_grad)


def _integer_bound(value, dtype) -> int:
    """value as torch's Scalar.to<T>() gives it: truncated, refused when it overflows the type, a
    negative value into an unsigned type wrapped (-5 -> 251) where its magnitude fits."""
    value = int(value)
    info = np.iinfo(dtype.numpy)
    if info.min <= value <= info.max:
        return value
    if info.min == 0 and value < 0 and -value <= info.max:
        return value % (int(info.max) + 1)
    raise RuntimeError(f"value cannot be converted to type {dtype.numpy.name}_t without overflow")


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
        out=None) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    m = n if m is None else m
    target = factory_device(device)
    array = ops.empty((n, m), dtypes.checked_dtype_argument(dtype) or dtypes.get_default_dtype(), target)
    backend = backend_for(target)
    backend.fill(array, 0)
    if n and m:
        backend.fill(ops.Array(array.storage, (min(n, m),), (m + 1,), 0, array.dtype), 1)
    return _finish(array, requires_grad)


def _random(kind: str, size, generator, dtype, device, requires_grad, a=None, b=None) -> Tensor:
    from .sampling import generator_for
    shape = ops.check_shape_arg(size)
    target = factory_device(device)
    dtype = dtypes.checked_dtype_argument(dtype) or dtypes.get_default_dtype()
    if kind in ("uniform", "normal") and not dtype.is_floating_point:
        name = "check_uniform_bounds" if kind == "uniform" else "normal_kernel_cpu"
        raise NotImplementedError(f"\"{name}\" not implemented for '{ops.TORCH_TYPE_NAMES[dtype]}'")
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    array = ops.empty(shape, dtype, target)
    ops.sampling.fill(array, kind, generator_for(generator, target), a, b)
    return _finish(array, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False, layout=None,
         out=None) -> Tensor:
    """Uniform on [0, 1): ``tkern.rand(2, 3)``."""
    return _random("uniform", size, generator, dtype, device, requires_grad, 0.0, 1.0)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False, layout=None,
          out=None) -> Tensor:
    """Standard normal: ``tkern.randn(2, 3)``."""
    return _random("normal", size, generator, dtype, device, requires_grad, 0.0, 1.0)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """Integers on [low, high): ``tkern.randint(0, 10, (3,))``."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: 'high' and 'size'")
    dtype = dtypes.checked_dtype_argument(dtype) or dtypes.int64
    _check_integer_range(low, high, dtype)
    return _random("integers", (size,), generator, dtype, device, requires_grad, low, high)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory: bool = False,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype says otherwise): ``tkern.randperm(5)``."""
    n = ops.check_shape_arg((n,))[0]
    dtype = dtypes.checked_dtype_argument(dtype) or dtypes.int64
    if dtype is not dtypes.bool and not dtype.is_floating_point and n > 0:
        checked_scalar(n - 1, dtype)  # torch: the largest value must fit
    tensor_ = _random("permutation", (n,), generator, dtypes.int64, device, False)
    result = tensor_ if dtype is dtypes.int64 else tensor_.to(dtype)
    if requires_grad:
        result.requires_grad_()
    if out is not None:
        return out.resize_(result.shape).copy_(result)
    return result


# the integer types' C names in torch's messages, and their ranges
_C_NAMES = {dtypes.bool: "bool", dtypes.uint8: "unsigned char", dtypes.int8: "signed char",
            dtypes.int16: "short int", dtypes.int32: "int", dtypes.float16: "c10::Half"}


def _check_integer_range(low, high, dtype) -> None:
    """torch's checks on randint bounds: from < to, and both ends representable in dtype."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    name = _C_NAMES.get(dtype)
    if name is not None:
        if dtype is dtypes.bool:
            info = (0, 1)
        elif dtype is dtypes.float16:
            info = (-65504, 65504)
        else:
            info = (int(np.iinfo(dtype.numpy).min), int(np.iinfo(dtype.numpy).max))
        if not info[0] <= low <= info[1]:
            raise RuntimeError(f"from is out of bounds for {name}")
        if not info[0] <= high - 1 <= info[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
              memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _random("uniform", (shape,), None, dtype, device, requires_grad, 0.0, 1.0)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(input, dtype, device)
    return _random("normal", (shape,), None, dtype, device, requires_grad, 0.0, 1.0)


def randint_like(input: Tensor, low, high=None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    shape, dtype, device = _like(input, dtype, device)
    _check_integer_range(low, high, dtype)
    return _random("integers", (shape,), None, dtype, device, requires_grad, low, high)


def legacy_constructor(dtype, args: tuple, device=None) -> Tensor:
    """torch.FloatTensor(2, 3) (uninitialised), torch.FloatTensor([1, 2]) (data) and friends."""
    if len(args) == 1 and not isinstance(args[0], (builtins.int, ops.Array)) and not hasattr(args[0], "__index__"):
        data = args[0]
        if isinstance(data, Tensor):
            return data.to(dtype)
        if isinstance(data, tuple) and type(data).__name__ == "Size":
            return empty(data, dtype=dtype, device=device)
        return tensor(data, dtype=dtype, device=device)
    return empty(*args, dtype=dtype, device=device)


class _LegacyTensorType(type):
    dtype: dtypes.dtype  # (each class's, given by _legacy_type)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        return legacy_constructor(cls.dtype, args, device)


def _legacy_type(name: str, dtype) -> type:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": f"torch.{name}: tensors of {dtype}."})


FloatTensor = _legacy_type("FloatTensor", dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", dtypes.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _legacy_type("LongTensor", dtypes.int64)
IntTensor = _legacy_type("IntTensor", dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", dtypes.int16)
CharTensor = _legacy_type("CharTensor", dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", dtypes.bool)
