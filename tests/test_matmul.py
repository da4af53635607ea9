import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 3, 4), (5, 4, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
                 ((1, 1), (1, 1)), ((7, 9), (9, 5))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=[str(s) for s in MATMUL_SHAPES])
def test_matmul(shapes, device):
    check_op(list(shapes), torch.matmul, tkern.matmul, device=device, atol=1e-4)
    check_op(list(shapes), lambda a, b: a @ b, device=device, atol=1e-4)


@pytest.mark.parametrize("dtype", [tkern.float64, tkern.float16, tkern.int64, tkern.int32])
def test_matmul_dtypes(dtype, device):
    check_op([(4, 5), (5, 3)], torch.mm, tkern.mm, device=device, dtype=dtype, atol=1e-2, rtol=1e-2, low=-2, high=2)


def test_mm_bmm_dot_and_transposed_operands(device):
    check_op([(3, 4), (5, 4)], lambda a, b: torch.mm(a, b.t()), lambda a, b: tkern.mm(a, b.t()), device=device, atol=1e-5)
    check_op([(4, 3), (4, 5)], lambda a, b: a.t().mm(b), device=device, atol=1e-5)
    check_op([(2, 3, 4), (2, 4, 5)], torch.bmm, tkern.bmm, device=device, atol=1e-5)
    check_op([(2, 4, 3), (2, 5, 4)], lambda a, b: a.transpose(1, 2).bmm(b.transpose(1, 2)), device=device, atol=1e-5)
    check_op([(6,), (6,)], torch.dot, tkern.dot, device=device, atol=1e-5)
    check_op([(8, 6), (6,)], lambda a, b: a[::2] @ b, device=device, atol=1e-5)
    check_op([(1, 6), (6, 3)], lambda a, b: a.expand(4, 6) @ b, device=device, atol=1e-5)


def test_matmul_out(device):
    t_out, k_out = torch.empty(3, 3), tkern.empty(3, 3, device=device)
    check_op([(3, 3)], lambda a: torch.matmul(a, a.t(), out=t_out), lambda a: tkern.matmul(a, a.t(), out=k_out),
             device=device, atol=1e-5)


def test_matmul_errors(device):
    cases = [((2, 3), (4, 5), "mm"), ((2, 3), (4,), "matmul"), ((2,), (3,), "dot"), ((2,), (2, 2), "mm"),
             ((2, 2), (2, 2), "bmm"), ((), (2,), "matmul"), ((2, 3, 4), (3, 4, 5), "matmul"), ((2, 2), (2,), "dot"),
             ((2, 3, 4), (2, 5, 5), "bmm")]
    for sa, sb, name in cases:
        ta, ka = make_pair(random_array(sa), device)
        tb, kb = make_pair(random_array(sb), device)
        check_error(getattr(torch, name), getattr(tkern, name), (ta, tb), (ka, kb))
    ta, ka = make_pair(random_array((2, 2)), device)
    tb, kb = make_pair(random_array((2, 2)), device, tkern.float64)
    check_error(torch.mm, tkern.mm, (ta, tb), (ka, kb))


# ----- the Triton matmul kernels: edge shapes, layouts, dtypes, TF32 switches -----

EDGE_SHAPES = [((1, 1), (1, 1)), ((17, 33), (33, 9)), ((40, 32), (32, 50)), ((0, 5), (5, 3)), ((4, 5), (5, 0)),
               ((4, 0), (0, 3)), ((0, 0), (0, 0)), ((0, 2, 3), (0, 3, 4)), ((3, 1, 7), (3, 7, 1)), ((1, 17), (17, 1)),
               ((2, 1, 17, 20), (3, 20, 9)), ((1, 7, 5), (4, 5, 6)), ((33,), (2, 33, 9)), ((3, 2, 0), (0, 5))]


@pytest.mark.parametrize("shapes", EDGE_SHAPES, ids=[str(s) for s in EDGE_SHAPES])
def test_matmul_partial_tiles_and_empty(shapes, device):
    check_op(list(shapes), torch.matmul, tkern.matmul, device=device, atol=1e-4)


LAYOUTS = {
    "a_transposed": ([(33, 17), (33, 9)], lambda a, b: a.t() @ b),
    "b_transposed": ([(17, 33), (9, 33)], lambda a, b: a @ b.t()),
    "both_transposed": ([(33, 17), (9, 33)], lambda a, b: a.t() @ b.t()),
    "sliced_offset": ([(20, 40), (40, 12)], lambda a, b: a[3:, 5:38] @ b[5:38, 1:]),
    "strided_rows_cols": ([(36, 66), (33, 18)], lambda a, b: a[::2, ::2] @ b[:, ::2]),
    "batch_transposed": ([(17, 3, 20), (3, 20, 9)], lambda a, b: a.transpose(0, 1) @ b),
    "permuted_batch": ([(20, 2, 17), (2, 9, 20)], lambda a, b: a.permute(1, 2, 0) @ b.transpose(1, 2)),
    "expanded_rows": ([(1, 20), (20, 9)], lambda a, b: a.expand(17, 20) @ b),
    "broadcast_batch_transposed": ([(2, 1, 20, 17), (3, 9, 20)], lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2)),
    "sliced_batch": ([(6, 17, 20), (20, 9)], lambda a, b: a[1::2] @ b),
    "expanded_batch": ([(1, 17, 20), (4, 20, 9)], lambda a, b: a.expand(4, 17, 20).bmm(b)),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_matmul_views_read_in_place(name, device):
    shapes, fn = LAYOUTS[name]
    check_op(shapes, fn, device=device, atol=1e-4)


# float16/bfloat16 results are rounded once from a float32 sum (the interpreter truncates: 1 ulp)
FLOAT_TOLERANCES = {tkern.float16: (1e-2, 1e-2), tkern.bfloat16: (5e-2, 2e-2), tkern.float32: (1e-4, 1e-5),
                    tkern.float64: (1e-12, 1e-12)}


def check_matmul(shapes, fn, device, dtype, atol, rtol, seed=0):
    """check_op, but half-precision inputs are multiples of 1/8 in [-3, 3]: exact in both half types,
    so the result does not depend on how float32 data was rounded to them."""
    if dtype not in (tkern.float16, tkern.bfloat16):
        return check_op(shapes, fn, device=device, dtype=dtype, atol=atol, rtol=rtol, seed=seed)
    pairs = [make_pair(np.round(random_array(shape, tkern.float32, seed + i) * 8) / 8, device, dtype)
             for i, shape in enumerate(shapes)]
    assert_same(fn(*(t for t, _ in pairs)), fn(*(k for _, k in pairs)), atol, rtol)


@pytest.mark.parametrize("dtype", list(FLOAT_TOLERANCES), ids=lambda d: d.name)
@pytest.mark.parametrize("shapes", [((17, 33), (33, 9)), ((2, 1, 5, 32), (3, 32, 7)), ((1, 1), (1, 1))],
                         ids=["odd", "broadcast", "1x1"])
def test_matmul_float_dtypes(dtype, shapes, device):
    atol, rtol = FLOAT_TOLERANCES[dtype]
    check_matmul(list(shapes), lambda a, b: a @ b, device, dtype, atol, rtol)
    check_matmul([(33, 17), (9, 33)], lambda a, b: a.t() @ b.t(), device, dtype, atol, rtol)


SPLIT_AND_PAD_CASES = {
    "deep_k": ([(9, 203), (203, 11)], lambda a, b: a @ b),
    "deep_k_transposed": ([(203, 9), (11, 203)], lambda a, b: a.t() @ b.t()),
    # more splits than whole K tiles allow: the last shares start past the partial tile
    "deep_k_many_splits": ([(9, 515), (515, 7)], lambda a, b: a @ b),
    "odd_offsets": ([(10, 206), (205, 14)], lambda a, b: a[1:, 3:204] @ b[2:203, 1:12]),
    "batched": ([(3, 9, 203), (203, 11)], lambda a, b: a @ b),
}


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.bfloat16, tkern.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("name", list(SPLIT_AND_PAD_CASES))
def test_matmul_split_k_and_padded_copies(name, dtype, device, monkeypatch):
    """The GPU's large-problem paths at test sizes: K split over programs whose float32 slices are summed
    afterwards (few output tiles, deep K), and operands whose rows are not 16-byte aligned copied into
    zero-padded aligned buffers first."""
    if device == "cuda":
        from tkern.ops import triton_matmul
        monkeypatch.setattr(triton_matmul, "SPLIT_K_DEPTH", 48)
        monkeypatch.setattr(triton_matmul, "PAD_MIN_WORK", 0)
    shapes, fn = SPLIT_AND_PAD_CASES[name]
    atol, rtol = FLOAT_TOLERANCES[dtype]
    check_matmul(shapes, fn, device, dtype, atol * 10, rtol)


# (shapes, product, whether the TMA kernel takes it)
TMA_CASES = {
    "row_major": ([(40, 72), (72, 24)], lambda a, b: a @ b, True),
    "a_transposed": ([(72, 40), (72, 24)], lambda a, b: a.t() @ b, True),
    "b_transposed_odd_n": ([(40, 72), (21, 72)], lambda a, b: a @ b.t(), True),
    "offset_rows": ([(41, 64), (64, 24)], lambda a, b: a[1:] @ b, True),
    "odd_stride": ([(37, 50), (50, 21)], lambda a, b: a @ b, False),
    "odd_offset": ([(40, 73), (72, 24)], lambda a, b: a[:, 1:] @ b, False),
}


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.bfloat16], ids=lambda d: d.name)
@pytest.mark.parametrize("name", list(TMA_CASES))
def test_matmul_persistent_tma_kernel(name, dtype, device, monkeypatch):
    """sm_90's persistent TMA kernel, run through the interpreter at test sizes: descriptors over
    operands contiguous along K or along M/N (loaded as stored, transposed in shared memory), edges that
    the descriptors zero-fill, outputs stored by descriptor or (with a row stride that is not a 16-byte
    multiple) by pointer, and operands the portable kernel must take instead (odd strides)."""
    shapes, fn, expected = TMA_CASES[name]
    taken = []
    if device == "cuda":
        from tkern.ops import triton_matmul_tma
        monkeypatch.setattr(triton_matmul_tma, "UNDER_INTERPRETER", True)
        monkeypatch.setattr(triton_matmul_tma, "TMA_MIN_WORK", 0)
        run = triton_matmul_tma.matmul
        monkeypatch.setattr(triton_matmul_tma, "matmul", lambda *args: taken.append(1) or run(*args))
    atol, rtol = FLOAT_TOLERANCES[dtype]
    check_matmul(shapes, fn, device, dtype, atol, rtol)
    assert bool(taken) == (expected and device == "cuda")


def test_matmul_split_k_is_taken(monkeypatch):
    """The split is decided from the output tiles a GPU's SMs can hold and K's depth."""
    from tkern.ops import triton_matmul
    monkeypatch.setattr(triton_matmul.triton_arguments, "sm_count", lambda: 132)
    assert triton_matmul._split_k(1024, 1024, 65536, 1) == 2
    assert triton_matmul._split_k(256, 256, 65536, 1) == 16
    assert triton_matmul._split_k(4096, 4096, 4096, 1) == 1
    assert triton_matmul._split_k(256, 256, 65536, 4) == 1


INT_DTYPES = [tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64]


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: d.name)
def test_matmul_integers_exact(dtype, device):
    low = 0 if dtype is tkern.uint8 else -9
    for shapes in [((17, 33), (33, 9)), ((2, 1, 5, 20), (3, 20, 7)), ((1, 1), (1, 1)), ((4, 0), (0, 3))]:
        check_op(list(shapes), torch.matmul, tkern.matmul, device=device, dtype=dtype, low=low, high=9)
    check_op([(33, 17), (9, 33)], lambda a, b: a.t() @ b.t(), device=device, dtype=dtype, low=low, high=9)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: d.name)
def test_matmul_integers_wrap_like_torch(dtype, device):
    # products and sums past the type's range wrap around as in torch
    big = {tkern.uint8: 240, tkern.int8: 120, tkern.int16: 32000, tkern.int32: 2 ** 30, tkern.int64: 2 ** 62}[dtype]
    # entries in [big / 4, big], all representable in dtype
    values = random_array((5, 7), tkern.int64, seed=3, low=0, high=3) * (big // 4) + big // 4
    ta, ka = make_pair(values, device, dtype)
    assert_same(torch.mm(ta, ta.t()), tkern.mm(ka, ka.t()))


def test_matmul_float32_is_ieee_by_default(device):
    # TF32 would be off by ~1e-3 relative here; full float32 stays within ~1e-6
    assert tkern.get_float32_matmul_precision() == "highest"
    a64 = random_array((64, 256), tkern.float64, seed=1, low=-1, high=1)
    b64 = random_array((256, 48), tkern.float64, seed=2, low=-1, high=1)
    expected = torch.from_numpy(a64) @ torch.from_numpy(b64)
    ka = tkern.tensor(a64, device=device).float()
    kb = tkern.tensor(b64, device=device).float()
    assert_same(expected.float(), ka @ kb, atol=2e-5, rtol=1e-5)


@pytest.fixture
def restore_matmul_precision():
    saved = tkern.get_float32_matmul_precision()
    yield
    tkern.set_float32_matmul_precision(saved)


def test_tf32_switches_values_and_linkage(restore_matmul_precision):
    matmul_settings = tkern.backends.cuda.matmul
    assert matmul_settings.allow_tf32 is False and tkern.get_float32_matmul_precision() == "highest"
    matmul_settings.allow_tf32 = True
    assert tkern.get_float32_matmul_precision() == "high" and matmul_settings.allow_tf32 is True
    matmul_settings.allow_tf32 = False
    assert tkern.get_float32_matmul_precision() == "highest" and matmul_settings.allow_tf32 is False
    for precision, tf32 in [("medium", True), ("high", True), ("highest", False)]:
        tkern.set_float32_matmul_precision(precision)
        assert tkern.get_float32_matmul_precision() == precision
        assert tkern.backends.cuda.matmul.allow_tf32 is tf32
    tkern.set_float32_matmul_precision("medium")
    tkern.backends.cuda.matmul.allow_tf32 = True
    assert tkern.get_float32_matmul_precision() == "high"


def test_tf32_switches_errors_like_torch(restore_matmul_precision):
    for bad in [3, None, 1.5]:
        check_error(torch.set_float32_matmul_precision, tkern.set_float32_matmul_precision, (bad,), (bad,))
    tkern.set_float32_matmul_precision("medium")
    # an unknown name warns and changes nothing, in torch as here
    for bad in ["HIGH", "low", ""]:
        with pytest.warns(UserWarning):
            torch.set_float32_matmul_precision(bad)
        with pytest.warns(UserWarning):
            tkern.set_float32_matmul_precision(bad)
        assert tkern.get_float32_matmul_precision() == "medium"
    for bad in [1, "yes", None]:
        with pytest.raises(RuntimeError):
            tkern.backends.cuda.matmul.allow_tf32 = bad
    assert tkern.get_float32_matmul_precision() == "medium"
    with pytest.raises(AttributeError):
        tkern.backends.cuda.matmul.allow_tf64 = True
    with pytest.raises(AttributeError):
        tkern.backends.cuda.matmul.allow_tf64


def test_input_precision_choice(device, restore_matmul_precision):
    if device != "cuda":
        # the CPU computes float32 matmuls in float32 whatever the switch says, like torch's CPU
        tkern.backends.cuda.matmul.allow_tf32 = True
        check_op([(17, 33), (33, 9)], torch.mm, tkern.mm, device=device, atol=1e-4)
        return
    from tkern.ops.triton_matmul import input_precision
    for capability in [(0, 0), (7, 0), (7, 5), (8, 0), (9, 0)]:
        for d in [tkern.float16, tkern.bfloat16, tkern.float32, tkern.float64]:
            assert input_precision(d, capability) == "ieee"
    for precision in ["high", "medium"]:
        tkern.set_float32_matmul_precision(precision)
        assert [input_precision(tkern.float32, c) for c in [(0, 0), (7, 5), (8, 0), (8, 6), (9, 0), (10, 0)]] == \
            ["tf32", "ieee", "tf32", "tf32", "tf32", "tf32"]
        for d in [tkern.float16, tkern.bfloat16, tkern.float64]:
            assert input_precision(d, (9, 0)) == "ieee"


def test_tf32_switch_reaches_the_kernel(device, monkeypatch, restore_matmul_precision):
    """The precision every launch gets follows the switches (TF32 numerics need a GPU to observe)."""
    launches = []
    if device == "cuda":
        from tkern.ops import cuda_memory, triton_matmul
        real_launch = triton_matmul._launch

        def spy(kernel, grid, args, meta):
            launches.append(meta.get("PRECISION"))
            real_launch(kernel, grid, args, meta)

        monkeypatch.setattr(triton_matmul, "_launch", spy)
        tf32_here = tuple(cuda_memory.capability(0)) == (0, 0) or tuple(cuda_memory.capability(0)) >= (8, 0)
    # TF32 keeps 10 mantissa bits: ~1e-3 relative per product
    tf32_tolerance = dict(atol=5e-2, rtol=1e-2)
    for setting, dtype, expected in [("highest", tkern.float32, "ieee"), ("high", tkern.float32, "tf32"),
                                     ("medium", tkern.float32, "tf32"), ("high", tkern.float16, "ieee"),
                                     ("high", tkern.bfloat16, "ieee"), ("high", tkern.float64, "ieee"),
                                     ("high", tkern.int32, None)]:
        tkern.set_float32_matmul_precision(setting)
        launches.clear()
        atol, rtol = FLOAT_TOLERANCES.get(dtype, (0, 0))
        if setting != "highest" and dtype is tkern.float32:
            atol, rtol = tf32_tolerance["atol"], tf32_tolerance["rtol"]
        if dtype.is_floating_point:
            check_matmul([(17, 33), (33, 9)], lambda a, b: a.mm(b), device, dtype, atol, rtol)
        else:
            check_op([(17, 33), (33, 9)], torch.mm, tkern.mm, device=device, dtype=dtype)
        if device == "cuda":
            if expected == "tf32" and not tf32_here:
                expected = "ieee"
            assert launches == [expected], (setting, dtype, launches)
    tkern.backends.cuda.matmul.allow_tf32 = False
    launches.clear()
    check_op([(5, 7), (7, 3)], torch.mm, tkern.mm, device=device, atol=1e-5)
    assert launches == (["ieee"] if device == "cuda" else [])


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float16, tkern.int64], ids=lambda d: d.name)
def test_matmul_int64_offsets_path(dtype, device, monkeypatch):
    # operands of 2**31 elements are too big for a test: force the int64-offset code path instead
    if device == "cuda":
        from tkern.ops import triton_matmul
        monkeypatch.setattr(triton_matmul, "needs_int64", lambda numel, arrays: True)
    atol, rtol = FLOAT_TOLERANCES.get(dtype, (0, 0))
    check_matmul([(2, 1, 17, 33), (3, 9, 33)], lambda a, b: a @ b.transpose(-1, -2), device, dtype, atol, rtol)


@pytest.mark.parametrize("shapes", [((6, 0), (1, 0, 0)), ((1, 0, 0), (1, 0, 6)), ((6, 0), (2, 0, 3)),
                                    ((6, 2), (1, 2, 0)), ((0, 2), (1, 2, 3)), ((2, 6, 0), (2, 0, 3)),
                                    ((2, 2, 6, 0), (2, 0, 3)), ((6, 2), (0, 1, 2, 3))])
@pytest.mark.parametrize("dtypes", [(tkern.float32, tkern.int64), (tkern.int64, tkern.float32),
                                    (tkern.float32, tkern.float64)], ids=str)
def test_matmul_through_bmm_of_mixed_dtypes_with_nothing_to_compute(shapes, dtypes, device):
    """torch's bmm checks dtypes only when it computes: an empty product is zeros in the second dtype."""
    check_op(shapes, lambda a, b: a @ b, device=device, dtypes=dtypes)


@pytest.mark.parametrize("shapes", [((6, 2), (1, 2, 3)), ((2, 6, 2), (2, 2, 3)), ((6, 0), (0, 0)), ((1, 6, 0), (0, 0)),
                                    ((0,), (1, 0, 0)), ((1, 0, 0), (0,)), ((0,), (0,)), ((3, 0), (0,))])
def test_matmul_of_mixed_dtypes_raises(shapes, device):
    def make(lib, dev):
        return lib.ones(*shapes[0], **dev), lib.ones(*shapes[1], dtype=lib.int64, **dev)
    t_a, t_b = make(torch, {})
    k_a, k_b = make(tkern, {"device": device})
    check_error(lambda: t_a @ t_b, lambda: k_a @ k_b)


def test_bmm_of_mixed_dtypes_with_nothing_to_compute(device):
    check_op([(1, 6, 0), (1, 0, 0)], torch.bmm, tkern.bmm, device=device, dtypes=[tkern.float32, tkern.int64])


@pytest.mark.parametrize("first,second", [("bool", "int64"), ("int64", "bool"), ("bool", "bool"), ("int32", "int64")])
def test_batched_products_check_dtypes_in_torchs_order(first, second, device):
    """bmm (and matmul through it) refuses a bool first operand as not implemented before it compares
    dtypes, and names the two types when they differ."""
    a = tkern.zeros(2, 8, 3, dtype=getattr(tkern, first), device=device)
    b = tkern.zeros(2, 3, 3, dtype=getattr(tkern, second), device=device)
    ta, tb = torch.zeros(2, 8, 3, dtype=getattr(torch, first)), torch.zeros(2, 3, 3, dtype=getattr(torch, second))
    for name in ("bmm", "matmul"):
        if first == second != "bool":
            assert_same(getattr(torch, name)(ta, tb), getattr(tkern, name)(a, b))
        else:
            check_error(lambda: getattr(torch, name)(ta, tb), lambda: getattr(tkern, name)(a, b))


def _outcome(fn):
    try:
        result = fn()
    except Exception as error:  # the class and message are what is compared
        return type(error).__name__, str(error)
    return tuple(result.shape), str(result.dtype).rsplit(".", 1)[-1]


FOLD_CASES = [((6, 1), (1, 1, 0), True, False, False), ((6, 1), (1, 1, 0), False, False, False),
              ((2, 1), (3, 1, 0), False, True, False), ((1,), (2, 1, 0), True, False, False),
              ((1,), (2, 1, 3), False, False, False), ((2, 1, 0), (0,), False, False, False),
              ((2, 3, 0), (0, 2), False, False, False), ((3, 2, 1), (1, 0), False, False, True),
              ((3, 2, 1), (1, 2), False, False, True), ((3, 2, 1), (1, 2), False, True, True),
              ((3, 2, 0), (0,), False, False, True), ((2, 3), (3,), False, False, False)]


@pytest.mark.parametrize("shapes_a,shapes_b,a_grad,b_grad,transposed", FOLD_CASES, ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "int64"), ("int64", "float32")], ids=str)
def test_matmul_folds_like_torch(shapes_a, shapes_b, a_grad, b_grad, transposed, dtypes, device):
    """Issue 14 (fuzzer): torch folds a batch times a matrix or vector into one mm or mv when the smaller
    operand requires grad or the batch collapses without a copy, else it broadcasts a bmm; the paths check
    dtypes differently (an empty bmm checks nothing), so a mixed-dtype product raises or returns by path."""
    def run(lib, dev):
        a = lib.zeros(*shapes_a, dtype=getattr(lib, dtypes[0]), requires_grad=a_grad and dtypes[0] == "float32", **dev)
        b = lib.zeros(*shapes_b, dtype=getattr(lib, dtypes[1]), requires_grad=b_grad and dtypes[1] == "float32", **dev)
        if transposed:
            a = a.transpose(0, 1) if a.ndim >= 3 else a
        return _outcome(lambda: lib.matmul(a, b))
    assert run(tkern, {"device": device}) == run(torch, {})


@pytest.mark.parametrize("dtypes", [("bool", "int32"), ("float32", "int64"), ("int64", "float32")], ids=str)
@pytest.mark.parametrize("shapes", [((6,), (1, 1, 6, 1)), ((1, 1, 9, 4), (4, 0)), ((2, 1, 3, 4), (4, 2))], ids=str)
def test_matmul_fold_reads_size_one_strides_like_torch(shapes, dtypes, device):
    """torch folds only when every leading stride is the next stride times the next size, size-1 dims
    included (a looser view test would fold (1, 1, 6, 1)'s transpose, and report mv's error, not bmm's)."""
    def run(lib, dev):
        a = lib.ones(*shapes[0], dtype=getattr(lib, dtypes[0]), **dev)
        b = lib.ones(*shapes[1], dtype=getattr(lib, dtypes[1]), **dev)
        return [_outcome(lambda: lib.matmul(x, b)) for x in (a, a.transpose(0, 1) if a.ndim > 2 else a)]
    expected, actual = run(torch, {}), run(tkern, {"device": device})
    assert [e[0] if isinstance(e[0], str) else e for e in expected] == \
        [a[0] if isinstance(a[0], str) else a for a in actual]


def test_outer(device):
    check_grad([(4,), (3,)], lambda a, b: (torch if isinstance(a, torch.Tensor) else tkern).outer(a, b), device=device)
    check_grad([(2,), (5,)], lambda a, b: a.outer(b), device=device)
    check_grad([(1,), (0,)], lambda a, b: (torch if isinstance(a, torch.Tensor) else tkern).ger(a, b), device=device)
    check_error(lambda: torch.outer(torch.ones(2, 2), torch.ones(2)),
                lambda: tkern.outer(tkern.ones(2, 2, device=device), tkern.ones(2, device=device)))
