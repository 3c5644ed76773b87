"""Ranking measured experiments: feasibility, the Pareto front and the best recipes.

Pure functions of a campaign's history table (:meth:`doe.Campaign.history`) and its
configuration; :meth:`doe.Campaign.best` and :meth:`doe.Campaign.pareto_front` call them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig


def feasible_completed(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """Completed experiments with every objective measured that meet the outcome constraints
    (an unmeasured constrained outcome counts as met) and, with one objective, its threshold."""
    table = history[history["status"] == "completed"]
    objectives = config.objective_names
    table = table[table[objectives].notna().all(axis=1)]
    for con in config.outcome_constraints:
        values = table[con.outcome].astype(float)
        ok = values.isna() | (values <= con.bound if con.operator == "<=" else values >= con.bound)
        table = table[ok]
    if len(config.objectives) == 1:
        o = config.objectives[0]
        if o.threshold is not None:
            table = table[table[o.name] * o.sign >= o.threshold * o.sign]
    return table.reset_index(drop=True)


def pareto_mask(signed: np.ndarray) -> np.ndarray:
    """Rows of ``signed`` (shape ``(n, objectives)``, larger is better in every column) that
    no other row dominates."""
    n = len(signed)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        others = np.delete(signed, i, axis=0)
        dominated = np.any(np.all(others >= signed[i], axis=1) & np.any(others > signed[i], axis=1))
        keep[i] = not dominated
    return keep


def pareto_front(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """The :func:`feasible_completed` experiments that no other such experiment beats on
    every objective (history rows)."""
    table = feasible_completed(history, config)
    if table.empty:
        return table
    signed = np.column_stack([table[o.name].astype(float).to_numpy() * o.sign for o in config.objectives])
    return table[pareto_mask(signed)].reset_index(drop=True)


def best(history: pd.DataFrame, config: CampaignConfig, n: int = 1) -> pd.DataFrame:
    """The best ``n`` measured experiments.

    One objective: the top ``n`` of :func:`feasible_completed` by that objective. Several:
    the :func:`pareto_front` ranked by the weighted sum of the objectives scaled to their
    observed range on the front (``Objective.weight``, default 1), top ``n``.
    """
    front = feasible_completed(history, config)
    if front.empty:
        return front
    objectives = config.objectives
    if len(objectives) == 1:
        o = objectives[0]
        return front.sort_values(o.name, ascending=o.goal == "minimize", kind="stable").head(n).reset_index(drop=True)
    front = pareto_front(history, config)
    scores = np.zeros(len(front))
    for o in objectives:
        values = front[o.name].astype(float).to_numpy() * o.sign
        span = np.ptp(values) or 1.0
        scores += (o.weight or 1.0) * (values - values.min()) / span
    order = np.argsort(-scores, kind="stable")
    return front.iloc[order].head(n).reset_index(drop=True)
