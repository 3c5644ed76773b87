"""The Record page's cycler-file upload: a preview of the values computed from one experiment's
cell files, each cell with its own active mass, then recorded on request."""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from doe.domain.config import CampaignConfig
from doe.domain.table import ID_COLUMN
from doe.domain.typed_number import read_number
from doe.instruments.cell_masses import cells_without_mass, masses_by_cell
from doe.instruments.results import file_cells
from doe.ui import components, resources, state
from doe.ui.file_plots import FilePlots, file_plots
from doe.ui.number_cells import exact_text

MASS_LABEL = "Active cathode mass per cell (mg)"
CELL_MASS_COLUMN = "active_mass_mg"


def cycler_files(handle: resources.CampaignHandle, config: CampaignConfig, history: pd.DataFrame) -> None:
    st.subheader("Cycler files")
    st.caption("Cycling exports of one experiment's cells (BioLogic .mpt or .mpr, Neware CSV, .nda or .ndax, "
               "Arbin CSV, MACCOR text) and impedance spectra (BioLogic PEIS .mpt, Gamry .DTA, CSV), one replicate "
               "cell per file: the first-cycle capacities and CE are computed from them, the retention once a file "
               "reaches cycle 200, and the resistances from an equivalent-circuit fit. Preview first; nothing is "
               "recorded until you record. Recorded files are kept with the campaign (History page).")
    name = handle.campaign.name
    if st.session_state.get(state.CYCLER_CAMPAIGN) != name:  # another campaign's preview: neither shown nor used here
        for kept in (state.CYCLER_CELL_MASSES, state.CYCLER_CELL_MASSES_FILES, state.CYCLER_PLOTS,
                     state.CYCLER_PREVIEW_AGAIN):
            st.session_state.pop(kept, None)
        st.session_state[state.CYCLER_CAMPAIGN] = name
    ids = history[ID_COLUMN].astype(str).tolist()
    if not ids:
        st.info("No experiment yet: plan a batch first.")
        return
    cells: pd.DataFrame | None = st.session_state.get(state.CYCLER_CELL_MASSES)
    with st.form("cycler_files"):
        experiment = st.selectbox("Experiment", ids, key=state.of_campaign(state.CYCLER_EXPERIMENT, name))
        # text, read as the grids read numbers: a browser's number field drops a decimal comma (11,5 -> 115)
        mass_text = st.text_input(MASS_LABEL, key=state.of_campaign(state.CYCLER_MASS, name), placeholder="e.g. 11.5",
                                  help="Every cell's mass, unless the table of cells below gives a cell its own. "
                                       "Needed for the capacities (mAh/g); empty: Preview lists the cells found "
                                       "in the files, to give each its own mass.")
        uploads = st.file_uploader("Cycler files", type=["mpt", "mpr", "csv", "txt", "nda", "ndax", "dta"],
                                   accept_multiple_files=True, key=state.of_campaign(state.CYCLER_FILES, name))
        labels = st.text_input("Cell labels", key=state.of_campaign(state.CYCLER_LABELS, name), placeholder="A, B, C",
                               help="Each file's cell (replicate) label, in the files' order, separated by commas. "
                                    "Empty: the file names without their suffix.")
        edited = None
        if cells is not None and len(cells):
            st.caption("Each cell's own mass (mg), from the last preview: change a pellet's mass here and preview "
                       "again; an empty cell takes the mass above (with none above, the cell needs its own).")
            edited = st.data_editor(
                cells, num_rows="fixed", column_config={CELL_MASS_COLUMN: st.column_config.TextColumn(
                                   "active mass (mg)", help="a number above 0, e.g. 11.2 or 11,2")},
                key=state.of_campaign(f"{state.CYCLER_CELL_MASSES}_{st.session_state.get(state.CYCLER_CELL_MASSES_VERSION, 0)}",
                                      name))
        correct = st.checkbox("Correct the stored values (the files' values replace values recorded before; the "
                              "old ones stay in the history)",
                              key=state.of_campaign(
                                  f"{state.CYCLER_CORRECT}:{st.session_state.get(state.CYCLER_CORRECT_VERSION, 0)}", name))
        preview_clicked = st.form_submit_button("Preview")
        record_clicked = st.form_submit_button("Record these values")
    again = st.session_state.pop(state.CYCLER_PREVIEW_AGAIN, False)  # the form now shows the previewed cells
    if preview_clicked or record_clicked or again:
        masses = _masses_typed(mass_text, edited)
        if masses is not None:
            _read_cycler_files(handle, config, experiment, masses, uploads, labels, record_clicked=record_clicked,
                               correct=correct)
    _file_plots()


def _masses_typed(mass_text: str, edited: pd.DataFrame | None) -> tuple[float | None, dict[str, float]] | None:
    """The common mass and each cell's own as typed, or None after a warning naming what is not a mass."""
    problems = []
    mass, why = read_number(mass_text)
    if why is None and mass <= 0:
        why = "must be above 0 mg; leave it empty where the files give no capacity"
    if why is not None:
        problems.append(f"{MASS_LABEL}: {mass_text.strip()!r} {why}")
    own: dict[str, float] = {}
    for cell, text in ([] if edited is None else edited[CELL_MASS_COLUMN].items()):
        value, wrong = read_number(text)
        if wrong is None and value <= 0:
            wrong = "must be above 0 mg"
        if wrong is not None:
            problems.append(f"cell {cell!r}: active mass {str(text).strip()!r} {wrong}")
        elif not math.isnan(value):
            own[str(cell)] = value
    if problems:
        st.warning(components.plain("; ".join(problems) + ". Nothing was read."))
        return None
    return (None if math.isnan(mass) else mass), own


def _read_cycler_files(handle: resources.CampaignHandle, config: CampaignConfig, experiment: str,
                       masses: tuple[float | None, dict[str, float]], uploads: list[Any] | None, labels: str, *,
                       record_clicked: bool, correct: bool) -> None:
    """Preview (or record) the uploaded files' values, and keep their plots for :func:`_file_plots`."""
    if not uploads:
        st.warning("Choose the cycler files of the experiment's cells.")
        return
    person = components.require("record")
    if person is None:
        return
    impedance = config.impedance
    digests = [hashlib.sha256(upload.getvalue()).hexdigest() for upload in uploads]
    replicates = [x.strip() for x in labels.split(",")] if labels.strip() else None
    with tempfile.TemporaryDirectory(prefix="doe-cycler-") as folder:
        paths: list[Path] = []
        for k, upload in enumerate(uploads):  # each in a folder of its own, under its name as uploaded
            path = Path(folder) / str(k) / components.upload_name(upload.name)
            if path.name in {p.name for p in paths}:  # two uploads with one name: still one cell each
                path = path.with_name(f"{path.stem}_{k + 1}{path.suffix}")
            path.parent.mkdir()
            path.write_bytes(upload.getvalue())
            paths.append(path)
        st.session_state.pop(state.CYCLER_PLOTS, None)
        preview = None
        with components.guard("reading the cycler files") as reading, handle.acting(person) as campaign:
            found = file_cells(paths, replicates)
            files = {label: sha for (label, kind), sha in zip(found, digests, strict=True) if kind == "cycling"}
            kept = st.session_state.get(state.CYCLER_CELL_MASSES_FILES, {})
            # a mass typed for a cell applies to the file it was typed for: not to another file given that label
            own = {label: mass for label, mass in masses[1].items() if label in files and kept.get(label) == files[label]}
            if record_clicked and (stale := [label for label in masses[1] if label not in own]):
                st.warning(components.plain(  # relabelled or replaced since the preview: it would take the common mass
                    f"The mass typed for cell(s) {', '.join(map(repr, stale))} belongs to no file of these cells as "
                    "labelled now (the labels or files changed since the preview). Nothing was recorded: preview "
                    "again to see each cell's mass, then record."))
                return
            if not (missing := cells_without_mass(found, masses[0], own)):  # else named below, nothing read
                preview = campaign.record_files(paths, experiment_id=str(experiment),
                                                active_mass_mg=masses_by_cell(found, masses[0], own),
                                                replicates=replicates, confirm=record_clicked, correct=correct)
        if reading.ok and preview is not None:
            with components.guard("drawing the files' plots"):
                st.session_state[state.CYCLER_PLOTS] = [
                    (upload.name, file_plots(path, active_mass_mg=mass, title=upload.name,
                                             circuit=impedance.circuit if impedance else None,
                                             resistances=impedance.resistances if impedance else None))
                    for upload, path, mass in zip(uploads, paths, preview.masses, strict=True)]
    if not reading.ok:
        return
    st.session_state[state.CYCLER_CELL_MASSES_FILES] = files
    if preview is None:  # cells without a mass: the form's table lists every cell, for each its own
        if _keep_cell_masses([(label, own.get(label)) for label, kind in found if kind == "cycling"], masses[0]):
            st.session_state[state.CYCLER_PREVIEW_AGAIN] = True  # the form above was drawn without these cells
            st.rerun()
        st.warning(components.plain(
            f"No active mass for cell(s) {', '.join(map(repr, missing))}: type each one's mass (mg) in the table of "
            f"cells in the form above, or one mass for every cell in '{MASS_LABEL}', then preview again. Nothing "
            "was read or recorded."))
        return
    cells = preview.table["replicate"].iloc[:len(uploads)].tolist()
    shown_masses = [math.nan if m is None else m for m in preview.masses]
    if _keep_cell_masses([(cell, mass) for cell, mass in zip(cells, preview.masses, strict=True) if mass is not None],
                         masses[0]) and not record_clicked:
        st.session_state[state.CYCLER_PREVIEW_AGAIN] = True  # the form above was drawn with the cells before these
        st.rerun()
    read = preview.read.assign(file=[u.name for u in uploads], cell=cells, active_mass_mg=shown_masses)
    st.dataframe(read[["file", "cell", "active_mass_mg", *[c for c in read.columns  # each cell's mass beside its values
                                                          if c not in ("file", "cell", "active_mass_mg")]]],
                 hide_index=True)
    if points := preview.points_text():
        st.caption(components.plain(f"And {points}."))
    if preview.skipped:
        st.caption(components.plain("Not recorded (no such outcome, or not reached yet): "
                                    + ", ".join(preview.skipped)))
    if preview.out_of_range:
        st.warning(components.plain("Outside the campaign's valid_range, so Record refuses these files: "
                                    + "; ".join(preview.out_of_range)))
    if record_clicked:
        # the next files correct nothing unless asked again: a new key, an unticked box
        st.session_state[state.CYCLER_CORRECT_VERSION] = st.session_state.get(state.CYCLER_CORRECT_VERSION, 0) + 1
        done = preview.recorded_text()
        components.flash("success", done[0].upper() + done[1:]
                                    + (" (a correction: the values they replace stay in the history)." if correct
                                       else "."))
        st.rerun()
    st.info("Preview only: nothing was recorded. Press 'Record these values' to record them.")


def _keep_cell_masses(cells: list[tuple[str, float | None]], common_mg: float | None) -> bool:
    """The cycling cells read, each with its own mass where it has one (empty where it takes
    ``common_mg``, or has none yet): the rows of the next form's mass table (a new editor key, so
    it shows them rather than edits of other cells); whether they changed."""
    rows = {cell: "" if mass is None or mass == common_mg else exact_text(mass) for cell, mass in cells}
    kept = pd.DataFrame({CELL_MASS_COLUMN: list(rows.values())}, index=pd.Index(list(rows), name="cell"), dtype=object)
    previous = st.session_state.get(state.CYCLER_CELL_MASSES)
    if previous is None or not previous.equals(kept):
        st.session_state[state.CYCLER_CELL_MASSES] = kept
        st.session_state[state.CYCLER_CELL_MASSES_VERSION] = st.session_state.get(
            state.CYCLER_CELL_MASSES_VERSION, 0) + 1
        return True
    return False


def _file_plots() -> None:
    """The plots of the files last previewed or recorded, a tab per file."""
    shown: list[tuple[str, FilePlots]] | None = st.session_state.get(state.CYCLER_PLOTS)
    if not shown:
        return
    st.caption("Plots of each file (the voltage curves of the first, second and last cycles; a spectrum with "
               "the fitted circuit).")
    for k, (tab, (_, plots)) in enumerate(zip(st.tabs([components.plain(name) for name, _ in shown]), shown,
                                              strict=True)):
        with tab:
            for note in plots.notes:
                st.caption(components.plain(note))
            for j, figure in enumerate(plots.figures):
                st.plotly_chart(figure, key=f"{state.CYCLER_PLOTS}_{k}_{j}")
            if plots.resistances is not None:
                st.dataframe(plots.resistances, hide_index=True)
