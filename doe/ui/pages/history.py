"""History page: every experiment and the audit trail, filterable by status, batch and text,
exportable as CSV, Excel or the whole campaign as JSON."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from doe.domain.records import STATUSES
from doe.domain.replicates import n_column
from doe.domain.table import ID_COLUMN
from doe.ui import components, signin, state

if TYPE_CHECKING:
    from doe.campaign import Campaign
from doe.ui.shown_numbers import number_table
from doe.ui.tables import audit_view, evidence_label, evidence_table, filter_history, search


def render() -> None:
    page = components.campaign_page("History")
    if page is None:
        return
    campaign, config = page.campaign, page.config
    history = campaign.history()
    status_col, batch_col, text_col = st.columns(3)
    # filters of their own per campaign: one set for another campaign would hide rows of this one (and
    # 'Export the experiments shown' would export only those left)
    statuses = status_col.multiselect("Status", list(STATUSES), key=state.of_campaign(state.FILTER_STATUS, campaign.name))
    batches = sorted(history["batch_id"].dropna().astype(str).unique().tolist())
    chosen_batches = batch_col.multiselect("Batch", batches, key=state.of_campaign(state.FILTER_BATCH, campaign.name))
    text = text_col.text_input("Search (any column)", key=state.of_campaign(state.FILTER_TEXT, campaign.name),
                               placeholder="e.g. O2, E0003, gelled")
    shown = filter_history(history, statuses=statuses, batches=chosen_batches, text=text, config=config)
    st.caption(f"{len(shown)} of {len(history)} experiment(s)")
    if any(n_column(o) in history.columns for o in config.outcome_names):
        st.caption("Outcomes are the mean of each experiment's replicate cells; <outcome>_sd is their standard "
                   "deviation and <outcome>_n the number of cells (every cell is listed under 'Every recorded "
                   "value' below).")
    data, formats = number_table(shown, config)  # display only
    st.dataframe(data, hide_index=True, column_config=formats)
    if config.learn_from:
        _informed_by(campaign)

    units = config.units

    shown_ids = shown[ID_COLUMN].tolist()  # bound now: the button builds its file on a later click

    def table_file(file_format: str) -> bytes:
        from doe.io import table_bytes

        exported = campaign.export_frame()  # one state of the campaign: notes, and why a row does not count
        exported = exported[exported[ID_COLUMN].isin(shown_ids)]
        return table_bytes(exported, file_format, units=units)  # type: ignore[arg-type]

    def cells_file() -> bytes:
        import io

        buffer = io.BytesIO()
        campaign.export_table(buffer, file_format="csv", cells=True)
        return buffer.getvalue()

    def campaign_json() -> bytes:
        from doe.io import campaign_to_json

        return campaign_to_json(campaign.export_json()).encode("utf-8")

    csv_col, xlsx_col, cells_col, json_col = st.columns(4)
    csv_col.download_button("Export the experiments shown (CSV)", data=signin.while_signed_in(lambda: table_file("csv")),
                            file_name=components.file_name(campaign.name, "-history.csv"), mime="text/csv", on_click="ignore")
    xlsx_col.download_button(
        "Export the experiments shown (Excel)", data=signin.while_signed_in(lambda: table_file("xlsx")),
        file_name=components.file_name(campaign.name, "-history.xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")
    cells_col.download_button(
        "Export every cell (CSV)", data=signin.while_signed_in(cells_file), file_name=components.file_name(campaign.name, "-cells.csv"),
        mime="text/csv", on_click="ignore",
        help="One row per replicate cell (and curve point), with its note, operator, sample id and time, "
             "failed cells included; the Record page and doe record take it back as it is.")
    json_col.download_button("Export the whole campaign (JSON)", data=signin.while_signed_in(campaign_json),
                             file_name=components.file_name(campaign.name, ".json"), mime="application/json", on_click="ignore")

    _report(campaign)

    _evidence_files(campaign)

    st.subheader("Audit trail")
    audit = search(audit_view(campaign.audit(), st.context.timezone), text)
    st.caption(f"{len(audit)} change(s): who did what, when (newest first, your local time)")
    st.dataframe(audit, hide_index=True)
    with st.expander("Every recorded value, with corrections"):
        values, value_formats = number_table(search(campaign.measurements(include_superseded=True), text, config), config)
        st.dataframe(values, hide_index=True, column_config=value_formats)  # 0.000109, not 0.0001
    if len(failures := campaign.cell_failures()):
        failed_shown = search(failures, text)
        count = f"{len(failed_shown)} of {len(failures)}" if text.strip() else f"{len(failures)}"
        with st.expander(f"Failed cells ({count})"):
            st.dataframe(failed_shown, hide_index=True)


def _report(campaign: Campaign) -> None:
    from doe.report import campaign_report, chromium_binary, write_report

    def pdf() -> bytes:
        with tempfile.TemporaryDirectory(prefix="doe-report-") as folder:
            return write_report(campaign, Path(folder) / "report.pdf").read_bytes()

    html_col, pdf_col = st.columns(2)
    html_col.download_button("Campaign report for the lab meeting (HTML)",
                             data=signin.while_signed_in(lambda: campaign_report(campaign).encode("utf-8")),
                             file_name=components.file_name(campaign.name, "-report.html"), mime="text/html",
                             on_click="ignore")
    if chromium_binary() is not None:
        pdf_col.download_button("Campaign report (PDF)", data=signin.while_signed_in(pdf),
                                file_name=components.file_name(campaign.name, "-report.pdf"),
                                mime="application/pdf", on_click="ignore")


def _informed_by(campaign: Campaign) -> None:
    """Which earlier campaigns inform the model, with their learned correlation (plain text)."""
    from doe.domain.transfer import informed_by_text
    from doe.errors import ProposalError

    report = None
    with st.spinner("Fitting the model with the earlier campaigns ..."), \
            components.guard("fitting the model with the earlier campaigns") as fitting:
        try:
            report = campaign.transfer_report()
        except ProposalError:  # no finished experiment yet: the text says so
            report = None
    if fitting.ok:  # else the guard showed why (e.g. an earlier campaign was deleted)
        st.text(informed_by_text(campaign.config.learn_from, report))  # plain text, never Markdown


def _evidence_files(campaign: Campaign) -> None:
    files = campaign.files()
    if files.empty:
        return
    st.subheader("Instrument files")
    st.caption("The cycler and impedance files that recorded values were computed from, kept as uploaded "
               "(SHA-256 fingerprint, the reader and the rule's inputs). Every such value names its file under "
               "'Every recorded value' below, and the experiments above list theirs.")
    st.dataframe(evidence_table(files), hide_index=True)
    picked = st.selectbox("File to download", files["sha256"].tolist()[::-1], key=state.EVIDENCE_FILE,
                          format_func=lambda sha: evidence_label(files, sha))
    if picked is not None:
        name = str(files.set_index("sha256").loc[picked, "file_name"])
        st.download_button("Download the original file", data=signin.while_signed_in(lambda: campaign.file_content(picked)[1]),
                           file_name=components.file_name(name), mime="application/octet-stream",
                           on_click="ignore")


if __name__ == "__main__":
    render()
