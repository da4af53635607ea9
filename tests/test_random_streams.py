"""Random draws: on 'cpu' torch's own streams bit for bit after the same seed (every draw followed by a
second one, so the stream position is checked too); on both devices the distributions' shapes, dtypes,
ranges, determinism, node names and torch's errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
from tests.helpers import TORCH_DTYPES, assert_same, check_error, to_numpy

SEEDS = [0, 1, 42, 2 ** 40 + 7]


def _intel_cpu() -> bool:
    try:
        with open("/proc/cpuinfo") as info:
            return "GenuineIntel" in info.read()
    except OSError:
        return False


# torch draws bernoulli_(p) for a number p (Dropout's masks) from MKL's own generator on Intel CPUs;
# everywhere else from its MT19937 words, a float64 uniform below p: the stream tkern reproduces
TORCH_COINS_FROM_MKL = _intel_cpu() and torch.backends.mkl.is_available()


def _torch_coins(shape, p: float, dtype=torch.float32) -> torch.Tensor:
    if TORCH_COINS_FROM_MKL:  # the same words and comparison as torch's kernel for other CPUs
        return (torch.rand(shape, dtype=torch.float64) < p).to(dtype)
    return torch.empty(shape, dtype=dtype).bernoulli_(p)
SIZES = [1, 2, 15, 16, 17, 100, 1001, 10000]
FLOATS = [tkern.float32, tkern.float64, tkern.float16, tkern.bfloat16]


def _seeded(seed: int) -> None:
    torch.manual_seed(seed)
    tkern.manual_seed(seed)


def _same_bits(expected: torch.Tensor, actual: tkern.Tensor) -> None:
    assert TORCH_DTYPES[actual.dtype] is expected.dtype and tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(to_numpy(actual), to_numpy(expected))


def _then_same_stream() -> None:
    _same_bits(torch.rand(3, dtype=torch.float64), tkern.rand(3, dtype=tkern.float64))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_rand_randn_uniform_normal(seed, size, dtype):
    t = TORCH_DTYPES[dtype]
    _seeded(seed)
    _same_bits(torch.rand(size, dtype=t), tkern.rand(size, dtype=dtype))
    _same_bits(torch.randn(size, dtype=t), tkern.randn(size, dtype=dtype))
    _same_bits(torch.empty(size, dtype=t).uniform_(-0.1234567, 2.5), tkern.empty(size, dtype=dtype).uniform_(-0.1234567, 2.5))
    _same_bits(torch.empty(size, dtype=t).normal_(0.3, 1.7), tkern.empty(size, dtype=dtype).normal_(0.3, 1.7))
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64], ids=str)
def test_strided_fills_follow_memory_order(seed, dtype):
    t = TORCH_DTYPES[dtype]
    _seeded(seed)
    for make in (lambda lib, d: lib.empty(7, 5, dtype=d).t(), lambda lib, d: lib.empty(4, 9, dtype=d)[:, 1:8:2],
                 lambda lib, d: lib.empty(3, 4, 5, dtype=d).permute(2, 0, 1)):
        expected, actual = make(torch, t).normal_(1.0, 2.0), make(tkern, dtype).normal_(1.0, 2.0)
        _same_bits(expected, actual)
        _same_bits(make(torch, t).uniform_(), make(tkern, dtype).uniform_())
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS)
def test_integers_and_bits(seed):
    _seeded(seed)
    _same_bits(torch.randint(0, 10, (100,)), tkern.randint(0, 10, (100,)))
    _same_bits(torch.randint(-5, 2 ** 40, (50,)), tkern.randint(-5, 2 ** 40, (50,)))
    _same_bits(torch.randint(3, (2, 7), dtype=torch.int32), tkern.randint(3, (2, 7), dtype=tkern.int32))
    for name in ("int64", "int32", "int16", "uint8", "bool", "float32", "float64"):
        d = getattr(tkern, name)
        _same_bits(torch.empty(40, dtype=TORCH_DTYPES[d]).random_(), tkern.empty(40, dtype=d).random_())
        if name != "bool":
            _same_bits(torch.empty(40, dtype=TORCH_DTYPES[d]).random_(2, 9), tkern.empty(40, dtype=d).random_(2, 9))
            _same_bits(torch.empty(40, dtype=TORCH_DTYPES[d]).random_(7), tkern.empty(40, dtype=d).random_(7))
    _same_bits(torch.empty(20, dtype=torch.float64).random_(0, 2 ** 35), tkern.empty(20, dtype=tkern.float64).random_(0, 2 ** 35))
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm(seed):
    _seeded(seed)
    for n in (0, 1, 2, 5, 31, 1000):
        _same_bits(torch.randperm(n), tkern.randperm(n))
    _same_bits(torch.randperm(9, dtype=torch.int32), tkern.randperm(9, dtype=tkern.int32))
    g, tg = tkern.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 1)
    _same_bits(torch.randperm(50, generator=tg), tkern.randperm(50, generator=g))
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli_exponential_multinomial(seed):
    _seeded(seed)
    for p in (0.5, 0.1, 0.93):
        _same_bits(_torch_coins(333, p), tkern.empty(333).bernoulli_(p))
    probs = np.random.default_rng(seed).random((6, 7))
    for d in (tkern.float32, tkern.float64):
        tp, kp = torch.tensor(probs, dtype=TORCH_DTYPES[d]), tkern.tensor(probs, dtype=d)
        _same_bits(torch.bernoulli(tp), tkern.bernoulli(kp))
        _same_bits(torch.empty(6, 7).bernoulli_(tp[0]), tkern.empty(6, 7).bernoulli_(kp[0]))
        _same_bits(torch.empty(50, dtype=TORCH_DTYPES[d]).exponential_(2.5), tkern.empty(50, dtype=d).exponential_(2.5))
        for num, replacement in ((1, False), (3, False), (7, False), (1, True), (20, True)):
            _same_bits(torch.multinomial(tp, num, replacement), tkern.multinomial(kp, num, replacement))
            _same_bits(torch.multinomial(tp[2], num, replacement), tkern.multinomial(kp[2], num, replacement))
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_normal_function_forms(seed):
    _seeded(seed)
    mean, std = np.random.default_rng(seed).random((2, 3, 4)) + 0.5
    tm, km = torch.tensor(mean, dtype=torch.float32), tkern.tensor(mean, dtype=tkern.float32)
    ts, ks = torch.tensor(std[0], dtype=torch.float32), tkern.tensor(std[0], dtype=tkern.float32)
    _same_bits(torch.normal(tm, ts), tkern.normal(km, ks))
    _same_bits(torch.normal(tm, 2.5), tkern.normal(km, 2.5))
    _same_bits(torch.normal(-1.5, ts), tkern.normal(-1.5, ks))
    _same_bits(torch.normal(0.5, 3.0, (5, 6)), tkern.normal(0.5, 3.0, (5, 6)))
    _same_bits(torch.normal(0.5, 3.0, (20,), dtype=torch.float64), tkern.normal(0.5, 3.0, (20,), dtype=tkern.float64))
    _then_same_stream()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_dropout_masks_and_module_initialisation(seed):
    _seeded(seed)
    for shape, order in (((64,), None), ((8, 10), (1, 0)), ((3, 4, 5), (2, 0, 1)), ((9, 17), None)):
        x, y = torch.randn(*shape), tkern.randn(*shape)
        if order:
            x, y = x.permute(*order), y.permute(*order)
        for p in (0.2, 0.5, 0.9):
            if TORCH_COINS_FROM_MKL:  # float64 uniforms in x's memory order, as the non-MKL kernel draws
                coins = torch.empty_like(x, dtype=torch.float64).uniform_() < 1 - p
                expected = x * (coins.to(x.dtype) / (1 - p))
            else:
                expected = torch.nn.functional.dropout(x, p)
            _same_bits(expected, tkern.nn.functional.dropout(y, p))
    expected = torch.nn.Sequential(torch.nn.Linear(30, 20), torch.nn.ReLU(), torch.nn.Linear(20, 3))
    actual = tkern.nn.Sequential(tkern.nn.Linear(30, 20), tkern.nn.ReLU(), tkern.nn.Linear(20, 3))
    for e, a in zip(expected.parameters(), actual.parameters()):
        _same_bits(e.detach(), a.detach())
    _then_same_stream()


def test_generator_state_round_trip():
    g = tkern.Generator().manual_seed(5)
    tkern.randn(3, generator=g)  # an odd count of scalar normals leaves half a Box-Muller pair cached
    state = g.get_state()
    first = tkern.randn(5, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(first.numpy(), tkern.randn(5, generator=g).numpy())
    tkern.manual_seed(3)
    saved = tkern.get_rng_state()
    a = tkern.rand(4)
    tkern.set_rng_state(saved)
    np.testing.assert_array_equal(a.numpy(), tkern.rand(4).numpy())
    check_error(lambda: torch.Generator().set_state(torch.zeros(3, dtype=torch.uint8)),
                lambda: tkern.Generator().set_state(tkern.zeros(3, dtype=tkern.uint8)))


def test_initial_seed_is_fresh_per_process_until_seeded():
    program = "import tkern; print(tkern.initial_seed()); print(tkern.rand(2).tolist())"
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] != runs[1]
    seeded = "import tkern; tkern.manual_seed(7); print(tkern.initial_seed())"
    assert subprocess.run([sys.executable, "-c", seeded], capture_output=True, text=True, check=True).stdout == "7\n"
    assert tkern.Generator().initial_seed() == torch.Generator().initial_seed()


# ----- both devices: shapes, dtypes, ranges, determinism, nodes, errors -----

def _draws(device):
    return [
        tkern.rand(5, 3, device=device), tkern.randn(17, device=device, dtype=tkern.float64),
        tkern.randint(-4, 4, (9,), device=device), tkern.randperm(12, device=device),
        tkern.empty(10, device=device).uniform_(-2, 3), tkern.empty(6, 2, device=device).t().normal_(5, 0.5),
        tkern.empty(11, dtype=tkern.int32, device=device).random_(3, 9), tkern.empty(8, device=device).bernoulli_(0.4),
        tkern.bernoulli(tkern.full((2, 5), 0.5, device=device)), tkern.empty(7, device=device).exponential_(3.0),
        tkern.multinomial(tkern.tensor([[0.2, 0.0, 0.8], [1.0, 1.0, 1.0]], device=device), 5, True),
        tkern.multinomial(tkern.tensor([0.2, 0.1, 0.7, 0.0], device=device), 3),
        tkern.normal(tkern.zeros(2, 3, device=device), tkern.ones(3, device=device)),
    ]


def test_draws_on_each_device(device):
    tkern.manual_seed(11)
    first = _draws(device)
    tkern.manual_seed(11)
    again = _draws(device)
    for a, b in zip(first, again):
        assert a.device.type == device
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    rand, randn, randint, perm, uniform, normal, integers, coins, coins2, expo, with_repeats, without, normals = first
    assert rand.shape == (5, 3) and rand.dtype is tkern.float32 and ((rand >= 0) & (rand < 1)).all()
    assert randn.dtype is tkern.float64 and randn.shape == (17,)
    assert randint.dtype is tkern.int64 and ((randint >= -4) & (randint < 4)).all()
    assert sorted(perm.tolist()) == list(range(12))
    assert ((uniform >= -2) & (uniform < 3)).all() and uniform.std() > 0
    assert normal.shape == (2, 6) and abs(normal.mean().item() - 5) < 1
    assert integers.dtype is tkern.int32 and ((integers >= 3) & (integers < 9)).all()
    assert set(coins.tolist()) <= {0.0, 1.0} and set(coins2.flatten().tolist()) <= {0.0, 1.0}
    assert (expo > 0).all()
    assert with_repeats.shape == (2, 5) and 1 not in with_repeats[0].tolist()
    assert without.shape == (3,) and len(set(without.tolist())) == 3 and 3 not in without.tolist()
    assert normals.shape == (2, 3)


def test_large_draws_have_their_moments(device):
    tkern.manual_seed(2)
    n = 40000
    uniform, normal = tkern.rand(n, device=device), tkern.randn(n, device=device)
    assert abs(uniform.mean().item() - 0.5) < 0.01 and abs(uniform.var().item() - 1 / 12) < 0.005
    assert abs(normal.mean().item()) < 0.03 and abs(normal.std().item() - 1) < 0.03
    coins = tkern.empty(n, device=device).bernoulli_(0.3)
    assert abs(coins.mean().item() - 0.3) < 0.02
    counts = np.bincount(tkern.multinomial(tkern.tensor([0.1, 0.6, 0.3], device=device), 3000, True).cpu().numpy(),
                         minlength=3) / 3000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.04)


def test_generators_per_device(device):
    g = tkern.Generator(device).manual_seed(4)
    a = tkern.randn(6, generator=g, device=device)
    g.manual_seed(4)
    np.testing.assert_array_equal(a.cpu().numpy(), tkern.randn(6, generator=g, device=device).cpu().numpy())
    if device == "cuda":  # torch's message (its CPU build cannot make a CUDA generator to compare with)
        with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
            tkern.randn(3, generator=tkern.Generator("cpu"), device="cuda")


def test_draws_pass_no_gradient(device):
    x = tkern.rand(3, 4, device=device, requires_grad=True)
    mean_only = tkern.normal(x, 1.0)
    assert mean_only.grad_fn.name() == "NormalBackward1"
    assert tkern.normal(1.0, x).grad_fn.name() == "NormalBackward2"
    assert tkern.normal(x, x).grad_fn.name() == "NormalBackward3"
    coins = tkern.bernoulli(x)
    assert coins.grad_fn.name() == "BernoulliBackward0"
    (mean_only.sum() + coins.sum()).backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.zeros((3, 4), np.float32))
    assert tkern.nn.functional.dropout(x, 0.5).grad_fn.name() == "MulBackward0"


def test_dropout_semantics(device):
    x = tkern.randn(4, 5, device=device)
    assert tkern.nn.functional.dropout(x, 0.5, training=False) is x
    assert tkern.nn.functional.dropout(x, 0.0) is x
    assert (tkern.nn.functional.dropout(x, 1.0) == 0).all()
    kept = tkern.nn.functional.dropout(x, 0.25)
    assert ((kept == 0) | ((kept - x / 0.75).abs() < 1e-6)).all()
    y = x.clone()
    assert tkern.nn.functional.dropout(y, 0.5, inplace=True) is y
    layer = tkern.nn.Dropout(0.5)
    assert repr(layer) == repr(torch.nn.Dropout(0.5)) and repr(tkern.nn.Dropout(0.1, True)) == repr(torch.nn.Dropout(0.1, True))
    layer.eval()
    assert layer(x) is x


ERRORS = [
    lambda lib, d: lib.zeros(3, dtype=lib.int64, device=d).uniform_(),
    lambda lib, d: lib.zeros(3, device=d).uniform_(1, 0),
    lambda lib, d: lib.zeros(3, device=d).normal_(0, -1),
    lambda lib, d: lib.zeros(3, dtype=lib.int64, device=d).normal_(),
    lambda lib, d: lib.zeros(3, device=d).bernoulli_(1.5),
    lambda lib, d: lib.zeros(3, device=d).bernoulli_(-0.1),
    lambda lib, d: lib.bernoulli(lib.tensor([0.5, 1.2], device=d)),
    lambda lib, d: lib.bernoulli(lib.tensor([1, 0], device=d)),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, 0.2], device=d), 3),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, -0.2], device=d), 1),
    lambda lib, d: lib.multinomial(lib.tensor([0.0, 0.0], device=d), 1),
    lambda lib, d: lib.multinomial(lib.tensor([[[0.3]]], device=d), 1),
    lambda lib, d: lib.multinomial(lib.tensor([1, 2], device=d), 1),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, 0.2], device=d), 0),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, float("inf")], device=d), 1),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, float("nan")], device=d), 2, True),
    lambda lib, d: lib.multinomial(lib.tensor([0.3, -0.2], device=d), 2, True),
    lambda lib, d: lib.randperm(-1, device=d),
    lambda lib, d: lib.randperm(300, dtype=lib.uint8, device=d),
    lambda lib, d: lib.randperm(3, requires_grad=True, device=d),
    lambda lib, d: lib.normal(lib.zeros(2, device=d), -1.0),
    lambda lib, d: lib.normal(lib.zeros(2, device=d), lib.tensor([1.0, -1.0], device=d)),
    lambda lib, d: lib.zeros(3, device=d).random_(5, 2),
    lambda lib, d: lib.zeros(3, dtype=lib.uint8, device=d).random_(0, 300),
    lambda lib, d: lib.zeros(3, device=d).exponential_(-1),
    lambda lib, d: lib.nn.functional.dropout(lib.ones(3, device=d), 1.5),
    lambda lib, d: lib.nn.Dropout(-0.1),
    lambda lib, d: lib.nn.functional.dropout(lib.ones(3, dtype=lib.int64, device=d), 0.5),
    lambda lib, d: lib.ones(2, requires_grad=True, device=d).uniform_(),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors(case, device):
    make = ERRORS[case]
    torch_device = "cpu"  # torch's messages are its CPU ones; tkern gives them on both devices
    check_error(lambda: make(torch, torch_device), lambda: make(tkern, device))


def test_nothing_written_on_refusal(device):
    x = tkern.ones(4, device=device)
    for bad in (lambda: x.uniform_(2, 1), lambda: x.normal_(0, -2), lambda: x.bernoulli_(2.0),
                lambda: x.random_(3, 1), lambda: x.exponential_(0)):
        with pytest.raises(RuntimeError):
            bad()
        assert (x == 1).all()


def test_values_match_torch_where_certain(device):
    # p = 0 and 1 and std = 0 leave nothing to chance, on either device
    assert_same(torch.bernoulli(torch.tensor([0.0, 1.0, 1.0])), tkern.bernoulli(tkern.tensor([0.0, 1.0, 1.0], device=device)))
    assert_same(torch.normal(torch.arange(4.0), 0.0), tkern.normal(tkern.arange(4.0, device=device), 0.0))
