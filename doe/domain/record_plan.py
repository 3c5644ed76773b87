"""What a :meth:`doe.Campaign.record` of a table does to the stored campaign, as a function of data.

:func:`plan_table` reads a results table against one state of the campaign (its configuration,
history, measurements and the predictions stored with its proposals) and returns the planned
write with the rows left out; the campaign writes the plan, and plans again when the stored state
changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from doe.domain import planning, ranking, read_back
from doe.domain.active_mass import MASS_COLUMN, mass_column_free, mass_problems, with_masses
from doe.domain.batches import carried_columns
from doe.domain.config import CampaignConfig
from doe.domain.failed_after import keep_failed, measured_then_failed
from doe.domain.records import checked_flag
from doe.domain.repeats import find_repeats
from doe.domain.replicates import labelled_cells
from doe.errors import CellProblem, DataError


def plan_table(table: pd.DataFrame, config: CampaignConfig, version: int, history: pd.DataFrame,
               measurements: pd.DataFrame, predicted: Mapping[Any, Any], *, correct: bool, valid_rows_only: bool,
               allow_duplicates: bool, files: Callable[[], pd.DataFrame] | None = None,
               ) -> tuple[planning.RecordPlan, list[CellProblem]]:
    """The write that records ``table`` and the rows rejected (``valid_rows_only``), read against
    ``config`` (version ``version``), ``history``, ``measurements`` and the ``predicted`` values stored
    with each proposal (arguments as :meth:`doe.Campaign.record` takes them). A cells file's
    ``active_mass_mg`` (:mod:`doe.domain.active_mass`) records nothing and is checked against the
    masses of the stored cycling ``files`` (:meth:`doe.Campaign.files`, read only for such a table).

    Raises: DataError listing every bad cell (without ``valid_rows_only``).
    """
    for name, flag in (("correct", correct), ("valid_rows_only", valid_rows_only), ("allow_duplicates", allow_duplicates)):
        checked_flag(flag, name)  # "no" is true to Python: correct="no" replaced stored values
    dropped, means = read_back.problems_of(table, config, history, measurements, predicted)
    if MASS_COLUMN in table.columns and MASS_COLUMN not in history.columns and mass_column_free(
            [*config.parameter_names, *config.outcome_names, *measurements["outcome"].astype(str)]):
        stored = with_masses(measurements, files()) if files is not None else measurements
        dropped, means = (*dropped, MASS_COLUMN), means + mass_problems(table, stored)
    given = read_back.earlier_predictions_left_out(read_back.stored_recipes_left_out(table, history, config), history,
                                                   config)
    given, failed = measured_then_failed(given, history, config)
    clean, rejected = planning.validated_rows(given, config, ignore_columns=carried_columns(table, config) + dropped,
                                              valid_rows_only=valid_rows_only, extra=means)
    if not allow_duplicates and (repeats := find_repeats(clean, history, config)):
        if not valid_rows_only and not correct:  # correcting a file recorded before: its new rows are in
            raise DataError(f"{len(repeats)} row(s) are already recorded; nothing was recorded "
                            "(pass allow_duplicates=True to record them again)", repeats)
        rejected, clean = rejected + ([] if correct else repeats), clean.drop(index=[p.row for p in repeats])
    summary = read_back.summary_outcomes(table.columns, read_back.read_outcomes(config)) | \
        read_back.unmarked_curve_outcomes(table.columns, config)  # the history's values, measured or predicted
    plan = keep_failed(planning.plan_record(clean, history, config, version, summary=summary, exported_history=(
        ranking.RANKING_NOTE in table.columns), labelled=labelled_cells(measurements) if summary else (),
        exported_status=table["status"].tolist() if "status" in table.columns else None), failed)
    if plan.problems:
        if not valid_rows_only:
            raise DataError(f"the table has {len(plan.problems)} problem(s); nothing was recorded", plan.problems)
        rejected += plan.problems
    return plan, rejected


__all__ = ["plan_table"]
