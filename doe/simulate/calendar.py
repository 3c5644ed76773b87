"""Calendar time for the virtual lab: a furnace, cell channels and results that arrive over weeks.

A campaign on a real cycler is limited by time, not by the number of experiments. This
module simulates the lab's calendar (no real sleeping) with an event queue (:mod:`heapq`):

* **Synthesis and anneal** take :attr:`CalendarSettings.synthesis_days` per batch (one
  furnace run per batch); the furnace takes the next batch when it is free. A dispersion
  that gels fails at the end of the synthesis: the failure is known then and its channel
  is free again.
* **First-cycle results** (CE, discharge capacity and every other one-off outcome: rate,
  resistance, thickness) arrive :attr:`CalendarSettings.first_results_days` after the
  batch starts (synthesis, cell assembly and the formation cycle, about a week).
* **Cycling**: the formation cycle is cycle 1; cycle ``k`` ends ``(k - 1) * cycle_hours``
  later. The default 7.5 h is a C/3 charge and discharge with rests, so 200 cycles take
  about 62 days (9-10 weeks from the batch start). Curve points are uploaded from the cycler
  every :attr:`CalendarSettings.upload_days` (the points measured since the last upload);
  the point at cycle ``at`` arrives when it is measured.
* **Channels**: :attr:`CalendarSettings.channels` cell channels (default 16); an experiment
  holds :attr:`CalendarSettings.cells_per_experiment` of them from its batch's start (the
  channel is booked for the cell being built) until its cell reaches cycle ``at``, fails,
  or is stopped (:meth:`CalendarLab.stop`).

The cells' values come from :class:`~doe.simulate.VirtualLab` (the noisy 200-cycle retention
of the cell, first-cycle outcomes with their noise) and their curves from
:func:`~doe.simulate.curves.retention_curve`, seeded per cell: the same seed and the same
proposals give the same calendar. Times are hours since the campaign's start.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from doe.domain import CampaignConfig
from doe.domain.table import ID_COLUMN
from doe.domain.values import is_integer, is_real_number
from doe.errors import DataError
from doe.simulate.curves import retention_curve
from doe.simulate.virtual_lab import OUTCOMES, VirtualLab, mark_simulated

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 168.0
CURVE_OUTCOME = "capacity_retention_pct"
"""The virtual lab's outcome measured cycle by cycle."""
CE_THRESHOLD_PCT = 80.0
"""The calendar campaign's CE constraint: the template's threshold of ``first_cycle_ce_pct``."""

ArrivalKind = Literal["failed", "first", "points", "final"]


@dataclass(frozen=True)
class CalendarSettings:
    """The lab's calendar (defaults: a small solid-state cell lab).

    Attributes:
        channels: cell channels of the cycler.
        cells_per_experiment: channels one experiment holds (one cell each; the first cell's
            curve is the one recorded).
        synthesis_days: dispersion, coating, drying and anneal of one batch (one furnace run).
        first_results_days: from a batch's start to its first-cycle results (synthesis, cell
            assembly, formation cycle).
        cycle_hours: one charge-discharge cycle after formation (C/3 with rests: 7.5 h).
        upload_days: cycler data are uploaded this often (the points since the last upload).
        at: the cycle whose value matters (the cell stops there and frees its channel).
        batch_size: experiments per furnace run at most.
    """

    channels: int = 16
    cells_per_experiment: int = 1
    synthesis_days: float = 3.0
    first_results_days: float = 7.0
    cycle_hours: float = 7.5
    upload_days: float = 1.0
    at: int = 200
    batch_size: int = 4

    def __post_init__(self) -> None:
        for name in ("channels", "cells_per_experiment", "at", "batch_size"):
            value = getattr(self, name)
            if not is_integer(value) or value < 1:
                raise DataError(f"calendar {name}: a whole number >= 1, got {value!r}")
        for name in ("synthesis_days", "first_results_days", "cycle_hours", "upload_days"):
            value = getattr(self, name)
            if not is_real_number(value) or not math.isfinite(value) or value <= 0:
                raise DataError(f"calendar {name}: a positive number, got {value!r}")
        if self.first_results_days < self.synthesis_days:
            raise DataError(f"calendar first_results_days ({self.first_results_days}) must not be before the "
                            f"synthesis ends (synthesis_days {self.synthesis_days})")
        if self.cells_per_experiment > self.channels:
            raise DataError(f"calendar cells_per_experiment ({self.cells_per_experiment}) exceeds the "
                            f"{self.channels} channels")

    def days_to_at(self) -> float:
        """Days from a batch's start to its cells' cycle ``at``."""
        return self.first_results_days + (self.at - 1) * self.cycle_hours / HOURS_PER_DAY


@dataclass(frozen=True, eq=False)  # holds a DataFrame
class Arrival:
    """Results that reach the lab's database at ``time_h``.

    Attributes:
        time_h: hours since the campaign's start.
        experiment_id: whose results.
        kind: ``"failed"`` (no cell built), ``"first"`` (first-cycle outcomes), ``"points"``
            (curve points since the last upload) or ``"final"`` (the point at cycle ``at``).
        rows: the rows to record, in the campaign's columns (``cycle`` for curve points).
    """

    time_h: float
    experiment_id: str
    kind: ArrivalKind
    rows: pd.DataFrame = field(repr=False)


def calendar_config(lab_config: CampaignConfig, *, at: int = 200, name: str | None = None) -> CampaignConfig:
    """The virtual lab's campaign for calendar time: maximise ``capacity_retention_pct`` at
    cycle ``at`` (a curve outcome) subject to ``first_cycle_ce_pct >= 80`` (the template's CE
    threshold) and the template's ``coating_thickness_nm <= 15``; every other outcome is
    recorded, not optimised."""
    data = lab_config.to_dict()
    objectives = [o for o in data["objectives"] if o["name"] == CURVE_OUTCOME]
    if not objectives:
        raise DataError(f"the lab's configuration has no objective {CURVE_OUTCOME!r}")
    objectives[0] = {**objectives[0], "over": "cycle", "at": int(at)}
    others = [{k: v for k, v in o.items() if k in ("name", "unit", "description")}
              for o in data["objectives"] if o["name"] != CURVE_OUTCOME]
    data["objectives"] = objectives
    data["outcomes"] = others + list(data.get("outcomes", []))
    data["constraints"] = [f"first_cycle_ce_pct >= {CE_THRESHOLD_PCT:g}", *data.get("constraints", [])]
    if name is not None:
        data["name"] = name
    return CampaignConfig.from_dict(data)


@dataclass
class _Cell:
    experiment_id: str
    channels: int
    curve: pd.DataFrame | None = None  # cycle, retention_pct (measured); None: the run failed
    first: pd.Series | None = None  # the lab's first-cycle outcomes
    failure_reason: str | None = None
    first_h: float = 0.0
    uploaded_to: int = 0  # last cycle uploaded
    done: bool = False


class CalendarLab:
    """The virtual lab in calendar time: start batches, advance the clock, collect arrivals.

    Args:
        lab: the virtual lab that makes and tests the recipes (its seed seeds the outcomes).
        settings: the calendar.
        curve_points: upload curve points as they are measured (``False``: only the point at
            cycle ``at``, when it arrives: an optimiser that waits for the end of the cycling).
        seed: seeds the cells' curve shapes and cycler noise.
    """

    def __init__(self, lab: VirtualLab, settings: CalendarSettings | None = None, *, curve_points: bool = True,
                 seed: int = 0) -> None:
        self.lab = lab
        self.settings = settings or CalendarSettings()
        self.curve_points = bool(curve_points)
        self.seed = int(seed)
        self.now_h = 0.0
        self.furnace_free_h = 0.0
        self.max_busy = 0
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.finished: list[str] = []
        self.failed: list[str] = []
        self._cells: dict[str, _Cell] = {}
        self._queue: list[tuple[float, int, str, str]] = []  # (time, order, experiment id, kind)
        self._order = 0

    # ----------------------------------------------------------------- channels
    @property
    def busy_channels(self) -> int:
        """Channels held now."""
        return sum(c.channels for c in self._cells.values() if not c.done)

    def free_slots(self) -> int:
        """Experiments that could start now: 0 while the furnace is busy, else the free
        channels' worth, at most ``batch_size``."""
        if self.now_h < self.furnace_free_h:
            return 0
        free = (self.settings.channels - self.busy_channels) // self.settings.cells_per_experiment
        return max(0, min(free, self.settings.batch_size))

    def cycling(self) -> list[str]:
        """Experiments whose cells are on the cycler now."""
        return [k for k, c in self._cells.items() if not c.done and c.curve is not None and c.first_h <= self.now_h]

    def holds_channel(self, experiment_id: str) -> bool:
        """Whether ``experiment_id`` holds channels now."""
        cell = self._cells.get(str(experiment_id))
        return cell is not None and not cell.done

    # ----------------------------------------------------------------- events
    def start_batch(self, recipes: pd.DataFrame) -> None:
        """Start a furnace run of ``recipes`` (``experiment_id`` and the lab's parameters) now.

        Raises:
            DataError: the furnace is busy, there are not enough free channels, or an id is
                already in the lab.
        """
        n = len(recipes)
        if n == 0:
            return
        if n > self.free_slots():
            raise DataError(f"cannot start {n} experiment(s) at day {self.now_h / HOURS_PER_DAY:.1f}: "
                            f"{self.free_slots()} slot(s) free (channels {self.busy_channels}/{self.settings.channels}"
                            f" busy, furnace free at day {self.furnace_free_h / HOURS_PER_DAY:.1f})")
        ids = recipes[ID_COLUMN].astype(str).tolist()
        if repeated := [i for i in ids if i in self._cells]:
            raise DataError(f"experiment_id {repeated} already started in the calendar lab")
        results = self.lab.run(recipes)
        s = self.settings
        self.furnace_free_h = self.now_h + s.synthesis_days * HOURS_PER_DAY
        for exp_id, (_, row) in zip(ids, results.iterrows(), strict=True):
            cell = _Cell(exp_id, s.cells_per_experiment)
            self._cells[exp_id] = cell
            self.started.append(exp_id)
            if bool(row["failed"]):
                self._push(self.furnace_free_h, exp_id, "failed")
                cell.failure_reason = str(row["failure_reason"])
                continue
            cell.first_h = self.now_h + s.first_results_days * HOURS_PER_DAY
            curve_seed = self.seed * 1_000_003 + len(self.started)
            curve = retention_curve(float(row[CURVE_OUTCOME]), s.at, at=s.at, seed=curve_seed)
            cell.curve = curve[["cycle", "retention_pct"]]
            cell.first = row
            self._push(cell.first_h, exp_id, "first")
            final_h = cell.first_h + (s.at - 1) * s.cycle_hours
            if self.curve_points:
                upload_h = s.upload_days * HOURS_PER_DAY
                tick = math.floor(cell.first_h / upload_h + 1) * upload_h
                while tick < final_h:
                    self._push(tick, exp_id, "points")
                    tick += upload_h
            self._push(final_h, exp_id, "final")
        self.max_busy = max(self.max_busy, self.busy_channels)

    def next_time(self) -> float | None:
        """When the next result arrives (hours), None when nothing is on its way."""
        return self._queue[0][0] if self._queue else None

    def advance(self, until_h: float) -> list[Arrival]:
        """Move the clock to ``until_h`` and return what arrived by then, in arrival order."""
        if until_h < self.now_h:
            raise DataError(f"the calendar cannot go back from hour {self.now_h:g} to {until_h:g}")
        arrivals = []
        while self._queue and self._queue[0][0] <= until_h:
            time_h, _, exp_id, kind = heapq.heappop(self._queue)
            cell = self._cells[exp_id]
            if cell.done:
                continue  # stopped: its later events never happen
            arrival = self._arrival(time_h, cell, kind)  # type: ignore[arg-type]
            if arrival is not None:
                arrivals.append(arrival)
        self.now_h = float(until_h)
        return arrivals

    def stop(self, experiment_id: str) -> Arrival | None:
        """Take a cycling cell off its channel now: the points measured since the last upload
        arrive now (returned), no later point ever does, and the channel is free."""
        cell = self._cells.get(str(experiment_id))
        if cell is None or cell.done or cell.curve is None or cell.first_h > self.now_h:
            raise DataError(f"experiment {experiment_id!r} has no cell cycling at day {self.now_h / 24:.1f}")
        measured = 1 + int((self.now_h - cell.first_h) // self.settings.cycle_hours)
        arrival = self._points(self.now_h, cell, min(measured, self.settings.at - 1), "points")
        cell.done = True
        self.stopped.append(cell.experiment_id)
        return arrival

    # ----------------------------------------------------------------- helpers
    def _push(self, time_h: float, exp_id: str, kind: str) -> None:
        self._order += 1
        heapq.heappush(self._queue, (time_h, self._order, exp_id, kind))

    def _arrival(self, time_h: float, cell: _Cell, kind: ArrivalKind) -> Arrival | None:
        if kind == "failed":
            cell.done = True
            self.failed.append(cell.experiment_id)
            rows = pd.DataFrame({ID_COLUMN: [cell.experiment_id], "failed": [True],
                                 "failure_reason": [cell.failure_reason]})
            return Arrival(time_h, cell.experiment_id, kind, rows)
        if kind == "first":
            first = cell.first
            assert first is not None
            values = {o: [float(first[o])] for o in OUTCOMES if o != CURVE_OUTCOME}
            rows = pd.DataFrame({ID_COLUMN: [cell.experiment_id], **values})
            if self.curve_points:  # the formation cycle is the curve's first point
                point = self._points(time_h, cell, 1, kind)
                assert point is not None
                rows = pd.concat([rows, point.rows], ignore_index=True)
            return Arrival(time_h, cell.experiment_id, kind, rows)
        if kind == "final":
            cell.done = True
            self.finished.append(cell.experiment_id)
            if not self.curve_points:
                cell.uploaded_to = self.settings.at - 1
            return self._points(time_h, cell, self.settings.at, kind)
        measured = 1 + int((time_h - cell.first_h) // self.settings.cycle_hours)
        return self._points(time_h, cell, min(measured, self.settings.at - 1), kind)

    def _points(self, time_h: float, cell: _Cell, up_to: int, kind: ArrivalKind) -> Arrival | None:
        assert cell.curve is not None
        if up_to <= cell.uploaded_to:
            return None
        part = cell.curve.iloc[cell.uploaded_to:up_to]
        cell.uploaded_to = up_to
        rows = pd.DataFrame({ID_COLUMN: cell.experiment_id, "cycle": part["cycle"].to_numpy(),
                             CURVE_OUTCOME: part["retention_pct"].to_numpy()})
        return Arrival(time_h, cell.experiment_id, kind, rows)


def arrivals_table(arrivals: list[Arrival]) -> pd.DataFrame:
    """One results table of ``arrivals`` (rows in arrival order), for ``Campaign.record``, every
    row marked as simulated (:func:`doe.simulate.virtual_lab.mark_simulated`)."""
    frames = [a.rows for a in sorted(arrivals, key=lambda a: a.time_h)]
    table = mark_simulated(pd.concat(frames, ignore_index=True))
    if "failed" in table.columns:
        table["failed"] = table["failed"].astype("boolean").fillna(False).astype(bool)
    return table


def true_value_at(lab: VirtualLab, recipes: pd.DataFrame) -> np.ndarray:
    """Noise-free 200-cycle retention of ``recipes`` (what a recommendation is really worth)."""
    return lab.truth(recipes)[CURVE_OUTCOME].to_numpy(dtype=float)


__all__ = ["CE_THRESHOLD_PCT", "CURVE_OUTCOME", "HOURS_PER_DAY", "HOURS_PER_WEEK", "Arrival", "CalendarLab",
           "CalendarSettings", "arrivals_table", "calendar_config", "true_value_at"]
