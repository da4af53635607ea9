"""Reductions and matmul give the same bits on every run: fixed-order sums (no float atomics), split
reductions and split-K products summed in a fixed order. Under the interpreter programs run one
after another, so this proves the most on a GPU, where bench/gpu_session.sh runs it."""
import numpy as np
import pytest

import tkern
from helpers import random_array


def _bits(t) -> bytes:
    return t.detach().cpu().numpy().tobytes()


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.bfloat16], ids=lambda d: d.name)
def test_reductions_and_matmul_repeat_to_the_bit(device, dtype, monkeypatch):
    if device == "cuda":
        from tkern.ops import triton_matmul, triton_reduction
        # many programs and a split at test sizes, as large inputs get on a GPU
        monkeypatch.setattr(triton_reduction, "TARGET_PROGRAMS", 64)
        monkeypatch.setattr(triton_reduction, "SPLIT_MIN_WORK", 256)
        monkeypatch.setattr(triton_matmul, "SPLIT_K_DEPTH", 64)
    x = tkern.tensor(random_array((3001,), seed=11), device=device).to(dtype)
    a = tkern.tensor(random_array((9, 515), seed=12), device=device).to(dtype)
    b = tkern.tensor(random_array((515, 7), seed=13), device=device).to(dtype)

    def results():
        return [x.sum(), x.float().mean(), x.reshape(3001, 1).sum(0), x.amax(), x.argmax(), a @ b,
                (a.float() @ b.float()).sum(1), a.float().std(1)]

    first = [_bits(r) for r in results()]
    for _ in range(3):
        assert [_bits(r) for r in results()] == first
    assert np.isfinite(np.frombuffer(first[0], dtype=np.float32 if dtype is tkern.float32 else np.uint16)).all()
