"""The lab's resolution grid: continuous parameters that the lab sets in steps.

A continuous parameter with ``resolution`` (5 C for a furnace, 0.01 wt% for a balance)
takes only whole multiples of it inside its bounds (the grid is anchored at 0 and linear in
engineer units, also for log-scale parameters; see
:meth:`doe.domain.parameters.ContinuousParameter.grid_range`).

Rounding happens inside the proposal search, not after it: every refined start of the
acquisition optimiser is rounded to each neighbouring grid point (floor or ceiling per
gridded column), roundings that break a linear constraint are dropped, and the acquisition
is evaluated again on what is left, so the search picks the best *feasible grid* recipe
(:meth:`Lattice.roundings`). Space-filling pools are rounded to the nearest feasible grid
recipe (:meth:`Lattice.nearest`). A recipe none of whose neighbouring grid points is feasible
(a constraint that cuts between them) is walked toward the interior point of the constraints
until a rounding is (:meth:`Lattice.settle`), rather than dropped. The recipes handed to the
engineer carry the exact grid values (:meth:`Lattice.exact`), not a round trip through the
model encoding.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from doe.domain.parameters import ContinuousParameter
from doe.engine.encoding import Encoder

MAX_ROUNDINGS = 64
"""At most this many roundings per recipe: all floor/ceiling combinations of up to 6 gridded
columns; with more, the nearest rounding and each single-column flip of it."""

SETTLE_STEPS = 64
"""Steps of the walk toward the interior point that :meth:`Lattice.settle` takes for a recipe
whose neighbouring grid points all break a linear constraint."""


class Lattice:
    """The resolution grid of a space (empty when no parameter declares a resolution).

    Args:
        encoder: the space.
    """

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.dims: dict[int, ContinuousParameter] = {
            i: p
            for i, p in enumerate(encoder.parameters)
            if isinstance(p, ContinuousParameter) and p.resolution is not None
        }

    def __bool__(self) -> bool:
        return bool(self.dims)

    def grid_points(self, i: int, u: float) -> list[float]:
        """Model-space values of the grid points of column ``i`` just below and above model value
        ``u``, nearest first, inside the bounds (one when ``u`` is on the grid or past its last point)."""
        p = self.dims[i]
        assert p.resolution is not None
        first, last = p.grid_range()
        v = self.encoder.to_engineer(i, u) / p.resolution
        lo = min(max(math.floor(v + 1e-9), first), last)
        hi = min(max(math.ceil(v - 1e-9), first), last)
        ks = [lo] if lo == hi else ([lo, hi] if abs(v - lo) <= abs(hi - v) else [hi, lo])
        return [self.encoder.to_model(i, p.grid_value(k)) for k in ks]

    def roundings(self, X: np.ndarray, held: set[int] | frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """Feasible grid roundings of each row of ``X`` ``(n, d)``.

        Columns in ``held`` (fixed values) are left as they are. The first rounding of a row
        is the nearest one.

        Returns:
            The roundings ``(m, d)`` that satisfy every linear constraint, and for each the
            index of the row of ``X`` it rounds ``(m,)``.
        """
        X = np.asarray(X, dtype=float).reshape(-1, self.encoder.dim)
        dims = [i for i in self.dims if i not in held]
        if not dims:
            ok = self.encoder.feasible(X)
            return X[ok], np.flatnonzero(ok)
        rows, owner = [], []
        for r, x in enumerate(X):
            options = [self.grid_points(i, x[i]) for i in dims]
            if math.prod(len(o) for o in options) <= MAX_ROUNDINGS:
                combos = list(itertools.product(*options))
            else:
                nearest = [o[0] for o in options]
                combos = [tuple(nearest)]
                for j, o in enumerate(options):
                    if len(o) > 1:
                        combos.append(tuple([*nearest[:j], o[1], *nearest[j + 1:]]))
            for combo in combos:
                new = x.copy()
                new[dims] = combo
                rows.append(new)
                owner.append(r)
        R = np.asarray(rows).reshape(-1, self.encoder.dim)
        owner_a = np.asarray(owner, dtype=int)
        ok = self.encoder.feasible(R)
        return R[ok], owner_a[ok]

    def nearest(self, X: np.ndarray, held: set[int] | frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """Each row of ``X`` moved to its nearest feasible grid rounding.

        Returns:
            The rounded rows ``(k, d)`` and the indices of the rows of ``X`` they come from
            (rows with no feasible rounding are left out).
        """
        R, owner = self.roundings(X, held)
        if not len(R):
            return R, owner
        first = np.unique(owner, return_index=True)[1]
        return R[first], owner[first]

    def outward(self, i: int, u: float) -> np.ndarray:
        """Model-space values of every grid point of column ``i`` inside the bounds, nearest to
        model value ``u`` first (the first two are :meth:`grid_points`)."""
        p = self.dims[i]
        assert p.resolution is not None
        first, last = p.grid_range()
        v = self.encoder.to_engineer(i, u) / p.resolution
        ks = np.arange(first, last + 1)
        ks = ks[np.argsort(np.abs(ks - v), kind="stable")]
        return np.array([self.encoder.to_model(i, p.grid_value(int(k))) for k in ks])

    def settle(self, X: np.ndarray, held: set[int] | frozenset[int] = frozenset(),
               steps: int = SETTLE_STEPS) -> tuple[np.ndarray, np.ndarray]:
        """Each row of ``X`` on its nearest feasible grid recipe, as :meth:`nearest`; a row none of
        whose roundings is feasible is walked toward the interior point of the constraints (its
        ``held`` columns, labels and discrete values kept) and takes the feasible rounding of the
        first step that has one, nearest the row (with its values without a grid put back where
        that still meets the constraints).

        Returns:
            The rows ``(k, d)`` and the indices of the rows of ``X`` they come from (a row is left
            out only when no step of its walk has a feasible rounding).
        """
        X = np.asarray(X, dtype=float).reshape(-1, self.encoder.dim)
        R, owner = self.nearest(X, held)
        missing = np.setdiff1d(np.arange(len(X)), owner)
        if not len(missing):
            return R, owner
        cont = [i for i in self.encoder.cont_dims if i not in held]
        rows, owners = [R], [owner]
        centres: dict[tuple[float, ...], np.ndarray | None] = {}
        for r in missing:
            keep = {i: float(X[r, i]) for i in range(self.encoder.dim) if i not in cont}
            key = tuple(keep.values())
            if key not in centres:
                centres[key] = self.encoder.interior_point(keep)
            centre = centres[key]
            if centre is None or not cont:
                continue
            t = np.linspace(0.0, 1.0, steps + 1)[1:, None]
            walk = np.repeat(X[r : r + 1], steps, axis=0)
            walk[:, cont] = X[r, cont] + t * (centre[cont] - X[r, cont])
            found, step = self.roundings(walk, held)
            if not len(found):
                continue
            found = found[step == step.min()]
            best = found[int(np.argmin(np.abs(found[:, cont] - X[r, cont]).sum(axis=1)))][None, :]
            loose = [i for i in cont if i not in self.dims]
            back = best.copy()
            back[:, loose] = X[r, loose]  # the walk moved the values off the grid too: back where they still fit
            rows.append(back if self.encoder.feasible(back)[0] else best)
            owners.append(np.array([r]))
        R, owner = np.vstack(rows), np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        return R[order], owner[order]

    def on_grid(self, recipes: pd.DataFrame) -> np.ndarray:
        """Whether each recipe (engineer units) has every gridded value on its grid, in bounds."""
        ok = np.ones(len(recipes), dtype=bool)
        for p in self.dims.values():
            assert p.resolution is not None
            v = recipes[p.name].to_numpy(dtype=float)
            k = np.rint(v / p.resolution)
            ok &= np.abs(v - k * p.resolution) <= 1e-9 * max(1.0, p.resolution) * np.maximum(1.0, np.abs(k))
            ok &= (v >= p.lower) & (v <= p.upper)
        return ok

    def exact(self, recipes: pd.DataFrame, skip: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
        """A copy of ``recipes`` with every gridded value written exactly (``k * resolution``)."""
        out = recipes.copy()
        for p in self.dims.values():
            if p.name in skip or p.name not in out:
                continue
            assert p.resolution is not None
            first, last = p.grid_range()
            k = np.clip(np.rint(out[p.name].to_numpy(dtype=float) / p.resolution), first, last)
            out[p.name] = [p.grid_value(int(j)) for j in k]
        return out


__all__ = ["MAX_ROUNDINGS", "SETTLE_STEPS", "Lattice"]
