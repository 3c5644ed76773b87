"""Raw instrument files kept as evidence: stored once, linked from every value computed from
them, exported and downloadable byte for byte (real SQLite file and real PostgreSQL)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from doe.campaign import Campaign
from doe.domain.records import MAX_EVIDENCE_BYTES, EvidenceFile, NewMeasurement
from doe.errors import StorageError
from doe.instruments import InstrumentFileError
from doe.instruments.synthetic import fade_curve, write_cycling_file
from doe.storage import open_store

SAMPLES = Path(__file__).resolve().parents[2] / "datasets" / "instruments"
MASS_MG = 11.5


def _cell(folder: Path, name: str, ce: float) -> Path:
    charge, discharge = fade_curve(12, first_charge_mah_per_g=220.0, first_ce_pct=ce)
    return write_cycling_file(folder / name, "biologic_mpt", charge * MASS_MG / 1000, discharge * MASS_MG / 1000)


def _campaign(url: str) -> tuple[Campaign, str]:
    campaign = Campaign.from_config("hfo2-ncm85", storage=url, name="evidence", actor="ana")
    campaign.suggest(2)
    campaign.accept()
    return campaign, str(campaign.history()["experiment_id"].iloc[0])


def test_recorded_files_are_stored_once_and_linked_from_their_values(store_url: str, tmp_path: Path) -> None:
    campaign, first = _campaign(store_url)
    cells = [_cell(tmp_path, "cell_A.mpt", 89.0), _cell(tmp_path, "cell_B.mpt", 91.0)]
    spectrum = tmp_path / "eis_A.mpt"
    shutil.copy(SAMPLES / "biologic_peis.mpt", spectrum)
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([spectrum], experiment_id=first, confirm=True)

    files = campaign.files().set_index("file_name")
    assert sorted(files.index) == ["cell_A.mpt", "cell_B.mpt", "eis_A.mpt"]
    for path in [*cells, spectrum]:
        row = files.loc[path.name]
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["size_bytes"] == path.stat().st_size
        assert row["experiment_ids"] == first and row["uploaded_by"] == "ana"
        name, content = campaign.file_content(row["sha256"])
        assert (name, content) == (path.name, path.read_bytes())  # re-download: the same bytes
    assert files.loc["cell_A.mpt", "rule"] == {"active_mass_mg": MASS_MG, "reference_cycle": 1}
    assert files.loc["cell_A.mpt", "kind"] == "cycling" and files.loc["eis_A.mpt", "kind"] == "impedance"
    assert files.loc["cell_A.mpt", "parser"].startswith("doe ") and "biologic_mpt" in files.loc["cell_A.mpt", "parser"]
    assert "impedance.py" in files.loc["eis_A.mpt", "parser"] and "circuit" in files.loc["eis_A.mpt", "rule"]

    measured = campaign.measurements()
    by_file = measured.groupby("file_name")["outcome"].apply(set).to_dict()
    assert "first_cycle_ce_pct" in by_file["cell_A.mpt"] and "first_cycle_ce_pct" in by_file["cell_B.mpt"]
    assert "interfacial_resistance_ohm" in by_file["eis_A.mpt"]
    ce_a = measured[(measured["file_name"] == "cell_A.mpt") & (measured["outcome"] == "first_cycle_ce_pct")]
    assert ce_a["value"].tolist() == pytest.approx([89.0], rel=1e-6)
    evidence = campaign.history().set_index("experiment_id")["evidence_files"]
    assert all(name in evidence[first] for name in ("cell_A.mpt", "cell_B.mpt", "eis_A.mpt"))
    assert evidence.drop(first).isna().all()

    # the same files again: nothing stored, nothing measured, the revision unchanged
    revision, audit = campaign.revision(), len(campaign.audit())
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([spectrum], experiment_id=first, confirm=True)
    assert (campaign.revision(), len(campaign.audit()), len(campaign.files())) == (revision, audit, 3)
    assert len(campaign.measurements()) == len(measured)

    # the export carries the files; an import restores them byte for byte, with their links
    data = campaign.export_json()
    assert len(data["files"]) == 3
    copy = Campaign.import_json(data, storage=store_url, name="evidence-copy")
    assert copy.files()["sha256"].tolist() == campaign.files()["sha256"].tolist()
    assert copy.file_content(files.loc["cell_B.mpt", "sha256"])[1] == cells[1].read_bytes()
    assert copy.measurements()["file_name"].tolist() == campaign.measurements()["file_name"].tolist()


def test_an_unknown_or_oversized_file_stores_nothing(store_url: str, tmp_path: Path) -> None:
    campaign, first = _campaign(store_url)
    revision = campaign.revision()
    with pytest.raises(StorageError, match="no stored file"):
        campaign.file_content("0" * 64)
    huge = EvidenceFile.from_bytes("huge.mpt", b"x" * (MAX_EVIDENCE_BYTES + 1), kind="cycling",
                                   file_format="biologic_mpt", parser="test")
    with pytest.raises(StorageError, match=r"huge\.mpt.*over the 50 MB limit"):
        campaign.store.write("evidence", actor="ana", files=[huge], measurements=[
            NewMeasurement(first, "first_cycle_ce_pct", 90.0, file_sha256=huge.sha256)])
    forged = EvidenceFile("forged.mpt", b"data", "0" * 64, "cycling", "biologic_mpt", "test")
    with pytest.raises(StorageError, match=r"forged\.mpt.*sha256"):
        campaign.store.write("evidence", actor="ana", files=[forged])
    with pytest.raises(StorageError, match="file_sha256"):
        campaign.store.write("evidence", actor="ana", measurements=[
            NewMeasurement(first, "first_cycle_ce_pct", 90.0, file_sha256="f" * 64)])
    empty = tmp_path / "empty.mpt"
    empty.write_bytes(b"")
    with pytest.raises(InstrumentFileError, match=r"empty\.mpt.*empty"):
        campaign.record_files([empty], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    spectrum = tmp_path / "eis.mpt"
    shutil.copy(SAMPLES / "biologic_peis.mpt", spectrum)
    with pytest.raises(InstrumentFileError, match="kind 'cycling'"):
        campaign.record_files([spectrum], experiment_id=first, kind="cycling", confirm=True)
    with pytest.raises(InstrumentFileError, match="active_mass_mg"):
        campaign.record_files([_cell(tmp_path, "cell.mpt", 90.0)], experiment_id=first, confirm=True)
    assert campaign.revision() == revision and campaign.files().empty and campaign.measurements().empty


def test_a_curve_outcome_gets_every_cycle_of_a_cycler_file_as_points(tmp_path: Path) -> None:
    # capacity retention declared over cycles: each file's retention at every cycle becomes a
    # curve point of its cell, linked to the file; CE stays one value per cell
    from doe.templates import resolve_config

    data = resolve_config("hfo2-ncm85").to_dict() | {"name": "curves"}
    for objective in data["objectives"]:
        if objective["name"] == "capacity_retention_pct":
            objective.update(over="cycle", at=200)
    campaign = Campaign.from_config(data, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="ana")
    campaign.suggest(1)
    first = str(campaign.history()["experiment_id"].iloc[0])
    cells = [_cell(tmp_path, "cell_A.mpt", 89.0), _cell(tmp_path, "cell_B.mpt", 91.0)]
    preview = campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert "capacity_retention_pct" not in preview.skipped
    points = campaign.measurements()
    curve = points[points["outcome"] == "capacity_retention_pct"]
    assert sorted(curve["replicate"].unique()) == ["cell_A", "cell_B"]
    assert sorted(curve.loc[curve["replicate"] == "cell_A", "cycle"].astype(int)) == list(range(1, 13))
    assert (curve["file_name"] == curve["replicate"] + ".mpt").all()  # each point names its file
    first_cycle = curve[curve["cycle"] == 1]["value"]
    assert first_cycle.tolist() == pytest.approx([100.0, 100.0])
    ce = points[points["outcome"] == "first_cycle_ce_pct"]
    assert ce["cycle"].isna().all() and len(ce) == 2
    row = campaign.history().set_index("experiment_id").loc[first]
    assert row["capacity_retention_pct_last_cycle"] == 12  # still cycling: predicted at 200
    # the same files again change nothing
    revision = campaign.revision()
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.revision() == revision


def test_a_clone_with_history_keeps_each_values_evidence_file(store_url: str, tmp_path: Path) -> None:
    campaign, first = _campaign(store_url)
    cells = [_cell(tmp_path, "cell_A.mpt", 89.0), _cell(tmp_path, "cell_B.mpt", 91.0)]
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    campaign.record_files([tmp_path / "cell_A.mpt"], experiment_id=first, active_mass_mg=MASS_MG)  # a preview only

    def linked(c: Campaign) -> list[tuple[object, ...]]:
        m = c.measurements()
        return sorted(m[["experiment_id", "outcome", "replicate", "cycle", "value", "file_name", "file_sha256"]]
                      .astype(str).itertuples(index=False, name=None))

    for target in (store_url, f"sqlite:///{tmp_path / 'other.db'}"):  # the same store and another
        clone = campaign.clone("evidence-clone", storage=target, with_history=True)
        assert linked(clone) == linked(campaign) and len(linked(clone)) > 2
        assert clone.files()["sha256"].tolist() == campaign.files()["sha256"].tolist()
        for path in cells:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            assert clone.file_content(sha) == (path.name, path.read_bytes())
        assert clone.files()["rule"].tolist() == campaign.files()["rule"].tolist()
        assert clone.history().set_index("experiment_id").loc[first, "evidence_files"] == \
            campaign.history().set_index("experiment_id").loc[first, "evidence_files"]


def test_files_named_as_record_would_not_store_their_cell_are_linked_all_the_same(store_url: str,
                                                                                   tmp_path: Path) -> None:
    """A file stem such as '3.0' (cell '3') or a macOS name in decomposed Unicode ('Müller' as
    u + combining diaeresis, cell 'Müller' composed) lost the link from every value to its file."""
    import unicodedata

    campaign, first = _campaign(store_url)
    cells = [_cell(tmp_path, "3.0.mpt", 89.0), _cell(tmp_path, unicodedata.normalize("NFD", "Müller.mpt"), 91.0)]
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    values = campaign.measurements()
    assert sorted(set(values["replicate"])) == ["3", "Müller"]
    assert values["file_sha256"].notna().all()
    digests = {hashlib.sha256(path.read_bytes()).hexdigest() for path in cells}
    assert set(values["file_sha256"]) == digests


def test_a_note_added_to_a_value_from_a_file_keeps_its_file(store_url: str, tmp_path: Path) -> None:
    """A same-value correction that adds a note (the Record grid's note typed alone) dropped the
    value's link to the instrument file it was computed from."""
    import pandas as pd

    campaign, first = _campaign(store_url)
    campaign.record_files([_cell(tmp_path, "cell_A.mpt", 89.0)], experiment_id=first, active_mass_mg=MASS_MG,
                          confirm=True)
    ce = campaign.measurements().query("outcome == 'first_cycle_ce_pct'").iloc[0]
    report = campaign.record(pd.DataFrame({"experiment_id": [first], "replicate": [ce["replicate"]],
                                           "first_cycle_ce_pct": [ce["value"]], "note": ["separator wrinkled"]}),
                             correct=True)
    assert report.measurements_corrected == 1
    after = campaign.measurements().query("outcome == 'first_cycle_ce_pct'").iloc[0]
    assert (after["note"], after["file_name"], after["file_sha256"]) == (
        "separator wrinkled", "cell_A.mpt", ce["file_sha256"])


def test_discarding_a_half_made_campaign_deletes_its_rows_only_while_unchanged(store_url: str,
                                                                               tmp_path: Path) -> None:
    """The undo of a clone refused half-way (Campaign.clone): every row of that campaign goes,
    files and corrected values included, on SQLite and PostgreSQL; another campaign keeps all;
    a campaign changed since the caller's revision is left as it is."""
    campaign, first = _campaign(store_url)
    cells = [_cell(tmp_path, "cell_A.mpt", 89.0), _cell(tmp_path, "cell_B.mpt", 91.0)]
    campaign.record_files(cells, experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    clone = campaign.clone("half-made", with_history=True)
    clone.record(clone.measurements().query("outcome == 'first_cycle_ce_pct'").iloc[:1]
                 .rename(columns={"value": "first_cycle_ce_pct"})
                 .assign(first_cycle_ce_pct=80.0)[["experiment_id", "replicate", "first_cycle_ce_pct"]],
                 correct=True)
    assert len(clone.measurements(include_superseded=True)) > len(clone.measurements()) and len(clone.files())
    kept = (campaign.history(), campaign.measurements(include_superseded=True), campaign.files(), campaign.audit())
    revision = clone.revision()
    with pytest.raises(StorageError, match="changed meanwhile"):
        open_store(store_url).discard_campaign("half-made", revision - 1)
    assert clone.revision() == revision
    open_store(store_url).discard_campaign("half-made", revision)
    with pytest.raises(StorageError, match="no campaign named 'half-made'"):
        clone.history()
    for was, now in zip(kept, (campaign.history(), campaign.measurements(include_superseded=True),
                               campaign.files(), campaign.audit()), strict=True):
        assert now.equals(was)
    assert campaign.clone("half-made", with_history=True).files()["sha256"].tolist() == \
        campaign.files()["sha256"].tolist()


def test_one_cells_file_given_twice_or_again_under_another_label_is_refused(store_url: str, tmp_path: Path) -> None:
    """Byte-identical copies (A.csv, B.csv) became two cells with n 2 and sd 0, the second
    linked to the first one's file name."""
    campaign, first = _campaign(store_url)
    cell_a = _cell(tmp_path, "A.mpt", 89.0)
    copy = tmp_path / "B.mpt"
    shutil.copyfile(cell_a, copy)
    with pytest.raises(InstrumentFileError, match=r"B.mpt holds the same bytes as A.mpt: one cell's file given twice"):
        campaign.record_files([cell_a, copy], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.measurements().empty
    campaign.record_files([cell_a], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    revision = campaign.revision()
    with pytest.raises(InstrumentFileError, match=r"B.mpt \(cell 'B' of .*\) holds the same bytes as the file "
                                                  r"recorded for cell 'A' of"):
        campaign.record_files([copy], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    second = str(campaign.history()["experiment_id"].iloc[1])
    with pytest.raises(InstrumentFileError, match=rf"cell 'A' of {second}\) holds the same bytes"):  # another powder
        campaign.record_files([cell_a], experiment_id=second, active_mass_mg=MASS_MG)  # the preview says so too
    assert campaign.revision() == revision
    again = campaign.record_files([cell_a], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert again.recorded is not None and campaign.revision() == revision  # the same cell again: nothing new
    campaign.record_files([_cell(tmp_path, "B.mpt", 91.0)], experiment_id=first, active_mass_mg=MASS_MG, confirm=True)
    assert campaign.history()["first_cycle_ce_pct_n"].iloc[0] == 2


def test_files_for_an_experiment_the_campaign_lacks_say_so(store_url: str, tmp_path: Path) -> None:
    """A mistyped id (E0099) gave nine lines of 'a new experiment needs every parameter'."""
    campaign, first = _campaign(store_url)
    cell = _cell(tmp_path, "A.mpt", 89.0)
    with pytest.raises(InstrumentFileError, match=r"no experiment 'E0099' in the campaign") as err:
        campaign.record_files([cell], experiment_id="E0099", active_mass_mg=MASS_MG)  # the preview says so too
    assert "every parameter" not in str(err.value)
    spaced = campaign.record_files([cell], experiment_id=f" {first} ", active_mass_mg=MASS_MG, confirm=True)
    assert spaced.recorded is not None and spaced.recorded.measurements_added > 0
    again = campaign.record_files([cell], experiment_id=f"{first} ", active_mass_mg=MASS_MG, confirm=True)
    assert again.recorded is not None and again.recorded.measurements_added == 0  # the same cell: no twin
