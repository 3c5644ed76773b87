"""A closed-loop campaign in simulated calendar time (no real sleeping).

::

    from doe import Campaign
    from doe.calendar_run import run_calendar
    from doe.domain.early_stop import EarlyStop
    from doe.simulate import VirtualLab
    from doe.simulate.calendar import CalendarLab, calendar_config

    lab = VirtualLab(seed=0)
    campaign = Campaign.from_config(calendar_config(lab.config, name="weeks"), storage="weeks.sqlite3")
    result = run_calendar(campaign, CalendarLab(lab, seed=0), budget=60, weeks=52, early_stop=EarlyStop())
    result.best_over_time

The clock moves a day at a time (days when nothing arrives and nothing can start are
skipped). Each day: results that arrived by the end of the day are recorded in arrival order
(one ``record`` call per day); the early-stopping rule, if given, stops cells that cannot
plausibly win (:mod:`doe.domain.early_stop`); then, when the furnace is free and channels
are free, doe proposes a batch for them (at most one proposal per simulated day). Unlike
:func:`doe.runner.run` there is no resuming: the calendar lives in memory, so the campaign
must have nothing pending when the run starts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from doe.domain.curves import PRED_SD_SUFFIX
from doe.domain.early_stop import EarlyStop, cells_to_stop, recommended
from doe.domain.records import PENDING_STATUSES
from doe.domain.table import ID_COLUMN
from doe.domain.values import is_integer, is_real_number
from doe.errors import DoeError
from doe.simulate.calendar import (
    HOURS_PER_DAY,
    HOURS_PER_WEEK,
    Arrival,
    CalendarLab,
    arrivals_table,
)

if TYPE_CHECKING:
    from doe.campaign import Campaign

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)  # holds DataFrames
class CalendarResult:
    """What :func:`run_calendar` did.

    Attributes:
        campaign: the campaign's name.
        weeks: simulated weeks from the start to the last result recorded (or the horizon).
        started: experiments started (furnace runs begun).
        finished: cells that reached cycle ``at``.
        stopped: cells stopped early (their channel freed, no value at ``at``).
        failed: runs that failed (no cell built).
        rounds: batches proposed.
        max_channels_busy: the most channels held at once.
        best: the recommended experiment at the end (history row; empty if none is feasible).
        best_over_time: one row per change of the recommendation: ``week``,
            ``experiment_id``, the objective's value (measured, or predicted while cycling)
            and its ``_pred_sd``.
        log: one row per arrival recorded: ``recorded_h`` (when it was recorded),
            ``arrival_h`` (when it arrived), ``experiment_id``, ``kind`` and ``rows``.
    """

    campaign: str
    weeks: float
    started: int
    finished: int
    stopped: int
    failed: int
    rounds: int
    max_channels_busy: int
    best: pd.DataFrame = field(repr=False)
    best_over_time: pd.DataFrame = field(repr=False)
    log: pd.DataFrame = field(repr=False)


def run_calendar(campaign: Campaign, lab: CalendarLab, budget: int, *, weeks: float = 52.0,
                 early_stop: EarlyStop | None = None, min_cycles: int = 20) -> CalendarResult:
    """Run ``campaign`` on ``lab`` in simulated calendar time.

    Args:
        campaign: a campaign on the lab's parameters with the lab's curve outcome
            (:func:`doe.simulate.calendar.calendar_config`), nothing pending.
        lab: the calendar lab (its settings: channels, cycle time, uploads).
        budget: experiments doe proposes in this run at most.
        weeks: the horizon: no result after it is recorded, no batch starts after it.
        early_stop: stop cells by this rule (None: every cell cycles to ``at``).
        min_cycles: a still-cycling experiment is recommended (by its predicted value) only
            once it has this many cycles (:func:`doe.domain.early_stop.recommended`).

    Raises:
        DoeError: a bad budget or horizon, or experiments pending in the campaign.
    """
    if not is_integer(budget) or budget < 1:
        raise DoeError(f"budget: a whole number of experiments >= 1, got {budget!r}")
    if not is_real_number(weeks) or not 0 < weeks < math.inf:
        raise DoeError(f"weeks: a positive number of simulated weeks, got {weeks!r}")
    history = campaign.history()
    if history["status"].isin(PENDING_STATUSES).any():
        raise DoeError(f"campaign {campaign.name!r} has pending experiments; a calendar simulation starts with "
                       "none (abandon them or use a new campaign)")
    config = campaign.config
    horizon_h = float(weeks) * HOURS_PER_WEEK
    objective = config.objectives[0].name
    proposed = rounds = 0
    log: list[dict[str, object]] = []
    best_rows: list[dict[str, object]] = []
    last_best: tuple[str, float] | None = None
    while True:
        n = min(lab.free_slots(), budget - proposed)
        if n >= 1 and lab.now_h < horizon_h:
            batch = campaign.suggest(n)
            if batch.empty:
                budget = proposed  # nothing left to propose
            else:
                campaign.accept(batch[ID_COLUMN].astype(str).tolist())
                lab.start_batch(batch)
                proposed += len(batch)
                rounds += 1
                logger.info("day %.0f: batch %d, %d experiment(s) started", lab.now_h / HOURS_PER_DAY, rounds,
                            len(batch))
        wake = lab.next_time()
        if proposed < budget and lab.furnace_free_h > lab.now_h:
            wake = lab.furnace_free_h if wake is None else min(wake, lab.furnace_free_h)
        if wake is None:
            break
        day_end = max(math.ceil(wake / HOURS_PER_DAY), math.floor(lab.now_h / HOURS_PER_DAY) + 1) * HOURS_PER_DAY
        if day_end > horizon_h:
            lab.advance(horizon_h)
            break
        arrivals = lab.advance(day_end)
        history = _record(campaign, arrivals, day_end, log) if arrivals else history
        if early_stop is not None and arrivals:
            stops = [i for i in cells_to_stop(history, config, early_stop) if lab.holds_channel(i)]
            taken = [a for i in stops if (a := lab.stop(i)) is not None]
            if stops:
                logger.info("day %.0f: stopped %s", day_end / HOURS_PER_DAY, stops)
                history = _record(campaign, taken, day_end, log) if taken else campaign.history()
        if arrivals:
            best = recommended(history, config, min_cycles)
            if not best.empty:
                key = (str(best[ID_COLUMN].iloc[0]), float(best[objective].iloc[0]))
                if key != last_best:
                    last_best = key
                    sd_col = objective + PRED_SD_SUFFIX
                    best_rows.append({"week": day_end / HOURS_PER_WEEK, ID_COLUMN: key[0], objective: key[1],
                                      sd_col: float(best[sd_col].iloc[0]) if sd_col in best.columns else 0.0})
    final = recommended(campaign.history(), config, min_cycles)
    return CalendarResult(
        campaign=campaign.name, weeks=lab.now_h / HOURS_PER_WEEK, started=len(lab.started),
        finished=len(lab.finished), stopped=len(lab.stopped), failed=len(lab.failed), rounds=rounds,
        max_channels_busy=lab.max_busy, best=final,
        best_over_time=pd.DataFrame(best_rows, columns=["week", ID_COLUMN, objective, objective + PRED_SD_SUFFIX]),
        log=pd.DataFrame(log, columns=["recorded_h", "arrival_h", ID_COLUMN, "kind", "rows"]))


def _record(campaign: Campaign, arrivals: list[Arrival], now_h: float, log: list[dict[str, object]]) -> pd.DataFrame:
    """Record ``arrivals`` in one call (arrival order) and return the new history."""
    campaign.record(arrivals_table(arrivals))
    for a in sorted(arrivals, key=lambda a: a.time_h):
        log.append({"recorded_h": now_h, "arrival_h": a.time_h, ID_COLUMN: a.experiment_id, "kind": a.kind,
                    "rows": len(a.rows)})
    return campaign.history()


__all__ = ["CalendarResult", "run_calendar"]
