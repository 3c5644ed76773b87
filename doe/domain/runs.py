"""What a closed-loop run (:func:`doe.runner.run`) is told and tells: its stopping rules,
its progress and its result (value objects, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pandas as pd

from doe.domain.values import is_integer, is_real_number
from doe.errors import DoeError

StopReason = Literal["budget", "target", "patience", "no_proposal"]


@dataclass(frozen=True)
class Stop:
    """When a run stops before its budget is spent (options combine: the first one met wins).

    Attributes:
        target: objective values to reach, e.g. ``{"first_cycle_ce_pct": 92}``: the run stops
            once one completed experiment that meets the outcome constraints reaches every
            value (at least it for a maximised objective, at most for a minimised one; for a
            set-point objective the value is the largest acceptable distance from its target).
        patience: stop after this many finished batches in a row that put no experiment on
            the Pareto front (for one objective: that did not beat the best so far). Counted
            from the start of this run.

    Whatever stops a run, experiments already handed out are still waited for and recorded;
    only new proposals stop.
    """

    target: Mapping[str, float] | None = None
    patience: int | None = None

    def __post_init__(self) -> None:
        if self.target is not None:
            if not isinstance(self.target, Mapping) or not self.target:
                raise DoeError(f"Stop.target: give a mapping of objective name to value, got {self.target!r}")
            clean: dict[str, float] = {}
            for name, value in self.target.items():
                if not is_real_number(value) or not math.isfinite(value):
                    raise DoeError(f"Stop.target[{name!r}]: must be a finite number, got {value!r}")
                clean[str(name)] = float(value)
            object.__setattr__(self, "target", MappingProxyType(clean))
        if self.patience is not None and (
            not is_integer(self.patience) or self.patience < 1
        ):
            raise DoeError(f"Stop.patience: must be a whole number of batches >= 1, got {self.patience!r}")


@dataclass(frozen=True)
class Progress:
    """Where a run stands, handed to ``run(..., on_progress=...)`` whenever it changes.

    Attributes:
        campaign: the campaign's name.
        done: experiments proposed by doe in the campaign that are finished (completed or
            failed): those finished before this run plus those this run handed out that are
            finished since (recorded by the run, or by hand). Never decreases during a run.
        budget: the run's budget (the total ``done`` heads for).
        pending: experiments in flight (handed to the executor, no result yet).
        best: objective name -> value of the best experiment so far (``campaign.best()``'s
            first row); empty while no completed experiment meets the constraints.
    """

    campaign: str
    done: int
    budget: int
    pending: int
    best: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "best", MappingProxyType(dict(self.best)))


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare fields, not results
class RunResult:
    """What :func:`run` did.

    Attributes:
        campaign: the campaign's name.
        stop_reason: ``"budget"`` (spent), ``"target"`` (reached), ``"patience"`` (no
            improvement) or ``"no_proposal"`` (the engine had nothing left to propose).
        message: the stop reason in words.
        experiments: experiments proposed by doe in the campaign, counted against the budget
            (finished and pending, over every run).
        proposed: experiments this run proposed.
        finished: experiments this run recorded as completed or failed (not those finished
            by hand meanwhile).
        failed: of those, the failed ones (including timeouts and invalid results).
        rounds: batches this run proposed.
        best: ``campaign.best()`` at the end (empty when nothing met the constraints).
        pending: ids still pending in the campaign at the end.
        elapsed_s: wall-clock seconds.
    """

    campaign: str
    stop_reason: StopReason
    message: str
    experiments: int
    proposed: int
    finished: int
    failed: int
    rounds: int
    best: pd.DataFrame = field(repr=False)
    pending: tuple[str, ...] = ()
    elapsed_s: float = 0.0


__all__ = ["Progress", "ProgressCallback", "RunResult", "Stop", "StopReason"]
