"""From a history to the engine's inputs, and from a proposal to the experiments to store.

Pure functions of tables and the configuration (no storage, no engine): what
:meth:`doe.campaign.Campaign.suggest` hands to the engine and what it stores back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import DERIVED_SUFFIXES, CampaignConfig
from doe.domain.curves import PRED_SD_SUFFIX, add_curve_columns, curve_columns
from doe.domain.records import PENDING_STATUSES, CarriedEvidence, EvidenceFile, NewExperiment
from doe.domain.replicates import REPLICATE_COLUMN, cells_table, n_column, summary_columns
from doe.domain.requests import request_differences
from doe.domain.table import EXPORT_ONLY_COLUMNS, ID_COLUMN, check_in_space, validate_experiments
from doe.domain.values import is_missing, to_python
from doe.errors import CellProblem, DataError, shorten

logger = logging.getLogger(__name__)

HISTORY_META = ("failure_reason", "failure_note", "failure_operator", "failure_sample_id", "failure_measured_at",
                "proposed_by", "proposed_at", "source")
"""Bookkeeping columns that close the history table."""

PREDICTION_COLUMNS = ("acquisition_value", "probability_feasible", "strategy")
"""Columns of a proposal besides parameters and ``<outcome>_mean``/``_sd``."""


def history_table(experiments: pd.DataFrame, config: CampaignConfig,
                  measurements: Callable[[], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The history's columns in order: id, status, batch, config version, the parameters of
    ``config`` (then parameters of older versions), outcomes, the curve outcomes' columns
    (from the points ``measurements()`` returns, read only for a campaign with curve
    outcomes; see :func:`doe.domain.curves.add_curve_columns`), replicate
    ``_sd``/``_n`` where recorded, and :data:`HISTORY_META`; provenance columns left out."""
    table = experiments.copy()
    columns = [ID_COLUMN, "status", "batch_id", "config_version", *config.parameter_names]
    summaries = [c for c in summary_columns(config.summarised_outcomes) if c in table.columns and c not in columns]
    extra_params = [
        c for c in table.columns
        if c not in columns and c not in config.outcome_names and c not in HISTORY_META
        and c not in summaries and c not in summary_columns(table.columns)
        and c not in ("seed", "predictions", "model_settings", "package_version", "updated_at")
    ]
    columns += extra_params + [*config.outcome_names] + summaries + [c for c in table.columns
                                                         if c not in config.outcome_names and c not in columns
                                                         and c not in extra_params and c in HISTORY_META]
    for c in columns:
        if c not in table.columns:
            table[c] = np.nan
    table = table[columns].reset_index(drop=True)
    if config.curve_outcomes and measurements is not None:
        table = add_curve_columns(table, measurements(), config)
    return table


def former_parameters(history: pd.DataFrame, config: CampaignConfig, measurements: pd.DataFrame) -> list[str]:
    """The columns of ``history`` (:func:`history_table`) that hold parameters dropped from the
    configuration and have a value in one of its rows, in history order: part of those
    experiments' recipes, so a table of their cells carries them."""
    outcomes = {*config.outcome_names, *map(str, measurements["outcome"])}  # outcomes dropped since too
    known = {ID_COLUMN, *config.parameter_names, *outcomes, *HISTORY_META, *carried_columns(history, config)}
    return [c for c in map(str, history.columns) if c not in known and history[c].notna().any()]


def training_table(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """Finished experiments in the engine's form, in history order: parameters, outcomes (the
    mean of the replicate cells), the cells' ``_sd``/``_n`` where recorded, and ``failed``;
    indexed by experiment id. An experiment made before a parameter was added takes its
    ``reference`` value (the lab's usual setting, as for ``learn_from`` campaigns); rows lacking a
    parameter without a reference are left out (logged)."""
    done = with_references(history[history["status"].isin(["completed", "failed"])], config)
    params = config.parameter_names
    complete = done[params].notna().all(axis=1)
    if not complete.all():
        logger.info("%d finished experiment(s) lack a parameter of the current configuration that has no "
                    "reference value, and are left out of the model (the Campaigns page said so on saving)",
                    int((~complete).sum()))
    done = done[complete]
    outcomes = done[config.outcome_names].astype(float)
    failed = done["status"].eq("failed") & outcomes.isna().all(axis=1)
    # replicate counts and sds let the model weigh a mean of several cells (see Surrogates.fit)
    if taken := [p for p in params if any(p == o + suffix for o in config.outcome_names for suffix in DERIVED_SUFFIXES)]:
        logger.warning("parameter(s) %s take the name of a column doe derives from an outcome (a campaign stored "
                       "before such names were refused): the columns hold the parameters' values, and the model "
                       "goes without the derived values of those names (replicate counts and sds, a curve's "
                       "predicted sd: those values count as single measurements)", ", ".join(map(repr, taken)))
    replicates = done[[c for c in summary_columns(config.summarised_outcomes) if c in done.columns]].astype(float)
    # a still-cycling experiment's predicted value at `at` comes with its sd (Surrogates.fit: extra noise)
    predicted_sd = done[[c for o in config.curve_outcomes
                         if (c := config.derived_column(o, PRED_SD_SUFFIX)) is not None and c in done.columns]
                        ].astype(float)
    training = pd.concat([done[params], outcomes, replicates, predicted_sd], axis=1).reset_index(drop=True)
    training["failed"] = failed.to_numpy()
    training.index = pd.Index(done[ID_COLUMN].to_numpy(), name=ID_COLUMN)
    return training


def with_references(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``history`` with each parameter's missing values (experiments made before it was added)
    filled with its ``reference``, where it has one."""
    fill = {p.name: p.reference for p in config.parameters
            if p.reference is not None and p.name in history.columns and history[p.name].isna().any()}
    if not fill:
        return history
    out = history.copy()
    for name, value in fill.items():
        out[name] = out[name].astype(object).where(out[name].notna(), value).infer_objects()
    return out


def pending_recipes(history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """Recipes the acquisition treats as pending (their results still to come), among those
    that have every parameter: the proposed and running experiments, and the completed ones
    still waiting for an objective's value (first-cycle results recorded, the 200-cycle
    retention not yet). The last are in the training table with what they have, and pending
    for what they lack, so a batch does not spend runs next to them meanwhile."""
    objectives = [o.name for o in config.objectives if o.name in history.columns]
    waiting = history["status"].eq("completed")
    waiting &= history[objectives].isna().any(axis=1) if objectives else False
    pending = with_references(history[history["status"].isin(PENDING_STATUSES) | waiting], config)[config.parameter_names]
    return pending[pending.notna().all(axis=1)].reset_index(drop=True)


def carried_columns(table: pd.DataFrame, config: CampaignConfig) -> tuple[str, ...]:
    """Prediction and bookkeeping columns that a run sheet or history carries back in (ignored
    when it is read as recipes or results)."""
    # an outcome stored (before such names were refused) under another's prediction column's name
    # (cap_mean beside cap) is that outcome's, except in a proposal, where the column is the prediction
    outcomes = set(config.outcome_names)
    if any(c in table.columns for c in PREDICTION_COLUMNS):
        outcomes -= {f"{o}{suffix}" for o in config.outcome_names for suffix in ("_mean", "_sd")}
    known = {ID_COLUMN, *config.parameter_names, *outcomes}
    carried = {f"{o}{suffix}" for o in config.outcome_names for suffix in ("_mean", "_sd")}  # predictions, a history's sd
    carried |= {n_column(o) for o in config.outcome_names}  # a history's replicate counts
    carried |= {c for o in config.curve_outcomes for c in curve_columns(o)}  # and curve summaries
    return tuple(c for c in map(str, table.columns) if c not in known and (
        c in carried or c in {*PREDICTION_COLUMNS, *EXPORT_ONLY_COLUMNS}))


def batch_seed(campaign_seed: int, batch_index: int) -> int:
    """The seed of the ``batch_index``-th batch (1-based) of a campaign seeded ``campaign_seed``."""
    return int((campaign_seed * 1_000_003 + batch_index * 7_919) % (2**31 - 1))


def proposed_experiments(recipes: pd.DataFrame, config: CampaignConfig, *, config_version: int, batch_id: str,
                         seed: int, model_settings: Mapping[str, Any], package_version: str) -> list[NewExperiment]:
    """One ``proposed`` experiment per row of an engine proposal, with its predictions and provenance."""
    prediction_cols = [c for c in recipes.columns if c not in config.parameter_names]
    new = []
    for row in recipes.to_dict("records"):
        new.append(NewExperiment(
            parameters={p: to_python(row[p]) for p in config.parameter_names}, status="proposed",
            config_version=config_version, batch_id=batch_id, source="doe", seed=seed,
            model_settings=dict(model_settings), package_version=package_version,
            predictions={c: to_python(row[c]) for c in prediction_cols if not is_missing(row[c])},
        ))
    return new


def request_batch(experiments: pd.DataFrame, request_id: str, config: CampaignConfig,
                  asked: Mapping[str, Any] | None = None) -> pd.DataFrame | None:
    """The batch a suggestion request already wrote (its id is in the rows' ``model_settings``),
    as :meth:`doe.Campaign.suggest` returns a batch; None if the request wrote nothing.

    Args:
        asked: what this call asks for (:func:`doe.domain.requests.request_record`), compared
            with what the request stored with its batch (a batch an earlier doe stored without it is
            returned unchecked).

    Raises:
        DataError: the id was used for a batch asked with other arguments (naming each
            difference); a retry of a request passes the same ones.
    """
    if experiments.empty or "model_settings" not in experiments.columns:
        return None
    mine = experiments[[isinstance(s, Mapping) and s.get("request_id") == request_id
                        for s in experiments["model_settings"]]]
    if mine.empty:
        return None
    stored = mine["model_settings"].iloc[0].get("request")
    batch_id = str(mine["batch_id"].iloc[0])
    if asked is not None and isinstance(stored, Mapping) and (
            differences := request_differences(stored, asked, batch_id, len(mine))):
        raise DataError(f"request_id {shorten(request_id)} was used for batch {batch_id} with other arguments: "
                        f"{'; '.join(differences)}. Nothing was proposed: retry a request with its own arguments, "
                        "and give a new request its own request_id")
    predictions = pd.DataFrame([dict(p) if isinstance(p, Mapping) else {} for p in mine["predictions"]])
    columns = [*(f"{o}_{s}" for o in config.outcome_names for s in ("mean", "sd")),
               "probability_feasible", "acquisition_value", "strategy"]  # the engine's order
    batch = mine[[ID_COLUMN, *config.parameter_names]].reset_index(drop=True)
    for column in columns:
        batch[column] = predictions[column] if column in predictions.columns else np.nan
    batch["batch_id"] = mine["batch_id"].to_numpy()
    return batch


__all__ = ["HISTORY_META", "batch_seed", "carried_columns", "failed_after_measuring", "finished_cells",
           "finished_evidence", "former_parameters", "history_table", "pending_recipes", "proposals_table", "proposed_experiments", "request_batch", "training_digest",
           "training_table", "with_references"]


def finished_cells(history: pd.DataFrame, measurements: pd.DataFrame, config: CampaignConfig,
                   failures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The completed and failed experiments as a table :meth:`doe.Campaign.record` takes again:
    one row per replicate cell (a replicated experiment keeps its cells, failed ones included
    when ``failures`` lists them), with ``failed`` and ``failure_reason``; no ``replicate``
    column when no cell has a label. An experiment failed after it was measured
    (:func:`failed_after_measuring`) is rows of its values, not failed (a row cannot say both),
    and the row of its failure's note, operator, sample id and date where it has them (marked
    failed, without values: recorded, it fails the experiment with them and keeps the values)."""
    done = history[history["status"].isin(["completed", "failed"])]
    if done.empty:
        return done.iloc[:0]
    parameters = [*config.parameter_names, *former_parameters(done, config, measurements)]
    table = cells_table(done, measurements, config.outcome_names, parameters, failures)
    status = done.set_index(ID_COLUMN)
    status = status.assign(status=status["status"].where(~status.index.isin(failed_after_measuring(done, measurements))))
    experiment_reason = table[ID_COLUMN].map(status["failure_reason"].where(status["status"].eq("failed")))
    if "failed" in table.columns:  # failed cells keep their own reasons (a row with values is a measured one)
        cell_failed = table["failed"].astype(bool) & table[list(config.outcome_names)].isna().all(axis=1)
        table["failure_reason"] = table["failure_reason"].where(cell_failed, experiment_reason)
    else:
        cell_failed = pd.Series(False, index=table.index)
        table["failure_reason"] = experiment_reason
    table["failed"] = cell_failed | table[ID_COLUMN].map(status["status"].eq("failed")).astype(bool)
    if table[REPLICATE_COLUMN].isna().all():
        table = table.drop(columns=[REPLICATE_COLUMN])
    return table


def check_clonable(table: pd.DataFrame, config: CampaignConfig, ignore_columns: tuple[str, ...]) -> None:
    """Refuse a history (:func:`finished_cells`) that a new campaign with ``config`` would not
    take, before that campaign is made: recipes made under an earlier config version (a label
    since dropped, a range since narrowed, a parameter since added) are new experiments there.

    Raises:
        DataError: naming every such row; :meth:`doe.Campaign.export_json` and
            :meth:`doe.Campaign.import_json` copy a campaign with every config version instead.
    """
    if table.empty:
        return
    try:
        clean = validate_experiments(table, config, parameters="optional", ignore_columns=ignore_columns)
        missing = [CellProblem(int(row), name, None, "not set: the experiment was made before the parameter was added")
                   for name in config.parameter_names
                   for row in (range(len(table)) if name not in table.columns else np.flatnonzero(table[name].isna()))]
        missing += check_in_space(clean, config) if not missing else []
    except DataError as err:
        missing = list(err.problems)
    if not missing and REPLICATE_COLUMN in table.columns:  # cells stored beside an unlabelled value (older versions)
        outcomes = [o for o in config.outcome_names if o in table.columns]
        for exp_id, rows in table.groupby(ID_COLUMN, sort=False):
            labelled = rows[REPLICATE_COLUMN].notna()
            mixed = [o for o in outcomes if rows.loc[labelled, o].notna().any() and rows.loc[~labelled, o].notna().any()]
            missing += [CellProblem(int(rows.index[0]), o, exp_id, "a value without a replicate label beside labelled "
                                    "cells, which a new campaign refuses") for o in mixed]
    if missing:
        raise DataError(f"the history cannot be cloned: {len(missing)} cell(s) of its experiments would be refused by "
                        "a new campaign (made under an earlier config version, or stored by an older doe); nothing "
                        "was created. Copy the campaign "
                        "with every config version, its pending experiments and audit trail by export_json and "
                        "import_json(name=...) (doe export --out campaign.json, then doe import campaign.json --name "
                        "NEW)", missing)


def failed_after_measuring(history: pd.DataFrame, measurements: pd.DataFrame) -> dict[str, str]:
    """Failed experiments that have current values (marked failed with
    :meth:`doe.Campaign.fail` once measured: the furnace overshot), with their reasons."""
    measured = set(measurements[ID_COLUMN].astype(str))
    failed = history[history["status"].eq("failed") & history[ID_COLUMN].astype(str).isin(measured)]
    return {str(i): r.strip() if isinstance(r, str) and r.strip() else "failed (no reason given)"
            for i, r in zip(failed[ID_COLUMN], failed["failure_reason"], strict=True)}


def finished_evidence(cells: pd.DataFrame, measurements: pd.DataFrame, files: pd.DataFrame,
                      content: Callable[[str], tuple[str, bytes]]) -> CarriedEvidence | None:
    """The evidence files behind the values of ``cells`` (:func:`finished_cells`), to record
    with them elsewhere; None when no value came from a file.

    Args:
        cells: the finished cells being carried.
        measurements: the current measurements (:meth:`doe.Campaign.measurements`).
        files: the stored files (:meth:`doe.Campaign.files`).
        content: a stored file's name and bytes by SHA-256 (:meth:`doe.Campaign.file_content`).
    """
    linked = measurements[measurements["file_sha256"].notna()
                          & measurements[ID_COLUMN].isin(set(cells[ID_COLUMN].astype(str)))]
    if linked.empty:
        return None
    sources = {(str(r[ID_COLUMN]), str(r["outcome"]), None if is_missing(r["replicate"]) else str(r["replicate"]),
                None if is_missing(r["cycle"]) else int(r["cycle"])): str(r["file_sha256"])
               for r in linked.to_dict("records")}
    wanted = set(sources.values())
    carried = tuple(EvidenceFile.from_bytes(*content(row["sha256"]), kind=row["kind"], file_format=row["file_format"],
                                            parser=row["parser"], rule=row["rule"])
                    for row in files.to_dict("records") if row["sha256"] in wanted)
    return CarriedEvidence(files=carried, sources=sources)


def training_digest(training: pd.DataFrame, config: CampaignConfig, extra: bytes = b"") -> str:
    """A fingerprint of the training data and the configuration (the fitted models' cache key);
    ``extra``: more bytes that the models depend on (the source campaigns' rows)."""
    return hashlib.sha256(pd.util.hash_pandas_object(training, index=True).to_numpy().tobytes()
                          + config.to_yaml().encode() + extra).hexdigest()


def proposals_table(experiments: pd.DataFrame) -> pd.DataFrame:
    """The experiments doe proposed with their provenance: id, batch, status, who and when,
    seed, package version, model settings and the model's prediction at proposal time."""
    table = experiments[experiments["source"] == "doe"]
    keep = [ID_COLUMN, "batch_id", "status", "proposed_by", "proposed_at", "seed",
            "package_version", "model_settings", "predictions"]
    return table[[c for c in keep if c in table.columns]].reset_index(drop=True)
