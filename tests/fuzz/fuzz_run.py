"""How many cases a fuzz test runs on a device, and the runner that draws them."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from hypothesis import given, settings, strategies as st

# the interpreter runs a Triton launch in tens of milliseconds where numpy takes microseconds
CUDA_SHARE = 8


def examples_for(device: str, weight: float = 1.0) -> int:
    """The current profile's max_examples, scaled by a test's weight and down for 'cuda'."""
    base = settings.default.max_examples * weight
    return max(3, round(base / CUDA_SHARE)) if device == "cuda" else max(5, round(base))


# device -> cases that ran to the end (compared, or refused alike), for the run's summary line
CASES_RUN: Counter = Counter()


def fuzz(case: Callable, device: str, weight: float = 1.0) -> None:
    """Run ``case(data, device)`` on hypothesis' draws, as many times as the profile gives the device
    (a fresh function per call: hypothesis refuses to decorate one function twice)."""
    def one_case(data, device: str) -> None:
        case(data, device)
        CASES_RUN[device] += 1
    one_case.__qualname__ = case.__qualname__
    given(data=st.data())(settings(max_examples=examples_for(device, weight))(one_case))(device=device)
