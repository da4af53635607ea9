"""The cost of torch's CPU random streams reproduced in numpy: tkern's draws against torch's.

    python bench/cpu_random.py [--seconds 0.3]

No target in the issue (the streams are a correctness feature); torch runs in the same process and
the two take turns. Figures are microseconds per call, the median of three timed rounds.
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import torch

import tkern

CASES = [("randn", 16), ("randn", 1000), ("randn", 10 ** 6), ("rand", 10 ** 6), ("randperm", 1000),
         ("randperm", 10 ** 6)]


def per_call_us(call, seconds: float) -> float:
    timer = timeit.Timer(call)
    count, _ = timer.autorange()
    count = max(1, int(count * seconds / 0.2))
    return statistics.median(timer.repeat(3, count)) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3)
    seconds = parser.parse_args().seconds
    print(f"{'draw':<18}{'torch us':>12}{'tkern us':>12}{'ratio':>8}")
    for name, n in CASES:
        times = [per_call_us(lambda lib=lib: getattr(lib, name)(n), seconds) for lib in (torch, tkern)]
        print(f"{name + f'({n})':<18}{times[0]:>12.1f}{times[1]:>12.1f}{times[1] / times[0]:>7.1f}x")


if __name__ == "__main__":
    main()
