"""Known defects the fuzzer steers around while their fixes land (issue 14).

Each entry is narrow (one op and a dtype or condition) and cites the issue-14 defect it stands for;
empty the list as fixes land. ``TKERN_FUZZ_IGNORE_KNOWN=1`` runs every case regardless, to see which
entries still fail."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hypothesis import reject


@dataclass(frozen=True)
class KnownDefect:
    op: str
    defect: str  # the issue-14 line (or "NEW: ...") this entry stands for
    applies: Callable[[dict], bool]


_SESSION = "issue 14 (found by the fuzzer, session 8)"
_INTEGERS = ("uint8", "int8", "int16", "int32", "int64")


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _int_out_of_range(value, dtype) -> bool:
    """A Python int (not bool) that the integer dtype cannot hold."""
    if type(value) is not int or _name(dtype) not in _INTEGERS:
        return False
    bits = int(_name(dtype).lstrip("uint") or 8)
    low, high = (0, 2**bits - 1) if _name(dtype) == "uint8" else (-2**(bits - 1), 2**(bits - 1) - 1)
    return not low <= value <= high


KNOWN_DEFECTS: list[KnownDefect] = [
    # (a): being fixed now; delete as the fixes land
    KnownDefect(
        "pow", f"{_SESSION}: `tensor([1, 2], dtype=int8).pow_(256)` (and `** 256`) returns [1, 1]; torch raises "
        "RuntimeError 'value cannot be converted to type int8_t without overflow' (the int8.pow_ overflow defect)",
        lambda f: f["right"] is int and f["right_values"] > 0 and _int_out_of_range(f["right_values"], f["left"])),
    KnownDefect(
        "clamp", f"{_SESSION}: `clamp(tensor([0.5, 3.]), min=1, max=tensor(2))` (and clamp_(min=tensor(1), max=2)): "
        "torch reads a 0-d bound without grad as a number and returns [1., 2.]; tkern raises TypeError "
        "(the fix of clamp with one tensor and one scalar bound refuses 0-d tensors too)",
        lambda f: len(f["bound_forms"]) == 2 and {form[0] for form in f["bound_forms"].values()} == {"scalar", "tensor"}
        and any(form[0] == "tensor" and form[1] == 0 and not form[2] for form in f["bound_forms"].values())),
    KnownDefect(
        "matmul", f"{_SESSION}: `matmul(zeros(6, 1, requires_grad=True), zeros(1, 1, 0, dtype=int64))`: torch "
        "raises RuntimeError 'expected m1 and m2 to have the same dtype'; tkern returns a (1, 6, 0) tensor (the "
        "fix of matmul of empty float @ long returns empty results also where torch, with grad, raises)",
        lambda f: f["dtype"] is not f["other_dtype"] and f["grad"] and 0 in f["shapes"][0] + f["shapes"][1]),
    # (b): new beyond the list of issue 14
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
    KnownDefect(
        "bmm", f"{_SESSION}, NEW: `bmm(zeros(2, 8, 3, dtype=bool), zeros(2, 3, 3, dtype=int64))`: torch raises "
        "NotImplementedError ('\"bmm\" not implemented for Bool'); tkern RuntimeError (dtypes differ)",
        lambda f: _name(f["dtype"]) == "bool" and _name(f["other_dtype"]) != "bool"),
    KnownDefect(
        "remainder", f"{_SESSION}, NEW: `remainder(tensor([3.]), tensor([-1.5]))` (and `0 % tensor([-1.5])`) gives "
        "-0. on 'cpu'; torch 0. (a zero remainder with a negative divisor; 'cuda' is right)",
        lambda f: f["device"] == "cpu" and _zero_remainder_by_negative(f["left_values"], f["right_values"])),
]
for _op in ("softmax", "log_softmax"):
    KNOWN_DEFECTS.append(KnownDefect(
        _op, f"{_SESSION}, NEW: `log_softmax(tensor(3, dtype=int16), dim=1)` raises NotImplementedError; torch "
        "IndexError (dim out of range: torch checks the dim before the dtype)",
        lambda f: not _name(f["dtype"]).startswith(("float", "bfloat"))
        and not -max(f["ndim"], 1) <= f["kwargs"].get("dim", 0) < max(f["ndim"], 1)))


def _zero_remainder_by_negative(left, right) -> bool:
    """Whether some element of a floating remainder is zero with a negative divisor."""
    try:
        a, b = np.broadcast_arrays(np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64))
        floating = any(np.asarray(v).dtype.kind == "f" or isinstance(v, float) for v in (left, right))
        with np.errstate(all="ignore"):
            return floating and bool(np.any((np.fmod(a, b) == 0) & (b < 0)))
    except ValueError:
        return False


def avoid_known(op: str, **facts) -> None:
    """Reject the current hypothesis case when it is a known defect's case."""
    if os.environ.get("TKERN_FUZZ_IGNORE_KNOWN"):
        return
    for entry in KNOWN_DEFECTS:
        if entry.op == op and entry.applies(facts):
            reject()
