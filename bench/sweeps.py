"""Size sweeps for the plots: add_f32 over lengths (GB/s) and mm_bf16 over square sides (TFLOP/s).

Each point is a row run like the fixed ones (checked against torch first), kept under "sweeps" in the
results file with torch's figure beside tkern's.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import elementwise, matmul
from .rows import Measurement, Row, record
from .sizes import Sizes

FAMILY = "sweeps"


@dataclass(frozen=True)
class Sweep:
    name: str  # the key under "sweeps"; --only takes it with "_sweep" appended
    unit: str
    peak: str  # the ceiling (a key of the results file's "peak") its points are held against
    points: list  # (size, Row)

    @property
    def selector(self) -> str:
        return f"{self.name}_sweep"


def sweeps(sizes: Sizes) -> list[Sweep]:
    return [Sweep("add_f32", "GB/s", "copy_GBps", [(n, elementwise.sweep_shape(n)) for n in sizes.add_sweep]),
            Sweep("mm_bf16", "TFLOP/s", "bf16_TFLOPs", [(s, matmul.sweep_shape(s)) for s in sizes.mm_sweep])]


def point(size: int, row: Row, measurement: Measurement, peak: dict) -> dict:
    entry = record(row, measurement, peak)
    torch_achieved = None
    if entry["achieved"] is not None:
        torch_achieved = float(f"{entry['achieved'] * entry['tkern_ms'] / entry['torch_ms']:.6g}")
    return {"size": size, "shape": row.shape, "tkern_ms": entry["tkern_ms"], "torch_ms": entry["torch_ms"],
            "speedup": entry["speedup"], "achieved": entry["achieved"], "torch_achieved": torch_achieved,
            "pct_of_peak": entry["pct_of_peak"]}
