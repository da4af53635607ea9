"""PNG plots of a results file's size sweeps: achieved (GB/s, TFLOP/s) against size, tkern and torch.

    python -m bench.plots RESULTS.json DIR

matplotlib is imported only here, and only when drawing; PNGs are kept out of git (.gitignore).
"""
from __future__ import annotations

import json
import pathlib
import re
import sys


def draw(record: dict, directory: pathlib.Path) -> list[pathlib.Path]:
    """One PNG per sweep with points: <device>-<sweep>.png in ``directory``; the paths written."""
    sweeps = {name: sweep for name, sweep in record.get("sweeps", {}).items()
              if any("error" not in p and p["achieved"] is not None for p in sweep["points"])}
    if not sweeps:
        return []
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (redraw later with python -m bench.plots)", file=sys.stderr)
        return []
    directory.mkdir(parents=True, exist_ok=True)
    device = re.sub(r"[^a-z0-9]+", "-", record["device"].lower()).strip("-")
    written = []
    for name, sweep in sweeps.items():
        points = sorted((p for p in sweep["points"] if "error" not in p and p["achieved"] is not None),
                        key=lambda p: p["size"])
        sizes = [p["size"] for p in points]
        figure, axes = plt.subplots(figsize=(7, 4.5))
        axes.plot(sizes, [p["achieved"] for p in points], marker="o", label="tkern")
        axes.plot(sizes, [p["torch_achieved"] for p in points], marker="s", linestyle="--", label="torch")
        ceiling = record["peak"].get(sweep["peak"])
        if ceiling:
            axes.axhline(ceiling, color="grey", linestyle=":", label=f"measured ceiling ({sweep['peak']})")
        axes.set_xscale("log", base=2)
        axes.set_xlabel("elements" if sweep["unit"] == "GB/s" else "square side (M = N = K)")
        axes.set_ylabel(sweep["unit"])
        axes.set_title(f"{name}: {record['device']} ({record['commit']})")
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = directory / f"{device}-{name}.png"
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 2:
        sys.exit("usage: python -m bench.plots RESULTS.json DIR")
    with open(arguments[0]) as f:
        record = json.load(f)
    for path in draw(record, pathlib.Path(arguments[1])):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
