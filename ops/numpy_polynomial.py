"""The polynomial least-squares primitives on the CPU, in numpy (see Backend.poly_loss_grad/poly_fit).

The points go through in chunks that stay in cache, each chunk with a handful of whole-array numpy calls
(Horner's rule, then one matrix-vector product for every coefficient's gradient at once); the chunks'
sums are added in float64, in order.

poly_fit reads the data once, for the float64 moments S_j = sum x**j (j <= 2D), T_j = sum y x**j
(j <= D) and U = sum y**2 that fix loss and gradient of every coefficient vector. A step is then the
affine map c -> c - 2 lr s (M c - T) with M[j, k] = S[j + k]: on [c, 1] a matrix G of size D + 2. Rather
than a Python loop of ``steps`` tiny numpy calls (microseconds each), the powers G**0 .. G**(B-1) are built
by doubling (log2 B batched products) and every state of a block of B steps comes out of one batched
product; the rounding differs from the step-by-step loop's by a few float64 ulps per doubling.
"""
from __future__ import annotations

import warnings

import numpy as np

# a fit whose steps diverge overflows silently, as torch's loop would
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__.replace(".", r"\."))

# points per chunk: large enough that numpy's per-call cost (a dozen calls of ~1-2 us a chunk) stays small,
# small enough to stay in L3
# (measured at 2**20 points, cubic: 4096 -> 6.8 ms, 16384 -> 3.0 ms, 65536 -> 2.0 ms)
CHUNK = 65536
# steps per block of poly_fit's batched products
FIT_BLOCK = 512


def _chunk_of(a: np.ndarray, start: int, acc) -> np.ndarray:
    """a[start:start + CHUNK] read as ``acc`` (a view where it already is)."""
    return np.asarray(a[start:start + CHUNK], acc)


def _powers(x: np.ndarray, count: int, out: np.ndarray) -> np.ndarray:
    """Rows x**0 .. x**(count-1) of x into out[:count, :len(x)], by repeated multiplication."""
    rows = out[:count, :x.shape[0]]
    rows[0] = 1
    if count > 1:
        rows[1] = x
    for j in range(2, count):
        np.multiply(rows[j - 1], x, out=rows[j])
    return rows


def _loss_grad_chunk(x: np.ndarray, y: np.ndarray, c: np.ndarray, dx: np.ndarray | None, dy: np.ndarray | None,
                     scale: float, table: np.ndarray) -> tuple:
    """(sum r*r, sum r x**k for every k) of one chunk, r = p(x) - y by Horner's rule; each point's
    own gradients into dx and dy when given."""
    degree = c.shape[0] - 1
    value = np.full_like(x, c[degree])
    slope = np.zeros_like(x) if dx is not None else None
    for k in range(degree - 1, -1, -1):
        if slope is not None:
            slope *= x
            slope += value
        value *= x
        value += c[k]
    r = np.subtract(value, y, out=value)
    if dx is not None and slope is not None:  # (slope is made exactly when dx is given)
        np.multiply(r, slope, out=slope)
        np.multiply(slope, 2.0 * scale, out=dx)
    if dy is not None:
        np.multiply(r, -2.0 * scale, out=dy)
    return float(np.dot(r, r)), _powers(x, degree + 1, table) @ r


def loss_grad(x: np.ndarray, y: np.ndarray, coeffs: np.ndarray, scale: float, acc, loss: np.ndarray,
              grad: np.ndarray, dx: np.ndarray | None, dy: np.ndarray | None) -> None:
    """Backend.poly_loss_grad on host arrays, accumulating in ``acc``: chunk by chunk, the chunks' sums
    added in float64 in order."""
    degree = coeffs.shape[0] - 1
    c = coeffs.astype(acc)
    n = x.shape[0]
    # the points' gradients are computed in acc: outputs of another dtype get them through a buffer
    dx_acc = dx if dx is None or dx.dtype == acc else np.empty(n, acc)
    dy_acc = dy if dy is None or dy.dtype == acc else np.empty(n, acc)
    table = np.empty((degree + 1, min(n, CHUNK)), acc)
    squares = 0.0
    sums = np.zeros(degree + 1)
    for start in range(0, n, CHUNK):
        end = min(start + CHUNK, n)
        chunk_squares, chunk_sums = _loss_grad_chunk(
            _chunk_of(x, start, acc), _chunk_of(y, start, acc), c, None if dx_acc is None else dx_acc[start:end],
            None if dy_acc is None else dy_acc[start:end], scale, table)
        squares += chunk_squares
        sums += chunk_sums
    # rounded to acc first, as the 'cuda' kernel's sums are
    loss[()] = acc.type(squares * scale)
    np.copyto(grad, (sums * (2.0 * scale)).astype(acc), casting="unsafe")
    for out, computed in ((dx, dx_acc), (dy, dy_acc)):
        if out is not None and computed is not None and out is not computed:
            np.copyto(out, computed, casting="unsafe")


def moments(x: np.ndarray, y: np.ndarray, degree: int) -> tuple:
    """(S, T, U) of the module's docstring, in float64."""
    table = np.empty((2 * degree + 1, min(x.shape[0], CHUNK)))
    sums = np.zeros(2 * degree + 1)
    target = np.zeros(degree + 1)
    energy = 0.0
    for start in range(0, x.shape[0], CHUNK):
        xs, ys = _chunk_of(x, start, np.float64), _chunk_of(y, start, np.float64)
        rows = _powers(xs, 2 * degree + 1, table)
        sums += rows.sum(axis=1)
        target += rows[:degree + 1] @ ys
        energy += float(np.dot(ys, ys))
    return sums, target, energy


def descend(sums: np.ndarray, target: np.ndarray, energy: float, coeffs: np.ndarray, lr: float, steps: int,
            scale: float) -> tuple:
    """(final coefficients, loss before each step) of ``steps`` gradient-descent steps from the moments."""
    size = coeffs.shape[0]
    index = np.arange(size)
    matrix = sums[index[:, None] + index[None, :]]
    step = np.eye(size + 1)
    step[:size, :size] -= (2.0 * lr * scale) * matrix
    step[:size, size] = (2.0 * lr * scale) * target
    block = max(1, min(steps, FIT_BLOCK))
    powers = np.empty((block, size + 1, size + 1))
    powers[0] = np.eye(size + 1)
    filled = 1
    while filled < block:
        count = min(filled, block - filled)
        # G**(filled + i) = G**i @ G**filled
        powers[filled:filled + count] = powers[:count] @ (powers[filled - 1] @ step)
        filled += count
    state = np.append(coeffs.astype(np.float64), 1.0)
    losses = np.empty(steps)
    for start in range(0, steps, block):
        count = min(block, steps - start)
        c = (powers[:count] @ state)[:, :size]
        loss = np.einsum("ij,ij->i", c, c @ matrix - 2.0 * target) + energy
        losses[start:start + count] = scale * loss
        state = powers[count - 1] @ (step @ state)
    # the expanded form can dip below zero by rounding where the fit is near exact
    losses[losses < 0.0] = 0.0
    return state[:size], losses
