import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error


@pytest.mark.parametrize("data", [
    [[1, 2], [3, 4]], [1.5, 2], [True, False], [[True, 2]], 3, 2.5, True, [], [[]], [[1.0], [2.0]],
    np.array([[1, 2], [3, 4]]), np.array([1.5], dtype=np.float64), np.array([1, 2], dtype=np.int32),
    np.float64(2.5), np.array(7, dtype=np.int16),
])
def test_tensor_infers_dtype_like_torch(data, device):
    assert_same(torch.tensor(data), tkern.tensor(data, device=device))


@pytest.mark.parametrize("dtype", list(TORCH_DTYPES))
def test_tensor_with_dtype(dtype, device):
    data = [[1, 0, 3], [4, 5, 6]]
    assert_same(torch.tensor(data, dtype=TORCH_DTYPES[dtype]), tkern.tensor(data, dtype=dtype, device=device))


def test_tensor_errors():
    check_error(lambda: torch.tensor([[1, 2], [3]]), lambda: tkern.tensor([[1, 2], [3]]))
    check_error(lambda: torch.tensor([[1, 2], 3]), lambda: tkern.tensor([[1, 2], 3]))
    check_error(lambda: torch.tensor([2 ** 70]), lambda: tkern.tensor([2 ** 70]))
    check_error(lambda: torch.tensor("a"), lambda: tkern.tensor("a"))


def test_tensor_from_tensor_copies_and_warns():
    a = tkern.tensor([1.0, 2.0])
    with pytest.warns(UserWarning):
        b = tkern.tensor(a)
    b[0] = 5.0
    assert a.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory():
    n = np.ones(5)
    t = tkern.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5 and t.dtype is tkern.float64
    t.add_(1)
    assert n.tolist() == [3.0] * 5
    strided = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]
    s = tkern.from_numpy(strided)
    assert s.stride() == (4, 2) and s.tolist() == strided.tolist()
    s[1, 1] = -1
    assert strided[1, 1] == -1
    with pytest.raises(ValueError):
        tkern.from_numpy(np.arange(4)[::-1])
    with pytest.raises(TypeError):
        tkern.from_numpy(np.array(["a"]))


def test_numpy_shares_memory():
    t = tkern.ones(5)
    n = t.numpy()
    t.add_(1)
    assert n.tolist() == [2.0] * 5 and n.dtype == np.float32


def test_as_tensor_shares_numpy_memory():
    n = np.zeros(3, dtype=np.float32)
    t = tkern.as_tensor(n)
    n[0] = 4
    assert t[0].item() == 4
    assert tkern.as_tensor(t) is t


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([4],), ((),), (0, 2), (torch.Size([1, 2]),)])
def test_filled(fn, size, device):
    size_k = tuple(tkern.Size(s) if isinstance(s, torch.Size) else s for s in size)
    expected = getattr(torch, fn)(*size)
    actual = getattr(tkern, fn)(*size_k, device=device)
    assert tuple(actual.shape) == tuple(expected.shape) and actual.dtype is tkern.float32
    if fn != "empty":
        assert_same(expected, actual)


def test_filled_dtypes_and_full(device):
    assert_same(torch.zeros(2, 3, dtype=torch.long), tkern.zeros(2, 3, dtype=tkern.long, device=device))
    assert_same(torch.full((2, 2), 7), tkern.full((2, 2), 7, device=device))
    assert_same(torch.full((2,), 1.5), tkern.full((2,), 1.5, device=device))
    assert_same(torch.full((2,), True), tkern.full((2,), True, device=device))
    assert_same(torch.full((2,), 0.5, dtype=torch.bool), tkern.full((2,), 0.5, dtype=tkern.bool, device=device))
    assert_same(torch.full((3,), 2, dtype=torch.float64), tkern.full((3,), 2, dtype=tkern.float64, device=device))
    check_error(lambda: torch.zeros(-1), lambda: tkern.zeros(-1))


@pytest.mark.parametrize("args,kwargs", [
    ((5,), {}), ((0, 10, 2), {}), ((1, 4), {}), ((0, 1, 0.25), {}), ((2.5,), {}), ((10, 0, -3), {}),
    ((0, 5), {"dtype": "float64"}), ((1, 2, 0.1), {}), ((0,), {}),
])
def test_arange(args, kwargs, device):
    kw_t = {k: getattr(torch, v) for k, v in kwargs.items()}
    kw_k = {k: getattr(tkern, v) for k, v in kwargs.items()}
    assert_same(torch.arange(*args, **kw_t), tkern.arange(*args, **kw_k, device=device))


@pytest.mark.parametrize("args", [(0, 2100), (-3, 3), (-5, 5, 3), (1.5, 7.25, 1.3), (0.5, 100, 3.7), (-2.5, 3, 1.5),
                                  (2 ** 40, 2 ** 40 + 5), (1.5, 7.25, 0.3)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float32", "float64", "float16"])
def test_arange_every_dtype(args, dtype, device):
    """Integer types truncate start and step first (int64 counts from the truncated bounds too),
    narrow types wrap; longer than one GPU block."""
    if dtype == "int64" and args == (1.5, 7.25, 0.3):
        check_error(lambda: torch.arange(*args, dtype=torch.int64), lambda: tkern.arange(*args, dtype=tkern.int64))
        return
    expected = torch.arange(*args, dtype=getattr(torch, dtype))
    # float arange differs by an ulp between torch's own CPU (vector width) and CUDA kernels
    assert_same(expected, tkern.arange(*args, dtype=getattr(tkern, dtype), device=device), atol=0,
                rtol=1e-3 if dtype == "float16" else 1e-6)


def test_arange_errors():
    check_error(lambda: torch.arange(0, 5, 0), lambda: tkern.arange(0, 5, 0))
    check_error(lambda: torch.arange(5, 0, 1), lambda: tkern.arange(5, 0, 1))
    check_error(lambda: torch.arange(5, dtype=torch.bool), lambda: tkern.arange(5, dtype=tkern.bool))


def test_ranges_are_computed_on_the_device(device, monkeypatch):
    """arange, linspace and eye run the device's own kernels: nothing is uploaded from the host."""
    from tkern.ops import cuda_memory

    def no_upload(*args):
        raise AssertionError("values were computed on the host and uploaded")

    monkeypatch.setattr(cuda_memory, "to_device", no_upload)
    assert_same(torch.arange(3, 40, 3), tkern.arange(3, 40, 3, device=device))
    assert_same(torch.linspace(-1, 2, 9), tkern.linspace(-1, 2, 9, device=device))
    assert_same(torch.eye(3, 4), tkern.eye(3, 4, device=device))


@pytest.mark.parametrize("start,end,steps", [(-math.pi, math.pi, 2000), (0, 1, 5), (3, -2, 7), (0, 1, 1), (0, 1, 0)])
def test_linspace(start, end, steps, device):
    assert_same(torch.linspace(start, end, steps), tkern.linspace(start, end, steps, device=device), atol=1e-6)
    assert_same(torch.linspace(start, end, steps, dtype=torch.float64),
                tkern.linspace(start, end, steps, dtype=tkern.float64, device=device))
    # integer types: the bounds are truncated first, each value truncated from float64
    for dtype in ["int64", "int32", "uint8"] if start >= 0 and end >= 0 else ["int64", "int16"]:
        assert_same(torch.linspace(start, end, steps, dtype=getattr(torch, dtype)),
                    tkern.linspace(start, end, steps, dtype=getattr(tkern, dtype), device=device))


def test_linspace_integer_bounds_like_torch(device):
    """Bounds convert to the integer type as torch's Scalar does: a negative into uint8 wraps where its
    magnitude fits, anything else out of range is refused; bool is refused."""
    assert_same(torch.linspace(-5, 5, 3, dtype=torch.uint8), tkern.linspace(-5, 5, 3, dtype=tkern.uint8, device=device))
    assert_same(torch.linspace(-3.7, 9.2, 5, dtype=torch.int32),
                tkern.linspace(-3.7, 9.2, 5, dtype=tkern.int32, device=device))
    for start, end, dtype in [(0, 255, "int8"), (-300, 5, "uint8"), (0, 300, "uint8"), (0, 1, "bool")]:
        check_error(lambda: torch.linspace(start, end, 3, dtype=getattr(torch, dtype)),
                    lambda: tkern.linspace(start, end, 3, dtype=getattr(tkern, dtype), device=device))


def test_linspace_matches_torch_bit_for_bit_on_the_seed_grid(device):
    t = torch.linspace(-math.pi, math.pi, 2000)
    k = tkern.linspace(-math.pi, math.pi, 2000, device=device)
    assert np.array_equal(t.numpy(), k.cpu().numpy())


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1,), (3, 0), (40, 37)])
def test_eye(args, device):
    assert_same(torch.eye(*args), tkern.eye(*args, device=device))
    assert_same(torch.eye(*args, dtype=torch.int64), tkern.eye(*args, dtype=tkern.int64, device=device))
    assert_same(torch.eye(*args, dtype=torch.bool), tkern.eye(*args, dtype=tkern.bool, device=device))


def test_random_shapes_ranges_and_seeding(device):
    tkern.manual_seed(3)
    a = tkern.rand(1000, device=device)
    assert a.dtype is tkern.float32 and 0 <= a.min().item() and a.max().item() < 1
    assert 0.4 < a.mean().item() < 0.6
    n = tkern.randn(2000, dtype=tkern.float64, device=device)
    assert n.dtype is tkern.float64 and abs(n.mean().item()) < 0.1 and 0.9 < n.std().item() < 1.1
    r = tkern.randint(3, 7, (500,), device=device)
    assert r.dtype is tkern.int64 and r.min().item() == 3 and r.max().item() == 6
    assert tkern.randint(5, (2, 2), device=device).shape == (2, 2)
    tkern.manual_seed(3)
    assert tkern.rand(1000, device=device).tolist() == a.tolist()
    assert tkern.randn((), device=device).shape == ()


def test_cuda_seeding_functions(device):
    """tkern.cuda.manual_seed(_all) reseed the GPU generator and leave the CPU one alone; without
    'cuda' they do nothing, as in torch."""
    tkern.manual_seed(11)
    first_cpu, second_cpu = tkern.rand(5).tolist(), tkern.rand(5).tolist()
    tkern.manual_seed(11)
    first_gpu = tkern.rand(5, device=device).tolist()
    for reseed in (tkern.cuda.manual_seed, tkern.cuda.manual_seed_all):
        tkern.manual_seed(11)
        assert tkern.rand(5).tolist() == first_cpu
        reseed(11)
        assert tkern.rand(5).tolist() == second_cpu
        if device == "cuda":
            tkern.rand(5, device=device)
            reseed(11)
            assert tkern.rand(5, device=device).tolist() == first_gpu
            assert tkern.cuda.initial_seed() == 11


FLOAT_DTYPES = [tkern.float16, tkern.bfloat16, tkern.float32, tkern.float64]


def _host(x) -> np.ndarray:
    return np.asarray(x.float().cpu().numpy() if x.dtype is tkern.bfloat16 else x.cpu().numpy(), dtype=np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_rand_and_randn_every_float_dtype(dtype, device):
    tkern.manual_seed(11)
    u = tkern.rand(4000, dtype=dtype, device=device)
    n = tkern.randn(2, 2001, dtype=dtype, device=device)
    assert u.dtype is dtype and n.dtype is dtype and u.device.type == device and n.shape == (2, 2001)
    hu, hn = _host(u), _host(n)
    assert hu.min() >= 0 and abs(hu.mean() - 0.5) < 0.03 and abs(hu.std() - 12 ** -0.5) < 0.02
    # torch's guarantee is [0, 1) after rounding to the dtype (the CPU backend's half types round up to 1.0)
    assert hu.max() < 1 or (device == "cpu" and dtype.itemsize == 2)
    assert np.isfinite(hn).all() and abs(hn.mean()) < 0.1 and abs(hn.std() - 1) < 0.1
    assert len(np.unique(hu)) > (200 if dtype is tkern.bfloat16 else 1500)
    tkern.manual_seed(11)
    assert tkern.rand(4000, dtype=dtype, device=device).tolist() == u.tolist()
    assert tkern.randn(2, 2001, dtype=dtype, device=device).tolist() == n.tolist()


def test_manual_seed_reaches_a_generator_made_after_it(device):
    # like torch's lazy CUDA seeding: the device's generator is made by its first draw
    tkern.random._generators.clear()
    tkern.manual_seed(4)
    a = tkern.rand(5, device=device).tolist()
    tkern.manual_seed(4)
    assert tkern.rand(5, device=device).tolist() == a


def _draws(device) -> list:
    return [tkern.rand(3, device=device).tolist(), tkern.randn(5000, device=device).tolist(),
            tkern.rand(7, dtype=tkern.float64, device=device).tolist(),
            tkern.randint(0, 2 ** 40, (9,), device=device).tolist()]


def test_random_calls_draw_fresh_numbers(device):
    tkern.manual_seed(5)
    first, second = _draws(device), _draws(device)
    assert all(a != b for a, b in zip(first, second))
    tkern.manual_seed(5)
    assert _draws(device) == first
    g = tkern.Generator(device).manual_seed(9)
    a = tkern.rand(6, generator=g, device=device).tolist()
    assert tkern.rand(6, generator=g, device=device).tolist() != a
    g.manual_seed(9)
    assert tkern.rand(6, generator=g, device=device).tolist() == a


def test_int64_offsets_path_draws_the_same_numbers(device, monkeypatch):
    # outputs of 2**31 elements are too big to test: the wide-index kernel must draw what the narrow one does
    def draws():
        tkern.manual_seed(11)
        return [tkern.rand(37, device=device).tolist(), tkern.randn(5, 3, device=device, dtype=tkern.float64).tolist(),
                tkern.randint(-9, 2 ** 40, (21,), device=device).tolist(),
                tkern.randint(0, 7, (3, 5), device=device, dtype=tkern.int8).tolist()]

    narrow = draws()
    if device == "cuda":
        from tkern.ops import triton_random
        monkeypatch.setattr(triton_random, "needs_int64", lambda *args: True)
    assert draws() == narrow


@pytest.mark.parametrize("low,high", [(0, 2), (3, 7), (-10, -4), (-2 ** 31, 2 ** 31), (0, 2 ** 32), (-5, 2 ** 33),
                                      (-2 ** 62, 2 ** 62), (-2 ** 63, 2 ** 63 - 1), (2 ** 62, 2 ** 62 + 3)])
def test_randint_ranges(low, high, device):
    tkern.manual_seed(2)
    r = tkern.randint(low, high, (3000,), device=device)
    assert r.dtype is tkern.int64
    values = r.tolist()
    assert min(values) >= low and max(values) < high
    if high - low <= 8:
        assert set(values) == set(range(low, high))
    else:
        # spread over the range: both halves are hit and values hardly repeat
        middle = (low + high) // 2
        assert any(v < middle for v in values) and any(v >= middle for v in values)
        assert len(set(values)) > 2900
    tkern.manual_seed(2)
    assert tkern.randint(low, high, (3000,), device=device).tolist() == values


@pytest.mark.parametrize("dtype", [tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64, tkern.float16,
                                   tkern.bfloat16, tkern.float32, tkern.float64], ids=str)
def test_randint_every_dtype(dtype, device):
    low = 0 if dtype is tkern.uint8 else -3
    r = tkern.randint(low, 100, (50, 40), dtype=dtype, device=device)
    assert r.dtype is dtype and r.shape == (50, 40)
    values = _host(r)
    assert (values == np.round(values)).all() and values.min() >= low
    assert values.max() < 100 and len(np.unique(values)) > 90
    assert tkern.randint(2, (0, 3), dtype=dtype, device=device).shape == (0, 3)


def test_random_errors():
    check_error(lambda: torch.rand(2, dtype=torch.int64), lambda: tkern.rand(2, dtype=tkern.int64))
    check_error(lambda: torch.randint(5, 5, (2,)), lambda: tkern.randint(5, 5, (2,)))
    # bounds the integer type cannot hold are refused, not wrapped
    for low, high, dtype in [(-5, 5, "uint8"), (0, 300, "uint8"), (0, 2 ** 33, "int32"), (-129, 0, "int8"),
                             (0, 3, "bool"), (-2 ** 15 - 1, 0, "int16"), (0, 2 ** 15 + 1, "int16"),
                             (0, 2 ** 31, "float16")]:
        error = check_error(lambda: torch.randint(low, high, (2,), dtype=getattr(torch, dtype)),
                            lambda: tkern.randint(low, high, (2,), dtype=getattr(tkern, dtype)))
        with pytest.raises(RuntimeError, match=str(error).split(" for ")[0]):
            torch.randint(low, high, (2,), dtype=getattr(torch, dtype))
        check_error(lambda: torch.randint_like(torch.ones(2, dtype=getattr(torch, dtype)), low, high),
                    lambda: tkern.randint_like(tkern.ones(2, dtype=getattr(tkern, dtype)), low, high))
    assert tkern.randint(0, 256, (9,), dtype=tkern.uint8).dtype is tkern.uint8
    assert set(tkern.randint(0, 2, (64,), dtype=tkern.bool).tolist()) == {False, True}


def test_like_functions(device):
    base_t = torch.tensor([[1, 2], [3, 4]])
    base_k = tkern.tensor([[1, 2], [3, 4]], device=device)
    assert_same(torch.ones_like(base_t), tkern.ones_like(base_k))
    assert_same(torch.zeros_like(base_t, dtype=torch.float), tkern.zeros_like(base_k, dtype=tkern.float))
    assert_same(torch.full_like(base_t, 9), tkern.full_like(base_k, 9))
    r = tkern.rand_like(base_k, dtype=tkern.float)
    assert r.shape == (2, 2) and r.dtype is tkern.float32
    assert tkern.randn_like(r).dtype is tkern.float32
    assert tkern.empty_like(base_k).dtype is tkern.int64
    check_error(lambda: torch.rand_like(base_t), lambda: tkern.rand_like(base_k))


def test_legacy_constructors():
    c = tkern.FloatTensor(2, 3)
    assert c.shape == (2, 3) and c.dtype is tkern.float32
    assert isinstance(c, tkern.FloatTensor) and not isinstance(c, tkern.LongTensor)
    assert tkern.LongTensor([1, 2]).dtype is tkern.int64
    assert tkern.FloatTensor([1, 2]).tolist() == [1.0, 2.0]
    assert tkern.Tensor(2, 2).shape == (2, 2)
    assert tkern.DoubleTensor(tkern.Size([3])).shape == (3,)


def test_import_loads_neither_torch_nor_triton():
    code = "import sys, tkern; tkern.ones(2) + 1; print('torch' in sys.modules, 'triton' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


FACTORIES_WITH_DTYPE = [("ones", (2,)), ("zeros", (2,)), ("empty", (2,)), ("full", ((2,), 1.0)), ("tensor", ([1.0],)),
                        ("arange", (3,)), ("linspace", (0, 1, 3)), ("eye", (2,)), ("rand", (2,)), ("randn", (2,)),
                        ("randint", (3, (2,)))]


@pytest.mark.parametrize("name, args", FACTORIES_WITH_DTYPE, ids=[n for n, _ in FACTORIES_WITH_DTYPE])
def test_dtype_given_as_a_string_is_a_type_error(name, args, device):
    error = check_error(lambda: getattr(torch, name)(*args, dtype="float32"),
                        lambda: getattr(tkern, name)(*args, dtype="float32", device=device))
    assert "dtype" in str(error)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_dtype_given_as_a_string_is_a_type_error(name, device):
    check_error(lambda: getattr(torch, name)(torch.ones(2), dtype="float32"),
                lambda: getattr(tkern, name)(tkern.ones(2, device=device), dtype="float32"))


@pytest.mark.parametrize("python_type", [float, int, bool], ids=lambda t: t.__name__)
@pytest.mark.parametrize("name,args", FACTORIES_WITH_DTYPE, ids=[n for n, _ in FACTORIES_WITH_DTYPE])
def test_dtype_given_as_a_python_type_is_read_like_torch(name, args, python_type, device):
    """torch reads dtype=float as float64, int as int64, bool as bool (and refuses what it refuses for
    those dtypes: rand of int64, arange of bool...)."""
    try:
        expected = getattr(torch, name)(*args, dtype=python_type)
    except Exception:
        check_error(lambda: getattr(torch, name)(*args, dtype=python_type),
                    lambda: getattr(tkern, name)(*args, dtype=python_type, device=device))
        return
    actual = getattr(tkern, name)(*args, dtype=python_type, device=device)
    assert str(actual.dtype).replace("tkern", "torch") == str(expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape)


NEW_FACTORIES = [
    ("new_ones", (2, 3), {}), ("new_ones", ((4,),), {"dtype": "int32"}), ("new_zeros", (0,), {}),
    ("new_zeros", ((2, 1),), {"requires_grad": True}), ("new_full", ((3,), 2.5), {}),
    ("new_full", ((2, 2), 7), {"dtype": "int64"}), ("new_tensor", ([1, 2, 3],), {}),
    ("new_tensor", ([[1.5], [2.5]],), {"dtype": "float16"}), ("new_tensor", (True,), {}),
]


@pytest.mark.parametrize("name,args,options", NEW_FACTORIES, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [tkern.float64, tkern.int16], ids=lambda d: d.name)
def test_new_factories_take_the_tensors_dtype_and_device(name, args, options, dtype, device):
    source_t = torch.ones(2, dtype=TORCH_DTYPES[dtype])
    source_k = tkern.ones(2, dtype=dtype, device=device)
    t_options = {k: getattr(torch, v) if k == "dtype" else v for k, v in options.items()}
    k_options = {k: getattr(tkern, v) if k == "dtype" else v for k, v in options.items()}
    if options.get("requires_grad") and not dtype.is_floating_point:
        check_error(lambda: getattr(source_t, name)(*args, **t_options),
                    lambda: getattr(source_k, name)(*args, **k_options))
        return
    expected, actual = getattr(source_t, name)(*args, **t_options), getattr(source_k, name)(*args, **k_options)
    assert actual.device == source_k.device and actual.requires_grad == expected.requires_grad
    assert_same(expected, actual)


def test_new_empty_and_new_tensor_of_a_tensor(device):
    source = tkern.ones(2, dtype=tkern.float16, device=device)
    empty = source.new_empty((3, 0))
    assert tuple(empty.shape) == (3, 0) and empty.dtype is tkern.float16 and empty.device == source.device
    data = tkern.tensor([1, 2], device=device)
    with pytest.warns(UserWarning, match="sourceTensor.detach"):
        copy = source.new_tensor(data)
    data[0] = 5
    assert copy.tolist() == [1.0, 2.0] and copy.dtype is tkern.float16
    check_error(lambda: torch.ones(2).new_full(2, 3), lambda: source.new_full(2, 3))


def test_variable_is_a_tensor_sharing_memory(device):
    t = tkern.tensor([1.0, 2.0], device=device)
    v = tkern.autograd.Variable(t, requires_grad=True)
    assert isinstance(v, tkern.Tensor) and isinstance(t, tkern.autograd.Variable)
    assert v is not t and v.requires_grad and not t.requires_grad and v.data_ptr() == t.data_ptr()
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    assert not tkern.autograd.Variable(t).requires_grad
    assert tuple(tkern.autograd.Variable().shape) == tuple(torch.autograd.Variable().shape) == (0,)
    check_error(lambda: torch.autograd.Variable([1.0]), lambda: tkern.autograd.Variable([1.0]))


def test_factories_honour_the_default_device(device):
    assert str(tkern.get_default_device()) == str(torch.get_default_device()) == "cpu"
    tkern.set_default_device(device)
    try:
        target = tkern.device(device) if device == "cpu" else tkern.device("cuda", 0)
        assert tkern.get_default_device() == target
        made = [tkern.zeros(2), tkern.ones(1, 2), tkern.empty(3), tkern.full((2,), 1.5), tkern.tensor([1, 2]),
                tkern.as_tensor(np.ones(2)), tkern.arange(4), tkern.linspace(0, 1, 5), tkern.eye(2), tkern.rand(2),
                tkern.randn(2), tkern.randint(0, 5, (2,)), tkern.nn.Linear(2, 3).weight]
        assert all(t.device == target for t in made)
        cpu_tensor = tkern.ones(2, device="cpu")
        assert cpu_tensor.device.type == "cpu" and tkern.zeros_like(cpu_tensor).device.type == "cpu"
        assert tkern.from_numpy(np.ones(2)).device.type == "cpu"
    finally:
        tkern.set_default_device(None)
    assert tkern.get_default_device() == tkern.device("cpu") and tkern.zeros(1).device.type == "cpu"


def test_accelerator_reports_what_tkern_can_use():
    assert tkern.accelerator.is_available() == tkern.cuda.is_available()
    if tkern.accelerator.is_available():
        assert tkern.accelerator.current_accelerator() == tkern.device("cuda")
        assert tkern.accelerator.device_count() == tkern.cuda.device_count() >= 1
        assert tkern.accelerator.current_device_index() == tkern.cuda.current_device()
    else:
        # torch's CPU build reports the same on a machine without a GPU
        assert tkern.accelerator.current_accelerator() is None is torch.accelerator.current_accelerator()
        assert tkern.accelerator.device_count() == 0 == torch.accelerator.device_count()
