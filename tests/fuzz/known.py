"""Cases the fuzzer steers around, each narrow (one op and a condition) and argued for.

KNOWN_DEFECTS lists tkern's open defects while their fixes land (empty it as they do); TORCH_QUIRKS
lists torch behaviour tkern deliberately does not copy, because torch contradicts itself there (the
README's "Known differences" names each). ``TKERN_FUZZ_IGNORE_KNOWN=1`` runs every case regardless."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import reject


@dataclass(frozen=True)
class KnownCase:
    ops: tuple[str, ...]
    why: str  # the behaviour, and why the case is set aside
    applies: Callable[[dict], bool]


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


KNOWN_DEFECTS: list[KnownCase] = []

TORCH_QUIRKS: list[KnownCase] = [
    KnownCase(
        ("setitem", "index_put_"), "`x = zeros(3, dtype=int8); x[tensor([False, True, False])] = tensor(1.5, requires_grad=True)` "
        "(also `x[()] =`, `x[1:] =`, `x[...] =` a 0-d value, and index_put_ by a mask): torch records a node (IndexPutBackward0, FillBackward3, "
        "CopySlices) on the integer tensor, which then requires grad, though torch refuses requires_grad on integer "
        "tensors everywhere else and every use of x afterwards raises (x * 2: 'Autograd not support dtype'; "
        "x.backward(): an internal assert). tkern leaves the integer tensor out of the graph.",
        lambda f: "ints" not in f["kinds"] and not _name(f["dtype"]).startswith(("float", "bfloat")) and f["grad"]
        and f["value_numel"] == 1),
    KnownCase(
        ("remainder", "fmod"), "`x = full((64,), 3e38); x % full((64,), 0.64)` (float32, float16, bfloat16): torch's "
        "vectorised loop works out a - b * floor(a / b), and a quotient past float32's largest value makes it nan, "
        "while its scalar loop (a tensor's last few elements, or a short one) gives C's exact fmod (0.12...): the "
        "result depends on the element's position. tkern gives C's fmod everywhere.",
        lambda f: any(_name(f[side]).startswith(("float", "bfloat")) for side in ("left", "right"))
        and _quotient_overflows(f)),
]


def _quotient_overflows(facts: dict) -> bool:
    """Whether some finite a / b passes float32's largest value (and so the compute type's, for the
    16-bit and float32 types torch's vectorised fmod works in)."""
    left, right = (np.asarray(facts[k], dtype=np.float64) for k in ("left_values", "right_values"))
    try:
        left, right = np.broadcast_arrays(left, right)
    except ValueError:
        return False
    with np.errstate(all="ignore"):
        quotient = np.abs(left / right)
    return bool(np.any(np.isfinite(left) & (quotient > np.finfo(np.float32).max)))


def avoid_known(op: str, **facts) -> None:
    """Reject the current hypothesis case when it is a known defect's or a torch quirk's case."""
    if os.environ.get("TKERN_FUZZ_IGNORE_KNOWN"):
        return
    for entry in KNOWN_DEFECTS + TORCH_QUIRKS:
        if op in entry.ops and entry.applies(facts):
            reject()
