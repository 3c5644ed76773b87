"""Classical designs that JMP users know, through pyDOE3: a Latin hypercube and a two-level
screening design (Plackett-Burman) with centre points.

Both work in the encoder's model space, so every recipe lands on allowed discrete values and
labels and on the lab's resolution grid, with fixed values held:

- ``latin_hypercube``: pyDOE3's maximin Latin hypercube of ``n`` points (one point: a plain
  random draw, there being no distance to maximise; each continuous
  parameter's range cut into ``n`` strata, one point per stratum; discrete and categorical
  parameters take the level of the stratum). A continuous parameter in a linear constraint is
  stratified over the part of its range that the constraints leave feasible given the fixed
  values (a held furnace programme can leave only part of a loading range feasible; linear
  programmes find that part). Where a row's cell (its strata of the constrained ranges) lies
  outside a linear constraint, rows swap strata within a range until every cell meets the
  constraints, and each row is placed inside them in its cell (:mod:`doe.engine.strata`);
  where no such design is found, the rows left over are moved inside the constraints out of
  their strata and the design's note (``model_settings["design_note"]``, a logged warning)
  says so. A row that the grid rounding makes equal to another
  row or to a recipe already in the campaign is replaced by the untested recipe farthest from
  the rest; fewer untested recipes than ``n`` (a coarse grid) is refused with their count.
- ``screening``: pyDOE3's Plackett-Burman design over the free parameters (runs: the next
  multiple of 4 above their number; with one free parameter, its two levels: each distinct
  corner once) at two levels: a continuous parameter at its bounds, a
  discrete one at its lowest and highest value, a categorical one at its first and second
  label; then ``n - runs`` centre points (continuous: the middle of the range on the grid,
  discrete: the middle value, categorical: the first label). Where that centre is itself a
  corner (no free parameter has a middle value: categorical or two-valued discrete ones only),
  ``n`` above the runs is refused. Parameters in ``batch_shared``
  and fixed ones are held at one value for the whole design (a screening design cannot vary
  a furnace setting that the batch shares). A design that breaks a linear constraint is
  refused, naming the way out (a Latin hypercube). Where half the design's corners or more
  are already in the campaign (made or pending, as after a first screening), the design is its
  fold-over (every sign reversed: the two together separate each main effect from the
  two-factor interactions); where half the fold-over's are too, it is refused. A corner that
  is the batch's control recipe (as the batch's held values make it) is measured by the
  control: its row is a centre point instead (the note says so), refused where the centre is
  a corner or the control too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from doe.engine.design import initial_design, sample_space, untested_pool
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice
from doe.engine.strata import Cells, feasible_strata, min_distance, place_in_cells
from doe.errors import ProposalError

logger = logging.getLogger(__name__)

Design = Literal["latin_hypercube", "screening"]
DESIGNS: tuple[Design, ...] = ("latin_hypercube", "screening")


class TooFewRecipes(ProposalError):
    """Fewer untested recipes remain than a design asks for (a coarse grid, a small discrete space)."""


def _levels(encoder: Encoder, i: int, u: np.ndarray) -> np.ndarray:
    """Unit-interval values of dimension ``i`` mapped to the model space (levels by stratum)."""
    if i in encoder.cat_dims:
        return np.floor(u * len(encoder.cat_dims[i])).clip(0, len(encoder.cat_dims[i]) - 1)
    if i in encoder.discrete_dims:
        values = np.asarray(encoder.discrete_dims[i])
        return values[np.floor(u * len(values)).clip(0, len(values) - 1).astype(int)]
    return u


def _on_grid(encoder: Encoder, X: np.ndarray, held: set[int]) -> np.ndarray:
    lattice = Lattice(encoder)
    X = encoder.snap(X)
    if lattice:
        X, _ = lattice.nearest(X, held)
    return X


def feasible_ranges(encoder: Encoder, fixed: dict[int, float]) -> dict[int, tuple[float, float]]:
    """Model-space range of each free continuous parameter of a linear constraint, over the
    recipes that meet every linear constraint with ``fixed`` held (a linear programme per end).

    Raises:
        ProposalError: no recipe meets the constraints with these fixed values.
    """
    from scipy.optimize import linprog

    free = sorted({i for con in encoder.linear_constraints for i in con.indices} - set(fixed))
    if not free:
        return {}
    a_ub: list[np.ndarray] = []
    b_ub: list[float] = []
    for con in encoder.linear_constraints:
        row, rhs = np.zeros(len(free)), con.rhs
        for i, a in zip(con.indices, con.coefficients, strict=True):
            if i in fixed:
                rhs -= a * fixed[i]
            else:
                row[free.index(i)] = a
        a_ub.append(row)
        b_ub.append(rhs + encoder.constraint_tolerance()[len(b_ub)])
    ranges = {}
    for k, i in enumerate(free):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(free))
            c[k] = sign
            res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[(0.0, 1.0)] * len(free), method="highs")
            if res.status != 0:
                raise ProposalError("design: no recipe meets the linear constraints with the values held for this "
                                    "batch; hold other values or relax a constraint")
            ends.append(float(np.clip(res.x[k], 0.0, 1.0)))
        ranges[i] = (ends[0], ends[1])
    return ranges


@dataclass(frozen=True)
class Hypercube:
    """A Latin hypercube's recipes (model space, ``(n, d)``) and, when no Latin hypercube of
    this size fits inside the linear constraints, a ``note`` saying which rows were moved
    inside them out of their strata (``None`` for a true Latin hypercube)."""

    X: np.ndarray
    note: str | None = None


HYPERCUBE_STARTS = 10
"""Drawn designs that :func:`latin_hypercube` starts its search for feasible strata from."""

HYPERCUBE_KEPT = 3
"""Feasible hypercubes it compares (the most spread is kept) before it stops drawing."""


def latin_hypercube(encoder: Encoder, n: int, seed: int, fixed: dict[int, float], *,
                    feasible_part: bool = True, taken: np.ndarray | None = None,
                    fallback: bool = True) -> Hypercube:
    """``n`` distinct recipes (model space) of a maximin Latin hypercube, inside every constraint
    (stratified over each range's feasible part, or with ``feasible_part=False`` the whole range).

    pyDOE3 draws a maximin design; where a row's cell (its strata of the constrained ranges)
    lies outside a linear constraint, rows swap strata of one range until every cell meets the
    constraints (:func:`doe.engine.strata.feasible_strata`), and each row is placed inside the
    constraints in its cell. Of the first :data:`HYPERCUBE_KEPT` such designs (from up to
    :data:`HYPERCUBE_STARTS` draws) the one whose closest two recipes lie farthest apart is
    kept. Where none is found, with ``fallback`` the design with the fewest such rows has them
    moved inside the constraints (toward their interior point), out of their strata, and the
    :class:`Hypercube` says so in its ``note`` (logged as a warning). Where none can exist (summed
    over the rows, a constraint's least values over the cells pass it whatever the assignment:
    ``a + b + c <= 0.3`` over strata of 0 to 0.3 for more than 3 rows,
    :meth:`doe.engine.strata.Cells.impossible`), the search stops once it stalls and the most
    spread of the designs, as moved, is kept. Every row moved meets the constraints exactly.

    Rows that the grid rounding makes equal to another row or to a ``taken`` recipe (made or
    pending) are replaced by the untested recipes farthest from the rest
    (:func:`doe.engine.design.initial_design`).

    Raises:
        ProposalError: no recipe meets the constraints with the ``fixed`` values; with
            ``feasible_part=False``, the constraints leave a whole stratum of a range empty;
            without ``fallback``, no Latin hypercube found fits the constraints.
        TooFewRecipes: fewer than ``n`` untested recipes remain (a coarse grid).
    """
    from pyDOE3 import lhs

    free = [i for i in range(encoder.dim) if i not in fixed]
    dims = sorted({i for con in encoder.linear_constraints for i in con.indices} - set(fixed))
    ranges = feasible_ranges(encoder, fixed)
    if not feasible_part:
        if any(lo > 1.0 / n or hi < 1.0 - 1.0 / n for lo, hi in ranges.values()):
            raise ProposalError("design: the linear constraints leave a stratum of a range without a recipe")
        ranges = {}
    cells = _cells(encoder, fixed, dims, ranges, n)
    centre = encoder.interior_point(fixed)
    # no assignment of strata meets the constraints: every design moves rows, the most spread one is kept
    impossible = bool(dims) and cells.impossible(n)
    if impossible and not fallback:
        raise ProposalError("design: no Latin hypercube of this size can fit inside the linear constraints")
    kept: list[tuple[tuple[int, float], np.ndarray, np.ndarray]] = []
    for attempt in range(HYPERCUBE_STARTS):
        # one point, or no free column (every parameter held), has no distances to maximise
        # (pyDOE3's maximin fails on it): a plain sample; held alone, the rows are the one recipe
        u = lhs(len(free), samples=n, criterion="maximin" if n > 1 and free else None, iterations=20,
                random_state=np.random.RandomState(seed + attempt))
        X = np.zeros((n, encoder.dim))
        for k, i in enumerate(free):
            X[:, i] = _levels(encoder, i, u[:, k])
        for i, v in fixed.items():
            X[:, i] = v
        missed = np.zeros(0, dtype=int)
        if dims:
            scaled = u[:, [free.index(i) for i in dims]] * n
            strata = np.floor(scaled).clip(0, n - 1)
            rng = np.random.default_rng(seed + attempt)
            S, missed = feasible_strata(cells, strata.astype(int), rng)
            X[:, dims] = place_in_cells(cells, S, scaled - strata, rng)
        X = encoder.snap(X)
        moved = X.copy()  # the spread of the design as it will be, its rows outside moved inside
        if len(missed) and centre is not None:
            moved[missed] = encoder.repair(X[missed], centre)
        spread = min_distance(encoder.to_features(moved))
        kept.append(((0 if impossible else len(missed), -spread), X, missed))
        if not dims or sum(not len(m) for _, _, m in kept) >= HYPERCUBE_KEPT:
            break
    _, X, missed = min(kept, key=lambda k: k[0])
    note = None
    if centre is not None:
        _inside_in_strata(encoder, X, np.setdiff1d(np.arange(len(X)), missed), centre, cells, dims)
    if len(missed):
        if not fallback:
            raise ProposalError("design: no Latin hypercube of this size found inside the linear constraints")
        assert centre is not None  # feasible_ranges found a recipe
        X[missed] = encoder.repair(X[missed], centre)
        note = (f"design: no Latin hypercube of {n} rows was found inside the linear constraints "
                f"({'; '.join(con.text for con in encoder.linear_constraints)}); {len(missed)} row(s) were moved "
                "inside them, out of their strata, so the design is only nearly a Latin hypercube")
        logger.warning("%s", note)
    if lattice := Lattice(encoder):  # each row's nearest grid recipe inside the constraints
        X, _ = lattice.settle(X, set(fixed))
    if len(X) != n or not encoder.feasible(X).all():
        raise ProposalError("design: no Latin hypercube of this size meets the linear constraints"
                            + (" on the resolution grid" if lattice else "")
                            + "; use the space-filling start (design='model') or relax a constraint")
    return Hypercube(_distinct(encoder, X, seed, fixed, taken), note)


def _inside_in_strata(encoder: Encoder, X: np.ndarray, rows: np.ndarray, centre: np.ndarray, cells: Cells,
                      dims: list[int]) -> None:
    """Move ``rows`` of ``X`` (in place) that lie outside a linear constraint inside it exactly
    (:meth:`Encoder.repair`), each where that keeps it in its strata or where it lies outside even
    the constraints' tolerance. A row of a cell that meets the constraints only within the LP
    solver's tolerance (HiGHS: about 1e-7), or that place_in_cells put within the constraints'
    tolerance, lies that little outside them: a row left on the tolerance's edge is outside the
    constraint the engineer wrote (``a + b <= 1`` as 1.000000003). Only a row of a cell that
    touches the constraints at its edge alone (a corner: moved inside, the row would leave its
    strata) stays where it is, within the constraints' tolerance, as the validation allows."""
    if not len(rows):
        return
    moved = encoder.repair(X[rows], centre)
    if dims:
        def strata(Y: np.ndarray) -> np.ndarray:
            return np.floor((Y[:, dims] - cells.lower) / np.where(cells.width > 0, cells.width, 1.0))

        keep = (strata(moved) == strata(X[rows])).all(axis=1) | ~encoder.feasible(X[rows])
    else:
        keep = np.ones(len(rows), dtype=bool)
    X[rows[keep]] = moved[keep]


def _cells(encoder: Encoder, fixed: dict[int, float], dims: list[int], ranges: dict[int, tuple[float, float]],
           n: int) -> Cells:
    """The strata of the constrained free columns ``dims`` (``n`` per range) and the linear
    constraints on them, with the ``fixed`` values put in (and half the constraints' tolerance,
    so that a point placed on a constraint's edge passes :meth:`Encoder.feasible`)."""
    rows, rhs = [], []
    for con, tol in zip(encoder.linear_constraints, encoder.constraint_tolerance(), strict=True):
        row, b = np.zeros(len(dims)), con.rhs + 0.5 * tol
        for i, a in zip(con.indices, con.coefficients, strict=True):
            if i in fixed:
                b -= a * fixed[i]
            else:
                row[dims.index(i)] = a
        if row.any():
            rows.append(row)
            rhs.append(b)
    lower = np.array([ranges.get(i, (0.0, 1.0))[0] for i in dims])
    upper = np.array([ranges.get(i, (0.0, 1.0))[1] for i in dims])
    return Cells(lower=lower, width=(upper - lower) / n, A=np.array(rows, dtype=float).reshape(len(rows), len(dims)),
                 b=np.array(rhs, dtype=float))


def _distinct(encoder: Encoder, X: np.ndarray, seed: int, fixed: dict[int, float],
              taken: np.ndarray | None) -> np.ndarray:
    """``X`` with each repeated or ``taken`` row replaced by an untested recipe (see :func:`latin_hypercube`)."""
    taken = np.zeros((0, encoder.dim)) if taken is None else np.asarray(taken, dtype=float).reshape(-1, encoder.dim)
    X = _merge_near(X, taken)
    kept = untested_pool(encoder, len(X), taken, seed, fixed, pool=X)
    if len(kept) == len(X):
        return X
    before = np.vstack([taken, kept])
    pool = untested_pool(encoder, len(X) - len(kept), before, seed, fixed)
    if len(kept) + len(pool) < len(X):
        raise TooFewRecipes(f"design: only {len(kept) + len(pool)} untested recipe(s) remain in the search space "
                            f"(with {'the values held for this batch and ' if fixed else ''}the constraints), "
                            f"but {len(X)} were asked for; ask for fewer or widen the space (a finer resolution)")
    return np.vstack([kept, initial_design(encoder, len(X) - len(kept), before, seed, fixed, pool=pool)])


SAME_RECIPE = 1e-6
"""Rows of a design within this much of each range (model space) are one recipe: rows moved
inside the constraints differ by the LP solver's tolerance (300.0000002 and 300.0000005 C)."""


def _merge_near(X: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """``X`` with each row within :data:`SAME_RECIPE` of a ``taken`` row or of an earlier row of
    ``X`` (in every column) replaced by that row, so :func:`untested_pool` counts it as a repeat."""
    out = np.array(X, dtype=float, copy=True)
    for r in range(len(out)):
        earlier = np.vstack([taken, out[:r]])
        same = np.all(np.abs(earlier - out[r]) <= SAME_RECIPE, axis=1) if len(earlier) else np.zeros(0, dtype=bool)
        if same.any():
            out[r] = earlier[int(np.argmax(same))]
    return out


def _signs(n_factors: int) -> np.ndarray:
    """The distinct rows, in order, of the Plackett-Burman design of ``n_factors`` two-level
    factors ``(runs, n_factors)`` (+1: the high level): pyDOE3's design of one factor has four
    runs, each level twice."""
    from pyDOE3 import pbdesign

    signs = pbdesign(max(n_factors, 1))[:, : max(n_factors, 1)]
    _, first = np.unique(signs, axis=0, return_index=True)
    return signs[np.sort(first)]


def screening_runs(n_factors: int) -> int:
    """Runs (distinct corners) of the Plackett-Burman design of ``n_factors`` two-level factors."""
    return len(_signs(n_factors))


def screening(encoder: Encoder, n: int, fixed: dict[int, float], held: list[int], *, more: int = 0,
              taken: np.ndarray | None = None, control: np.ndarray | None = None) -> Hypercube:
    """A Plackett-Burman design over the parameters not fixed or ``held``, plus centre points
    up to ``n`` rows (see the module docstring); ``more``: rows the batch adds to these (the
    control recipe), counted in the batch size an error asks for; ``taken``: model-space
    recipes already in the campaign (made or pending): where half the design's corners or more
    are among them, its fold-over, and where half of those are too, a ProposalError;
    ``control``: the batch's control recipe (model space, ``(1, d)``), which runs with the
    design's held values: a corner that is the control as the batch makes it is measured by
    the control, and its row is a centre point instead (said in the note), or, where the
    centre is a corner or the control too, a ProposalError."""
    hold = {**fixed}
    centre = np.zeros(encoder.dim)
    for i in range(encoder.dim):
        if i in encoder.cat_dims:
            centre[i] = 0.0
        elif i in encoder.discrete_dims:
            values = sorted(encoder.discrete_dims[i])
            centre[i] = values[(len(values) - 1) // 2]
        else:
            centre[i] = 0.5
    for i in held:
        hold.setdefault(i, centre[i])
    factors = [i for i in range(encoder.dim) if i not in hold]
    if not factors:
        raise ProposalError("design: a screening design needs at least one parameter that is not fixed or shared")
    runs = screening_runs(len(factors))
    if n < runs:
        plus = f" + the control recipe = {runs + more}" if more else ""
        raise ProposalError(f"n: a screening design of {len(factors)} parameter{'s' * (len(factors) != 1)} has {runs} "
                            f"runs; ask for at least "
                            f"{runs}{plus} (the rest are centre points)")
    signs = _signs(len(factors))
    X = _corners(encoder, n, runs, centre, factors, signs, hold)
    if n > runs and _taken_share(X[runs:runs + 1], X[:runs]):  # no middle level: the centre is a corner
        raise ProposalError(f"n: a screening design of {', '.join(encoder.names[i] for i in factors)} has {runs} "
                            f"runs and no centre point (no parameter screened has a middle value), so {n + more} would "
                            f"repeat a corner; ask for {runs}{f' + the control recipe = {runs + more}' if more else ''}")
    if _taken_share(X[:runs], taken) >= 0.5:  # a second screening: the fold-over, every sign reversed
        first, X = X, _corners(encoder, n, runs, centre, factors, -signs, hold)
        if _taken_share(X[:runs], taken) >= 0.5:
            same = " (the same corners: it screens too few parameters to have others)" \
                if _taken_share(X[:runs], first[:runs]) == 1.0 else ""
            raise ProposalError(f"design: this screening design and its fold-over{same} are both in the campaign already; "
                                "for more runs use design='latin_hypercube' or the model (design='model'), or "
                                "fixed= values that make other corners")
    if len(X) != n or not encoder.feasible(X).all():
        raise ProposalError("design: the screening design's corners break a linear constraint; use "
                            "design='latin_hypercube', which keeps to the constraints")
    if control is None:
        return Hypercube(X)
    made = control.copy()
    made[0, list(hold)] = list(hold.values())  # the control as the batch's furnace run makes it
    corner = np.flatnonzero(np.abs(X[:runs] - made).max(axis=1) <= 1e-6)
    if not len(corner):
        return Hypercube(X)
    middle = _corners(encoder, runs + 1, runs, centre, factors, signs, hold)[runs:]
    shown = encoder.decode(X[corner[:1]]).iloc[0].to_dict()
    if _taken_share(middle, np.vstack([X[:runs], made])):
        raise ProposalError(f"design: the screening design's corner {shown} is the control recipe, which the batch "
                            "runs in the same furnace run, and the design has no centre point to put in its place; "
                            "use design='latin_hypercube', or fixed= values that make other corners")
    X[corner] = middle
    return Hypercube(X, f"the corner {shown} is the control recipe, which the batch runs in the same furnace run: "
                        "its row is a centre point")


def _corners(encoder: Encoder, n: int, runs: int, centre: np.ndarray, factors: list[int], signs: np.ndarray,
             hold: dict[int, float]) -> np.ndarray:
    """The design's ``runs`` corners at ``signs`` (+1: the high level), then centre points up to ``n``."""
    X = np.tile(centre, (n, 1))
    for k, i in enumerate(factors):
        high = signs[:, k] > 0
        if i in encoder.cat_dims:
            X[:runs, i] = np.where(high, 1.0, 0.0)
        elif i in encoder.discrete_dims:
            values = encoder.discrete_dims[i]
            X[:runs, i] = np.where(high, max(values), min(values))
        else:
            X[:runs, i] = np.where(high, 1.0, 0.0)
    for i, v in hold.items():
        X[:, i] = v
    return _on_grid(encoder, X, set(hold))


def _taken_share(corners: np.ndarray, taken: np.ndarray | None) -> float:
    """The share of ``corners`` that are among the ``taken`` recipes (model space): a design
    made before takes them all; a recipe that happens to lie on a corner, one."""
    if taken is None or not len(taken) or not len(corners):
        return 0.0
    gaps = np.abs(corners[:, None, :] - np.asarray(taken, dtype=float)[None, :, :]).max(axis=2)
    return float((gaps <= 1e-6).any(axis=1).mean())



def shared_hypercube(encoder: Encoder, n: int, seed: int, fixed: dict[int, float], shared: list[int],
                     taken: np.ndarray, *, control: np.ndarray | None = None) -> Hypercube:
    """A Latin hypercube of the per-row values given one furnace programme: the first of 16
    space-filling feasible recipes whose programme admits one over the per-row values' whole
    ranges, else, widest feasible parts first, one over their feasible parts (copying one row's
    programme onto rows made for others could break a linear constraint), else a near-Latin
    hypercube in the widest programme (its ``note`` says so); its rows distinct and not among
    the ``taken`` recipes, nor the batch's ``control`` recipe (model space ``(k, d)``, k 0 or 1)
    as the chosen programme makes it (its ``shared`` values those of the programme)."""
    programmes = list(sample_space(encoder, 16, seed, fixed))
    shortage: TooFewRecipes | None = None

    def taken_in(row: np.ndarray) -> np.ndarray:  # the control runs in the batch's programme
        if control is None or not len(control):
            return taken
        made = np.array(control, dtype=float)
        made[:, shared] = row[shared]
        return np.vstack([taken, made])

    def room(row: np.ndarray) -> float:  # total width the programme leaves the constrained per-row ranges
        try:
            return sum(hi - lo for lo, hi in feasible_ranges(encoder, {**fixed, **{i: float(row[i]) for i in shared}}).values())
        except ProposalError:
            return -1.0

    for feasible_part in (False, True):
        if feasible_part:
            programmes.sort(key=room, reverse=True)
        for row in programmes:
            try:
                return latin_hypercube(encoder, n, seed, {**fixed, **{i: float(row[i]) for i in shared}},
                                       feasible_part=feasible_part, taken=taken_in(row), fallback=False)
            except TooFewRecipes as err:
                shortage = err
            except ProposalError:
                continue
    if shortage is not None:
        raise ProposalError(f"{shortage} (counted in one furnace run: the batch shares its batch_shared values; "
                            "suggest fewer per batch)") from None
    if programmes and room(programmes[0]) >= 0:  # the widest programme: a near-Latin hypercube, said in its note
        return latin_hypercube(encoder, n, seed, {**fixed, **{i: float(programmes[0][i]) for i in shared}},
                               taken=taken_in(programmes[0]))
    raise ProposalError("design: no Latin hypercube of this size meets the linear constraints with one furnace "
                        "programme (batch_shared) for the whole batch; use the space-filling start (design='model') "
                        "or relax a constraint")

__all__ = ["DESIGNS", "HYPERCUBE_KEPT", "HYPERCUBE_STARTS", "Design", "Hypercube", "TooFewRecipes", "latin_hypercube", "screening", "screening_runs", "shared_hypercube"]
