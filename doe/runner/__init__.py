"""The closed loop: propose, hand the batch to an executor, record what comes back, repeat.

::

    from doe import Campaign, run
    from doe.executors import VirtualLabExecutor
    from doe.runner import Stop

    campaign = Campaign.from_config("hfo2-ncm85", storage="coating.sqlite3")
    result = run(campaign, VirtualLabExecutor(seed=0), budget=30, batch_size=3,
                 stop=Stop(target={"first_cycle_ce_pct": 92}))
    result.best

Every piece of state lives in the campaign's store, so a run that was killed is continued
by calling :func:`run` again with the same budget: experiments still pending (proposed or
running) are handed to the executor again unless it reports them under way, and new ones
are proposed only for the slots they leave free. The engine never proposes a recipe that is
pending, and the runner never proposes more than the budget: where two runs on one campaign
each counted the budget left before the other stored its batch, the experiments beyond the
budget are abandoned at once by the run that proposed them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from doe.domain.runs import Progress, ProgressCallback, RunResult, Stop, check_run
from doe.runner.loop import RunLoop
from doe.runner.rules import EXECUTOR_ATTEMPTS, FINISHED_STATUSES, MAX_REASON, TIMED_OUT

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.executors import Executor


def run(
    campaign: Campaign,
    executor: Executor,
    budget: int,
    batch_size: int = 3,
    stop: Stop | None = None,
    *,
    max_pending: int | None = None,
    poll_interval_s: float = 1.0,
    on_progress: ProgressCallback | None = None,
    fixed: dict[str, Any] | None = None,
    candidates: pd.DataFrame | None = None,
) -> RunResult:
    """Run a closed-loop campaign until the budget is spent or ``stop`` says so.

    Args:
        campaign: the campaign (its store holds every piece of state).
        executor: who runs the experiments (:mod:`doe.executors`).
        budget: the campaign's total number of doe-proposed experiments, finished and
            pending, previous runs included: a restarted run continues towards the same
            total. Abandoned experiments do not count.
        batch_size: experiments per proposal (e.g. the furnace's capacity).
        stop: extra stopping rules (target value, patience).
        max_pending: experiments in flight at most (default ``batch_size``: wait for a
            batch before proposing the next). A larger value lets the runner propose a new
            batch while earlier ones are still running, treating those as pending. A batch
            is proposed once ``batch_size`` slots are free (fewer for the last one).
        poll_interval_s: seconds to wait for results per call of ``executor.collect`` when
            no batch can be proposed.
        on_progress: called with a :class:`Progress` at the start and whenever experiments
            finish or the best so far changes (the ``doe run`` command draws its progress
            bar from it). The library itself draws nothing.
        fixed: parameter values held in every batch (see :meth:`Campaign.suggest`).
        candidates: choose every batch among these recipes (see :meth:`Campaign.suggest`).

    Returns:
        A :class:`RunResult`.

    Raises:
        DoeError: invalid arguments (budget, batch size, a target that is no objective).
        ExecutorError: the executor's ``submit`` or ``collect`` raised ``EXECUTOR_ATTEMPTS``
            times in a row (an exception there is the executor's trouble, not a result: it
            fails no experiment; the ones under way stay pending for the next run).
        KeyboardInterrupt: passes through; experiments under way stay pending in the store
            and a later run picks them up.
    """
    max_pending, stop = check_run(campaign.config, campaign.name, executor, budget=budget, batch_size=batch_size,
                                  max_pending=max_pending, poll_interval_s=poll_interval_s, on_progress=on_progress,
                                  stop=stop)
    loop = RunLoop(campaign, executor, budget, batch_size, max_pending, float(poll_interval_s), stop,
                 fixed, candidates, on_progress)
    return loop.run()


__all__ = ["EXECUTOR_ATTEMPTS", "FINISHED_STATUSES", "MAX_REASON", "TIMED_OUT", "Progress", "ProgressCallback",
           "RunResult", "Stop", "run"]
