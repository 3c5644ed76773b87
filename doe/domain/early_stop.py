"""Early stopping of cycling cells: free a channel when a cell cannot plausibly win.

A still-cycling experiment's value at the target cycle is predicted with an sd
(:mod:`doe.domain.fade`). The rule (:class:`EarlyStop`) stops a cell when the upper end of
its central ``level`` interval lies below the lower end of the best feasible experiment's
(for a maximised objective; mirrored for a minimised one), once the cell has at least
``min_cycles`` cycles of its own; optionally also when a measured outcome constraint fails
(e.g. its first-cycle CE is below the campaign's limit). A stopped cell keeps its measured
points; nothing is stored at the target cycle, so the history shows its prediction with its
sd from then on. Pure: a function of the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from doe.domain import ranking
from doe.domain.config import CampaignConfig
from doe.domain.curves import LAST_CYCLE_SUFFIX, PRED_SD_SUFFIX, still_cycling
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


def cells_to_stop(history: pd.DataFrame, config: CampaignConfig, rule: EarlyStop) -> list[str]:
    """Ids of the still-cycling experiments that ``rule`` stops, in history order.

    The objective is the campaign's single curve objective; with none (or several
    objectives) nothing is stopped.
    """
    curves = [o for o in config.objectives if o.over is not None]
    if len(config.objectives) != 1 or not curves or history.empty:
        return []
    objective = curves[0]
    if objective.goal == "target":
        return []
    sign = -1.0 if objective.goal == "minimize" else 1.0
    cycling = still_cycling(history, config)
    value = sign * history[objective.name].astype(float)
    sd = history[objective.name + PRED_SD_SUFFIX].astype(float).fillna(0.0)
    feasible = feasible_completed(history, config, predicted=True)  # (compared by their intervals)
    stop = pd.Series(False, index=history.index)
    if not feasible.empty:
        lower = sign * feasible[objective.name].astype(float) - rule.z * feasible[objective.name + PRED_SD_SUFFIX
                                                                                  ].astype(float).fillna(0.0)
        best_lower = float(np.nanmax(lower.to_numpy())) if lower.notna().any() else -math.inf
        enough = history[objective.name + LAST_CYCLE_SUFFIX].astype(float).fillna(0) >= rule.min_cycles
        stop |= enough & (value + rule.z * sd < best_lower)
    if rule.infeasible:
        for constraint in config.outcome_constraints:
            measured = history[constraint.outcome].astype(float)
            ok = measured <= constraint.bound if constraint.operator == "<=" else measured >= constraint.bound
            stop |= measured.notna() & ~ok
    chosen = cycling & stop
    return history.loc[chosen, ID_COLUMN].astype(str).tolist()


def recommended(history: pd.DataFrame, config: CampaignConfig, min_cycles: int = 20) -> pd.DataFrame:
    """The best feasible completed experiment (one row, or none) that doe would recommend now.

    Finished curves count with their measured value at the target cycle; still-cycling (or
    stopped) ones with their predicted value, once they have ``min_cycles`` cycles of their
    own (before that the prediction is mostly the population's, not the recipe's evidence).
    """
    done = history[history["status"] == "completed"]
    for outcome, at in config.curve_outcomes.items():
        last = done[outcome + LAST_CYCLE_SUFFIX].astype(float) if outcome + LAST_CYCLE_SUFFIX in done else None
        if last is not None:
            done = done[last.isna() | (last >= min(min_cycles, at))]
    return ranking.best(done, config, predicted=True)


__all__ = ["EarlyStop", "cells_to_stop", "recommended"]
