"""A benchmark row: its definition, what running it measures, and the results-file record made of that.

Every row checks tkern's result against torch's on the same inputs before either is timed; a row whose
check fails or that raises becomes a record with an "error" field.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .sizes import Sizes
from .targets import TARGETS, met
from .timing import Clock
from .twins import assert_agree


@dataclass(frozen=True)
class Context:
    """What every row needs of the run: where torch's reference lives, the sizes, the clock."""
    torch_device: str
    sizes: Sizes
    clock: Clock


@dataclass
class Measurement:
    tkern_ms: float
    torch_ms: float
    bytes_moved: float | None = None  # memory-bound rows: achieved is GB/s against the copy ceiling
    flops: float | None = None  # matmul rows: achieved is TFLOP/s against the bf16 matmul ceiling
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    name: str
    family: str
    shape: list  # the operands' shapes as run
    dtype: str
    run: Callable[[Context], Measurement]


def checked_kernel_times(context: Context, tkern_fn: Callable, torch_fn: Callable, rtol: float, atol: float = 0.0,
                         relative_atol: bool = False) -> tuple[float, float]:
    """(tkern_ms, torch_ms) of two calls that queue device work, after checking that they agree."""
    assert_agree(tkern_fn(), torch_fn(), rtol, atol, relative_atol)
    return context.clock.kernel_ms(tkern_fn), context.clock.kernel_ms(torch_fn)


def _figure(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def record(row: Row, measurement: Measurement, peak: dict) -> dict:
    """The results-file entry of a measured row."""
    tkern_ms, torch_ms = _figure(measurement.tkern_ms), _figure(measurement.torch_ms)
    achieved = unit = ceiling = None
    if measurement.bytes_moved is not None:
        achieved, unit, ceiling = measurement.bytes_moved / tkern_ms / 1e6, "GB/s", peak.get("copy_GBps")
    elif measurement.flops is not None:
        achieved, unit, ceiling = measurement.flops / tkern_ms / 1e9, "TFLOP/s", peak.get("bf16_TFLOPs")
    entry = {"name": row.name, "shape": row.shape, "dtype": row.dtype, "tkern_ms": tkern_ms, "torch_ms": torch_ms,
             "speedup": _figure(torch_ms / tkern_ms) if tkern_ms > 0 else None,
             "achieved": _figure(achieved), "unit": unit,
             "pct_of_peak": None if achieved is None or not ceiling else round(100 * achieved / ceiling, 2),
             **measurement.extra}
    target = TARGETS.get(row.name, {})
    entry["target"] = target
    entry["met"] = met(target, entry)
    return entry


def failed_record(row: Row, error: BaseException) -> dict:
    """The results-file entry of a row whose check failed or that raised."""
    return {"name": row.name, "shape": row.shape, "dtype": row.dtype, "tkern_ms": None, "torch_ms": None,
            "speedup": None, "achieved": None, "pct_of_peak": None, "target": TARGETS.get(row.name, {}), "met": None,
            "error": f"{type(error).__name__}: {error}"}
