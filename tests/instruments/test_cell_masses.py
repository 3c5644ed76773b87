"""One active cathode mass per cell when one call records several cells' cycler files: the
API (real SQLite and PostgreSQL) and the ``doe`` command (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.errors import DataError
from doe.instruments import InstrumentFileError
from doe.instruments.synthetic import (
    fade_curve,
    impedance_spectrum,
    write_cycling_file,
    write_impedance_file,
)

MASSES_MG = {"A": 11.2, "B": 12.0, "C": 12.9}  # the pellets of one coated powder
DISCHARGE = "first_cycle_discharge_capacity_mah_per_g"


def _cells(folder: Path) -> dict[str, tuple[Path, float]]:
    """A cycling file per cell (named by its label), each from its pellet's mass, and the first
    discharge capacity (mAh) the file holds."""
    cells = {}
    for k, (label, mass) in enumerate(MASSES_MG.items()):
        charge, discharge = fade_curve(6, first_charge_mah_per_g=215.0 + 5 * k, first_ce_pct=89.0 + k)
        mah = mass / 1000.0
        path = write_cycling_file(folder / f"{label}.mpt", "biologic_mpt", charge * mah, discharge * mah)
        cells[label] = (path, float(discharge[0] * mah))
    return cells


def _campaign(url: str) -> tuple[Campaign, str]:
    campaign = Campaign.from_config("hfo2-ncm85", storage=url, name="masses", actor="test")
    campaign.suggest(1)
    campaign.accept()
    return campaign, str(campaign.history()["experiment_id"].iloc[0])


def test_each_cell_s_capacity_per_gram_uses_its_own_mass(store_url: str, tmp_path: Path) -> None:
    campaign, first = _campaign(store_url)
    cells = _cells(tmp_path)
    paths = [path for path, _ in cells.values()]
    preview = campaign.record_files(paths, experiment_id=first, active_mass_mg=dict(MASSES_MG), confirm=True)
    assert preview.masses == tuple(MASSES_MG.values())
    stored = campaign.measurements()
    for label, (_, discharge_mah) in cells.items():
        value = stored[(stored["replicate"] == label) & (stored["outcome"] == DISCHARGE)]["value"]
        assert value.tolist() == pytest.approx([discharge_mah / (MASSES_MG[label] / 1000.0)], rel=1e-6), label
    files = campaign.files().set_index("file_name")
    assert {name: rule["active_mass_mg"] for name, rule in files["rule"].items()} == {
        f"{label}.mpt": mass for label, mass in MASSES_MG.items()}
    assert {f["file_name"]: f["rule"]["active_mass_mg"] for f in campaign.export_json()["files"]} == {
        f"{label}.mpt": mass for label, mass in MASSES_MG.items()}
    # one number is still every cell's mass
    one = campaign.record_files(paths, experiment_id=first, active_mass_mg=12.0)
    assert one.masses == (12.0, 12.0, 12.0)


def test_labels_given_by_replicates_and_a_spectrum_share_its_cell_s_mass(tmp_path: Path) -> None:
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    cells = _cells(tmp_path)
    spectrum = write_impedance_file(tmp_path / "a_eis.csv", "impedance_csv", *impedance_spectrum())
    paths = [cells["A"][0], cells["B"][0], spectrum]
    preview = campaign.record_files(paths, experiment_id=first, replicates=["x", "Y", "x"],
                                    active_mass_mg={"X": 11.2, "y": 12.0})  # labels compared as record() does
    assert preview.table["replicate"].iloc[:3].tolist() == ["x", "Y", "x"]
    assert preview.masses == (11.2, 12.0, None)
    assert preview.table[DISCHARGE].iloc[:2].tolist() == pytest.approx(
        [cells["A"][1] / 0.0112, cells["B"][1] / 0.0120], rel=1e-6)


def test_masses_read_from_a_table_as_numpy_numbers_are_masses(tmp_path: Path) -> None:
    """A lab's masses read with pandas are NumPy numbers: a column of whole milligrams is int64.
    ``np.int64(12)`` was refused ("active_mass_mg must be a positive number of milligrams, got
    np.int64(12)"), one int64 in a mapping as "not a positive number", while np.float64 passed."""
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    cells = _cells(tmp_path)
    paths = [path for path, _ in cells.values()]
    sheet = pd.DataFrame({"cell": ["A", "B", "C"], "mass_mg": [11, 12, 13]})  # int64
    masses = dict(zip(sheet["cell"], sheet["mass_mg"].to_numpy(), strict=True))  # np.int64 values
    preview = campaign.record_files(paths, experiment_id=first, active_mass_mg=masses, confirm=True)
    assert preview.masses == (11.0, 12.0, 13.0)
    stored = campaign.measurements().set_index(["replicate", "outcome"])["value"]
    for label, (_, discharge_mah) in cells.items():
        assert stored[(label, DISCHARGE)] == pytest.approx(discharge_mah / (masses[label] / 1000.0), rel=1e-6)
    assert sorted(rule["active_mass_mg"] for rule in campaign.files()["rule"]) == [11.0, 12.0, 13.0]
    one = campaign.record_files(paths[:1], experiment_id=first, active_mass_mg=sheet["mass_mg"].iloc[0])
    assert one.masses == (11.0,)


@pytest.mark.parametrize(("masses", "named"), [
    ({"A": 11.2, "B": 12.0}, "cell 'C': no mass given"),
    ({"A": 11.2, "B": 12.0, "C": 12.9, "D": 13.0}, "cell 'D' is not a cell of these files"),
    ({"A": 11.2, "B": 12.0, "C": 0.0}, "cell 'C': 0.0 is not a positive number"),
    ({"A": 11.2, "B": 12.0, "C": 12.9, "a": 11.0}, "cell 'a' is given twice"),
])
def test_a_mapping_missing_a_cell_or_naming_no_cell_is_refused_nothing_stored(
        tmp_path: Path, masses: dict[str, float], named: str) -> None:
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    paths = [path for path, _ in _cells(tmp_path).values()]
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=named):
        campaign.record_files(paths, experiment_id=first, active_mass_mg=masses, confirm=True)
    assert campaign.measurements().empty and campaign.files().empty
    assert campaign.revision() == revision


def test_doe_record_files_takes_a_mass_per_cell_and_shows_it(tmp_path: Path) -> None:
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    cells = _cells(tmp_path)
    paths = [str(path) for path, _ in cells.values()]
    env = {**os.environ, "DOE_DATABASE_URL": campaign.storage_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ACTOR": "cli-test"}

    def doe(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)

    per_cell = [arg for label, mass in MASSES_MG.items() for arg in ("--active-mass-mg", f"{label}={mass}")]
    shown = doe("record-files", *paths, "--campaign", "masses", "--experiment-id", first, *per_cell)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split() for line in shown.stdout.splitlines() if line.startswith(("A.mpt", "B.mpt",
                                                                                                     "C.mpt"))}
    assert {name[0]: float(row[-1]) for name, row in rows.items()} == MASSES_MG  # each cell's mass, beside its values
    missing = doe("record-files", *paths, "--campaign", "masses", "--experiment-id", first, *per_cell[:4], "--confirm")
    assert missing.returncode != 0 and "--active-mass-mg" in missing.stderr and "cell 'C'" in missing.stderr
    mixed = doe("record-files", *paths, "--campaign", "masses", "--experiment-id", first, "--active-mass-mg", "12",
                "--active-mass-mg", "A=11.2")
    assert mixed.returncode != 0 and "--active-mass-mg" in mixed.stderr
    assert Campaign.load("masses", storage=campaign.storage_url).measurements().empty
    done = doe("record-files", *paths, "--campaign", "masses", "--experiment-id", first, *per_cell, "--confirm")
    assert done.returncode == 0, done.stderr
    stored = Campaign.load("masses", storage=campaign.storage_url).measurements()
    for label, (_, discharge_mah) in cells.items():
        value = stored[(stored["replicate"] == label) & (stored["outcome"] == DISCHARGE)]["value"]
        assert value.tolist() == pytest.approx([discharge_mah / (MASSES_MG[label] / 1000.0)], rel=1e-6), label
    listed = doe("files", "--campaign", "masses")
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert "active_mass_mg" in header
    column = header.split().index("active_mass_mg")
    assert {line.split()[1][0]: float(line.split()[column]) for line in lines} == MASSES_MG


def test_the_page_s_masses_are_each_cell_s_own_else_the_common_one() -> None:
    from doe.instruments.cell_masses import masses_by_cell

    cells = [("A", "cycling"), ("B", "cycling"), ("a", "impedance")]
    assert masses_by_cell(cells, 12.0, {}) == 12.0
    assert masses_by_cell(cells, 12.0, {"a": 11.2, "gone": 9.0}) == {"A": 11.2, "B": 12.0}  # a stale row: not a cell
    assert masses_by_cell(cells, None, {"A": 11.2}) == {"A": 11.2}  # B left out: record_files names it


def _cells_file(campaign: Campaign, path: Path) -> pd.DataFrame:
    """The cells file as written (CSV or Excel), its headers without their units."""
    campaign.export_table(path, cells=True)
    table = pd.read_csv(path, dtype={"replicate": str}) if path.suffix == ".csv" else pd.read_excel(
        path, dtype={"replicate": str})
    return table.rename(columns=lambda header: header.split(" [")[0])


def test_the_cells_file_carries_each_cell_s_active_mass_and_records_back_as_it_is(store_url: str,
                                                                                  tmp_path: Path) -> None:
    campaign, first = _campaign(store_url)
    campaign.suggest(1)
    campaign.accept()
    second = str(campaign.history()["experiment_id"].iloc[1])
    cells = _cells(tmp_path)
    spectrum = write_impedance_file(tmp_path / "A_eis.csv", "impedance_csv", *impedance_spectrum())
    campaign.record_files([*(path for path, _ in cells.values()), spectrum], experiment_id=first,
                          replicates=["A", "B", "C", "A"], active_mass_mg=dict(MASSES_MG), confirm=True)
    campaign.record(pd.DataFrame({"experiment_id": [first, second], "replicate": ["D", None],
                                  "first_cycle_ce_pct": [88.0, 87.0]}))  # typed in: no cycling file, no mass
    for name in ("cells.csv", "cells.xlsx"):
        table = _cells_file(campaign, tmp_path / name)
        assert "active_mass_mg" in table.columns, name
        masses = {(row["experiment_id"], row["replicate"] if isinstance(row["replicate"], str) else None):
                  row["active_mass_mg"] for row in table.to_dict("records")}
        assert {cell: mass for cell, mass in masses.items() if mass == mass} == {
            (first, label): mass for label, mass in MASSES_MG.items()}, name  # the spectrum's row: A's mass
        assert masses[(first, "D")] != masses[(first, "D")] and masses[(second, None)] != masses[(second, None)]
        # recorded back as it is: nothing new, the mass column taken as neither an outcome nor a parameter
        revision = campaign.revision()
        report = campaign.import_table(tmp_path / name)
        assert report.measurements_added == report.measurements_corrected == 0, name
        assert campaign.revision() == revision
    assert set(campaign.measurements()["outcome"]) <= set(campaign.config.outcome_names)


@pytest.mark.parametrize(("cell", "mass", "named"), [
    ("A", "11.5", "recorded with 11.2 mg"), ("D", "12", "no stored cycling file"), ("B", "heavy", "not a number")])
def test_a_cells_file_with_another_mass_is_refused_naming_the_cell_nothing_stored(
        tmp_path: Path, cell: str, mass: str, named: str) -> None:
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    campaign.record_files([path for path, _ in _cells(tmp_path).values()], experiment_id=first,
                          active_mass_mg=dict(MASSES_MG), confirm=True)
    campaign.record(pd.DataFrame({"experiment_id": [first], "replicate": ["D"], "first_cycle_ce_pct": [88.0]}))
    table = _cells_file(campaign, tmp_path / "cells.csv")
    table["active_mass_mg"] = table["active_mass_mg"].astype(object)
    table.loc[table["replicate"] == cell, "active_mass_mg"] = mass
    table.loc[table["replicate"] == cell, "first_cycle_ce_pct"] = 95.0  # with a corrected value beside it
    table.to_csv(tmp_path / "edited.csv", index=False)
    revision = campaign.revision()
    with pytest.raises(DataError, match=named) as refused:
        campaign.import_table(tmp_path / "edited.csv", correct=True)
    assert [(p.column, p.file_row) for p in refused.value.problems] == [
        ("active_mass_mg", 2 + table.index[table["replicate"] == cell][0])]
    assert campaign.revision() == revision


def test_doe_export_cells_writes_the_masses(tmp_path: Path) -> None:
    campaign, first = _campaign(f"sqlite:///{tmp_path / 'lab.sqlite3'}")
    campaign.record_files([path for path, _ in _cells(tmp_path).values()], experiment_id=first,
                          active_mass_mg=dict(MASSES_MG), confirm=True)
    env = {**os.environ, "DOE_DATABASE_URL": campaign.storage_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ACTOR": "cli-test"}
    for name in ("cells.csv", "cells.xlsx"):
        done = subprocess.run([sys.executable, "-m", "doe.cli", "export", "--campaign", "masses", "--out", name,
                               "--cells"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        table = pd.read_csv(tmp_path / name) if name.endswith(".csv") else pd.read_excel(tmp_path / name)
        assert dict(zip(table["replicate"], table["active_mass_mg"], strict=True)) == MASSES_MG, name


def test_the_cells_without_a_mass_are_those_of_cycling_files_with_neither_their_own_nor_a_common_one() -> None:
    from doe.instruments.cell_masses import cells_without_mass

    cells = [("A", "cycling"), ("B", "cycling"), ("a", "impedance"), ("C", "cycling")]
    assert cells_without_mass(cells, None, {}) == ["A", "B", "C"]
    assert cells_without_mass(cells, None, {"a": 11.2, "C": float("nan")}) == ["B", "C"]  # a and A: one cell
    assert cells_without_mass(cells, 12.0, {}) == []
    assert cells_without_mass([("A", "impedance")], None, {}) == []
