"""DLPack both ways: tkern tensors read by torch and numpy, torch and numpy arrays (and a producer of the
test's own) read by tkern, the memory shared, the layout kept, the capsule protocol followed.

On 'cuda' under the interpreter (no GPU) tkern's 'cuda' memory is host memory: its tensors say so
(``__dlpack_device__`` is kDLCPU) and torch CPU tensors stand in for the foreign device's, placed on
'cuda' with ``from_dlpack(..., device='cuda')`` without a copy. On a GPU the foreign side is torch's CUDA.
"""
from __future__ import annotations

import ctypes
import gc
import weakref

import numpy as np
import pytest
import torch

import tkern
from tkern import dlpack
from helpers import (DTYPES, LAYOUT_IDS, LAYOUTS, NUMPY_DTYPES, TORCH_DTYPES, assert_same, check_error,
                     random_array)


def host_backed(device: str) -> bool:
    """Whether tkern's memory on ``device`` is host memory ('cpu', and 'cuda' under the interpreter)."""
    return int(tkern.zeros(1, device=device).__dlpack_device__()[0]) == 1


def foreign_device(device: str) -> str:
    """torch's device for the foreign side of a test on ``device``."""
    return "cpu" if host_backed(device) else device


def torch_tensor(shape, dtype, device: str, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.array(random_array(shape, dtype, seed))).to(TORCH_DTYPES[dtype]).to(foreign_device(device))


def tkern_tensor(shape, dtype, device: str, seed: int = 0) -> tkern.Tensor:
    # cast on the host: the interpreter truncates float32 -> bfloat16 where torch rounds
    return tkern.tensor(np.array(random_array(shape, dtype, seed)).astype(dtype.numpy), device=device)


def assert_shares(foreign: torch.Tensor, mine: tkern.Tensor, dtype, device: str) -> None:
    """A write through tkern shows in torch, and a write through torch shows in tkern."""
    mine.copy_(tkern_tensor(tuple(mine.shape), dtype, device, seed=7))
    assert_same(foreign, mine)
    foreign.copy_(torch_tensor(tuple(foreign.shape), dtype, device, seed=8))
    assert_same(foreign, mine)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_from_torch_shares_memory(device, dtype, name, shape, view):
    foreign = view(torch_tensor(shape, dtype, device))
    mine = tkern.from_dlpack(foreign, device=device)
    assert_same(foreign, mine)
    assert mine.device == tkern.empty(0, device=device).device and mine.stride() == foreign.stride()
    assert_shares(foreign, mine, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_to_torch_shares_memory(device, dtype, name, shape, view):
    values = random_array(shape, dtype)
    mine = view(tkern_tensor(shape, dtype, device))
    foreign = torch.from_dlpack(mine)
    assert_same(view(torch.from_numpy(values).to(TORCH_DTYPES[dtype])).to(foreign.device), mine)
    assert_same(foreign, mine)
    assert foreign.stride() == mine.stride()
    assert_shares(foreign, mine, dtype, device)


@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_tkern_round_trip_keeps_layout(device, name, shape, view):
    mine = view(tkern_tensor(shape, tkern.float32, device))
    back = tkern.from_dlpack(mine)
    assert back.device == mine.device and back.shape == mine.shape and back.stride() == mine.stride()
    assert back.storage_offset() == mine.storage_offset()  # the offset travels as byte_offset
    back.copy_(tkern_tensor(tuple(mine.shape), tkern.float32, device, seed=3))
    assert_same(torch.from_dlpack(back), mine)


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_numpy_both_ways(device, dtype, name, shape, view):
    values = random_array(shape, dtype)
    expected = view(torch.from_numpy(values.copy()))
    mine = view(tkern.tensor(values, device=device))
    if not host_backed(device):  # numpy reads host memory only
        with pytest.raises((BufferError, RuntimeError)):
            np.from_dlpack(mine)
        return
    theirs = np.from_dlpack(mine)
    np.testing.assert_array_equal(theirs, expected.numpy())
    theirs[...] = view(random_array(shape, dtype, seed=5))
    np.testing.assert_array_equal(mine.cpu().numpy(), theirs)

    array = view(random_array(shape, dtype, seed=6))
    imported = tkern.from_dlpack(array, device=device)
    assert_same(torch.from_numpy(np.array(array)), imported)
    assert imported.stride() == torch.from_dlpack(array).stride()
    imported.copy_(tkern.tensor(view(random_array(shape, dtype, seed=9)), device=device))
    assert_same(torch.from_numpy(np.array(array)), imported)


def test_bfloat16_reaches_torch_as_bfloat16(device):
    """numpy can't export bfloat16 or bool to every DLPack version: tkern builds its own capsules."""
    mine = tkern_tensor((4, 3), tkern.bfloat16, device).t()
    for max_version in (None, (1, 0)):
        foreign = torch.utils.dlpack.from_dlpack(mine.__dlpack__(max_version=max_version))
        assert foreign.dtype is torch.bfloat16
        assert_same(foreign, mine)
    flags = tkern_tensor((5,), tkern.bool, device)
    assert_same(torch.from_dlpack(flags.__dlpack__(max_version=(1, 0))), flags)


def test_capsule_names_follow_the_protocol(device):
    mine = tkern_tensor((2, 3), tkern.float32, device)
    legacy, versioned = mine.__dlpack__(), mine.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(legacy) and "versioned" not in repr(legacy)
    assert '"dltensor_versioned"' in repr(versioned)
    assert '"dltensor"' in repr(mine.__dlpack__(max_version=(0, 8)))
    assert '"dltensor"' in repr(tkern.utils.dlpack.to_dlpack(mine))
    tkern.from_dlpack(legacy)
    tkern.utils.dlpack.from_dlpack(versioned)
    assert '"used_dltensor"' in repr(legacy) and '"used_dltensor_versioned"' in repr(versioned)
    # a capsule is taken once, by tkern and torch alike
    check_error(torch.from_dlpack, tkern.from_dlpack, (legacy,), (legacy,))
    assert_same(torch.from_dlpack(mine.__dlpack__(max_version=(1, 0))), mine)


def test_dlpack_device_matches_torch(device):
    mine = tkern_tensor((2,), tkern.float32, device)
    kind, index = mine.__dlpack_device__()
    assert isinstance(kind, tkern.utils.dlpack.DLDeviceType)
    assert (int(kind), index) == tuple(int(v) for v in torch_tensor((2,), tkern.float32, device).__dlpack_device__())


def test_exported_tensor_lives_until_the_consumer_lets_go(device):
    mine = tkern_tensor((3, 4), tkern.float32, device)[1:]
    alive = weakref.ref(mine)
    foreign = torch.from_dlpack(mine)
    del mine
    gc.collect()
    assert alive() is not None
    del foreign
    gc.collect()
    assert alive() is None
    unused = tkern_tensor((3,), tkern.float32, device)
    alive, capsule = weakref.ref(unused), unused.__dlpack__(max_version=(1, 0))
    del unused, capsule  # a capsule nobody took ends the export itself
    gc.collect()
    assert alive() is None


class CountingProducer:
    """A DLPack producer written here: a numpy array's memory in a capsule whose deleter counts calls."""

    def __init__(self, array: np.ndarray, versioned: bool = True, flags: int = 0, code=(2, 32)):
        self.array, self.versioned, self.deleted = array, versioned, 0
        ndim, item = array.ndim, array.itemsize
        self._shape = (ctypes.c_int64 * ndim)(*array.shape)
        self._strides = (ctypes.c_int64 * ndim)(*(s // item for s in array.strides))
        self._deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self._count)
        self.managed = dlpack.DLManagedTensorVersioned() if versioned else dlpack.DLManagedTensor()
        if versioned:
            self.managed.version.major, self.managed.flags = 1, flags
        dl = self.managed.dl_tensor
        dl.data, dl.ndim, dl.byte_offset = array.ctypes.data, ndim, 0
        dl.device.device_type, dl.device.device_id = 1, 0
        (dl.dtype.code, dl.dtype.bits), dl.dtype.lanes = code, 1
        dl.shape, dl.strides = self._shape, self._strides
        self.managed.deleter = ctypes.cast(self._deleter, ctypes.c_void_p).value

    def _count(self, address) -> None:
        assert address == ctypes.addressof(self.managed)
        self.deleted += 1

    def __dlpack_device__(self):
        return 1, 0

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        new = ctypes.pythonapi.PyCapsule_New
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        name = b"dltensor_versioned" if self.versioned else b"dltensor"
        self.capsule = new(ctypes.addressof(self.managed), name, None)
        return self.capsule


@pytest.mark.parametrize("versioned", [True, False])
def test_deleter_runs_once_when_the_last_view_goes(device, versioned):
    producer = CountingProducer(random_array((4, 5), tkern.float32), versioned)
    mine = tkern.from_dlpack(producer, device=device)
    views = [mine.t(), mine[1:, ::2], mine[3]]
    del mine
    gc.collect()
    assert producer.deleted == 0
    views[0].mul_(2)
    np.testing.assert_array_equal(producer.array, views[0].t().cpu().numpy())
    del views
    gc.collect()
    assert producer.deleted == 1
    assert "used_dltensor" in repr(producer.capsule)


def test_refusals_leave_the_capsule_untaken(device):
    read_only = CountingProducer(random_array((3,), tkern.float32), flags=1)
    with pytest.raises(BufferError, match="read-only"):
        tkern.from_dlpack(read_only, device=device)
    odd_type = CountingProducer(random_array((3,), tkern.float32), code=(2, 24))
    check_error(torch.from_dlpack, lambda p: tkern.from_dlpack(p, device=device),
                (CountingProducer(random_array((3,), tkern.float32), code=(2, 24)),), (odd_type,))
    for producer in (read_only, odd_type):
        assert producer.deleted == 0 and '"dltensor_versioned"' in repr(producer.capsule)


def test_refusals(device):
    frozen = random_array((2, 3), tkern.float32)
    frozen.flags.writeable = False
    with pytest.raises(BufferError, match="read-only"):
        tkern.from_dlpack(frozen)
    with pytest.raises(BufferError, match="negative strides"):
        tkern.from_dlpack(random_array((4,), tkern.float32)[::-1])
    with pytest.raises(BufferError, match="Unsupported dtype"):
        tkern.from_dlpack(random_array((3,), tkern.float32).astype(np.complex64))
    sparse = torch.from_numpy(random_array((3, 3), tkern.float32)).to_sparse()
    check_error(torch.from_dlpack, tkern.from_dlpack, (sparse,), (sparse,))
    needs_grad = tkern_tensor((3,), tkern.float32, device).requires_grad_()
    check_error(lambda x: x.__dlpack__(), torch_args=(torch_tensor((3,), tkern.float32, device).requires_grad_(),),
                tkern_args=(needs_grad,))
    mine, theirs = tkern_tensor((3,), tkern.float32, device), torch_tensor((3,), tkern.float32, device)
    check_error(lambda x: x.__dlpack__(stream="0"), torch_args=(theirs,), tkern_args=(mine,))
    capsule, their_capsule = mine.__dlpack__(), theirs.__dlpack__()
    check_error(lambda c: torch.from_dlpack(c, copy=True), lambda c: tkern.from_dlpack(c, copy=True),
                (their_capsule,), (capsule,))
    with pytest.raises(RuntimeError, match="invalid capsule"):
        tkern.from_dlpack(5)


def test_streams(device):
    mine, theirs = tkern_tensor((3,), tkern.float32, device), torch_tensor((3,), tkern.float32, device)
    if int(mine.__dlpack_device__()[0]) == 1:  # host memory: there is no stream to name
        check_error(lambda x: x.__dlpack__(stream=1), torch_args=(theirs,), tkern_args=(mine,))
        assert_same(torch.from_dlpack(mine.__dlpack__(stream=None)), mine)
        return
    # the consumer's stream waits for tkern's pending work (an event), then reads tkern's values
    side = torch.cuda.Stream()
    result = tkern.exp(mine)
    capsule = result.__dlpack__(stream=side.cuda_stream)
    with torch.cuda.stream(side):
        assert_same(torch.exp(torch.from_dlpack(capsule)), tkern.exp(result))
    check_error(lambda x: x.__dlpack__(stream=2), torch_args=(theirs,), tkern_args=(mine,))


def test_copy_argument(device):
    foreign = torch_tensor((4,), tkern.float32, device)
    copied = tkern.from_dlpack(foreign, device=device, copy=True)
    copied.copy_(tkern_tensor((4,), tkern.float32, device, seed=4))
    assert_same(torch_tensor((4,), tkern.float32, device), tkern.from_dlpack(foreign, device=device))
    assert not np.array_equal(foreign.cpu().numpy(), copied.cpu().numpy())
    shared = tkern.from_dlpack(foreign, device=device, copy=False)
    assert_shares(foreign, shared, tkern.float32, device)


def test_torch_only_lends_memory(device):
    """Importing torch's memory, computing on it and exporting it asks torch for no arithmetic."""
    from test_torch_boundary import ALLOWED, _Recorder
    foreign = torch_tensor((4, 5), tkern.float32, device).T[1:]
    recorder = _Recorder()
    with recorder:
        mine = tkern.from_dlpack(foreign, device=device)
        mine.mul_(2).add_(tkern.from_dlpack(mine).exp())
        mine.__dlpack__(max_version=(1, 0))
        values = mine.cpu()
    # torch, as the producer, asks whether its memory is pinned to name its DLPack device
    assert not sorted(set(recorder.called) - ALLOWED - {"aten.is_pinned.default"}), recorder.called
    expected = torch_tensor((4, 5), tkern.float32, device).T[1:].cpu()
    expected = expected * 2
    assert_same(expected + expected.exp(), values)
