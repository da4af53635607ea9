"""tkern.ops: operation semantics on raw Arrays, once for every device, and the backends."""
from . import sampling
from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .copying import clone, contiguous, converted, copy_into, fill
from .elementwise import binary, clamp, result_type, rounded_to, unary, where
from .indexing import getitem, index_put, setitem
from .joining import cat, stack
from .matmul import bmm, dot, matmul, mm
from .reduction import (ValuesIndices, arg_reduce, max_min_with_indices, mean, reduce, reduce_all_values,
                        var)
from .shapes import broadcast_shapes, check_shape_arg, normalize_dim
from .views import (as_strided, chunk, diagonal, expand, flatten, narrow, permute, reshape, select, split, squeeze, t,
                    transpose, unbind, unflatten, unsqueeze, view, view_dtype)

__all__ = [
    "TORCH_TYPE_NAMES", "Array", "ValuesIndices", "arg_reduce", "as_strided", "binary", "bmm", "broadcast_shapes", "cat",
    "check_shape_arg", "chunk", "clamp", "clone", "contiguous", "converted", "copy_into", "diagonal", "dot",
    "empty", "expand", "fill", "flatten", "getitem", "index_put", "matmul", "max_min_with_indices", "mean",
    "mm", "narrow", "normalize_dim", "permute", "reduce", "reduce_all_values", "reshape", "result_type", "rounded_to",
    "select", "setitem", "split", "squeeze", "stack", "t", "transpose", "unary", "unbind", "unflatten",
    "unsqueeze", "var", "view", "view_dtype", "where",
]
