"""The history as it is exported (CSV, Excel): with each experiment's notes and, for the
ones that do not count among the best recipes, the reason; the run sheet of pending
experiments for the lab to fill in (pure functions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain.active_mass import with_masses
from doe.domain.batches import former_parameters
from doe.domain.config import CampaignConfig
from doe.domain.failure_context import HISTORY_COLUMNS
from doe.domain.ranking import RANKING_NOTE, ranking_notes
from doe.domain.replicates import cells_table
from doe.domain.table import ID_COLUMN

NOTE_COLUMN = "note"
FAILURE_NOTE = HISTORY_COLUMNS["note"]


def export_view(history: pd.DataFrame, measurements: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``history`` with a ``note`` column (the notes recorded with the experiment's current
    measurements and the note of its failure, distinct, joined by ``"; "``) and a ``ranking_note`` column (why the row does
    not count among the best recipes: :func:`doe.domain.ranking.ranking_notes`; empty when it
    counts), so an exported file and the app agree on which recipes count."""
    out = history.copy()
    notes = joined_notes(history, measurements)
    if NOTE_COLUMN not in out.columns:
        out[NOTE_COLUMN] = [notes.get(str(i), "") for i in out[ID_COLUMN]]
    out[RANKING_NOTE] = ranking_notes(out, config) if len(out) else pd.Series(dtype=object)
    return out


def joined_notes(history: pd.DataFrame, measurements: pd.DataFrame) -> dict[str, str]:
    """Each experiment's ``note`` in the exported history, by id: the notes recorded with its
    current measurements and the note of its failure, distinct, joined by ``"; "``."""
    notes: dict[str, str] = {}
    if not measurements.empty and NOTE_COLUMN in measurements.columns:
        current = measurements[~measurements["superseded"].astype(bool)] if "superseded" in measurements else measurements
        for exp_id, group in current.dropna(subset=[NOTE_COLUMN]).groupby(ID_COLUMN, sort=False):
            texts = [str(t).strip() for t in group[NOTE_COLUMN] if str(t).strip()]
            notes[str(exp_id)] = "; ".join(dict.fromkeys(texts))
    if FAILURE_NOTE in history.columns:  # a failed experiment's note joins its measurements' ones
        for exp_id, text in zip(history[ID_COLUMN], history[FAILURE_NOTE], strict=True):
            if isinstance(text, str) and text.strip():
                texts = [*filter(None, notes.get(str(exp_id), "").split("; ")), text.strip()]
                notes[str(exp_id)] = "; ".join(dict.fromkeys(texts))
    return notes


def exported_table(history: pd.DataFrame, measurements: pd.DataFrame, cell_failures: pd.DataFrame,
                   config: CampaignConfig, *, cells: bool = False, files: pd.DataFrame | None = None) -> pd.DataFrame:
    """What an export of the history writes: one row per replicate cell
    (:func:`doe.domain.replicates.cells_table`, with the columns of parameters dropped from the
    configuration that hold values: :func:`doe.domain.batches.former_parameters`, and each cell's
    active mass from the stored cycling ``files`` its values came from: :mod:`doe.domain.active_mass`)
    when ``cells``, else :func:`export_view`."""
    if cells:
        parameters = [*config.parameter_names, *former_parameters(history, config, measurements)]
        return cells_table(history, measurements if files is None else with_masses(measurements, files),
                           config.outcome_names, parameters, cell_failures)
    return export_view(history, measurements, config)


def run_sheet(experiments: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """The sheet the lab works from: one row per experiment with its recipe and empty
    outcome columns, ``failed`` and ``failure_reason`` to fill in. Uploaded back on the
    Record page it records the results (prediction columns are ignored there)."""
    out = pd.DataFrame({ID_COLUMN: experiments[ID_COLUMN].astype(str).to_numpy()})
    if "batch_id" in experiments.columns:
        out["batch_id"] = experiments["batch_id"].to_numpy()
    for p in config.parameter_names:
        out[p] = experiments[p].to_numpy() if p in experiments.columns else None
    # an outcome stored (before such names were refused) under another's prediction column's name
    # (ce_mean beside ce): that column of ``experiments`` may hold the prediction, so neither is written
    taken = {o + suffix for o in config.outcome_names for suffix in ("_mean", "_sd")} & set(config.outcome_names)
    for o in config.outcome_names:  # the model's prediction and its uncertainty, for the lab to compare
        mean, sd = config.derived_column(o, "_mean"), config.derived_column(o, "_sd")
        if mean is not None and mean in experiments.columns:  # (an _sd alone is the history's spread of replicate cells)
            out[mean] = experiments[mean].to_numpy()
            if sd is not None and sd in experiments.columns:
                out[sd] = experiments[sd].to_numpy()
    for o in config.outcome_names:
        out[o] = experiments[o].to_numpy() if o in experiments.columns and o not in taken else np.nan
    out["failed"] = False
    out["failure_reason"] = None
    return out
