"""Data types and torch's type-promotion rules."""
from __future__ import annotations

import builtins

import numpy as np

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, named and printed like torch's (``tkern.float32``)."""

    __slots__ = ("name", "itemsize", "category", "is_signed", "_numpy_name", "_numpy")

    # (builtins.int and builtins.bool: this module's int and bool are tkern dtypes)
    def __init__(self, name: str, itemsize: builtins.int, category: builtins.int, is_signed: builtins.bool,
                 numpy_name: str):
        self.name = name
        self.itemsize = itemsize
        self.category = category
        self.is_signed = is_signed
        self._numpy_name = numpy_name
        self._numpy: np.dtype | None = None

    @property
    def is_floating_point(self) -> builtins.bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> builtins.bool:
        return False

    @property
    def numpy(self) -> np.dtype:
        """The numpy dtype that stores this type on the host."""
        if self._numpy is None:
            if self._numpy_name == "bfloat16":
                try:
                    import ml_dtypes
                except ImportError as exc:
                    raise TypeError("tkern.bfloat16 on the CPU needs the ml_dtypes package (pip install ml_dtypes)") from exc
                self._numpy = np.dtype(ml_dtypes.bfloat16)
            else:
                self._numpy = np.dtype(self._numpy_name)
        return self._numpy

    def to_real(self) -> "dtype":
        return self

    def __repr__(self) -> str:
        return f"tkern.{self.name}"

    def __reduce__(self):
        return self.name


bool = dtype("bool", 1, _BOOL, False, "bool")
uint8 = dtype("uint8", 1, _INT, False, "uint8")
int8 = dtype("int8", 1, _INT, True, "int8")
int16 = dtype("int16", 2, _INT, True, "int16")
int32 = dtype("int32", 4, _INT, True, "int32")
int64 = dtype("int64", 8, _INT, True, "int64")
float16 = dtype("float16", 2, _FLOAT, True, "float16")
bfloat16 = dtype("bfloat16", 2, _FLOAT, True, "bfloat16")
float32 = dtype("float32", 4, _FLOAT, True, "float32")
float64 = dtype("float64", 8, _FLOAT, True, "float64")

short, int, long = int16, int32, int64
half, float, double = float16, float32, float64

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)

_BY_NUMPY = {np.dtype(d._numpy_name): d for d in ALL_DTYPES if d is not bfloat16}


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The tkern dtype of a numpy dtype; TypeError for types tkern cannot hold."""
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.name == "bfloat16":
        return bfloat16
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{np_dtype.name}. The only supported types are: "
        "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool."
    )


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize > b.itemsize else b
    # integers: uint8 mixed with a signed type needs a signed type one size up
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a.itemsize > b.itemsize else b


_PROMOTION = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both operands convert to safely."""
    return _PROMOTION[type1, type2]


_default_float = float32
_default_change_hooks: list = []


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point or d is bfloat16:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d
    for hook in _default_change_hooks:
        hook()


def on_default_dtype_change(hook) -> None:
    """Call hook() whenever set_default_dtype runs (caches of promotion results register here)."""
    _default_change_hooks.append(hook)


def scalar_dtype(value: object) -> dtype:
    """The dtype torch gives a Python number when it stands alone (tensor(3) is int64)."""
    if isinstance(value, builtins.bool) or isinstance(value, np.bool_):
        return bool
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return _default_float
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """torch's combine_categories: a lower-priority class only matters when of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return _PROMOTION[higher, lower]
    return higher


def result_type_of(dim_types, zero_dim_types, scalar_types) -> dtype:
    """Promotion across torch's three priority classes: tensors with dims, 0-d tensors, Python scalars."""
    results = []
    for group in (dim_types, zero_dim_types, scalar_types):
        current = None
        for d in group:
            current = d if current is None else _PROMOTION[current, d]
        results.append(current)
    result = _combine(results[0], _combine(results[1], results[2]))
    assert result is not None, "result_type_of: no operand types"
    return result


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: in-place ops may not lower the category (float result into an int tensor)."""
    return from_.category <= to.category


def checked_dtype_argument(value):
    """A factory function's dtype argument: None, a tkern dtype, or Python's float, int or bool (read
    as float64, int64 and bool, as torch reads them); else torch's TypeError."""
    if value is None or isinstance(value, dtype):
        return value
    python_type = _PYTHON_TYPES.get(value) if isinstance(value, type) else None
    if python_type is None:
        raise TypeError(f"argument 'dtype' must be tkern.dtype, not {type(value).__name__}")
    return python_type


_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}
