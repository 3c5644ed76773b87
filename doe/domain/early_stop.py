"""Early stopping of cycling cells: free a channel when a cell cannot plausibly win.

A still-cycling experiment's value at the target cycle is predicted with an sd
(:mod:`doe.domain.fade`). The rule (:class:`EarlyStop`) stops a cell when the upper end of
its central ``level`` interval lies below the lower end of the best feasible experiment's
(for a maximised objective; mirrored for a minimised one), once the cell has at least
``min_cycles`` cycles of its own; optionally also when a measured outcome constraint fails
(e.g. its first-cycle CE is below the campaign's limit). A stopped cell keeps its measured
points; nothing is stored at the target cycle, so the history shows its prediction with its
sd from then on. Pure: a function of the history (and, for replicate cells, of the measurements).

An experiment built into several cells (``replicate`` labels) is judged by what its value at
the target cycle will be if its cycling cells go on: the mean of its cells measured there and
of its cycling cells' predictions, with the sd of a mean of independent cells
(:mod:`doe.domain.fade`); :func:`stop_cells` then stops each of its cycling cells that has
``min_cycles`` cycles of its own. :func:`cells_to_stop` on a history alone treats each
experiment as one cell (its history value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from doe.domain import ranking
from doe.domain.config import CampaignConfig
from doe.domain.curves import (
    LAST_CYCLE_SUFFIX,
    PRED_SD_SUFFIX,
    curve_predictions,
    derived_values,
    still_cycling,
)
from doe.domain.objectives import Objective
from doe.domain.ranking import feasible_completed
from doe.domain.table import ID_COLUMN
from doe.errors import DataError


@dataclass(frozen=True)
class EarlyStop:
    """When a cycling cell is stopped.

    Attributes:
        level: central interval of the comparison (0.9: the cell's upper 95 % point below
            the best's lower 5 % point, i.e. both ends of 90 % intervals).
        min_cycles: cycles the cell must have measured before the rule applies to it.
        infeasible: also stop a cell whose measured outcome constraint fails.
    """

    level: float = 0.9
    min_cycles: int = 20
    infeasible: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.level, float | int) and 0 < self.level < 1):
            raise DataError(f"early stop level: a fraction between 0 and 1 (e.g. 0.9), got {self.level!r}")
        if not isinstance(self.min_cycles, int) or isinstance(self.min_cycles, bool) or self.min_cycles < 1:
            raise DataError(f"early stop min_cycles: a whole number >= 1, got {self.min_cycles!r}")

    @property
    def z(self) -> float:
        """The normal quantile of the interval's upper end."""
        return NormalDist().inv_cdf(0.5 + self.level / 2)


@dataclass(frozen=True)
class CellToStop:
    """A cycling cell the rule stops.

    Attributes:
        experiment_id: its experiment.
        replicate: its ``replicate`` label (None: the experiment's one unlabelled cell).
        last_cycle: the latest cycle it measured.
    """

    experiment_id: str
    replicate: str | None
    last_cycle: int


def cells_to_stop(history: pd.DataFrame, config: CampaignConfig, rule: EarlyStop) -> list[str]:
    """Ids of the still-cycling experiments that ``rule`` stops, in history order, each
    experiment taken as one cell (its history value; :func:`stop_cells` for replicate cells).

    The objective is the campaign's single curve objective; with none (or several
    objectives) nothing is stopped.
    """
    objective = _objective(history, config)
    if objective is None:
        return []
    sign = -1.0 if objective.goal == "minimize" else 1.0
    cycling = still_cycling(history, config)
    value = sign * history[objective.name].astype(float)
    sd = _derived(history, config, objective.name, PRED_SD_SUFFIX).fillna(0.0)
    enough = _derived(history, config, objective.name, LAST_CYCLE_SUFFIX).fillna(0) >= rule.min_cycles
    stop = enough & (value + rule.z * sd < _best_lower(history, config, rule, objective.name, sign))
    chosen = cycling & (stop | _infeasible(history, config, rule))
    return history.loc[chosen, ID_COLUMN].astype(str).tolist()


def stop_cells(history: pd.DataFrame, measurements: pd.DataFrame, config: CampaignConfig,
               rule: EarlyStop) -> list[CellToStop]:
    """The cycling cells that ``rule`` stops, cell by cell, in history order.

    A cell cycles while its own last cycle is below ``at`` (its experiment not failed), even
    when another cell of its experiment has reached ``at``. Its experiment cannot plausibly win
    when the upper end of the interval of its value if its cycling cells go on (the mean of its
    cells measured at ``at`` and of its cycling cells' predictions, sd ``sqrt(sum sd_i^2) / k``)
    lies below the lower end of the best other feasible experiment; the cell is then stopped once it has
    ``min_cycles`` cycles of its own. With ``infeasible``, every cycling cell of an experiment
    whose measured outcome constraint fails is stopped.

    Args:
        history: :meth:`doe.Campaign.history`.
        measurements: :meth:`doe.Campaign.measurements` (each cell's points).
        config: the campaign's configuration.
        rule: the stopping rule.
    """
    objective = _objective(history, config)
    if objective is None or objective.at is None:
        return []
    model = curve_predictions(measurements, objective.name, objective.at, config.valid_range_of(objective.name))
    if model is None:
        return []
    sign = -1.0 if objective.goal == "minimize" else 1.0
    infeasible = _infeasible(history, config, rule)
    cells = model.predict_cells()
    stops = []
    for experiment_id, failed, broken in zip(history[ID_COLUMN].astype(str), history["status"].eq("failed"),
                                             infeasible, strict=True):
        mine = cells[cells["experiment_id"] == experiment_id]
        going = mine[mine["cycling"]]
        if going.empty or failed:
            continue
        counted = mine[mine["measured"] | mine["cycling"]]
        mean = float(counted["mean"].mean())
        sd = math.sqrt(float((counted["sd"] ** 2).sum())) / len(counted)
        worse = sign * mean + rule.z * sd < _best_lower(history, config, rule, objective.name, sign, experiment_id)
        stops += [CellToStop(experiment_id, label or None, int(last))
                  for label, last in zip(going["replicate"], going["last_cycle"], strict=True)
                  if broken or (worse and last >= rule.min_cycles)]
    return stops


def _derived(history: pd.DataFrame, config: CampaignConfig, outcome: str, suffix: str) -> pd.Series:
    """:func:`~doe.domain.curves.derived_values` as floats; NaN where there is none."""
    values = derived_values(history, config, outcome, suffix)
    return pd.Series(math.nan, index=history.index) if values is None else values.astype(float)


def _objective(history: pd.DataFrame, config: CampaignConfig) -> Objective | None:
    """The campaign's single curve objective, maximised or minimised (None: nothing to stop by)."""
    curves = [o for o in config.objectives if o.over is not None]
    if len(config.objectives) != 1 or not curves or history.empty or curves[0].goal == "target":
        return None
    return curves[0]


def _best_lower(history: pd.DataFrame, config: CampaignConfig, rule: EarlyStop, objective: str,
                sign: float, other_than: str | None = None) -> float:
    """The best lower end (signed: larger is better) of the feasible experiments' intervals,
    predicted ones included (compared by their intervals), ``other_than`` that experiment
    (an experiment is not beaten by itself); -inf without one."""
    feasible = feasible_completed(history, config, predicted=True)
    if other_than is not None and len(feasible):
        feasible = feasible[feasible[ID_COLUMN].astype(str) != other_than]
    if feasible.empty:
        return -math.inf
    lower = sign * feasible[objective].astype(float) - rule.z * _derived(feasible, config, objective,
                                                                         PRED_SD_SUFFIX).fillna(0.0)
    return float(np.nanmax(lower.to_numpy())) if lower.notna().any() else -math.inf


def _infeasible(history: pd.DataFrame, config: CampaignConfig, rule: EarlyStop) -> pd.Series:
    """True for the experiments whose measured outcome constraint fails (all False unless
    ``rule.infeasible``)."""
    broken = pd.Series(False, index=history.index)
    if rule.infeasible:
        for constraint in config.outcome_constraints:
            measured = history[constraint.outcome].astype(float)
            ok = measured <= constraint.bound if constraint.operator == "<=" else measured >= constraint.bound
            broken |= measured.notna() & ~ok
    return broken


def recommended(history: pd.DataFrame, config: CampaignConfig, min_cycles: int = 20) -> pd.DataFrame:
    """The best feasible completed experiment (one row, or none) that doe would recommend now.

    Finished curves count with their measured value at the target cycle; still-cycling (or
    stopped) ones with their predicted value, once they have ``min_cycles`` cycles of their
    own (before that the prediction is mostly the population's, not the recipe's evidence).
    """
    done = history[history["status"] == "completed"]
    for outcome, at in config.curve_outcomes.items():
        last = derived_values(done, config, outcome, LAST_CYCLE_SUFFIX)
        if last is not None:
            last = last.astype(float)
            done = done[last.isna() | (last >= min(min_cycles, at))]
    return ranking.best(done, config, predicted=True)


__all__ = ["CellToStop", "EarlyStop", "cells_to_stop", "recommended", "stop_cells"]
