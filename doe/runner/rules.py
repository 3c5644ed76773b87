"""The closed loop's rules of thumb: what counts against the budget, how long a reason may be,
how often an executor may fail, and which errors are the database's."""

from __future__ import annotations

import pandas as pd

from doe.domain.records import RecordReport
from doe.errors import ArchivedCampaignError, ConcurrentChangeError, StoreUnavailableError

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


def short_reason(text: str) -> str:
    """``text`` on one line, cut to :data:`MAX_REASON` characters (a stored failure reason)."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."
