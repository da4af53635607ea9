"""Known defects the fuzzer steers around while their fixes land (issue 14).

Each entry is narrow (one op and a dtype or condition) and cites the issue-14 defect it stands for;
empty the list as fixes land. ``TKERN_FUZZ_IGNORE_KNOWN=1`` runs every case regardless, to see which
entries still fail."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import reject


@dataclass(frozen=True)
class KnownDefect:
    op: str
    defect: str  # the issue-14 line (or "NEW: ...") this entry stands for
    applies: Callable[[dict], bool]


_SESSION = "issue 14 (found by the fuzzer, session 8)"


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


KNOWN_DEFECTS: list[KnownDefect] = [
    KnownDefect(
        "matmul", f"{_SESSION}: `matmul(zeros(6, 1, requires_grad=True), zeros(1, 1, 0, dtype=int64))`: torch "
        "raises RuntimeError 'expected m1 and m2 to have the same dtype' (with grad it takes mm); tkern returns a "
        "(1, 6, 0) tensor (its op layer returns the empty mixed-dtype product without seeing grad)",
        lambda f: f["dtype"] is not f["other_dtype"] and f["grad"] and 0 in f["shapes"][0] + f["shapes"][1]),
    KnownDefect(
        "setitem", f"{_SESSION}, NEW: `x = zeros(3, dtype=int8); x[tensor([False, True, False])] = "
        "tensor([1.5], requires_grad=True)` (also `x[()] = `, `x[1:] = `, `x[...] = tensor(1.5, requires_grad=True)`): "
        "torch's result has requires_grad=True (a one-element value takes fill_/masked_fill, which record a "
        "grad_fn even on an integer or bool tensor); tkern's False",
        lambda f: "ints" not in f["kinds"] and not _name(f["dtype"]).startswith(("float", "bfloat")) and f["grad"]
        and f["value_numel"] == 1),
    KnownDefect(
        "clamp", f"{_SESSION}, NEW: `x = tensor([0.5, 3.]); x.clamp_(min=tensor([1.], requires_grad=True))`: torch's "
        "x then requires grad (the bound's gradient flows through it); tkern's x does not",
        lambda f: f["form"] == "clamp_" and not f["x_grad"]
        and any(form[0] == "tensor" and form[2] for form in f["bound_forms"].values())),
]


def avoid_known(op: str, **facts) -> None:
    """Reject the current hypothesis case when it is a known defect's case."""
    if os.environ.get("TKERN_FUZZ_IGNORE_KNOWN"):
        return
    for entry in KNOWN_DEFECTS:
        if entry.op == op and entry.applies(facts):
            reject()
