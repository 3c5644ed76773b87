"""Cycler files through the Record page in a real browser: drop two cells' files, preview the
computed values (nothing stored) and each file's plots, record them (one replicate cell per
file), then find the stored files on the History page and download one byte for byte; an
impedance spectrum's Nyquist plot with its fitted curve."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.instruments.synthetic import (
    fade_curve,
    impedance_spectrum,
    write_cycling_file,
    write_impedance_file,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    app_page,
    click,
    open_page,
    open_record_page,
    pick_option,
    streamlit_app,
    type_in_grid,
)

STEP_MS = 120_000
pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    folder = tmp_path_factory.mktemp("e2e-cycler")
    db_url = f"sqlite:///{folder / 'cycler.sqlite3'}"
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="cells", actor="fixture")
    campaign.suggest(2)
    campaign.accept()
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Cy Cler"}
    with streamlit_app(folder, env) as base:
        yield base, db_url, folder


def test_cycler_files_preview_then_record(server: tuple[str, str, Path]) -> None:
    from playwright.sync_api import expect

    base, db_url, folder = server
    files = []
    for name, ce in (("cell A <b>*1*.mpt", 89.0), ("cell_B.csv", 91.0)):
        charge, discharge = fade_curve(8, first_charge_mah_per_g=220.0, first_ce_pct=ce)
        kind = "biologic_mpt" if name.endswith(".mpt") else "neware_csv"
        files.append(str(write_cycling_file(folder / name, kind, charge * 0.0115, discharge * 0.0115)))  # type: ignore[arg-type]
    first = Campaign.load("cells", storage=db_url).history()["experiment_id"].iloc[0]
    with app_page(base, step_ms=STEP_MS) as page:
        form = _preview(page, files, "cell_B.csv")
        preview = page.get_by_test_id("stDataFrame").filter(has_text="first_cycle_ce_pct")
        expect(preview.last).to_be_visible()
        assert Campaign.load("cells", storage=db_url).measurements().empty
        # a tab per file: the EC-Lab file's voltage curves (cycles 1, 2 and 8) and capacity/CE per
        # cycle; Neware's cycle sheet has no curve, so only capacity/CE and a note saying why
        _expect_plots(page, "cell A <b>*1*.mpt", [3, 2])
        _expect_plots(page, "cell_B.csv", [2])
        expect(_panel(page).get_by_text("export the record sheet")).to_be_visible()

        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Recorded 2 cell(s) of {first}")
        _expect_plots(page, "cell A <b>*1*.mpt", [3, 2])  # still shown after Record
        assert not page.get_by_test_id("stException").count()

        open_page(page, "History")
        expect(page.get_by_role("heading", name="Instrument files")).to_be_visible()
        evidence = page.get_by_test_id("stSelectbox").filter(has_text="File to download")
        # the newest file is chosen first
        expect(evidence).to_match_aria_snapshot('- combobox "File to download": /cell_B\\.csv .*/')
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the original file").click()
        assert Path(download.value.path()).read_bytes() == Path(files[1]).read_bytes()
        assert download.value.suggested_filename == "cell_B.csv"
    history = Campaign.load("cells", storage=db_url).history().set_index("experiment_id")
    assert history.loc[first, "first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-6)
    assert history.loc[first, "first_cycle_ce_pct_n"] == 2
    cells = Campaign.load("cells", storage=db_url).measurements()
    # labelled by the files' names as uploaded, as the doe command labels them (they were rewritten
    # to 'cell_A_b_1_', so one cell recorded by the command and then on the page became two)
    assert sorted(cells["replicate"].unique()) == ["cell A <b>*1*", "cell_B"]
    assert set(cells["file_name"]) == {"cell A <b>*1*.mpt", "cell_B.csv"}


def _preview(page: Any, files: list[str], shown: str, campaign: str = "cells") -> Any:
    """Open the Record page, drop ``files`` with a mass of 11.5 mg and press Preview; the form."""
    from playwright.sync_api import expect

    open_record_page(page, campaign)
    form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
    form.get_by_role("textbox", name="Active cathode mass per cell (mg)").fill("11.5")
    form.locator("input[type=file]").set_input_files(files)
    expect(form.get_by_text(shown)).to_be_visible()
    click(page, form.get_by_role("button", name="Preview"))
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Preview only")).to_be_visible()
    return form


def _panel(page: object) -> object:
    return page.locator("[data-testid=stTabs] [role=tabpanel]:visible")  # type: ignore[attr-defined]


def _expect_plots(page: object, tab: str, traces: list[int]) -> None:
    """Open the file's tab; it holds one Plotly chart per entry of ``traces``, each with that many traces."""
    from playwright.sync_api import expect

    page.get_by_test_id("stTabs").get_by_role("tab", name=tab, exact=True).click()  # type: ignore[attr-defined]
    charts = _panel(page).locator(".js-plotly-plot")  # type: ignore[attr-defined]
    expect(charts).to_have_count(len(traces))
    for k, count in enumerate(traces):
        expect(charts.nth(k).locator(".scatterlayer .trace")).to_have_count(count)


def test_a_spectrum_preview_shows_its_nyquist_plot_and_fitted_resistances(server: tuple[str, str, Path]) -> None:
    from playwright.sync_api import expect

    base, _, folder = server
    frequency, z = impedance_spectrum({"R2": 90.0}, seed=2)
    path = write_impedance_file(folder / "cell C peis.mpt", "biologic_peis_mpt", frequency, z)
    with app_page(base, step_ms=STEP_MS) as page:
        _preview(page, [str(path)], "cell C peis.mpt")
        _expect_plots(page, "cell C peis.mpt", [2])  # the measured points and the fitted curve
        expect(_panel(page).locator(".legendtext").filter(has_text="fit: R0-p(R1,CPE1)-p(R2,CPE2)-Wo1")
               ).to_have_count(1)
        expect(_panel(page).get_by_test_id("stDataFrame").filter(has_text="95 % low [ohm]")).to_be_visible()
        assert not page.get_by_test_id("stException").count()


def test_cells_whose_file_names_cannot_be_labels_are_named_on_the_page(server: tuple[str, str, Path]) -> None:
    """Long instrument file names previewed fine and were refused only when recorded; the
    page now says so at the preview, and 'Cell labels' names the cells."""
    from playwright.sync_api import expect

    base, db_url, folder = server
    files = []
    for k, ce in enumerate((88.0, 92.0)):
        charge, discharge = fade_curve(8, first_charge_mah_per_g=220.0, first_ce_pct=ce)
        name = f"2026-12-04_NCM85_HfO2_batch3_cell_{'AB'[k]}_channel{12 + k}.mpt"
        files.append(str(write_cycling_file(folder / name, "biologic_mpt", charge * 0.0115, discharge * 0.0115)))
    second = Campaign.load("cells", storage=db_url).history()["experiment_id"].iloc[1]
    with app_page(base, step_ms=STEP_MS) as page:
        open_record_page(page, "cells")
        form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
        pick_option(page, form.get_by_test_id("stSelectbox").filter(has_text="Experiment"), second)
        # a decimal comma: the browser's number field made 115 mg of it, and capacities 10x too small were recorded
        form.get_by_role("textbox", name="Active cathode mass per cell (mg)").fill("11,5")
        form.locator("input[type=file]").set_input_files(files)
        click(page, form.get_by_role("button", name="Preview"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("'Cell labels' on the Record page")
        form.get_by_role("textbox", name="Cell labels").fill("A, B")
        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Recorded 2 cell(s) of {second}")
    cells = Campaign.load("cells", storage=db_url).measurements()
    assert sorted(cells.loc[cells["experiment_id"] == second, "replicate"].unique()) == ["A", "B"]
    capacity = cells[(cells["experiment_id"] == second) & (cells["outcome"] == "first_cycle_discharge_capacity_mah_per_g")]
    assert sorted(capacity["value"]) == pytest.approx([220.0 * 0.88, 220.0 * 0.92], rel=0.01)  # at 11.5 mg


def test_a_cells_file_corrects_a_value_recorded_before_only_when_asked(server: tuple[str, str, Path]) -> None:
    """The API and the CLI could record a cycler file over a value typed before (correct=True,
    --correct); the page could not, and its message pointed to a button it does not have."""
    from playwright.sync_api import expect

    base, db_url, folder = server
    campaign = Campaign.load("cells", storage=db_url)
    recipe = dict(campaign.config.reference_recipe() or {})
    typed = campaign.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 80.0}])).created[0]  # typed, no label
    charge, discharge = fade_curve(8, first_charge_mah_per_g=220.0, first_ce_pct=90.0)
    path = str(write_cycling_file(folder / "A.mpt", "biologic_mpt", charge * 0.0115, discharge * 0.0115))
    with app_page(base, step_ms=STEP_MS) as page:
        open_record_page(page, "cells")
        form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
        pick_option(page, form.get_by_test_id("stSelectbox").filter(has_text="Experiment"), typed)
        form.get_by_role("textbox", name="Active cathode mass per cell (mg)").fill("11.5")
        form.locator("input[type=file]").set_input_files([path])
        click(page, form.get_by_role("button", name="Record these values"))
        error = page.get_by_test_id("stAlertContentError")
        expect(error).to_contain_text("With 'Correct the stored values' the labelled cells replace the unlabelled")
        expect(error).not_to_contain_text("=True")
        assert Campaign.load("cells", storage=db_url).history().set_index("experiment_id").loc[
            typed, "first_cycle_ce_pct"] == 80.0
        form.get_by_test_id("stCheckbox").filter(has_text="Correct the stored values").locator("label").click()
        expect(form.get_by_role("checkbox", name="Correct the stored values")).to_be_checked()
        click(page, form.get_by_role("button", name="Record these values"))
        success = page.get_by_test_id("stAlertContentSuccess")
        expect(success).to_contain_text(f"Recorded 1 cell(s) of {typed} from 1 file(s): ")
        expect(success).to_contain_text("1 corrected")
        expect(success).to_contain_text("(a correction: the values they replace stay in the history)")
        # the next files correct nothing unless asked again
        expect(form.get_by_role("checkbox", name="Correct the stored values")).not_to_be_checked()
    after = Campaign.load("cells", storage=db_url)
    assert after.history().set_index("experiment_id").loc[typed, "first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-6)
    kept = after.measurements(include_superseded=True)
    kept = kept[(kept["experiment_id"] == typed) & (kept["outcome"] == "first_cycle_ce_pct")]
    assert sorted(kept["value"].round(6)) == [80.0, 90.0]


def test_each_cell_gets_its_own_active_mass_on_the_page(server: tuple[str, str, Path]) -> None:
    """One powder's three pellets weigh 11.2, 12.0 and 12.9 mg; the page took one mass for every
    file, so recording the three cells at once gave two of them capacities off by up to 7 %."""
    from playwright.sync_api import expect

    from doe.ui.tables import evidence_table

    base, db_url, folder = server
    masses = {"P1": 11.2, "P2": 12.0, "P3": 12.9}
    files, discharge_mah = [], {}
    for k, (label, mass) in enumerate(masses.items()):
        charge, discharge = fade_curve(8, first_charge_mah_per_g=212.0 + 6 * k, first_ce_pct=87.0 + k)
        files.append(str(write_cycling_file(folder / f"{label}.mpt", "biologic_mpt", charge * mass / 1000,
                                            discharge * mass / 1000)))
        discharge_mah[label] = float(discharge[0]) * mass / 1000
    second = Campaign.load("cells", storage=db_url).history()["experiment_id"].iloc[1]
    with app_page(base, step_ms=STEP_MS) as page:
        open_record_page(page, "cells")
        form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
        pick_option(page, form.get_by_test_id("stSelectbox").filter(has_text="Experiment"), second)
        form.get_by_role("textbox", name="Active cathode mass per cell (mg)").fill("12.0")  # the common value
        form.locator("input[type=file]").set_input_files(files)
        click(page, form.get_by_role("button", name="Preview"))
        expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Preview only")).to_be_visible()
        # the cells found in the files, each with a mass of its own to give
        grid = form.get_by_test_id("stDataFrame").filter(has_text="active mass (mg)")
        expect(grid).to_be_visible()
        for label in masses:
            expect(grid.locator("td", has_text=label)).to_have_count(1)
        type_in_grid(page, grid, 0, 0, "11,2", form=True)  # a decimal comma, as the common field takes it
        type_in_grid(page, grid, 2, 0, "12.9", form=True)
        click(page, form.get_by_role("button", name="Preview"))
        preview = page.get_by_test_id("stDataFrame").filter(has_text="first_cycle_ce_pct").last
        expect(preview.locator("tr", has_text="P1.mpt")).to_contain_text("11.2")
        expect(preview.locator("tr", has_text="P2.mpt")).to_contain_text("12")
        expect(preview.locator("tr", has_text="P3.mpt")).to_contain_text("12.9")
        assert Campaign.load("cells", storage=db_url).files()["file_name"].isin(["P1.mpt"]).sum() == 0
        # relabelled after the preview, P1's 11.2 mg would have gone to no cell and "X" taken the common 12.0
        labels = form.get_by_role("textbox", name="Cell labels")
        labels.fill("X, P2, P3")
        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="The mass typed for cell(s) 'P1'")
               ).to_contain_text("Nothing was recorded")
        assert not Campaign.load("cells", storage=db_url).files()["file_name"].isin(["P1.mpt", "P2.mpt", "P3.mpt"]).any()
        labels.fill("")
        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Recorded 3 cell(s) of {second}")
        assert not page.get_by_test_id("stException").count()
        # another powder's cell in a file of the same name: the table's 11.2 mg was the other file's pellet
        for label in masses:
            form.get_by_label(f"Remove {label}.mpt").click()
        expect(form.get_by_label("Remove P1.mpt")).to_have_count(0)
        (folder / "next").mkdir()
        charge, discharge = fade_curve(8, first_charge_mah_per_g=230.0, first_ce_pct=90.0)
        other = write_cycling_file(folder / "next" / "P1.mpt", "biologic_mpt", charge * 0.012, discharge * 0.012)
        form.locator("input[type=file]").set_input_files([str(other)])
        expect(form.get_by_label("Remove P1.mpt")).to_have_count(1)
        click(page, form.get_by_role("button", name="Preview"))
        expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Preview only")).to_be_visible()
        shown = page.get_by_test_id("stDataFrame").filter(has_text="first_cycle_ce_pct").last
        expect(shown.locator("tr", has_text="P1.mpt")).to_contain_text("207")  # 230 mAh/g at 90 % CE, 12 mg
        expect(shown.locator("tr", has_text="P1.mpt")).not_to_contain_text("11.2")
    stored = Campaign.load("cells", storage=db_url)
    cells = stored.measurements()
    capacity = cells[(cells["experiment_id"] == second)
                     & (cells["outcome"] == "first_cycle_discharge_capacity_mah_per_g")].set_index("replicate")["value"]
    for label, mass in masses.items():
        assert capacity[label] == pytest.approx(discharge_mah[label] / (mass / 1000), rel=1e-6), label
    shown = evidence_table(stored.files()).set_index("file_name")  # the History page's list of files
    assert {name: shown.loc[f"{name}.mpt", "active_mass_mg"] for name in masses} == masses


def test_the_history_page_s_cells_file_carries_each_cell_s_active_mass(server: tuple[str, str, Path]) -> None:
    """The History page's "Export every cell (CSV)" wrote no active mass, while its list of
    instrument files showed each file's: the file kept for audit could not be checked."""
    from playwright.sync_api import expect

    base, db_url, folder = server
    masses = {"R1": 11.8, "R2": 12.6}
    campaign = Campaign.load("cells", storage=db_url, actor="test")
    second = str(campaign.history()["experiment_id"].iloc[1])
    (folder / "audit").mkdir()
    files = []
    for k, (label, mass) in enumerate(masses.items()):
        charge, discharge = fade_curve(8, first_charge_mah_per_g=226.0 + 3 * k, first_ce_pct=86.5 + k)
        files.append(write_cycling_file(folder / "audit" / f"{label}.mpt", "biologic_mpt", charge * mass / 1000,
                                        discharge * mass / 1000))
    campaign.record_files(files, experiment_id=second, active_mass_mg=dict(masses), confirm=True)
    with app_page(base, step_ms=STEP_MS) as page:
        open_page(page, "History")
        button = page.get_by_role("button", name="Export every cell (CSV)")
        expect(button).to_be_visible()
        with page.expect_download(timeout=STEP_MS) as download:
            button.click()
        table = pd.read_csv(download.value.path(), dtype={"replicate": str})
    assert "active_mass_mg" in table.columns
    rows = table[table["replicate"].isin(list(masses))]
    assert dict(zip(rows["replicate"], rows["active_mass_mg"], strict=True)) == masses


def test_cells_get_their_own_masses_with_no_common_mass(server: tuple[str, str, Path]) -> None:
    """With the common mass left empty the first preview was refused ("give the mass of each cell")
    before the table of cells appeared, so giving each pellet its own mass needed a dummy common one."""
    from playwright.sync_api import expect

    base, db_url, folder = server
    masses = {"Q1": 11.5, "Q2": 12.5}
    files, discharge_mah = [], {}
    (folder / "own").mkdir()
    for k, (label, mass) in enumerate(masses.items()):
        charge, discharge = fade_curve(8, first_charge_mah_per_g=221.0 + 4 * k, first_ce_pct=88.5 + k)
        files.append(str(write_cycling_file(folder / "own" / f"{label}.mpt", "biologic_mpt", charge * mass / 1000,
                                            discharge * mass / 1000)))
        discharge_mah[label] = float(discharge[0]) * mass / 1000
    first = Campaign.load("cells", storage=db_url).history()["experiment_id"].iloc[0]

    def stored_files() -> pd.Series:
        return Campaign.load("cells", storage=db_url).files()["file_name"]

    with app_page(base, step_ms=STEP_MS) as page:
        open_record_page(page, "cells")
        form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
        pick_option(page, form.get_by_test_id("stSelectbox").filter(has_text="Experiment"), first)
        expect(form.get_by_role("textbox", name="Active cathode mass per cell (mg)")).to_have_value("")
        form.locator("input[type=file]").set_input_files(files)
        click(page, form.get_by_role("button", name="Preview"))
        missing = page.get_by_test_id("stAlertContentWarning").filter(has_text="No active mass for cell(s)")
        expect(missing).to_contain_text("'Q1', 'Q2'")
        expect(missing).to_contain_text("Nothing was read or recorded")
        grid = form.get_by_test_id("stDataFrame").filter(has_text="active mass (mg)")  # the cells, to give masses
        expect(grid).to_be_visible()
        for label in masses:
            expect(grid.locator("td", has_text=label)).to_have_count(1)
        assert not page.get_by_test_id("stAlertContentError").count()
        type_in_grid(page, grid, 0, 0, "11,5", form=True)
        click(page, form.get_by_role("button", name="Preview"))
        expect(missing).to_contain_text("cell(s) 'Q2':")  # Q1 has its mass now
        expect(missing).not_to_contain_text("'Q1'")
        click(page, form.get_by_role("button", name="Record these values"))  # Q2 still without one
        expect(missing).to_contain_text("cell(s) 'Q2':")
        assert not stored_files().isin(["Q1.mpt", "Q2.mpt"]).any()
        type_in_grid(page, grid, 1, 0, "12.5", form=True)
        click(page, form.get_by_role("button", name="Preview"))
        expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="Preview only")).to_be_visible()
        preview = page.get_by_test_id("stDataFrame").filter(has_text="first_cycle_ce_pct").last
        expect(preview.locator("tr", has_text="Q1.mpt")).to_contain_text("11.5")
        expect(preview.locator("tr", has_text="Q2.mpt")).to_contain_text("12.5")
        expect(missing).to_have_count(0)
        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Recorded 2 cell(s) of {first}")
        assert not page.get_by_test_id("stException").count()
    cells = Campaign.load("cells", storage=db_url).measurements()
    capacity = cells[(cells["experiment_id"] == first)
                     & (cells["outcome"] == "first_cycle_discharge_capacity_mah_per_g")].set_index("replicate")["value"]
    for label, mass in masses.items():
        assert capacity[label] == pytest.approx(discharge_mah[label] / (mass / 1000), rel=1e-6), label


def test_files_previewed_for_one_campaign_are_not_recorded_into_the_next(server: tuple[str, str, Path]) -> None:
    """Found by a walk through the app: files previewed for an experiment of one campaign, with
    their plots and cells, stayed in the form when the sidebar switched to another campaign, and
    "Record these values" recorded them into that campaign's first experiment. Now the other
    campaign's form starts empty and shows no other campaign's plots."""
    from playwright.sync_api import expect

    base, db_url, folder = server
    for name in ("cells-first-line", "cells-next-line"):  # (the same experiment ids)
        line = Campaign.from_config("hfo2-ncm85", storage=db_url, name=name, actor="fixture")
        line.suggest(2)
        line.accept()
    charge, discharge = fade_curve(8, first_charge_mah_per_g=220.0, first_ce_pct=90.0)
    path = str(write_cycling_file(folder / "pellet-7.mpt", "biologic_mpt", charge * 0.0115, discharge * 0.0115))
    with app_page(base, step_ms=STEP_MS) as page:
        _preview(page, [path], "pellet-7.mpt", campaign="cells-first-line")
        expect(page.get_by_test_id("stTabs").get_by_role("tab", name="pellet-7.mpt")).to_be_visible()
        open_record_page(page, "cells-next-line")
        form = page.get_by_test_id("stForm").filter(has_text="Cycler files")
        expect(form.get_by_text("pellet-7.mpt")).to_have_count(0)
        expect(page.get_by_test_id("stTabs").get_by_role("tab", name="pellet-7.mpt")).to_have_count(0)
        click(page, form.get_by_role("button", name="Record these values"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    for name in ("cells-first-line", "cells-next-line"):
        assert Campaign.load(name, storage=db_url).measurements().empty
