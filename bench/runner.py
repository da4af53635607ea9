"""Running the suite: ceilings first, then the families in priority order, then the sweeps, within a budget.

A row that fails its check or raises is recorded with its error and the run goes on; the exit status
is 1 when any row, sweep point or ceiling failed. Rows left when the budget is spent are listed under
"not_run" (not a failure).
"""
from __future__ import annotations

import gc
import os
import pathlib
import sys
import time
import traceback

from . import ceilings, elementwise, environment, matmul, optimizer, poly, reductions, small_op, sweeps, two_layer
from .environment import Machine
from .results import ResultsFile
from .rows import Context, Row, failed_record, record
from .sizes import Sizes
from .timing import Clock

# the priority order: what a run cut short must have measured first
FAMILIES = (elementwise, reductions, small_op, poly, matmul, optimizer, two_layer)


def fixed_rows(sizes: Sizes) -> list[Row]:
    return [row for family in FAMILIES for row in family.rows(sizes)]


def selectable_names(sizes: Sizes) -> set[str]:
    names = {"ceilings", sweeps.FAMILY}
    for row in fixed_rows(sizes):
        names |= {row.name, row.family}
    return names | {sweep.selector for sweep in sweeps.sweeps(sizes)}


def default_results_path(machine: Machine) -> pathlib.Path:
    return environment.REPO / "bench" / "results" / f"{machine.slug}.json"


def _release_memory(gpu: bool) -> None:
    """Drop the last row's operands, so that a large row after a large row does not run out of memory."""
    gc.collect()
    if gpu:
        import torch

        torch.cuda.empty_cache()


def _describe(entry: dict) -> str:
    if "error" in entry:
        return f"{entry['name']:20s} ERROR {entry['error']}"
    achieved = "" if entry["achieved"] is None else f"{entry['achieved']:10.4g} {entry['unit']:7s}"
    pct = "" if entry["pct_of_peak"] is None else f"{entry['pct_of_peak']:6.1f}% of peak"
    met = {True: "target met", False: "target NOT met", None: ""}[entry["met"]]
    return (f"{entry['name']:20s} tkern {entry['tkern_ms']:10.4g} ms  torch {entry['torch_ms']:10.4g} ms  "
            f"x{entry['speedup']:<8.3g} {achieved} {pct}  {met}")


class Suite:
    def __init__(self, machine: Machine, sizes: Sizes, results: ResultsFile, budget: float | None,
                 only: set[str] | None, plot_directory: pathlib.Path | None):
        self.machine, self.sizes, self.results = machine, sizes, results
        self.context = Context(machine.torch_device, sizes, Clock(machine.gpu, sizes.wall_repeats))
        self.budget, self.only, self.plot_directory = budget, only, plot_directory
        self.started = time.monotonic()
        self.failures = 0

    def _wanted(self, *names: str) -> bool:
        return self.only is None or any(name in self.only for name in names)

    def _within_budget(self, name: str) -> bool:
        if self.budget is not None and time.monotonic() - self.started >= self.budget:
            self.results.record["not_run"].append(name)
            return False
        return True

    def _measure(self, row: Row):
        """The row's measurement, or the exception it raised (reported, counted, not re-raised)."""
        try:
            return row.run(self.context)
        except Exception as error:  # one failing row must not cost the others their figures
            traceback.print_exc()
            self.failures += 1
            return error
        finally:
            _release_memory(self.machine.gpu)

    def measure_ceilings(self) -> None:
        try:
            self.results.peak.update(ceilings.measure(self.context))
        except Exception as error:
            traceback.print_exc()
            self.failures += 1
            self.results.peak["error"] = f"{type(error).__name__}: {error}"
        self.results.save()
        print(f"ceilings: copy {self.results.peak['copy_GBps']} GB/s, bf16 matmul "
              f"{self.results.peak['bf16_TFLOPs']} TFLOP/s", flush=True)

    def run_rows(self, rows: list[Row]) -> None:
        for row in rows:
            if not self._wanted(row.name, row.family) or not self._within_budget(row.name):
                continue
            outcome = self._measure(row)
            entry = failed_record(row, outcome) if isinstance(outcome, Exception) else record(
                row, outcome, self.results.peak)
            self.results.add_row(entry)
            print(_describe(entry), flush=True)

    def run_sweeps(self) -> None:
        for sweep in sweeps.sweeps(self.sizes):
            if not self._wanted(sweep.selector, sweeps.FAMILY):
                continue
            for size, row in sweep.points:
                if not self._within_budget(f"{sweep.selector}:{size}"):
                    continue
                outcome = self._measure(row)
                if isinstance(outcome, Exception):
                    entry = {"size": size, "shape": row.shape, "error": f"{type(outcome).__name__}: {outcome}"}
                else:
                    entry = sweeps.point(size, row, outcome, self.results.peak)
                self.results.add_sweep_point(sweep.name, sweep.unit, sweep.peak, entry)
                print(f"{sweep.name} sweep {size}: {entry}", flush=True)

    def finish(self) -> int:
        self.results.record["elapsed_s"] = round(time.monotonic() - self.started, 1)
        self.results.save()
        print(f"wrote {self.results.path}")
        if self.plot_directory is not None:
            from . import plots

            for path in plots.draw(self.results.record, self.plot_directory):
                print(f"wrote {path}")
        if self.results.record["not_run"]:
            print(f"budget spent; not run: {', '.join(self.results.record['not_run'])}")
        return 1 if self.failures else 0


def run(machine: Machine, sizes: Sizes, json_path: pathlib.Path, budget: float | None, only: set[str] | None,
        plot_directory: pathlib.Path | None, quick: bool) -> int:
    """Run the suite and return the exit status."""
    settings = {"quick": quick, "interpreter": not machine.gpu, "budget_s": budget,
                "only": sorted(only) if only else None, "timer": Clock(machine.gpu, sizes.wall_repeats).method,
                "triton_cache_dir": os.environ.get("TRITON_CACHE_DIR")}
    results = ResultsFile(json_path, machine.name, environment.commit(), environment.versions(), settings)
    results.save()
    suite = Suite(machine, sizes, results, budget, only, plot_directory)
    print(f"{machine.name}: results in {json_path}", file=sys.stderr, flush=True)
    suite.measure_ceilings()
    suite.run_rows(fixed_rows(sizes))
    suite.run_sweeps()
    return suite.finish()
