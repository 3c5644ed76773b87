"""A write's input checked before its transaction starts (:func:`check_write`): types,
lengths, finite numbers and evidence files, so that :mod:`doe.storage.write` works on checked
rows only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from doe.domain.failure_context import HISTORY_COLUMNS
from doe.domain.records import (
    MAX_REPLICATE,
    STATUSES,
    CellFailure,
    EvidenceFile,
    ExperimentRef,
    ExperimentStatus,
    NewExperiment,
    NewMeasurement,
    StatusChange,
)
from doe.domain.values import MAX_CATEGORY_LABEL, MAX_UNIT, is_integer
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage.cells import PlannedFailure, prepare_cell_failure
from doe.storage.evidence import prepare_file
from doe.storage.snapshot import CampaignState
from doe.storage.values import (
    MAX_ACTOR,
    MAX_ITEMS_PER_WRITE,
    OUTCOME_NAME,
    check_cycle,
    check_finite,
    check_label,
    check_reference,
    check_text,
    dumps_json,
    shorten,
)


@dataclass
class PlannedMeasurement:
    """A checked measurement on its way into the database.

    ``target`` is the experiment as the caller named it; ``experiment_id`` its id once known
    (at once for a text id, in the transaction for a :class:`NewExperimentRef`).
    """

    target: ExperimentRef
    outcome: str
    value: float
    unit: str | None
    measured_at: datetime | None
    note: str | None
    replicate: str = ""
    """The cell's label; '' for an unlabelled measurement (see :mod:`doe.storage.schema`)."""
    cycle: int = 0  # a curve point's cycle; 0 for a value that is not one (see doe.storage.schema)
    experiment_id: str = ""
    correction_of: float | None = None
    replaces_unlabelled: float | None = None
    """A labelled cell's value that supersedes the experiment's value of this outcome recorded
    without a label (that stored value), a correction; ``None`` otherwise."""
    file_sha256: str | None = None
    file_id: int | None = None
    operator: str | None = None
    sample_id: str | None = None


@dataclass(frozen=True)
class ResolvedChange:
    """A status change whose experiment is named by its id."""

    experiment_id: str
    status: ExperimentStatus
    reason: str | None
    context: dict[str, Any] = field(default_factory=dict)
    """The failure's ``note``, ``operator``, ``sample_id`` and ``measured_at`` where given."""


@dataclass(frozen=True)
class CheckedWrite:
    """A write's input after the checks that need no database (see :func:`check_write`)."""

    actor: str
    audit_action: str | None
    experiments: list[dict[str, Any]]
    measurements: list[PlannedMeasurement]
    status_changes: list[StatusChange]
    files: list[dict[str, Any]] = field(default_factory=list)
    """The ``evidence_files`` rows of the write's files (without campaign, uploader and time)."""
    expect_state: CampaignState | None = None
    """Write only if the campaign is still at this stored state (see :func:`write_records`)."""
    cell_failures: list[PlannedFailure] = field(default_factory=list)


def check_write(
    *,
    actor: str,
    new_experiments: Sequence[NewExperiment],
    status_changes: Sequence[StatusChange],
    measurements: Sequence[NewMeasurement],
    audit_action: str | None,
    files: Sequence[EvidenceFile] = (),
    expect_state: CampaignState | None = None,
    cell_failures: Sequence[CellFailure] = (),
) -> CheckedWrite:
    """Check a write's input (types, lengths, finite numbers, evidence files) before the transaction."""
    check_label(actor, "actor", max_len=MAX_ACTOR)
    if audit_action is not None:
        check_label(audit_action, "audit_action")
    new_experiments, status_changes, measurements, cell_failures = (
        list(new_experiments), list(status_changes), list(measurements), list(cell_failures))
    total = len(new_experiments) + len(status_changes) + len(measurements) + len(cell_failures)
    if total > MAX_ITEMS_PER_WRITE:
        raise StorageError(
            f"one write takes at most {MAX_ITEMS_PER_WRITE} items, got {total}; split it into several writes"
        )
    prepared = [prepare_experiment(i, e) for i, e in enumerate(new_experiments)]
    planned = [prepare_measurement(i, m, len(prepared)) for i, m in enumerate(measurements)]
    for i, change in enumerate(status_changes):
        if not isinstance(change, StatusChange):
            raise StorageError(f"status_changes[{i}] must be a StatusChange, got {type(change).__name__}")
        check_reference(change.experiment_id, f"status_changes[{i}].experiment_id", len(prepared))
        if change.status not in STATUSES:
            raise StorageError(f"status_changes[{i}]: unknown status {change.status!r}; statuses: {list(STATUSES)}")
        check_text(change.reason, f"status_changes[{i}].reason")
        status_changes[i] = replace(change, **checked_context(change, f"status_changes[{i}]"))
    rows = [prepare_file(i, f) for i, f in enumerate(files)]
    known = {r["sha256"] for r in rows}
    for i, pm in enumerate(planned):
        if pm.file_sha256 is not None and pm.file_sha256 not in known:
            raise StorageError(f"measurements[{i}].file_sha256: no file of this write has SHA-256 {pm.file_sha256!r}")
    if expect_state is not None and not isinstance(expect_state, CampaignState):
        raise StorageError(f"expect_state must be a CampaignState (Campaign.state()), got {shorten(expect_state)}")
    failures = [prepare_cell_failure(i, f, len(prepared)) for i, f in enumerate(cell_failures)]
    return CheckedWrite(actor, audit_action, prepared, planned, status_changes, rows, expect_state, failures)


def prepare_experiment(i: int, e: NewExperiment) -> dict[str, Any]:
    """The ``experiments`` row of ``new_experiments[i]`` (its id may still be None)."""
    where = f"new_experiments[{i}]"
    if not isinstance(e, NewExperiment):
        raise StorageError(f"{where} must be a NewExperiment, got {type(e).__name__}")
    if e.status not in STATUSES:
        raise StorageError(f"{where}: unknown status {e.status!r}; statuses: {list(STATUSES)}")
    if e.source not in s.SOURCE_VALUES:
        raise StorageError(f"{where}: unknown source {e.source!r}; sources: {list(s.SOURCE_VALUES)}")
    if not isinstance(e.parameters, dict) or not e.parameters:
        raise StorageError(f"{where}: parameters must be a non-empty mapping of parameter name to value")
    for key, value in e.parameters.items():
        if isinstance(value, str):
            check_text(value, f"{where}.parameters.{key}", max_len=MAX_CATEGORY_LABEL)
        elif value is not None:
            check_finite(value, f"{where}.parameters.{key}", i, str(key))
    if not is_integer(e.config_version):
        raise StorageError(f"{where}: config_version must be a whole number, got {shorten(e.config_version)}")
    if e.seed is not None and (not is_integer(e.seed)
                               or not 0 <= int(e.seed) < 2**63):
        raise StorageError(f"{where}: seed must be a whole number from 0 to 2**63-1, got {shorten(e.seed)}")
    return {
        "experiment_id": check_label(e.experiment_id, f"{where}.experiment_id", optional=True),
        "config_version": int(e.config_version),
        "status": e.status,
        "failure_reason": check_text(e.failure_reason, f"{where}.failure_reason"),
        **{HISTORY_COLUMNS[k]: v if e.status == "failed" else None for k, v in checked_context(e, where).items()},
        "batch_id": check_label(e.batch_id, f"{where}.batch_id", optional=True),
        "source": e.source,
        "parameters": dumps_json(e.parameters, f"{where}.parameters"),
        "seed": None if e.seed is None else int(e.seed),
        "model_settings": dumps_json(e.model_settings or {}, f"{where}.model_settings"),
        "package_version": check_label(e.package_version, f"{where}.package_version", optional=True),
        "predictions": dumps_json(e.predictions or {}, f"{where}.predictions"),
    }

def checked_context(of: StatusChange | NewExperiment, where: str) -> dict[str, Any]:
    """The ``note``, ``operator``, ``sample_id`` and ``measured_at`` a failure keeps, checked
    as a failed cell's are (:func:`doe.storage.cells.prepare_cell_failure`)."""
    if of.measured_at is not None and not isinstance(of.measured_at, datetime):
        raise StorageError(f"{where}: measured_at must be a datetime, got {type(of.measured_at).__name__}")
    return {"note": check_text(of.note, f"{where}.note"),
            "operator": check_label(of.operator, f"{where}.operator", max_len=MAX_ACTOR, optional=True),
            "sample_id": check_label(of.sample_id, f"{where}.sample_id", optional=True),
            "measured_at": of.measured_at}


def prepare_measurement(i: int, m: NewMeasurement, n_new: int) -> PlannedMeasurement:
    """``measurements[i]`` checked, its experiment id possibly still a reference."""
    where = f"measurements[{i}]"
    if not isinstance(m, NewMeasurement):
        raise StorageError(f"{where} must be a NewMeasurement, got {type(m).__name__}")
    if not isinstance(m.outcome, str) or not OUTCOME_NAME.fullmatch(m.outcome):
        raise StorageError(f"{where}: outcome {shorten(m.outcome)} is not an outcome name (letters, digits, _)")
    if m.measured_at is not None and not isinstance(m.measured_at, datetime):
        raise StorageError(f"{where}: measured_at must be a datetime, got {type(m.measured_at).__name__}")
    target = m.experiment_id
    if isinstance(target, str):
        check_label(target, f"{where}.experiment_id", stored=True)
    return PlannedMeasurement(
        target=check_reference(m.experiment_id, f"{where}.experiment_id", n_new),
        outcome=m.outcome,
        value=check_finite(m.value, f"{where} ({m.experiment_id}, {m.outcome})", i, m.outcome),
        unit=check_label(m.unit, f"{where}.unit", max_len=MAX_UNIT, optional=True),
        measured_at=m.measured_at,
        note=check_text(m.note, f"{where}.note"),
        replicate=check_label(m.replicate, f"{where}.replicate", max_len=MAX_REPLICATE, optional=True,
                              stored=True) or "",  # a new label must be plain: match_stored_labels
        experiment_id=target if isinstance(target, str) else "",
        file_sha256=check_label(m.file_sha256, f"{where}.file_sha256", optional=True),
        cycle=check_cycle(m.cycle, f"{where}.cycle"),
        operator=check_label(m.operator, f"{where}.operator", max_len=MAX_ACTOR, optional=True),
        sample_id=check_label(m.sample_id, f"{where}.sample_id", optional=True),
    )
