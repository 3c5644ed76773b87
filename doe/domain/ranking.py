"""Ranking measured experiments: feasibility, the Pareto front and the best recipes.

Pure functions of a campaign's history table (:meth:`doe.Campaign.history`) and its
configuration; :meth:`doe.Campaign.best` and :meth:`doe.Campaign.pareto_front` call them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.objectives import Desirability, Objective


def feasible_completed(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """Completed experiments with every objective measured that meet the outcome constraints
    (an unmeasured constrained outcome counts as met) and, with one objective, its threshold
    (or a set point's tolerance)."""
    table = history[history["status"] == "completed"]
    objectives = config.objective_names
    table = table[table[objectives].notna().all(axis=1)]
    for con in config.outcome_constraints:
        values = table[con.outcome].astype(float)
        ok = values.isna() | (values <= con.bound if con.operator == "<=" else values >= con.bound)
        table = table[ok]
    if len(config.objectives) == 1:
        o = config.objectives[0]
        worst = o.worst_score
        if worst is not None:
            table = table[o.score(table[o.name].astype(float).to_numpy()) >= worst]
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
    every objective (history rows); a set-point objective counts by closeness to its target."""
    table = feasible_completed(history, config)
    if table.empty:
        return table
    return table[pareto_mask(scores(table, config))].reset_index(drop=True)


def scores(table: pd.DataFrame, config: CampaignConfig) -> np.ndarray:
    """Objective scores of the rows of ``table`` (``(n, objectives)``, larger is better:
    :meth:`doe.domain.objectives.Objective.score`)."""
    return np.column_stack([o.score(table[o.name].astype(float).to_numpy()) for o in config.objectives])


def desirability(history: pd.DataFrame, config: CampaignConfig) -> Desirability:
    """The weighted desirability anchored on the completed measurements of ``history``
    (the same anchors the ``weighted`` acquisition takes from the model's training data)."""
    done = history[history["status"] == "completed"]
    return Desirability.from_measured(
        config.objectives, [done[o.name].astype(float).to_numpy() for o in config.objectives]
    )


def best(history: pd.DataFrame, config: CampaignConfig, n: int = 1) -> pd.DataFrame:
    """The best ``n`` measured experiments.

    One objective: the top ``n`` of :func:`feasible_completed` by its score (value, minus
    value, or closeness to a set point). Several, ``objective_mode: weighted``: the top ``n``
    of :func:`feasible_completed` by the weighted desirability (:func:`desirability`, the
    scalarisation the acquisition uses). Several, ``pareto``: the :func:`pareto_front` ranked
    by the weighted sum of the scores scaled to their observed range on the front
    (``Objective.weight``, default 1), top ``n``.
    """
    front = feasible_completed(history, config)
    if front.empty:
        return front
    objectives = config.objectives
    if len(objectives) == 1:
        order = np.argsort(-objectives[0].score(front[objectives[0].name].astype(float).to_numpy()), kind="stable")
        return front.iloc[order].head(n).reset_index(drop=True)
    if config.weighted:
        value = desirability(history, config).value([front[o.name].astype(float).to_numpy() for o in objectives])
        order = np.argsort(-value, kind="stable")
        return front.iloc[order].head(n).reset_index(drop=True)
    front = pareto_front(history, config)
    total = np.zeros(len(front))
    for o, values in zip(objectives, scores(front, config).T, strict=True):
        span = np.ptp(values) or 1.0
        total += (o.weight or 1.0) * (values - values.min()) / span
    order = np.argsort(-total, kind="stable")
    return front.iloc[order].head(n).reset_index(drop=True)


def ranking_text(config: CampaignConfig) -> str:
    """How :func:`best` ranks this campaign's recipes, in words for labels (plain text)."""
    def one(o: Objective) -> str:
        if o.goal == "target":
            return f"closeness of {o.name} to {o.target:g}{' ' + o.unit if o.unit else ''}"
        return f"{o.name} ({o.goal})"

    objectives = config.objectives
    if len(objectives) == 1:
        return f"ranked by {one(objectives[0])}"
    weights = ", ".join(f"{one(o)} x{o.weight or 1.0:g}" for o in objectives)
    if config.weighted:
        return f"ranked by weighted desirability: {weights}"
    return f"Pareto front, ranked by scaled weighted sum: {weights}"
