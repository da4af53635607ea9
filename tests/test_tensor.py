import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, make_pair, random_array


def test_attributes(device):
    t, k = make_pair(random_array((2, 3, 4)), device)
    assert isinstance(k.shape, tkern.Size) and k.shape == (2, 3, 4) and k.size() == (2, 3, 4) and k.size(-1) == 4
    assert repr(k.shape) == "tkern.Size([2, 3, 4])" and repr(k.shape[1:]) == "tkern.Size([3, 4])"
    assert k.ndim == 3 and k.dim() == 3 and k.numel() == 24 and k.stride() == (12, 4, 1) and k.stride(0) == 12
    assert k.is_contiguous() and not k.transpose(0, 1).is_contiguous() and k.element_size() == 4
    assert k.dtype is tkern.float32 and k.device == tkern.device(device if device == "cpu" else "cuda:0")
    assert not k.requires_grad and k.grad is None and k.grad_fn is None and k.is_leaf
    assert k.data.data_ptr() == k.data_ptr()
    check_error(lambda x: x.size(3), lambda x: x.size(3), (t,), (k,))


def test_device_objects():
    assert repr(tkern.device("cpu")) == "device(type='cpu')"
    assert repr(tkern.device("cuda:1")) == "device(type='cuda', index=1)"
    assert str(tkern.device("cuda", 0)) == "cuda:0"
    assert tkern.device("cpu") == tkern.device("cpu") and tkern.device("cuda") != tkern.device("cuda:0")
    check_error(lambda: torch.device("tpu"), lambda: tkern.device("tpu"))
    check_error(lambda: torch.device("cuda:x"), lambda: tkern.device("cuda:x"))


_CUDA_PROBE = """
import tkern
if tkern.cuda.is_available():
    print("available", tkern.cuda.device_count())
else:
    for make in (lambda: tkern.ones(2, device="cuda"), lambda: tkern.ones(2).cuda()):
        try:
            make()
        except RuntimeError as error:
            assert "not available" in str(error) and "TRITON_INTERPRET" in str(error), error
        else:
            raise AssertionError("no error")
    print("unavailable", tkern.cuda.device_count())
"""


def test_cuda_without_gpu_or_interpreter_says_why():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", _CUDA_PROBE], capture_output=True, text=True, env=env, check=True)
    state, count = out.stdout.split()
    # on a machine with a GPU 'cuda' is simply available; elsewhere it must say why not
    assert (state, count) in (("unavailable", "0"), ("available", str(tkern.cuda._gpu_count())))


_CURRENT_DEVICE_PROBE = """
import tkern
from tkern import cuda


def raises(error, message, call):
    try:
        call()
    except error as caught:
        assert message in str(caught), caught
    else:
        raise AssertionError("no error")


assert cuda.device_count() == 1 and cuda.current_device() == 0
assert tkern.ones(2, device="cuda").device == tkern.device("cuda", 0)
for make in (lambda: tkern.ones(2, device="cuda:1"), lambda: tkern.ones(2).to("cuda:1"), lambda: cuda.set_device(1),
             lambda: cuda.synchronize("cuda:1")):
    raises(RuntimeError, "CUDA error: invalid device ordinal", make)
raises(ValueError, "Expected a cuda device, but got: cpu", lambda: cuda.set_device("cpu"))
for bare in (None, "cuda", tkern.device("cuda")):
    raises(ValueError, f"Expected a torch.device with a specified index or an integer, but got:{bare}",
           lambda: cuda.set_device(bare))
cuda.set_device(-1)  # a negative index does nothing, as in torch
cuda.synchronize()
cuda.synchronize("cuda")
assert cuda.current_device() == 0

# two GPUs: bare 'cuda' follows the current one
cuda.device_count = lambda: 2
cuda.set_device("cuda:1")
assert cuda.current_device() == 1
x = tkern.arange(4.0, device="cuda")
assert x.device == tkern.device("cuda", 1) and (x + x).device == x.device and x.sum().item() == 6
with cuda.device(0):
    assert cuda.current_device() == 0 and tkern.zeros(1, device="cuda").device == tkern.device("cuda", 0)
    assert tkern.zeros(1).cuda().device == tkern.device("cuda", 0)
    raises(RuntimeError, "Expected all tensors to be on the same device", lambda: x + tkern.ones(4, device="cuda"))
assert cuda.current_device() == 1 and tkern.zeros(1).cuda().device == tkern.device("cuda", 1)
m = tkern.arange(12, device="cuda:0").view(3, 4)
for moved in (m.to("cuda:1"), m.t().to("cuda:1"), m.t().to("cuda:1", tkern.float16), m[:, 1::2].cuda()):
    assert moved.device == tkern.device("cuda", 1) and moved.is_contiguous()
assert m.t().to("cuda:1").tolist() == m.t().tolist() and m[:, 1::2].cuda().tolist() == [[1, 3], [5, 7], [9, 11]]
assert m.t().to("cuda:1", tkern.float16).tolist() == m.t().float().tolist()
into = tkern.zeros(4, 3, device="cuda:1").t()
into.copy_(m)
assert into.tolist() == m.tolist()
for same in (None, "cuda", -1):
    with cuda.device(same):
        assert cuda.current_device() == 1
with cuda.device(cuda.device(0)):
    assert cuda.current_device() == 0
print("ok")
"""


def test_current_gpu_decides_what_bare_cuda_means():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = subprocess.run([sys.executable, "-c", _CURRENT_DEVICE_PROBE], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.split() == ["ok"], out.stderr[-3000:]


def test_requires_grad_flags():
    k = tkern.ones(2, requires_grad=True)
    assert k.requires_grad and k.is_leaf
    assert not k.detach().requires_grad
    with pytest.raises(RuntimeError):
        tkern.ones(2, dtype=tkern.int64).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        k.add_(1)
    with tkern.no_grad():
        k.add_(1)
    assert k.tolist() == [2.0, 2.0]
    check_error(lambda: torch.ones(2, requires_grad=True).numpy(), lambda: k.numpy())
    assert k.detach().numpy().tolist() == [2.0, 2.0]


def test_grad_mode_switches():
    assert tkern.is_grad_enabled()
    with tkern.no_grad():
        assert not tkern.is_grad_enabled()
        with tkern.enable_grad():
            assert tkern.is_grad_enabled()
    with tkern.set_grad_enabled(False):
        assert not tkern.is_grad_enabled()
    with tkern.inference_mode():
        assert not tkern.is_grad_enabled()

    @tkern.no_grad()
    def f():
        return tkern.is_grad_enabled()
    assert f() is False and tkern.is_grad_enabled()


@pytest.mark.parametrize("target", ["float", "double", "half", "int", "long", "bool", "short", "byte", "char"])
def test_dtype_conversions(target, device):
    t, k = make_pair(random_array((3, 4), low=-3, high=3), device)
    assert_same(getattr(t, target)(), getattr(k, target)())


def test_to(device):
    t, k = make_pair(random_array((3,)), device)
    assert k.to(tkern.float32) is k
    assert_same(t.to(torch.float64), k.to(tkern.float64))
    assert_same(t.to(torch.int64), k.to(dtype=tkern.int64))
    assert_same(t.to(torch.ones(1, dtype=torch.int32)), k.to(tkern.ones(1, dtype=tkern.int32, device=device)))
    assert k.to("cpu").device.type == "cpu" and k.cpu().device.type == "cpu"
    c = k.to(tkern.float32, copy=True)
    assert c.data_ptr() != k.data_ptr()


def test_python_conversions(device):
    t, k = make_pair(np.array([[1.5, -2.0], [3.25, 4.0]], dtype=np.float32), device)
    assert k.tolist() == t.tolist()
    assert k[0, 0].item() == 1.5 and type(k[0, 0].item()) is float
    assert tkern.tensor(3, device=device).item() == 3 and type(tkern.tensor(3).item()) is int
    assert tkern.tensor(True).item() is True
    assert float(k[1, 0]) == 3.25 and int(k[1, 0]) == 3 and bool(k[0, 0])
    assert len(k) == 2 and [row.tolist() for row in k] == t.tolist()
    assert np.array_equal(np.asarray(k.cpu()), t.numpy())
    assert [1, 2, 3][tkern.tensor(1)] == 2
    for fn in [lambda x: x.item(), lambda x: bool(x), lambda x: len(x[0, 0]), lambda x: iter(x[0, 0])]:
        check_error(fn, fn, (t,), (k,))


def test_inplace_ops_and_operators(device):
    t, k = make_pair(random_array((3, 4)), device)
    for fn in [lambda x: x.add_(1), lambda x: x.sub_(0.5), lambda x: x.mul_(2), lambda x: x.div_(3),
               lambda x: x.clamp_(-0.5, 0.5), lambda x: x.zero_(), lambda x: x.fill_(2.5), lambda x: x.add_(x),
               lambda x: x.sub_(x, alpha=0.5), lambda x: x.neg_(), lambda x: x.exp_(), lambda x: x.relu_()]:
        result = fn(k)
        fn(t)
        assert result is k
        assert_same(t, k)
    k2, t2 = k, t
    k2 += 1
    t2 += 1
    k2 *= k2
    t2 *= t2
    k2 -= 0.25
    t2 -= 0.25
    k2 /= 2
    t2 /= 2
    assert k2 is k
    assert_same(t, k)
    k.copy_(tkern.arange(4, device=device))
    t.copy_(torch.arange(4))
    assert_same(t, k)


def test_inplace_errors(device):
    t, k = make_pair(random_array((3,), tkern.int64), device)
    for fn in [lambda x: x.add_(1.5), lambda x: x.div_(2), lambda x, y=None: x.mul_(x.unsqueeze(0).expand(2, 3))]:
        check_error(fn, fn, (t,), (k,))
    s_t, s_k = make_pair(random_array((3, 3)), device)
    check_error(lambda x: x.add_(x[0]), lambda x: x.add_(x[0]), (s_t,), (s_k,))
    check_error(lambda x: x.mul_(x.t()), lambda x: x.mul_(x.t()), (s_t,), (s_k,))
    e_t, e_k = torch.zeros(1).expand(3), tkern.zeros(1, device=device).expand(3)
    check_error(lambda x: x.add_(1), lambda x: x.add_(1), (e_t,), (e_k,))


def test_version_counter_is_shared_by_views():
    k = tkern.zeros(3)
    view = k[1:]
    before = k._version
    view.add_(1)
    assert k._version == before + 1 == view._version


def test_deepcopy_and_pickle():
    k = tkern.tensor([[1.0, 2.0]], requires_grad=True)
    c = copy.deepcopy(k)
    assert c.tolist() == k.tolist() and c.requires_grad and c.data_ptr() != k.data_ptr()
    p = pickle.loads(pickle.dumps(k))
    assert p.tolist() == k.tolist() and p.dtype is tkern.float32


@pytest.mark.parametrize("factory", ["empty", "zeros"])
def test_out_of_memory_names_the_size_and_allocation_goes_on(device, factory):
    """16 TiB is more than any machine here holds: RuntimeError (tkern.OutOfMemoryError on 'cuda', as
    torch.OutOfMemoryError) naming the bytes asked for, raised before anything is made; the next
    allocations succeed, again and again."""
    numel = 1 << 42
    for _ in range(2):
        with pytest.raises(RuntimeError, match=str(4 * numel)) as raised:
            getattr(tkern, factory)(numel, device=device)
        if device == "cuda":
            assert isinstance(raised.value, tkern.OutOfMemoryError)
        values = random_array((1000,), seed=5)
        t, k = make_pair(values, device)
        assert_same(t * 2 + 1, k * 2 + 1)
