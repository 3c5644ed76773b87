"""Curve outcomes: values measured cycle by cycle (``over: cycle``), of which the value at
cycle ``at`` is what matters (e.g. capacity retention at cycle 200).

A results table records curve points with a ``cycle`` column: one row per (experiment,
replicate, cycle), the curve outcome's value in its column. A curve outcome given without a
cycle is its value at ``at``. The history shows, per curve outcome, the latest measured
cycle and value (``<outcome>_last_cycle``, ``<outcome>_last_value``), the value at ``at``
(measured once reached: a point there, or between the points on both sides of it, as
:mod:`doe.domain.fade` says; else predicted by it) and its sd
(``<outcome>_pred_sd``, 0 when measured); ``measurements()`` lists every point. Where the
history has replicate columns (:mod:`doe.domain.replicates`), a curve outcome's ``_n`` counts
the cells behind its value (those measured at ``at`` once reached, else every cell with points)
and its ``_sd`` is their spread at ``at`` (NaN while predicted).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.fade import FadeLawPredictor
from doe.domain.objectives import MAX_CYCLE
from doe.domain.replicates import REPLICATE_COLUMN, n_column, sd_column, summarise, summary_columns
from doe.errors import CellProblem

CYCLE_COLUMN = "cycle"
LAST_CYCLE_SUFFIX = "_last_cycle"
LAST_VALUE_SUFFIX = "_last_value"
PRED_SD_SUFFIX = "_pred_sd"
CURVE_SUFFIXES = (LAST_CYCLE_SUFFIX, LAST_VALUE_SUFFIX, PRED_SD_SUFFIX)


def curve_columns(outcome: str) -> list[str]:
    """The history columns of a curve outcome besides the outcome itself."""
    return [outcome + suffix for suffix in CURVE_SUFFIXES]


def clean_cycles(values: list[Any], problems: list[CellProblem]) -> list[int | None]:
    """The ``cycle`` cells as whole numbers >= 1 (None where empty); bad ones become problems."""
    cycles: list[int | None] = []
    for row, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str)
                                                                                 and not value.strip()):
            cycles.append(None)
            continue
        number: float | None
        try:
            number = None if isinstance(value, bool | np.bool_) else float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not math.isfinite(number) or not number.is_integer() or not 1 <= number <= MAX_CYCLE:
            problems.append(CellProblem(row, CYCLE_COLUMN, value,
                                        f"a cycle is a whole number from 1 to {MAX_CYCLE}; leave it empty for a value "
                                        "that is not a curve point"))
            cycles.append(None)
            continue
        cycles.append(int(number))
    return cycles


def cycle_row_problems(clean: pd.DataFrame, config: CampaignConfig) -> list[CellProblem]:
    """A row with a cycle records curve points: it carries no other outcome and needs an id."""
    if CYCLE_COLUMN not in clean.columns:
        return []
    curves = config.curve_outcomes
    others = [o for o in config.outcome_names if o not in curves and o in clean.columns]
    problems = []
    for row in np.flatnonzero(clean[CYCLE_COLUMN].notna().to_numpy()):
        given = [o for o in others if not math.isnan(clean[o].iloc[row])]
        if given:
            for outcome in given:  # each cell named with the value written in it
                problems.append(CellProblem(int(row), outcome, float(clean[outcome].iloc[row]),
                                            f"a row with a cycle records points of the curve outcomes "
                                            f"{sorted(curves)}; give the other outcomes in a row without a cycle"))
        if "experiment_id" not in clean.columns or clean["experiment_id"].iloc[row] is None:
            problems.append(CellProblem(int(row), "experiment_id", None,
                                        "a curve point needs the experiment_id of its experiment"))
    return problems


def point_cycle(config: CampaignConfig, outcome: str, cycle: int | None) -> int | None:
    """The stored cycle of a value of ``outcome``: its own cycle, ``at`` for a curve outcome
    given without one, None for any other outcome."""
    at = config.curve_outcomes.get(outcome)
    if at is None:
        return None
    return at if cycle is None else cycle


def curve_predictions(measurements: pd.DataFrame, outcome: str, at: int,
                      valid_range: tuple[float | None, float | None] | None = None) -> FadeLawPredictor | None:
    """The fade-law predictor fitted to the current points of ``outcome`` (None: no point),
    its predictions kept inside ``valid_range`` (the outcome's, from the config). Each cell
    (``replicate`` label) is a curve of its own; an experiment's value is pooled from its cells
    (:mod:`doe.domain.fade`)."""
    points = measurements[(measurements["outcome"] == outcome) & measurements[CYCLE_COLUMN].notna()]
    if points.empty:
        return None
    return FadeLawPredictor(at, valid_range).fit(pd.DataFrame({
        "experiment_id": points["experiment_id"].astype(str).to_numpy(),
        "replicate": _labels(points),
        "cycle": points[CYCLE_COLUMN].astype(int).to_numpy(), "value": points["value"].to_numpy(dtype=float)}))


def _labels(points: pd.DataFrame) -> np.ndarray:
    """Each point's cell label (``""`` for an unlabelled curve)."""
    if REPLICATE_COLUMN not in points.columns:
        return np.full(len(points), "", dtype=object)
    labels = points[REPLICATE_COLUMN].astype(object)
    return labels.where(labels.notna(), "").astype(str).to_numpy(dtype=object)


def curve_cells(model: FadeLawPredictor | None) -> pd.DataFrame:
    """Per experiment with points in ``model`` (indexed by id): ``sd`` and ``n`` of the cells
    behind its value at ``at``: the cells measured at ``at`` (their sample sd, NaN for one;
    :meth:`doe.domain.fade.FadeLawPredictor.predict_cells`), or, before any is, every cell
    with points (sd NaN: the value is predicted)."""
    rows = {}
    cells = model.predict_cells() if model is not None else pd.DataFrame(
        columns=["experiment_id", "mean", "measured"])
    for experiment_id, part in cells.groupby("experiment_id", sort=False):
        reached = part.loc[part["measured"].astype(bool), "mean"].astype(float).tolist()
        if reached:
            _, sd, n = summarise(reached)
        else:
            sd, n = math.nan, len(part)
        rows[experiment_id] = {"sd": sd, "n": n}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["sd", "n"])


def add_curve_columns(history: pd.DataFrame, measurements: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``history`` with each curve outcome's value at ``at`` (measured or predicted) and its
    ``_last_cycle``, ``_last_value`` and ``_pred_sd`` columns after the outcomes; with
    replicate columns (added for every outcome once a curve has several cells) its ``_sd``
    and ``_n`` from :func:`curve_cells`. A column named as a parameter (a campaign stored before
    such names were refused: :meth:`~doe.domain.config.CampaignConfig.derived_column`) keeps the
    parameter's values; the derived column of that name is left out."""
    out = history.copy()
    models = {o: curve_predictions(measurements, o, at, config.valid_range_of(o))
              for o, at in config.curve_outcomes.items()}
    cells = {o: curve_cells(model) for o, model in models.items()}
    summarised = config.summarised_outcomes
    summaries = summary_columns(summarised)
    added = [] if set(summaries) <= set(out.columns) or not any((c["n"] > 1).any() for c in cells.values()) \
        else summaries
    if added:
        for outcome in summarised:  # one cell each, as the storage counts them without replicates
            out[sd_column(outcome)] = math.nan
            out[n_column(outcome)] = out[outcome].notna().astype("int64")
    replicated = set(summaries) <= set(out.columns)
    for outcome, model in models.items():
        last_cycle, last_value, pred_sd = (config.derived_column(outcome, suffix) for suffix in CURVE_SUFFIXES)
        predicted = (model.predict().set_index("experiment_id") if model is not None
                     else pd.DataFrame(columns=["mean", "sd", "last_cycle", "last_value"]))
        ids = out["experiment_id"].astype(str)
        out[outcome] = ids.map(predicted["mean"]).astype(float)
        if last_cycle is not None:
            out[last_cycle] = ids.map(predicted["last_cycle"]).astype("Int64")
        if last_value is not None:
            out[last_value] = ids.map(predicted["last_value"]).astype(float)
        if pred_sd is not None:
            out[pred_sd] = ids.map(predicted["sd"]).astype(float)
        if replicated and outcome in summarised:
            out[sd_column(outcome)] = ids.map(cells[outcome]["sd"]).astype(float)
            out[n_column(outcome)] = ids.map(cells[outcome]["n"]).fillna(0).astype("int64")
    curve_cols = [c for o in config.curve_outcomes for c in curve_columns(o) if c not in config.parameter_names]
    position = max(list(out.columns).index(o) for o in config.outcome_names) + 1
    rest = [c for c in out.columns if c not in curve_cols and c not in added]
    return out[rest[:position] + curve_cols + added + rest[position:]]


def curve_continuations(measurements: pd.DataFrame, outcome: str, at: int, n_points: int = 40,
                        valid_range: tuple[float | None, float | None] | None = None) -> pd.DataFrame:
    """The predicted continuation of every still-cycling curve of ``outcome`` to cycle ``at``:
    ``experiment_id``, ``cycle``, ``mean``, ``lower`` and ``upper`` (the central 90 % band,
    inside ``valid_range``)."""
    columns = ["experiment_id", "cycle", "mean", "lower", "upper"]
    model = curve_predictions(measurements, outcome, at, valid_range)
    if model is None:
        return pd.DataFrame(columns=columns)
    frames = []
    predicted = model.predict()
    for experiment_id, last_cycle in zip(predicted.loc[predicted["cycling"], "experiment_id"].astype(str),
                                         predicted.loc[predicted["cycling"], "last_cycle"].astype(int), strict=True):
        cycles = np.unique(np.linspace(last_cycle, at, n_points).round().astype(int))
        mean, sd = model.continuation(experiment_id, cycles)
        low, high = valid_range if valid_range is not None else (None, None)
        low, high = -np.inf if low is None else low, np.inf if high is None else high
        frames.append(pd.DataFrame({"experiment_id": experiment_id, "cycle": cycles, "mean": mean,
                                    "lower": np.clip(mean - 1.6449 * sd, low, high),
                                    "upper": np.clip(mean + 1.6449 * sd, low, high)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def derived_values(table: pd.DataFrame, config: CampaignConfig, outcome: str, suffix: str) -> pd.Series | None:
    """The column doe derived from ``outcome`` with ``suffix`` in ``table`` (a history), or None
    where the table lacks it or a parameter takes its name
    (:meth:`~doe.domain.config.CampaignConfig.derived_column`: that column is the parameter's)."""
    column = config.derived_column(outcome, suffix)
    return table[column] if column is not None and column in table.columns else None


def still_cycling(history: pd.DataFrame, config: CampaignConfig) -> pd.Series:
    """True for experiments with a curve outcome measured but its target cycle not yet reached."""
    flags = pd.Series(False, index=history.index)
    for outcome, at in config.curve_outcomes.items():
        last = derived_values(history, config, outcome, LAST_CYCLE_SUFFIX)
        if last is not None:
            flags |= last.notna() & (last.fillna(at) < at) & history["status"].ne("failed")
    return flags.astype(bool)


__all__ = ["CURVE_SUFFIXES", "CYCLE_COLUMN", "add_curve_columns", "clean_cycles", "curve_cells", "curve_columns",
           "curve_continuations", "curve_predictions", "cycle_row_problems", "derived_values", "point_cycle",
           "still_cycling"]
