"""The issue's targets (issue 13, on an H100/H200), row by row, and whether a measured row meets its own.

speedup = torch_ms / tkern_ms; pct_of_peak is against the measured copy bandwidth for memory-bound rows
and the measured bf16 matmul ceiling for matmul rows.
"""
from __future__ import annotations

_MEMORY_BOUND = {"speedup": 1.0, "pct_of_peak": 90}

TARGETS: dict[str, dict] = {
    **{name: _MEMORY_BOUND for name in (
        "add_f32", "add_bcast_f32", "add_transposed_f32", "add_odd_f32", "sum_all_f32", "sum_rows_f32",
        "sum_cols_f32", "max_dim_f32")},
    "tanh_f32": {"speedup": 1.0},
    "tanh_bf16": {"speedup": 1.0},
    "small_op_us": {"speedup": 1.0},  # tkern's host time per call no more than torch eager's
    "poly_step_f32": {"speedup": 5.0, "pct_of_peak": 85},
    "poly_fit_2000": {"speedup": 500.0},
    **{name: {"speedup": 0.95} for name in ("mm_bf16_4096", "mm_bf16_8192", "mm_f16_4096", "bmm_f16")},
    **{name: {"speedup": 0.9} for name in ("mm_f32_4096", "mm_tf32_4096", "mm_odd_bf16", "mm_wgrad_bf16")},
    "adam_step": {"speedup": 1.0},
    "two_layer_seed": {"speedup": 1.0},
}


def met(target: dict, row: dict) -> bool | None:
    """Whether every figure of ``target`` is reached by ``row``; None when a figure is missing."""
    if not target:
        return None
    figures = [row.get(key) for key in target]
    if any(value is None for value in figures):
        return None
    return all(value >= goal for value, goal in zip(figures, target.values()))
