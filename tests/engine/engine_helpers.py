"""Helpers for the engine tests: random search spaces, synthetic outcomes, the space contract."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from doe.domain import CampaignConfig
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter


def random_config(seed: int, n_objectives: int = 1, linear: bool = True) -> CampaignConfig:
    """A random mixed space: 1-3 continuous (some log-scale), 0-1 discrete, 0-2 categorical parameters."""
    rng = np.random.default_rng(seed)
    params: list[dict[str, Any]] = []
    for i in range(int(rng.integers(1, 4))):
        lo = float(rng.uniform(-5, 5)) if i % 2 == 0 else float(rng.uniform(0.1, 2))
        hi = lo + float(rng.uniform(0.5, 20))
        p: dict[str, Any] = {"name": f"c{i}", "type": "continuous", "bounds": [lo, hi]}
        if i % 2 == 1 and rng.random() < 0.7:
            p["log_scale"] = True
        params.append(p)
    if rng.random() < 0.7:
        k = int(rng.integers(2, 7))
        values = sorted({round(float(v), 3) for v in rng.uniform(0, 100, size=k)})
        if len(values) < 2:
            values = [0.0, 1.0]
        params.append({"name": "d0", "type": "discrete", "values": values})
    for j in range(int(rng.integers(0, 3))):
        labels = [f"L{j}{k}" for k in range(int(rng.integers(2, 5)))]
        params.append({"name": f"k{j}", "type": "categorical", "values": labels})
    objectives = [{"name": f"y{i}", "goal": "maximize" if i == 0 else "minimize"} for i in range(n_objectives)]
    cfg: dict[str, Any] = {"name": f"random-{seed}", "parameters": params, "objectives": objectives,
                           "outcomes": [{"name": "side"}]}
    constraints: list[Any] = []
    cont = [p for p in params if p["type"] == "continuous"]
    if linear and cont and rng.random() < 0.8:
        chosen = cont[: int(rng.integers(1, len(cont) + 1))]
        coefs = {p["name"]: float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 2.0)) for p in chosen}
        lo = sum(min(c * p["bounds"][0], c * p["bounds"][1]) for p, c in zip(chosen, coefs.values(), strict=True))
        hi = sum(max(c * p["bounds"][0], c * p["bounds"][1]) for p, c in zip(chosen, coefs.values(), strict=True))
        rhs = lo + float(rng.uniform(0.3, 0.8)) * (hi - lo)
        constraints.append({"type": "linear", "coefficients": coefs, "operator": "<=", "rhs": rhs})
    if rng.random() < 0.5:
        constraints.append({"type": "outcome", "outcome": "side", "operator": "<=", "bound": 0.5})
    if constraints:
        cfg["constraints"] = constraints
    return CampaignConfig.from_dict(cfg)


def random_recipes(config: CampaignConfig, n: int, seed: int, feasible: bool = True) -> pd.DataFrame:
    """Uniform random recipes of the space (rejecting linear-constraint violations)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        row: dict[str, Any] = {}
        for p in config.parameters:
            if isinstance(p, CategoricalParameter):
                row[p.name] = str(rng.choice(p.values))
            elif isinstance(p, DiscreteParameter):
                row[p.name] = float(rng.choice(p.values))
            elif p.log_scale:
                row[p.name] = float(math.exp(rng.uniform(math.log(p.lower), math.log(p.upper))))
            else:
                row[p.name] = float(rng.uniform(p.lower, p.upper))
        if not feasible or all(c.satisfied(row) for c in config.linear_constraints):
            rows.append(row)
    return pd.DataFrame(rows, columns=config.parameter_names)


def unit_values(config: CampaignConfig, recipes: pd.DataFrame) -> np.ndarray:
    """Each numeric parameter scaled to [0, 1] (linear), categories as their index / (k - 1)."""
    cols = []
    for p in config.parameters:
        if isinstance(p, CategoricalParameter):
            cols.append(np.array([p.values.index(v) / (len(p.values) - 1) for v in recipes[p.name]]))
        else:
            cols.append((recipes[p.name].to_numpy(dtype=float) - p.lower) / (p.upper - p.lower))
    return np.column_stack(cols)


def smooth_outcomes(config: CampaignConfig, recipes: pd.DataFrame, seed: int = 0, noise: float = 0.01) -> pd.DataFrame:
    """Recipes plus a smooth synthetic value for every outcome (different per outcome)."""
    rng = np.random.default_rng(seed)
    U = unit_values(config, recipes)
    out = recipes.copy()
    for j, name in enumerate(config.outcome_names):
        w = np.random.default_rng(1000 + j).normal(size=U.shape[1])
        centre = np.random.default_rng(2000 + j).uniform(0.2, 0.8, size=U.shape[1])
        out[name] = np.sin(U @ w) - ((U - centre) ** 2).sum(axis=1) + noise * rng.standard_normal(len(U))
    out["failed"] = False
    return out


def assert_in_space(config: CampaignConfig, recipes: pd.DataFrame) -> None:
    """The space contract: bounds, allowed discrete values and labels, linear constraints."""
    assert len(recipes), "no recipes"
    for p in config.parameters:
        col = recipes[p.name]
        if isinstance(p, CategoricalParameter):
            assert all(isinstance(v, str) for v in col), f"{p.name}: labels must be str"
            assert set(col) <= set(p.values), f"{p.name}: {set(col) - set(p.values)} not allowed"
        elif isinstance(p, DiscreteParameter):
            assert all(float(v) in p.values for v in col), f"{p.name}: {list(col)} not in {p.values}"
        else:
            assert isinstance(p, ContinuousParameter)
            values = col.to_numpy(dtype=float)
            assert np.all(values >= p.lower) and np.all(values <= p.upper), f"{p.name}: {values} outside {p.bounds}"
    for _, row in recipes.iterrows():
        for con in config.linear_constraints:
            assert con.satisfied(row.to_dict()), f"{con.text()} violated by {row.to_dict()}"


def recipe_keys(config: CampaignConfig, recipes: pd.DataFrame) -> list[tuple[Any, ...]]:
    keys = []
    for _, row in recipes.iterrows():
        key = []
        for p in config.parameters:
            if isinstance(p, CategoricalParameter):
                key.append(row[p.name])
            else:
                key.append(round((float(row[p.name]) - p.lower) / (p.upper - p.lower) / 1e-9))
        keys.append(tuple(key))
    return keys
