"""What a closed-loop run (:func:`doe.runner.run`) is told and tells: its stopping rules,
its progress and its result (value objects, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from doe.domain.config import CampaignConfig
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



def check_run(config: CampaignConfig, campaign: str, executor: Any, *, budget: Any, batch_size: Any,
              max_pending: Any, poll_interval_s: Any, on_progress: Any, stop: Stop | None) -> tuple[int, Stop]:
    """The arguments of :func:`doe.runner.run` checked: ``max_pending`` (default ``batch_size``)
    and the stopping rules (default none); DoeError naming the first bad one."""
    for name, value in (("budget", budget), ("batch_size", batch_size)):
        if not is_integer(value) or value < 1:
            raise DoeError(f"{name}: must be a whole number >= 1, got {value!r}")
    if max_pending is None:
        max_pending = batch_size
    if not is_integer(max_pending) or max_pending < 1:
        raise DoeError(f"max_pending: must be a whole number >= 1, got {max_pending!r}")
    if max_pending < batch_size:
        raise DoeError(f"max_pending ({max_pending}) must be at least batch_size ({batch_size})")
    if not is_real_number(poll_interval_s) or poll_interval_s < 0:
        raise DoeError(f"poll_interval_s: a number of seconds >= 0, got {poll_interval_s!r}")
    if on_progress is not None and not callable(on_progress):
        raise DoeError(f"on_progress: give a function that takes a Progress, got {on_progress!r}")
    if not (callable(getattr(executor, "submit", None)) and callable(getattr(executor, "collect", None))):
        raise DoeError(f"executor: needs submit(experiments) and collect(timeout_s) methods, got {executor!r}")
    stop = stop or Stop()
    if stop.target:
        objectives = config.objective_names
        unknown = [k for k in stop.target if k not in objectives]
        if unknown:
            raise DoeError(f"Stop.target: {unknown} are not objectives of campaign {campaign!r}; "
                           f"objectives: {objectives}")
        for o in config.objectives:
            if o.goal == "target" and stop.target.get(o.name, 0.0) < 0:
                raise DoeError(f"Stop.target[{o.name!r}]: for the set-point objective {o.name!r} (target "
                               f"{o.target}) the stop value is the largest acceptable distance from it, a number "
                               f">= 0; got {stop.target[o.name]}")
    return int(max_pending), stop

__all__ = ["Progress", "ProgressCallback", "RunResult", "Stop", "StopReason", "check_run"]
