"""Where the linear constraints leave a search space room (linear programmes, pure scipy):
whether any recipe meets them, whether any on the parameters' resolution grids does, and
which of them hold only with equality (a region of zero width, which a continuous search
cannot sample)."""

from __future__ import annotations

from typing import Any

from doe.domain.constraints import LinearConstraint
from doe.domain.parameters import ContinuousParameter


def _rows(cont: list[ContinuousParameter], constraints: list[LinearConstraint]) -> tuple[Any, Any]:
    """The constraints as ``A x <= b`` over the parameters ``cont`` (engineer units): (A, b)."""
    import numpy as np

    index = {p.name: i for i, p in enumerate(cont)}
    a_ub, b_ub = np.zeros((len(constraints), len(cont))), np.zeros(len(constraints))
    for j, con in enumerate(constraints):
        coefs, b_ub[j] = con.as_less_equal()
        for k, v in coefs.items():
            a_ub[j, index[k]] = v
    return a_ub, b_ub


def linear_feasible(parameters: list[Any], constraints: list[LinearConstraint]) -> bool:
    """Whether a recipe of the continuous ``parameters`` within their bounds meets every one of
    the linear ``constraints`` (a linear programme)."""
    import numpy as np
    from scipy.optimize import linprog

    cont = [p for p in parameters if isinstance(p, ContinuousParameter)]
    a_ub, b_ub = _rows(cont, constraints)
    res = linprog(np.zeros(len(cont)), A_ub=a_ub, b_ub=b_ub, bounds=[(p.lower, p.upper) for p in cont], method="highs")
    return bool(res.status == 0)


def grid_infeasible(parameters: list[Any], constraints: list[LinearConstraint]) -> list[str]:
    """The constrained parameters with a ``resolution`` when no recipe with each of them on its
    grid meets the constraints (a mixed-integer feasibility problem); empty when one does."""
    import numpy as np
    from scipy.optimize import Bounds, milp
    from scipy.optimize import LinearConstraint as Rows

    named = {n for con in constraints for n in con.coefficients}
    cont = [p for p in parameters if isinstance(p, ContinuousParameter) and p.name in named]
    gridded = [p.name for p in cont if p.resolution is not None]
    if not gridded:
        return []
    # a gridded parameter's variable is its step count k (value k * resolution), others their value
    scale = np.array([p.resolution or 1.0 for p in cont])
    low = np.array([p.grid_range()[0] if p.resolution else p.lower for p in cont], dtype=float)
    high = np.array([p.grid_range()[1] if p.resolution else p.upper for p in cont], dtype=float)
    a_ub, rhs = _rows(cont, constraints)
    a_ub = a_ub * scale  # columns in steps of the grid
    b_ub = rhs + 1e-9 * np.maximum(1.0, np.abs(rhs))  # the engine's tolerance on a constraint
    res = milp(np.zeros(len(cont)), constraints=Rows(a_ub, -np.inf, b_ub),
               bounds=Bounds(low, high), integrality=np.array([p.resolution is not None for p in cont], dtype=int))
    return [] if res.status == 0 else gridded


def pinned_constraints(parameters: list[Any], constraints: list[LinearConstraint]) -> list[LinearConstraint]:
    """The constraints that every recipe meeting all of them meets with equality (``x + w <= 1``
    beside ``x + w >= 1``, or ``x <= 0`` on ``[0, 1]``), over a parameter without a resolution:
    a region of zero width there, which the search's space-filling and optimisation cannot
    sample. (On resolution grids the recipes are enumerated, so there it is no problem.) Each
    is found by a linear programme that makes its slack as large as the others allow."""
    from scipy.optimize import linprog

    cont = [p for p in parameters if isinstance(p, ContinuousParameter)]
    resolution = {p.name: p.resolution for p in cont}
    a_ub, b_ub = _rows(cont, constraints)
    bounds = [(p.lower, p.upper) for p in cont]
    pinned = []
    for con, row, b in zip(constraints, a_ub, b_ub, strict=True):
        if all(resolution[k] is not None for k in con.coefficients):
            continue
        res = linprog(row, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")  # least a.x: most slack
        scale = max(1.0, abs(b), *(abs(v) * max(abs(lo), abs(hi)) for v, (lo, hi) in zip(row, bounds, strict=True)))
        if res.status == 0 and b - res.fun <= 1e-9 * scale:
            pinned.append(con)
    return pinned


__all__ = ["grid_infeasible", "linear_feasible", "pinned_constraints"]
