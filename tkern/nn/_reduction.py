"""Loss reductions by name ('none', 'mean', 'sum'), and the deprecated size_average/reduce flags."""
from __future__ import annotations

import warnings

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> str:
    """The reduction name, or torch's ValueError for an unknown one: ``check_reduction('sum')``."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=4)
        return "mean"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def legacy_get_string(size_average: bool | None, reduce: bool | None) -> str:
    """The reduction the deprecated flags mean: ``legacy_get_string(False, None) == 'sum'``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                  "instead.", stacklevel=4)
    return reduction


def resolve(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction a loss uses, giving the deprecated flags priority like torch."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    return check_reduction(reduction)
