"""Encoding between engineer units and the model space.

The model space has one column per parameter, in the configuration's order:

* continuous: the unit interval ``[0, 1]``; on a log scale when the parameter says so;
* discrete numeric: the allowed values mapped linearly to ``[0, 1]`` (ordered, so the GP
  can use their distance); only those encoded values are proposed;
* categorical: the label's index ``0 .. k-1`` (unordered: the GP uses a categorical kernel
  on these columns, and the optimiser enumerates neighbouring labels).

A linear constraint on a log-scale parameter is not linear in log space. Such a parameter
is encoded linearly instead (a warning the first time in a process:
:func:`doe.domain.config_notes.config_notes`), so every linear constraint stays linear in the
model space and the optimiser can keep it exactly.

For distances (space-filling designs, the feasibility classifier) :meth:`Encoder.to_features`
gives a numeric version with one-hot categories scaled so that two different labels are at
distance 1, like the two ends of a continuous range.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.config_notes import config_notes
from doe.domain.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    composed,
)
from doe.errors import ProposalError

logger = logging.getLogger(__name__)
_SAID: set[str] = set()  # messages of usable_rows and config notes already warned of in this process

KEY_RESOLUTION = 1e-9
"""Recipes are the same when every numeric value agrees to this fraction of its range."""


@dataclass(frozen=True)
class LinearConstraintModel:
    """``sum(coefficients * X[..., indices]) <= rhs`` in the model space."""

    indices: tuple[int, ...]
    coefficients: tuple[float, ...]
    rhs: float
    text: str


class Encoder:
    """Maps recipes (engineer units, labels) to model-space arrays and back.

    Args:
        config: the validated campaign configuration.
    """

    def __init__(self, config: CampaignConfig) -> None:
        self.config = config
        self.parameters = list(config.parameters)
        self.names = [p.name for p in self.parameters]
        self.dim = len(self.parameters)
        constrained = {name for con in config.linear_constraints for name in con.coefficients}
        self.log_dims: set[int] = {i for i, p in enumerate(self.parameters) if isinstance(p, ContinuousParameter)
                                   and p.log_scale and p.name not in constrained}
        for note in config_notes(config):  # a warning the first time in this process, then at debug level
            logger.log(logging.DEBUG if note in _SAID else logging.WARNING, "%s", note)
            if len(_SAID) < 1000:
                _SAID.add(note)
        self.cont_dims = [i for i, p in enumerate(self.parameters) if isinstance(p, ContinuousParameter)]
        self.discrete_dims: dict[int, list[float]] = {
            i: [self._num_to_unit(i, v) for v in p.values]
            for i, p in enumerate(self.parameters)
            if isinstance(p, DiscreteParameter)
        }
        self.cat_dims: dict[int, list[float]] = {
            i: [float(k) for k in range(len(p.values))]
            for i, p in enumerate(self.parameters)
            if isinstance(p, CategoricalParameter)
        }
        self.bounds = np.zeros((2, self.dim))
        self.bounds[1] = [len(p.values) - 1 if isinstance(p, CategoricalParameter) else 1.0 for p in self.parameters]
        self.linear_constraints = [self._constraint_to_model(c) for c in config.linear_constraints]

    # ------------------------------------------------------------------ numbers
    def _num_to_unit(self, i: int, value: float) -> float:
        p = self.parameters[i]
        assert isinstance(p, ContinuousParameter | DiscreteParameter)
        lo, hi = p.lower, p.upper
        value = min(max(float(value), lo), hi)
        if i in self.log_dims:
            return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (value - lo) / (hi - lo)

    def _unit_to_num(self, i: int, u: float) -> float:
        p = self.parameters[i]
        assert isinstance(p, ContinuousParameter | DiscreteParameter)
        lo, hi = p.lower, p.upper
        u = min(max(float(u), 0.0), 1.0)
        if i in self.log_dims:
            return float(min(max(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))), lo), hi))
        return float(min(max(lo + u * (hi - lo), lo), hi))

    def to_model(self, i: int, value: float) -> float:
        """Model-space value of the number ``value`` (engineer units) of numeric column ``i``."""
        return self._num_to_unit(i, value)

    def to_engineer(self, i: int, u: float) -> float:
        """Engineer-unit value of model-space value ``u`` of numeric column ``i``."""
        return self._unit_to_num(i, u)

    def _constraint_to_model(self, con: Any) -> LinearConstraintModel:
        coefs, rhs = con.as_less_equal()
        indices, values = [], []
        for name, a in coefs.items():
            i = self.names.index(name)
            p = self.parameters[i]
            assert isinstance(p, ContinuousParameter)
            # x = lo + (hi - lo) * u  (linear encoding is guaranteed for constrained params)
            indices.append(i)
            values.append(a * (p.upper - p.lower))
            rhs -= a * p.lower
        return LinearConstraintModel(tuple(indices), tuple(values), float(rhs), con.text())

    # ------------------------------------------------------------------ tables
    def in_space(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows whose recipe the current configuration allows: every label still
        one of its parameter's values, every number inside its bounds (to 1e-9 of the range)
        and every discrete number one of the values (to a relative 1e-9)."""
        return self._outside(table)[0]

    def _outside(self, table: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """:meth:`in_space` and, for each parameter with rows outside, what they hold."""
        mask = np.ones(len(table), dtype=bool)
        reasons = []
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                # composed forms: a label stored decomposed matches its configuration composed by
                # a later version, and the reverse
                ok = table[p.name].astype(str).map(composed).isin([composed(v) for v in p.values]).to_numpy()
                bad = sorted(set(table[p.name].astype(str)[~ok]))
                allowed = ", ".join(p.values)
            else:
                numbers = pd.to_numeric(table[p.name], errors="coerce").to_numpy(dtype=float)
                if isinstance(p, ContinuousParameter):
                    span = p.upper - p.lower
                    ok = (numbers >= p.lower - 1e-9 * span) & (numbers <= p.upper + 1e-9 * span)
                    allowed = f"{p.lower:g} to {p.upper:g}"
                else:
                    grid = np.asarray(p.values, dtype=float)
                    ok = np.isclose(numbers[:, None], grid[None, :], rtol=1e-9, atol=1e-12).any(axis=1)
                    allowed = ", ".join(f"{v:g}" for v in p.values)
                bad = [f"{n:g}" if math.isfinite(n) else str(v) for n, v in zip(numbers[~ok], table[p.name][~ok], strict=True)]
                bad = sorted(set(bad), key=bad.index)
            if not ok.all():
                shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
                reasons.append(f"{p.name} {shown} no longer allowed (allowed: {allowed})")
            mask &= ok
        return mask, reasons

    def usable_rows(self, table: pd.DataFrame, what: str = "finished") -> np.ndarray:
        """:meth:`in_space`: rows made at a recipe the configuration no longer allows (a label
        or discrete value dropped, a range narrowed) are left out, not moved onto the nearest
        allowed recipe, at which they were never made. They are logged: a warning the first
        time in this process, then at debug level, as one fit after another meets the same rows."""
        mask, reasons = self._outside(table)
        if reasons:
            message = f"{int((~mask).sum())} {what} experiment(s) left out of the model: {'; '.join(reasons)}"
            logger.log(logging.DEBUG if message in _SAID else logging.WARNING, "%s", message)
            if len(_SAID) < 1000:
                _SAID.add(message)
        return mask

    def encode(self, table: pd.DataFrame) -> np.ndarray:
        """Model-space array ``(n, dim)`` of the parameter columns of ``table``.

        Rows must lie in the current space (filter with :meth:`usable_rows` first): numbers
        within its tolerance outside a bound are clipped onto it, a label not allowed raises.
        """
        X = np.empty((len(table), self.dim))
        for i, p in enumerate(self.parameters):
            col = table[p.name]
            if isinstance(p, CategoricalParameter):
                index = {composed(label): k for k, label in enumerate(p.values)}
                try:
                    X[:, i] = [index[composed(str(v))] for v in col]
                except KeyError as err:
                    raise ProposalError(
                        f"parameter {p.name!r}: label {err.args[0]!r} is not allowed; allowed: {list(p.values)}"
                    ) from err
            else:
                values = np.clip(col.to_numpy(dtype=float), p.lower, p.upper)
                if i in self.log_dims:
                    X[:, i] = (np.log(values) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))
                else:
                    X[:, i] = (values - p.lower) / (p.upper - p.lower)
                X[:, i] = np.clip(X[:, i], 0.0, 1.0)
        return X

    def encode_value(self, name: str, value: Any) -> float:
        """Model-space value of one parameter value (used for fixed values)."""
        i = self.names.index(name)
        p = self.parameters[i]
        if isinstance(p, CategoricalParameter):
            return float([composed(v) for v in p.values].index(composed(str(value))))
        if isinstance(p, DiscreteParameter):
            nearest = min(p.values, key=lambda v: abs(v - float(value)))
            return self._num_to_unit(i, nearest)
        return self._num_to_unit(i, float(value))

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Clip to bounds, round categories to an index and discrete values to the nearest allowed one."""
        X = np.array(X, dtype=float, copy=True).reshape(-1, self.dim)
        X = np.clip(X, self.bounds[0], self.bounds[1])
        for i in self.cat_dims:
            X[:, i] = np.rint(X[:, i])
        for i, allowed in self.discrete_dims.items():
            grid = np.asarray(allowed)
            X[:, i] = grid[np.abs(X[:, i][:, None] - grid[None, :]).argmin(axis=1)]
        return X

    def decode(self, X: np.ndarray) -> pd.DataFrame:
        """Recipes in engineer units (labels as ``str``, discrete on allowed values)."""
        X = self.snap(X)
        data: dict[str, list[Any]] = {}
        for i, p in enumerate(self.parameters):
            if isinstance(p, CategoricalParameter):
                data[p.name] = [p.values[int(k)] for k in X[:, i]]
            elif isinstance(p, DiscreteParameter):
                grid = np.asarray(self.discrete_dims[i])
                data[p.name] = [float(p.values[int(np.abs(grid - u).argmin())]) for u in X[:, i]]
            else:
                data[p.name] = [self._unit_to_num(i, u) for u in X[:, i]]
        return pd.DataFrame(data, columns=self.names)

    # ------------------------------------------------------------------ geometry
    def to_features(self, X: np.ndarray) -> np.ndarray:
        """Numeric features for distances: numbers as encoded, categories one-hot / sqrt(2)."""
        X = np.asarray(X, dtype=float).reshape(-1, self.dim)
        parts = []
        for i, p in enumerate(self.parameters):
            if isinstance(p, CategoricalParameter):
                onehot = np.zeros((len(X), len(p.values)))
                onehot[np.arange(len(X)), np.rint(X[:, i]).astype(int)] = 1.0 / math.sqrt(2.0)
                parts.append(onehot)
            else:
                parts.append(X[:, i : i + 1])
        return np.hstack(parts) if parts else np.zeros((len(X), 0))

    def to_features_torch(self, X: Any) -> Any:
        """:meth:`to_features` for a torch tensor ``(..., dim)``; differentiable in the numbers."""
        import torch

        parts = []
        for i, p in enumerate(self.parameters):
            if isinstance(p, CategoricalParameter):
                levels = torch.arange(len(p.values), dtype=X.dtype, device=X.device)
                onehot = (X[..., i : i + 1].round() == levels).to(X.dtype) / math.sqrt(2.0)
                parts.append(onehot)
            else:
                parts.append(X[..., i : i + 1])
        return torch.cat(parts, dim=-1)

    def keys(self, X: np.ndarray) -> list[tuple[int, ...]]:
        """Hashable identity of each model-space row, at :data:`KEY_RESOLUTION` of each range.

        Numbers are compared in engineer units (linear scale), so that two recipes match when
        their values agree to 1e-9 of the parameter's range.
        """
        recipes = self.decode(X)
        return self.recipe_keys(recipes)

    def recipe_keys(self, recipes: pd.DataFrame) -> list[tuple[int, ...]]:
        """Like :meth:`keys`, from a table of recipes in engineer units."""
        cols = []
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                index = {label: k for k, label in enumerate(p.values)}
                cols.append([index.get(str(v), -1) for v in recipes[p.name]])
            else:
                span = p.upper - p.lower
                v = np.clip(recipes[p.name].to_numpy(dtype=float), p.lower, p.upper)
                cols.append(np.rint((v - p.lower) / span / KEY_RESOLUTION).astype(np.int64).tolist())
        return [tuple(int(c[r]) for c in cols) for r in range(len(recipes))]

    def constraint_slack(self, X: np.ndarray) -> np.ndarray:
        """``rhs - lhs`` of each linear constraint for each row, ``(n, n_constraints)``; >= 0 is feasible."""
        X = np.asarray(X, dtype=float).reshape(-1, self.dim)
        if not self.linear_constraints:
            return np.zeros((len(X), 0))
        out = np.empty((len(X), len(self.linear_constraints)))
        for j, con in enumerate(self.linear_constraints):
            # term by term, not a matrix product: a row's slack is then the same alone and in a batch
            # (BLAS rounds by the shape), so a row judged inside is never judged outside in its batch
            lhs = np.zeros(len(X))
            for i, a in zip(con.indices, con.coefficients, strict=True):
                lhs = lhs + a * X[:, i]
            out[:, j] = con.rhs - lhs
        return out

    def constraint_tolerance(self) -> np.ndarray:
        """Absolute tolerance (model space) for each linear constraint."""
        return np.array(
            [1e-9 * max(1.0, abs(c.rhs), sum(abs(a) for a in c.coefficients)) for c in self.linear_constraints]
        )

    def feasible(self, X: np.ndarray) -> np.ndarray:
        """Rows that satisfy every linear constraint (with a tiny numerical tolerance)."""
        slack = self.constraint_slack(X)
        if slack.shape[1] == 0:
            return np.ones(len(slack), dtype=bool)
        return np.asarray((slack >= -self.constraint_tolerance()[None, :]).all(axis=1))

    def interior_point(self, fixed: dict[int, float] | None = None) -> np.ndarray | None:
        """A point deep inside the linear constraints (Chebyshev centre), or None if infeasible."""
        from scipy.optimize import linprog

        fixed = fixed or {}
        free = [i for i in self.cont_dims if i not in fixed]
        base = np.full(self.dim, 0.5)
        for i in self.cat_dims:
            base[i] = 0.0
        for i, allowed in self.discrete_dims.items():
            base[i] = allowed[len(allowed) // 2]
        for i, v in fixed.items():
            base[i] = v
        if not self.linear_constraints:
            return base
        # variables: free continuous dims and the radius r; maximise r
        a_ub, b_ub = [], []
        for con in self.linear_constraints:
            row = np.zeros(len(free) + 1)
            rhs = con.rhs
            for i, a in zip(con.indices, con.coefficients, strict=True):
                if i in free:
                    row[free.index(i)] = a
                else:
                    rhs -= a * base[i]
            row[-1] = float(np.linalg.norm(row[:-1]))
            a_ub.append(row)
            b_ub.append(rhs)
        c = np.zeros(len(free) + 1)
        c[-1] = -1.0
        bounds = [(0.0, 1.0)] * len(free) + [(0.0, 1.0)]
        res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
        if res.status != 0:
            return None
        point = base.copy()
        point[free] = np.clip(res.x[:-1], 0.0, 1.0)
        if not self.feasible(point[None, :])[0]:
            return None
        return point

    def repair(self, X: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """Rows outside a linear constraint moved toward ``centre`` (an interior point) until they
        meet every constraint exactly (slack >= 0), not just within :meth:`constraint_tolerance`:
        a row left on the tolerance's edge lies outside the constraint the engineer declared
        (``a + b <= 1`` written as 1.000000003). A constraint that ``centre`` itself meets only
        within the tolerance (an equality written as ``<=`` and ``>=``) is met within it."""
        X = np.array(X, dtype=float, copy=True).reshape(-1, self.dim)
        if not self.linear_constraints:
            return X
        centre_slack = self.constraint_slack(centre[None, :])[0]
        need = np.where(centre_slack >= 0.0, 0.0, -self.constraint_tolerance())

        def inside(rows: np.ndarray) -> np.ndarray:
            return np.asarray((self.constraint_slack(rows) >= need[None, :]).all(axis=1))

        cont = self.cont_dims
        for r in np.flatnonzero(~inside(X)):
            lo, hi = 0.0, 1.0
            for _ in range(60):
                t = 0.5 * (lo + hi)
                trial = X[r].copy()
                trial[cont] = X[r, cont] + t * (centre[cont] - X[r, cont])
                if inside(trial[None, :])[0]:
                    hi = t
                else:
                    lo = t
            moved = X[r].copy()
            moved[cont] = X[r, cont] + hi * (centre[cont] - X[r, cont])
            if not inside(moved[None, :])[0]:  # t = 1 rounded off the centre: the centre itself
                moved[cont] = centre[cont]
            X[r] = moved
        return X

    def as_botorch_constraints(self, margin: float = 0.0) -> list[tuple[Any, Any, float]]:
        """Linear constraints in BoTorch's ``sum(c * x[idx]) >= rhs`` form (torch tensors)."""
        import torch

        out = []
        for con in self.linear_constraints:
            scale = max(1.0, abs(con.rhs), sum(abs(a) for a in con.coefficients))
            out.append(
                (
                    torch.tensor(con.indices, dtype=torch.long),
                    -torch.tensor(con.coefficients, dtype=torch.float64),
                    -(con.rhs - margin * scale),
                )
            )
        return out
