"""numpy's __array_interface__ on 'cpu' tensors, the __cuda_array_interface__ (version 3) on 'cuda'
tensors, and tkern.as_tensor / tkern.tensor on objects that lend memory by the CUDA array interface or
DLPack: as_tensor shares where torch's would, tensor always copies.

Under the interpreter (no GPU) a 'cuda' tensor's interface points at host memory: the test reads it
with numpy there, and with torch's own CUDA array interface reader on a GPU.
"""
from __future__ import annotations

import ctypes

import numpy as np
import pytest
import torch

import tkern
from helpers import DTYPES, LAYOUT_IDS, LAYOUTS, NUMPY_DTYPES, assert_same, check_error, random_array


def values_of(shape, dtype, seed: int = 0) -> np.ndarray:
    """Seeded values in dtype's own numpy type (bfloat16 rounded on the host, as torch rounds)."""
    return np.array(random_array(shape, dtype, seed)).astype(dtype.numpy)


def torch_of(values: np.ndarray, dtype) -> torch.Tensor:
    """A torch copy of values."""
    if dtype is tkern.bfloat16:
        return torch.from_numpy(values.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(values.copy())


def torch_device(device: str) -> str:
    """Where torch keeps the foreign side's memory: host memory for 'cuda' under the interpreter."""
    return device if device == "cpu" or torch.cuda.is_available() else "cpu"


class Lender:
    """An object of another library that lends its memory through one interface only."""

    def __init__(self, name: str, description: dict, owner: object):
        self.owner = owner
        setattr(self, name, description)


def cuda_lender(values: np.ndarray, dtype, device: str, view) -> tuple:
    """(torch tensor, a Lender of its memory by __cuda_array_interface__ version 3)."""
    base = torch_of(values, dtype).to(torch_device(device))
    foreign = view(base)
    item = foreign.element_size()
    typestr = "<V2" if dtype is tkern.bfloat16 else values.dtype.str
    description = {"shape": tuple(foreign.shape), "typestr": typestr, "version": 3, "stream": None,
                   "strides": tuple(s * item for s in foreign.stride()),
                   "data": (foreign.data_ptr() if foreign.numel() else 0, False)}
    return foreign, Lender("__cuda_array_interface__", description, base)


def read_cuda_interface(description: dict, dtype) -> torch.Tensor:
    """What the interface describes, as a torch tensor over the same memory."""
    if torch.cuda.is_available():
        return torch.as_tensor(Lender("__cuda_array_interface__", description, None), device="cuda")
    address, _ = description["data"]
    item = dtype.itemsize
    shape, strides = description["shape"], description["strides"]
    strides = strides or tuple(s * item for s in tkern.empty(shape).stride())
    reach = item + sum((n - 1) * s for n, s in zip(shape, strides)) if 0 not in shape else 0
    raw = np.ctypeslib.as_array((ctypes.c_uint8 * max(reach, 1)).from_address(address)) if reach else np.empty(0, np.uint8)
    host = np.ndarray(shape, dtype.numpy, raw, 0, strides)
    if dtype is tkern.bfloat16:  # torch reads no ml_dtypes array: the same bits as int16, seen as bfloat16
        return torch.from_numpy(host.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(host)


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_array_interface(device, dtype, name, shape, view):
    values = values_of(shape, dtype)
    mine = view(tkern.tensor(values, device=device))
    if device != "cpu":  # as torch's, only host tensors describe themselves to numpy
        assert not hasattr(mine, "__array_interface__")
        assert_same(view(torch.from_numpy(values)), tkern.tensor(np.asarray(mine)))
        return
    expected = view(torch.from_numpy(values.copy())).numpy().__array_interface__
    description = mine.__array_interface__
    assert description["version"] == 3 and description["data"][1] is False
    assert {k: description[k] for k in ("shape", "typestr", "strides")} == \
        {k: expected[k] for k in ("shape", "typestr", "strides")}
    theirs = np.asarray(mine)
    assert theirs.__array_interface__["data"][0] == description["data"][0]
    theirs[...] = view(values_of(shape, dtype, seed=1))
    assert_same(torch.from_numpy(np.array(theirs)), mine)
    mine.copy_(tkern.tensor(view(values_of(shape, dtype, seed=2))))
    np.testing.assert_array_equal(theirs, view(values_of(shape, dtype, seed=2)))


def test_array_interface_falls_back_to_array(device):
    """bfloat16 (no numpy typestr for it) and requires_grad go through __array__, as torch's do."""
    values = values_of((3, 2), tkern.bfloat16)
    mine = tkern.tensor(values, device=device).T
    assert not hasattr(mine, "__array_interface__")
    assert_same(torch_of(values, tkern.bfloat16).T, tkern.tensor(np.asarray(mine)))
    grads = random_array((3,), tkern.float32)
    check_error(np.asarray, torch_args=(torch.from_numpy(grads).requires_grad_(),),
                tkern_args=(tkern.tensor(grads, device=device, requires_grad=True),))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_cuda_array_interface(device, dtype, name, shape, view):
    values = values_of(shape, dtype)
    mine = view(tkern.tensor(values, device=device))
    if device == "cpu":
        check_error(lambda x: x.__cuda_array_interface__, torch_args=(view(torch_of(values, dtype)),),
                    tkern_args=(mine,))
        assert not hasattr(mine, "__cuda_array_interface__")
        return
    expected = view(torch_of(values, dtype))
    description = mine.__cuda_array_interface__
    item = dtype.itemsize
    assert description["version"] == 3 and description["data"][1] is False
    assert description["shape"] == tuple(expected.shape)
    assert description["typestr"] == ("<V2" if dtype is tkern.bfloat16 else values.dtype.str)
    assert description["strides"] == (None if expected.is_contiguous() else tuple(s * item for s in expected.stride()))
    assert description["stream"] is None or isinstance(description["stream"], int)
    if torch.cuda.is_available():  # torch's own description of the same layout
        torch_description = expected.cuda().__cuda_array_interface__
        assert {k: description[k] for k in ("shape", "typestr", "strides")} == \
            {k: torch_description[k] for k in ("shape", "typestr", "strides")}
    theirs = read_cuda_interface(description, dtype)
    assert_same(theirs, mine)
    mine.copy_(tkern.tensor(view(values_of(shape, dtype, seed=3)), device=device))
    assert_same(theirs, mine)


def test_cuda_array_interface_refuses_requires_grad(device):
    mine = tkern.tensor(random_array((3,), tkern.float32), device=device, requires_grad=True)
    if device == "cpu":
        assert not hasattr(mine, "__cuda_array_interface__")
        return
    with pytest.raises(RuntimeError, match="requires grad"):
        mine.__cuda_array_interface__


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_as_tensor_shares_cuda_array_interface(device, dtype, name, shape, view):
    values = values_of(shape, dtype)
    foreign, lender = cuda_lender(values, dtype, device, view)
    if not tkern.cuda.is_available():  # nothing can read device memory here
        with pytest.raises(RuntimeError, match="cuda|CUDA"):
            tkern.as_tensor(lender, device=device)
        return
    shared, copied = tkern.as_tensor(lender, device=device), tkern.tensor(lender, device=device)
    assert_same(foreign, shared)
    assert_same(foreign, copied)
    assert shared.device.type == device and copied.device.type == device
    new = values_of(shape, dtype, seed=4)
    shared.copy_(tkern.tensor(view(new), device=device))
    assert_same(view(torch_of(new, dtype)), shared.cpu())
    # as_tensor shares on 'cuda' (on 'cpu' it copies, as torch's does); tensor always copies
    assert_same(view(torch_of(new if device == "cuda" else values, dtype)), tkern.from_dlpack(foreign.cpu()))
    assert_same(view(torch_of(values, dtype)), copied.cpu())
    if device == "cuda":
        assert shared.stride() == foreign.stride()


def test_cuda_array_interface_refusals(device):
    foreign, lender = cuda_lender(values_of((3,), tkern.float32), tkern.float32, device, lambda x: x)
    read_only = dict(lender.__cuda_array_interface__, data=(foreign.data_ptr(), True))
    masked = dict(lender.__cuda_array_interface__, mask=object())
    for description in (read_only, masked):
        with pytest.raises(BufferError):
            tkern.as_tensor(Lender("__cuda_array_interface__", description, foreign), device="cuda")
    with pytest.raises(TypeError, match="can't convert"):
        tkern.as_tensor(Lender("__cuda_array_interface__", dict(lender.__cuda_array_interface__, typestr="<c8"),
                               foreign), device="cuda")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, shape, view", LAYOUTS, ids=LAYOUT_IDS)
def test_as_tensor_of_torch_shares_and_tensor_copies(device, dtype, name, shape, view):
    foreign = view(torch_of(values_of(shape, dtype), dtype).to(torch_device(device)))
    shared = tkern.as_tensor(foreign, device=device)
    copied = tkern.tensor(foreign, device=device)
    assert_same(torch.as_tensor(foreign), shared)
    assert_same(foreign.detach().clone(), copied)  # what torch.tensor(foreign) gives
    new = values_of(shape, dtype, seed=6)
    shared.copy_(tkern.tensor(view(new), device=device))
    assert_same(foreign, shared)
    assert_same(view(torch_of(values_of(shape, dtype), dtype)), copied)


def test_as_tensor_dtype_copies(device):
    foreign = torch.from_numpy(random_array((4,), tkern.float32)).to(torch_device(device))
    converted = tkern.as_tensor(foreign, dtype=tkern.float64, device=device)
    assert_same(torch.as_tensor(foreign, dtype=torch.float64), converted)
    converted.copy_(tkern.tensor(random_array((4,), tkern.float64, seed=1), device=device))
    assert_same(torch.from_numpy(random_array((4,), tkern.float32)), tkern.as_tensor(foreign).cpu())
    check_error(torch.as_tensor, tkern.as_tensor, (foreign, "float32"), (foreign, "float32"))
