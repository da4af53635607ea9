"""README's Performance section, regenerated from a results file of `python -m bench`.

    python -m bench.readme [RESULTS.json] [--readme README.md] [--print]

Without a file, the newest GPU results file in bench/results/ (by its "date"); interpreter runs are
never picked by themselves (their numbers time Python, not kernels). The text between
<!-- bench:start --> and <!-- bench:end --> is replaced; with no GPU results it says how to get them.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from .environment import REPO

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
RESULTS_DIRECTORY = REPO / "bench" / "results"

NO_RESULTS = """No GPU results yet: no run of `python -m bench` on a GPU has been committed. On a machine with a GPU,
`bash bench/gpu_session.sh` (or `python -m bench`) writes `bench/results/<gpu-name>.json`, and
`python -m bench.readme` then rewrites this section from it."""


def is_gpu_results(record: dict) -> bool:
    return isinstance(record, dict) and {"peak", "rows", "device", "date"} <= record.keys() and \
        record["device"] != "interpreter"


def newest_results(directory: pathlib.Path = RESULTS_DIRECTORY) -> dict | None:
    """The GPU results record with the latest date in ``directory``, or None."""
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if is_gpu_results(record):
            found.append(record)
    return max(found, key=lambda record: record["date"]) if found else None


def _number(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _shape(shape: list) -> str:
    return ", ".join("x".join(str(extent) for extent in operand) for operand in shape)


def _target(target: dict) -> str:
    parts = []
    if "speedup" in target:
        parts.append(f">= {target['speedup']:g}x")
    if "pct_of_peak" in target:
        parts.append(f">= {target['pct_of_peak']:g}% of peak")
    return ", ".join(parts) or "-"


def render(record: dict) -> str:
    """The section's markdown for one results record: the machine, its ceilings and one line per row."""
    versions = record.get("versions", {})
    peak = record["peak"]
    lines = [
        f"Measured on {record['device']} on {record['date'][:10]} at commit {record['commit']} (torch "
        f"{versions.get('torch', '?')}, triton {versions.get('triton', '?')}) by `python -m bench`. Ceilings measured "
        f"in the same run: device-to-device copy {_number(peak.get('copy_GBps'), 4)} GB/s, torch's bf16 matmul "
        f"{_number(peak.get('bf16_TFLOPs'), 4)} TFLOP/s. speedup = torch ms / tkern ms; % of peak is against the copy "
        f"ceiling (GB/s rows) or the bf16 matmul ceiling (TFLOP/s rows, float32 included).",
        "",
        "| row | shape | dtype | tkern ms | torch ms | speedup | achieved | % of peak | target | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in record["rows"]:
        if "error" in row:
            lines.append(f"| {row['name']} | {_shape(row['shape'])} | {row['dtype']} | - | - | - | - | - | "
                         f"{_target(row.get('target', {}))} | failed: {row['error'][:80].replace('|', '/')} |")
            continue
        achieved = "-" if row["achieved"] is None else f"{row['achieved']:.4g} {row.get('unit') or ''}".strip()
        met = {True: "yes", False: "no", None: "-"}[row.get("met")]
        lines.append(f"| {row['name']} | {_shape(row['shape'])} | {row['dtype']} | {_number(row['tkern_ms'], 4)} | "
                     f"{_number(row['torch_ms'], 4)} | {_number(row['speedup'])} | {achieved} | "
                     f"{_number(row['pct_of_peak'])} | {_target(row.get('target', {}))} | {met} |")
    if record.get("not_run"):
        lines += ["", f"Not run (the time budget was spent): {', '.join(record['not_run'])}."]
    return "\n".join(lines)


def replace_section(text: str, body: str) -> str:
    """``text`` with everything between the markers replaced by ``body``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} ... {END} section")
    return text[:start + len(START)] + "\n" + body + "\n" + text[end:]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.readme", description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=pathlib.Path, help="results file (default: newest GPU results)")
    parser.add_argument("--readme", type=pathlib.Path, default=REPO / "README.md")
    parser.add_argument("--print", action="store_true", help="print the section instead of writing the README")
    arguments = parser.parse_args(argv)
    record = json.loads(arguments.results.read_text()) if arguments.results else newest_results()
    body = NO_RESULTS if record is None else render(record)
    if arguments.print:
        print(body)
        return
    arguments.readme.write_text(replace_section(arguments.readme.read_text(), body))
    print(f"rewrote the Performance section of {arguments.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
