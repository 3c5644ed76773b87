"""Latin hypercube strata inside linear constraints.

A Latin hypercube of ``n`` rows cuts each range into ``n`` strata and puts one row in each
stratum of every range. Under a linear constraint (``a_frac + b_frac <= 1``) most such designs
drawn at random have a row whose cell (the box of its strata) lies wholly outside the
constraints, however the row is placed in it. :func:`feasible_strata` searches for an
assignment of strata to rows in which every cell meets the constraints: starting from a drawn
design, it swaps two rows' strata of one range (which keeps the one-row-per-stratum property)
while that does not raise the constraints' violation by the cells, with a random swap now and
then to leave a dead end. :func:`place_in_cells` then puts each row at a feasible point of its cell.

All arrays here are in the model space of the constrained columns: ``A @ x <= b`` with
``lower <= x <= lower + n * width``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SWAP_STEPS_PER_ROW = 200
"""Swaps the search tries per row of the design before it gives up on one start."""


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

    def cost(rows: np.ndarray) -> np.ndarray:
        v = cells.violation(rows)
        if missing:
            v = v + np.array([float(tuple(r) in missing) for r in rows.tolist()])
        return v

    v = cost(S)
    for _ in range(SWAP_STEPS_PER_ROW * n):
        bad = np.flatnonzero(v > 0)
        if not len(bad) and several:
            for r in range(n):
                key = tuple(S[r].tolist())
                if key not in checked and key not in missing:
                    (checked if cells.meets(S[r]) else missing).add(key)
            v = cost(S)
            bad = np.flatnonzero(v > 0)
        if not len(bad):
            return S, bad
        r, k = int(rng.choice(bad)), int(rng.integers(m))
        mine = np.repeat(S[r : r + 1], n, axis=0)  # row r with column k of each other row
        mine[:, k] = S[:, k]
        theirs = S.copy()  # each other row with row r's column k
        theirs[:, k] = S[r, k]
        delta = cost(mine) + cost(theirs) - v[r] - v
        delta[r] = np.inf
        if delta.min() > 0:  # no swap of this row and column helps: another next time, a random one now and then
            if rng.random() >= 0.05:
                continue
            r2 = int(rng.integers(n))
        else:
            r2 = int(rng.choice(np.flatnonzero(delta <= delta.min() + 1e-12)))
        if r2 == r:
            continue
        S[r, k], S[r2, k] = S[r2, k], S[r, k]
        v[[r, r2]] = cost(S[[r, r2]])
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


__all__ = ["SWAP_STEPS_PER_ROW", "Cells", "feasible_strata", "min_distance", "place_in_cells"]
