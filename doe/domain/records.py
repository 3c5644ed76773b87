"""The lab's records: experiments with a lifecycle, and measurements of their outcomes.

These are the plain value objects that :class:`doe.Campaign` hands to a store and that a
store hands back; they know nothing of databases.

Lifecycle of an experiment::

    proposed --accept--> running --record outcome--> completed
        |                   |-----mark failed------> failed (with a reason)
        |-------------------+-----abandon----------> abandoned

``proposed`` and ``running`` experiments are *pending*: the engine treats them as under way,
never proposes them again and spreads a new batch away from them. ``completed`` means at
least one outcome has been measured; later outcomes (retention after weeks) join it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import numpy as np

from doe.domain.values import is_integer
from doe.errors import CellProblem, DataError, shorten

ExperimentStatus = Literal["proposed", "running", "completed", "failed", "abandoned"]
STATUSES: tuple[ExperimentStatus, ...] = ("proposed", "running", "completed", "failed", "abandoned")
PENDING_STATUSES: tuple[ExperimentStatus, ...] = ("proposed", "running")
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("running", "completed", "failed", "abandoned"),
    "running": ("completed", "failed", "abandoned"),
    "completed": ("completed", "failed"),
    "failed": ("failed", "completed"),
    "abandoned": (),
}
def wanted_statuses(status: str | Sequence[str]) -> list[str]:
    """The statuses a history is filtered to (``Campaign.history(status=...)``): one or a list of
    :data:`STATUSES`; anything else raises DataError naming ``status`` (a mistyped ``"Completed"``
    matched nothing and gave an empty table, unsaid)."""
    wanted = [status] if isinstance(status, str) else list(status) if isinstance(status, Iterable) else None
    if wanted is None or any(not isinstance(s, str) or s not in STATUSES for s in wanted):
        raise DataError(f"status: give one of {', '.join(map(repr, STATUSES))} or a list of them, got {shorten(status)}")
    return wanted


def checked_flag(value: Any, name: str) -> bool:
    """``value`` as a bool where it is one (numpy's too, and the integers 0 and 1); DataError naming
    ``name`` otherwise (the string ``"no"`` is true to Python)."""
    if isinstance(value, bool | np.bool_) or (isinstance(value, int | np.integer) and value in (0, 1)):
        return bool(value)
    raise DataError(f"{name}: give True or False, got {shorten(value)}")


ExperimentSource = Literal["doe", "import", "manual"]
MAX_REPLICATE = 32
"""Longest replicate (cell) label, in characters."""
MAX_EVIDENCE_BYTES = 50_000_000
"""Largest raw file kept as evidence (bytes); a larger one is refused with a clear error."""
FileKind = Literal["cycling", "impedance"]


@dataclass(frozen=True)
class NewExperiment:
    """An experiment to store. ``experiment_id`` None lets the store assign the next id."""

    parameters: dict[str, Any]
    status: ExperimentStatus
    config_version: int
    experiment_id: str | None = None
    batch_id: str | None = None
    source: ExperimentSource = "doe"
    failure_reason: str | None = None
    seed: int | None = None
    model_settings: dict[str, Any] = field(default_factory=dict)
    package_version: str | None = None
    predictions: dict[str, Any] = field(default_factory=dict)
    """Predicted mean/sd per outcome and acquisition details at proposal time."""
    note: str | None = None
    """Of a ``failed`` experiment: the note of the row that failed it as a whole."""
    operator: str | None = None
    """Of a ``failed`` experiment: who made it."""
    sample_id: str | None = None
    """Of a ``failed`` experiment: the sample's own id."""
    measured_at: datetime | None = None
    """Of a ``failed`` experiment: when it was found failed."""


@dataclass(frozen=True)
class NewExperimentRef:
    """The ``index``-th (0-based) of the new experiments of the same write, before it has an id.

    A measurement or status change names its experiment with one of these when that
    experiment is created by the same write, so new experiments and their results land in
    one transaction. A plain text id is always an experiment id, even one such as ``"#1"``.
    """

    index: int

    def __post_init__(self) -> None:
        if not is_integer(self.index) or self.index < 0:
            raise ValueError(f"NewExperimentRef.index must be a whole number >= 0, got {self.index!r}")

    def __str__(self) -> str:
        return f"new experiment {self.index} of this write"


ExperimentRef = str | NewExperimentRef
"""An experiment named by its id, or by its place among the new experiments of the same write."""


@dataclass(frozen=True)
class NewMeasurement:
    """One measured value of one outcome of one experiment.

    ``replicate`` names the cell when one experiment (one coated powder) is measured in
    several cells ("A", "B", "1", ...); None for an experiment measured without a label.
    Each (experiment, outcome, replicate, cycle) has one current value. ``cycle`` is the
    cycle of a curve outcome's point (``over: cycle``, >= 1); None for any other value.
    """

    experiment_id: ExperimentRef
    outcome: str
    value: float
    unit: str | None = None
    measured_at: datetime | None = None
    note: str | None = None
    replicate: str | None = None
    file_sha256: str | None = None
    """The :class:`EvidenceFile` (of the same write, or stored before) the value was computed from."""
    operator: str | None = None
    """Who measured it (the engineer who ran the cell), when given."""
    sample_id: str | None = None
    """The sample or cell id written on it in the lab, when given."""
    cycle: int | None = None


@dataclass(frozen=True)
class EvidenceFile:
    """A raw instrument file kept with the campaign as the evidence behind measurements.

    ``rule`` holds the inputs of the rule that turned the file into values (active mass,
    reference cycle, circuit); ``parser`` names the reader and its version. Build one with
    :meth:`from_bytes`, which computes ``sha256``; a campaign stores each content once.
    """

    file_name: str
    content: bytes
    sha256: str
    kind: FileKind
    file_format: str
    parser: str
    rule: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, file_name: str, content: bytes, *, kind: FileKind, file_format: str, parser: str,
                   rule: dict[str, Any] | None = None) -> EvidenceFile:
        return cls(file_name=file_name, content=bytes(content), sha256=hashlib.sha256(content).hexdigest(),
                   kind=kind, file_format=file_format, parser=parser, rule=dict(rule or {}))


CellKey = tuple[str, str, str | None, int | None]
"""A value's place: experiment id, outcome, replicate label and cycle (None where unlabelled)."""


@dataclass(frozen=True)
class CarriedEvidence:
    """Evidence files carried with a campaign's values into another campaign
    (:meth:`doe.Campaign.clone`): ``sources`` maps each value's :data:`CellKey` to the SHA-256
    of the file in ``files`` it was computed from."""

    files: tuple[EvidenceFile, ...]
    sources: Mapping[CellKey, str]

    def link(self, measurements: Sequence[NewMeasurement],
             new_experiments: Sequence[NewExperiment]) -> list[NewMeasurement]:
        """``measurements`` each linked to its file, if it had one (a :class:`NewExperimentRef`
        is its experiment in ``new_experiments``, which carries the source's id)."""
        return [replace(m, file_sha256=self.sources.get(
            (str(experiment_id_of(m, new_experiments)), m.outcome, m.replicate, m.cycle))) for m in measurements]


def id_list(experiment_ids: str | Iterable[str]) -> list[str]:
    """One experiment id (``"E0003"``, not five ids ``E``, ``0``, ...) or several, as a list, each
    once in the order given (an id listed twice is one status change, not a change of a change)."""
    if isinstance(experiment_ids, str):
        return [experiment_ids]
    if isinstance(experiment_ids, bytes) or not isinstance(experiment_ids, Iterable):
        raise DataError(f"experiment_ids: give an experiment id or a list of them, got {shorten(experiment_ids)}")
    return list(dict.fromkeys(str(i) for i in experiment_ids))


def near_ids(unknown: Iterable[str], stored: Iterable[str]) -> dict[str, list[str]]:
    """The stored ids each unknown id may have been meant as: equal but for letter case and the
    leading zeros of its numbers (``e0003`` and ``E3`` for ``E0003``)."""

    def key(experiment_id: str) -> str:
        return re.sub(r"(?<!\d)0+(?=\d)", "", experiment_id.strip().casefold())

    by_key: dict[str, list[str]] = {}
    for experiment_id in stored:
        by_key.setdefault(key(str(experiment_id)), []).append(str(experiment_id))
    return {u: by_key[key(u)] for u in unknown if key(u) in by_key}


def experiment_id_of(m: NewMeasurement, new_experiments: Sequence[NewExperiment]) -> str | None:
    """The id of ``m``'s experiment: its own, or that of the new experiment it refers to
    (None when the store is to assign it)."""
    ref = m.experiment_id
    return new_experiments[ref.index].experiment_id if isinstance(ref, NewExperimentRef) else ref


@dataclass(frozen=True)
class CellFailure:
    """A replicate cell of an experiment that gave no result (a cracked pellet), with why.

    Stored per (experiment, ``replicate`` label), whatever the experiment's status: when other
    cells of it were measured the experiment stays completed and this keeps the failed cell.
    """

    experiment_id: ExperimentRef
    replicate: str
    reason: str
    note: str | None = None
    operator: str | None = None
    """Who made the cell."""
    sample_id: str | None = None
    """The cell's own id (the pellet or coin cell that failed)."""
    measured_at: datetime | None = None
    """When it was found failed."""


@dataclass(frozen=True)
class StatusChange:
    """A new status (with a reason for ``failed``/``abandoned``) of one experiment."""

    experiment_id: ExperimentRef
    status: ExperimentStatus
    reason: str | None = None
    note: str | None = None
    """For ``failed``: the note of the row that failed the whole experiment (with ``operator``,
    ``sample_id`` and ``measured_at``, kept with the failure; None: not given)."""
    operator: str | None = None
    sample_id: str | None = None
    measured_at: datetime | None = None


@dataclass(frozen=True)
class WriteReport:
    """What one transactional write did."""

    experiment_ids: list[str] = field(default_factory=list)
    """Ids of the experiments created, in the order given."""
    measurements_added: int = 0
    measurements_unchanged: int = 0
    """Same experiment, outcome and value as already recorded: nothing written (idempotent)."""
    measurements_corrected: int = 0
    measurements_withdrawn: int = 0
    """Current values of cells now failed, made history (superseded), with ``allow_corrections``."""
    status_changes: int = 0
    cell_failures_added: int = 0
    """Failed cells stored (a cell already stored failed for the same reason is not counted)."""
    context_not_stored: list[str] = field(default_factory=list)
    """Unchanged values given with another note, operator, sample id or date, which were not
    stored (they are with ``allow_corrections``), in words."""


@dataclass(frozen=True)
class RecordReport:
    """What :meth:`Campaign.record` did."""

    experiment_ids: list[str]
    """Ids of every experiment the table referred to or created, in table order."""
    created: list[str] = field(default_factory=list)
    measurements_added: int = 0
    measurements_unchanged: int = 0
    measurements_corrected: int = 0
    measurements_withdrawn: int = 0
    """Values (counted as :attr:`measurements_added` counts them: one per cell, outcome and curve
    cycle, not one per cell) of cells marked failed by this call (``correct=True``), or of every
    cell of an experiment it failed as a whole, kept as history (superseded)."""
    rejected: list[CellProblem] = field(default_factory=list)
    """Problems of rows left out (only with ``valid_rows_only=True``)."""
    unit_conversions: list[str] = field(default_factory=list)
    """Columns of an imported file converted to the campaign's units (e.g. K to C), in words."""
    failed_cells: list[str] = field(default_factory=list)
    """Failed replicate cells of experiments that other cells measured, in words ("E0001
    replicate 'C': cracked pellet"): the experiment stays completed, so the report says which
    cells failed; every failed cell is stored (:meth:`doe.Campaign.cell_failures`)."""
    cell_failures_added: int = 0
    """Failed cells stored by this call (one stored before for the same reason is not counted)."""
    context_not_stored: list[str] = field(default_factory=list)
    """Values, failed cells and failed experiments recorded again unchanged but with another
    ``note``, ``operator``, ``sample_id`` or ``measured_at``, in words: not stored, since that replaces what was recorded; record with
    ``correct=True`` to store them."""
    never_made: list[CellProblem] = field(default_factory=list)
    """Rows of an exported file left out: experiments new to this campaign that were never made
    in theirs (proposed, or abandoned)."""
    not_measured: list[CellProblem] = field(default_factory=list)
    """Rows left out of experiments still proposed or running that give no result yet (a run
    sheet filled in part): nothing to record; the experiments stay pending."""
    marked_failed: list[str] = field(default_factory=list)
    """Experiments the table marked failed as a whole (a row with ``failed``/``failure_reason``
    and no replicate label, or every cell of a new one failed)."""
