"""The simulated coating lab as an executor (see :mod:`doe.executors`)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from doe.domain.table import ID_COLUMN
from doe.domain.values import is_integer
from doe.errors import DoeError
from doe.executors.base import (
    BaseExecutor,
    check_timeout,
    empty_results,
)
from doe.simulate.virtual_lab import mark_simulated

if TYPE_CHECKING:
    from doe.simulate import VirtualLab

logger = logging.getLogger("doe.executors")

class VirtualLabExecutor(BaseExecutor):
    """Runs experiments in the simulated coating lab (:class:`doe.simulate.VirtualLab`).

    The lab makes and tests each recipe when it is submitted; its result is then held in a
    queue for a random number of collection rounds, as a cell cycler would hold it, so
    results come back late and out of order. Time is counted in calls of :meth:`collect`,
    not in seconds: the simulation never sleeps. Every result is marked as simulated
    (operator ``"virtual lab"``, a note, ``failure_reason`` starting with ``"virtual lab: "``:
    :func:`doe.simulate.virtual_lab.mark_simulated`).

    Args:
        lab: the virtual lab (default ``VirtualLab(seed)``).
        seed: seed of the lab (when ``lab`` is None) and of the queue delays.
        delay_rounds: each result is held for a number of :meth:`collect` calls drawn
            uniformly from ``0..delay_rounds`` (``0``: every result at the next call), or
            from ``lo..hi`` for a pair ``(lo, hi)``.
        timeout_s: see :class:`BaseExecutor`.
        outcomes: the outcomes to report (a campaign's ``config.outcome_names``: a campaign
            that measures fewer outcomes than the lab simulates gets only its own); default
            every outcome the lab simulates.
        replicates: cells per coated powder (``VirtualLab.run(..., replicates=k)``): each
            experiment's result is ``k`` rows with a ``replicate`` label; default one cell.
    """

    def __init__(
        self,
        lab: VirtualLab | None = None,
        *,
        seed: int | None = 0,
        delay_rounds: int | tuple[int, int] = 0,
        timeout_s: float | None = None,
        outcomes: Sequence[str] | None = None,
        replicates: int | None = None,
    ) -> None:
        if lab is None:
            from doe.simulate import VirtualLab

            lab = VirtualLab(seed)
        self.lab = lab
        self.replicates = replicates
        self.outcomes = tuple(lab.OUTCOMES if outcomes is None else (o for o in lab.OUTCOMES if o in set(outcomes)))
        if is_integer(delay_rounds):
            low, high = 0, delay_rounds
        elif isinstance(delay_rounds, tuple) and len(delay_rounds) == 2:
            low, high = delay_rounds
        else:
            raise DoeError(f"delay_rounds: give a whole number or a pair (lo, hi), got {delay_rounds!r}")
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
            raise DoeError(f"delay_rounds: need whole numbers 0 <= lo <= hi, got {delay_rounds!r}")
        self.delay_rounds = (low, high)
        self.timeout_s = check_timeout(timeout_s)
        self._rng = np.random.default_rng(seed)
        self._tick = 0
        self._queue: list[tuple[int, int, dict[str, Any]]] = []  # (due tick, order, result row)
        self._order = 0
        self._cancelled: set[str] = set()

    def __repr__(self) -> str:
        return f"VirtualLabExecutor(lab={self.lab!r}, delay_rounds={self.delay_rounds})"

    def submit(self, experiments: pd.DataFrame) -> None:
        if experiments.empty:
            return
        names = self.lab.config.parameter_names
        recipes = experiments[[ID_COLUMN, *names]].reset_index(drop=True)
        results = self.lab.run(recipes, replicates=self.replicates)
        keep = [c for c in (ID_COLUMN, "replicate", *self.outcomes, "failed", "failure_reason") if c in results.columns]
        results = mark_simulated(results)  # simulated values say so in the history
        keep += ["operator", "note"]
        low, high = self.delay_rounds
        due_of: dict[str, int] = {}  # the cells of one powder come back together
        for row in results[keep].to_dict("records"):
            due = due_of.setdefault(str(row[ID_COLUMN]), self._tick + 1 + int(self._rng.integers(low, high + 1)))
            self._queue.append((due, self._order, {str(k): v for k, v in row.items()}))
            self._order += 1
        logger.debug("virtual lab: %d experiment(s) submitted", len(recipes))

    def collect(self, timeout_s: float) -> pd.DataFrame:
        self._tick += 1
        ready = [item for item in self._queue if item[0] <= self._tick]
        self._queue = [item for item in self._queue if item[0] > self._tick]
        rows = [row for _, _, row in sorted(ready, key=lambda item: (item[0], -item[1]))
                if str(row[ID_COLUMN]) not in self._cancelled]
        if not rows:
            return empty_results()
        return pd.DataFrame(rows)

    def in_flight(self) -> set[str]:
        return {str(row[ID_COLUMN]) for _, _, row in self._queue} - self._cancelled

    def cancel(self, experiment_ids: Collection[str]) -> None:
        self._cancelled.update(str(i) for i in experiment_ids)


__all__ = ["VirtualLabExecutor"]
