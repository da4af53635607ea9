"""How a row is timed: triton.testing.do_bench's median on a GPU, a perf_counter median without one."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


class Clock:
    """Times calls on one machine; every figure is in milliseconds.

    >>> Clock(gpu=False, repeats=3).wall_ms(lambda: sum(range(1000))) > 0
    True
    """

    def __init__(self, gpu: bool, repeats: int):
        self.gpu = gpu
        self.repeats = repeats
        self.method = "triton.testing.do_bench median" if gpu else "perf_counter median (interpreter: not meaningful)"

    def synchronize(self) -> None:
        if self.gpu:
            import tkern

            # a device-wide wait (torch's work too), which also raises an error a tkern kernel reported
            tkern.cuda.synchronize()

    def kernel_ms(self, fn: Callable[[], object]) -> float:
        """Time per call of a call that queues device work (L2 flushed between calls on a GPU)."""
        if self.gpu:
            import triton.testing

            return triton.testing.do_bench(fn, return_mode="median")
        return self.wall_ms(fn)

    def wall_ms(self, fn: Callable[[], object], repeats: int | None = None) -> float:
        """Median wall time of whole synchronised calls (for loops that wait on the host themselves)."""
        times = []
        for _ in range(repeats or self.repeats):
            self.synchronize()
            start = time.perf_counter()
            fn()
            self.synchronize()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3

    def host_us_per_call(self, fn: Callable[[], object], calls: int) -> float:
        """Host time per call over a burst of ``calls``, synchronised once at the end (median of bursts)."""
        def burst() -> None:
            for _ in range(calls):
                fn()

        fn()
        return self.wall_ms(burst) * 1e3 / calls
