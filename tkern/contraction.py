"""tkern.einsum: an Einstein summation written with views, sums and batched matrix products, so its
gradient comes from theirs.

Each operand first takes the diagonal of a label it repeats and sums the labels no other operand and
not the output has; the operands are then contracted left to right, each pair as one bmm over
(labels both keep, labels of the left only, the labels they sum) x (..., the right's only); the
result is permuted into the output's order. Ellipsis dims are labels of their own (ints, right
aligned across operands), broadcast like any label of size 1.
"""
from __future__ import annotations

from collections import Counter

from tkern.ops.array import numel_of

from .tensor import Tensor

_ELLIPSIS = "..."


def _error(message: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {message}")


def _subscripts(text: str, start: int, operand: int | None) -> list:
    """The letters of one term and _ELLIPSIS where it has one; ``start`` is its index in the equation
    (for torch's message about an invalid subscript)."""
    labels, dots = [], 0
    for i, c in enumerate(text):
        if c == " ":
            continue
        if c == ".":
            if _ELLIPSIS in labels:
                raise _error(f"found '.' for {_where(operand)} for which an ellipsis was already found")
            dots += 1
            if dots == 3:
                labels.append(_ELLIPSIS)
                dots = 0
            continue
        if dots:
            raise _error(f"found '.' for {_where(operand)} that is not part of any ellipsis")
        if not (c.isascii() and c.isalpha()):
            raise _error(f"invalid subscript given at index {start + i} in the equation string, subscripts must be "
                         "in [a-zA-Z]")
        labels.append(c)
    if dots:
        raise _error(f"found '.' for {_where(operand)} that is not part of any ellipsis")
    return labels


def _where(operand: int | None) -> str:
    return "output" if operand is None else f"operand {operand}"


def _parse(equation: str, operands: tuple) -> tuple[list, list]:
    """(each operand's labels, one per dim, the output's labels), checked like torch."""
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise _error("more operands were provided than specified in the equation")
    parsed, start = [], 0
    for i, term in enumerate(terms):
        parsed.append(_subscripts(term, start, i))
        start += len(term) + 1
    ellipsis_dims = 0
    for i, (labels, x) in enumerate(zip(parsed, operands)):
        letters = len(labels) - (_ELLIPSIS in labels)
        if _ELLIPSIS not in labels and letters != x.dim():
            raise _error(f"the number of subscripts in the equation ({letters}) does not match the number of "
                         f"dimensions ({x.dim()}) for operand {i} and no ellipsis was given")
        if letters > x.dim():
            raise _error(f"the number of subscripts in the equation ({letters}) is more than the number of "
                         f"dimensions ({x.dim()}) for operand {i}")
        ellipsis_dims = max(ellipsis_dims, x.dim() - letters)
    inputs = [_expanded(labels, x.dim(), ellipsis_dims) for labels, x in zip(parsed, operands)]
    if arrow < 0:
        counts = Counter(label for labels in inputs for label in labels if isinstance(label, str))
        output = list(range(ellipsis_dims)) + sorted(label for label, n in counts.items() if n == 1)
        return inputs, output
    output_labels = _subscripts(equation[arrow + 2:], arrow + 2, None)
    seen = {label for labels in inputs for label in labels}
    for i, label in enumerate(output_labels):
        if label == _ELLIPSIS:
            continue
        if label not in seen:
            raise _error(f"output subscript {label} does not appear in the equation for any input operand")
        if label in output_labels[:i]:
            raise _error(f"output subscript {label} appears more than once in the output")
    return inputs, _expanded(output_labels, len(output_labels) - (_ELLIPSIS in output_labels) + ellipsis_dims,
                             ellipsis_dims)


def _expanded(labels: list, ndim: int, ellipsis_dims: int) -> list:
    """labels with the ellipsis replaced by the ints of the ellipsis dims it covers (right aligned)."""
    if _ELLIPSIS not in labels:
        return list(labels)
    at = labels.index(_ELLIPSIS)
    covered = ndim - (len(labels) - 1)
    return labels[:at] + list(range(ellipsis_dims - covered, ellipsis_dims)) + labels[at + 1:]


def _check_sizes(inputs: list, operands: tuple) -> None:
    sizes: dict = {}
    for i, (labels, x) in enumerate(zip(inputs, operands)):
        own: dict = {}
        for label, size in zip(labels, x.shape):
            if label in own and own[label] != size:
                raise _error(f"subscript {label} is repeated for operand {i} but the sizes don't match, "
                             f"{size} != {own[label]}")
            own[label] = size
        for label, size in own.items():
            seen = sizes.get(label, 1)
            if size != seen and 1 not in (size, seen):
                name = label if isinstance(label, str) else "..."
                raise _error(f"subscript {name} has size {size} for operand {i} which does not broadcast with "
                             f"previously seen size {seen}")
            sizes[label] = max(seen, size) if size != 1 else seen


def _prepared(x: Tensor, labels: list, keep: set) -> tuple[Tensor, list]:
    """x with the diagonal of every repeated label taken and the labels outside ``keep`` summed."""
    labels = list(labels)
    while len(set(labels)) < len(labels):
        first = next(label for label in labels if labels.count(label) > 1)
        p = labels.index(first)
        q = labels.index(first, p + 1)
        x = x.diagonal(0, p, q)  # (the diagonal becomes the last dim)
        labels = [label for i, label in enumerate(labels) if i not in (p, q)] + [first]
    summed = [i for i, label in enumerate(labels) if label not in keep]
    if summed:
        x = x.sum(summed)
        labels = [label for label in labels if label in keep]
    return x, labels


def _contracted(x: Tensor, xl: list, y: Tensor, yl: list, keep: set) -> tuple[Tensor, list]:
    """The product of two prepared operands as one bmm, summed over the labels they share that
    ``keep`` lacks."""
    shared = [label for label in xl if label in yl]
    for label in [label for label in shared if label not in keep]:
        # a summed label of size 1 on one side broadcasts: the other side is summed over it first
        i, j = xl.index(label), yl.index(label)
        if x.shape[i] != y.shape[j]:
            if x.shape[i] == 1:
                y = y.sum(j, keepdim=True)
            else:
                x = x.sum(i, keepdim=True)
    batch = [label for label in shared if label in keep]
    summed = [label for label in shared if label not in keep]
    left = [label for label in xl if label not in yl]
    right = [label for label in yl if label not in xl]
    batch_sizes = tuple(max(x.shape[xl.index(label)], y.shape[yl.index(label)]) for label in batch)
    x = x.permute([xl.index(label) for label in batch + left + summed])
    y = y.permute([yl.index(label) for label in batch + summed + right])
    x = x.expand(*batch_sizes, *x.shape[len(batch):])
    y = y.expand(*batch_sizes, *y.shape[len(batch):])
    left_sizes = tuple(x.shape[len(batch):len(batch) + len(left)])
    right_sizes = tuple(y.shape[len(y.shape) - len(right):])
    batches, depth = numel_of(batch_sizes), numel_of(tuple(x.shape[len(batch) + len(left):]))
    rows, columns = numel_of(left_sizes), numel_of(right_sizes)
    product = x.reshape(batches, rows, depth).bmm(y.reshape(batches, depth, columns))
    return product.reshape(*batch_sizes, *left_sizes, *right_sizes), batch + left + right


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products over the labelled dims of the operands, torch's Einstein notation (explicit
    output after ``->``, or implicit: the labels used once, in order; ``...`` for broadcast dims):
    ``tkern.einsum('ij,jk->ik', a, b)`` is ``a @ b``, ``tkern.einsum('ii', x)`` the trace of x."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    inputs, output = _parse(equation, operands)
    _check_sizes(inputs, operands)
    prepared = []
    for i, (x, labels) in enumerate(zip(operands, inputs)):
        others = {label for j, other in enumerate(inputs) if j != i for label in other}
        prepared.append(_prepared(x, labels, others | set(output)))
    result, labels = prepared[0]
    for i, (y, yl) in enumerate(prepared[1:], start=1):
        keep = set(output) | {label for later in inputs[i + 1:] for label in later}
        result, labels = _contracted(result, labels, y, yl, keep)
    result, labels = _prepared(result, labels, set(output))
    return result.permute([labels.index(label) for label in output])
