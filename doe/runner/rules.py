"""The closed loop's rules of thumb: what counts against the budget, how long a reason may be,
how often an executor may fail, which errors are the database's, and when the campaign a run
works on was replaced under it."""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping

import pandas as pd

from doe.domain.file_rows import file_problems
from doe.domain.records import RecordReport
from doe.domain.table import ID_COLUMN
from doe.errors import (
    ArchivedCampaignError,
    CellProblem,
    ConcurrentChangeError,
    DataError,
    StoreUnavailableError,
)

FINISHED_STATUSES = ("completed", "failed")
MAX_REASON = 500
EXECUTOR_ATTEMPTS = 5
"""Calls of the executor's submit or collect that may fail in a row (waiting 1, 2, 4, 8 poll
intervals, the interval at least 0.05 s, between them) before the run stops with an ExecutorError."""


def counts(history: pd.DataFrame) -> pd.Series:
    """Which experiments count against the budget: proposed by doe, not abandoned."""
    by_doe = history["source"] == "doe" if "source" in history.columns else pd.Series(True, index=history.index)
    return by_doe & (history["status"] != "abandoned")


def records_nothing(report: RecordReport) -> bool:
    """Whether a record() stored nothing and found nothing recorded before."""
    return not (report.measurements_added or report.measurements_unchanged or report.measurements_corrected
                or report.marked_failed or report.created or report.cell_failures_added or report.failed_cells)


def counted(history: pd.DataFrame) -> int:
    """Experiments proposed by doe that count against the budget (all but abandoned)."""
    return 0 if history.empty else int(counts(history).sum())


STORE_TROUBLE = (StoreUnavailableError, ConcurrentChangeError, ArchivedCampaignError)
"""Errors of the database, not of the results: the results are kept (recorded later, or, for an
archived campaign, named as the run ends)."""

TIMED_OUT = "timed out after"
"""How the failure reason of an experiment this runner gave up waiting for starts."""


def timed_out_rows(table: pd.DataFrame, history: pd.DataFrame) -> list[bool]:
    """Which rows of results ``table`` are of experiments the runner failed as timed out."""
    failed = history[history["status"] == "failed"]
    reasons = failed["failure_reason"].fillna("").astype(str) if "failure_reason" in failed.columns else \
        pd.Series("", index=failed.index)
    timed_out = set(failed.loc[reasons.str.startswith(TIMED_OUT), ID_COLUMN].astype(str))
    return table[ID_COLUMN].isin(timed_out).tolist()


def unknown_ids_error(results: pd.DataFrame, mistyped: Mapping[str, str], name: str) -> DataError:
    """Why ``results`` are not recorded: the rows whose experiment id is a mistyped form of one of
    campaign ``name``'s (``mistyped``: the id as given -> the stored one it differs from only in
    case, spaces or zeros a spreadsheet drops), each named by its row of the file where the
    results came from one."""
    problems = [CellProblem(k, ID_COLUMN, exp_id, f"no experiment {exp_id!r} in campaign {name!r}: it differs from "
                            f"{mistyped[exp_id]!r} only in case, spaces or zeros; give the id as the run sheet "
                            "writes it")
                for k, exp_id in enumerate(results[ID_COLUMN].astype(str)) if exp_id in mistyped]
    return DataError(f"{len(problems)} row(s) name an experiment that is not in the campaign; nothing was recorded",
                     file_problems(problems, results))


def short_reason(text: str) -> str:
    """``text`` on one line, cut to :data:`MAX_REASON` characters (a stored failure reason)."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def replaced(name: str, handed_out: Collection[str], recorded: Mapping[str, str], history: pd.DataFrame,
             revision_before: int, revision: int) -> str | None:
    """Why campaign ``name`` is no longer the one a run wrote to, or None.

    No write of the run or of anyone else deletes an experiment, takes a finished one back to
    pending or makes the revision smaller; a restored backup, or the campaign deleted and made
    again, does. So the campaign was replaced when an experiment the run handed out
    (``handed_out``) is no longer stored, one it recorded results for (``recorded``: experiment
    id -> where the results came from) is no longer finished, or the ``revision`` is below the
    ``revision_before`` the run saw or wrote last. The two revisions are quoted only when they
    show that drop (a restore may land back on the number the run saw, or after it was read).
    """
    status = history.set_index(ID_COLUMN)["status"] if len(history) else pd.Series(dtype=object)
    gone = [i for i in handed_out if i not in status.index]
    undone = [i for i in recorded if status.get(i) not in FINISHED_STATUSES]
    if not gone and not undone and revision >= revision_before:
        return None
    lost = sorted({recorded[i] for i in undone})
    dropped = f" (revision {revision_before} -> {revision})" if revision < revision_before else ""
    return (f"campaign {name!r} was restored from a backup or replaced while this run was going{dropped}"
            + (f"; experiments this run handed out are no longer stored: {', '.join(gone)}" if gone else "")
            + (f"; results this run recorded are no longer stored: {', '.join(undone)} (from {', '.join(lost)})"
               if undone else "")
            + ". The run stopped and proposed nothing more. Check the campaign (doe status --campaign "
            f"{shlex.quote(name)}), record the results named again where their experiments are still stored (a "
            "results file recorded is in the exchange folder's processed/: doe record FILE), throw away run sheets "
            "of experiments no longer stored, then start the run again")
