"""The operations that read a tensor's memory another way, or copy it: views (``x.view(2, 3)``,
``x[1:]``, ``tkern.reshape(x, (6,))``...), clone, contiguous and to. The operation table declares
them (their gradients, torch's node names, which take a function form); tkern/tensor.py attaches
them as methods."""
from __future__ import annotations

from tkern import ops
from tkern.autograd.recording import differentiable

from . import dtypes
from .device import as_device
from .tensor import Tensor, _dims_arg, _index_array, _index_key, _view_of, wrap


@differentiable("view")
def view(input, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return _view_of(input, ops.view_dtype(input._a, shape[0]))
    return _view_of(input, ops.view(input._a, _dims_arg(shape)))


@differentiable("reshape")
def reshape(input, *shape) -> Tensor:
    return _view_of(input, ops.reshape(input._a, _dims_arg(shape)))


@differentiable("flatten")
def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _view_of(input, ops.flatten(input._a, start_dim, end_dim))


@differentiable("unflatten")
def unflatten(input, dim: int, sizes) -> Tensor:
    return _view_of(input, ops.unflatten(input._a, dim, sizes))


@differentiable("squeeze")
def squeeze(input, dim=None) -> Tensor:
    return _view_of(input, ops.squeeze(input._a, dim))


@differentiable("unsqueeze")
def unsqueeze(input, dim: int) -> Tensor:
    return _view_of(input, ops.unsqueeze(input._a, dim))


@differentiable("permute")
def permute(input, *dims) -> Tensor:
    return _view_of(input, ops.permute(input._a, _dims_arg(dims)))


@differentiable("transpose")
def transpose(input, dim0: int, dim1: int) -> Tensor:
    return _view_of(input, ops.transpose(input._a, dim0, dim1))


@differentiable("t")
def t(input) -> Tensor:
    return _view_of(input, ops.t(input._a))


@differentiable("expand")
def expand(input, *sizes) -> Tensor:
    return _view_of(input, ops.expand(input._a, _dims_arg(sizes)))


@differentiable("narrow")
def narrow(input, dim: int, start: int, length: int) -> Tensor:
    return _view_of(input, ops.narrow(input._a, dim, int(start), length))


@differentiable("select")
def select(input, dim: int, index: int) -> Tensor:
    return _view_of(input, ops.select(input._a, dim, index))


@differentiable("diagonal")
def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return _view_of(input, ops.diagonal(input._a, offset, dim1, dim2))


@differentiable("__getitem__")
def __getitem__(input, key) -> Tensor:
    return _view_of(input, ops.getitem(input._a, _index_key(key), _index_array))


@differentiable("as_strided")
def as_strided(input, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with any geometry over this tensor's storage (offsets count from the storage's start)."""
    return _view_of(input, ops.as_strided(input._a, size, stride, storage_offset))


@differentiable("split")
def split(input, split_size, dim: int = 0) -> tuple:
    return tuple(_view_of(input, a) for a in ops.split(input._a, split_size, dim))


@differentiable("chunk")
def chunk(input, chunks: int, dim: int = 0) -> tuple:
    return tuple(_view_of(input, a) for a in ops.chunk(input._a, chunks, dim))


@differentiable("unbind")
def unbind(input, dim: int = 0) -> tuple:
    return tuple(_view_of(input, a) for a in ops.unbind(input._a, dim))


@differentiable("clone")
def clone(input, memory_format=None) -> Tensor:
    return wrap(ops.clone(input._a))


@differentiable("contiguous")
def contiguous(input, memory_format=None) -> Tensor:
    result = ops.contiguous(input._a)
    return input if result is input._a else wrap(result)


@differentiable("to")
def to(input, *args, **kwargs) -> Tensor:
    dtype, device, copy = kwargs.get("dtype"), kwargs.get("device"), kwargs.get("copy", False)
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, (str, int)) or type(arg).__name__ == "device":
            device = arg
        elif arg is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(arg).__name__})")
    device = as_device(device) if device is not None else None
    result = ops.converted(input._a, dtype, device, force_copy=copy)
    if result is input._a:
        return input
    return wrap(result)
