"""Latin hypercube strata inside linear constraints.

A Latin hypercube of ``n`` rows cuts each range into ``n`` strata and puts one row in each
stratum of every range. Under a linear constraint (``a_frac + b_frac <= 1``) most such designs
drawn at random have a row whose cell (the box of its strata) lies wholly outside the
constraints, however the row is placed in it. :func:`feasible_strata` searches for an
assignment of strata to rows in which every cell meets the constraints: starting from a drawn
design, it swaps two rows' strata of one range (which keeps the one-row-per-stratum property)
while that does not raise the constraints' violation by the cells, with a random swap now and
then to leave a dead end. Where no assignment can succeed (:meth:`Cells.impossible`: the
constraints' least values summed over the rows pass them whatever the assignment), it stops once
it stalls, with the fewest rows outside it found. :func:`place_in_cells` then puts each row at a
feasible point of its cell.

All arrays here are in the model space of the constrained columns: ``A @ x <= b`` with
``lower <= x <= lower + n * width``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SWAP_STEPS_PER_ROW = 200
"""Swaps the search tries per row of the design before it gives up on one start."""

STALL_STEPS_PER_ROW = 10
"""Where no assignment can meet the constraints (:meth:`Cells.impossible`), the swaps per row of
the design the search tries without leaving fewer rows outside before it stops (it only looks for
the fewest rows to move out of their strata, and takes 200 steps per row to find nothing)."""


@dataclass(frozen=True)
class Cells:
    """The strata of the constrained columns and their constraints.

    Attributes:
        lower: ``(m,)`` lower end of each column's stratified range.
        width: ``(m,)`` width of one stratum of each column.
        A: ``(c, m)`` constraint coefficients; ``b``: ``(c,)`` right-hand sides (tolerance included).
    """

    lower: np.ndarray
    width: np.ndarray
    A: np.ndarray
    b: np.ndarray

    def violation(self, S: np.ndarray) -> np.ndarray:
        """How far each cell of strata ``S`` ``(k, m)`` lies outside the constraints at its
        nearest corner, summed over the constraints (``(k,)``; 0 for a cell that meets each
        one: exact with one constraint, a necessary condition with several)."""
        low = self.lower + S * self.width
        high = low + self.width
        least = np.where(self.A[None] > 0, self.A[None] * low[:, None, :], self.A[None] * high[:, None, :]).sum(axis=2)
        return np.maximum(least - self.b[None], 0.0).sum(axis=1)

    def shares(self, n: int) -> np.ndarray:
        """Each column's share of each constraint's least value over a cell, by stratum ``(c, m, n)``:
        a cell's least value (its nearest corner's, as :meth:`violation` takes it) is the sum of
        its columns' shares."""
        low = self.lower[:, None] + np.arange(n)[None, :] * self.width[:, None]  # (m, n)
        A = self.A[:, :, None]
        return np.where(A > 0, A * low[None], A * (low + self.width[:, None])[None])

    def impossible(self, n: int) -> bool:
        """Whether no assignment of ``n`` strata per column (each column a permutation) puts every
        row's cell inside the constraints: summed over the rows, a constraint's least value over
        the cells is the same for every assignment (each stratum of each column once), so where
        that sum passes ``n`` times the right-hand side some row's cell lies outside (as
        ``a + b + c <= 0.3`` over strata of 0 to 0.3 for more than 3 rows)."""
        total = self.shares(n).sum(axis=(1, 2))
        return bool((total > n * self.b + 1e-9 * np.maximum(1.0, np.abs(n * self.b))).any())

    def meets(self, s: np.ndarray) -> bool:
        """Whether the cell of strata ``s`` ``(m,)`` holds a point inside every constraint (a linear programme)."""
        from scipy.optimize import linprog

        low = self.lower + s * self.width
        res = linprog(np.zeros(len(s)), A_ub=self.A, b_ub=self.b, bounds=list(zip(low, low + self.width, strict=True)),
                      method="highs")
        return bool(res.status == 0)

    def inside(self, x: np.ndarray) -> np.ndarray:
        """Rows of ``x`` ``(k, m)`` inside every constraint."""
        return np.asarray((np.atleast_2d(x) @ self.A.T <= self.b[None]).all(axis=1))


def feasible_strata(cells: Cells, S: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Strata ``S`` ``(n, m)`` (each column a permutation of ``0 .. n-1``) rearranged so that every
    row's cell meets the constraints, by swaps within columns (see the module docstring).

    Returns:
        The rearranged strata (columns still permutations) and the rows whose cells still miss
        the constraints (empty when the search succeeded).
    """
    S = S.copy()
    n, m = S.shape
    several = len(cells.b) > 1
    missing: set[tuple[int, ...]] = set()  # cells that pass the corner test but that no point of meets
    checked: set[tuple[int, ...]] = set()
    # a swap is priced by adding and taking away one column's share per row (Cells.shares), not by
    # pricing every cell again
    share = cells.shares(n)
    columns = np.arange(m)

    def least(rows: np.ndarray) -> np.ndarray:  # (c, k): each constraint's least value over each row's cell
        return share[:, columns[None, :], rows].sum(axis=2)

    def cost(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        v = np.maximum(values - cells.b[:, None], 0.0).sum(axis=0)
        if missing and rows is not None:
            v = v + np.array([float(tuple(r) in missing) for r in rows.tolist()])
        return v

    L = least(S)
    v = cost(L, S)
    stall = STALL_STEPS_PER_ROW * n if cells.impossible(n) else None
    best, fewest, since = S.copy(), n + 1, 0
    for _ in range(SWAP_STEPS_PER_ROW * n):
        bad = np.flatnonzero(v > 0)
        if stall is not None:  # no design meets them all: the fewest rows outside, found soon or not at all
            if len(bad) < fewest:
                best, fewest, since = S.copy(), len(bad), 0
            elif (since := since + 1) > stall:
                break
        if not len(bad) and several:
            for r in range(n):
                key = tuple(S[r].tolist())
                if key not in checked and key not in missing:
                    (checked if cells.meets(S[r]) else missing).add(key)
            v = cost(L, S)
            bad = np.flatnonzero(v > 0)
        if not len(bad):
            return S, bad
        r, k = int(rng.choice(bad)), int(rng.integers(m))
        mine_share, their_share = share[:, k, S[r, k]][:, None], share[:, k, S[:, k]]
        mine_rows = theirs_rows = None
        if missing:  # row r with column k of each other row; each other row with row r's column k
            mine_rows = np.repeat(S[r : r + 1], n, axis=0)
            mine_rows[:, k] = S[:, k]
            theirs_rows = S.copy()
            theirs_rows[:, k] = S[r, k]
        delta = (cost(L[:, r : r + 1] - mine_share + their_share, mine_rows)
                 + cost(L - their_share + mine_share, theirs_rows) - v[r] - v)
        delta[r] = np.inf
        if delta.min() > 1e-12:  # no swap of this row and column helps (rounding aside): another next time,
            if rng.random() >= 0.05:  # a random one now and then
                continue
            r2 = int(rng.integers(n))
        else:
            r2 = int(rng.choice(np.flatnonzero(delta <= delta.min() + 1e-12)))
        if r2 == r:
            continue
        S[r, k], S[r2, k] = S[r2, k], S[r, k]
        L[:, [r, r2]] = least(S[[r, r2]])
        v[[r, r2]] = cost(L[:, [r, r2]], S[[r, r2]])
    if stall is not None and fewest < len(np.flatnonzero(v > 0)):
        S = best
        v = cost(least(S), S)
    return S, np.flatnonzero(v > 0)


def place_in_cells(cells: Cells, S: np.ndarray, offset: np.ndarray, rng: np.random.Generator,
                   tries: int = 50) -> np.ndarray:
    """A point inside the constraints in each row's cell ``(n, m)``: at ``offset`` (``(n, m)``,
    the position within the cell, each in ``[0, 1)``) where that is inside, else at the first of
    ``tries`` random positions that is, else on the segment from the offset point to the centre
    of the cell's feasible part (a linear programme), at the feasible point nearest the offset
    point. A cell that no point meets keeps its offset point."""
    from scipy.optimize import linprog

    X = cells.lower + (S + offset) * cells.width
    for r in np.flatnonzero(~cells.inside(X)):
        low = cells.lower + S[r] * cells.width
        draws = low + rng.random((tries, len(low))) * cells.width
        ok = np.flatnonzero(cells.inside(draws))
        if len(ok):
            X[r] = draws[ok[0]]
            continue
        # the Chebyshev centre of cell and constraints: maximise the radius t of a ball inside both
        norms = np.linalg.norm(cells.A, axis=1)
        res = linprog(np.r_[np.zeros(len(low)), -1.0], A_ub=np.c_[cells.A, norms], b_ub=cells.b,
                      bounds=[*zip(low, low + cells.width, strict=True), (0.0, None)], method="highs")
        if res.status != 0:
            continue
        centre = res.x[:-1]
        lo_t, hi_t = 0.0, 1.0  # bisect: the least step toward the centre that is inside
        for _ in range(60):
            t = 0.5 * (lo_t + hi_t)
            if cells.inside(X[r] + t * (centre - X[r]))[0]:
                hi_t = t
            else:
                lo_t = t
        X[r] = X[r] + hi_t * (centre - X[r])
    return X


def min_distance(X: np.ndarray) -> float:
    """The smallest distance between two rows of ``X`` (infinite for fewer than two)."""
    if len(X) < 2:
        return float("inf")
    gaps = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    return float(gaps[np.triu_indices(len(X), 1)].min())


__all__ = ["STALL_STEPS_PER_ROW", "SWAP_STEPS_PER_ROW", "Cells", "feasible_strata", "min_distance", "place_in_cells"]
