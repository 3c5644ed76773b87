"""The training data of each outcome, as the surrogates see it.

:func:`outcome_data` splits the engine's table into one :class:`OutcomeData` per outcome: the
successful experiments where the outcome was measured, how many replicate cells stand behind
each value (``<outcome>_n``, ``<outcome>_sd``) and the known variance of a predicted value
(``<outcome>_pred_sd``). A column of such a name that is a parameter of the configuration (a
campaign stored before such names were refused) holds the parameter's values and is never read
as a count or an sd.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.curves import PRED_SD_SUFFIX
from doe.domain.replicates import N_SUFFIX, SD_SUFFIX

logger = logging.getLogger(__name__)

MIN_POINTS = 2
"""Measurements an outcome needs before it gets a model."""


@dataclass(frozen=True)
class OutcomeData:
    """The training data of one outcome, as the surrogates see it (read-only).

    Attributes:
        X: model-space recipes of the successful experiments where the outcome was measured, ``(n, d)``.
        y: the measured values, engineer units, ``(n,)``.
        positions: row positions of those experiments in the table given to :meth:`doe.engine.Surrogates.fit`, ``(n,)``.
        kind: how the outcome is modelled: ``"gp"``, ``"constant"`` (all values equal) or
            ``"none"`` (fewer than :data:`MIN_POINTS` measurements).
        constant: the value of a constant outcome (the first value otherwise; NaN if none).
        cells: replicate cells behind each value of ``y`` (its mean), ``(n,)``; ones when
            the experiments were measured once. ``None`` given: ones.
        within_ss: sum of squared deviations of each experiment's cells from their mean,
            engineer units squared, ``(n,)`` (0 for one cell). ``None`` given: zeros.
    """

    X: np.ndarray
    y: np.ndarray
    positions: np.ndarray
    kind: Literal["none", "constant", "gp"]
    constant: float = math.nan
    cells: np.ndarray | None = None
    within_ss: np.ndarray | None = None
    extra_var: np.ndarray | None = None
    """Known variance of each value ``(n,)`` (a predicted value's): added to its noise."""

    def __post_init__(self) -> None:
        if self.cells is None:
            object.__setattr__(self, "cells", np.ones(len(self.y)))
        if self.within_ss is None:
            object.__setattr__(self, "within_ss", np.zeros(len(self.y)))
        for array in (self.X, self.y, self.positions, self.cells, self.within_ss):
            assert array is not None
            array.flags.writeable = False


def _column(table: pd.DataFrame, config: CampaignConfig, outcome: str, suffix: str) -> np.ndarray | None:
    """The numbers of the column doe derives from ``outcome`` with ``suffix``; None when the table
    lacks it or a parameter takes its name."""
    column = config.derived_column(outcome, suffix)
    if column is None or column not in table.columns:
        return None
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)


def replicate_arrays(table: pd.DataFrame, config: CampaignConfig, outcome: str) -> tuple[np.ndarray, np.ndarray]:
    """Cells behind each row's value of ``outcome`` (>= 1) and their within-experiment sum of
    squares, from the optional ``<outcome>_n`` and ``<outcome>_sd`` columns (missing, NaN or a
    parameter's: one cell, sd 0)."""
    cells = _column(table, config, outcome, N_SUFFIX)
    cells = np.ones(len(table)) if cells is None else np.where(np.isfinite(cells) & (cells >= 1), cells, 1.0)
    sd = _column(table, config, outcome, SD_SUFFIX)
    sd = np.zeros(len(table)) if sd is None else np.where(np.isfinite(sd) & (sd >= 0), sd, 0.0)
    return cells, (cells - 1.0) * sd**2


def predicted_var(table: pd.DataFrame, config: CampaignConfig, outcome: str) -> np.ndarray:
    """Known variance of each row's value of ``outcome`` from the optional ``<outcome>_pred_sd``
    column (a curve outcome's value predicted at its target cycle; missing, NaN or a parameter's: 0)."""
    sd = _column(table, config, outcome, PRED_SD_SUFFIX)
    return np.zeros(len(table)) if sd is None else np.where(np.isfinite(sd) & (sd > 0), sd, 0.0) ** 2


def outcome_data(table: pd.DataFrame, config: CampaignConfig, X: np.ndarray, Y: np.ndarray, usable: np.ndarray,
                 positions: np.ndarray) -> dict[str, OutcomeData]:
    """The training data of every outcome of ``config``, in config order.

    Args:
        table: the usable rows of the engine's table (see :meth:`doe.engine.Surrogates.fit`).
        X: their model-space recipes, ``(n, d)``.
        Y: their outcome values, one column per outcome in config order, ``(n, n_outcomes)``.
        usable: which rows gave a result (not failed), ``(n,)`` bool.
        positions: their row positions in the table given to :meth:`~doe.engine.Surrogates.fit`, ``(n,)``.
    """
    data = {}
    for j, name in enumerate(config.outcome_names):
        rows = usable & ~np.isnan(Y[:, j])
        y = Y[rows, j]
        cells, within_ss = replicate_arrays(table, config, name)
        kind: Literal["none", "constant", "gp"]
        if len(y) < MIN_POINTS:
            kind = "none"
            logger.info(
                "outcome %r: %d measurement(s); at least %d are needed for a model, predictions are NaN",
                name, len(y), MIN_POINTS,
            )
        elif np.ptp(y) <= 1e-12 * float(np.abs(y).max()):  # relative to the values' own scale
            kind = "constant"
            logger.warning(
                "outcome %r: all %d measurements equal %g; it is predicted as that constant (sd 0) "
                "and gives no direction to the search", name, len(y), y[0],
            )
        else:
            kind = "gp"
        data[name] = OutcomeData(X[rows], y, positions[rows], kind, float(y[0]) if len(y) else math.nan,
                                 cells[rows], within_ss[rows], predicted_var(table, config, name)[rows])
    return data


__all__ = ["MIN_POINTS", "OutcomeData", "outcome_data", "predicted_var", "replicate_arrays"]
