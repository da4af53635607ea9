"""Every kernel family compiles for a real GPU (sm_90), checked without one.

The interpreter accepts Python that Triton's compiler rejects (reassigned constexprs, mixed return
types), so CI would otherwise never see those errors. A child process swaps in a driver that reports
an H100 and makes every launch compile only (warmup), then drives the backend's primitives over the
dtypes and layouts that select different kernel variants. Nothing is launched, so values are never
looked at.
"""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent

_COMPILE_EVERY_FAMILY = r'''
import collections
import importlib
import sys

import numpy as np

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()
compiled = compile_only_driver.compiled

import tkern
from tkern import dtypes
from tkern.device import device
from tkern.ops import triton_arguments
from tkern.ops.array import Array
from tkern.ops.triton_backend import TritonBackend


class CompileOnly(TritonBackend):
    def to_numpy(self, src):
        # nothing ran: any small host value will do for the code paths that read one
        return np.ones(src.shape, src.dtype.numpy)


backend = CompileOnly()
cuda = device("cuda", 0)
triton_arguments.INTERPRETING = False  # GPU block sizes, autotuned matmul and libdevice, as on the machine


def make(shape, dtype):
    return backend.empty(shape, dtype, cuda)


def layouts(dtype):
    # contiguous (one coalesced dim), transposed (two), expanded with an offset (three)
    base = make((6, 10), dtype)
    return [base, base.view_as((10, 6), (1, 10), 0), base.view_as((3, 4, 5), (20, 0, 2), 3)]


F32, F64, F16, BF16, I64, I32, U8, BOOL = (dtypes.float32, dtypes.float64, dtypes.float16, dtypes.bfloat16,
                                          dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool)


def families():
    for dtype in (F32, F64, BF16, I32, BOOL):
        for x in layouts(dtype):
            backend.copy(make(x.shape, F32), x)
            backend.fill(x, 1)
            for op in ("add", "maximum", "lt", "floor_divide", "remainder", "pow"):
                if dtype is BOOL and op in ("floor_divide", "remainder"):
                    continue
                backend.binary(op, x, x, x.shape, dtype, BOOL if op == "lt" else dtype)
                backend.binary(op, x, 3, x.shape, dtype, BOOL if op == "lt" else dtype)
            if dtype.is_floating_point:
                for op in ("exp", "tanh", "sqrt", "round", "sign", "isnan"):
                    backend.unary(op, x, dtype, BOOL if op == "isnan" else dtype)
                backend.binary("div", x, 0.1, x.shape, dtype, dtype)
                backend.binary("atan2", x, x, x.shape, dtype, dtype)
                backend.binary("pow", x, 2.5, x.shape, dtype, dtype)
            backend.ternary("where", make(x.shape, BOOL), x, 0, x.shape, dtype)
            backend.sequence(make((17,), dtype), 0, 3, 0, 17, I64)
            backend.sequence(make((17,), dtype), 0.5, 0.25, 3.0, 8, F64)
            backend.ternary("clamp", x, 0, 5, x.shape, dtype)
            for op in ("sum", "prod", "max", "min", "all", "any"):
                accumulate = dtypes.float32 if dtype in (F16, BF16) else dtype if dtype.is_floating_point else I64
                compute, result = {"sum": (accumulate, accumulate if dtype.is_floating_point else I64),
                                   "prod": (accumulate, accumulate if dtype.is_floating_point else I64),
                                   "all": (BOOL, BOOL), "any": (BOOL, BOOL)}.get(op, (dtype, dtype))
                for dims in ((1,), (0, 1)):
                    backend.reduce(op, x, tuple(d for d in dims if d < x.ndim), False, compute, result)
            kept = tuple(1 if i == 1 else s for i, s in enumerate(x.shape))
            backend.arg_reduce("max", make(kept, dtype), make(kept, I64), x, 1)
            backend.arg_reduce("min", None, make((), I64), x, None)
            index = make((4,), I64)
            backend.gather(make((4,) + x.shape[1:], dtype), x, (index,) + (None,) * (x.ndim - 1))
            backend.scatter(x, (index,) + (None,) * (x.ndim - 1), make((4,) + x.shape[1:], dtype), False)
            if dtype is not BOOL:
                backend.scatter(x, (index,) + (None,) * (x.ndim - 1), make((4,) + x.shape[1:], dtype), True)
            backend.nonzero(x)
        if dtype is not BOOL:
            a, b = make((2, 17, 33), dtype), make((2, 33, 9), dtype)
            backend.matmul(make((2, 17, 9), dtype), a, b, dtype)
            transposed = make((33, 9), dtype).view_as((9, 33), (1, 9), 0)
            backend.matmul(make((9, 17), dtype), transposed, make((33, 17), dtype), dtype)
        if dtype is I32:
            backend.check_class_targets(make((4,), I64), 5, -100)
        generator = tkern.Generator("cuda")
        if dtype.is_floating_point:
            for kind in ("uniform", "normal"):
                backend.random(kind, make((100,), dtype), generator, 0.0, 1.0)
                backend.random(kind, make((100,), dtype), generator, -2.0, 3.0)  # scaled in the kernel
        if dtype is not BOOL:
            backend.random("integers", make((100,), dtype), generator, -3, 100)
        backend.random("bernoulli", make((100,), dtype), generator, 0.3)
        backend.random("bits", make((100,), dtype), generator)


families()
for module in ("triton_elementwise", "triton_reduction", "triton_indexing", "triton_random", "triton_matmul"):
    importlib.import_module("tkern.ops." + module).needs_int64 = lambda *args: True
families()
print(collections.Counter(compiled), file=sys.stderr)
print(len(compiled), len(set(compiled)))
from tkern.ops.optimizer_step import AdamStep, SGDStep
for dtype in (F32, F64, F16, BF16):
    params = [make((5, 7), dtype), make((3,), dtype)]
    for rule in (SGDStep(0.1, 0.9, 0.1, 0.01, True, True, False), SGDStep(0.1, 0.0, 0.0, 0.0, False, False, True),
                 AdamStep(1e-3, 0.9, 0.999, 1e-8, 0.01, True, True, True, 2.0),
                 AdamStep(1e-3, 0.3, 0.999, 1e-8, 0.01, False, False, False, 1.0)):
        states = tuple([make(p.shape, dtype) for p in params] for _ in range(rule.states))
        backend.optimizer_step(rule, params, [make(p.shape, dtype) for p in params], states, {})
assert collections.Counter(compiled)["adam_kernel"] == 8, collections.Counter(compiled)


def polynomials(wide):
    importlib.import_module("tkern.ops.triton_polynomial").needs_int64 = lambda *args: wide
    cases = [(F32, 3), (BF16, 3)] if wide else [(d, k) for d in (F32, F64) for k in (0, 1, 3, 5)]
    cases += [] if wide else [(F16, 3), (BF16, 3)]
    for dtype, degree in cases:
        for n in (100, 50000):  # one program that finishes itself; several and a finishing launch
            base = make((3 * n,), dtype)
            x, y, coeffs = base.view_as((n,), (3,), 1), make((n,), dtype), make((degree + 1,), dtype)
            backend.poly_loss_grad(x, y, coeffs, 1.0, make((), dtype), make((degree + 1,), dtype), None, None)
            backend.poly_loss_grad(x, y, coeffs, 0.5, make((), F32), make((degree + 1,), dtype), make((n,), dtype),
                                   make((n,), dtype))
        backend.poly_fit(x, y, coeffs, 1e-3, 10, 1.0, make((degree + 1,), dtype), make((10,), dtype))


before = len(compiled)
polynomials(False)
polynomials(True)
kinds = collections.Counter(compiled[before:])
assert kinds["power_sums_kernel"] >= 40 and kinds["loss_grad_finish_kernel"] >= 10 and kinds["fit_kernel"] >= 10, kinds
'''


def test_every_kernel_family_compiles_for_sm90():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + textwrap.dedent(_COMPILE_EVERY_FAMILY)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         text=True, env=env, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    launches, kernels = map(int, out.stdout.split()[-2:])
    assert launches > 300 and kernels >= 8


_POLY_SM90_CODE = r'''
import json
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()
compile_only_driver.keep_kernels()
from tkern import dtypes
from tkern.device import device
from tkern.ops import triton_arguments
from tkern.ops.triton_backend import TritonBackend

triton_arguments.INTERPRETING = False
backend, cuda, f32 = TritonBackend(), device("cuda", 0), dtypes.float32
x, y, coeffs = (backend.empty(shape, f32, cuda) for shape in ((1 << 26,), (1 << 26,), (4,)))
backend.poly_loss_grad(x, y, coeffs, 1.0, backend.empty((), f32, cuda), backend.empty((4,), f32, cuda), None, None)
kernel = next(k for name, k in compile_only_driver.kernels if name == "power_sums_kernel")
print(json.dumps(compile_only_driver.code_facts(kernel)))
'''


def test_poly_loss_grad_pass_streams_16_byte_copies_without_spills():
    """The contiguous float32 pass of poly_loss_grad (cubic, 2**26 points) as compiled for sm_90: its
    tiles stream into shared memory as 16-byte asynchronous copies (tl.range's pipelining), and a
    thread keeps to the 128 registers that let four programs share an SM, spilling nothing."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + textwrap.dedent(_POLY_SM90_CODE)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    facts = json.loads(out.stdout.splitlines()[-1])
    assert list(facts["copies"]) == ["0x10"] and facts["maxnreg"] == ["128"], facts
    assert facts["registers"] and max(facts["registers"]) <= 128 and facts["spills"] == [0], facts
