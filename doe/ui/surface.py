"""The grid of recipes behind a 2-D response surface (no Streamlit, no fitting here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.errors import DataError


@dataclass(frozen=True)
class SurfaceGrid:
    """Recipes on a grid over two parameters, the others held fixed.

    Attributes:
        x_values: grid values of the x parameter, shape ``(nx,)``.
        y_values: grid values of the y parameter, shape ``(ny,)``.
        recipes: ``nx * ny`` rows, every parameter column, row ``j * nx + i`` at
            ``(x_values[i], y_values[j])``.
        allowed: shape ``(ny, nx)``, False where a recipe breaks a linear constraint.
    """

    x_values: np.ndarray
    y_values: np.ndarray
    recipes: pd.DataFrame
    allowed: np.ndarray

    def reshape(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Predictions for :attr:`recipes` as a ``(ny, nx)`` array, NaN where not allowed."""
        grid = np.asarray(values, dtype=float).reshape(len(self.y_values), len(self.x_values))
        return np.where(self.allowed, grid, np.nan)


def numeric_parameters(config: CampaignConfig) -> list[str]:
    """Parameters that can be an axis of a response surface (continuous and discrete)."""
    return [p.name for p in config.parameters if not isinstance(p, CategoricalParameter)]


def held_recipe(config: CampaignConfig, best: pd.DataFrame | None = None) -> dict[str, Any]:
    """The recipe the other parameters are held at: the best measured experiment, else the
    configuration's reference recipe, else the middle of each range (first label)."""
    if best is not None and len(best) and all(p in best.columns for p in config.parameter_names):
        row = best.iloc[0]
        if row[config.parameter_names].notna().all():
            return {p: _python_scalar(row[p]) for p in config.parameter_names}
    reference = config.reference_recipe()
    if reference is not None:
        return dict(reference)
    recipe: dict[str, Any] = {}
    for p in config.parameters:
        if isinstance(p, ContinuousParameter):
            recipe[p.name] = float(np.sqrt(p.lower * p.upper)) if p.log_scale else (p.lower + p.upper) / 2
        elif isinstance(p, DiscreteParameter):
            recipe[p.name] = float(p.values[len(p.values) // 2])
        else:
            recipe[p.name] = p.values[0]
    return recipe


def _axis(config: CampaignConfig, name: str, points: int) -> np.ndarray:
    p = config.parameter(name)
    if isinstance(p, CategoricalParameter):
        raise DataError(f"response surface: {name!r} is categorical; choose a numeric parameter for an axis")
    if isinstance(p, DiscreteParameter):
        return np.asarray(p.values, dtype=float)
    if p.log_scale:
        return np.geomspace(p.lower, p.upper, points)
    return np.linspace(p.lower, p.upper, points)


def surface_grid(config: CampaignConfig, x: str, y: str, held: dict[str, Any], points: int = 25) -> SurfaceGrid:
    """Recipes on a ``points x points`` grid over ``x`` and ``y`` (a discrete parameter uses
    its allowed values), every other parameter at ``held``.

    Raises:
        DataError: ``x`` equals ``y`` or one of them is categorical.
    """
    if x == y:
        raise DataError(f"response surface: choose two different parameters (both are {x!r})")
    xs, ys = _axis(config, x, points), _axis(config, y, points)
    gx, gy = np.meshgrid(xs, ys)
    recipes = pd.DataFrame({p: [held[p]] * gx.size for p in config.parameter_names})
    recipes[x] = gx.ravel()
    recipes[y] = gy.ravel()
    allowed = np.ones(gx.size, dtype=bool)
    for con in config.linear_constraints:
        values: list[dict[str, float]] = recipes[list(con.coefficients)].to_dict("records")  # type: ignore[assignment]
        allowed &= np.array([con.satisfied(v) for v in values], dtype=np.bool_)
    return SurfaceGrid(xs, ys, recipes, allowed.reshape(gx.shape))


def _python_scalar(value: Any) -> Any:
    """A numpy scalar as the plain Python value (a recipe's values are plain numbers or labels)."""
    return value.item() if isinstance(value, np.generic) else value
