"""Tensors of more than 2**31 elements on a real GPU: every kernel family must switch to int64 offsets
(WIDE) there, which no small test reaches. Values are checked at sampled positions against numpy.

These need a GPU with ~16 GiB free and run whenever one is at hand (bench/gpu_session.sh runs the
'cuda' tests); through Triton's interpreter they would take hours, so without a GPU they do not run.
"""
import numpy as np
import pytest

import tkern

N = (1 << 31) + 4099  # past the int32 offset limit, and not a multiple of any block


def _gpu_with_memory(gib: int) -> bool:
    if not tkern.cuda.is_available() or tkern.cuda._interpreting():
        return False
    import torch
    free, _ = torch.cuda.mem_get_info()
    return free >= gib << 30


needs_large_gpu = pytest.mark.skipif(not _gpu_with_memory(16), reason="needs a GPU with 16 GiB free")


@pytest.fixture(scope="module")
def planted():
    """A uint8 tensor of N ones with random values planted at sampled positions, the last ones past 2**31."""
    rng = np.random.default_rng(31)
    positions = np.unique(np.concatenate([rng.integers(0, N, 64), [0, (1 << 31) - 1, 1 << 31, N - 2, N - 1]]))
    values = rng.integers(2, 200, positions.size).astype(np.uint8)
    x = tkern.ones(N, dtype=tkern.uint8, device="cuda")
    index = tkern.tensor(positions, device="cuda")
    x[index] = tkern.tensor(values, device="cuda")
    return x, positions, values, index


def _at(t, index) -> np.ndarray:
    return t[index].cpu().numpy()


def _value_at(positions: np.ndarray, values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """x's values at ``where`` (numpy's view of the planted tensor: ones but at the planted positions)."""
    slot = np.minimum(np.searchsorted(positions, where), positions.size - 1)
    return np.where(positions[slot] == where, values[slot], 1).astype(np.uint8)


@needs_large_gpu
def test_cuda_large_scatter_gather_and_elementwise(planted):
    x, positions, values, index = planted
    np.testing.assert_array_equal(_at(x, index), values)
    probes = np.unique(np.concatenate([positions, positions + 1, [(1 << 31) + 17, N - 4099]]))
    probes = probes[probes < N - 1]
    where = tkern.tensor(probes, device="cuda")
    y = x * 2 + 1  # uint8 arithmetic wraps, as numpy's does
    np.testing.assert_array_equal(_at(y, where), _value_at(positions, values, probes) * np.uint8(2) + np.uint8(1))
    shifted = x[1:] + x[:-1]  # operands at offsets 1 and 0, N - 1 elements
    np.testing.assert_array_equal(_at(shifted, where), _value_at(positions, values, probes + 1)
                                  + _value_at(positions, values, probes))


@needs_large_gpu
def test_cuda_large_reductions(planted):
    x, positions, values, _ = planted
    assert int(x.sum().item()) == N - positions.size + int(values.astype(np.int64).sum())
    peak = int(np.argmax(values))
    assert int(x.argmax().item()) == int(positions[values == values[peak]][0])
    rows = x[:N - 3].view(2, (N - 3) // 2)
    sums = rows.sum(1).cpu().numpy()
    half = (N - 3) // 2
    for row in range(2):
        inside = (positions >= row * half) & (positions < (row + 1) * half)
        assert int(sums[row]) == half - int(inside.sum()) + int(values[inside].astype(np.int64).sum())


@needs_large_gpu
def test_cuda_large_copies(planted):
    x, positions, values, index = planted
    offset_copy = x[3:].contiguous()
    kept = positions >= 3
    np.testing.assert_array_equal(_at(offset_copy, tkern.tensor(positions[kept] - 3, device="cuda")), values[kept])
    half = (N - 3) // 2
    transposed = x[:2 * half].view(2, half).t().contiguous()  # (half, 2): element (i, r) is x[r * half + i]
    inside = positions < 2 * half
    rows, cols = positions[inside] % half, positions[inside] // half
    got = transposed[tkern.tensor(rows, device="cuda"), tkern.tensor(cols, device="cuda")].cpu().numpy()
    np.testing.assert_array_equal(got, values[inside])
    assert transposed.shape == (half, 2) and transposed.is_contiguous()
