"""Ranking measured experiments: feasibility, the Pareto front and the best recipes.

Pure functions of a campaign's history table (:meth:`doe.Campaign.history`) and its
configuration; :meth:`doe.Campaign.best` and :meth:`doe.Campaign.pareto_front` call them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.curves import LAST_CYCLE_SUFFIX, PRED_SD_SUFFIX, derived_values
from doe.domain.display import digits_to_tell_apart, format_number
from doe.domain.objectives import Desirability, Objective
from doe.domain.values import count_text, is_integer
from doe.errors import DoeError

RANKING_NOTE = "ranking_note"
"""Column of :func:`ranking_notes` (and of the exported history): why a row does not count."""


def ranking_notes(history: pd.DataFrame, config: CampaignConfig, *, predicted: bool = False) -> pd.Series:
    """For each row of ``history``, why it does not count among the best recipes (``""`` when
    it counts): the one feasibility rule that the best-so-far plot, the Pareto plot, the
    best-recipes table and the exports share.

    A completed experiment counts when every objective is measured (a curve's at its target
    cycle, not predicted while its cells still cycle, unless ``predicted``), every outcome constraint
    is met (an unmeasured constrained outcome counts as met) and, with one objective, its
    threshold (or a set point's tolerance) is met.
    """
    notes = pd.Series("", index=history.index, dtype=object)
    status = history["status"].astype(str) if "status" in history.columns else pd.Series("completed", history.index)
    notes[status == "failed"] = "failed run"
    notes[~status.isin(["completed", "failed"])] = "no result (" + status[~status.isin(["completed", "failed"])] + ")"
    done = status == "completed"
    for name in config.objective_names:
        missing = done & history[name].isna() if name in history.columns else done
        notes[missing & (notes == "")] = f"{name} not measured"
    for o in config.objectives:  # a curve's value at its cycle, predicted while its cells still cycle
        sd = derived_values(history, config, o.name, PRED_SD_SUFFIX)
        if o.at is not None and sd is not None and not predicted:
            cycling = done & (pd.to_numeric(sd, errors="coerce") > 0)
            last = derived_values(history, config, o.name, LAST_CYCLE_SUFFIX)
            last = pd.Series(math.nan, index=history.index) if last is None else last
            for i in history.index[cycling & (notes == "")]:
                so_far = f" (cycled to {float(last[i]):.0f} so far)" if pd.notna(last[i]) else ""
                notes[i] = f"{o.name} at cycle {o.at} predicted, not measured yet{so_far}"
    for con in config.outcome_constraints:
        if con.outcome not in history.columns:
            continue
        values = pd.to_numeric(history[con.outcome], errors="coerce")
        broken = values.notna() & ~(values <= con.bound if con.operator == "<=" else values >= con.bound)
        for i in history.index[done & broken & (notes == "")]:
            digits = digits_to_tell_apart(values[i], con.bound)  # 15.00004 breaks z <= 15, not 15 does
            notes[i] = f"{con.outcome} = {format_number(values[i], significant=digits)} breaks {con.text()}"
    if len(config.objectives) == 1:
        o = config.objectives[0]
        worst = o.worst_score
        if worst is not None and o.name in history.columns:
            values = pd.to_numeric(history[o.name], errors="coerce")
            below = values.notna() & (pd.Series(o.score(values.to_numpy(dtype=float)), index=history.index) < worst)
            for i in history.index[done & below & (notes == "")]:
                notes[i] = f"{o.name} = {_missed(o, float(values[i]))}"
    return notes


def _missed(o: Objective, value: float) -> str:
    """``value`` missing ``o``'s threshold (or set point's tolerance), in words, each number with
    the significant figures that tell the value from the limit it misses (79.99999 misses the
    threshold 80, not "80 misses the threshold 80")."""
    if o.goal == "target" and o.target is not None and o.tolerance is not None:
        edge = o.target + o.tolerance if value > o.target else o.target - o.tolerance
        d = digits_to_tell_apart(value, edge)
        return (f"{format_number(value, significant=d)} is not within {format_number(o.tolerance, significant=d)} "
                f"of the target {format_number(o.target, significant=d)}")
    threshold = math.nan if o.threshold is None else o.threshold
    d = digits_to_tell_apart(value, threshold)
    return f"{format_number(value, significant=d)} misses the threshold {format_number(threshold, significant=d)}"


def feasible_completed(history: pd.DataFrame, config: CampaignConfig, *, predicted: bool = False) -> pd.DataFrame:
    """Completed experiments that count among the best recipes (:func:`ranking_notes` empty)."""
    if history.empty:
        return history.reset_index(drop=True)
    return history[ranking_notes(history, config, predicted=predicted) == ""].reset_index(drop=True)


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


def pareto_front(history: pd.DataFrame, config: CampaignConfig, *, predicted: bool = False) -> pd.DataFrame:
    """The :func:`feasible_completed` experiments that no other such experiment beats on
    every objective (history rows); a set-point objective counts by closeness to its target."""
    table = feasible_completed(history, config, predicted=predicted)
    if table.empty:
        return table
    return table[pareto_mask(scores(table, config))].reset_index(drop=True)


def scores(table: pd.DataFrame, config: CampaignConfig) -> np.ndarray:
    """Objective scores of the rows of ``table`` (``(n, objectives)``, larger is better:
    :meth:`doe.domain.objectives.Objective.score`)."""
    return np.column_stack([o.score(table[o.name].astype(float).to_numpy()) for o in config.objectives])


def desirability(history: pd.DataFrame, config: CampaignConfig, *, predicted: bool = False) -> Desirability:
    """The weighted desirability anchored on the completed measurements of ``history`` (as the
    ``weighted`` acquisition anchors on the model's training data); a curve's value predicted
    while its cells still cycle is no measurement, so it moves no anchor unless ``predicted``."""
    done = history[history["status"] == "completed"]
    measured = []
    for o in config.objectives:
        values = done[o.name].astype(float).to_numpy()
        sd = derived_values(done, config, o.name, PRED_SD_SUFFIX)
        if o.at is not None and sd is not None and not predicted:
            values = np.where(pd.to_numeric(sd, errors="coerce").to_numpy() > 0, np.nan,
                              values)
        measured.append(values)
    return Desirability.from_measured(config.objectives, measured)


def best(history: pd.DataFrame, config: CampaignConfig, n: int = 1, *, predicted: bool = False) -> pd.DataFrame:
    """The best ``n`` measured experiments.

    One objective: the top ``n`` of :func:`feasible_completed` by its score (value, minus
    value, or closeness to a set point). Several, ``objective_mode: weighted``: the top ``n``
    of :func:`feasible_completed` by the weighted desirability (:func:`desirability`, the
    scalarisation the acquisition uses), rows it ties (each objective below its threshold
    scores 0) by the same desirability unclipped. Several, ``pareto``: the :func:`pareto_front`
    ranked by the weighted sum of the scores scaled to their observed range on the front
    (``Objective.weight`` relative to the largest, default 1), top ``n``.

    Raises:
        DoeError: ``n`` is not a whole number >= 1 (``True`` and ``2.0`` are not).
    """
    if not is_integer(n) or n < 1:
        raise DoeError(f"n: the number of best recipes must be a whole number >= 1, got {count_text(n)}")
    n = int(n)
    front = feasible_completed(history, config, predicted=predicted)
    if front.empty:
        return front
    objectives = config.objectives
    if len(objectives) == 1:
        order = np.argsort(-objectives[0].score(front[objectives[0].name].astype(float).to_numpy()), kind="stable")
        return front.iloc[order].head(n).reset_index(drop=True)
    if config.weighted:
        measured = [front[o.name].astype(float).to_numpy() for o in objectives]
        scalar = desirability(history, config, predicted=predicted)
        order = np.lexsort((-scalar.value(measured, clipped=False), -scalar.value(measured)))
        return front.iloc[order].head(n).reset_index(drop=True)
    front = pareto_front(history, config, predicted=predicted)
    total = np.zeros(len(front))
    top = max(o.weight or 1.0 for o in objectives)  # relative: 1e308 and 1e308 weigh as 1 and 1
    for o, values in zip(objectives, scores(front, config).T, strict=True):
        span = np.ptp(values) or 1.0
        total += (o.weight or 1.0) / top * (values - values.min()) / span
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
