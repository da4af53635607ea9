"""python -m bench: the benchmark suite (see bench/__init__.py)."""
from __future__ import annotations

import argparse
import pathlib
import sys

from .environment import configure_process


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description="tkern against torch on the same device, row by row")
    parser.add_argument("--quick", action="store_true", help="small sizes (without a GPU sizes are always tiny)")
    parser.add_argument("--only", help="comma-separated row or family names (ceilings always run)")
    parser.add_argument("--budget", type=float, help="seconds after which no new row starts (default: no limit)")
    parser.add_argument("--json", type=pathlib.Path, help="results file (default: bench/results/<device>.json)")
    parser.add_argument("--png", type=pathlib.Path, metavar="DIR", help="draw the size sweeps' plots into DIR")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    machine = configure_process()  # before triton and tkern are imported
    from . import runner
    from .sizes import sizes_for

    sizes = sizes_for(machine.gpu, arguments.quick)
    only = None
    if arguments.only:
        only = {name.strip() for name in arguments.only.split(",") if name.strip()}
        unknown = only - runner.selectable_names(sizes)
        if unknown:
            print(f"unknown row or family names: {', '.join(sorted(unknown))}; choose from "
                  f"{', '.join(sorted(runner.selectable_names(sizes)))}", file=sys.stderr)
            return 2
    return runner.run(machine, sizes, arguments.json or runner.default_results_path(machine), arguments.budget,
                      only, arguments.png, arguments.quick)


if __name__ == "__main__":
    sys.exit(main())
