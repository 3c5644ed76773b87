"""The write path: new experiments, measurements, status changes and failed cells in one transaction.

:func:`doe.storage.checked.check_write` checks the caller's input before any transaction starts;
:func:`write_records` runs inside it, in explicit phases:

1. read the experiments the write names (:func:`_read_named`),
2. check the new experiments and assign their ids (:func:`_check_new_experiments`, :func:`_assign_ids`),
3. resolve references to this write's new experiments (:func:`_resolve_references`),
4. check that every referenced experiment exists (:func:`_check_known`),
5. diff the measurements against the stored ones (:func:`_diff_measurements`), then the
   failed cells (:func:`doe.storage.cells.diff_cell_failures`),
6. check the status transitions (:func:`_check_transitions`),
7. persist (:func:`_persist`).

Nothing is written until every check has passed, and a failure rolls the transaction back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.config import CampaignConfig
from doe.domain.contention import latest_writes, writers_text
from doe.domain.failure_context import FIELDS, HISTORY_COLUMNS
from doe.domain.records import (
    ALLOWED_TRANSITIONS,
    ExperimentRef,
    NewExperimentRef,
    StatusChange,
    WriteReport,
    near_ids,
)
from doe.domain.table import clean_label, id_key, note_text
from doe.domain.values import same_measurement
from doe.errors import ConcurrentChangeError, StorageError
from doe.storage import schema as s
from doe.storage.cell_kinds import one_kind_of_cell
from doe.storage.cells import (
    FailureChanges,
    PlannedFailure,
    apply_cell_failures,
    diff_cell_failures,
    match_stored_labels,
    resolve_failures,
)
from doe.storage.checked import CheckedWrite, PlannedMeasurement, ResolvedChange
from doe.storage.evidence import insert_files, stored_files, update_rules
from doe.storage.rows import audit_row, bump_revision, campaign_row, latest_config
from doe.storage.snapshot import CampaignState, state_changed, stored_state
from doe.storage.values import (
    chunks,
    conflict_error,
    recorded_by,
    utc_now,
)

log = logging.getLogger(__name__)


@dataclass
class _Stored:
    """What the database holds of the experiments a write names, kept current as phases run."""

    pk_of: dict[str, int]
    status: dict[str, str]
    reasons: dict[str, str | None]
    existing: set[str] = field(default_factory=set)
    context: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each failed experiment's stored note, operator, sample id and date (:data:`FIELDS`)."""
    replaced: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The reason and context a status change of a failed experiment replaced (its audit row's ``old_*``)."""


_NOT_COUNTED = ("member_added", "member_removed")
"""Audit actions of a campaign that do not count up its revision (the accounts store's)."""


def _overtaken(conn: Connection, name: str, camp: Any, seen: CampaignState) -> ConcurrentChangeError:
    """The refusal of a write computed from state ``seen``, naming the writes since (audit) when
    the campaign moved on from it, or saying it was replaced (a restore, deleted and made again)."""
    now = stored_state(camp)
    if now.revision <= seen.revision:  # a write only counts up: another campaign of this name
        return ConcurrentChangeError(state_changed(name, seen, now))
    a = s.audit_log
    rows = conn.execute(sa.select(a.c.at, a.c.actor, a.c.action, a.c.experiment_id)
                        .where(a.c.campaign_id == camp.id, a.c.action.not_in(_NOT_COUNTED))
                        .order_by(a.c.id.desc()).limit(1000))
    writes = latest_writes(rows, now.revision - seen.revision)
    by = f", written by {writers_text(writes)}" if writes else ""
    return ConcurrentChangeError(
        f"campaign {name!r} changed (revision {seen.revision} -> {now.revision}{by}) after the data this write was "
        "computed from was read; nothing was written", revisions=(seen.revision, now.revision), writes=writes)


def write_records(conn: Connection, url: str, name: str, checked: CheckedWrite, *,
                  allow_corrections: bool, results: bool = False) -> WriteReport:
    """Apply ``checked`` to campaign ``name`` inside the caller's write transaction
    (``allow_corrections`` and ``results``: see :meth:`doe.storage.base.CampaignStore.write`)."""
    # Work on copies: a retried transaction must start from the caller's input again.
    prepared = [dict(p) for p in checked.experiments]
    planned = [replace(pm) for pm in checked.measurements]
    failures = [replace(f) for f in checked.cell_failures]
    camp = campaign_row(conn, name, url, lock=True, to_change=True)  # writers of the campaign queue here
    if (seen := checked.expect_state) is not None and stored_state(camp) != seen:
        raise _overtaken(conn, name, camp, seen)
    cid = camp.id
    now = utc_now()
    stored = _read_named(conn, cid, prepared, planned, checked.status_changes, failures)
    _check_new_experiments(conn, name, cid, prepared, stored)
    new_ids, counter = _assign_ids(conn, cid, int(camp.experiment_counter), prepared)
    status_changes = _resolve_references(new_ids, planned, checked.status_changes)
    resolve_failures(new_ids, failures)
    for p in prepared:
        stored.status[p["experiment_id"]] = p["status"]
        stored.reasons[p["experiment_id"]] = p["failure_reason"]
        stored.context[p["experiment_id"]] = {f: p[HISTORY_COLUMNS[f]] for f in FIELDS}
    _check_known(conn, cid, name, planned, status_changes, stored, failures)
    match_stored_labels(conn, name, stored.pk_of, [*planned, *failures])
    context_kept: list[str] = []
    to_write, unchanged = _diff_measurements(
        conn, name, stored, planned, latest_config(conn, cid), allow_corrections, context_kept)
    cells = diff_cell_failures(conn, name, stored.pk_of, failures,
                               [(pm.experiment_id, pm.replicate) for pm in planned if pm.replicate], allow_corrections)
    for f, before in cells.restated:  # the same failure with another note, operator, sample id or date
        if differs := _context_changes(before, f):
            if allow_corrections:
                cells.changed.append((f, f.reason))
            else:
                context_kept.append(f"{f.experiment_id} replicate {f.replicate!r} (failed): {differs}")
    changes = _check_transitions(conn, cid, name, status_changes, stored, context_kept,
                                 replace_results=allow_corrections or not results)
    if results and allow_corrections:  # a failure of a whole measured experiment, corrected, withdraws its values
        cells.retracted += [PlannedFailure(c.experiment_id, "", c.reason or "failed", None, None, None, None,
                                           c.experiment_id)
                            for c, before in changes if c.status == "failed" and before == "completed"]
    # a file is stored with a value it gives: one whose values are all stored already (a later export
    # without a new cycle the campaign records) would be linked to no experiment
    linked = {pm.file_sha256 for pm in to_write if pm.file_sha256}
    new_files, file_ids = stored_files(conn, cid, [f for f in checked.files if f["sha256"] in linked])
    if not prepared and not to_write and not changes and not new_files and not cells:
        return WriteReport(experiment_ids=[], measurements_unchanged=unchanged, context_not_stored=context_kept)
    file_ids |= insert_files(conn, cid, now, checked.actor, new_files)
    update_rules(conn, cid, now, checked.actor, checked.files,
                 {pm.file_sha256: pm.experiment_id for pm in to_write if pm.file_sha256})
    for pm in to_write:
        if pm.file_sha256:  # else the stored file a same-value correction keeps (_keep_context), or none
            pm.file_id = file_ids.get(pm.file_sha256)
    added, corrected, withdrawn = _persist(conn, cid, now, checked, prepared, to_write, changes, stored, unchanged, cells)
    bump_revision(conn, cid, now, experiment_counter=counter)
    log.info("campaign %r: %d experiment(s), %d measurement(s) (%d corrected), %d status change(s) by %s",
             name, len(prepared), added, corrected, len(changes), checked.actor)
    return WriteReport(
        experiment_ids=new_ids, measurements_added=added, measurements_unchanged=unchanged,
        measurements_corrected=corrected, measurements_withdrawn=withdrawn, status_changes=len(changes),
        cell_failures_added=len(cells.added), context_not_stored=context_kept,
    )


def _read_named(conn: Connection, cid: int, prepared: list[dict[str, Any]], planned: list[PlannedMeasurement],
                status_changes: list[StatusChange], failures: list[PlannedFailure]) -> _Stored:
    """Phase 1: the stored experiments this write names (by id)."""
    # Only the experiments this write names are read, so a write costs the same in a
    # campaign of 20 or 20,000 experiments.
    e = s.experiments
    named = ({p["experiment_id"] for p in prepared if p["experiment_id"] is not None}
             | {pm.target for pm in planned if isinstance(pm.target, str)}
             | {c.experiment_id for c in status_changes if isinstance(c.experiment_id, str)}
             | {f.target for f in failures if isinstance(f.target, str)})
    stored = _Stored({}, {}, {})
    for chunk in chunks(sorted(named)):
        for r in conn.execute(sa.select(e.c.id, e.c.experiment_id, e.c.status, e.c.failure_reason,
                                        *(e.c[HISTORY_COLUMNS[f]] for f in FIELDS))
                              .where(e.c.campaign_id == cid, e.c.experiment_id.in_(chunk))):
            stored.pk_of[r.experiment_id] = r.id
            stored.status[r.experiment_id] = r.status
            stored.reasons[r.experiment_id] = r.failure_reason
            stored.context[r.experiment_id] = {f: r._mapping[HISTORY_COLUMNS[f]] for f in FIELDS}
    stored.existing = set(stored.pk_of)
    return stored


def _check_new_experiments(conn: Connection, name: str, cid: int, prepared: list[dict[str, Any]],
                           stored: _Stored) -> None:
    """Phase 2a: given ids are new and unique; configuration versions exist."""
    cv = s.config_versions
    versions = set(conn.execute(sa.select(cv.c.version).where(cv.c.campaign_id == cid)).scalars())
    given = [p["experiment_id"] for p in prepared if p["experiment_id"] is not None]
    taken_given = sorted({x for x in given if x in stored.existing})
    repeated = sorted({x for x in given if given.count(x) > 1})
    bad_versions = sorted({p["config_version"] for p in prepared} - versions)
    problems = []
    if taken_given:
        problems.append(f"experiment ids that exist already: {taken_given[:20]}")
    if repeated:
        problems.append(f"experiment ids given more than once: {repeated[:20]}")
    if bad_versions:
        problems.append(f"configuration versions that do not exist: {bad_versions}; versions: {sorted(versions)}")
    if problems:
        raise StorageError(f"campaign {name!r}: nothing was written: " + "; ".join(problems))


def _assign_ids(conn: Connection, cid: int, counter: int, prepared: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Phase 2b: ids ``E0001``, ``E0002``, ... for new experiments without one; the new counter.
    An id whose :func:`~doe.domain.table.id_key` is taken (the lab's own ``e0002``, a full-width
    ``Ｅ0001``) is skipped, as :meth:`doe.Campaign.record` refuses such a twin of a given id."""
    needed = sum(p["experiment_id"] is None for p in prepared)
    if needed:
        stored = conn.execute(sa.select(s.experiments.c.experiment_id).where(s.experiments.c.campaign_id == cid))
        taken = {id_key(x) for x in stored.scalars()} | {id_key(p["experiment_id"]) for p in prepared
                                                           if p["experiment_id"] is not None}
    new_ids: list[str] = []
    for p in prepared:
        while p["experiment_id"] is None:
            counter += 1
            if (key := id_key(candidate := f"E{counter:04d}")) not in taken:
                p["experiment_id"] = candidate
                taken.add(key)
        new_ids.append(p["experiment_id"])
    return new_ids, counter


def _resolve_references(new_ids: list[str], planned: list[PlannedMeasurement],
                        status_changes: list[StatusChange]) -> list[ResolvedChange]:
    """Phase 3: references to this write's new experiments become their ids.

    A :class:`NewExperimentRef` names the k-th new experiment of this write (whose id is
    assigned only now), so one write can create and measure an experiment. Text is an id.
    """

    def resolve(ref: ExperimentRef) -> str:
        return new_ids[ref.index] if isinstance(ref, NewExperimentRef) else ref

    for pm in planned:
        pm.experiment_id = resolve(pm.target)
    return [ResolvedChange(resolve(c.experiment_id), c.status, c.reason,
                           {f: getattr(c, f) for f in FIELDS if getattr(c, f) is not None}) for c in status_changes]


def _check_known(conn: Connection, cid: int, name: str, planned: list[PlannedMeasurement],
                 status_changes: list[ResolvedChange], stored: _Stored, failures: list[PlannedFailure]) -> None:
    """Phase 4: every experiment a measurement, status change or failed cell names exists (or is new here);
    an unknown id is named with the stored ids it may mean (:func:`~doe.domain.records.near_ids`)."""
    unknown = sorted({pm.experiment_id for pm in planned if pm.experiment_id not in stored.status}
                     | {c.experiment_id for c in status_changes if c.experiment_id not in stored.status}
                     | {f.experiment_id for f in failures if f.experiment_id not in stored.status})
    if unknown:
        e = s.experiments
        near = near_ids(unknown[:30], conn.execute(sa.select(e.c.experiment_id).where(e.c.campaign_id == cid)).scalars())
        meant = "".join(f"; {u!r} may mean {' or '.join(map(repr, ids))}" for u, ids in near.items())
        raise StorageError(
            f"campaign {name!r} has no experiment(s) {unknown[:30]}{' ...' if len(unknown) > 30 else ''}{meant}; "
            "nothing was written"
        )


CONTEXT_FIELDS = ("note", "operator", "sample_id", "measured_at")
"""What a stored measurement carries besides its value, which a correction may change alone."""


_AS_RECORDED = {"note": note_text, "operator": clean_label, "sample_id": clean_label}
"""How each text field is cleaned when recorded now (a stored text may predate it, or come from
an import as its export held it: a note with ``\r\n``, an operator with a space around it)."""


def _context_changes(stored: dict[str, Any], pm: PlannedMeasurement | PlannedFailure | dict[str, Any]) -> str:
    """The context fields ``pm`` (a measurement, a failed cell, or a failure's fields by name)
    gives that differ from the ``stored`` ones, in words ('' if none;
    times within a millisecond, as a workbook keeps them, are the same; a stored text is
    compared as it would be recorded now)."""
    changes = []
    for c in CONTEXT_FIELDS:
        new, old = pm.get(c) if isinstance(pm, dict) else getattr(pm, c), stored[c]
        if new is None or new == old or (isinstance(old, str) and c in _AS_RECORDED and _AS_RECORDED[c](old) == new):
            continue
        if isinstance(new, datetime) and isinstance(old, datetime) and abs((new - old).total_seconds()) < 1e-3:
            continue
        changes.append(f"{c} stored {'none' if old is None else repr(str(old))}, new {str(new)!r}")
    return "; ".join(changes)


def _keep_context(pm: PlannedMeasurement, stored: dict[str, Any]) -> None:
    """A correction keeps the stored note, operator, sample id and date it does not give."""
    for c in CONTEXT_FIELDS:
        if getattr(pm, c) is None:
            setattr(pm, c, stored[c])


def _diff_measurements(conn: Connection, name: str, stored: _Stored, planned: list[PlannedMeasurement],
                       config: CampaignConfig, allow_corrections: bool,
                       context_kept: list[str]) -> tuple[list[PlannedMeasurement], int]:
    """Phase 5: the measurements to write (new or corrections) and the count of unchanged ones.

    A value recorded again with another ``note``, ``operator``, ``sample_id`` or
    ``measured_at`` is a correction of those with ``allow_corrections``; without it the value is
    unchanged and the difference is listed in ``context_kept``. A correction keeps the stored
    fields it leaves empty (:func:`_keep_context`).

    Raises:
        ConflictError: values differ from the stored ones and ``allow_corrections`` is False.
    """
    e, m = s.experiments, s.measurements
    current: dict[tuple[str, str, str, int], float] = {}
    context: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    stored_by: dict[tuple[str, str, str, int], str] = {}
    referenced = sorted({stored.pk_of[pm.experiment_id] for pm in planned if pm.experiment_id in stored.existing})
    for chunk in chunks(referenced):
        for hit in conn.execute(
            sa.select(e.c.experiment_id, m.c.outcome, m.c.replicate, m.c.cycle, m.c.value, m.c.file_id,
                      m.c.recorded_by, m.c.recorded_at, *(m.c[c] for c in CONTEXT_FIELDS))
            .join(e, e.c.id == m.c.experiment_pk)
            .where(m.c.experiment_pk.in_(chunk), m.c.superseded == sa.false())
        ):
            key = (hit.experiment_id, hit.outcome, hit.replicate, int(hit.cycle))
            current[key] = float(hit.value)
            context[key] = {c: getattr(hit, c) for c in (*CONTEXT_FIELDS, "file_id")}
            stored_by[key] = recorded_by(hit.recorded_by, hit.recorded_at)
    one_kind_of_cell(name, planned, current, allow_corrections, stored_by)
    to_write: list[PlannedMeasurement] = []
    unchanged = 0
    conflicts: list[str] = []
    for pm in planned:
        # another cell (replicate label) or cycle of the same experiment is a new measurement, not a conflict
        key = (pm.experiment_id, pm.outcome, pm.replicate, pm.cycle)
        if pm.unit is None:
            pm.unit = config.unit_of(pm.outcome)
        old = current.get(key)
        if old is None:
            to_write.append(pm)
        elif same_measurement(old, pm.value):
            differs = _context_changes(context[key], pm)
            if differs and allow_corrections:  # the same value with another note, operator, sample or date
                _keep_context(pm, context[key])
                if pm.file_sha256 is None:  # still the value its instrument file gave
                    pm.file_id = context[key]["file_id"]
                pm.correction_of = old
                to_write.append(pm)
                current[key] = pm.value
                continue
            unchanged += 1
            if differs:
                cell = (f" replicate {pm.replicate!r}" if pm.replicate else "") + (f" cycle {pm.cycle}" if pm.cycle else "")
                context_kept.append(f"{pm.experiment_id}{cell} {pm.outcome}: {differs}")
            continue
        elif allow_corrections:
            _keep_context(pm, context[key])
            pm.correction_of = old
            to_write.append(pm)
        else:
            cell = (f" replicate {pm.replicate!r}" if pm.replicate else "") + (f" cycle {pm.cycle}" if pm.cycle else "")
            conflicts.append(f"{pm.experiment_id}{cell} {pm.outcome}: stored {old!r}, new {pm.value!r} ({stored_by[key]})")
            continue
        current[key] = pm.value
    if conflicts:
        raise conflict_error(name, conflicts, "measurement(s) differ from the values recorded",
                             "To correct a value pass allow_corrections=True (record with correct=True); "
                             "the old value is kept as history.")
    return to_write, unchanged


def _check_transitions(conn: Connection, cid: int, name: str, status_changes: list[ResolvedChange],
                       stored: _Stored, context_kept: list[str], *,
                       replace_results: bool) -> list[tuple[ResolvedChange, str]]:
    """Phase 6: the status changes that change something, each with the status before it.

    Updates ``stored.status`` and ``stored.reasons`` to the final state. Without
    ``replace_results`` (a results table recorded without ``correct=True``), a result that
    replaces another is refused: a failure where values were measured (they would stop
    counting), a value where a failure was recorded, or another failure reason (the stored one
    would leave the history); ``fail()`` is the way to fail a measured experiment on purpose.
    A failure keeps the note, operator, sample id and date its change gives (``stored.context``;
    cleared by any other status). The same failure given again with other ones is a correction
    of them: without ``replace_results`` it changes nothing and is listed in ``context_kept``;
    with it, the stored ones it does not give are kept, as they are by another reason (a history
    file's, whose failure_* columns are not read back).

    Raises:
        StorageError: a transition :data:`~doe.domain.records.ALLOWED_TRANSITIONS` refuses.
        ConflictError: a result would replace another and ``replace_results`` is False.
    """
    changes: list[tuple[ResolvedChange, str]] = []
    refused: list[str] = []
    conflicts: list[str] = []
    original: dict[str, str] = {}  # each experiment's status before this write (a table may change it twice)
    for change in status_changes:
        eid = change.experiment_id
        before = stored.status[eid]
        original.setdefault(eid, before if eid in stored.existing else "new")
        if change.status not in ALLOWED_TRANSITIONS.get(before, ()):
            allowed = list(ALLOWED_TRANSITIONS.get(before, ()))
            refused.append(f"{eid}: {before}{_changed_by(conn, cid, eid)} -> {change.status} "
                           f"(allowed from {before}: {allowed or 'none'})")
            continue
        new_reason = change.reason if change.status in ("failed", "abandoned") else None
        if change.status == "failed" and new_reason is None:
            new_reason = stored.reasons[eid]
        # a failure keeps its note, operator, sample id and date: those a change to failed gives,
        # and, where the experiment was failed already, the stored ones it does not give
        kept = stored.context.get(eid, dict.fromkeys(FIELDS))
        if change.status == before == "failed" and new_reason == stored.reasons[eid]:
            # the same failure again: it keeps the stored note, operator, sample id and date it does not give
            if not (differs := _context_changes(kept, {f: change.context.get(f) for f in FIELDS})):
                continue
            if not replace_results:
                context_kept.append(f"{eid} (failed): {differs}")
                continue
            context = {**kept, **change.context}
        else:  # a new failure keeps what it gives (another reason, the stored ones it does not give); else none
            kept = kept if before == change.status == "failed" else dict.fromkeys(FIELDS)
            context = {**kept, **change.context} if change.status == "failed" else dict.fromkeys(FIELDS)
            if before == change.status and new_reason == stored.reasons[eid]:
                continue
            if not replace_results and original[eid] in ("completed", "failed") and not (
                    change.status == "completed" and _failed_by_its_cells(conn, stored, eid)):
                was = f"failed ({stored.reasons[eid]!r})" if before == "failed" else "completed (measured)"
                now = f"failed ({new_reason!r})" if change.status == "failed" else "completed (measured)"
                conflicts.append(f"{eid}: stored {was}, new {now}{_changed_by(conn, cid, eid, created_too=True)}")
                continue
        changes.append((change, before))
        if before == "failed":  # the first replaced: a table may change it twice
            stored.replaced.setdefault(eid, {"reason": stored.reasons[eid], **stored.context.get(eid, {})})
        stored.status[eid] = change.status
        stored.reasons[eid] = new_reason
        stored.context[eid] = context
    if refused:
        raise StorageError(
            f"campaign {name!r}: status change(s) not allowed, nothing was written: " + "; ".join(refused[:30])
        )
    if conflicts:
        raise conflict_error(name, conflicts, "result(s) would replace the one recorded",
                             "To correct a value pass allow_corrections=True (record with correct=True); the old "
                             "one stays in the audit trail.")
    return changes


def _failed_by_its_cells(conn: Connection, stored: _Stored, experiment_id: str) -> bool:
    """Whether a stored failed experiment is failed only because every cell recorded of it failed
    (its reason a failed cell's, no row failing it as a whole gave a note, operator, sample id or
    date): a result of another cell is new, not a correction, as it is in one table."""
    context = stored.context.get(experiment_id, {})
    if stored.status.get(experiment_id) != "failed" or any(v is not None for v in context.values()):
        return False
    c = s.cell_failures
    reasons = conn.execute(sa.select(c.c.reason).where(c.c.experiment_pk == stored.pk_of[experiment_id])).scalars()
    return stored.reasons.get(experiment_id) in set(reasons)


def _persist(conn: Connection, cid: int, now: datetime, checked: CheckedWrite, prepared: list[dict[str, Any]],
             to_write: list[PlannedMeasurement], changes: list[tuple[ResolvedChange, str]], stored: _Stored,
             unchanged: int, cells: FailureChanges) -> tuple[int, int, int]:
    """Phase 7: insert and update the rows, with their audit entries; (added, corrected, withdrawn)."""
    actor = checked.actor
    audit = _insert_experiments(conn, cid, now, actor, prepared, stored)
    added, corrected = _insert_measurements(conn, cid, now, actor, to_write, stored, audit)
    _update_statuses(conn, cid, now, actor, changes, stored, audit)
    withdrawn = apply_cell_failures(conn, cid, now, actor, stored.pk_of, cells, audit)
    cell_ids = [f.experiment_id for f in cells.added] + [f.experiment_id for f, _ in cells.changed] \
        + [eid for eid, _, _ in cells.withdrawn]
    touched = sorted({stored.pk_of[eid] for eid in [pm.experiment_id for pm in to_write] + cell_ids
                      if eid in stored.existing})
    for chunk in chunks(touched):
        conn.execute(sa.update(s.experiments).where(s.experiments.c.id.in_(chunk)).values(updated_at=now))
    if checked.audit_action is not None:
        audit.append(audit_row(cid, now, actor, checked.audit_action, None, {
            "experiments_created": len(prepared), "measurements_added": added,
            "measurements_corrected": corrected, "measurements_unchanged": unchanged,
            "status_changes": len(changes), "cell_failures_added": len(cells.added),
            "measurements_withdrawn": withdrawn}))
    conn.execute(sa.insert(s.audit_log), audit)
    return added, corrected, withdrawn


def _insert_experiments(conn: Connection, cid: int, now: datetime, actor: str, prepared: list[dict[str, Any]],
                        stored: _Stored) -> list[dict[str, Any]]:
    """The new experiments' rows (their primary keys into ``stored.pk_of``); their audit rows."""
    e = s.experiments
    audit: list[dict[str, Any]] = []
    if not prepared:
        return audit
    rows = [{**p, "campaign_id": cid, "proposed_by": actor, "proposed_at": now, "updated_at": now}
            for p in prepared]
    result = conn.execute(sa.insert(e).returning(e.c.id, e.c.experiment_id, sort_by_parameter_order=True), rows)
    for r in result:
        stored.pk_of[r.experiment_id] = r.id
    for p in prepared:
        audit.append(audit_row(cid, now, actor, "experiment_created", p["experiment_id"], {
            "status": p["status"], "batch_id": p["batch_id"], "source": p["source"],
            "config_version": p["config_version"]}))
    return audit


def _insert_measurements(conn: Connection, cid: int, now: datetime, actor: str, to_write: list[PlannedMeasurement],
                         stored: _Stored, audit: list[dict[str, Any]]) -> tuple[int, int]:
    """New measurement rows; a correction supersedes the current row. (added, corrected)."""
    m = s.measurements
    added = corrected = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            conn.execute(sa.insert(m), batch)
            batch.clear()

    for pm in to_write:
        row = {"experiment_pk": stored.pk_of[pm.experiment_id], "outcome": pm.outcome,
               "replicate": pm.replicate, "cycle": pm.cycle, "value": pm.value,
               "unit": pm.unit, "measured_at": pm.measured_at, "recorded_by": actor, "recorded_at": now,
               "note": pm.note, "superseded": False, "superseded_by": None, "file_id": pm.file_id,
               "operator": pm.operator, "sample_id": pm.sample_id}
        if pm.replaces_unlabelled is not None:
            flush()
            new_id = conn.execute(sa.insert(m).values(row).returning(m.c.id)).scalar_one()
            conn.execute(sa.update(m).where(
                m.c.experiment_pk == row["experiment_pk"], m.c.outcome == pm.outcome, m.c.replicate == "",
                m.c.cycle == pm.cycle, m.c.superseded == sa.false()).values(superseded=True, superseded_by=new_id))
            corrected += 1
            audit.append(audit_row(cid, now, actor, "measurement_corrected", pm.experiment_id, {
                "outcome": pm.outcome, "old_value": pm.replaces_unlabelled, "new_value": pm.value, "unit": pm.unit,
                "note": pm.note, "replicate": pm.replicate, "replaces": "the value recorded without a replicate label",
                **({"cycle": pm.cycle} if pm.cycle else {})}))
            continue
        if pm.correction_of is None:
            batch.append(row)
            added += 1
            audit.append(audit_row(cid, now, actor, "measurement_added", pm.experiment_id, {
                "outcome": pm.outcome, "value": pm.value, "unit": pm.unit,
                **({"replicate": pm.replicate} if pm.replicate else {}),
                **({"cycle": pm.cycle} if pm.cycle else {}),
                **({"file_sha256": pm.file_sha256} if pm.file_sha256 else {})}))
            continue
        flush()
        old_id = conn.execute(sa.select(m.c.id).where(
            m.c.experiment_pk == row["experiment_pk"], m.c.outcome == pm.outcome,
            m.c.replicate == pm.replicate, m.c.cycle == pm.cycle, m.c.superseded == sa.false())).scalar_one()
        conn.execute(sa.update(m).where(m.c.id == old_id).values(superseded=True))
        new_id = conn.execute(sa.insert(m).values(row).returning(m.c.id)).scalar_one()
        conn.execute(sa.update(m).where(m.c.id == old_id).values(superseded_by=new_id))
        corrected += 1
        audit.append(audit_row(cid, now, actor, "measurement_corrected", pm.experiment_id, {
            "outcome": pm.outcome, "old_value": pm.correction_of, "new_value": pm.value, "unit": pm.unit,
            "note": pm.note, **({"replicate": pm.replicate} if pm.replicate else {}), **({"cycle": pm.cycle} if pm.cycle else {})}))
    flush()
    return added, corrected


def _changed_by(conn: Connection, cid: int, experiment_id: str, *, created_too: bool = False) -> str:
    """`` (by alice at 2026-12-06 10:03 UTC)``: who gave the experiment its status (so a person
    refused in a second tab learns who acted meanwhile); empty if no status change is logged.
    With ``created_too`` also who recorded it with that status (``experiment_created``), for a
    result recorded with its experiment."""
    a = s.audit_log
    actions = ("status_changed", "experiment_created") if created_too else ("status_changed",)
    last = conn.execute(sa.select(a.c.actor, a.c.at).where(
        a.c.campaign_id == cid, a.c.experiment_id == experiment_id, a.c.action.in_(actions))
        .order_by(a.c.id.desc()).limit(1)).first()
    return "" if last is None else f" (by {last.actor} at {last.at:%Y-%m-%d %H:%M} UTC)"


def _update_statuses(conn: Connection, cid: int, now: datetime, actor: str, changes: list[tuple[ResolvedChange, str]],
                     stored: _Stored, audit: list[dict[str, Any]]) -> None:
    """Each changed experiment's final status and reason; one audit row per change."""
    e = s.experiments
    if changes:
        final = {c.experiment_id: (stored.status[c.experiment_id], stored.reasons[c.experiment_id])
                 for c, _ in changes}
        conn.execute(
            sa.update(e).where(e.c.id == sa.bindparam("b_pk")).values(
                status=sa.bindparam("b_status"), failure_reason=sa.bindparam("b_reason"), updated_at=now,
                **{HISTORY_COLUMNS[f]: sa.bindparam(f"b_{f}") for f in FIELDS}),
            [{"b_pk": stored.pk_of[eid], "b_status": st, "b_reason": why,
              **{f"b_{f}": stored.context[eid][f] for f in FIELDS}} for eid, (st, why) in final.items()])
    for change, before in changes:  # what a failure's change replaced stays in the trail (old_reason, old_note, ...)
        old = stored.replaced.get(change.experiment_id, {}) if before == "failed" else {}
        now_kept = {"reason": stored.reasons[change.experiment_id], **stored.context[change.experiment_id]}
        audit.append(audit_row(cid, now, actor, "status_changed", change.experiment_id, {
            "from": before, "to": change.status, "reason": change.reason,
            **{f"old_{k}": v.isoformat() if isinstance(v, datetime) else v for k, v in old.items()
               if v is not None and v != now_kept.get(k)}}))
