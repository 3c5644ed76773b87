"""Cycler files recorded into a campaign (real SQLite file), through the API and the ``doe`` command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.errors import ConflictError
from doe.instruments import InstrumentFileError
from doe.instruments.synthetic import fade_curve, write_cycling_file

MASS_MG = 11.5


def _cells(folder: Path, ces: list[float]) -> list[Path]:
    paths = []
    for k, ce in enumerate(ces):
        charge, discharge = fade_curve(12, first_charge_mah_per_g=220.0, first_ce_pct=ce)
        fmt = ["biologic_mpt", "neware_csv", "arbin_csv"][k % 3]
        paths.append(write_cycling_file(folder / f"cell_{'ABC'[k]}.{ 'mpt' if k % 3 == 0 else 'csv'}", fmt,  # type: ignore[arg-type]
                                        charge * MASS_MG / 1000, discharge * MASS_MG / 1000))
    return paths


def _campaign(tmp_path: Path) -> Campaign:
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", name="cells",
                                    actor="test")
    campaign.suggest(2)
    campaign.accept()
    return campaign


def _curve_campaign(tmp_path: Path, name: str) -> tuple[Campaign, str]:
    """The template with retention as a curve to cycle 200, one experiment running; and its id."""
    from doe.templates import resolve_config

    data = resolve_config("hfo2-ncm85").to_dict() | {"name": name}
    for objective in data["objectives"]:
        if objective["name"] == "capacity_retention_pct":
            objective.update(over="cycle", at=200)
    campaign = Campaign.from_config(data, storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    campaign.suggest(1)
    campaign.accept()
    return campaign, str(campaign.history()["experiment_id"].iloc[0])


def test_a_preview_records_nothing_and_confirm_records_one_cell_per_file(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    paths = _cells(tmp_path, [89.0, 90.0, 91.5])
    preview = campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG)
    assert preview.table["replicate"].tolist() == ["cell_A", "cell_B", "cell_C"]
    assert preview.table["first_cycle_ce_pct"].tolist() == pytest.approx([89.0, 90.0, 91.5], rel=1e-6)
    assert "capacity_retention_pct" in preview.skipped  # 12 cycles do not reach cycle 200
    assert campaign.measurements().empty

    campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    row = campaign.history().set_index("experiment_id").loc[first]
    assert row["status"] == "completed"
    assert row["first_cycle_ce_pct"] == pytest.approx((89.0 + 90.0 + 91.5) / 3, rel=1e-6)
    assert row["first_cycle_ce_pct_n"] == 3
    assert row["first_cycle_discharge_capacity_mah_per_g"] == pytest.approx(220.0 * 0.9017, rel=1e-3)
    assert pd.isna(row["capacity_retention_pct"])
    # the same files again change nothing
    campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert len(campaign.measurements()) == 6


def test_a_bad_file_records_nothing(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    good = _cells(tmp_path, [90.0])
    bad = tmp_path / "cracked_pellet.csv"
    bad.write_text("Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)\n1,2.5,")
    with pytest.raises(InstrumentFileError, match=r"cracked_pellet\.csv"):
        campaign.record_files([*good, bad], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.measurements().empty


def test_doe_record_files_previews_then_records(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    paths = [str(p) for p in _cells(tmp_path, [88.0, 90.0])]
    env = {**os.environ, "DOE_DATABASE_URL": campaign.storage_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ACTOR": "cli-test"}

    def doe(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)

    shown = doe("record-files", *paths, "--campaign", "cells", "--experiment-id", first, "--active-mass-mg", "11.5")
    assert shown.returncode == 0, shown.stderr
    assert "preview only: nothing was recorded" in shown.stdout and "88" in shown.stdout
    assert Campaign.load("cells", storage=campaign.storage_url).measurements().empty
    done = doe("record-files", *paths, "--campaign", "cells", "--experiment-id", first, "--active-mass-mg", "11.5",
               "--confirm")
    assert done.returncode == 0, done.stderr
    added = len(Campaign.load("cells", storage=campaign.storage_url).measurements())
    assert (f"campaign 'cells': recorded 2 cell(s) of {first} from 2 file(s): {added} value(s) added, 0 corrected, "
            "0 unchanged\n") in done.stdout
    revision = Campaign.load("cells", storage=campaign.storage_url).revision()
    again = doe("record-files", *paths, "--campaign", "cells", "--experiment-id", first, "--active-mass-mg", "11.5",
                "--confirm")  # the same files again change nothing, and say so
    assert again.returncode == 0, again.stderr
    assert f"campaign 'cells': nothing new: the values of these files were recorded for {first} already\n" in again.stdout
    assert Campaign.load("cells", storage=campaign.storage_url).revision() == revision
    history = Campaign.load("cells", storage=campaign.storage_url).history().set_index("experiment_id")
    assert history.loc[first, "first_cycle_ce_pct"] == pytest.approx(89.0, rel=1e-6)
    zero = doe("record-files", paths[0], "--campaign", "cells", "--experiment-id", first, "--active-mass-mg", "0")
    assert zero.returncode != 0 and "--active-mass-mg" in zero.stderr
    # the files are kept: listed, and downloaded byte for byte by a SHA-256 prefix
    listed = doe("files", "--campaign", "cells")
    assert listed.returncode == 0, listed.stderr
    assert all(Path(p).name in listed.stdout for p in paths) and first in listed.stdout
    stored = Campaign.load("cells", storage=campaign.storage_url).files().set_index("file_name")
    sha = stored.loc[Path(paths[1]).name, "sha256"]
    out = tmp_path / "again.csv"
    got = doe("files", "--campaign", "cells", "--download", sha[:10], "--output", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == Path(paths[1]).read_bytes()
    unknown = doe("files", "--campaign", "cells", "--download", "0123456789")
    assert unknown.returncode != 0 and "--download" in unknown.stderr
    # a folder that is not there, a file that is, and --output alone: refused in a line, never a
    # traceback, nothing written (found by a probe)
    for args, said in ((["--download", sha[:10], "--output", str(tmp_path / "no" / "x.csv")], "does not exist"),
                       (["--download", sha[:10], "--output", str(out)], "exists; choose another --output"),
                       (["--output", str(tmp_path / "y.csv")], "give --download")):
        refused = doe("files", "--campaign", "cells", *args)
        assert refused.returncode != 0 and said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert not (tmp_path / "y.csv").exists() and not (tmp_path / "no").exists()
    for option in ("--campaign", "--db"):  # a robot's unset $CAMPAIGN or $DB: refused, not another campaign
        empty = doe("files", option, "")
        assert empty.returncode == 2 and f"Invalid value for '{option}': is empty" in empty.stderr
    wrong = doe("record-files", paths[0], "--campaign", "cells", "--experiment-id", first, "--kind", "impedance")
    assert wrong.returncode != 0 and "kind 'impedance'" in wrong.stderr


def test_cells_recorded_one_file_at_a_time_are_each_their_own_cell(tmp_path: Path) -> None:
    """A file recorded alone was stored without a label: the next cell's file, recorded alone
    a week later, was a conflict with it, and both files together stored the first cell twice
    (n = 3 for two cells)."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    a, b = _cells(tmp_path, [89.0, 91.0])
    campaign.record_files([a], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([b], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([a, b], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)  # changes nothing
    row = campaign.history().set_index("experiment_id").loc[first]
    assert (row["first_cycle_ce_pct"], row["first_cycle_ce_pct_n"]) == (pytest.approx(90.0, rel=1e-6), 2)
    assert sorted(campaign.measurements()["replicate"].unique()) == ["cell_A", "cell_B"]


def test_cell_labels_from_file_names_that_cannot_be_labels_are_refused_at_the_preview(tmp_path: Path) -> None:
    """A long instrument file name previewed fine and was refused only at --confirm, and two
    channel folders' cell.mpt were one cell twice; ``replicates`` names the cells instead."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    a, b = _cells(tmp_path, [89.0, 91.0])
    long_name = a.rename(tmp_path / "2026-12-04_NCM85_HfO2_batch3_cell_A_channel12.mpt")
    with pytest.raises(InstrumentFileError, match=r"cell label '2026-12-04_NCM85.*' is not 1 to 32 printable.*"
                                                  r"replicates=\[\.\.\.\]"):
        campaign.record_files([long_name, b], experiment_id=first, active_mass_mg=MASS_MG)
    (tmp_path / "ch1").mkdir()
    (tmp_path / "ch2").mkdir()
    twins = [long_name.rename(tmp_path / "ch1" / "cell.mpt"), b.rename(tmp_path / "ch2" / "cell.csv")]
    with pytest.raises(InstrumentFileError, match=r"cell\.csv: cell label 'cell' is also the label of file 1"):
        campaign.record_files(twins, experiment_id=first, active_mass_mg=MASS_MG)
    with pytest.raises(InstrumentFileError, match="one cell label per file"):
        campaign.record_files(twins, experiment_id=first, active_mass_mg=MASS_MG, replicates=["A"])
    assert campaign.measurements().empty
    preview = campaign.record_files(twins, experiment_id=first, active_mass_mg=MASS_MG, replicates=["A", "B"],
                                    confirm=True)
    assert preview.table["replicate"].tolist() == ["A", "B"]
    assert campaign.history().set_index("experiment_id").loc[first, "first_cycle_ce_pct_n"] == 2


def test_doe_record_files_takes_the_cells_labels(tmp_path: Path) -> None:
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    paths = [str(p) for p in _cells(tmp_path, [88.0, 90.0])]
    env = {**os.environ, "DOE_DATABASE_URL": campaign.storage_url, "DOE_HOME": str(tmp_path / "home")}
    args = [sys.executable, "-m", "doe.cli", "record-files", *paths, "--campaign", "cells", "--experiment-id", first,
            "--active-mass-mg", "11.5", "--replicate", "left"]
    one = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode != 0 and "one cell label per file (2 file(s))" in one.stderr
    done = subprocess.run([*args, "--replicate", "right", "--confirm"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "left" in done.stdout and "right" in done.stdout
    assert sorted(Campaign.load("cells", storage=campaign.storage_url).measurements()["replicate"].unique()) == [
        "left", "right"]


def test_a_lone_files_cell_takes_an_unlabelled_value_and_a_file_replaces_one_as_a_correction(tmp_path: Path) -> None:
    """Review findings: after one cycler file (now its labelled cell), the Record grid's
    unlabelled correction was refused beside that cell; and a value recorded without a label
    (typed, or a file recorded alone by an older version) could not be replaced by its file,
    since record_files had no correct option."""
    from doe.errors import ConflictError

    campaign = _campaign(tmp_path)
    first, second = campaign.history()["experiment_id"].iloc[:2]
    a, b = _cells(tmp_path, [89.0, 91.0])
    campaign.record_files([a], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    ce = "first_cycle_ce_pct"
    assert campaign.record(pd.DataFrame({"experiment_id": [first], ce: [89.0]})).measurements_unchanged == 1
    with pytest.raises(ConflictError, match=f"{first} replicate 'cell_A' {ce}"):
        campaign.record(pd.DataFrame({"experiment_id": [first], ce: [88.0]}))
    campaign.record(pd.DataFrame({"experiment_id": [first], ce: [88.0]}), correct=True)
    cells = campaign.measurements().query("outcome == @ce")
    assert cells.loc[cells["experiment_id"] == first, ["replicate", "value"]].values.tolist() == [["cell_A", 88.0]]

    campaign.record(pd.DataFrame({"experiment_id": [second], ce: [90.5]}))  # typed before the file came
    with pytest.raises(ConflictError, match=r"With correct=True the labelled cells replace the unlabelled value"):
        campaign.record_files([b], experiment_id=second, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([b], experiment_id=second, active_mass_mg=MASS_MG, confirm=True, correct=True)
    cells = campaign.measurements().query("outcome == @ce")
    assert cells.loc[cells["experiment_id"] == second, "replicate"].tolist() == ["cell_B"]
    assert campaign.history().set_index("experiment_id").loc[second, ce] == pytest.approx(91.0, rel=1e-6)


def test_a_cells_cycling_file_and_spectrum_share_its_label(tmp_path: Path) -> None:
    """Recorded together, a cell's cycling file and its spectrum (A.mpt, A.DTA) were refused as
    two files of one cell; each now gives the cell its outcomes, linked to its own file."""
    from doe.instruments.synthetic import impedance_spectrum, write_impedance_file

    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    cycling = _cells(tmp_path, [89.0, 91.0])
    spectrum = write_impedance_file(tmp_path / "A.DTA", "gamry_dta", *impedance_spectrum(seed=1))
    paths = [cycling[0].rename(tmp_path / "A.mpt"), spectrum, cycling[1].rename(tmp_path / "B.csv")]
    twice = [paths[0], write_cycling_file(tmp_path / "A.csv", "neware_csv",
                                          *(x * MASS_MG / 1000 for x in fade_curve(12)))]
    with pytest.raises(InstrumentFileError, match=r"A\.csv: cell label 'A' is also the label of file 1 \(A\.mpt\), "
                                                  "another cycling file"):
        campaign.record_files(twice, experiment_id=first, active_mass_mg=MASS_MG)
    preview = campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert preview.table["replicate"].tolist()[:3] == ["A", "A", "B"]
    assert preview.recorded_text() == (f"recorded 2 cell(s) of {first} from 3 file(s): {len(campaign.measurements())} "
                                       "value(s) added, 0 corrected, 0 unchanged")
    stored = campaign.measurements().set_index(["replicate", "outcome"])
    files = {f.sha256: f.file_name for f in preview.files}
    assert files[stored.loc[("A", "first_cycle_ce_pct"), "file_sha256"]] == "A.mpt"
    assert files[stored.loc[("A", "interfacial_resistance_ohm"), "file_sha256"]] == "A.DTA"
    assert files[stored.loc[("B", "first_cycle_ce_pct"), "file_sha256"]] == "B.csv"
    row = campaign.history().set_index("experiment_id").loc[first]
    assert row["first_cycle_ce_pct_n"] == 2 and row["interfacial_resistance_ohm_n"] == 1
    again = campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert len(again.files) == 3 and len(campaign.measurements()) == len(stored)  # the same files: nothing new
    assert again.recorded_text() == f"nothing new: the values of these files were recorded for {first} already"


def test_a_correction_with_another_active_mass_stores_the_rule_behind_the_new_values(tmp_path: Path) -> None:
    """A cell recorded with 11.5 mg and corrected with 12.5 mg kept the file's rule at 11.5 mg:
    the provenance named a mass that no current value was computed with."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    paths = _cells(tmp_path, [89.0])
    campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    capacity = campaign.history().set_index("experiment_id").loc[first, "first_cycle_discharge_capacity_mah_per_g"]
    with pytest.raises(ConflictError):  # another mass without correct: refused, nothing changed
        campaign.record_files(paths, experiment_id=first, active_mass_mg=12.5, confirm=True)
    assert campaign.files()["rule"].tolist() == [{"active_mass_mg": MASS_MG, "reference_cycle": 1}]
    campaign.record_files(paths, experiment_id=first, active_mass_mg=12.5, confirm=True, correct=True)
    corrected = campaign.history().set_index("experiment_id").loc[first, "first_cycle_discharge_capacity_mah_per_g"]
    assert corrected == pytest.approx(capacity * MASS_MG / 12.5, rel=1e-3)
    assert campaign.files()["rule"].tolist() == [{"active_mass_mg": 12.5, "reference_cycle": 1}]
    changed = campaign.audit().query("action == 'file_rule_changed'")
    assert changed["experiment_id"].tolist() == [first]
    assert [(d["old_rule"]["active_mass_mg"], d["new_rule"]["active_mass_mg"])
            for d in changed["detail"].map(json.loads)] == [(MASS_MG, 12.5)]
    # the same file and mass again: no new rule change, nothing written
    revision = campaign.revision()
    campaign.record_files(paths, experiment_id=first, active_mass_mg=12.5, confirm=True, correct=True)
    assert campaign.revision() == revision and len(campaign.audit().query("action == 'file_rule_changed'")) == 1


def test_a_cycler_export_that_adds_only_curve_points_is_listed_as_evidence_in_the_history(tmp_path: Path) -> None:
    """A cell's 200-cycle export, recorded after its 12-cycle one, adds only retention points (its
    first cycles repeat the values stored): the history's evidence_files left it out, so the
    file behind the value at cycle 200 was missing from the history and its exports."""
    campaign, first = _curve_campaign(tmp_path, "curves")
    files = []
    for cycles in (12, 200):
        folder = tmp_path / f"after-{cycles}"
        folder.mkdir()
        charge, discharge = fade_curve(cycles, first_ce_pct=90.0, retention_at_200_pct=70.0)
        files.append(write_cycling_file(folder / "A.mpt", "biologic_mpt", charge * MASS_MG / 1000,
                                        discharge * MASS_MG / 1000))
        preview = campaign.record_files([files[-1]], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
        # (the preview says the curve points go in too: its one row per file shows no retention before cycle 200)
        assert preview.points_text() == (f"{cycles} curve point(s) of capacity_retention_pct (cycles 1-{cycles}), "
                                         "which go with the cells' values")
    stored = campaign.files()
    assert len(stored) == 2 and list(stored["experiment_ids"]) == [first, first]
    linked = campaign.measurements().groupby("file_sha256")["cycle"].max().to_dict()
    late = stored.loc[stored["sha256"] != stored["sha256"].iloc[0], "sha256"].iloc[0]
    assert linked[late] == 200  # the second file gave the points up to cycle 200 ...
    evidence = campaign.history().set_index("experiment_id").loc[first, "evidence_files"]
    # ... and is named in the history beside the first
    assert sorted(evidence.split("; ")) == sorted(f"A.mpt (sha256 {sha[:12]})" for sha in stored["sha256"])


def test_a_later_export_of_a_cell_under_a_new_file_name_is_refused_not_a_second_cell(tmp_path: Path) -> None:
    """Cyclers put the date in each export's name: the 200-cycle export of a cell recorded at 12
    cycles became a second cell (its first-cycle values counted twice, n = 2, and a 12-cycle
    'cell' beside the 200-cycle one). Under the first export's label it is that cell's."""
    campaign, first = _curve_campaign(tmp_path, "later-export")
    charge, discharge = fade_curve(200, first_ce_pct=90.0, retention_at_200_pct=70.0)
    early = write_cycling_file(tmp_path / "A_2026-01-05.mpt", "biologic_mpt", charge[:12] * MASS_MG / 1000,
                               discharge[:12] * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / "A_2026-03-20.mpt", "biologic_mpt", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    campaign.record_files([early], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=r"A_2026-03-20.mpt \(cell 'A_2026-03-20' of .*\) gives the same "
                                                  r"values as cell 'A_2026-01-05' \(.*first_cycle_ce_pct, cycles 1-12\)"):
        campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG)
    assert campaign.revision() == revision
    other = fade_curve(200, first_ce_pct=89.0, retention_at_200_pct=65.0)  # another cell: its own values
    b = write_cycling_file(tmp_path / "B.mpt", "biologic_mpt", other[0] * MASS_MG / 1000, other[1] * MASS_MG / 1000)
    campaign.record_files([b], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    report = campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, replicates=["A_2026-01-05"],
                                   confirm=True).recorded
    assert report is not None and report.measurements_added == 188  # cycles 13-200 of the one cell
    row = campaign.history().set_index("experiment_id").loc[first]
    assert row["first_cycle_ce_pct_n"] == 2 and row["capacity_retention_pct_n"] == 2


@pytest.mark.parametrize("file_format", ["biologic_mpt", "neware_csv", "arbin_csv"])
def test_a_later_export_with_as_many_cycles_as_one_exported_mid_cycle_is_that_cell(tmp_path: Path,
                                                                                    file_format: str) -> None:
    """A cell exported while cycle 13 charged (12 full cycles and a part of the 13th), then again
    once cycle 13 was done (13 cycles too): the files hold as many cycles, so no 'shorter file'
    had its last cycle left out, cycle 13 differed, and the second export was recorded as a
    second cell of the experiment (first_cycle_ce_pct_n 2 for one cell), and taken for another
    experiment's cell too (found by a probe)."""
    campaign = _campaign(tmp_path)
    first, second = campaign.history()["experiment_id"].iloc[:2]
    charge, discharge = fade_curve(13, first_charge_mah_per_g=220.0)
    running_charge, running_discharge = charge.copy(), discharge.copy()
    running_charge[-1], running_discharge[-1] = 0.5 * charge[-1], 0.0  # exported half-way through charge 13
    suffix = ".mpt" if file_format == "biologic_mpt" else ".csv"
    early = write_cycling_file(tmp_path / f"A_2026-01-05{suffix}", file_format,  # type: ignore[arg-type]
                               running_charge * MASS_MG / 1000, running_discharge * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / f"A_2026-01-06{suffix}", file_format,  # type: ignore[arg-type]
                              charge * MASS_MG / 1000, discharge * MASS_MG / 1000)
    campaign.record_files([early], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=r"gives the same values as cell 'A_2026-01-05' \(the charge and "
                                                  r"discharge capacities of cycles 1-12\)"):
        campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    with pytest.raises(InstrumentFileError, match=r"has the charge and discharge capacities of cycles 1-12 of the "
                                                  r"file recorded for cell 'A_2026-01-05' of E0001"):
        campaign.record_files([late], experiment_id=second, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.revision() == revision
    assert campaign.measurements()["replicate"].unique().tolist() == ["A_2026-01-05"]  # one cell


def test_a_later_export_for_a_cell_stored_under_an_old_spelling_of_its_label_is_that_cells(tmp_path: Path) -> None:
    """A cell stored as '1.0' (as labels were before they were cleaned) is the cell '1': its later
    export under '1' was refused as a copy of cell '1.0' (found by a review)."""
    import sqlite3

    campaign, first = _curve_campaign(tmp_path, "old-label")
    charge, discharge = fade_curve(200, first_ce_pct=90.0, retention_at_200_pct=70.0)
    early = write_cycling_file(tmp_path / "e.mpt", "biologic_mpt", charge[:12] * MASS_MG / 1000,
                               discharge[:12] * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / "l.mpt", "biologic_mpt", charge * MASS_MG / 1000, discharge * MASS_MG / 1000)
    campaign.record_files([early], experiment_id=first, active_mass_mg=MASS_MG, replicates=["1"], confirm=True)
    with sqlite3.connect(tmp_path / "lab.sqlite3") as db:  # as an older doe stored it
        assert db.execute("UPDATE measurements SET replicate = '1.0' WHERE replicate = '1'").rowcount == 14
    report = campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, replicates=["1"],
                                   confirm=True).recorded
    assert report is not None and report.measurements_added == 188
    assert set(campaign.measurements()["replicate"].dropna()) == {"1.0"}


def test_a_later_export_is_refused_in_a_campaign_without_curve_outcomes(tmp_path: Path) -> None:
    """With the shipped template (retention is no curve outcome) no curve points are stored, so
    a cell's later export under its new file name was a second cell (n 2, sd 0; found by a
    probe): it is told by its first cycles' capacities, which repeat the stored file's."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    charge, discharge = fade_curve(250, first_ce_pct=90.0, retention_at_200_pct=70.0)
    early = write_cycling_file(tmp_path / "A_2026-01-05.csv", "neware_csv", charge[:210] * MASS_MG / 1000,
                               discharge[:210] * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / "A_2026-03-20.csv", "neware_csv", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    campaign.record_files([early], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=r"A_2026-03-20.csv \(cell 'A_2026-03-20' of .*\) gives the same "
                                                  r"values as cell 'A_2026-01-05' \(the charge and discharge "
                                                  r"capacities of cycles 1-209\)"):
        campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.revision() == revision
    report = campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, replicates=["A_2026-01-05"],
                                   confirm=True).recorded
    assert report is not None and report.measurements_added == 0  # the same cell: its values unchanged
    stored = campaign.measurements()
    assert set(stored["replicate"]) == {"A_2026-01-05"} and len(stored) == 3
    # no value of the later file is new, so nothing is stored, the file neither (it would be linked to no
    # experiment), as the report says
    files = campaign.files()
    assert list(zip(files["file_name"], files["experiment_ids"], strict=True)) == [("A_2026-01-05.csv", first)]
    assert campaign.revision() == revision


def test_a_later_export_under_another_experiment_is_refused_naming_the_experiment_of_the_cell(
        tmp_path: Path) -> None:
    """A cell's later export recorded under another experiment was a new cell there: one cell's
    data counted for two experiments (found by a review); only the same bytes, or another cell
    of the same experiment, were compared."""
    campaign = _campaign(tmp_path)
    first, second = campaign.history()["experiment_id"].tolist()[:2]
    charge, discharge = fade_curve(250, first_ce_pct=90.0, retention_at_200_pct=70.0)
    early = write_cycling_file(tmp_path / "A_2026-01-05.csv", "neware_csv", charge[:210] * MASS_MG / 1000,
                               discharge[:210] * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / "A_2026-03-20.csv", "neware_csv", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    campaign.record_files([early], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    revision = campaign.revision()
    said = (rf"A_2026-03-20.csv \(cell '{{label}}' of {second}\) has the charge and discharge capacities of cycles "
            rf"1-209 of the file recorded for cell 'A_2026-01-05' of {first}: a later export of that cell")
    for label in ("A_2026-03-20", "A_2026-01-05"):  # under a label of its own, or the cell's own label
        with pytest.raises(InstrumentFileError, match=said.format(label=label)):
            campaign.record_files([late], experiment_id=second, active_mass_mg=MASS_MG, replicates=[label],
                                  confirm=True)
    with pytest.raises(InstrumentFileError, match=said.format(label="A_2026-03-20")):  # the preview says it too
        campaign.record_files([late], experiment_id=second, active_mass_mg=12.0)  # another mass typed: still found
    assert campaign.revision() == revision and len(campaign.files()) == 1
    report = campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG, replicates=["A_2026-01-05"],
                                   confirm=True).recorded
    assert report is not None and report.measurements_unchanged == 3  # where it belongs: that cell, unchanged
    other = _cells(tmp_path, [85.0])  # another cell is still welcome in the other experiment
    campaign.record_files(other, experiment_id=second, active_mass_mg=MASS_MG, confirm=True)
    assert set(campaign.measurements()["experiment_id"]) == {first, second}


def test_only_stored_files_with_the_same_first_cycle_values_are_read_again(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Comparing a new file with every stored cell must not read every stored file again (a new
    cell of an experiment of 300 files took 10 s): those whose recorded first-cycle values differ
    are passed over."""
    campaign = _campaign(tmp_path)
    first, second = campaign.history()["experiment_id"].tolist()[:2]
    paths = []
    for k in range(30):
        charge, discharge = fade_curve(12, first_charge_mah_per_g=220.0, first_ce_pct=80.0 + 0.5 * k)
        paths.append(write_cycling_file(tmp_path / f"cell_{k}.csv", "neware_csv", charge * MASS_MG / 1000,
                                        discharge * MASS_MG / 1000))
    campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    charge, discharge = fade_curve(40, first_charge_mah_per_g=220.0, first_ce_pct=80.0 + 0.5 * 7)
    late = write_cycling_file(tmp_path / "cell_7_late.csv", "neware_csv", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    new = _cells(tmp_path, [99.2])
    read: list[str] = []
    original = Campaign.file_content
    monkeypatch.setattr(Campaign, "file_content", lambda self, sha: read.append(sha) or original(self, sha))
    for experiment in (second, first):  # another experiment's cells, or its own experiment's (a new cell)
        campaign.record_files(new, experiment_id=experiment, active_mass_mg=MASS_MG)
    assert read == []  # no stored cell has its first cycle
    with pytest.raises(InstrumentFileError, match=r"cell_7_late.csv \(cell 'cell_7_late' of .*\) gives the same "
                                                  r"values as cell 'cell_7'"):
        campaign.record_files([late], experiment_id=first, active_mass_mg=MASS_MG)
    assert len(read) == 1  # cell_7's file alone
    read.clear()
    with pytest.raises(InstrumentFileError, match=rf"cell_7_late.csv \(cell 'cell_7_late' of {second}\) has the "
                                                  rf"charge and discharge capacities of cycles 1-11 of the file "
                                                  rf"recorded for cell 'cell_7' of {first}"):
        campaign.record_files([late], experiment_id=second, active_mass_mg=MASS_MG)
    assert len(read) == 1  # cell_7's file alone


def test_two_exports_of_one_cell_in_one_call_are_refused_naming_both(tmp_path: Path) -> None:
    """Two exports of one cell given together (the Record page uploads several files at once)
    became two cells even in a curve campaign: only stored cells were compared (found by a probe)."""
    campaign, first = _curve_campaign(tmp_path, "one-call")
    charge, discharge = fade_curve(210, first_ce_pct=90.0, retention_at_200_pct=70.0)
    early = write_cycling_file(tmp_path / "A_2026-01-05.csv", "neware_csv", charge[:12] * MASS_MG / 1000,
                               discharge[:12] * MASS_MG / 1000)
    late = write_cycling_file(tmp_path / "A_2026-03-20.csv", "neware_csv", charge * MASS_MG / 1000,
                              discharge * MASS_MG / 1000)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=r"A_2026-03-20.csv and A_2026-01-05.csv have the same charge and "
                                                  r"discharge capacities in cycles 1-11: two exports of one cell"):
        campaign.record_files([early, late], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.revision() == revision and campaign.files().empty


def test_a_value_outside_its_valid_range_is_named_with_its_file_at_the_preview_and_refused(tmp_path: Path) -> None:
    """The preview showed B.csv's CE of 121.8 % without a word, and the refusal at confirm said
    'row 1, column first_cycle_ce_pct', the second file counted from 0 (found by a probe)."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    sample = (Path(__file__).resolve().parents[2] / "datasets" / "instruments" / "neware_cycles.csv").read_text()
    (tmp_path / "A.csv").write_text(sample)
    (tmp_path / "B.csv").write_text(sample.replace("1,2.707200000,2.436480000", "1,2.0,2.43648"))
    paths = [tmp_path / "A.csv", tmp_path / "B.csv"]
    preview = campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG)
    said = "B.csv: first_cycle_ce_pct 121.824 is outside its valid_range (from 0 to 100)"
    assert preview.out_of_range == (said,)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=rf"^{re.escape(said)}: nothing was recorded"):
        campaign.record_files(paths, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.revision() == revision and campaign.files().empty


def test_one_path_given_alone_is_one_file(tmp_path: Path) -> None:
    """A str was taken as a list of one-character paths: ': no such file' (found by a probe)."""
    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    a = _cells(tmp_path, [89.0])[0]
    for given in (str(a), a):
        preview = campaign.record_files(given, experiment_id=first, active_mass_mg=MASS_MG)
        assert preview.read["file"].tolist() == [a.name] and preview.out_of_range == ()


def test_a_preview_asked_with_confirm_not_a_bool_names_it_and_records_nothing(tmp_path: Path) -> None:
    # confirm="no" (a setting read from a text file) is true to Python: the files were recorded
    from doe.errors import DataError

    campaign = _campaign(tmp_path)
    first = campaign.history()["experiment_id"].iloc[0]
    with pytest.raises(DataError, match=r"^confirm: give True or False"):
        campaign.record_files(_cells(tmp_path, [89.0]), experiment_id=first, active_mass_mg=MASS_MG, confirm="no")  # type: ignore[arg-type]
    assert campaign.measurements().empty and campaign.files().empty
