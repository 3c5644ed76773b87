"""Failed replicate cells: checked before a write, diffed and stored inside its transaction.

A :class:`~doe.domain.records.CellFailure` names one cell (experiment and ``replicate``
label) that gave no result. The rules, applied by :func:`diff_cell_failures` before anything
is written:

- a cell is measured or failed, not both: a failure of a cell measured in the same write is
  refused (a ``DataError``); a failure of a cell with stored values is a conflict unless
  corrections are allowed, then its values are withdrawn (kept as superseded history; a pellet
  found cracked after it was measured), and an experiment left without any current value
  becomes failed with that reason;
- the same failure again (same reason) changes nothing; another reason is a conflict unless
  corrections are allowed, then the reason is replaced (the old one stays in the audit log);
- a measurement of a cell stored as failed is a conflict unless corrections are allowed,
  then the failure is withdrawn (the cell was re-measured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.records import MAX_REPLICATE, CellFailure, ExperimentRef, NewExperimentRef
from doe.domain.table import replicate_key, replicate_label
from doe.domain.values import is_plain_label, refused_character
from doe.errors import CellProblem, DataError, StorageError
from doe.storage import schema as s
from doe.storage.rows import audit_row
from doe.storage.values import (
    MAX_ACTOR,
    check_label,
    check_reference,
    check_text,
    chunks,
    conflict_error,
    recorded_by,
)

COLUMNS = ["experiment_id", "replicate", "failure_reason", "note", "operator", "sample_id", "measured_at",
           "recorded_by", "recorded_at"]
"""Columns of :func:`read_cell_failures`."""


@dataclass
class PlannedFailure:
    """A checked cell failure; ``experiment_id`` is known once references are resolved."""

    target: ExperimentRef
    replicate: str
    reason: str
    note: str | None
    operator: str | None
    sample_id: str | None
    measured_at: datetime | None
    experiment_id: str = ""


@dataclass
class FailureChanges:
    """What a write does to the stored cell failures (see :func:`diff_cell_failures`)."""

    added: list[PlannedFailure] = field(default_factory=list)
    changed: list[tuple[PlannedFailure, str]] = field(default_factory=list)
    """New reason, with the stored one."""
    withdrawn: list[tuple[str, str, str]] = field(default_factory=list)
    """(experiment id, replicate, stored reason) of failed cells measured now."""
    retracted: list[PlannedFailure] = field(default_factory=list)
    """Failures of cells with stored values, whose values are withdrawn."""
    restated: list[tuple[PlannedFailure, dict[str, Any]]] = field(default_factory=list)
    """Stored failures given again for the same reason, with the stored note, operator,
    sample_id and measured_at (the write compares them: another one is a correction)."""
    stored_context: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """Each named stored failure's note, operator, sample_id and measured_at, by (experiment id,
    replicate): what a correction or withdrawal replaces, kept in its audit row."""

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn)


def prepare_cell_failure(i: int, f: CellFailure, n_new: int) -> PlannedFailure:
    """``cell_failures[i]`` checked, its experiment possibly still a reference."""
    where = f"cell_failures[{i}]"
    if not isinstance(f, CellFailure):
        raise StorageError(f"{where} must be a CellFailure, got {type(f).__name__}")
    target = check_reference(f.experiment_id, f"{where}.experiment_id", n_new)
    if isinstance(target, str):
        check_label(target, f"{where}.experiment_id", stored=True)
    replicate = check_label(f.replicate, f"{where}.replicate", max_len=MAX_REPLICATE, stored=True)
    reason = check_text(f.reason, f"{where}.reason")
    if not replicate or not reason or not reason.strip():
        raise StorageError(f"{where}: a failed cell needs its replicate label and a reason")
    if f.measured_at is not None and not isinstance(f.measured_at, datetime):
        raise StorageError(f"{where}: measured_at must be a datetime, got {type(f.measured_at).__name__}")
    return PlannedFailure(target, replicate, reason.strip(), check_text(f.note, f"{where}.note"),
                          check_label(f.operator, f"{where}.operator", max_len=MAX_ACTOR, optional=True),
                          check_label(f.sample_id, f"{where}.sample_id", optional=True), f.measured_at,
                          target if isinstance(target, str) else "")


def resolve_failures(new_ids: list[str], failures: list[PlannedFailure]) -> None:
    """References to the write's new experiments become their ids."""
    for f in failures:
        f.experiment_id = new_ids[f.target.index] if isinstance(f.target, NewExperimentRef) else f.target


_ONLY_IN = ("upper and lower case, in how its characters are written or in zeros a spreadsheet drops (leading "
            "zeros, '01' for '1', or trailing decimal ones, '1.10' for '1.1')")


def match_stored_labels(conn: Connection, name: str, pk_of: dict[str, int], labels: list[Any]) -> None:
    """Give each planned cell (anything with ``experiment_id`` and ``replicate``: a
    measurement or a :class:`PlannedFailure`) the label its cell is stored under.

    A label stored as written before labels were cleaned (``'1.0'`` read from a CSV, text not
    in composed Unicode) is the cell that label now reads as (``'1'``), and takes the write's
    cells. A label that differs from another of the same experiment only in case or in how its
    characters are written (``'a'`` beside ``'A'``, a full-width ``'Ａ'``) or in leading or
    trailing decimal zeros (``'01'`` beside ``'1'``, ``'1.10'`` beside ``'1.1'``:
    :func:`~doe.domain.table.replicate_key`) is refused: it would make a
    second cell of what the engineer means as one. A label the experiment has no cell under
    is a new one and must be plain (:func:`~doe.domain.values.is_plain_label`); a stored one is
    taken as it was stored (an older doe let a label hold U+0085 or another control).

    Raises:
        DataError: naming every such label; nothing is written.
    """
    named = sorted({pk_of[x.experiment_id] for x in labels if x.replicate and x.experiment_id in pk_of})
    stored: dict[str, set[str]] = {}
    e, c, m = s.experiments, s.cell_failures, s.measurements
    for chunk in chunks(named):
        for table in (m, c):
            for r in conn.execute(sa.select(e.c.experiment_id, table.c.replicate).distinct()
                                  .join(e, e.c.id == table.c.experiment_pk)
                                  .where(table.c.experiment_pk.in_(chunk), table.c.replicate != "")):
                stored.setdefault(r.experiment_id, set()).add(r.replicate)
    twins: list[str] = []
    refused: dict[tuple[str, str], CellProblem] = {}  # new labels a cell may not have (stored ones are kept)
    written: dict[tuple[str, str], str] = {}  # (experiment, label key) -> the write's spelling
    for x in labels:
        if not x.replicate:
            continue
        cells = stored.get(x.experiment_id, set())
        if x.replicate in cells:
            continue  # a stored cell (twins stored before this check are still each their own cell)
        same = [label for label in cells if replicate_label(label) == x.replicate]
        if len(same) == 1:
            x.replicate = same[0]
            continue
        if not is_plain_label(x.replicate):
            refused.setdefault((x.experiment_id, x.replicate), CellProblem(None, "replicate", x.replicate, (
                f"{x.experiment_id}: a new cell's label holds {refused_character(x.replicate)} (no line break, "
                "control or invisible character); type it again")))
            continue
        others = sorted(label for label in cells if replicate_key(replicate_label(label)) == replicate_key(x.replicate))
        if others:
            twins.append(f"{x.experiment_id} replicate {x.replicate!r} differs from its cell {others[0]!r} only "
                         f"in {_ONLY_IN}; write {others[0]!r} to record that cell, or give a new cell a label of its "
                         "own")
            continue
        first = written.setdefault((x.experiment_id, replicate_key(x.replicate)), x.replicate)
        if first != x.replicate:
            twins.append(f"{x.experiment_id} replicates {first!r} and {x.replicate!r} differ only in {_ONLY_IN}; "
                         "give one cell one label")
    if twins:
        listed = list(dict.fromkeys(twins))
        raise DataError(f"campaign {name!r}: {len(listed)} replicate label(s) name a cell twice; nothing was "
                        "written:\n" + "\n".join(f"  - {x}" for x in listed[:50]))
    if refused:
        raise DataError(f"campaign {name!r}: {len(refused)} new replicate label(s) refused; nothing was written",
                        list(refused.values()))


def diff_cell_failures(conn: Connection, name: str, pk_of: dict[str, int], failures: list[PlannedFailure],
                       measured: list[tuple[str, str]], allow_corrections: bool) -> FailureChanges:
    """The changes ``failures`` and the write's measured cells (``(experiment id, replicate)``,
    labelled ones) make to the stored failures of campaign ``name``.

    Raises:
        DataError: a cell is both measured and failed in this write; nothing is written.
        ConflictError: another reason for a stored failure, a value for a failed cell or a
            failure of a measured cell, without ``allow_corrections``, each naming who recorded
            the stored failure or values and when; nothing is written.
    """
    named = sorted({pk_of[eid] for eid, _ in measured if eid in pk_of} | {pk_of[f.experiment_id] for f in failures
                                                                           if f.experiment_id in pk_of})
    stored: dict[tuple[str, str], str] = {}
    stored_context: dict[tuple[str, str], dict[str, Any]] = {}
    values: dict[tuple[str, str], list[Any]] = {}  # each measured cell's (recorded_at, recorded_by)
    by: dict[tuple[str, str], str] = {}  # who recorded each stored failure or cell's values, and when
    e, c, m = s.experiments, s.cell_failures, s.measurements
    for chunk in chunks(named):
        for r in conn.execute(sa.select(e.c.experiment_id, c.c.replicate, c.c.reason, c.c.note, c.c.operator,
                                        c.c.sample_id, c.c.measured_at, c.c.recorded_by, c.c.recorded_at)
                              .join(e, e.c.id == c.c.experiment_pk).where(c.c.experiment_pk.in_(chunk))):
            stored[(r.experiment_id, r.replicate)] = r.reason
            by[(r.experiment_id, r.replicate)] = recorded_by(r.recorded_by, r.recorded_at)
            stored_context[(r.experiment_id, r.replicate)] = {
                "note": r.note, "operator": r.operator, "sample_id": r.sample_id, "measured_at": r.measured_at}
        if failures:
            for v in conn.execute(
                    sa.select(e.c.experiment_id, m.c.replicate, m.c.recorded_at, m.c.recorded_by)
                    .join(e, e.c.id == m.c.experiment_pk)
                    .where(m.c.experiment_pk.in_(chunk), m.c.superseded == sa.false(), m.c.replicate != "")):
                values.setdefault((v.experiment_id, v.replicate), []).append((v.recorded_at, v.recorded_by))
    for key, rows in values.items():  # every writer of the cell's values (a robot's CE, a cycler's points)
        by[key] = recorded_by(", ".join(dict.fromkeys(actor for _, actor in sorted(rows))), max(rows)[0])
    changes, conflicts = FailureChanges(stored_context=stored_context), []
    both = [f"{f.experiment_id} replicate {f.replicate!r} has measured values and is also marked failed "
            f"(failure_reason {f.reason!r})" for f in failures if (f.experiment_id, f.replicate) in set(measured)]
    if both:
        raise DataError(f"campaign {name!r}: {len(both)} cell(s) both measured and failed; a cell is measured or "
                        "failed, not both; nothing was written:\n" + "\n".join(f"  - {x}" for x in both[:50]))
    seen: dict[tuple[str, str], str] = {}
    for f in failures:
        key = (f.experiment_id, f.replicate)
        if key in values and key not in seen:
            if not allow_corrections:
                conflicts.append(f"{f.experiment_id} replicate {f.replicate!r} has measured values; marking it failed "
                                 f"({f.reason!r}) withdraws them (values {by[key]})")
                continue
            changes.retracted.append(f)
        old = seen.get(key, stored.get(key))
        if old is None:
            changes.added.append(f)
        elif old == f.reason:
            if key not in seen and key in stored_context:
                changes.restated.append((f, stored_context[key]))
            seen[key] = f.reason
            continue
        elif key in seen:
            conflicts.append(f"{f.experiment_id} replicate {f.replicate!r} is marked failed twice, for {old!r} "
                             f"and {f.reason!r}")
            continue
        elif allow_corrections:
            changes.changed.append((f, old))
        else:
            conflicts.append(f"{f.experiment_id} replicate {f.replicate!r}: stored as failed ({old!r}, {by[key]}), "
                             f"new reason {f.reason!r}")
            continue
        seen[key] = f.reason
    for eid, replicate in dict.fromkeys(measured):
        if (eid, replicate) in stored:
            if allow_corrections:
                changes.withdrawn.append((eid, replicate, stored[(eid, replicate)]))
            else:
                conflicts.append(f"{eid} replicate {replicate!r} is stored as failed ({stored[(eid, replicate)]!r}, "
                                 f"{by[(eid, replicate)]}); a measured value for it is a correction")
    if conflicts:
        raise conflict_error(name, conflicts, "failed cell(s) conflict with what is recorded",
                             "To replace a failure by a value or its reason, or a cell's values by a failure, pass "
                             "allow_corrections=True (record with correct=True); what is replaced stays in the history.")
    return changes


def apply_cell_failures(conn: Connection, cid: int, now: datetime, actor: str, pk_of: dict[str, int],
                        changes: FailureChanges, audit: list[dict[str, Any]]) -> int:
    """Store ``changes`` (experiments already inserted, so ``pk_of`` names them all), with audit
    rows; the number of values withdrawn (superseded) from cells now failed."""
    c = s.cell_failures
    if changes.added:
        conn.execute(sa.insert(c), [{"experiment_pk": pk_of[f.experiment_id], "replicate": f.replicate,
                                     "reason": f.reason, "note": f.note, "operator": f.operator,
                                     "sample_id": f.sample_id, "measured_at": f.measured_at, "recorded_by": actor,
                                     "recorded_at": now} for f in changes.added])
    for f in changes.added:
        audit.append(audit_row(cid, now, actor, "cell_failed", f.experiment_id,
                               {"replicate": f.replicate, "reason": f.reason}))
    for f, old in changes.changed:
        # a correction keeps the stored note, operator, sample id and date it does not give
        kept = {k: v for k, v in (("note", f.note), ("operator", f.operator), ("sample_id", f.sample_id),
                                  ("measured_at", f.measured_at)) if v is not None}
        conn.execute(sa.update(c).where(c.c.experiment_pk == pk_of[f.experiment_id], c.c.replicate == f.replicate)
                     .values(reason=f.reason, recorded_by=actor, recorded_at=now, **kept))
        before = changes.stored_context.get((f.experiment_id, f.replicate), {})
        audit.append(audit_row(cid, now, actor, "cell_failure_corrected", f.experiment_id, {
            "replicate": f.replicate, "old_reason": old, "new_reason": f.reason,
            **{f"old_{k}": _json(v) for k, v in before.items() if v is not None and k in kept and kept[k] != v}}))
    withdrawn = _retract(conn, cid, now, actor, pk_of, changes.retracted, audit)
    for eid, replicate, old in changes.withdrawn:
        conn.execute(sa.delete(c).where(c.c.experiment_pk == pk_of[eid], c.c.replicate == replicate))
        removed = changes.stored_context.get((eid, replicate), {})  # the failure's context leaves with it
        audit.append(audit_row(cid, now, actor, "cell_failure_withdrawn", eid, {
            "replicate": replicate, "reason": old, **{k: _json(v) for k, v in removed.items() if v is not None}}))
    return withdrawn


def _json(value: Any) -> Any:
    """A stored context value as an audit row's JSON holds it (a date as ISO 8601 text)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _retract(conn: Connection, cid: int, now: datetime, actor: str, pk_of: dict[str, int],
             retracted: list[PlannedFailure], audit: list[dict[str, Any]]) -> int:
    """Supersede the current values of cells now failed (their number; replicate "" is every
    value of an experiment failed as a whole by a corrected results table); an experiment left
    without a current value turns from completed to failed, with the first such cell's reason."""
    e, m = s.experiments, s.measurements
    withdrawn = 0
    for f in retracted:
        pk = pk_of[f.experiment_id]
        # a cell's values; or an experiment's, stored before this write (never what the write adds)
        cell = [m.c.replicate == f.replicate] if f.replicate else [m.c.recorded_at < now]
        hit = conn.execute(sa.update(m).where(m.c.experiment_pk == pk, *cell,
                                              m.c.superseded == sa.false()).values(superseded=True))
        withdrawn += hit.rowcount
        if hit.rowcount:
            audit.append(audit_row(cid, now, actor, "measurements_withdrawn", f.experiment_id,
                                   {"replicate": f.replicate, "measurements": hit.rowcount, "reason": f.reason}))
    for eid in dict.fromkeys(f.experiment_id for f in retracted):
        pk = pk_of[eid]
        left = conn.execute(sa.select(sa.func.count()).select_from(m).where(
            m.c.experiment_pk == pk, m.c.superseded == sa.false())).scalar_one()
        status = conn.execute(sa.select(e.c.status).where(e.c.id == pk)).scalar_one()
        if left == 0 and status == "completed":
            reason = next(f.reason for f in retracted if f.experiment_id == eid)
            conn.execute(sa.update(e).where(e.c.id == pk).values(status="failed", failure_reason=reason, updated_at=now))
            audit.append(audit_row(cid, now, actor, "status_changed", eid,
                                   {"from": "completed", "to": "failed", "reason": reason}))
    return withdrawn


def read_cell_failures(conn: Connection, cid: int) -> pd.DataFrame:
    """Every failed cell of campaign ``cid``, experiments in creation order, each one's cells in
    the order they were recorded (:data:`COLUMNS`)."""
    e, c = s.experiments, s.cell_failures
    rows = conn.execute(
        sa.select(e.c.experiment_id, c.c.replicate, c.c.reason.label("failure_reason"), c.c.note, c.c.operator,
                  c.c.sample_id, c.c.measured_at, c.c.recorded_by, c.c.recorded_at).join(e, e.c.id == c.c.experiment_pk)
        .where(e.c.campaign_id == cid).order_by(e.c.id, c.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)
