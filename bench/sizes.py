"""Problem sizes of every row: the issue's on a GPU, smaller with --quick, tiny under the interpreter.

Row names stay the same at every size (mm_bf16_4096 is a 32-square matmul under the interpreter); each
row's "shape" field says what was run.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    elements: int  # add_f32, sum_all_f32, tanh_*: flat length (add_odd_f32 adds 3)
    square: int  # side of the square rows: add_bcast, add_transposed, sum_rows/cols, max_dim
    mm: int  # mm_*_4096
    mm_large: int  # mm_bf16_8192
    bmm: tuple  # (batch, side) of bmm_f16
    mm_odd: tuple  # (M, N, K) of mm_odd_bf16
    mm_wgrad: tuple  # (M, N, K) of mm_wgrad_bf16
    adam: tuple  # (parameters, elements each)
    small_op: tuple  # (elements, calls)
    two_layer: tuple  # (N, D_in, H, D_out, steps)
    poly_step: int  # points of poly_step_f32
    poly_fit: tuple  # (points, steps) of poly_fit_2000
    copy_bytes: int  # buffer of the copy ceiling
    ceiling_mm: int  # side of the bf16 matmul ceiling
    add_sweep: tuple  # lengths of the add_f32 sweep
    mm_sweep: tuple  # sides of the mm_bf16 sweep
    wall_repeats: int  # repeats of a wall-clock timing (whole loops, and every timing without a GPU)


FULL = Sizes(
    elements=1 << 26, square=8192, mm=4096, mm_large=8192, bmm=(64, 512), mm_odd=(4097, 4095, 4093),
    mm_wgrad=(1024, 1024, 65536), adam=(100, 1 << 20), small_op=(1024, 10_000), two_layer=(64, 1000, 100, 10, 500),
    poly_step=1 << 26, poly_fit=(2000, 2000), copy_bytes=1 << 30, ceiling_mm=8192,
    add_sweep=tuple(1 << p for p in range(16, 27)), mm_sweep=(512, 1024, 2048, 4096, 8192),
    wall_repeats=3)

QUICK = Sizes(
    elements=1 << 22, square=2048, mm=1024, mm_large=2048, bmm=(8, 256), mm_odd=(1025, 1023, 1021),
    mm_wgrad=(256, 256, 8192), adam=(10, 1 << 16), small_op=(1024, 1000), two_layer=(64, 1000, 100, 10, 50),
    poly_step=1 << 22, poly_fit=(2000, 200), copy_bytes=1 << 26, ceiling_mm=2048,
    add_sweep=(1 << 16, 1 << 19, 1 << 22), mm_sweep=(256, 512, 1024), wall_repeats=3)

# the interpreter runs each Triton program in Python: a handful of programs per row
TINY = Sizes(
    elements=1 << 12, square=64, mm=32, mm_large=48, bmm=(2, 16), mm_odd=(33, 31, 29), mm_wgrad=(16, 16, 256),
    adam=(3, 1000), small_op=(1024, 20), two_layer=(4, 8, 8, 2, 2), poly_step=1 << 12, poly_fit=(64, 5),
    copy_bytes=1 << 22, ceiling_mm=128, add_sweep=(1 << 10, 1 << 12), mm_sweep=(16, 32), wall_repeats=3)


def sizes_for(gpu: bool, quick: bool) -> Sizes:
    if not gpu:
        return TINY
    return QUICK if quick else FULL
