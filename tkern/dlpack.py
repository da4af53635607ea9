"""DLPack, both ways: tensors exported as capsules of DLManagedTensor(Versioned) built here with ctypes,
and any producer's capsule (torch, numpy, CuPy, JAX, tkern) imported without a copy.

The capsule protocol: a producer's capsule is named "dltensor" (or "dltensor_versioned"); the consumer
that takes it renames it "used_dltensor" (…_versioned) and calls the struct's deleter exactly once,
when it no longer needs the memory. A capsule nobody took runs the deleter from its destructor.
"""
from __future__ import annotations

import ctypes
import enum
from typing import cast

from tkern import cuda as _cuda

from . import dtypes
from .device import as_device
from .device import device as device_type
from .foreign_memory import layout_of, tensor_over
from .tensor import Tensor


class DLDeviceType(enum.IntEnum):
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


FLAG_READ_ONLY = 1 << 0
FLAG_IS_COPIED = 1 << 1
VERSION = (1, 0)

# capsule names: the C API keeps the pointer, so they live as long as the module
_LEGACY, _USED_LEGACY = b"dltensor", b"used_dltensor"
_VERSIONED, _USED_VERSIONED = b"dltensor_versioned", b"used_dltensor_versioned"

# (type code, bits) of each dtype: kDLInt 0, kDLUInt 1, kDLFloat 2, kDLBfloat 4, kDLBool 6
_CODES = {
    dtypes.bool: (6, 8), dtypes.uint8: (1, 8), dtypes.int8: (0, 8), dtypes.int16: (0, 16), dtypes.int32: (0, 32),
    dtypes.int64: (0, 64), dtypes.float16: (2, 16), dtypes.bfloat16: (4, 16), dtypes.float32: (2, 32),
    dtypes.float64: (2, 64),
}
_DTYPES = {code: dtype for dtype, code in _CODES.items()}
_CODE_NAMES = {0: "kDLInt", 1: "kDLUInt", 2: "kDLFloat", 3: "kDLOpaqueHandle", 4: "kDLBfloat", 5: "kDLComplex",
               6: "kDLBool"}

_DeleterType = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _api(name: str, result, *arguments):
    # a prototype of its own per use: ctypes.pythonapi's shared function objects carry one argtypes
    return ctypes.PYFUNCTYPE(result, *arguments)((name, ctypes.pythonapi))


_new_capsule = _api("PyCapsule_New", ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
_is_valid = _api("PyCapsule_IsValid", ctypes.c_int, ctypes.py_object, ctypes.c_char_p)
_pointer_of = _api("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)
_rename = _api("PyCapsule_SetName", ctypes.c_int, ctypes.py_object, ctypes.c_char_p)
# the capsule destructor runs while the capsule is being freed: it must not take a reference to it
_is_valid_raw = _api("PyCapsule_IsValid", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
_pointer_of_raw = _api("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)

# struct address -> (struct, shape, strides, tensor): what a capsule's consumer may still read
_EXPORTED: dict = {}


@_DeleterType
def _delete(address: int) -> None:
    _EXPORTED.pop(address, None)


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _capsule_destructor(capsule: int) -> None:
    for name in (_LEGACY, _VERSIONED):
        if _is_valid_raw(capsule, name):  # never taken by a consumer: the export ends here
            _EXPORTED.pop(_pointer_of_raw(capsule, name), None)


_DELETE_ADDRESS = ctypes.cast(_delete, ctypes.c_void_p).value
_DESTRUCTOR_ADDRESS = ctypes.cast(_capsule_destructor, ctypes.c_void_p).value


def _host_backed(device: device_type) -> bool:
    """Whether the memory of ``device`` is host memory: 'cpu', and 'cuda' under the interpreter."""
    return device.type == "cpu" or _cuda._interpreting() and _cuda._gpu_count() == 0


def device_of(tensor: Tensor) -> tuple:
    """``Tensor.__dlpack_device__``: (kDLCPU, 0), or (kDLCUDA, index) on a GPU. Under the interpreter a
    'cuda' tensor's memory is host memory, and it says so (kDLCPU), so that host consumers such as
    torch's CPU build and numpy can take it."""
    device = tensor._a.device
    if _host_backed(device):
        return DLDeviceType.kDLCPU, 0
    return DLDeviceType.kDLCUDA, device.index


def placement(dl_device: tuple) -> device_type:
    """The tkern device where memory described by a DLPack device lives; BufferError for others."""
    kind, index = int(dl_device[0]), int(dl_device[1])
    if kind in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
        return as_device("cpu")
    if kind in (DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged):
        return device_type("cuda", index)
    try:
        name = DLDeviceType(kind).name
    except ValueError:
        name = str(kind)
    raise BufferError(f"Unsupported device_type: {name}: tkern holds memory of kDLCPU and kDLCUDA only")


def export(tensor: Tensor, stream=None, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: a capsule viewing the tensor's memory (its storage's start as ``data``,
    the storage offset as ``byte_offset``), versioned when ``max_version`` allows DLPack 1.x.
    On a GPU, with a ``stream`` other than -1 the consumer's stream first waits for the work queued
    on tkern's current stream (an event recorded and waited on; the host does not block)."""
    if tensor._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    own = device_of(tensor)
    if own[0] == DLDeviceType.kDLCPU:
        if stream is not None and stream != -1:
            raise AssertionError("stream should be None on cpu.")
    elif stream != -1:
        if stream == 2:
            raise BufferError("per-thread default stream is not supported.")
        if stream == 0:
            raise AssertionError(f"unsupported stream on CUDA: {stream}.")
        from tkern.ops import cuda_memory
        cuda_memory.make_stream_wait(cast(int, tensor._a.device.index), 1 if stream is None else stream)
    copied = False
    if dl_device is not None and (int(dl_device[0]), int(dl_device[1])) != (int(own[0]), int(own[1])):
        if copy is False:
            raise BufferError(f"can't export a tensor on {tensor.device} to DLPack device {tuple(dl_device)} "
                              "without copying: pass copy=None or copy=True")
        tensor, copied = tensor.to(placement(dl_device)), True
    if copy and not copied:
        tensor, copied = tensor.clone(), True
    versioned = max_version is not None and max_version[0] >= 1
    return _capsule(tensor, versioned, FLAG_IS_COPIED if copied else 0)


def _capsule(tensor: Tensor, versioned: bool, flags: int):
    a = tensor._a
    ndim, item = len(a.shape), a.dtype.itemsize
    shape, strides = (ctypes.c_int64 * ndim)(*a.shape), (ctypes.c_int64 * ndim)(*a.strides)
    managed: DLManagedTensorVersioned | DLManagedTensor
    if versioned:
        managed = DLManagedTensorVersioned()
        managed.version.major, managed.version.minor = VERSION
        managed.flags = flags
    else:
        managed = DLManagedTensor()
    dl = managed.dl_tensor
    dl.data = tensor.data_ptr() - a.offset * item
    dl.byte_offset = a.offset * item
    dl.device.device_type, dl.device.device_id = device_of(tensor)
    dl.ndim = ndim
    dl.dtype.code, dl.dtype.bits = _CODES[a.dtype]
    dl.dtype.lanes = 1
    dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
    dl.strides = ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64))
    managed.deleter = _DELETE_ADDRESS
    address = ctypes.addressof(managed)
    _EXPORTED[address] = (managed, shape, strides, tensor)
    return _new_capsule(address, _VERSIONED if versioned else _LEGACY, _DESTRUCTOR_ADDRESS)


def from_capsule(capsule, device: device_type | None = None) -> Tensor:
    """A tensor viewing the memory of a DLPack capsule, which it takes (renames "used_…"): its deleter
    runs once, when the last view of that memory dies. ``device``: a host-backed tkern device to
    place host memory on (under the interpreter, 'cuda' views host memory as it is)."""
    managed: DLManagedTensorVersioned | DLManagedTensor
    if _is_valid(capsule, _VERSIONED):
        managed = DLManagedTensorVersioned.from_address(_pointer_of(capsule, _VERSIONED))
        if managed.version.major > VERSION[0]:
            raise BufferError(f"DLPack version {managed.version.major}.{managed.version.minor} is newer than the "
                              f"{VERSION[0]}.x that tkern reads")
        if managed.flags & FLAG_READ_ONLY:
            raise BufferError("the DLPack tensor is read-only, and tkern tensors are always writable: copy it "
                              "first (for numpy, arr.copy(), or set arr.flags.writeable = True where allowed)")
        used = _USED_VERSIONED
    elif _is_valid(capsule, _LEGACY):
        managed = DLManagedTensor.from_address(_pointer_of(capsule, _LEGACY))
        used = _USED_LEGACY
    else:
        raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed "
                           "only once, so you might have already constructed a tensor from it once.")
    dl = managed.dl_tensor
    code = (dl.dtype.code, dl.dtype.bits)
    dtype = _DTYPES.get(code)
    if dtype is None or dl.dtype.lanes != 1:
        raise BufferError(f"Unsupported dtype in DLTensor: {_CODE_NAMES.get(code[0], code[0])} of {code[1]} bits"
                          f"{f' x{dl.dtype.lanes} lanes' if dl.dtype.lanes != 1 else ''}; tkern holds "
                          "bool, uint8, int8..int64, float16, bfloat16, float32 and float64")
    where = placement((dl.device.device_type, dl.device.device_id))
    if device is not None and _host_backed(where) and _host_backed(device):
        where = device
    shape = tuple(dl.shape[i] for i in range(dl.ndim))
    strides = tuple(dl.strides[i] for i in range(dl.ndim)) if dl.strides else None
    layout = layout_of(dl.data or 0, dl.byte_offset, shape, strides, dtype)
    address, deleter = ctypes.addressof(managed), managed.deleter
    _rename(capsule, used)
    release = (lambda: _DeleterType(deleter)(address)) if deleter else None
    return tensor_over(layout, where, release=release)


def from_dlpack(ext_tensor, *, device=None, copy: bool | None = None) -> Tensor:
    """A tensor sharing the memory of any DLPack producer (or capsule): ``tkern.from_dlpack(np.arange(3))``.

    ``device``: where to place it (a copy when the memory lives elsewhere); ``copy``: True always copies,
    False never does. On a GPU the producer is handed tkern's current stream, so that its pending work
    is ordered before tkern's."""
    if not hasattr(ext_tensor, "__dlpack__"):
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is already a DLPack capsule.")
        return from_capsule(ext_tensor)
    ext_device = tuple(ext_tensor.__dlpack_device__())
    where = placement(ext_device)
    target = as_device(device) if device is not None else \
        ext_tensor.device if isinstance(ext_tensor, Tensor) else where
    shared = where == target or _host_backed(where) and _host_backed(target)
    kwargs: dict = {"max_version": VERSION}
    if copy is not None:
        kwargs["copy"] = copy
    if shared:
        kwargs["dl_device"] = ext_device
    elif copy is False:
        raise ValueError(f"cannot move DLPack tensor from device {ext_device} to {target} without copying. "
                         "Set copy=None or copy=True.")
    if ext_device[0] in (DLDeviceType.kDLCUDA, DLDeviceType.kDLROCM):
        from tkern.ops import cuda_memory
        kwargs["stream"] = cuda_memory.current_stream(ext_device[1])
    capsule, producer_copied = None, True
    # older producers take fewer arguments: drop them one at a time, as torch does
    for drop in (None, "max_version", "copy", "dl_device"):
        if drop is not None:
            kwargs.pop(drop, None)
            producer_copied = producer_copied and drop != "copy"
        try:
            capsule = ext_tensor.__dlpack__(**kwargs)
            break
        except TypeError:
            if drop == "dl_device":
                raise
    result = from_capsule(capsule, target if shared else None)
    if not shared:
        return result.to(target)
    return result.clone() if copy and not producer_copied else result


def to_dlpack(tensor: Tensor):
    """A legacy ("dltensor") capsule of ``tensor``: ``tkern.utils.dlpack.to_dlpack(x)``."""
    return tensor.__dlpack__()
