"""The Triton backend's own machinery: layout coalescing, scalar arguments, the int64 index path.

These run without a GPU: the helpers are plain Python, and the kernel checks run in a child process
under TRITON_INTERPRET=1, so they hold in both CI runs.
"""
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import triton.language as tl

from tkern import dtypes
from tkern.ops.array import Array
from tkern.ops.triton_arguments import coalesce, needs_int64, scalar_argument, span


@pytest.mark.parametrize("shape, strides, expected", [
    ((2, 3, 4), [(12, 4, 1), (12, 4, 1)], ((24,), [(1,), (1,)])),
    ((2, 3, 4), [(12, 4, 1), (1, 2, 6)], ((2, 3, 4), [(12, 4, 1), (1, 2, 6)])),
    ((2, 1, 4), [(4, 4, 1), (0, 9, 1)], ((2, 4), [(4, 1), (0, 1)])),
    ((5, 6), [(6, 1), (0, 1)], ((5, 6), [(6, 1), (0, 1)])),
    ((5, 6), [(6, 1), (0, 0)], ((30,), [(1,), (0,)])),
    ((1, 1), [(1, 1)], ((1,), [(0,)])),
    ((4, 3, 2), [(6, 2, 1), (12, 4, 2)], ((24,), [(1,), (2,)])),
])
def test_coalesce_merges_dims_every_operand_walks_as_one(shape, strides, expected):
    assert coalesce(shape, strides) == expected


def _array(shape, strides, offset=0):
    """A view over a storage just big enough to hold it (no memory behind it)."""
    a = Array.__new__(Array)
    a.shape, a._strides, a.offset, a.dtype = shape, strides, offset, dtypes.float32
    a._storage = types.SimpleNamespace(nbytes=span(a) * a.dtype.itemsize)
    return a


def test_int64_offsets_when_an_operand_spans_two_to_the_31():
    small = _array((4, 5), (5, 1))
    assert span(small) == 20 and not needs_int64(20, [small, 3.0])
    assert needs_int64(2 ** 31, [small])
    assert needs_int64(10, [_array((2, 5), (2 ** 31 - 4, 1))])
    assert not needs_int64(10, [_array((2, 5), (2 ** 30, 1))])
    assert needs_int64(10, [_array((5,), (1,), offset=2 ** 31)])
    assert not needs_int64(10, [_array((0, 5), (2 ** 40, 1))])


def test_scalar_arguments_keep_torch_values():
    bits, kind = scalar_argument(0.1, tl.float64)
    assert kind == 2 and np.int64(bits).view(np.float64) == 0.1
    assert scalar_argument(0.1, tl.float32) == (0.1, 1)
    assert scalar_argument(300, tl.int8) == (44, 1)
    assert scalar_argument(-1, tl.uint8) == (255, 1)
    assert scalar_argument(2 ** 63, tl.int64) == (-(2 ** 63), 1)
    assert scalar_argument(True, tl.int1) == (1, 1)
    assert scalar_argument(2.7, tl.int32) == (2, 1)


_WIDE_CHECK = """
import numpy as np
import tkern
from tkern.ops import triton_elementwise

x = tkern.arange(-50, 50, dtype=tkern.float32, device="cuda").reshape(10, 10)
y = tkern.arange(100, dtype=tkern.int64, device="cuda").reshape(10, 10)
narrow = [(x.t() * 3 + y).cpu().numpy(), (x[::2] - 1.5).cpu().numpy(), tkern.where(x > 0, x, y).cpu().numpy()]
triton_elementwise.needs_int64 = lambda numel, arrays: True
wide = [(x.t() * 3 + y).cpu().numpy(), (x[::2] - 1.5).cpu().numpy(), tkern.where(x > 0, x, y).cpu().numpy()]
for a, b in zip(narrow, wide):
    np.testing.assert_array_equal(a, b)
print("same")
"""


def test_int64_index_path_gives_the_same_results():
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_WIDE_CHECK)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == "same"
