"""Replicate cells through Campaign: recording, conflicts, history mean/sd/n, measurements,
export/import and the model, on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from doe import Campaign, VirtualLab, load_config
from doe.cli import cli
from doe.engine import EngineSettings
from doe.errors import ConflictError, DataError, StorageError

FAST = EngineSettings.fast()
CE = "first_cycle_ce_pct"


def _campaign(url: str, name: str = "hfo2-ncm85") -> Campaign:
    return Campaign.from_config("hfo2-ncm85", storage=url, actor="alice", settings=FAST, name=name)


def _cells(experiment_id: str, values: dict[str, float], **recipe: object) -> pd.DataFrame:
    rows = [{"experiment_id": experiment_id, "replicate": label, CE: value, **recipe}
            for label, value in values.items()]
    return pd.DataFrame(rows)


def test_replicates_are_separate_measurements_with_mean_sd_and_n(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    report = campaign.record(_cells("P1", {"A": 90.0, "B": 91.0, "C": 92.5}, **recipe))
    assert report.created == ["P1"] and report.measurements_added == 3
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P2", CE: 88.0}]))  # one unlabelled cell
    history = campaign.history().set_index("experiment_id")
    assert history.loc["P1", CE] == pytest.approx(91.1666666667)
    assert history.loc["P1", f"{CE}_sd"] == pytest.approx(float(np.std([90.0, 91.0, 92.5], ddof=1)))
    assert history.loc["P1", f"{CE}_n"] == 3 and history.loc["P2", f"{CE}_n"] == 1
    assert math.isnan(history.loc["P2", f"{CE}_sd"])
    assert history.loc["P1", "capacity_retention_pct_n"] == 0
    assert history.loc["P1", "status"] == "completed"
    cells = campaign.measurements()
    assert sorted(zip(cells["experiment_id"], cells["replicate"].fillna("-"), cells["value"], strict=True)) == [
        ("P1", "A", 90.0), ("P1", "B", 91.0), ("P1", "C", 92.5), ("P2", "-", 88.0)]
    # a later cell joins the experiment; the same cell with the same value is a no-op
    later = campaign.record(_cells("P1", {"D": 91.5, "A": 90.0}))
    assert (later.measurements_added, later.measurements_unchanged) == (1, 1)
    assert campaign.history().set_index("experiment_id").loc["P1", f"{CE}_n"] == 4


def test_same_cell_with_another_value_conflicts_unless_corrected(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(_cells("P1", {"A": 90.0, "B": 91.0}, **recipe))
    with pytest.raises(ConflictError, match="P1 replicate 'B'"):
        campaign.record(_cells("P1", {"B": 95.0}))
    assert sorted(campaign.measurements()["value"]) == [90.0, 91.0]
    campaign.record(_cells("P1", {"B": 95.0}), correct=True)
    assert sorted(campaign.measurements()["value"]) == [90.0, 95.0]
    history = campaign.measurements(include_superseded=True)
    assert sorted(zip(history["replicate"], history["value"], history["superseded"], strict=True)) == [
        ("A", 90.0, False), ("B", 91.0, True), ("B", 95.0, False)]


def test_an_outcome_is_one_unlabelled_value_or_labelled_cells_never_both(store_url: str) -> None:
    """Labelled cells recorded beside an experiment's unlabelled value made three cells of two
    (the unlabelled one counted again under its label): n = 3 and a mean weighting it twice."""
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", CE: 90.0}]))  # one cell, no label
    with pytest.raises(ConflictError, match=r"(?s)P1 first_cycle_ce_pct: recorded without a replicate label \(90.0, "
                                            r"recorded by alice on [-\d]+ [:\d]+ UTC\), now cells \['A', 'B'\].*correct=True"):
        campaign.record(_cells("P1", {"A": 90.0, "B": 92.0}))
    assert campaign.measurements()["value"].tolist() == [90.0]
    # as a correction the cells replace it; the unlabelled value stays in the history
    report = campaign.record(_cells("P1", {"A": 90.0, "B": 92.0}), correct=True)
    assert (report.measurements_added, report.measurements_corrected) == (1, 1)
    row = campaign.history().set_index("experiment_id").loc["P1"]
    assert (row[CE], row[f"{CE}_n"]) == (91.0, 2)
    assert campaign.measurements()["replicate"].tolist() == ["A", "B"]
    kept = campaign.measurements(include_superseded=True)
    assert kept.loc[kept["superseded"], "value"].tolist() == [90.0]
    # an unlabelled value beside the cells, stored or in the same write, is refused
    for rows in ([{"experiment_id": "P1", CE: 95.0}],
                 [{**recipe, "experiment_id": "P2", CE: 95.0}, {"experiment_id": "P2", "replicate": "A", CE: 96.0}]):
        with pytest.raises(DataError, match=r"a value without a replicate label beside the cells \['A'(, 'B')?\]"):
            campaign.record(pd.DataFrame(rows), correct=True)
    assert len(campaign.measurements(include_superseded=True)) == 3
    # an outcome measured on the powder, not per cell, goes beside the cells' outcomes
    campaign.record(pd.DataFrame([{"experiment_id": "P1", "coating_thickness_nm": 6.0}]))
    assert campaign.history().set_index("experiment_id").loc["P1", "coating_thickness_nm"] == 6.0


@pytest.mark.parametrize("order", [("A", "B", "C"), ("C", "A", "B"), ("A", "C", "B")])
def test_a_failed_cell_does_not_fail_a_measured_experiment(store_url: str, order: tuple[str, ...]) -> None:
    campaign = _campaign(store_url)
    proposed = campaign.suggest(1)["experiment_id"].iloc[0]
    ret = "capacity_retention_pct"
    cells = {"A": {CE: 80.0, ret: 70.0}, "B": {CE: 82.0, ret: 71.0}, "C": {"failed": True, "failure_reason": "cracked pellet"}}
    report = campaign.record(pd.DataFrame([{"experiment_id": proposed, "replicate": k, **cells[k]} for k in order]))
    assert report.failed_cells == [f"{proposed} replicate 'C': 'cracked pellet'"]  # the experiment stays completed, so said
    assert report.marked_failed == []  # in any order of the rows, and the audit trail has one status change
    assert _status_changes(campaign, proposed) == [("proposed", "completed")]
    row = campaign.history().set_index("experiment_id").loc[proposed]
    assert row["status"] == "completed" and row[CE] == pytest.approx(81.0) and row[f"{CE}_n"] == 2
    assert list(campaign.best(1)["experiment_id"]) == [proposed]
    # a later failed cell keeps it completed; a failed row without a label fails the whole experiment
    later = campaign.record(pd.DataFrame([{"experiment_id": proposed, "replicate": "D", "failed": True}]))
    assert later.failed_cells == [f"{proposed} replicate 'D': 'failed (no reason given)'"]
    assert campaign.history().set_index("experiment_id").loc[proposed, "status"] == "completed"
    # (that replaces its measured result, so it is a correction)
    whole = pd.DataFrame([{"experiment_id": proposed, "failure_reason": "contaminated powder"}])
    with pytest.raises(ConflictError, match="stored completed"):
        campaign.record(whole)
    campaign.record(whole, correct=True)
    row = campaign.history().set_index("experiment_id").loc[proposed]
    assert (row["status"], row["failure_reason"]) == ("failed", "contaminated powder")
    # every cell failed: the experiment fails with the reason, and no cell is listed as dropped
    other = campaign.suggest(1)["experiment_id"].iloc[0]
    failed = campaign.record(pd.DataFrame([{"experiment_id": other, "replicate": k, "failure_reason": "gelled"}
                                           for k in ("A", "B")]))
    assert failed.failed_cells == []
    assert campaign.history().set_index("experiment_id").loc[other, "status"] == "failed"


@pytest.mark.parametrize("swap", [False, True])
def test_the_order_of_a_tables_rows_does_not_change_a_running_experiments_status(store_url: str, swap: bool) -> None:
    campaign = _campaign(store_url)
    campaign.suggest(2)
    campaign.accept()
    cell, whole = campaign.history()["experiment_id"].tolist()
    rows = [{"experiment_id": cell, "replicate": "A", "failed": True, "failure_reason": "cracked pellet"},
            {"experiment_id": cell, "replicate": "B", CE: 87.0},
            # a row without a replicate label fails the whole experiment, beside a measured cell or not
            {"experiment_id": whole, "failure_reason": "gelled slurry"}, {"experiment_id": whole, "replicate": "B", CE: 85.0}]
    report = campaign.record(pd.DataFrame(rows[::-1] if swap else rows))
    assert report.marked_failed == [whole]
    assert report.failed_cells == [f"{cell} replicate 'A': 'cracked pellet'"]
    history = campaign.history().set_index("experiment_id")
    assert list(history.loc[[cell, whole], "status"]) == ["completed", "failed"]
    assert history.loc[whole, "failure_reason"] == "gelled slurry" and history.loc[cell, CE] == 87.0
    assert _status_changes(campaign, cell) == [("proposed", "running"), ("running", "completed")]
    assert _status_changes(campaign, whole) == [("proposed", "running"), ("running", "failed")]


@pytest.mark.parametrize("swap", [False, True])
def test_a_row_failing_a_new_experiment_beside_its_measured_cell_fails_it_as_for_a_stored_one(
        store_url: str, swap: bool) -> None:
    """The same rows completed a new (historical) experiment and failed a stored one: both fail
    now, keeping the measured cell and the failure's note and operator, in either order."""
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.suggest(1)
    campaign.accept()
    stored = campaign.history()["experiment_id"].iloc[0]
    rows = []
    for exp_id, extra in ((stored, {}), ("H1", recipe)):
        rows += [{"experiment_id": exp_id, "failure_reason": "gelled slurry", "note": "lumps", "operator": "bo",
                  **extra},
                 {"experiment_id": exp_id, "replicate": "B", CE: 85.0, **extra}]
    table = pd.DataFrame(rows)
    if swap:
        table = table.iloc[[1, 0, 3, 2]].reset_index(drop=True)
    report = campaign.record(table)
    assert sorted(report.marked_failed) == sorted([stored, "H1"])
    history = campaign.history().set_index("experiment_id")
    for exp_id in (stored, "H1"):
        row = history.loc[exp_id]
        assert (row["status"], row["failure_reason"], row[CE]) == ("failed", "gelled slurry", 85.0), exp_id
        assert (row["failure_note"], row["failure_operator"]) == ("lumps", "bo"), exp_id
    # recorded again, the table changes nothing
    revision = campaign.revision()
    campaign.record(table)
    assert campaign.revision() == revision


def _status_changes(campaign: Campaign, experiment_id: str) -> list[tuple[str, str]]:
    audit = campaign.audit()
    details = audit.loc[(audit["action"] == "status_changed") & (audit["experiment_id"] == experiment_id), "detail"]
    return [(d["from"], d["to"]) for d in map(json.loads, details)]


def _failures(campaign: Campaign) -> list[tuple[str, str, str]]:
    f = campaign.cell_failures()
    return list(zip(f["experiment_id"], f["replicate"], f["failure_reason"], strict=True))


def test_failed_cells_are_stored_once_and_a_cell_is_measured_or_failed(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    cells = pd.concat([_cells("P1", {"A": 80.0, "B": 82.0}, **recipe),
                       pd.DataFrame([{"experiment_id": "P1", "replicate": "C", "failure_reason": "cracked pellet",
                                      "note": "edge chipped"}])], ignore_index=True)
    campaign.record(cells)
    assert _failures(campaign) == [("P1", "C", "cracked pellet")]
    stored = campaign.cell_failures().iloc[0]
    assert (stored["note"], stored["recorded_by"]) == ("edge chipped", "alice")
    assert [a for a in campaign.audit()["action"] if a == "cell_failed"] == ["cell_failed"]
    # the same table again changes nothing
    revision = campaign.revision()
    again = campaign.record(cells)
    assert (again.measurements_added, campaign.revision()) == (0, revision)
    assert _failures(campaign) == [("P1", "C", "cracked pellet")]
    # another reason, a value for the failed cell, or a failure of a measured cell: refused, nothing changed
    refused = [
        (pd.DataFrame([{"experiment_id": "P1", "replicate": "C", "failure_reason": "short circuit"}]),
         ConflictError, "P1 replicate 'C': stored as failed"),
        (_cells("P1", {"C": 85.0}), ConflictError, "P1 replicate 'C' is stored as failed"),
        (pd.DataFrame([{"experiment_id": "P1", "replicate": "A", "failure_reason": "cracked"}]),
         ConflictError, "P1 replicate 'A' has measured values; marking it failed"),
    ]
    for table, error, message in refused:
        with pytest.raises(error, match=message):
            campaign.record(table)
        assert campaign.revision() == revision and _failures(campaign) == [("P1", "C", "cracked pellet")]
    # one table that measures and fails the same cell: refused
    with pytest.raises(DataError, match="replicate 'D' is in an earlier row too"):
        campaign.record(pd.concat([_cells("P1", {"D": 81.0}),
                                   pd.DataFrame([{"experiment_id": "P1", "replicate": "D", "failed": True}])]))
    assert campaign.revision() == revision
    # as corrections: a new reason replaces the old one; a value withdraws the failure
    before = {e["experiment_id"]: e["updated_at"] for e in campaign.export_json()["experiments"]}["P1"]
    campaign.record(refused[0][0], correct=True)
    assert _failures(campaign) == [("P1", "C", "short circuit")]
    assert {e["experiment_id"]: e["updated_at"] for e in campaign.export_json()["experiments"]}["P1"] > before
    campaign.record(refused[1][0], correct=True)
    assert _failures(campaign) == []
    row = campaign.history().set_index("experiment_id").loc["P1"]
    assert (row[f"{CE}_n"], row[CE]) == (3, pytest.approx(82.3333333333))
    actions = list(campaign.audit()["action"])
    assert actions.count("cell_failure_corrected") == 1 and actions.count("cell_failure_withdrawn") == 1


def test_a_measured_cell_found_cracked_is_failed_as_a_correction_and_its_values_kept_superseded(
        store_url: str, tmp_path: Path) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    ret = "capacity_retention_pct"
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "A", CE: 80.0, ret: 60.0},
                                  {"experiment_id": "P1", "replicate": "B", CE: 95.0, ret: 70.0},
                                  {**recipe, "experiment_id": "P2", "replicate": "A", CE: 85.0}]))
    cracked = pd.DataFrame([{"experiment_id": "P1", "replicate": "B", "failure_reason": "cracked pellet"}])
    revision = campaign.revision()
    with pytest.raises(ConflictError, match="P1 replicate 'B' has measured values; marking it failed"):
        campaign.record(cracked)
    assert campaign.revision() == revision and campaign.history().set_index("experiment_id").loc["P1", CE] == 87.5
    assert campaign.record(cracked, correct=True).measurements_withdrawn == 2  # B's CE and retention
    row = campaign.history().set_index("experiment_id").loc["P1"]
    assert (row["status"], row[CE], row[ret]) == ("completed", 80.0, 60.0)
    current = campaign.measurements()
    assert list(current.loc[current["experiment_id"] == "P1", "replicate"]) == ["A", "A"]
    assert _failures(campaign) == [("P1", "B", "cracked pellet")]
    every = campaign.measurements(include_superseded=True)
    b = every[(every["experiment_id"] == "P1") & (every["replicate"] == "B")]
    assert sorted(b["value"]) == [70.0, 95.0] and b["superseded"].all()  # kept, no longer counted
    withdrawn = campaign.audit().query("action == 'measurements_withdrawn'")
    assert list(withdrawn["experiment_id"]) == ["P1"]
    # the same again changes nothing; the only cell of P2 failing fails the experiment with its reason
    revision = campaign.revision()
    assert campaign.record(cracked, correct=True).measurements_withdrawn == 0
    assert campaign.revision() == revision
    # (by the doe command: it says how many values the failed cell withdrew)
    pd.DataFrame([{"experiment_id": "P2", "replicate": "A", "failure_reason": "short circuit"}]).to_csv(
        tmp_path / "short.csv", index=False)
    done = CliRunner().invoke(cli, ["record", str(tmp_path / "short.csv"), "--correct", "--db", store_url,
                                    "--campaign", campaign.name, "--actor", "t"])
    assert done.exit_code == 0, done.output
    assert "0 corrected, 1 withdrawn from failed cells)" in done.output
    row = campaign.history().set_index("experiment_id").loc["P2"]
    assert (row["status"], row["failure_reason"]) == ("failed", "short circuit") and math.isnan(row[CE])
    assert list(campaign.best(1)["experiment_id"]) == ["P1"]
    # the JSON export carries the superseded values and the failures to a new campaign
    copy = Campaign.import_json(campaign.export_json(), storage=store_url, name="copy")
    assert _failures(copy) == _failures(campaign)
    assert copy.history()[[CE, "status"]].equals(campaign.history()[[CE, "status"]])


def test_failed_cells_survive_export_import_clone_and_the_cells_file(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.concat([
        _cells("P1", {"A": 80.0, "B": 82.0}, **recipe),
        pd.DataFrame([{"experiment_id": "P1", "replicate": "C", "failure_reason": "cracked pellet"},
                      {**recipe, "experiment_id": "P2", "replicate": "A", "failure_reason": "gelled"},
                      {"experiment_id": "P2", "replicate": "B", "failure_reason": "gelled too"}])], ignore_index=True))
    expected = [("P1", "C", "cracked pellet"), ("P2", "A", "gelled"), ("P2", "B", "gelled too")]
    assert _failures(campaign) == expected
    assert campaign.history().set_index("experiment_id").loc["P2", "status"] == "failed"
    # an experiment that failed as a whole, without cells
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P4", "failure_reason": "furnace tripped"}]))
    exported = campaign.export_json()
    assert [(x["experiment_id"], x["replicate"], x["reason"]) for x in exported["cell_failures"]] == expected
    imported = Campaign.import_json(exported, storage=store_url, name="imported")
    assert _failures(imported) == expected
    clone = campaign.clone("cloned", with_history=True)
    assert _failures(clone) == expected
    assert clone.history().set_index("experiment_id").loc["P2", "status"] == "failed"
    # the cells file lists failed cells and records back into a new campaign as they were
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    other = _campaign(store_url, name="from-cells")
    other.import_table(tmp_path / "cells.csv")
    assert _failures(other) == expected
    assert other.measurements()["value"].sort_values().tolist() == [80.0, 82.0]
    for copy in (imported, clone, other):
        rows = copy.history().set_index("experiment_id")
        assert list(rows.loc[["P1", "P2", "P4"], "status"]) == ["completed", "failed", "failed"]
        assert list(rows.loc[["P2", "P4"], "failure_reason"]) == ["gelled", "furnace tripped"]
    # the file records into the campaign it came from without a change
    revision = campaign.revision()
    campaign.import_table(tmp_path / "cells.csv")
    assert campaign.revision() == revision
    # an export whose failed cell is also measured is refused, naming the field
    bad = {**exported, "cell_failures": [{**exported["cell_failures"][0], "replicate": "A"}]}
    with pytest.raises(StorageError, match=r"cell_failures\[0\]: P1 replicate 'A'"):
        Campaign.import_json(bad, storage=store_url, name="bad")
    cut = {k: v for k, v in exported.items() if k != "cell_failures"}
    with pytest.raises(StorageError, match="'cell_failures' is missing"):
        Campaign.import_json(cut, storage=store_url, name="cut")
    assert Campaign.import_json({**cut, "format_version": 2}, storage=store_url, name="v2").cell_failures().empty


@pytest.mark.parametrize("known", [False, True])
def test_failed_cells_of_a_failed_experiment_keep_its_reason_and_record_twice_unchanged(
        store_url: str, known: bool) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    if known:  # a proposed experiment; else the table creates P1
        exp_id = campaign.suggest(1)["experiment_id"].iloc[0]
        rows = [{"experiment_id": exp_id}, {"experiment_id": exp_id}]
    else:
        exp_id = "P1"
        rows = [{**recipe, "experiment_id": exp_id}, {"experiment_id": exp_id}]
    table = pd.DataFrame([{**rows[0], "replicate": "A", "failure_reason": "cracked"},
                          {**rows[1], "replicate": "B", "failure_reason": "short circuit"}])
    campaign.record(table)
    row = campaign.history().set_index("experiment_id").loc[exp_id]
    assert (row["status"], row["failure_reason"]) == ("failed", "cracked")  # the first failed cell's reason
    revision = campaign.revision()
    again = campaign.record(table)
    assert campaign.revision() == revision and again.cell_failures_added == 0
    assert campaign.history().set_index("experiment_id").loc[exp_id, "failure_reason"] == "cracked"
    # a later failed cell does not replace the experiment's own reason
    campaign.fail([exp_id], "furnace tripped")
    added = campaign.record(pd.DataFrame([{"experiment_id": exp_id, "replicate": "C", "failure_reason": "gelled"}]))
    row = campaign.history().set_index("experiment_id").loc[exp_id]
    assert (row["status"], row["failure_reason"], added.cell_failures_added) == ("failed", "furnace tripped", 1)
    assert _failures(campaign) == [(exp_id, "A", "cracked"), (exp_id, "B", "short circuit"), (exp_id, "C", "gelled")]


@pytest.mark.parametrize("later", ["cell", "unlabelled"])
def test_a_cell_measured_after_the_others_failed_completes_the_experiment_without_a_correction(
        store_url: str, later: str) -> None:
    """Cell B cracked and recorded before cell A was measured fails the experiment (every cell
    recorded failed); A's result a week later was refused as a ConflictError ("stored failed
    ('cracked pellet'), new completed"), although in one table the same rows complete it."""
    campaign = _campaign(store_url)
    exp_id = campaign.suggest(1)["experiment_id"].iloc[0]
    campaign.record(pd.DataFrame([{"experiment_id": exp_id, "replicate": "B", "failure_reason": "cracked pellet"}]))
    assert campaign.history().set_index("experiment_id").loc[exp_id, "status"] == "failed"
    result = _cells(exp_id, {"A": 86.0}) if later == "cell" else pd.DataFrame([{"experiment_id": exp_id, CE: 86.0}])
    report = campaign.record(result)
    row = campaign.history().set_index("experiment_id").loc[exp_id]
    assert (report.measurements_added, row["status"], row[CE]) == (1, "completed", 86.0)
    assert row["failure_reason"] is None
    assert _failures(campaign) == [(exp_id, "B", "cracked pellet")]
    # a failed experiment that a row failed as a whole (here with a cell's reason and a note) still needs correct=True
    other = campaign.suggest(1)["experiment_id"].iloc[0]
    campaign.record(pd.DataFrame([{"experiment_id": other, "replicate": "B", "failure_reason": "cracked pellet"},
                                  {"experiment_id": other, "failure_reason": "cracked pellet", "note": "all pellets"}]))
    revision = campaign.revision()
    with pytest.raises(ConflictError, match=re.escape("stored failed ('cracked pellet'), new completed")):
        campaign.record(_cells(other, {"A": 85.0}))
    assert campaign.revision() == revision


def test_a_run_sheet_row_of_a_cell_not_made_yet_is_left_out_without_saying_a_measured_experiment_stays_pending(
        store_url: str) -> None:
    """A run sheet with a row per cell, one cell's row still empty: the report listed that row
    under "experiments with no result yet (they stay pending)" while the same table completed
    (or, its other cell cracked, failed) the experiment."""
    campaign = _campaign(store_url)
    measured, cracked, waiting = campaign.suggest(3)["experiment_id"].tolist()
    report = campaign.record(pd.DataFrame([
        {"experiment_id": measured, "replicate": "A", CE: 86.0}, {"experiment_id": measured, "replicate": "B"},
        {"experiment_id": cracked, "replicate": "A"},
        {"experiment_id": cracked, "replicate": "B", "failure_reason": "cracked pellet"},
        {"experiment_id": waiting, "replicate": "A"}]))
    status = campaign.history().set_index("experiment_id")["status"].to_dict()
    assert (status[measured], status[cracked], status[waiting]) == ("completed", "failed", "proposed")
    assert [p.value for p in report.not_measured] == [waiting]


def test_a_history_read_back_is_means_not_cells(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.concat([_cells("P1", {"A": 80.0, "B": 82.0}, **recipe), _cells("P2", {"A": 70.0}, **recipe),
                               pd.DataFrame([{**recipe, "experiment_id": "P3", CE: 60.0}])]))
    before = campaign.measurements()
    report = campaign.record(campaign.history(status="completed"))
    assert (report.measurements_added, report.measurements_unchanged) == (0, 3)
    assert campaign.measurements().equals(before)
    for experiment, value in (("P1", 85.0), ("P2", 71.0)):  # several cells, or one labelled cell
        edited = campaign.history(status="completed")
        edited.loc[edited["experiment_id"] == experiment, CE] = value
        with pytest.raises(DataError, match=f"column '{CE}': is the mean of {experiment}'s"):
            campaign.record(edited)
        assert campaign.measurements().equals(before)
    # a single unlabelled cell is that cell: another value is an ordinary conflict, corrected on request
    edited = campaign.history(status="completed")
    edited.loc[edited["experiment_id"] == "P3", CE] = 61.0
    with pytest.raises(ConflictError):
        campaign.record(edited)
    assert campaign.record(edited, correct=True).measurements_corrected == 1
    # a table without the history's _n columns is not a history (a run sheet's <outcome>_sd is the
    # prediction's): its value without a label is refused beside P1's cells rather than made a third
    with pytest.raises(DataError, match=r"P1 first_cycle_ce_pct: a value without a replicate label beside the cells"):
        campaign.record(pd.DataFrame([{"experiment_id": "P1", CE: 81.0, f"{CE}_sd": 1.5, f"{CE}_mean": 80.0}]))
    assert campaign.history().set_index("experiment_id").loc["P1", f"{CE}_n"] == 2


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exported_history_recorded_back_changes_nothing(store_url: str, tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """The exported history recorded back was refused for its proposed and abandoned rows, and
    an experiment with one measured and one failed cell (no _n columns yet) got a second,
    unlabelled cell holding its mean."""
    from doe.io import read_table

    campaign = _campaign(store_url)
    campaign.suggest(3)
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["A", "B"], CE: [85.0, None],
                                  "failed": [False, True], "failure_reason": [None, "pellet cracked"]}))
    campaign.abandon(["E0002"], "no powder left")
    path = tmp_path / f"history{suffix}"
    campaign.export_table(path)
    assert f"{CE}_n" not in read_table(path, campaign.config).columns
    before = (campaign.measurements(), campaign.cell_failures(), campaign.history(), campaign.revision())
    report = campaign.import_table(path)
    assert (report.measurements_added, report.measurements_unchanged) == (0, 1)
    after = (campaign.measurements(), campaign.cell_failures(), campaign.history(), campaign.revision())
    assert all(a.equals(b) for a, b in zip(before[:3], after[:3], strict=True)) and before[3] == after[3]
    # the proposed experiment's result typed into the file is recorded; the others stay as they are
    filled = read_table(path, campaign.config)
    filled.loc[filled["experiment_id"] == "E0003", CE] = 88.0
    report = campaign.record(filled)
    assert (report.measurements_added, report.measurements_unchanged) == (1, 1)
    history = campaign.history().set_index("experiment_id")
    assert history["status"].tolist() == ["completed", "abandoned", "completed"]
    assert history.loc["E0003", CE] == 88.0 and len(campaign.measurements()) == 2


def test_an_exported_history_with_a_parameter_or_context_typed_into_a_pending_row_is_refused(
        store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A pending row that records nothing was skipped before its parameters were compared, so a
    changed anneal temperature or a typed operator in it was dropped without a word."""
    from doe.io import read_table

    campaign = _campaign(store_url)
    campaign.suggest(2)
    campaign.export_table(tmp_path / "history.csv")
    history = read_table(tmp_path / "history.csv", campaign.config)
    for column, value in (("anneal_temperature_c", 300.0), ("operator", "Kim")):
        edited = history.copy()
        edited.loc[edited["experiment_id"] == "E0002", column] = value
        with pytest.raises(DataError) as err:
            campaign.record(edited)
        assert ("E0002" in str(err.value)) and (column == "operator" or "differs from the stored value" in str(err.value))
    assert campaign.measurements().empty


def test_a_history_of_means_is_refused_by_a_campaign_without_its_experiments(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from doe.io import read_table

    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(_cells("P1", {"A": 90.0, "B": 91.0, "C": 92.5}, **recipe))
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P2", CE: 88.0}]))
    campaign.export_table(tmp_path / "history.csv")
    other = _campaign(store_url, name="other")
    with pytest.raises(DataError) as err:
        other.import_table(tmp_path / "history.csv")
    assert [(p.row, p.column) for p in err.value.problems] == [(0, f"{CE}_n")]
    assert "is the mean of 3 cells" in str(err.value) and "doe export --cells" in str(err.value)
    assert other.history().empty
    # with valid_rows_only the mean and a row out of bounds are both reported, the rest recorded
    history = read_table(tmp_path / "history.csv", other.config)
    out_of_bounds = history.iloc[[1]].assign(experiment_id="P3", anneal_temperature_c=9999.0)
    report = other.record(pd.concat([history, out_of_bounds], ignore_index=True), valid_rows_only=True)
    assert sorted((p.row, p.column) for p in report.rejected) == [(0, f"{CE}_n"), (2, "anneal_temperature_c")]
    assert other.history()["experiment_id"].tolist() == ["P2"]
    campaign.import_table(tmp_path / "history.csv")  # its own campaign reads the means back: no change
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    other = _campaign(store_url, name="third")
    other.import_table(tmp_path / "cells.csv")
    assert other.history().set_index("experiment_id").loc["P1", f"{CE}_n"] == 3


def test_a_filled_run_sheet_adds_cells_to_a_replicated_campaign(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from doe.domain.exports import run_sheet
    from doe.io import read_table, write_table
    from doe.ui.tables import proposed_with_predictions

    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(_cells("P1", {"A": 80.0, "B": 82.0}, **recipe))  # the campaign holds replicates
    batch = campaign.suggest(1)
    exp = batch["experiment_id"].iloc[0]
    campaign.accept()
    pending = campaign.history().query("status == 'running'")
    sheet = run_sheet(proposed_with_predictions(pending, campaign.proposals()), campaign.config)
    # a space-filling batch has no prediction: no sd column (the history's spread of cells is no
    # prediction); a model's batch carries both, and the sheet records back with them
    assert f"{CE}_sd" not in sheet.columns and f"{CE}_mean" not in sheet.columns
    sheet.insert(len(campaign.config.parameter_names) + 2, f"{CE}_mean", 88.0)
    sheet.insert(len(campaign.config.parameter_names) + 3, f"{CE}_sd", 1.5)
    sheet[CE] = 90.1
    write_table(sheet, tmp_path / "sheet.csv", file_format="csv")
    report = campaign.record(read_table(tmp_path / "sheet.csv", campaign.config))
    assert report.measurements_added == 1
    cells = campaign.measurements()
    cells = cells[cells["experiment_id"] == exp]
    assert cells["value"].tolist() == [90.1]


def test_bad_replicate_tables_are_refused_naming_the_cell(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    repeated = pd.concat([_cells("P1", {"A": 90.0}, **recipe), _cells("P1", {"A": 91.0}, **recipe)])
    with pytest.raises(DataError) as err:
        campaign.record(repeated)
    assert [(p.row, p.column) for p in err.value.problems] == [(1, "experiment_id")]
    no_id = _cells("P1", {"A": 90.0, "B": 91.0}, **recipe).drop(columns=["experiment_id"])
    with pytest.raises(DataError, match="needs experiment_id"):
        campaign.record(no_id)
    other_recipe = _cells("P1", {"A": 90.0, "B": 91.0}, **recipe)
    other_recipe.loc[1, "anneal_temperature_c"] = 450.0
    with pytest.raises(DataError) as err:
        campaign.record(other_recipe)
    assert [(p.row, p.column) for p in err.value.problems] == [(1, "anneal_temperature_c")]
    too_long = _cells("P1", {"x" * 40: 90.0}, **recipe)
    with pytest.raises(DataError, match="replicate label is 1 to 32"):
        campaign.record(too_long)
    # two rows of one cell may give different outcomes, but not the same one, nor a failure
    capacity = "first_cycle_discharge_capacity_mah_per_g"
    for second in ({CE: 91.0, capacity: 200.0}, {"failure_reason": "cracked"}, {}):
        with pytest.raises(DataError) as err:
            campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "A", CE: 90.0},
                                          {"experiment_id": "P1", "replicate": "A", **second}]))
        assert [(p.row, p.column) for p in err.value.problems] == [(1, "experiment_id")], second
        assert "may only give different outcomes" in str(err.value)
    # a third row of the cell is checked against both earlier rows, not only the last one
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "A", CE: 90.0},
                                      {"experiment_id": "P1", "replicate": "A", capacity: 200.0},
                                      {"experiment_id": "P1", "replicate": "A", CE: 95.0}]))
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "experiment_id")]
    assert "is in an earlier row too" in str(err.value)
    assert len(campaign.history()) == 0 and len(campaign.measurements()) == 0
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "A", CE: 90.0, "note": "week 1"},
                                  {"experiment_id": "P1", "replicate": "A", capacity: 200.0, "note": "week 2"}]))
    cells = campaign.measurements().set_index("outcome")
    assert (cells.loc[CE, "note"], cells.loc[capacity, "note"]) == ("week 1", "week 2")


def test_an_experiment_failed_after_it_was_measured_is_carried_whole_or_refused(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P5", CE: 79.0},
                                  {**recipe, "experiment_id": "P6", CE: 85.0}]))
    campaign.fail(["P5"], "furnace overshot")  # found out after the cells were measured
    imported = Campaign.import_json(campaign.export_json(), storage=store_url, name="imported")
    for copy in (imported, campaign.clone("cloned", with_history=True)):
        rows = copy.history().set_index("experiment_id")
        assert rows.loc["P5", ["status", "failure_reason", CE]].tolist() == ["failed", "furnace overshot", 79.0]
        assert rows.loc["P6", ["status", CE]].tolist() == ["completed", 85.0]
    # an imported export whose failed experiment has no reason clones with the stated default
    data = campaign.export_json()
    next(e for e in data["experiments"] if e["experiment_id"] == "P5")["failure_reason"] = None
    no_reason = Campaign.import_json(data, storage=store_url, name="no-reason").clone("no-reason-2", with_history=True)
    assert no_reason.history().set_index("experiment_id").loc["P5", "failure_reason"] == "failed (no reason given)"



def test_a_cells_file_with_an_experiment_failed_after_it_was_measured_records_into_another_campaign(
        store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The cells file writes an experiment measured, then failed, on rows marked failed with its
    values; recording it was refused, so a lab could not move its data to a new campaign with
    its own export (found by a review). It records the same experiments, values and states."""
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P5", "replicate": "A", CE: 79.0},
                                  {**recipe, "experiment_id": "P5", "replicate": "B", CE: 81.0},
                                  {"experiment_id": "P5", "replicate": "C", "failure_reason": "cracked pellet"},
                                  {**recipe, "experiment_id": "P6", CE: 85.0},
                                  {**recipe, "experiment_id": "P7", CE: 88.0}]))
    campaign.fail(["P5", "P7"], "furnace overshot")  # found out after the cells were measured
    for name in ("cells.csv", "cells.xlsx"):
        campaign.export_table(tmp_path / name, cells=True)
        other = _campaign(store_url, name=f"from-{name.replace('.', '-')}")
        report = other.import_table(tmp_path / name)
        assert report.marked_failed == ["P5", "P7"] and report.measurements_added == 4
        columns = ["experiment_id", "status", "failure_reason", CE, f"{CE}_n"]
        pd.testing.assert_frame_equal(other.history()[columns], campaign.history()[columns])
        pd.testing.assert_frame_equal(other.cell_failures()[["experiment_id", "replicate", "failure_reason"]],
                                      campaign.cell_failures()[["experiment_id", "replicate", "failure_reason"]])
        pd.testing.assert_frame_equal(other.export_frame(cells=True), campaign.export_frame(cells=True))
        revision = other.revision()  # recorded back, into the new campaign or its own, it changes nothing
        assert other.import_table(tmp_path / name).measurements_unchanged == 4 and other.revision() == revision
    revision = campaign.revision()
    assert campaign.import_table(tmp_path / "cells.csv").measurements_unchanged == 4
    assert campaign.revision() == revision
    # where the experiment is stored measured and not failed, the file's failure is no record of it
    measured = _campaign(store_url, name="measured")
    measured.record(pd.DataFrame([{**recipe, "experiment_id": "P7", CE: 88.0}]))
    with pytest.raises(DataError, match="marked failed") as err:
        measured.import_table(tmp_path / "cells.csv")
    assert [p.column for p in err.value.problems] == [CE]
    assert measured.history()["status"].tolist() == ["completed"]


def test_a_cells_file_carries_the_failure_context_of_an_experiment_failed_after_it_was_measured(
        store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An experiment failed after it was measured was written on its value rows only, each with
    its measurement's note, operator, sample id and date: the failure's own were lost by the
    cells file and a clone. They are on a row of their own now, and come back from it."""
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P5", "replicate": "A", CE: 79.0, "operator": "Ann"},
                                  {**recipe, "experiment_id": "P5", "replicate": "B", CE: 81.0},
                                  {**recipe, "experiment_id": "P7", CE: 88.0, "note": "cycled fine"}]))
    campaign.fail(["P5", "P7"], "furnace overshot")  # found out after the cells were measured
    campaign.record(pd.DataFrame([{"experiment_id": e, "failure_reason": "furnace overshot", "note": f"log of {e}",
                                   "operator": "Kim", "sample_id": f"S-{e}", "measured_at": "2026-12-04 14:30"}
                                  for e in ("P5", "P7")]), correct=True)
    failure = ["status", "failure_reason", "failure_note", "failure_operator", "failure_sample_id",
               "failure_measured_at", CE]
    expected = campaign.history().set_index("experiment_id")[failure]
    assert expected.loc["P7"].tolist()[:5] == ["failed", "furnace overshot", "log of P7", "Kim", "S-P7"]
    assert expected.loc["P5", CE] == 80.0
    copies = [campaign.clone("cloned", with_history=True)]
    for name in ("cells.csv", "cells.xlsx"):
        campaign.export_table(tmp_path / name, cells=True)
        copies.append(other := _campaign(store_url, name=f"from-{name.replace('.', '-')}"))
        assert other.import_table(tmp_path / name).marked_failed == ["P5", "P7"]
        revision = campaign.revision()  # recorded back into its own campaign, it changes nothing
        campaign.import_table(tmp_path / name)
        assert campaign.revision() == revision
    for copy in copies:
        pd.testing.assert_frame_equal(copy.history().set_index("experiment_id")[failure], expected)
        values = copy.measurements()  # the values keep their own note and operator
        assert values[["operator", "note"]].fillna("-").values.tolist() == [["Ann", "-"], ["-", "-"],
                                                                             ["-", "cycled fine"]]


def test_a_row_failing_an_experiment_beside_its_one_unlabelled_value_fails_it_and_keeps_the_value(
        store_url: str) -> None:
    """Such rows were refused ('experiment id is in an earlier row too'), so a cells file with an
    unlabelled experiment failed after it was measured could not carry its failure's note."""
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.suggest(1)
    campaign.accept()
    stored = campaign.history()["experiment_id"].iloc[0]
    rows = [{"experiment_id": e, CE: 85.0, **extra} for e, extra in ((stored, {}), ("H1", recipe))]
    rows += [{"experiment_id": e, "failure_reason": "gelled", "operator": "Kim"} for e in (stored, "H1")]
    assert sorted(campaign.record(pd.DataFrame(rows)).marked_failed) == sorted([stored, "H1"])
    history = campaign.history().set_index("experiment_id")
    assert history[["status", CE, "failure_operator"]].values.tolist() == [["failed", 85.0, "Kim"]] * 2
    with pytest.raises(DataError, match="in an earlier row too"):  # two such rows: which failure is it?
        campaign.record(pd.DataFrame([rows[2], {**rows[2], "failure_reason": "cracked"}]))


def test_a_table_without_replicates_keeps_the_history_columns(store_url: str) -> None:
    campaign = _campaign(store_url)
    lab = VirtualLab(seed=4, failures=False)
    batch = campaign.suggest(3)
    campaign.record(lab.run(batch[["experiment_id", *campaign.config.parameter_names]]))
    columns = campaign.history().columns
    assert not [c for c in columns if c.endswith(("_sd", "_n"))]
    assert campaign.measurements()["replicate"].isna().all()


def test_virtual_lab_replicates_round_trip_through_export_and_import(store_url: str) -> None:
    campaign = _campaign(store_url)
    lab = VirtualLab(seed=6, failures=False)
    batch = campaign.suggest(3)
    cells = lab.run(batch[["experiment_id", *campaign.config.parameter_names]], replicates=2)
    campaign.record(cells)
    assert len(campaign.measurements()) == 2 * 3 * len(campaign.config.outcome_names)
    means = cells.groupby("experiment_id")[CE].mean()
    history = campaign.history().set_index("experiment_id")
    np.testing.assert_allclose(history.loc[means.index, CE], means)
    assert (history[f"{CE}_n"] == 2).all()
    data = campaign.export_json()
    assert {m["replicate"] for m in data["measurements"]} == {"1", "2"}
    copy = Campaign.import_json(data, storage=store_url, name="copy")
    pd.testing.assert_frame_equal(campaign.history().drop(columns=["proposed_at"]),
                                  copy.history().drop(columns=["proposed_at"]))
    # without the labels the cells would be two current values of one outcome: refused
    for m in data["measurements"]:
        m.pop("replicate")
    with pytest.raises(StorageError, match="two current values"):
        Campaign.import_json(data, storage=store_url, name="unlabelled")


def test_the_model_trusts_a_replicated_mean_more(tmp_path) -> None:
    # the same history, except that one experiment's value is the mean of three agreeing
    # cells instead of one cell: the campaign's model is more certain there
    lab = VirtualLab(seed=9, failures=False)
    recipes = VirtualLab.random_recipes(10, seed=2)
    recipes.insert(0, "experiment_id", [f"P{i}" for i in range(len(recipes))])
    results = lab.run(recipes)
    single = _campaign(f"sqlite:///{tmp_path / 'single.sqlite3'}")
    single.record(pd.concat([recipes[single.config.parameter_names], results], axis=1))
    replicated = _campaign(f"sqlite:///{tmp_path / 'replicated.sqlite3'}")
    table = pd.concat([recipes[single.config.parameter_names], results], axis=1)
    table["replicate"] = None
    first = table.iloc[[0, 0, 0]].copy()
    first["replicate"] = ["A", "B", "C"]
    first[CE] = first[CE].to_numpy() + np.array([-0.05, 0.0, 0.05])  # same mean, tight cells
    replicated.record(pd.concat([first, table.iloc[1:]], ignore_index=True))
    assert replicated.history().set_index("experiment_id").loc["P0", f"{CE}_n"] == 3
    here = recipes.loc[[0], single.config.parameter_names]
    sd_single = single.predict(here)[f"{CE}_sd"].iloc[0]
    sd_replicated = replicated.predict(here)[f"{CE}_sd"].iloc[0]
    assert sd_replicated < 0.8 * sd_single


def test_clone_with_history_keeps_every_cell(store_url: str) -> None:
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(_cells("P1", {"A": 90.0, "B": 91.0}, **recipe))
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P2", "failed": True, "failure_reason": "gelled"}]))
    copy = campaign.clone("copy", with_history=True)
    cells = copy.measurements()
    assert sorted(zip(cells["experiment_id"], cells["replicate"], cells["value"], strict=True)) == [
        ("P1", "A", 90.0), ("P1", "B", 91.0)]
    history = copy.history().set_index("experiment_id")
    assert history.loc["P1", f"{CE}_n"] == 2 and history.loc["P2", "status"] == "failed"


CONTEXT = ["experiment_id", "replicate", "outcome", "value", "note", "operator", "sample_id", "measured_at"]


def _context(campaign: Campaign) -> list[tuple[object, ...]]:
    cells = campaign.measurements()[CONTEXT].astype(object)
    return sorted(tuple(None if pd.isna(v) else v for v in row) for row in cells.itertuples(index=False))


def test_clone_and_the_cells_file_keep_each_cells_note_operator_sample_and_time(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    capacity = "first_cycle_discharge_capacity_mah_per_g"
    campaign.record(pd.DataFrame([
        {**recipe, "experiment_id": "P1", "replicate": "A", CE: 90.0, capacity: 200.0, "note": "first week",
         "operator": "ana", "sample_id": "S-1A", "measured_at": "2026-11-02 09:30"},
        {"experiment_id": "P1", "replicate": "B", CE: 91.0, "note": "=1+1 <b>not html</b>", "operator": "bo"},
        {"experiment_id": "P1", "replicate": "C", "failure_reason": "cracked pellet", "note": "edge chipped"},
        {**recipe, "experiment_id": "P2", CE: 88.0}]))
    # the same cell's retention, a month later, by someone else: two sets of context in one cell
    campaign.record(pd.DataFrame([{"experiment_id": "P1", "replicate": "A", "capacity_retention_pct": 70.0,
                                   "note": "cycle 200", "operator": "cy", "measured_at": "2026-12-01"}]))
    stored = _context(campaign)
    assert len(stored) == 5 and ("P1", "A", "capacity_retention_pct", 70.0, "cycle 200", "cy", None,
                                 pd.Timestamp("2026-12-01", tz="UTC")) in stored
    failure = [("P1", "C", "cracked pellet", "edge chipped")]
    clone = campaign.clone("cloned", with_history=True)
    assert _context(clone) == stored
    assert clone.cell_failures()[["experiment_id", "replicate", "failure_reason", "note"]].apply(
        tuple, axis=1).tolist() == failure
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    other = _campaign(store_url, name="from-cells")
    other.import_table(tmp_path / "cells.csv")
    assert _context(other) == stored  # the note starting with "=" is quoted in the file and read back as it was
    rows = pd.read_csv(tmp_path / "cells.csv", dtype=str, keep_default_na=False)
    assert (rows["experiment_id"] + rows["replicate"]).tolist() == ["P1A", "P1A", "P1B", "P1C", "P2"]
    assert other.cell_failures()["note"].tolist() == ["edge chipped"]
    revision = campaign.revision()
    campaign.import_table(tmp_path / "cells.csv")  # back into its own campaign: nothing changes
    assert campaign.revision() == revision


@pytest.mark.parametrize("order", [("short", "other"), ("other", "short")])
def test_one_write_failing_a_cell_twice_is_refused_in_either_order(store_url: str, order: tuple[str, str]) -> None:
    from doe.domain.records import CellFailure

    campaign = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "C", "failure_reason": "short"}]))
    revision = campaign.revision()
    with pytest.raises(ConflictError, match="P1 replicate 'C' is marked failed twice"):
        campaign.store.write(campaign.name, actor="robot", allow_corrections=True,
                             cell_failures=[CellFailure("P1", "C", reason) for reason in order])
    assert campaign.revision() == revision and _failures(campaign) == [("P1", "C", "short")]


def test_a_failure_and_a_value_replace_each_other_only_as_a_correction(store_url: str) -> None:
    """Without replicate labels, a value recorded for a failed experiment made it completed and
    dropped its failure reason from the history, and a failure recorded for a measured one
    dropped its values from the model, both without correct=True (labelled cells already
    needed it)."""
    campaign = _campaign(store_url)
    gelled, measured = campaign.suggest(2)["experiment_id"].tolist()
    campaign.fail([gelled], "dispersion gelled")
    campaign.record(pd.DataFrame({"experiment_id": [measured], CE: [85.0]}))
    revision = campaign.revision()
    for table, said in [(pd.DataFrame({"experiment_id": [gelled], CE: [80.0]}), "stored failed ('dispersion gelled')"),
                        (pd.DataFrame({"experiment_id": [measured], "failure_reason": ["pellet cracked"]}),
                         "stored completed (measured), new failed ('pellet cracked')"),
                        (pd.DataFrame({"experiment_id": [gelled], "failure_reason": ["oven fault"]}), "new failed")]:
        with pytest.raises(ConflictError, match=re.escape(said)):
            campaign.record(table)
        assert campaign.revision() == revision
    assert campaign.history().set_index("experiment_id")[["status", "failure_reason"]].to_dict("index") == {
        gelled: {"status": "failed", "failure_reason": "dispersion gelled"},
        measured: {"status": "completed", "failure_reason": None}}
    campaign.record(pd.DataFrame({"experiment_id": [gelled], CE: [80.0]}), correct=True)
    report = campaign.record(pd.DataFrame({"experiment_id": [measured], "failure_reason": ["pellet cracked"]}),
                             correct=True)
    assert campaign.history().set_index("experiment_id")["status"].to_dict() == {gelled: "completed", measured: "failed"}
    # as for a labelled cell, the failure withdraws the values it replaces (they stayed current, and
    # the failed experiment kept its CE of 85 in the history and in the model)
    assert report.measurements_withdrawn == 1 and math.isnan(campaign.history().set_index("experiment_id").loc[measured, CE])
    every = campaign.measurements(include_superseded=True)
    assert every.loc[every["experiment_id"] == measured, ["value", "superseded"]].values.tolist() == [[85.0, True]]
    assert list(campaign.audit().query("action == 'measurements_withdrawn'")["experiment_id"]) == [measured]
    campaign.fail([gelled], "powder contaminated")  # failing a measured experiment on purpose needs no flag
    assert campaign.history().set_index("experiment_id").loc[gelled, "status"] == "failed"
    assert campaign.history().set_index("experiment_id").loc[gelled, CE] == 80.0  # (and keeps its values)
    # an unlabelled value beside labelled cells: the whole experiment's failure withdraws them all
    # (the cells stayed current, so the failed experiment trained as a success; found by a review)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P7", CE: 87.0}]))
    campaign.record(pd.DataFrame({"experiment_id": ["P7", "P7"], "replicate": ["A", "B"],
                                  "capacity_retention_pct": [60.0, 61.0]}))
    report = campaign.record(pd.DataFrame({"experiment_id": ["P7"], "failure_reason": ["powder contaminated"]}),
                             correct=True)
    assert report.measurements_withdrawn == 3 and report.marked_failed == ["P7"]
    row = campaign.history().set_index("experiment_id").loc["P7"]
    assert row["status"] == "failed" and math.isnan(row[CE]) and math.isnan(row["capacity_retention_pct"])
    assert campaign.measurements().query("experiment_id == 'P7'").empty
    # a write never withdraws what it adds: a cell given in the same table stays
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P8", CE: 85.0}]))
    campaign.record(pd.DataFrame({"experiment_id": ["P8", "P8"], "replicate": ["A", None],
                                  "capacity_retention_pct": [62.0, None], "failure_reason": [None, "oven"]}), correct=True)
    assert campaign.measurements().query("experiment_id == 'P8'")["value"].tolist() == [62.0]


def test_each_conflict_with_a_stored_value_names_who_recorded_it_and_when(store_url: str) -> None:
    """Only a changed value named who had recorded the stored one: cells for an outcome stored
    without a label, a failed cell, a measured cell and a measured experiment named nobody."""
    alice = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    alice.record(pd.DataFrame([{**recipe, "experiment_id": "U1", CE: 70.0}]))
    alice.record(pd.concat([_cells("P1", {"A": 80.0}, **recipe),
                            pd.DataFrame([{"experiment_id": "P1", "replicate": "C", "failure_reason": "cracked"}])],
                           ignore_index=True))
    bob = Campaign.load("hfo2-ncm85", storage=store_url, actor="bob", settings=FAST)
    revision = bob.revision()
    stamp = r"recorded by alice on \d{4}-\d\d-\d\d \d\d:\d\d UTC"
    for table, said in [
        (_cells("U1", {"a": 70.0, "b": 72.0}), rf"U1 {CE}: recorded without a replicate label \(70\.0, {stamp}\), "
                                              r"now cells \['a', 'b'\]"),
        (pd.DataFrame([{"experiment_id": "P1", "replicate": "C", "failure_reason": "short"}]),
         rf"P1 replicate 'C': stored as failed \('cracked', {stamp}\), new reason 'short'"),
        (_cells("P1", {"C": 85.0}), rf"P1 replicate 'C' is stored as failed \('cracked', {stamp}\); a measured value"),
        (pd.DataFrame([{"experiment_id": "P1", "replicate": "A", "failure_reason": "cracked"}]),
         rf"P1 replicate 'A' has measured values; marking it failed \('cracked'\) withdraws them \(values {stamp}\)"),
        (pd.DataFrame([{"experiment_id": "U1", "failure_reason": "gelled"}]),
         r"U1: stored completed \(measured\), new failed \('gelled'\) \(by alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC\)"),
    ]:
        with pytest.raises(ConflictError, match=said):
            bob.record(table)
        assert bob.revision() == revision


def test_failing_a_cell_names_every_writer_of_its_values(store_url: str) -> None:
    """Found by a probe: failing a cell whose CE a robot recorded and whose later value the cycler
    recorded said 'values recorded by cycler': only the newest writer was named."""
    robot = _campaign(store_url)
    recipe = load_config("hfo2-ncm85").reference_recipe()
    robot.record(_cells("P1", {"A": 80.0}, **recipe))
    cycler = Campaign.load("hfo2-ncm85", storage=store_url, actor="cycler", settings=FAST)
    cycler.record(pd.DataFrame([{"experiment_id": "P1", "replicate": "A", "capacity_retention_pct": 61.0}]))
    with pytest.raises(ConflictError, match=r"P1 replicate 'A' has measured values; marking it failed \('cracked'\) "
                                             r"withdraws them \(values recorded by alice, cycler on [-\d]+ [:\d]+ UTC\)"):
        cycler.record(pd.DataFrame([{"experiment_id": "P1", "replicate": "A", "failure_reason": "cracked"}]))


def test_a_run_sheet_with_a_cell_still_cycling_records_again_when_other_rows_are_filled(store_url: str) -> None:
    """A run sheet with a row per cell: recorded with E0001's cell A measured and its cell B still
    cycling, it recorded A and left B out; filled in further (E0002's cell A) and recorded again,
    the whole sheet was refused because B's row, unchanged and empty, was now a row of a completed
    experiment ('the row has no measured outcome ... its experiment pending'): the cell not made
    yet is left out and said, as the first time, and the rest recorded."""
    campaign = _campaign(store_url)
    batch = campaign.suggest(2)
    first, second = batch["experiment_id"].tolist()
    recipe_of = batch.set_index("experiment_id")[campaign.config.parameter_names].to_dict("index")
    sheet = pd.DataFrame([{"experiment_id": e, **recipe_of[e], "replicate": cell, CE: math.nan}
                          for e in (first, second) for cell in ("A", "B")])
    sheet.loc[0, CE] = 90.0  # first's cell A
    report = campaign.record(sheet)
    assert report.measurements_added == 1
    sheet.loc[2, CE] = 88.0  # second's cell A, a day later; first's cell B still cycling
    report = campaign.record(sheet)
    assert (report.measurements_added, report.measurements_unchanged) == (1, 1)
    assert [(p.value, p.row) for p in report.not_measured] == [(first, 1)]
    assert "replicate 'B'" in report.not_measured[0].problem
    history = campaign.history().set_index("experiment_id")
    assert history.loc[[first, second], "status"].tolist() == ["completed", "completed"]
    cells = campaign.measurements()
    assert sorted(zip(cells["experiment_id"], cells["replicate"], cells["value"], strict=True)) == [
        (first, "A", 90.0), (second, "A", 88.0)]
    assert campaign.record(sheet).measurements_added == 0  # the same sheet again: nothing more
    sheet.loc[1, CE] = 91.0  # first's cell B, measured at last
    assert campaign.record(sheet).measurements_added == 1
    assert campaign.history().set_index("experiment_id").loc[first, f"{CE}_n"] == 2
