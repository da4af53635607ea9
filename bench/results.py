"""The results file: rewritten whole after every row, atomically, so a killed run keeps every finished row.

    {"device", "date", "commit", "versions", "peak": {"copy_GBps", "bf16_TFLOPs"}, "rows": [...],
     "sweeps": {name: {"unit", "peak", "points": [...]}}, "settings": {...}, "not_run": [...], "elapsed_s"}
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib


class ResultsFile:
    def __init__(self, path: pathlib.Path, device: str, commit: str, versions: dict, settings: dict):
        self.path = path
        self.record = {"device": device, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), "commit": commit, "versions": versions,
            "peak": {"copy_GBps": None, "bf16_TFLOPs": None}, "rows": [], "sweeps": {}, "settings": settings,
            "not_run": [], "elapsed_s": 0.0}

    @property
    def peak(self) -> dict:
        return self.record["peak"]

    def add_row(self, entry: dict) -> None:
        self.record["rows"].append(entry)
        self.save()

    def add_sweep_point(self, sweep: str, unit: str, peak: str, point: dict) -> None:
        self.record["sweeps"].setdefault(sweep, {"unit": unit, "peak": peak, "points": []})["points"].append(point)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w") as f:
            f.write(dumps(self.record))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)  # readers see the old file or the new one, never half of one


def dumps(record: dict) -> str:
    """JSON with one top-level key, row or sweep point per line: small, and diffs line up row by row."""
    def lines(value, indent: str) -> str:
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return "[\n" + ",\n".join(indent + " " + json.dumps(item) for item in value) + "\n" + indent + "]"
        if isinstance(value, dict) and any(isinstance(item, (dict, list)) for item in value.values()):
            inner = indent + " "
            return "{\n" + ",\n".join(f"{inner}{json.dumps(key)}: {lines(item, inner)}"
                                       for key, item in value.items()) + "\n" + indent + "}"
        return json.dumps(value)

    return lines(record, "") + "\n"
