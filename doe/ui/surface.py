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


@dataclass(frozen=True)
class ProfileSlices:
    """Recipes along each parameter through one recipe, for the prediction profiler.

    Attributes:
        parameters: the parameter varied in each row of :attr:`recipes`.
        values: that parameter's value in each row.
        recipes: every parameter column; the others at the held recipe.
    """

    parameters: list[str]
    values: list[Any]
    recipes: pd.DataFrame

    def table(self, prediction: pd.DataFrame, outcome: str) -> pd.DataFrame:
        """``parameter``, ``value``, ``mean``, ``sd`` of ``outcome`` from ``Campaign.predict(recipes)``."""
        return pd.DataFrame({"parameter": self.parameters, "value": self.values,
                             "mean": prediction[f"{outcome}_mean"].to_numpy(),
                             "sd": prediction[f"{outcome}_sd"].to_numpy()})


def profile_slices(config: CampaignConfig, held: dict[str, Any], points: int = 21) -> ProfileSlices:
    """One slice per parameter through ``held``: ``points`` values over a continuous range (log
    spaced on a log scale), every allowed value or label otherwise; slices that break a linear
    constraint are left out."""
    names: list[str] = []
    values: list[Any] = []
    rows: list[dict[str, Any]] = []
    for p in config.parameters:
        grid: list[Any] = list(p.values) if isinstance(p, CategoricalParameter | DiscreteParameter) else \
            list(np.geomspace(p.lower, p.upper, points) if p.log_scale else np.linspace(p.lower, p.upper, points))
        for value in grid:
            recipe = {**held, p.name: value}
            if all(con.satisfied({k: float(recipe[k]) for k in con.coefficients}) for con in config.linear_constraints):
                names.append(p.name)
                values.append(_python_scalar(value))
                rows.append(recipe)
    return ProfileSlices(names, values, pd.DataFrame(rows, columns=config.parameter_names))


def candidate_recipes(config: CampaignConfig, n: int = 512, seed: int = 0) -> pd.DataFrame:
    """``n`` space-filling recipes of the whole space (for the front the model predicts)."""
    from doe.engine.design import sample_space
    from doe.engine.encoding import Encoder

    encoder = Encoder(config)
    return encoder.decode(sample_space(encoder, n, seed))


def predicted_front(config: CampaignConfig, recipes: pd.DataFrame, prediction: pd.DataFrame,
                    min_probability: float = 0.5) -> pd.DataFrame:
    """The recipes whose predicted objectives no other likely-feasible recipe beats (those
    with ``probability_feasible`` of at least ``min_probability``), with their predictions."""
    from doe.domain.ranking import pareto_mask, scores

    table = pd.concat([recipes.reset_index(drop=True), prediction.reset_index(drop=True)], axis=1)
    if "probability_feasible" in table.columns:
        table = table[table["probability_feasible"].astype(float) >= min_probability]
    means = pd.DataFrame({o: table[f"{o}_mean"].astype(float).to_numpy() for o in config.objective_names})
    if table.empty or means.isna().any().any():
        return table.iloc[0:0]
    return table[pareto_mask(scores(means, config))].reset_index(drop=True)
