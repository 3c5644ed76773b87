"""Campaigns page: create (from a template or from scratch), edit, clone, archive, show the
configuration as YAML, import history from CSV/XLSX."""

from __future__ import annotations

import io
from typing import Any

import streamlit as st

from doe import templates
from doe.campaign import Campaign
from doe.domain.config import CampaignConfig, ConfigVersion
from doe.domain.config_changes import config_change_warnings
from doe.domain.config_notes import config_notes
from doe.ui import components, resources, state
from doe.ui.config_form import (
    OBJECTIVE_MODES,
    OUTCOME_ROLES,
    PARAMETER_TYPES,
    ConfigTables,
    config_from_tables,
    empty_tables,
    tables_from_config,
)
from doe.ui.tables import parse_column_mapping, problems_frame

SCRATCH = "scratch"


def _parameter_columns() -> dict[str, Any]:
    return {
        # name and type not `required`: the editor would not send a row added without one, and the save went on
        # without the row (config_from_tables refuses it, naming the cell)
        "name": st.column_config.TextColumn("name", help="letters, digits and _, e.g. anneal_temperature_c"),
        "type": st.column_config.SelectboxColumn("type", options=list(PARAMETER_TYPES)),
        "lower": st.column_config.TextColumn("lower", help="continuous: lower bound"),
        "upper": st.column_config.TextColumn("upper", help="continuous: upper bound"),
        "resolution": st.column_config.TextColumn(
            "resolution", help="continuous: the lab's step (e.g. 5 for C, 0.01 for wt%); suggestions land on it"),
        "values": st.column_config.TextColumn("values", help="discrete or categorical: allowed values, comma-separated; "
                                                   'a label with a comma in double quotes: "N2, 5% H2"'),
        "unit": st.column_config.TextColumn("unit"),
        "log_scale": st.column_config.CheckboxColumn("log scale", help="continuous: search on a log scale"),
        "shared": st.column_config.CheckboxColumn(
            "shared per batch", help="one value for every recipe of a suggested batch, e.g. the anneal temperature, "
                                     "time and atmosphere of one furnace run; the Plan page shows it once as the "
                                     "furnace programme"),
        "reference": st.column_config.TextColumn("reference", help="the reference recipe's value (optional)"),
        "description": st.column_config.TextColumn("description"),
    }


def _outcome_columns() -> dict[str, Any]:
    return {
        "name": st.column_config.TextColumn("name"),  # not `required`: as a parameter's
        "role": st.column_config.SelectboxColumn("role", options=list(OUTCOME_ROLES),  # not `required`: as "type"
                                                 help="maximize, minimize or bring to a target value (an "
                                                      "objective), or only measured"),
        "target": st.column_config.TextColumn("target", help="role target: the set point (e.g. 10 nm)"),
        "tolerance": st.column_config.TextColumn("tolerance",
                                                   help="role target: largest acceptable distance from it"),
        "threshold": st.column_config.TextColumn("threshold", help="maximize/minimize: worst acceptable value"),
        "weight": st.column_config.TextColumn("weight", help="weight in the ranking of best recipes and, in the "
                                                               "weighted objective mode, in the search (default 1)"),
        "lowest": st.column_config.TextColumn("lowest", help="the lowest value the outcome can take (e.g. 0): "
                                                               "a value recorded below it is refused"),
        "highest": st.column_config.TextColumn("highest", help="the highest value it can take (e.g. 100 for a "
                                                                 "CE in %): a value recorded above it is refused"),
        "unit": st.column_config.TextColumn("unit"),
        "description": st.column_config.TextColumn("description"),
    }


def _editors(tables: ConfigTables, keys: tuple[str, str, str, str], suffix: str) -> ConfigTables:
    """The editors of a configuration (inside a form)."""
    st.markdown("**Parameters** (what the lab varies)")
    parameters = st.data_editor(tables.parameters, num_rows="dynamic", hide_index=True,
                                column_config=_parameter_columns(), key=f"{keys[0]}:{suffix}")
    st.markdown("**Outcomes** (what the lab measures; objectives have a goal)")
    outcomes = st.data_editor(tables.outcomes, num_rows="dynamic", hide_index=True,
                              column_config=_outcome_columns(), key=f"{keys[1]}:{suffix}")
    constraints = st.text_area(
        "Constraints, one per line", value=tables.constraints, key=f"{keys[2]}:{suffix}",
        help="On parameters: 'solid_content_mg_per_ml + 10 * hfo2_loading_wt_pct <= 50'; "
             "on outcomes: 'coating_thickness_nm <= 15'",
    )
    mode = st.radio(
        "Several objectives", OBJECTIVE_MODES, index=OBJECTIVE_MODES.index(tables.objective_mode),
        key=f"{keys[3]}:{suffix}", horizontal=True,
        format_func=lambda m: {"pareto": "Pareto: search the trade-offs",
                               "weighted": "weighted: one desirability from the weights"}[m],
        help="Pareto searches every trade-off between the objectives; weighted maps each objective to a "
             "desirability (0 = worst acceptable, 1 = best measured or on target) and searches their weighted mean.",
    )
    return ConfigTables(parameters, outcomes, constraints, mode)


def _learn_from_picker(url: str, chosen: tuple[str, ...], *, key: str, exclude: str | None = None) -> list[str]:
    """Earlier campaigns of this database whose results inform the model (names shown as plain text)."""
    names = [n for n in resources.campaigns(url, include_archived=True)["name"].astype(str).tolist() if n != exclude]
    names += [n for n in chosen if n not in names]  # a chosen campaign that is gone stays visible (and is refused)
    return st.multiselect(
        "Learn from earlier campaigns", names, default=list(chosen), key=key,
        help="Their finished experiments, on the parameters the campaigns share, inform this campaign's model "
             "(a multi-task model, used only where it predicts this campaign's results better). The History "
             "page shows which campaigns inform it.")


def _new_campaign(url: str) -> None:
    source = st.radio("Start from", ["a template", "scratch"], horizontal=True, key=state.NEW_SOURCE)
    template_name = None
    if source == "a template":
        names = templates.names()
        template_name = st.selectbox("Template", names, key=state.NEW_TEMPLATE)
    with components.guard("reading the template") as reading:
        base = templates.resolve_config(template_name) if template_name else None
    if not reading.ok:
        return
    tables = tables_from_config(base) if base is not None else empty_tables()
    suffix = template_name or SCRATCH
    with st.form("new_campaign"):
        name = st.text_input("Campaign name", key=state.NEW_NAME, placeholder="e.g. hfo2-ncm85-2026-q1")
        description = st.text_area("Description", value=(base.description or "") if base else "",
                                   key=f"{state.NEW_DESCRIPTION}:{suffix}")
        edited = _editors(tables, (state.NEW_PARAMETERS, state.NEW_OUTCOMES, state.NEW_CONSTRAINTS,
                                   state.NEW_OBJECTIVE_MODE), suffix)
        learn_from = _learn_from_picker(url, (), key=state.NEW_LEARN_FROM)
        submitted = st.form_submit_button("Create campaign", type="primary")
    if not submitted:
        return
    person = components.require("create_campaign")
    if person is None:
        return
    with components.guard("creating the campaign") as creating:
        config = config_from_tables(name, edited, description=description, learn_from=learn_from, base=base)
        campaign = Campaign.from_config(config, storage=url, actor=person, settings=resources.engine_settings())
    if creating.ok:
        components.flash("success", f"Created campaign {campaign.name!r} ({len(config.parameters)} parameters, "
                                    f"{len(config.outcome_names)} outcomes). It is now selected.")
        for note in config_notes(config):
            components.flash("warning", note)
        components.select_campaign(campaign.name)
        st.rerun()


def _edit(handle: resources.CampaignHandle) -> None:
    campaign = handle.campaign
    current = campaign.current_config()
    latest = current.version
    # The form stays on the configuration it was opened on (kept as read, not by its number: a
    # restore may bring the number back with another), so a person's edits survive another's save;
    # saving it over another version is refused, naming who saved that one.
    bases: dict[str, ConfigVersion] = st.session_state.setdefault(state.EDIT_BASE, {})
    base = bases.setdefault(campaign.name, current)
    version, config = base.version, base.config
    if base != current:
        what = (f"Version {latest} was saved by someone else since this form was opened on version {version}."
                if latest != version else f"Version {version} is no longer the one this form was opened on: the "
                "campaign was restored from a backup or replaced since.")
        st.warning(f"{what} Any edits you made are kept below, and saving them is refused until you load the latest "
                   "version (with no edits made here, just load it).")
        if st.button(f"Load version {latest} (drops the edits below)", key=f"{state.EDIT_BASE}:{campaign.name}"):
            bases[campaign.name] = current
            for prefix in (state.EDIT_DESCRIPTION, state.EDIT_PARAMETERS, state.EDIT_OUTCOMES, state.EDIT_CONSTRAINTS,
                           state.EDIT_OBJECTIVE_MODE, state.EDIT_LEARN_FROM, state.EDIT_ANYWAY):
                st.session_state.pop(f"{prefix}:{campaign.name}:{version}", None)  # the same number again: new widgets
            st.rerun()
    st.caption(f"Version {version}. Saving makes version {version + 1}; experiments keep the version they "
               "were proposed under. The name stays; use Clone for a new name.")
    _notes(config)
    with st.form("edit_campaign"):
        description = st.text_area("Description", value=config.description or "",
                                   key=f"{state.EDIT_DESCRIPTION}:{campaign.name}:{version}")
        edited = _editors(tables_from_config(config), (state.EDIT_PARAMETERS, state.EDIT_OUTCOMES,
                                                       state.EDIT_CONSTRAINTS, state.EDIT_OBJECTIVE_MODE), f"{campaign.name}:{version}")
        learn_from = _learn_from_picker(campaign.storage_url, config.learn_from, exclude=campaign.name,
                                        key=f"{state.EDIT_LEARN_FROM}:{campaign.name}:{version}")
        anyway = st.checkbox("Save despite the warnings (experiments outside the new ranges, values no longer used)",
                             key=f"{state.EDIT_ANYWAY}:{campaign.name}:{version}")
        submitted = st.form_submit_button("Save as a new version", type="primary")
    if not submitted:
        return
    person = components.require("edit_config")
    if person is None:
        return
    with components.guard("saving the configuration") as saving:
        new_config = config_from_tables(config.name, edited, description=description, seed=config.seed,
                                        learn_from=learn_from, base=config)
        warnings = config_change_warnings(config, new_config, campaign.history())
        for warning in warnings:
            st.warning(components.plain(warning))
        if warnings and not anyway:
            st.info("Nothing was saved. Tick 'Save despite the warnings' and save "
                    "again, or change the configuration.")
            return
        with handle.acting(person) as c:
            new_version = c.update_config(new_config, based_on=base)
    if saving.ok:
        bases.pop(campaign.name, None)  # the next form opens on the version saved
        if new_version == version:
            st.info("Nothing changed: the configuration is the same as version "
                    f"{version}.")
        else:
            components.flash("success", f"Saved configuration version {new_version} of {campaign.name!r}.")
            st.rerun()  # the form then shows the new version with its notes


def _notes(config: CampaignConfig) -> None:
    """The settings of ``config`` that it accepts but does not apply (a log scale under a linear
    constraint: :func:`~doe.domain.config_notes.config_notes`), as plain text."""
    for note in config_notes(config):
        st.warning(components.plain(note))


def _clone_archive(url: str, handle: resources.CampaignHandle) -> None:
    campaign = handle.campaign
    with st.form("clone_campaign"):
        # typed for this campaign: a name typed, not sent, for another clones no other one
        new_name = st.text_input("Name of the copy", key=state.of_campaign(state.CLONE_NAME, campaign.name))
        with_history = st.checkbox("Copy the finished experiments as history",
                                   key=state.of_campaign(state.CLONE_HISTORY, campaign.name))
        clone = st.form_submit_button("Clone")
    if clone and (person := components.require("create_campaign")):
        with components.guard("cloning the campaign") as cloning, handle.acting(person) as c:
            other = c.clone(new_name.strip(), storage=url, with_history=with_history)
        if cloning.ok:
            components.flash("success", f"Cloned {campaign.name!r} as {other.name!r}; it is now selected.")
            components.select_campaign(other.name)
            st.rerun()

    st.markdown("**Archive**: hides the campaign from the list; nothing is deleted.")
    confirm = st.checkbox(components.plain(f"Yes, archive {campaign.name!r}"),
                          key=f"{state.ARCHIVE_CONFIRM}:{campaign.name}")
    if st.button("Archive this campaign", disabled=not confirm) and (person := components.require("archive")):
        with components.guard("archiving the campaign") as archiving, handle.acting(person) as c:
            c.archive(True)
        if archiving.ok:
            components.flash("success", f"Archived {campaign.name!r}.")
            st.session_state[state.ARCHIVED_NOW] = campaign.name
            st.rerun()

    every = resources.campaigns(url, include_archived=True)
    archived = every[every["archived"].astype(bool)]["name"].astype(str).tolist()
    if archived:
        restore = st.selectbox("Archived campaigns", archived, key=state.RESTORE_NAME)
        if st.button("Restore") and (person := components.require("archive")):
            with components.guard("restoring the campaign") as restoring, \
                    resources.campaign_handle(url, restore).acting(person) as c:
                c.archive(False)
            if restoring.ok:
                components.flash("success", f"Restored {restore!r}; it is now selected.")
                components.select_campaign(restore)
                st.rerun()


def _yaml(handle: resources.CampaignHandle) -> None:
    campaign = handle.campaign
    config: CampaignConfig = campaign.config
    _notes(config)
    st.code(config.to_yaml(), language="yaml")
    st.download_button("Download the configuration (YAML)", data=config.to_yaml(),
                       file_name=components.file_name(campaign.name, ".yaml"), mime="application/x-yaml", on_click="ignore")
    versions = campaign.config_versions()
    st.markdown("**Configuration versions**")
    st.dataframe(versions.drop(columns=[c for c in ("config",) if c in versions.columns]), hide_index=True)


def _import(handle: resources.CampaignHandle) -> None:
    campaign = handle.campaign
    config = campaign.config
    st.caption("One row per experiment: every parameter column, the outcomes measured (empty = not "
               "measured), optionally experiment_id, failed, failure_reason, note. Columns: "
               + components.plain(", ".join(config.parameter_names + config.outcome_names)))
    rejected = st.session_state.pop(state.IMPORT_REJECTED, None)
    if rejected is not None:
        st.dataframe(rejected, hide_index=True)
    duplicates_key = state.of_campaign(state.IMPORT_ALLOW_DUPLICATES, campaign.name)
    sent = components.file_upload_form(
        "import_history", "History file (CSV or Excel)", "Import",  # per campaign, as the Record page's upload
        file_key=state.of_campaign(state.IMPORT_FILE, campaign.name),
        mapping_key=state.of_campaign(state.IMPORT_MAPPING, campaign.name),
        valid_key=state.of_campaign(state.IMPORT_VALID_ONLY, campaign.name),
        duplicates_key=duplicates_key)
    if sent is None:
        return
    with components.guard(f"importing {sent.name}") as importing:
        mapping = parse_column_mapping(sent.mapping_text)
        with handle.acting(sent.person) as c:
            report = c.import_table(io.BytesIO(sent.data), column_mapping=mapping or None,
                                    file_format=sent.file_format, valid_rows_only=sent.valid_rows_only,
                                    allow_duplicates=sent.allow_duplicates, sheet=sent.sheet)
    if importing.ok:  # said after a rerun that draws the form again with 'Record rows again' unticked
        components.untick(duplicates_key)
        components.flash("success", f"Imported {sent.name}: {len(report.created)} new experiment(s), "
                                    f"{report.measurements_added} measurement(s) added, "
                                    f"{report.measurements_unchanged} already recorded.")
        if report.never_made:
            components.flash("info", f"{len(report.never_made)} row(s) left out, experiments never made in their "
                                     f"campaign: {'; '.join(map(str, report.never_made))}")
        if report.not_measured:
            components.flash("info", f"{len(report.not_measured)} row(s) left out, experiments with no result yet "
                                     f"(they stay pending): {'; '.join(map(str, report.not_measured))}")
        if report.rejected:
            components.flash("warning", f"{len({p.row for p in report.rejected})} row(s) were left out:")
            st.session_state[state.IMPORT_REJECTED] = problems_frame(report.rejected)
        st.rerun()


def render() -> None:
    st.title("Campaigns")
    url = resources.database_url()
    show_archived = st.toggle("Show archived campaigns", key=state.SHOW_ARCHIVED)
    listing = resources.campaigns(url, include_archived=show_archived)
    st.dataframe(listing, hide_index=True, column_config={"archived": st.column_config.CheckboxColumn("archived")})
    handle = None
    if st.session_state.get(state.CAMPAIGN):
        handle = components.current_handle()
    selected = handle.campaign.name if handle else None
    tab_new, tab_edit, tab_clone, tab_yaml, tab_import = st.tabs(
        ["New campaign", "Edit configuration", "Clone or archive", "Configuration (YAML)", "Import history"])
    with tab_new:
        if not components.refused("create_campaign"):
            _new_campaign(url)
    for tab, part, permission in ((tab_edit, _edit, "edit_config"), (tab_yaml, _yaml, "read"),
                                  (tab_import, _import, "record")):
        with tab:
            if handle is None:
                st.info("Select a campaign in the sidebar.")
            elif not components.refused(permission, selected):  # type: ignore[arg-type]
                st.caption(f"Campaign: **{components.plain(selected)}**")
                part(handle)  # type: ignore[operator]
    with tab_clone:
        if handle is None:
            st.info("Select a campaign in the sidebar.")
        elif not components.refused("archive"):
            _clone_archive(url, handle)


if __name__ == "__main__":
    render()

