"""Plan page: ask for the next batch (size, parameters held fixed, optional candidate list),
see each suggestion with its predicted outcomes and why it was chosen, accept the batch and
download the run sheet for the lab."""

from __future__ import annotations

import io
import math
import time
from typing import Any, Literal

import pandas as pd
import streamlit as st

from doe.domain.config import CampaignConfig
from doe.domain.display import column_decimals, furnace_programme, significant_columns
from doe.domain.exports import run_sheet
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.domain.typed_number import read_number
from doe.ui import components, resources, signin, state
from doe.ui.shown_numbers import number_table
from doe.ui.tables import ID_COLUMN, proposed_with_predictions, suggestion_view

MAX_BATCH_IN_UI = 50
# A press with the same request while an earlier one is still proposing (so long) is a double click's.
# (No bare strings at module level here: Streamlit's magic would print them on the page.)
PROPOSING_MAX_S = 600.0


def _fixed_widget(config: CampaignConfig, name: str, campaign: str) -> Any:
    p = config.parameter(name)
    key = state.of_campaign(f"{state.FIXED_VALUE_PREFIX}{name}", campaign)
    label = components.plain(name + (f" [{p.unit}]" if p.unit else ""))
    if isinstance(p, CategoricalParameter):
        options, listed = list(p.values), p.listed(p.reference)  # an older doe's reference may be spelled otherwise
        return st.selectbox(label, options, index=options.index(listed) if listed is not None else 0, key=key)
    if isinstance(p, DiscreteParameter):
        numbers: list[float] = list(p.values)
        index = numbers.index(p.reference) if p.reference is not None and p.reference in numbers else 0
        return st.selectbox(label, numbers, index=index, key=key)
    assert isinstance(p, ContinuousParameter)
    default = p.reference if p.reference is not None else (p.lower + p.upper) / 2
    # text, read as the grids read numbers: a browser's number field drops a decimal comma (0,5 -> 5)
    if p.resolution is None:
        return st.text_input(label, value=f"{default:.10g}", key=key, help=f"from {p.lower:g} to {p.upper:g}")
    return st.text_input(label, value=f"{p.nearest_grid_value(default):.{p.grid_decimals}f}", key=key,
                         help=f"from {p.lower:g} to {p.upper:g} in steps of {p.resolution:g} (the lab's grid)")


def _fixed_numbers(config: CampaignConfig, fixed: dict[str, Any]) -> dict[str, Any] | None:
    """The held values with the typed numbers read (a decimal comma too); None, with a warning
    naming the parameter, where one is not a number."""
    out = dict(fixed)
    for name, value in fixed.items():
        if isinstance(config.parameter(name), ContinuousParameter):
            number, why = read_number(value)
            if why is None and math.isnan(number):
                why = "is empty: type the value to hold, or take the parameter off the held ones"
            if why is not None:
                st.warning(components.plain(f"Parameters held fixed: {name} = {str(value).strip()!r} {why}. "
                                            "Nothing was proposed."))
                return None
            out[name] = number
    return out


def _numbers(table: pd.DataFrame, config: CampaignConfig) -> tuple[Any, dict[str, Any]]:
    """``table`` and the column configs of its parameters: at the lab's resolution, else at 4
    significant figures value by value (:func:`doe.ui.shown_numbers.number_table`); display only."""
    labels = {name: f"{name} [{config.unit_of(name)}]" for name in config.parameter_names if config.unit_of(name)}
    return number_table(table, config, only=config.parameter_names, labels=labels)


def _column_config(config: CampaignConfig) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "probability_feasible": st.column_config.NumberColumn(
            "P(success)", format="percent", help="probability that the run works and meets the constraints"),
        "purpose": st.column_config.TextColumn("why this run", help="what the recipe is for, from the model's "
                                               "predictions and the recipes measured so far"),
    }
    for p in config.parameters:
        if p.unit:
            columns[p.name] = st.column_config.Column(f"{p.name} [{p.unit}]")
    for o in config.outcome_names:
        columns[f"{o} (predicted)"] = st.column_config.TextColumn(
            f"{o} (predicted)", help="the model's prediction ± its standard deviation")
    return columns


DESIGN_LABELS: dict[Literal["model", "latin_hypercube", "screening"], str] = {"model": "Model-based (a space-filling start, then the model)",
                 "latin_hypercube": "Latin hypercube", "screening": "Two-level screening (Plackett-Burman)"}


def _ask(handle: resources.CampaignHandle, config: CampaignConfig) -> None:
    fixed_names = st.multiselect("Parameters held fixed for this batch", config.parameter_names,
                                 key=state.of_campaign(state.FIXED_NAMES, handle.campaign.name),
                                 help="e.g. the solvent on the shelf, or the furnace temperature of today's run")
    # Enter in the batch-size box only keeps the number: the batch is asked for by the button alone.
    with st.form("plan_form", enter_to_submit=False):
        n = st.number_input("Batch size", min_value=1, max_value=MAX_BATCH_IN_UI, value=4, step=1,
                            key=state.BATCH_SIZE, help="e.g. how many samples the furnace takes")
        fixed = {name: _fixed_widget(config, name, handle.campaign.name) for name in fixed_names}
        upload = st.file_uploader("Candidate recipes (optional): choose the batch among these rows only",
                                  type=["csv", "xlsx"],  # per campaign: a file chosen for one is not sent for the next
                                  key=state.of_campaign(state.CANDIDATE_FILE, handle.campaign.name))
        design = st.radio("Design", list(DESIGN_LABELS), format_func=DESIGN_LABELS.__getitem__, horizontal=True,
                          key=state.DESIGN, help="A screening design has a fixed number of runs (12 for 9 "
                          "parameters); a larger batch adds centre points. A second one is the first's "
                          "fold-over (every level reversed).")
        submitted = st.form_submit_button("Suggest experiments", type="primary")
    if not submitted:
        return
    person = components.require("plan")
    held = _fixed_numbers(config, fixed)
    if person is None or held is None:
        return
    # A double click: the second press stops the first one's run at its next Streamlit call (on a
    # shared server, while a worker computes the batch, which it then stores all the same).
    request = (int(n), tuple(sorted(held.items())), design, None if upload is None else upload.file_id)
    last = st.session_state.pop(state.SUGGEST_PRESS, None)
    if last is not None and last[:2] == (handle.campaign.name, request):
        since = time.monotonic() - last[3]
        if last[2] is None and since < PROPOSING_MAX_S:
            st.info("A batch for this request is being proposed (a second click?); it is listed below once "
                    "stored. Press 'Suggest experiments' again for another batch.")
            return
        if last[2] is not None and since < components.DOUBLE_CLICK_S:
            st.info(f"Batch {components.plain(last[2])} was proposed for this request a moment ago (a second click?); it is listed "
                    "below. Press 'Suggest experiments' again for another batch.")
            return
    st.session_state[state.SUGGEST_PRESS] = (handle.campaign.name, request, None, time.monotonic())
    with components.guard("suggesting experiments") as suggesting:
        candidates = None
        if upload is not None:
            from doe.io import read_table

            file_format: Literal["csv", "xlsx"] = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
            candidates = read_table(io.BytesIO(upload.getvalue()), config, file_format=file_format)
        with (st.spinner("Fitting the models and choosing the batch ..."), components.worker_progress(),
              handle.acting(person) as campaign):
            suggestions = campaign.suggest(int(n), held or None, candidates, design=design or "model")
            # noted before any Streamlit call: a second click stops this run at the next one
            st.session_state[state.SUGGEST_PRESS] = (campaign.name, request, str(suggestions["batch_id"].iloc[0])
                                                     if len(suggestions) else "", time.monotonic())
    if not suggesting.ok:
        st.session_state.pop(state.SUGGEST_PRESS, None)  # nothing proposed: a press again is no double click
    if suggesting.ok:
        batch = suggestions["batch_id"].iloc[0] if len(suggestions) else ""
        st.success(components.plain(f"Proposed {len(suggestions)} experiment(s) in batch {batch}. "
                                    "Accept them when the lab starts them."))


def _proposed(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    campaign = handle.campaign
    proposed = history[history["status"] == "proposed"]
    st.subheader(f"Proposed, not started ({len(proposed)})")
    ids = proposed["experiment_id"].astype(str).tolist()
    # What the engineer saw: the list of the page's previous run (the one the Accept click came from).
    # An empty choice accepts those, not experiments a colleague or a robot proposed since.
    listed = st.session_state.get(state.LISTED_IDS)
    seen = list(listed[1]) if isinstance(listed, tuple) and listed[0] == campaign.name else ids
    st.session_state[state.LISTED_IDS] = (campaign.name, tuple(ids))
    if proposed.empty:
        st.caption("Nothing proposed. Ask for a batch above.")
        return
    measured = history[history["status"] == "completed"]
    best = campaign.best(1)
    best_id = str(best[ID_COLUMN].iloc[0]) if len(best) else None
    view = suggestion_view(proposed_with_predictions(proposed, campaign.proposals()), config, measured, best_id)
    if config.batch_shared:  # the shared values once per batch, as the furnace programme
        furnace = furnace_programme(view, config)
        if len(furnace.programme):
            st.caption("Furnace programme: one value per batch for " + components.plain(", ".join(config.batch_shared)))
            data, formats = _numbers(furnace.programme, config)
            st.dataframe(data, hide_index=True, column_config=formats, key="plan_programme_table")
        if furnace.note:
            st.info(components.plain(furnace.note))
        view = furnace.rows
    data, formats = _numbers(view, config)
    st.dataframe(data, hide_index=True, column_config={**_column_config(config), **formats}, key="plan_proposed_table")
    st.caption("Predicted: the model's expected value ± its standard deviation (about two in three runs land "
               "within it). P(success): the model's chance that the run works and meets the outcome "
               "constraints (empty until something is measured). Why this run: exploits = close to the best recipe measured, to improve on it; "
               "explores = where nothing similar was measured or the model is unsure, to learn.")
    # A chosen experiment that someone else started or abandoned meanwhile stays chosen (and accepting it is
    # refused, naming it): dropped from the options, Streamlit emptied the choice, and empty means all listed.
    choice_key = state.of_campaign(state.ACCEPT_IDS, campaign.name)
    options = ids + [i for i in st.session_state.get(choice_key) or [] if i not in ids]
    chosen = st.multiselect("Experiments (none chosen = all listed above)", options, key=choice_key)
    accept_col, abandon_col = st.columns(2)
    if accept_col.button("Accept: the lab starts them", type="primary") and (person := components.require("plan")):
        with components.guard("accepting the experiments") as accepting, handle.acting(person) as c:
            started = c.accept(chosen or seen)
        if accepting.ok:
            components.flash("success", f"Started {len(started)} experiment(s): {', '.join(started)}. "
                                        "Record their results on the Record page.")
            st.rerun()
    status = dict(zip(history["experiment_id"].astype(str), history["status"], strict=True))
    _abandon(handle, abandon_col, chosen, status)


def _abandon(handle: resources.CampaignHandle, column: Any, chosen: list[str], status: dict[str, str]) -> None:
    """Abandoning asks for a reason and a second click (nothing is abandoned by accident); an
    experiment chosen while proposed that someone started (or ended) meanwhile is refused, by name."""
    with column.popover("Abandon the chosen ones ...", disabled=not chosen), \
            st.form("plan_abandon_form", enter_to_submit=False):
        # no max_chars: the browser would cut a longer reason without a word; Campaign.abandon refuses it
        reason = st.text_input("Why are they abandoned?", key=state.of_campaign(state.ABANDON_REASON, handle.campaign.name),
                               placeholder="e.g. precursor batch ran out")
        confirmed = st.form_submit_button(f"Yes, abandon {len(chosen)} experiment(s)")
    if not confirmed:
        return
    if not (reason or "").strip():
        st.warning("Abandoning: write a reason first (it is kept in the audit trail). Nothing was abandoned.")
        return
    if stale := [i for i in chosen if status.get(i) != "proposed"]:
        st.error(components.plain("Nothing abandoned: " + ", ".join(f"{i} is {status.get(i, 'gone')} now" for i in stale)
                                  + " (changed since you chose it); take it out of the choice to abandon the others."))
        return
    person = components.require("plan")
    if person is None:
        return
    with components.guard("abandoning the experiments") as abandoning, handle.acting(person) as c:
        c.abandon(chosen, reason=reason.strip())
    if abandoning.ok:
        components.flash("info", f"Abandoned {', '.join(chosen)}.")
        st.rerun()


def _run_sheet(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    campaign = handle.campaign
    pending = history[history["status"].isin(["proposed", "running"])]
    st.subheader(f"Run sheet ({len(pending)} proposed or running)")
    if pending.empty:
        st.caption("No experiment is proposed or running.")
        return
    running = pending[pending["status"] == "running"]
    if config.batch_shared and len(running):  # the furnace the lab loads: the started batches' programmes
        furnace = furnace_programme(running, config)
        if len(furnace.programme):
            st.caption("Furnace programme of the running batches")
            data, formats = _numbers(furnace.programme, config)
            st.dataframe(data, hide_index=True, column_config=formats, key="plan_running_programme_table")
        if furnace.note:
            st.info(components.plain(f"Running: {furnace.note} The run sheet has each row's value."))
    sheet = run_sheet(proposed_with_predictions(pending, campaign.proposals()), config)
    st.caption("Fill in the outcome columns (or 'failed' and 'failure_reason') and upload the sheet on the "
               "Record page; the prediction columns are ignored there.")
    units = config.units

    def sheet_bytes(file_format: str) -> bytes:
        from doe.io import table_bytes

        # CSV: gridded parameters at their resolution (exact), the rest in full (`doe record` matches
        # them); XLSX: the rest at 4 significant figures cell by cell, the cells keeping the values
        return table_bytes(sheet, file_format, units=units, decimals=column_decimals(sheet, config),  # type: ignore[arg-type]
                           significant=significant_columns(sheet, config))

    csv_col, xlsx_col = st.columns(2)
    csv_col.download_button("Run sheet (CSV)", data=signin.while_signed_in(lambda: sheet_bytes("csv")),
                            file_name=components.file_name(campaign.name, "-run-sheet.csv"), mime="text/csv", on_click="ignore")
    xlsx_col.download_button(
        "Run sheet (Excel)", data=signin.while_signed_in(lambda: sheet_bytes("xlsx")), file_name=components.file_name(campaign.name, "-run-sheet.xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")


def render() -> None:
    page = components.campaign_page("Plan")
    if page is None:
        return
    handle, campaign, config = page.handle, page.campaign, page.config
    counts_line = st.empty()  # filled last: the counts include a batch proposed in this run
    history = campaign.history()
    if not components.refused("plan", campaign.name):
        _ask(handle, config)
        history = campaign.history()
        _proposed(handle, config, history)
    _run_sheet(handle, config, history)
    counts = history["status"].value_counts()
    counts_line.caption(" · ".join(f"{counts.get(s, 0)} {s}" for s in ("completed", "failed", "running", "proposed",
                                                                          "abandoned")))


if __name__ == "__main__":
    render()
