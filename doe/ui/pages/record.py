"""Record page: fill in outcomes of running experiments as they come (efficiency today,
retention weeks later), add replicate cells of an experiment, mark runs failed with a
reason, upload a results file, add historical experiments. Nothing is saved until the whole table is valid; every bad cell is
listed; a value that differs from one stored needs an explicit correction."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components_v1

from doe.domain.config import CampaignConfig
from doe.domain.curves import CYCLE_COLUMN
from doe.domain.parameters import CategoricalParameter, DiscreteParameter
from doe.domain.records import MAX_REPLICATE
from doe.domain.replicates import REPLICATE_COLUMN
from doe.errors import ConflictError
from doe.storage.snapshot import CampaignState
from doe.ui import components, resources, state
from doe.ui.cycler_upload import cycler_files
from doe.ui.entry_templates import cycle_template, history_template, replicate_template
from doe.ui.number_cells import entry_numbers, exact_text, number_text, text_columns, typed_values
from doe.ui.shown_numbers import number_table
from doe.ui.tables import (
    ID_COLUMN,
    GridSelection,
    UnsavedEdits,
    apply_editor_state,
    drop_saved,
    filled_rows,
    grid_changes,
    merge_unsaved,
    parse_column_mapping,
    problems_frame,
    record_grid,
    replacing_cells,
    unsaved_edits,
)

# Suffix of the session-state key that numbers an entry table (_entry_table): a new number
# empties that table, once its own rows are recorded (never another table's typed rows).
ENTRY_VERSION = "_version"
FAIL_VERSION = f"{state.FAIL_IDS}_version"  # a new form once runs are marked failed (not cleared on submit)
FAIL_DONE_AT = f"{state.FAIL_IDS}_done_at"


@dataclass(frozen=True)
class _PendingCorrection:
    """A table kept for an explicit correction, with the campaign's stored state it was checked against:
    once anything is stored, it may carry values replaced meanwhile (a note typed alone carries
    the cell's values as they were) or be read against another batch or configuration, so it is
    not offered any more."""

    table: pd.DataFrame
    stored: CampaignState
    campaign: str  # offered on this campaign only: every campaign has an E0001
    source: str | None = None  # the entry table the rows were typed into (emptied once they are recorded)


def _keep(handle: resources.CampaignHandle, table: pd.DataFrame, source: str | None = None) -> None:
    st.session_state[state.PENDING_CORRECTION] = _PendingCorrection(table, handle.campaign.state(),
                                                                    handle.campaign.name, source)


def _entry_key(key: str) -> str:
    """The widget key of the entry table ``key`` now (a new one once its rows are recorded)."""
    return f"{key}_{st.session_state.get(key + ENTRY_VERSION, 0)}"


def _entry_recorded(source: str | None) -> None:
    """Empty the entry table ``source`` (its rows are recorded); every other table keeps what was typed."""
    if source is not None:
        st.session_state[source + ENTRY_VERSION] = st.session_state.get(source + ENTRY_VERSION, 0) + 1


def _record(handle: resources.CampaignHandle, table: pd.DataFrame, what: str, *, correct: bool = False,
            source: str | None = None) -> bool:
    """Record ``table`` (typed into the entry table ``source``, if any: emptied once recorded); on
    a conflict keep it for an explicit correction. True if saved."""
    person = components.require("record")
    if person is None:
        return False
    with components.guard(f"recording {what}", table) as recording, handle.acting(person) as c:
        try:
            report = c.record(table, correct=correct)
        except ConflictError:
            _keep(handle, table, source)
            raise
        if report.context_not_stored:  # offered as a correction, as a changed value is
            _keep(handle, table, source)
    if isinstance(recording.error, ConflictError):
        _correction(handle)
    if recording.ok:
        if not report.context_not_stored:
            st.session_state.pop(state.PENDING_CORRECTION, None)
        components.flash("success", f"Saved {what}: {components.report_text(report)}")
        _entry_recorded(source)
        return True
    return False


def _correction(handle: resources.CampaignHandle) -> None:
    pending: _PendingCorrection | None = st.session_state.get(state.PENDING_CORRECTION)
    if pending is None or pending.campaign != handle.campaign.name:
        return
    if pending.stored != handle.campaign.state():
        st.session_state.pop(state.PENDING_CORRECTION, None)
        # any stored change, not only to these experiments' values: a batch proposed meanwhile can take an
        # id the table gives a new experiment, and a new configuration checks the values otherwise
        st.info("The campaign changed since these values were checked (something was stored meanwhile: "
                "results, a proposed batch or a configuration, say), so the correction is no longer offered: "
                "look at the stored values and enter the correction again.")
        return
    table = pending.table
    st.warning("Some values differ from values recorded before, or come with another note, operator, sample id "
               "or date. Correct the stored values only if the "
               "new ones are right (e.g. a typo was fixed, a cell stored as failed was measured after all, or "
               "a measured cell was found cracked); the old values stay in the history, an old failure "
               "reason in the audit trail.")
    st.dataframe(table, hide_index=False)
    keep, drop = st.columns(2)
    if keep.button("Correct the stored values", type="primary", key="record_correct_confirm") and _record(
            handle, table, "the corrected values", correct=True, source=pending.source):
        _grid_saved(handle.campaign.config, handle.campaign.name, table)
        st.rerun()
    if drop.button("Discard these values", key="record_correct_discard"):
        st.session_state.pop(state.PENDING_CORRECTION, None)
        # the grid shows the stored values again where the table replaced them; other typed values stay
        _grid_saved(handle.campaign.config, handle.campaign.name,
                    replacing_cells(table, handle.campaign.history(), handle.campaign.config))
        st.rerun()


def _grid_config(config: CampaignConfig) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "failed": st.column_config.CheckboxColumn("failed", help="the run gave no result"),
        "failure_reason": st.column_config.TextColumn("failure reason", help="why the run failed"),
        "note": st.column_config.TextColumn("note", help="kept with the recorded values"),
        "measured_at": st.column_config.DateColumn("measured on", help="the day the values were measured"),
        # no max_chars: the editor would cut a longer text without a word; validation refuses it, naming the cell
        "operator": st.column_config.TextColumn("operator", help="who measured them (at most 200 characters)"),
        "sample_id": st.column_config.TextColumn("sample / cell id",
                                                 help="as written on the sample or cell (at most 64 characters)"),
    }
    return columns | {o: _outcome_column(config, o) for o in config.outcome_names}


@dataclass(frozen=True)
class _ShownGrid:
    """The Record grid as last handed to the editor: its key, the data it got (stored values
    with the person's unsaved ones on top, the outcomes as text), the values behind that text
    and the stored values it was compared with. ``saved``: the values it held were saved (its
    editor's state is stale: the next run shows a fresh grid)."""

    number: int  # grows across campaigns: each grid its own editor key
    campaign: str
    shown: pd.DataFrame
    values: pd.DataFrame
    original: pd.DataFrame
    selection: str
    stored: CampaignState
    saved: bool = False

    @property
    def key(self) -> str:
        return f"{state.GRID}_{self.number}"


def _unsaved(config: CampaignConfig, campaign: str) -> UnsavedEdits:
    """The person's unsaved grid values of ``campaign``: read from the editor's widget state when
    it is still there (the value typed last), else those kept from an earlier run (another page
    or campaign visited). Kept per campaign: every campaign has an E0001."""
    last: _ShownGrid | None = st.session_state.get(state.GRID_SHOWN)
    if last is not None and last.campaign == campaign and not last.saved and last.key in st.session_state:
        edited = _typed(last, apply_editor_state(last.shown, st.session_state[last.key]), config)
        _keep_unsaved(campaign, unsaved_edits(last.original, edited, config))
    return st.session_state.get(state.GRID_UNSAVED, {}).get(campaign, {})


def _keep_unsaved(campaign: str, edits: UnsavedEdits) -> None:
    st.session_state[state.GRID_UNSAVED] = {**st.session_state.get(state.GRID_UNSAVED, {}), campaign: edits}


def _typed(grid: _ShownGrid, edited: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """The grid's values as edited: a number typed as text read; an outcome cell not edited
    keeps the value behind its text (a value shown rounded stays exact)."""
    return typed_values(edited, config.outcome_names, grid.shown, grid.values)


def _grid_saved(config: CampaignConfig, campaign: str, saved: pd.DataFrame) -> None:
    """The person's grid values recorded (or discarded) in ``saved`` are no longer unsaved: the
    next run shows a fresh grid (no 'the campaign changed' note, no warning before leaving) with the
    others kept."""
    unsaved = _unsaved(config, campaign)
    last: _ShownGrid | None = st.session_state.get(state.GRID_SHOWN)
    _keep_unsaved(campaign, drop_saved(unsaved, saved))
    if last is not None:
        st.session_state[state.GRID_SHOWN] = replace(last, saved=True)


def _fresh_grid(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame,
                selection: GridSelection) -> tuple[_ShownGrid, bool]:
    """The grid for this run: the same one while nothing was stored meanwhile (the editor keeps
    its state), else the stored values with the person's unsaved ones merged on top, under a
    new key (the editor's state is by row position; rows move when someone else saves); and
    whether it was drawn anew under the person's unsaved values because something was stored
    meanwhile (said on the page: what they see now is not what they saw)."""
    stored_state, name = handle.campaign.state(), handle.campaign.name
    last: _ShownGrid | None = st.session_state.get(state.GRID_SHOWN)
    if (last is not None and last.campaign == name and not last.saved and last.key in st.session_state
            and last.stored == stored_state and last.selection == selection):
        return last, False
    unsaved = _unsaved(config, name)
    awaiting = set(record_grid(history, config, selection)[ID_COLUMN].astype(str)) | set(unsaved)
    stored = record_grid(history, config, "all")
    stored = stored[stored[ID_COLUMN].astype(str).isin(awaiting)]
    stored.index = pd.RangeIndex(1, len(stored) + 1)
    merged = merge_unsaved(stored, unsaved)
    _keep_unsaved(name, merged.kept)
    _left_out(unsaved, stored, history)
    number = last.number + 1 if last is not None else 1
    grid = _ShownGrid(number, name, text_columns(merged.grid, config.outcome_names), merged.grid, stored, selection,
                      stored_state)
    st.session_state[state.GRID_SHOWN] = grid
    changed = bool(merged.kept) and last is not None and last.campaign == name and last.stored != stored_state
    if changed:
        st.info("The campaign changed since the grid was shown (something was stored meanwhile). Your unsaved "
                "values are kept on the updated grid; save them when ready.")
    if merged.conflicts:
        cells = ", ".join(f"{exp_id} {column}" for exp_id, column in merged.conflicts)
        st.warning(components.plain(
            f"Someone else stored other values meanwhile for {cells}. Your values are kept in the grid; "
            "saving them replaces the stored ones only as an explicit correction."))
    return grid, changed or bool(merged.conflicts)


def _left_out(unsaved: UnsavedEdits, grid: pd.DataFrame, history: pd.DataFrame) -> None:
    """Name the person's unsaved values of experiments the redrawn ``grid`` no longer lists (one
    abandoned by someone else meanwhile): said once, with the values, never dropped unsaid."""
    listed = set(grid[ID_COLUMN].astype(str))
    status = dict(zip(history[ID_COLUMN].astype(str), history["status"], strict=True))
    gone = [f"{exp_id} is {status.get(exp_id, 'gone')} now (yours: "
            + ", ".join(f"{column} = {number_text(edit.after) or 'empty'}" for column, edit in cells.items()) + ")"
            for exp_id, cells in unsaved.items() if exp_id not in listed]
    if gone:
        text = ("Not saved, and no longer in the grid: " + "; ".join(gone) + ". Someone changed them meanwhile. Note "
                "the values; a result measured all the same goes under a new id (Add historical experiments below).")
        st.warning(components.plain(text))
        # also after a rerun of this run (a form below the grid saved): drawn only here, it vanished with the values;
        # taken back at the end of a run that shows it (render)
        components.flash("warning", text)
        st.session_state[state.GRID_LEFT_OUT] = text


def _grid(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    st.subheader("Results of running experiments")
    show = st.radio("Show", ["awaiting results", "all experiments"], horizontal=True, key=state.GRID_SHOW,
                    help="'awaiting results': proposed and running ones and those still missing an objective")
    grid, changed = _fresh_grid(handle, config, history, "awaiting" if show == "awaiting results" else "all")
    original = grid.original
    if original.empty:
        st.caption("No experiment awaits results. Accept a batch on the Plan page, or add history below.")
        return
    disabled = [ID_COLUMN, "status", "batch_id", *config.parameter_names]
    recipes = st.toggle("Show each recipe's parameters", key=state.GRID_PARAMETERS,
                        help="The outcomes come first; the recipe's parameters follow them when shown.")
    order = [c for c in grid.shown.columns if recipes or c not in config.parameter_names]
    # the recipes (read only): each parameter at the lab's resolution, else 4 significant figures
    data, numbers = number_table(grid.shown, config, only=config.parameter_names)
    edited = _typed(grid, st.data_editor(data, disabled=disabled, column_config=_grid_config(config) | numbers,
                                         key=grid.key, column_order=order), config)
    # kept beyond the editor's state, which Streamlit drops when another page is visited
    unsaved = unsaved_edits(original, edited, config)
    _keep_unsaved(grid.campaign, unsaved)
    _warn_before_leaving(bool(unsaved))
    st.caption("Enter each value as it is measured; empty = not measured yet. Tick 'failed' with a reason "
               "for a run that gave no result.")
    correct_key = state.of_campaign(state.CORRECT, handle.campaign.name)  # a tick for one campaign, not the next
    correct = components.one_off_checkbox("Correct stored values (replace values recorded before; the old ones "
                                          "stay in the history)", key=correct_key,
                                          help="For the next save only: unticked again once the values are saved.")
    if st.button("Save results", type="primary"):
        if changed:  # values stored after the grid the person pressed on was drawn: unseen, maybe under theirs
            st.warning("Nothing saved: the campaign changed since the grid was shown (someone stored values "
                       "meanwhile). Look at the updated grid, then press 'Save results' again; a stored value "
                       "is replaced only as a correction.")
            return
        with components.guard("reading the grid", edited) as reading:
            changes = grid_changes(original, edited, config, history, handle.campaign.measurements())
        if not reading.ok:
            return
        if changes.empty:
            st.info("Nothing to save: no cell was changed.")
            return
        if _record(handle, changes, "the results", correct=correct):
            _grid_saved(config, handle.campaign.name, changes)
            components.untick(correct_key)  # a correction is a one-off: the next save corrects nothing unasked
            st.rerun()


def _warn_before_leaving(pending: bool) -> None:
    """While the grid holds unsaved values, the browser asks before the page is left or reloaded
    (a ``beforeunload`` handler on the app's window; removed once nothing is pending)."""
    handler = "function (e) { e.preventDefault(); e.returnValue = ''; return ''; }" if pending else "null"
    components_v1.html(f"<script>window.parent.onbeforeunload = {handler};</script>", height=0)


def _fail(handle: resources.CampaignHandle, history: pd.DataFrame) -> None:
    st.subheader("Mark runs failed")
    pending = history[history["status"].isin(["proposed", "running"])][ID_COLUMN].astype(str).tolist()
    # cleared only after the runs are marked: clear_on_submit emptied the form for the second
    # click of a double click, which then stopped the first one's run before anything was marked
    version = st.session_state.get(FAIL_VERSION, 0)
    # a chosen experiment that someone else measured or failed meanwhile stays chosen, and is refused below:
    # dropped from the options, Streamlit took it out of the choice and the others were marked without a word
    ids_key = state.of_campaign(f"{state.FAIL_IDS}:{version}", handle.campaign.name)
    gone = [i for i in st.session_state.get(ids_key) or [] if i not in pending]
    with st.form("fail_form"):
        ids = st.multiselect("Experiments", pending + gone, key=ids_key)
        reason = st.text_input("Reason", key=state.of_campaign(f"{state.FAIL_REASON}:{version}", handle.campaign.name),
                               placeholder="e.g. dispersion gelled")
        submitted = st.form_submit_button("Mark failed")
    if not submitted:
        return
    if not ids:
        done_at, done = st.session_state.get(FAIL_DONE_AT, (-1e9, ""))
        if time.monotonic() - done_at < components.DOUBLE_CLICK_S:  # a double click's second press
            st.success(components.plain(done))
        else:
            st.warning("Choose the experiments that failed.")
        return
    if stale := [i for i in ids if i not in pending]:
        status = dict(zip(history[ID_COLUMN].astype(str), history["status"], strict=True))
        st.error(components.plain("Nothing marked: " + ", ".join(f"{i} is {status.get(i, 'gone')} now" for i in stale)
                                  + " (changed since you chose it); take it out of the choice to mark the others "
                                    "failed."))
        return
    person = components.require("record")
    if person is None:
        return
    with components.guard("marking runs failed") as failing, handle.acting(person) as c:
        c.fail(ids, reason)
    if failing.ok:
        done = f"Marked {', '.join(ids)} failed: {reason.strip()}."
        st.session_state[FAIL_VERSION] = version + 1
        st.session_state[FAIL_DONE_AT] = (time.monotonic(), done)
        components.flash("success", done)
        st.rerun()


def _keep_for_correction(handle: resources.CampaignHandle, c: Any, sent: Any, mapping: dict[str, str]) -> None:
    """The uploaded table, kept for :func:`_correction` to record with ``correct=True``."""
    from doe.io import read_table

    _keep(handle, read_table(io.BytesIO(sent.data), c.config, column_mapping=mapping or None,
                             file_format=sent.file_format, sheet=sent.sheet))


def _upload(handle: resources.CampaignHandle) -> None:
    st.subheader("Upload a results file")
    st.caption("A CSV or Excel file, e.g. the run sheet from the Plan page with the outcomes filled in. "
               "Rows with an experiment_id add results to it; rows without one are new experiments.")
    duplicates_key = state.of_campaign(state.RESULTS_ALLOW_DUPLICATES, handle.campaign.name)
    sent = components.file_upload_form(
        "results_upload", "Results file", "Record the file",  # a form of its own per campaign: a file chosen
        file_key=state.of_campaign(state.RESULTS_FILE, handle.campaign.name),  # for one is never sent to the next
        mapping_key=state.of_campaign(state.RESULTS_MAPPING, handle.campaign.name),
        valid_key=state.of_campaign(state.RESULTS_VALID_ONLY, handle.campaign.name),
        duplicates_key=duplicates_key)
    if sent is None:
        return
    with components.guard(f"recording {sent.name}") as recording, handle.acting(sent.person) as c:
        mapping = parse_column_mapping(sent.mapping_text)
        try:
            report = c.import_table(io.BytesIO(sent.data), column_mapping=mapping or None,
                                    file_format=sent.file_format, valid_rows_only=sent.valid_rows_only,
                                    allow_duplicates=sent.allow_duplicates, sheet=sent.sheet)
        except ConflictError:
            _keep_for_correction(handle, c, sent, mapping)
            raise
        if report.context_not_stored:  # offered as a correction, as a changed value is
            _keep_for_correction(handle, c, sent, mapping)
    if isinstance(recording.error, ConflictError):
        _correction(handle)
    if recording.ok:
        components.untick(duplicates_key)  # the next file repeats no rows unasked
        components.flash("success", f"Recorded {sent.name}: {components.report_text(report)}")
        if report.unit_conversions:  # said on screen: the stored values are not the file's numbers
            components.flash("info", "Units converted to the campaign's: " + "; ".join(report.unit_conversions))
        if report.rejected:
            components.flash("warning", f"{len({p.row for p in report.rejected})} row(s) were left out; "
                                        "upload them again once fixed:")
            st.session_state[state.REJECTED_ROWS] = problems_frame(report.rejected)
        st.rerun()


def _history_columns(config: CampaignConfig) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for p in config.parameters:
        label = p.name + (f" [{p.unit}]" if p.unit else "")
        if isinstance(p, CategoricalParameter | DiscreteParameter):
            columns[p.name] = st.column_config.SelectboxColumn(label, options=list(p.values))
        else:  # no min/max: the editor would clamp 5 to 3 silently; validation refuses it, naming the cell
            columns[p.name] = _number_column(label, help=f"a number from {exact_text(p.lower)} to {exact_text(p.upper)}")
    columns |= {o: _outcome_column(config, o) for o in config.outcome_names}
    return columns


def _history_numbers(config: CampaignConfig) -> list[str]:
    """The history table's columns typed as numbers (continuous parameters and outcomes)."""
    return [p.name for p in config.parameters if not isinstance(p, CategoricalParameter | DiscreteParameter)] + list(
        config.outcome_names)


def _number_column(label: str, help: str | None = None) -> Any:
    """A column of numbers typed as text (:mod:`doe.ui.number_cells`): Streamlit's number editor
    drops what it does not take ('1.2e3' becomes 1.23, '12,5' 125) and clamps to min/max."""
    tip = "a number, e.g. 85.5, 85,5 or 1.2e3; empty = no value"
    return st.column_config.TextColumn(label, help=f"{help}; {tip}" if help else tip, alignment="right")


def _outcome_column(config: CampaignConfig, outcome: str, help: str | None = None) -> Any:
    """An outcome's number column (typed as text), its unit in the header."""
    unit = config.unit_of(outcome)
    return _number_column(outcome + (f" [{unit}]" if unit else ""), help)


def _cell_columns(history: pd.DataFrame, replicate_help: str) -> dict[str, Any] | None:
    """The experiment and cell columns of an entry table (None, said on the page, when there is
    no experiment to pick yet)."""
    ids = history.loc[history["status"] != "abandoned", ID_COLUMN].astype(str).tolist()
    if not ids:
        st.caption("No experiment yet: accept a batch on the Plan page, or add history below.")
        return None
    # not `required`: the editor would not send a row added without it (the cell vanished on save); doe
    # refuses it, naming the cell
    return {ID_COLUMN: st.column_config.SelectboxColumn("experiment_id", options=ids),
            REPLICATE_COLUMN: st.column_config.TextColumn(  # no max_chars: validation refuses a longer one
                "replicate", help=f"{replicate_help} (at most {MAX_REPLICATE} characters)")}


def _replicates(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    st.subheader("Replicate cells")
    st.caption("One coated powder built into several cells: one row per cell, labelled A, B, C (or 1, 2, 3). "
               "The history shows each experiment's mean, sd and number of cells.")
    columns = _cell_columns(history, "the cell's label, e.g. A, B, C")
    if columns is None:
        return
    columns |= {o: _outcome_column(config, o) for o in config.outcome_names}
    columns["failure_reason"] = st.column_config.TextColumn(
        "failure reason", help="a cell that gave no result: why (e.g. cracked pellet)")
    _entry_table(handle, replicate_template(config), columns, list(config.outcome_names), state.REPLICATE_EDITOR,
                 "Record these cells", "the replicate cells")


def _cycle_points(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    if not config.curve_outcomes:
        return
    st.subheader("Cycle points")
    st.caption("Curve outcomes measured cycle by cycle: one row per experiment, cell and cycle. "
               "The Insights page shows the curves and the predicted value at the target cycle.")
    columns = _cell_columns(history, "the cell's label (empty: one cell)")
    if columns is None:
        return
    columns[CYCLE_COLUMN] = _number_column("cycle", help="the cycle number, a whole number from 1")
    columns |= {o: _outcome_column(config, o, help=f"the value at this cycle (target cycle {at})")
                for o, at in config.curve_outcomes.items()}
    _entry_table(handle, cycle_template(config), columns, [CYCLE_COLUMN, *config.curve_outcomes],
                 state.CYCLE_EDITOR, "Record these cycle points", "the cycle points")


def _add_history(handle: resources.CampaignHandle, config: CampaignConfig) -> None:
    st.subheader("Add historical experiments")
    st.caption("Experiments done before (or outside) this campaign: every parameter, the outcomes measured.")
    _entry_table(handle, history_template(config), _history_columns(config), _history_numbers(config),
                 state.HISTORY_EDITOR, "Add these experiments", "the historical experiments")


def _entry_table(handle: resources.CampaignHandle, template: pd.DataFrame, columns: dict[str, Any],
                 numbers: list[str], key: str, button: str, what: str) -> None:
    """An empty table to fill in (the ``numbers`` columns typed as text) and the button that
    records its filled rows."""
    template = text_columns(template, numbers)
    template.index = pd.RangeIndex(1, len(template) + 1)
    # a table of its own per campaign: rows typed for one campaign are never recorded into the next
    # one the sidebar selects (same config, same experiment ids: the same table to Streamlit)
    key = state.of_campaign(key, handle.campaign.name)
    edited = st.data_editor(template, num_rows="dynamic", column_config=columns,
                            key=_entry_key(key))
    if st.button(button):
        rows = filled_rows(edited)
        if rows.empty:
            st.info("Nothing to record: the table is empty.")
            return
        with components.guard(f"reading {what}", rows) as reading:
            rows = entry_numbers(rows, numbers)
        if reading.ok and _record(handle, rows, what, source=key):
            st.rerun()


def render() -> None:
    page = components.campaign_page("Record")
    if page is None:
        return
    handle, config = page.handle, page.config
    if components.refused("record", page.campaign.name):
        return
    rejected = st.session_state.pop(state.REJECTED_ROWS, None)
    if rejected is not None:
        st.dataframe(rejected, hide_index=True)
    _correction(handle)
    history = page.campaign.history()
    _grid(handle, config, history)
    _replicates(handle, config, history)
    _cycle_points(handle, config, history)
    _fail(handle, history)
    _upload(handle)
    cycler_files(handle, config, history)
    _add_history(handle, config)
    if (said := st.session_state.pop(state.GRID_LEFT_OUT, None)) is not None:
        components.unflash("warning", said)  # this run came to its end: its warning was drawn, not wiped by a rerun


if __name__ == "__main__":
    render()
