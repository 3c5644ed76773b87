"""Planning a ``record()``: what a validated results table does to a campaign's history.

:func:`plan_record` is a pure function of the validated table, the current history and the
configuration. It decides, row by row, which experiments are new, which known experiments
change status, which measurements are added, and which cells are wrong; the store then
applies the plan in one transaction (see :meth:`doe.Campaign.record`).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.curves import CYCLE_COLUMN, PRED_SD_SUFFIX, point_cycle
from doe.domain.failure_context import context_differs, failure_context
from doe.domain.records import (
    CellFailure,
    ExperimentRef,
    ExperimentStatus,
    NewExperiment,
    NewExperimentRef,
    NewMeasurement,
    RecordReport,
    StatusChange,
    WriteReport,
)
from doe.domain.replicates import REPLICATE_COLUMN, n_column
from doe.domain.table import (
    ID_COLUMN,
    clean_label,
    id_key,
    validate_experiments,
)
from doe.domain.values import (
    is_missing,
    is_plain_label,
    is_real_number,
    refused_character,
    same_measurement,
    same_value,
    to_python,
    without_invisible,
)
from doe.errors import CellProblem, DataError


@dataclass(frozen=True)
class RecordPlan:
    """What recording a table will write, and what is wrong with it.

    ``row_ids`` has one entry per row of the table: the row's experiment id, or None for a
    rejected row or a new experiment without an id (the store assigns that one; see
    :meth:`experiment_ids`). ``new_rows`` are the positions of the rows that create the
    experiments of ``new_experiments``, in order.
    """

    new_experiments: list[NewExperiment] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    measurements: list[NewMeasurement] = field(default_factory=list)
    row_ids: list[str | None] = field(default_factory=list)
    new_rows: list[int] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    unchanged_means: list[tuple[str, str]] = field(default_factory=list)
    """``(experiment_id, outcome)`` of history means read back unchanged (nothing written)."""
    cell_failures: list[CellFailure] = field(default_factory=list)
    """Every failed replicate cell (a row with a ``replicate`` label marked failed)."""
    failed_cells: list[str] = field(default_factory=list)
    """Failed replicate cells of experiments that end completed, in words (for the report)."""
    never_made: list[CellProblem] = field(default_factory=list)
    """Rows left out: an exported file's experiments that were never made in their campaign
    (``status`` proposed or abandoned, no result) and are new to this one."""
    not_measured: list[CellProblem] = field(default_factory=list)
    """Rows left out: experiments still proposed or running, the row giving no result, note or
    other recipe (a run sheet filled in part, or their rows of an exported history or cells file)."""

    def marked_failed(self, created: list[str]) -> list[str]:
        """Ids of the experiments this plan marks failed as a whole, new ones (given the ids the
        store ``created``) and known ones, in order."""
        new = [created[k] for k, e in enumerate(self.new_experiments) if e.status == "failed"]
        known = [created[c.experiment_id.index] if isinstance(c.experiment_id, NewExperimentRef) else c.experiment_id
                 for c in self.status_changes if c.status == "failed"]
        return list(dict.fromkeys([*new, *known]))

    def report(self, written: WriteReport, rejected: list[CellProblem]) -> RecordReport:
        """What recording the table did: this plan as the store ``written`` it, with the
        ``rejected`` rows (``valid_rows_only``)."""
        created = list(written.experiment_ids)
        return RecordReport(
            experiment_ids=self.experiment_ids(created), created=created,
            measurements_added=written.measurements_added, measurements_corrected=written.measurements_corrected,
            measurements_withdrawn=written.measurements_withdrawn,
            measurements_unchanged=written.measurements_unchanged + len(self.unchanged_means),
            rejected=rejected, failed_cells=list(self.failed_cells), cell_failures_added=written.cell_failures_added,
            context_not_stored=list(written.context_not_stored), never_made=list(self.never_made),
            not_measured=self.still_pending(), marked_failed=self.marked_failed(created))

    def still_pending(self) -> list[CellProblem]:
        """:attr:`not_measured` without the rows of experiments another row of this table
        measured or failed: those no longer stay pending (a run sheet's row of a cell not made
        yet beside a measured or cracked cell of the same experiment)."""
        changed = {c.experiment_id for c in self.status_changes if not isinstance(c.experiment_id, NewExperimentRef)}
        return [p for p in self.not_measured if p.value not in changed]

    def experiment_ids(self, created: list[str]) -> list[str]:
        """The experiment id of every recorded row, given the ids the store ``created`` for
        :attr:`new_experiments` (rejected rows left out)."""
        id_of_pos = {pos: created[k] for k, pos in enumerate(self.new_rows)}
        ids = []
        for pos, rid in enumerate(self.row_ids):
            if pos in id_of_pos:
                ids.append(id_of_pos[pos])
            elif rid is not None:
                ids.append(rid)
        return ids


@dataclass(frozen=True)
class _Row:
    """One row of the table, read."""

    label: int
    experiment_id: str | None
    failed: bool
    reason: str | None
    measured: dict[str, float]
    note: str | None
    replicate: str | None = None
    cycle: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """``measured_at``, ``operator`` and ``sample_id`` of the row's measurements, where given."""


def validated_rows(table: pd.DataFrame, config: CampaignConfig, *, ignore_columns: Collection[str],
                   valid_rows_only: bool, extra: Iterable[CellProblem] = ()) -> tuple[pd.DataFrame, list[CellProblem]]:
    """``table`` validated (:func:`~doe.domain.table.validate_experiments`, parameters optional)
    together with ``extra``, problems of its rows found by other checks.

    Returns:
        The clean table, indexed by each row's position in ``table`` (the rows problems name),
        and the problems of the rows left out.

    Raises:
        DataError: every problem, when ``valid_rows_only`` is False or a problem concerns a
            whole column or the whole table. With it, the rows with problems are left out and the
            rest checked again until none is left (some checks run only on an otherwise valid
            table), so every problem names its row in ``table``.
    """
    kept, extra = table.reset_index(drop=True), list(extra)
    rejected: list[CellProblem] = []
    while True:
        try:
            clean = validate_experiments(kept, config, parameters="optional", ignore_columns=tuple(ignore_columns))
            found: list[CellProblem] = []
        except DataError as err:
            if not err.problems or (not valid_rows_only and not extra and not rejected):
                raise  # a refusal of the whole table (too many rows), or validation's own report
            found = [p if p.row is None else replace(p, row=int(kept.index[p.row])) for p in err.problems]
        found += [p for p in extra if p not in found]
        extra = []
        if not found:
            clean.index = kept.index
            return clean, rejected
        rejected += found
        if not valid_rows_only or any(p.row is None for p in found):
            raise DataError(f"the table has {len(rejected)} problem(s); nothing was recorded", rejected)
        kept = kept.drop(index=sorted({p.row for p in found if p.row is not None}))


def plan_record(clean: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig, config_version: int, *,
                summary: Collection[str] = frozenset(),
                labelled: Collection[tuple[str, str]] = frozenset(), exported_history: bool = False,
                exported_status: Sequence[Any] | None = None) -> RecordPlan:
    """Plan recording ``clean`` (a table validated by :func:`~doe.domain.table.validate_experiments`).

    A row whose ``experiment_id`` is in ``history`` adds its measured outcomes to that
    experiment (given parameters must match the stored ones; an abandoned experiment is
    refused; measured -> ``completed``, ``failed``/``failure_reason`` -> ``failed``). Any
    other row is a new experiment (``source="import"``) that needs every parameter and must
    meet the linear constraints; its measurements name it with a :class:`NewExperimentRef`.
    Rows with one ``experiment_id`` and different ``replicate`` labels are cells of one
    experiment: each adds its own measurements (the first row of a new experiment creates
    it, later rows must repeat its recipe or leave parameters empty); one failed cell does not
    fail an experiment that another cell measured, whatever the order of the rows, and every
    failed labelled cell is kept (:attr:`RecordPlan.cell_failures`); one status change at most
    for a known experiment, from all its rows (:func:`_final_change`).

    Args:
        clean: the validated results table (index: the row labels used in problems).
        history: the campaign's history (:meth:`doe.Campaign.history`).
        config: the campaign's configuration.
        config_version: the configuration version new experiments are recorded under.
        summary: outcomes whose values in the table are history means (it carries their
            ``_sd``/``_n`` columns; :func:`~doe.domain.read_back.summary_outcomes`). An
            unlabelled mean of a known experiment with measured cells is not another cell: the
            stored mean again adds nothing; another value is a problem when the experiment has
            labelled cells or several (a cell is changed under its own label).
        labelled: ``(experiment_id, outcome)`` pairs with labelled cells
            (:func:`~doe.domain.replicates.labelled_cells`).
        exported_history: the table is an exported history (:func:`doe.domain.exports.export_view`).
            Its ``note`` joins the notes of an experiment's measurements: for a known experiment
            it is no measurement's note, so it is not read (it would replace each). A row of a
            known experiment that carries no result (a proposed or running one), or an abandoned
            one's row as exported, records nothing: the file recorded back changes nothing (in
            a cells file, where its ``status`` is the stored one).
        exported_status: the table's ``status`` column, where it has one (an exported history or
            cells file; one entry per row of the table given to :func:`validated_rows`). A row
            of an experiment new to this campaign that was never made in its own (``proposed``,
            or ``abandoned`` with its reason read as a failure) and carries no result is left
            out and said in :attr:`RecordPlan.never_made`: recorded, it became a running
            experiment, or a failed run that the feasibility model counts against its recipe.

    Returns:
        The plan; rows with problems contribute nothing but their problems.
    """
    known = history.set_index(ID_COLUMN) if len(history) else None
    plan = RecordPlan()
    created: dict[str, int] = {}  # id -> index in plan.new_experiments, for later cells of it
    measured_known: set[str] = set()  # known experiments a row of this table has measured
    failed_labelled: dict[str, list[str]] = {}  # experiment id -> its failed cells, in words
    changes: dict[str, list[tuple[StatusChange | None, bool]]] = {}  # known experiment -> its rows' (change, whole)
    failed_whole: set[int] = set()  # new experiments a row without a replicate label fails as a whole
    stored_ids = [str(i) for i in (known.index if known is not None else [])]
    keys = {id_key(clean_label(i)): i for i in stored_ids}
    # ids an older doe stored with an invisible character, by what they show
    hidden = {id_key(without_invisible(clean_label(i))): i for i in stored_ids if not is_plain_label(i)}
    # ids stored as written (before they were composed, or imported with spaces around them)
    cleaned: dict[str, list[str]] = {}
    exact = set(stored_ids)
    for i in stored_ids:
        cleaned.setdefault(clean_label(i), []).append(i)
    for pos, (label, row) in enumerate(clean.iterrows()):
        read = _read_row(clean, label, row, config)
        spellings = cleaned.get(str(read.experiment_id), [])
        if read.experiment_id not in created and read.experiment_id not in exact and len(spellings) > 1:
            plan.problems.append(CellProblem(read.label, ID_COLUMN, read.experiment_id, (
                f"names {len(spellings)} stored experiments ({', '.join(map(repr, spellings))}) that differ only in "
                "spaces or in how their characters are written; doe cannot tell which one is meant")))
            plan.row_ids.append(None)
            continue
        if read.experiment_id is not None and read.experiment_id not in created and len(spellings) == 1:
            read = replace(read, experiment_id=spellings[0])
        is_known = read.experiment_id is not None and known is not None and read.experiment_id in known.index
        if is_known and (exported_history or exported_status is not None):
            read = replace(read, note=None) if exported_history else read
            assert known is not None
            as_stored = known.loc[str(read.experiment_id)]
            edited = read.context or any(p in clean.columns and not is_missing(row[p]) and not same_value(
                row[p], as_stored[p]) for p in config.parameter_names)  # refused or recorded below, not skipped
            if exported_history:
                as_exported = not read.failed or (
                    as_stored["status"] == "abandoned" and read.reason == as_stored["failure_reason"])
            else:  # a cells file: an experiment without a result, with the status it has
                as_exported = not read.failed and _exported_status(exported_status, label) == as_stored["status"] in (
                    "proposed", "running", "abandoned")
            if not read.measured and not edited and as_exported:
                if as_stored["status"] in ("proposed", "running"):  # left out, as in a run sheet
                    plan.not_measured.append(CellProblem(read.label, ID_COLUMN, read.experiment_id, (
                        f"{read.experiment_id} is {as_stored['status']} and the row gives no result yet: "
                        "nothing recorded")))
                    plan.row_ids.append(None)
                else:
                    plan.row_ids.append(read.experiment_id)  # as exported: nothing to record
                continue
        elif is_known and not read.measured and not read.failed and read.note is None and not read.context:
            assert known is not None
            as_stored = known.loc[str(read.experiment_id)]
            # a cell's row of a measured (or failed) experiment, empty: the cell is not made yet (a run
            # sheet with a row per cell, recorded again as its other rows are filled in)
            cell = read.replicate is not None and as_stored["status"] in ("completed", "failed")
            if (as_stored["status"] in ("proposed", "running") or cell) and not any(
                    p in clean.columns and not is_missing(row[p]) and not same_value(row[p], as_stored[p])
                    for p in config.parameter_names):
                of = f" for its cell replicate {read.replicate!r}" if cell else ""
                plan.not_measured.append(CellProblem(read.label, ID_COLUMN, read.experiment_id, (
                    f"{read.experiment_id} is {as_stored['status']} and the row gives no result{of} yet: "
                    "nothing recorded")))
                plan.row_ids.append(None)  # not a recorded row: its experiment stays pending (a runner waits on)
                continue
        new = change = None
        fresh = read.experiment_id is not None and not is_known and read.experiment_id not in created
        twin = keys.get(id_key(read.experiment_id)) if fresh and read.experiment_id is not None else None
        if twin is not None:
            problems = [CellProblem(read.label, ID_COLUMN, read.experiment_id,
                                    f"differs from the experiment id {twin!r} only in upper and lower case, in how "
                                    "its characters are written or in zeros a spreadsheet drops or adds (leading "
                                    "zeros, '001' for '1', a '.0', or trailing decimal ones, '1.10' for '1.1'); "
                                    f"write {twin!r} to record it, or give a new "
                                    "experiment an id of its own")]
        elif fresh and (shown := hidden.get(id_key(str(read.experiment_id)))) is not None:
            problems = [CellProblem(read.label, ID_COLUMN, read.experiment_id,
                                    f"differs from the stored experiment id {shown!r} only in invisible characters "
                                    "(a zero-width space, a direction mark), which an older doe let an id hold; "
                                    "copy the id from the history or an export to record it, or give a new "
                                    "experiment an id of its own")]
        elif fresh and not is_plain_label(str(read.experiment_id)):
            problems = [CellProblem(read.label, ID_COLUMN, read.experiment_id,
                                    f"a new experiment id holds {refused_character(str(read.experiment_id))} (no "
                                    "line break, control or invisible character, such as a zero-width space or a "
                                    "direction mark); type the id again")]
        elif read.experiment_id is not None and read.experiment_id in created:
            # another replicate cell of an experiment that an earlier row of this table creates
            index = created[read.experiment_id]
            problems = _plan_later_cell(clean, row, read, plan.new_experiments[index])
            if not problems:
                plan.new_experiments[index] = _merge_status(plan.new_experiments[index], read,
                                                            failed_whole=index in failed_whole)
        elif is_known:
            assert known is not None and read.experiment_id is not None
            stored = known.loc[read.experiment_id]
            assert isinstance(stored, pd.Series)  # experiment ids are unique in a history
            problems, change = _plan_known_row(clean, row, read, stored, config,
                                               measured=read.experiment_id in measured_known)
            if change is not None and change.status == "completed" and stored["status"] == "failed" and (
                    _exported_status(exported_status, label) == "failed"):
                change = None  # measured, then failed, as exported (stored_recipes_left_out): it stays failed
            if not problems and read.replicate is None and read.cycle is None:
                problems, read = _read_means(read, stored, summary, labelled, plan.unchanged_means)
            if not problems and read.measured:
                measured_known.add(str(read.experiment_id))
        else:
            problems, new = _plan_new_row(clean, row, read, config, config_version)
        if problems:
            plan.problems.extend(problems)
            plan.row_ids.append(None)
            continue
        if new is not None and not read.measured and (status := _exported_status(exported_status, label)) in (
                "proposed", "abandoned"):
            plan.never_made.append(CellProblem(read.label, "status", status, f"{read.experiment_id or 'the row'} was "
                                               f"{status} in its campaign, never made, so not recorded"))
            plan.row_ids.append(None)
            continue
        target: ExperimentRef
        if new is not None:
            plan.new_experiments.append(new)
            plan.new_rows.append(pos)
            target = NewExperimentRef(len(plan.new_experiments) - 1)
            if read.experiment_id is not None:
                created[read.experiment_id] = len(plan.new_experiments) - 1
                keys[id_key(read.experiment_id)] = read.experiment_id
        elif read.experiment_id is not None and read.experiment_id in created:
            target = NewExperimentRef(created[read.experiment_id])
        else:
            target = str(read.experiment_id)
        if read.failed and read.replicate is not None:
            reason = read.reason or "failed (no reason given)"
            plan.cell_failures.append(CellFailure(target, read.replicate, reason, note=read.note, **read.context))
            if read.experiment_id is not None:
                failed_labelled.setdefault(read.experiment_id, []).append(
                    f"{read.experiment_id} replicate {read.replicate!r}: {reason!r}")
        if read.failed and read.replicate is None and isinstance(target, NewExperimentRef):
            failed_whole.add(target.index)
        if is_known and read.experiment_id is not None:  # planned once all its rows are read
            changes.setdefault(read.experiment_id, []).append((change, read.failed and read.replicate is None))
        plan.row_ids.append(read.experiment_id)
        for outcome, value in read.measured.items():
            plan.measurements.append(NewMeasurement(target, outcome, value, unit=config.unit_of(outcome),
                                                    note=read.note, replicate=read.replicate,
                                                    cycle=point_cycle(config, outcome, read.cycle), **read.context))
    plan.status_changes.extend(filter(None, (_final_change(rows, i in measured_known) for i, rows in changes.items())))
    final = {c.experiment_id: c.status for c in plan.status_changes if isinstance(c.experiment_id, str)}
    final.update({e.experiment_id: e.status for e in plan.new_experiments if e.experiment_id is not None})
    for exp_id, cells in failed_labelled.items():
        stored_status = known.loc[exp_id, "status"] if known is not None and exp_id in known.index else None
        if final.get(exp_id, stored_status) == "completed":
            plan.failed_cells.extend(cells)
    return plan


def _final_change(of_rows: list[tuple[StatusChange | None, bool]], measured: bool) -> StatusChange | None:
    """The one status change of a known experiment, whatever the order of its rows (``of_rows``:
    each row's change and whether it fails the whole experiment, having no replicate label). Such
    a row decides it; else a cell measured in the table (``measured``) makes it completed and
    its failed cells stay cells; else the first failed cell's failure fails it."""
    if whole := [change for change, fails_whole in of_rows if fails_whole]:
        return whole[0]  # None where that failure is stored already
    wanted = [change for change, _ in of_rows if change is not None]
    if measured:
        return next((c for c in wanted if c.status == "completed"), None)
    return next((c for c in wanted if c.status == "failed"), None)


NOT_MEASURED = ("the row has no measured outcome and is not marked failed: give a result, mark it failed "
                "(failed = True and a failure_reason), or clear what else the row gives (a note, a date): a row "
                "with nothing but its recipe is left out, its experiment pending")
"""The problem of a row that gives something about an experiment (a note) but no result."""


def _plan_later_cell(clean: pd.DataFrame, row: pd.Series, read: _Row, first: NewExperiment) -> list[CellProblem]:
    """Problems of a row that adds a replicate cell to an experiment created earlier in the table."""
    problems = []
    for p, value in first.parameters.items():
        if p in clean.columns and not is_missing(row[p]) and not same_value(row[p], value):
            problems.append(CellProblem(read.label, p, row[p],
                                        f"differs from {value!r} in the first row of {read.experiment_id}; "
                                        "the cells of one experiment share its recipe"))
    if not read.measured and not read.failed:
        problems.append(CellProblem(read.label, ID_COLUMN, read.experiment_id,
                                    NOT_MEASURED))
    return problems


def _read_means(read: _Row, stored: pd.Series, summary: Collection[str], labelled: Collection[tuple[str, str]],
                unchanged: list[tuple[str, str]]) -> tuple[list[CellProblem], _Row]:
    """Problems of a row of history means about a known experiment, and the row with the
    means already stored left out (listed in ``unchanged``). Any table's value of a curve
    outcome that the history shows predicted at its cycle (points recorded, not up to it) is left
    out where it is the stored prediction: a history trimmed to ids, recipes and outcomes carries
    no column that says it was exported, and read back it would store the prediction as a point
    measured at that cycle. Another value there is a measurement at that cycle (one typed in the
    Record page's grid), except in a table of history means, where it is refused."""
    exp_id = str(read.experiment_id)
    problems, kept = [], {}
    for outcome, value in read.measured.items():
        count = stored.get(n_column(outcome))  # absent until an experiment has several cells
        if count is None or is_missing(count):
            count = 0 if is_missing(stored.get(outcome)) else 1
        n = int(count)
        predicted_sd = stored.get(outcome + PRED_SD_SUFFIX)
        curve = predicted_sd is not None  # its history value sums up points at a cycle, never a cell
        if predicted_sd is not None and not is_missing(predicted_sd) and predicted_sd > 0:
            # a curve outcome not measured at its cycle yet: the history shows the model's prediction
            if same_measurement(value, stored[outcome]):
                unchanged.append((exp_id, outcome))
            elif outcome in summary:
                problems.append(CellProblem(
                    read.label, outcome, value,
                    f"is the value predicted for {exp_id} at its cycle in the history, not a measurement; "
                    "record measured points with a cycle column"))
            else:  # another value in a table of the lab's own (the Record page's grid): measured at its cycle
                kept[outcome] = value
        elif outcome not in summary or (n == 0 and not (curve and (exp_id, outcome) in labelled
                                                         and not is_missing(stored.get(outcome)))) or \
                (n == 1 and not curve and (exp_id, outcome) not in labelled):
            kept[outcome] = value  # a new cell, or the one unlabelled cell itself (with the row's note)
        elif same_measurement(value, float(stored[outcome])):  # (a curve of labelled cells: their mean at its cycle)
            unchanged.append((exp_id, outcome))
        else:
            problems.append(CellProblem(
                read.label, outcome, value,
                f"is the mean of {exp_id}'s {'cells at its cycle' if curve else f'{n} cell(s)'} in the history "
                f"({to_python(stored[outcome])!r} stored), not a cell; to change a cell, record it with its replicate "
                "label (doe export --cells lists them)"))
    return problems, replace(read, measured=kept)


def _exported_status(statuses: Sequence[Any] | None, label: Hashable) -> str | None:
    if statuses is None:
        return None
    value = statuses[int(label)]  # type: ignore[call-overload]  # validated tables have integer labels
    return value.strip().lower() if isinstance(value, str) else None


def _merge_status(first: NewExperiment, read: _Row, *, failed_whole: bool) -> NewExperiment:
    """A new experiment once another of its rows is read, as a stored one (:func:`_final_change`):
    the first failed row without a label (``failed_whole``: read already) fails it whole, its cells
    kept; else any measured cell makes it ``completed``; ``failed`` only when no cell gave a result."""
    if failed_whole:
        return first
    if read.failed and read.replicate is None:
        return replace(first, status="failed", failure_reason=read.reason or "failed (no reason given)",
                       **{"note": None, "operator": None, "sample_id": None, "measured_at": None,
                          **failure_context(read.note, read.context, whole=True)})
    if read.measured and first.status != "completed":
        return replace(first, status="completed", failure_reason=None)
    if read.failed and first.status == "running":
        return replace(first, status="failed", failure_reason=read.reason or "failed (no reason given)",
                       **failure_context(read.note, read.context, whole=read.replicate is None))
    return first


def _read_row(clean: pd.DataFrame, label: Hashable, row: pd.Series, config: CampaignConfig) -> _Row:
    columns = clean.columns
    exp_id = row.get(ID_COLUMN) if ID_COLUMN in columns else None
    exp_id = None if is_missing(exp_id) else str(exp_id)
    reason = row.get("failure_reason") if "failure_reason" in columns else None
    reason = reason if isinstance(reason, str) and reason.strip() else None
    note = row.get("note") if "note" in columns else None
    replicate = row.get(REPLICATE_COLUMN) if REPLICATE_COLUMN in columns else None
    return _Row(
        label=int(label),  # type: ignore[call-overload]  # validated tables have integer labels
        experiment_id=exp_id,
        failed=bool(row.get("failed", False)) or reason is not None,
        reason=reason,
        measured={o: float(row[o]) for o in config.outcome_names if o in columns and not is_missing(row[o])},
        note=note if isinstance(note, str) else None,
        replicate=replicate if isinstance(replicate, str) else None,
        cycle=int(row[CYCLE_COLUMN]) if CYCLE_COLUMN in columns and not is_missing(row[CYCLE_COLUMN]) else None,
        context={c: row[c] for c in ("measured_at", "operator", "sample_id") if c in columns and not is_missing(row[c])},
    )


def _plan_known_row(clean: pd.DataFrame, row: pd.Series, read: _Row, stored: pd.Series,
                    config: CampaignConfig, measured: bool = False) -> tuple[list[CellProblem], StatusChange | None]:
    """Problems and the status change of a row about an experiment in the history.

    A failed row with a ``replicate`` label is one failed cell (stored with its own reason): it
    asks to fail the experiment only when no cell has given a result (none stored, none in an
    earlier row of the table, ``measured``) and the experiment is not failed already;
    :func:`_final_change` drops that where a later row measures a cell, and keeps the first
    failed cell's reason, as for a new experiment (:func:`_merge_status`), so the same table
    recorded again changes nothing. A failed row without a label marks the whole experiment
    failed (with another reason: replaces the stored one), keeping the row's note, operator,
    sample id and date with the failure (the same failure with other ones asks to store them:
    :func:`doe.domain.failure_context.context_differs`). Where that replaces a recorded
    result, the store refuses it without ``correct=True`` (:meth:`doe.Campaign.record`).
    """
    exp_id = str(read.experiment_id)
    problems = []
    for p in config.parameter_names:
        given = p in clean.columns and not is_missing(row[p])
        if given and not same_value(row[p], stored[p]):
            problems.append(CellProblem(read.label, p, row[p], f"differs from the stored value {to_python(stored[p])!r} of "
                                        f"{exp_id}{_rounded(row[p], stored[p])}; a recorded experiment keeps its recipe: "
                                        "leave the cell as doe wrote it or empty it (results need only experiment_id "
                                        "and the outcomes), or record another recipe under a new id"))
    if stored["status"] == "abandoned":
        problems.append(CellProblem(read.label, ID_COLUMN, exp_id, "the experiment was abandoned; record it under a new id"))
    status = stored["status"]
    change = None
    cell_only = read.replicate is not None and (measured or status in ("completed", "failed"))
    if read.failed:  # a failed cell of an experiment with results, or of a failed one, leaves its status
        context = failure_context(read.note, read.context, whole=read.replicate is None)
        if not cell_only and (status != "failed" or (read.reason and read.reason != stored.get("failure_reason"))
                              or context_differs(context, stored.to_dict())):
            change = StatusChange(exp_id, "failed", read.reason or "failed (no reason given)", **context)
    elif read.measured and status != "completed":
        change = StatusChange(exp_id, "completed")
    elif not read.measured:
        problems.append(CellProblem(read.label, ID_COLUMN, exp_id,
                                    NOT_MEASURED))
    return problems, change


def _rounded(typed: Any, stored: Any) -> str:
    """`` (rounded?)`` where ``typed`` is ``stored`` rounded to the decimals it shows (a sheet
    whose recipe columns were rounded in a spreadsheet), else empty."""
    if not is_real_number(typed) or not is_real_number(stored) or is_missing(typed) or is_missing(stored):
        return ""
    text = repr(float(typed))
    decimals = len(text.split(".")[1].rstrip("0")) if "." in text and "e" not in text else 0
    return " (it is that value rounded)" if round(float(stored), decimals) == float(typed) else ""


def _plan_new_row(clean: pd.DataFrame, row: pd.Series, read: _Row, config: CampaignConfig,
                  config_version: int) -> tuple[list[CellProblem], NewExperiment | None]:
    """Problems and the new experiment of a row about an experiment not in the history."""
    missing = [p for p in config.parameter_names if p not in clean.columns or is_missing(row[p])]
    if read.experiment_id is not None and len(missing) == len(config.parameter_names):  # a mistyped id, likely
        return [CellProblem(read.label, ID_COLUMN, read.experiment_id, (
            f"no experiment {read.experiment_id!r} in this campaign and the row gives no recipe: check the id (the "
            "results of a proposed experiment go under its id), or give every parameter to record a new experiment "
            "under it"))], None
    problems = [CellProblem(read.label, p, None,
                            f"a new experiment needs every parameter ({config.parameter(p).describe_allowed()})")
                for p in missing]
    if missing:
        return problems, None
    values = {p: to_python(row[p]) for p in config.parameter_names}
    for con in config.linear_constraints:
        if not con.satisfied(values):
            problems.append(CellProblem(read.label, ",".join(con.coefficients), values,
                                        f"violates constraint {con.text()}"))
    if problems:
        return problems, None
    status: ExperimentStatus = "failed" if read.failed else ("completed" if read.measured else "running")
    return [], NewExperiment(
        parameters=values, status=status, config_version=config_version, experiment_id=read.experiment_id,
        source="import", failure_reason=read.reason if read.failed else None,
        **failure_context(read.note, read.context, whole=read.failed and read.replicate is None),
    )
