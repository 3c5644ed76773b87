"""SqlStore on a real SQLite file and a real PostgreSQL database (``store_url``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from doe import load_config
from doe.domain.config import CampaignConfig
from doe.domain.records import (
    ALLOWED_TRANSITIONS,
    STATUSES,
    NewExperiment,
    NewExperimentRef,
    NewMeasurement,
    StatusChange,
)
from doe.errors import ConfigError, ConflictError, DataError, StorageError
from doe.storage import open_store
from doe.storage.sql import SqlStore, head_revision

CE = "first_cycle_ce_pct"
RET = "capacity_retention_pct"


@pytest.fixture
def config() -> CampaignConfig:
    return load_config("hfo2-ncm85")


@pytest.fixture
def store(store_url: str) -> SqlStore:
    return SqlStore.open(store_url)


def recipe(config: CampaignConfig, **changes: object) -> dict[str, object]:
    params = dict(config.reference_recipe() or {})
    params.update(changes)
    return params


def add_experiments(store: SqlStore, config: CampaignConfig, n: int, status: str = "proposed") -> list[str]:
    report = store.write(config.name, actor="alice", new_experiments=[
        NewExperiment(recipe(config, anneal_temperature_c=300.0 + i), status, 1) for i in range(n)])  # type: ignore[arg-type]
    return report.experiment_ids


def counts(store: SqlStore, name: str) -> tuple[int, int, int, int]:
    return (len(store.experiments(name)), len(store.measurements(name, include_superseded=True)),
            len(store.audit(name)), store.revision(name))


# --------------------------------------------------------------------------- campaigns
def test_create_load_list_version_archive(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    loaded, version = store.load_config(config.name)
    assert loaded == config and version == 1
    with pytest.raises(StorageError, match="exists already"):
        store.create_campaign(config, "bob")

    wider = config.replace(parameters=[
        {**p.to_dict(), "bounds": [200.0, 800.0]} if p.name == "anneal_temperature_c" else p.to_dict()
        for p in config.parameters])
    assert store.add_config_version(config.name, wider, "bob") == 2
    assert store.add_config_version(config.name, wider, "bob") == 2  # unchanged: no new version
    assert store.load_config(config.name) == (wider, 2)
    assert store.load_config(config.name, 1) == (config, 1)
    with pytest.raises(StorageError, match="no configuration version 7"):
        store.load_config(config.name, 7)
    versions = store.config_versions(config.name)
    assert versions["version"].tolist() == [1, 2]
    assert versions["created_by"].tolist() == ["alice", "bob"]
    assert CampaignConfig.from_yaml(versions["config"][1]) == wider

    listing = store.list_campaigns()
    assert listing.columns.tolist() == ["name", "created_at", "created_by", "archived", "config_version",
                                        "n_experiments", "updated_at"]
    assert listing.loc[0, "name"] == config.name and listing.loc[0, "config_version"] == 2
    store.set_archived(config.name, True, "carol")
    assert store.list_campaigns().empty
    assert store.list_campaigns(include_archived=True)["archived"].tolist() == [True]
    store.set_archived(config.name, False, "carol")
    assert store.list_campaigns()["name"].tolist() == [config.name]
    assert store.audit(config.name)["action"].tolist() == [
        "campaign_created", "config_version_added", "archived", "unarchived"]


def test_unknown_campaign_names_the_existing_ones(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    with pytest.raises(StorageError, match=r"no campaign named 'nope'.*hfo2-ncm85"):
        store.experiments("nope")
    with pytest.raises(StorageError, match="renamed"):
        store.add_config_version(config.name, config.replace(name="other"), "bob")


def test_old_experiments_keep_their_config_version(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    add_experiments(store, config, 1)
    extra = config.replace(parameters=[*[p.to_dict() for p in config.parameters],
                                       {"name": "drying_time_h", "type": "continuous", "bounds": [1, 5]}],
                           outcomes=[*[o.to_dict() for o in config.outcomes], {"name": "bet_area_m2_per_g"}])
    assert store.add_config_version(config.name, extra, "bob") == 2
    store.write(config.name, actor="bob", new_experiments=[NewExperiment(recipe(config, drying_time_h=2.0), "proposed", 2)])
    frame = store.experiments(config.name)
    assert frame["config_version"].tolist() == [1, 2]
    assert math.isnan(frame.loc[0, "drying_time_h"]) and frame.loc[1, "drying_time_h"] == 2.0
    assert "bet_area_m2_per_g" in frame.columns
    with pytest.raises(StorageError, match="configuration versions that do not exist: \\[9\\]"):
        store.write(config.name, actor="bob", new_experiments=[NewExperiment(recipe(config), "proposed", 9)])


# --------------------------------------------------------------------------- experiments table
def test_experiments_frame_columns_and_types(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    empty = store.experiments(config.name)
    assert empty.empty and "anneal_atmosphere" in empty.columns and CE in empty.columns
    store.write(config.name, actor="alice", new_experiments=[
        NewExperiment(recipe(config), "running", 1, batch_id="B1", seed=7,
                      model_settings={"kernel": "matern"}, package_version="0.1.0",
                      predictions={CE: {"mean": 88.5, "sd": 1.2}}),
        NewExperiment(recipe(config, anneal_atmosphere="Ar"), "proposed", 1, batch_id="B1", seed=7),
    ])
    store.write(config.name, actor="bob", measurements=[NewMeasurement("E0001", CE, 89.25),
                                                        NewMeasurement("E0001", "side_note_value", 3.0)])
    frame = store.experiments(config.name)
    assert frame.columns[:5].tolist() == ["experiment_id", "status", "batch_id", "config_version", "source"]
    assert frame.columns[5:5 + len(config.parameters)].tolist() == config.parameter_names
    outcome_cols = [*config.outcome_names, "side_note_value"]
    start = 5 + len(config.parameters)
    assert frame.columns[start:start + len(outcome_cols)].tolist() == outcome_cols
    assert frame.columns[start + len(outcome_cols):].tolist() == [
        "failure_reason", "failure_note", "failure_operator", "failure_sample_id", "failure_measured_at",
        "proposed_by", "proposed_at", "seed", "predictions", "model_settings", "package_version"]
    assert frame["experiment_id"].tolist() == ["E0001", "E0002"]
    assert frame["anneal_atmosphere"].tolist() == ["O2", "Ar"]
    assert frame["anneal_temperature_c"].dtype == float
    assert frame.loc[0, CE] == 89.25 and math.isnan(frame.loc[1, CE])
    assert frame.loc[0, "predictions"] == {CE: {"mean": 88.5, "sd": 1.2}}
    assert frame.loc[0, "model_settings"] == {"kernel": "matern"}
    assert frame["seed"].tolist() == [7, 7]
    assert str(frame["proposed_at"].dt.tz) == "UTC"
    measured = store.measurements(config.name)
    assert measured.loc[measured["outcome"] == CE, "unit"].tolist() == ["%"]  # unit from the config


def test_ids_skip_those_taken_and_given_ids_must_be_new(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    store.write(config.name, actor="alice", new_experiments=[
        NewExperiment(recipe(config), "completed", 1, experiment_id="E0002", source="import"),
        NewExperiment(recipe(config), "completed", 1, experiment_id="lab-7", source="import")])
    assert add_experiments(store, config, 3) == ["E0001", "E0003", "E0004"]
    with pytest.raises(StorageError, match=r"exist already: \['lab-7'\]"):
        store.write(config.name, actor="alice", new_experiments=[
            NewExperiment(recipe(config), "completed", 1, experiment_id="lab-7")])
    with pytest.raises(StorageError, match="more than once"):
        store.write(config.name, actor="alice", new_experiments=[
            NewExperiment(recipe(config), "completed", 1, experiment_id="x"),
            NewExperiment(recipe(config), "completed", 1, experiment_id="x")])


# --------------------------------------------------------------------------- lifecycle
@pytest.mark.parametrize("before", STATUSES)
def test_lifecycle_transitions(store: SqlStore, config: CampaignConfig, before: str) -> None:
    store.create_campaign(config, "alice")
    for after in STATUSES:
        [eid] = add_experiments(store, config, 1, status=before)
        change = StatusChange(eid, after, reason="furnace tripped")  # type: ignore[arg-type]
        if after in ALLOWED_TRANSITIONS[before]:
            store.write(config.name, actor="bob", status_changes=[change])
            row = store.experiments(config.name).set_index("experiment_id").loc[eid]
            assert row["status"] == after
            assert (row["failure_reason"] == "furnace tripped") == (after in ("failed", "abandoned"))
        else:
            revision = store.revision(config.name)
            with pytest.raises(StorageError, match=f"{before} -> {after}"):
                store.write(config.name, actor="bob", status_changes=[change])
            assert store.revision(config.name) == revision


def test_a_refused_status_change_names_who_gave_the_status(store: SqlStore, config: CampaignConfig) -> None:
    """Two tabs: one person marks a run failed, another then starts it; the refusal said the
    status, not who set it meanwhile."""
    store.create_campaign(config, "alice")
    [eid] = add_experiments(store, config, 1)
    store.write(config.name, actor="carol", status_changes=[StatusChange(eid, "failed", "gelled dispersion")])
    with pytest.raises(StorageError, match=rf"{eid}: failed \(by carol at 20\d\d-\d\d-\d\d \d\d:\d\d UTC\) -> running"):
        store.write(config.name, actor="bob", status_changes=[StatusChange(eid, "running")])


def test_status_change_audit_and_noop(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    [eid] = add_experiments(store, config, 1)
    report = store.write(config.name, actor="bob", status_changes=[StatusChange(eid, "running")])
    assert report.status_changes == 1
    store.write(config.name, actor="bob", measurements=[NewMeasurement(eid, CE, 90.0)],
                status_changes=[StatusChange(eid, "completed")])
    revision = store.revision(config.name)
    again = store.write(config.name, actor="bob", status_changes=[StatusChange(eid, "completed")])
    assert again.status_changes == 0 and store.revision(config.name) == revision
    audit = store.audit(config.name)
    changes = audit[audit["action"] == "status_changed"]
    assert [json.loads(d)["to"] for d in changes["detail"]] == ["running", "completed"]
    assert changes["actor"].tolist() == ["bob", "bob"] and changes["experiment_id"].tolist() == [eid, eid]


# --------------------------------------------------------------------------- atomic writes
def test_a_batch_with_one_bad_item_writes_nothing(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    ids = add_experiments(store, config, 2)
    before = counts(store, config.name)
    good = [NewExperiment(recipe(config), "proposed", 1)]
    bad_batches = [
        dict(new_experiments=good, measurements=[NewMeasurement(ids[0], CE, 90.0), NewMeasurement("E9999", CE, 1.0)]),
        dict(new_experiments=good, status_changes=[StatusChange(ids[0], "running"), StatusChange(ids[1], "proposed")]),
        dict(new_experiments=good, measurements=[NewMeasurement(ids[0], CE, float("nan"))]),
        dict(new_experiments=good, measurements=[NewMeasurement(ids[0], CE, math.inf)]),
        dict(new_experiments=[*good, NewExperiment(recipe(config, hfo2_loading_wt_pct=math.nan), "proposed", 1)]),
        dict(new_experiments=[*good, NewExperiment(recipe(config), "proposed", 1, predictions={"m": math.nan})]),
    ]
    for batch in bad_batches:
        with pytest.raises((StorageError, DataError)):
            store.write(config.name, actor="mallory", **batch)  # type: ignore[arg-type]
    assert counts(store, config.name) == before
    with pytest.raises(StorageError, match=r"no experiment\(s\) \['E9998', 'E9999'\]"):
        store.write(config.name, actor="x", measurements=[NewMeasurement("E9999", CE, 1.0)],
                    status_changes=[StatusChange("E9998", "running")])
    # the outcome-name pattern ended in "$", which matches before a last line break: "name\n" was stored
    with pytest.raises(StorageError, match=r"measurements\[0\]: outcome .* is not an outcome name"):
        store.write(config.name, actor="x", measurements=[NewMeasurement(ids[0], CE + "\n", 90.0)])
    assert counts(store, config.name) == before


def _fail_audit_action(store: SqlStore, action: str) -> None:
    """Make the database itself refuse audit rows with ``action``: the audit rows are the last
    rows a write inserts, so such a write fails after its experiments and measurements went in."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                f"WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END")
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.action = '{action}' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; "
                "RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_audit()")


def test_database_error_mid_write_rolls_back(store: SqlStore, config: CampaignConfig) -> None:
    """A failure inside the transaction, after experiments, measurements and a status change
    were written, leaves nothing: no rows, same revision, same experiment counter."""
    store.create_campaign(config, "alice")
    [eid] = add_experiments(store, config, 1)
    before = (counts(store, config.name), store.revision(config.name), store.export_campaign(config.name))
    _fail_audit_action(store, "boom")
    with pytest.raises(StorageError, match="refused by test trigger"):
        store.write(config.name, actor="alice", audit_action="boom",
                    new_experiments=[NewExperiment(recipe(config), "running", 1)],
                    measurements=[NewMeasurement(eid, CE, 90.0), NewMeasurement(NewExperimentRef(0), CE, 91.0)],
                    status_changes=[StatusChange(eid, "completed")])
    after = (counts(store, config.name), store.revision(config.name), store.export_campaign(config.name))
    assert after == before
    report = store.write(config.name, actor="alice", new_experiments=[NewExperiment(recipe(config), "running", 1)],
                         measurements=[NewMeasurement(eid, CE, 90.0)], status_changes=[StatusChange(eid, "completed")])
    assert report.experiment_ids == ["E0002"] and report.measurements_added == 1


# --------------------------------------------------------------------------- measurements
def test_same_measurement_twice_is_idempotent(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    [eid] = add_experiments(store, config, 1)
    first = store.write(config.name, actor="bob", measurements=[NewMeasurement(eid, CE, 90.1)])
    revision = store.revision(config.name)
    second = store.write(config.name, actor="bob", measurements=[NewMeasurement(eid, CE, 90.1 * (1 + 1e-14))])
    assert (first.measurements_added, second.measurements_added, second.measurements_unchanged) == (1, 0, 1)
    assert store.revision(config.name) == revision
    assert len(store.measurements(config.name, include_superseded=True)) == 1


def test_conflict_is_flagged_and_correction_keeps_history(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    a, b = add_experiments(store, config, 2)
    store.write(config.name, actor="bob", measurements=[NewMeasurement(a, CE, 90.0), NewMeasurement(b, CE, 80.0)])
    before = counts(store, config.name)
    with pytest.raises(ConflictError) as info:
        store.write(config.name, actor="bob", measurements=[
            NewMeasurement(a, CE, 91.0), NewMeasurement(b, CE, 81.0), NewMeasurement(a, RET, 70.0)])
    message = str(info.value)
    assert f"{a} {CE}: stored 90.0, new 91.0" in message and f"{b} {CE}: stored 80.0, new 81.0" in message
    assert "allow_corrections=True" in message and "correct=True" in message
    assert counts(store, config.name) == before

    report = store.write(config.name, actor="carol", allow_corrections=True,
                         measurements=[NewMeasurement(a, CE, 91.0, note="re-measured cell 2")])
    assert report.measurements_corrected == 1
    assert store.experiments(config.name).set_index("experiment_id").loc[a, CE] == 91.0
    history = store.measurements(config.name, include_superseded=True)
    rows = history[(history["experiment_id"] == a) & (history["outcome"] == CE)]
    assert rows["value"].tolist() == [90.0, 91.0] and rows["superseded"].tolist() == [True, False]
    assert rows["recorded_by"].tolist() == ["bob", "carol"]
    assert len(store.measurements(config.name)) == 2
    corrected = store.audit(config.name).iloc[-1]
    assert corrected["action"] == "measurement_corrected" and corrected["actor"] == "carol"
    assert json.loads(corrected["detail"])["old_value"] == 90.0


def test_audit_entries_for_every_change(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    report = store.write(config.name, actor="alice", audit_action="csv_import",
                         new_experiments=[NewExperiment(recipe(config), "running", 1)],
                         measurements=[NewMeasurement("E0001", CE, 85.0, measured_at=datetime(2026, 3, 1, 9, 30))],
                         status_changes=[StatusChange("E0001", "completed")])
    assert report.experiment_ids == ["E0001"]
    audit = store.audit(config.name)
    assert audit["action"].tolist() == ["campaign_created", "experiment_created", "measurement_added",
                                        "status_changed", "csv_import"]
    assert json.loads(audit["detail"].iloc[-1])["measurements_added"] == 1
    assert audit["at"].is_monotonic_increasing
    measured = store.measurements(config.name)
    assert measured.loc[0, "measured_at"] == pd.Timestamp(datetime(2026, 3, 1, 9, 30, tzinfo=UTC))


def test_revision_changes_with_every_write(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    seen = [store.revision(config.name)]
    [eid] = add_experiments(store, config, 1)
    seen.append(store.revision(config.name))
    store.write(config.name, actor="a", measurements=[NewMeasurement(eid, CE, 1.0)])
    seen.append(store.revision(config.name))
    store.set_archived(config.name, True, "a")
    seen.append(store.revision(config.name))
    assert len(set(seen)) == len(seen)


# --------------------------------------------------------------------------- export / import
def test_export_import_round_trip_is_exact(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    store.add_config_version(config.name, config.replace(seed=7), "bob")
    store.write(config.name, actor="alice", new_experiments=[
        NewExperiment(recipe(config), "running", 1, batch_id="B1", seed=11, predictions={CE: {"mean": 1.5}},
                      model_settings={"restarts": 4}, package_version="0.1.0"),
        NewExperiment(recipe(config, anneal_atmosphere="air"), "proposed", 2, experiment_id="lab-3", source="manual"),
        NewExperiment(recipe(config), "proposed", 2)])
    store.write(config.name, actor="bob", measurements=[
        NewMeasurement("E0001", CE, 0.1 + 0.2, measured_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
                       note="ünïcödé ✓")])
    store.write(config.name, actor="bob", allow_corrections=True, measurements=[NewMeasurement("E0001", CE, 88.8)],
                status_changes=[StatusChange("E0001", "completed"), StatusChange("lab-3", "failed", "cracked pellet")])
    store.write(config.name, actor="bob", allow_corrections=True, measurements=[NewMeasurement("E0001", CE, 88.9)])
    store.set_archived(config.name, True, "carol")

    exported = store.export_campaign(config.name)
    exported = json.loads(json.dumps(exported))  # survives JSON text
    assert exported["format"] == "doe-campaign" and exported["format_version"] == 5
    new_name = store.import_campaign(exported, "dave", new_name="copy of hfo2")
    assert new_name == "copy of hfo2"
    again = store.export_campaign(new_name)
    imported_entry = again["audit"].pop()
    assert imported_entry["action"] == "campaign_imported" and imported_entry["actor"] == "dave"
    assert again.pop("name") == "copy of hfo2" and exported.pop("name") == config.name
    for version in again["config_versions"]:
        version["config"] = version["config"].replace("name: copy of hfo2", f"name: {config.name}")
    assert again == exported
    assert exported["measurements"][0]["superseded_by"] == 1 and exported["measurements"][1]["superseded_by"] == 2

    # the import continues the id sequence, and the copy is independent (archived, as the original
    # was, it takes no change until it is unarchived)
    copy_config, _ = store.load_config(new_name)
    with pytest.raises(StorageError, match="is archived"):
        add_experiments(store, copy_config, 1)
    store.set_archived(new_name, False, "dave")
    assert add_experiments(store, copy_config, 1) == ["E0003"]
    with pytest.raises(StorageError, match="exists already"):
        store.import_campaign(exported | {"name": config.name}, "dave")


def test_import_refuses_foreign_or_broken_data(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    add_experiments(store, config, 1)
    good = store.export_campaign(config.name)
    broken = [
        ({"format": "something"}, "not a doe campaign export"),
        (good | {"format_version": 99}, "format version 99"),
        (good | {"measurements": [{"experiment_id": "E0404", "outcome": CE, "value": 1.0}]}, "not in the export"),
        (good | {"experiments": [good["experiments"][0] | {"status": "exploded"}]}, "exploded"),
        (good | {"experiments": good["experiments"] * 2}, "appears twice"),
    ]
    for data, message in broken:
        with pytest.raises(StorageError, match=message):
            store.import_campaign(data, "mallory", new_name="broken")
    assert store.list_campaigns()["name"].tolist() == [config.name]


# --------------------------------------------------------------------------- hostile input
HOSTILE = "x'; DROP TABLE campaigns; --"


def test_hostile_names_are_stored_verbatim(store: SqlStore, config: CampaignConfig) -> None:
    hostile = config.replace(name=HOSTILE)
    store.create_campaign(hostile, "robert'); DROP TABLE experiments;--")
    store.create_campaign(config, "alice")
    store.write(HOSTILE, actor='"; DELETE FROM measurements; --', new_experiments=[
        NewExperiment(recipe(config, anneal_atmosphere="O2"), "proposed", 1, experiment_id="1' OR '1'='1",
                      batch_id="b'; --")])
    store.write(HOSTILE, actor="a", measurements=[NewMeasurement("1' OR '1'='1", CE, 1.0, note="'); DROP TABLE x; --")])
    assert sorted(store.list_campaigns()["name"]) == sorted([HOSTILE, config.name])
    frame = store.experiments(HOSTILE)
    assert frame["experiment_id"].tolist() == ["1' OR '1'='1"] and frame["batch_id"].tolist() == ["b'; --"]
    assert store.measurements(HOSTILE)["note"].tolist() == ["'); DROP TABLE x; --"]
    assert store.experiments(config.name).empty
    with pytest.raises(StorageError, match="no campaign named"):
        store.experiments("' OR 1=1 --")


def test_huge_and_malformed_inputs_are_bounded(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    [eid] = add_experiments(store, config, 1)
    before = counts(store, config.name)
    with pytest.raises(StorageError, match="at most 2000"):
        store.write(config.name, actor="a", measurements=[NewMeasurement(eid, CE, 1.0, note="n" * 5000)])
    with pytest.raises(StorageError, match="experiment_id"):
        store.write(config.name, actor="a", new_experiments=[NewExperiment(recipe(config), "proposed", 1,
                                                                           experiment_id="E" * 65)])
    with pytest.raises(StorageError, match="actor"):
        store.write(config.name, actor="", measurements=[NewMeasurement(eid, CE, 1.0)])
    with pytest.raises(StorageError, match="outcome"):
        store.write(config.name, actor="a", measurements=[NewMeasurement(eid, "ce; DROP", 1.0)])
    with pytest.raises(DataError, match="expected a number"):
        store.write(config.name, actor="a", measurements=[NewMeasurement(eid, CE, "90")])  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="at most 1000000"):
        store.write(config.name, actor="a", new_experiments=[
            NewExperiment(recipe(config), "proposed", 1, predictions={"big": "x" * 1_100_000})])
    with pytest.raises(StorageError, match="split it"):
        store.write(config.name, actor="a", measurements=[NewMeasurement(eid, CE, 1.0)] * 200_001)
    assert counts(store, config.name) == before


# --------------------------------------------------------------------------- opening
def test_open_urls_and_errors(tmp_path, monkeypatch: pytest.MonkeyPatch, config: CampaignConfig) -> None:
    memory_a, memory_b = SqlStore.open(":memory:"), SqlStore.open(":memory:")
    memory_a.create_campaign(config, "alice")
    assert memory_b.list_campaigns().empty  # each in-memory store is private
    assert memory_a.schema_version == head_revision()

    path = tmp_path / "plain.sqlite3"
    plain = open_store(str(path))
    plain.create_campaign(config, "alice")
    assert path.exists()
    assert SqlStore.open(f"sqlite:///{path}").list_campaigns()["name"].tolist() == [config.name]

    monkeypatch.setenv("DOE_HOME", str(tmp_path / "home" / "nested"))
    default = SqlStore.open(None)
    assert (tmp_path / "home" / "nested" / "doe.sqlite3").exists() and default.list_campaigns().empty

    with pytest.raises(StorageError, match="not supported"):
        SqlStore.open("mysql://u:p@h/db")
    with pytest.raises(StorageError, match="not a database URL"):
        SqlStore.open("postgresql+psycopg://user:pw@host:notaport/db")
    nested = SqlStore.open(str(tmp_path / "missing" / "dir" / "x.sqlite3"))  # a new file's folder is made
    assert (tmp_path / "missing" / "dir" / "x.sqlite3").exists() and nested.list_campaigns().empty
    with pytest.raises(StorageError) as info:
        SqlStore.open("postgresql+psycopg://doe:s3cret@127.0.0.1:1/doe")
    assert "s3cret" not in str(info.value) and "***" in str(info.value) and "server is running" in str(info.value)


def test_sqlite_pragmas(tmp_path) -> None:
    store = SqlStore.open(str(tmp_path / "p.sqlite3"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_new_experiments_can_be_measured_in_the_same_write(store: SqlStore, config: CampaignConfig) -> None:
    store.create_campaign(config, "alice")
    add_experiments(store, config, 1)
    report = store.write(config.name, actor="bob", new_experiments=[
        NewExperiment(recipe(config), "running", 1), NewExperiment(recipe(config), "running", 1)],
        measurements=[NewMeasurement(NewExperimentRef(1), CE, 77.0)],
        status_changes=[StatusChange(NewExperimentRef(1), "completed")])
    assert report.experiment_ids == ["E0002", "E0003"]
    frame = store.experiments(config.name).set_index("experiment_id")
    assert frame.loc["E0003", CE] == 77.0 and frame.loc["E0003", "status"] == "completed"
    assert math.isnan(frame.loc["E0002", CE])
    with pytest.raises(StorageError, match=r"no experiment\(s\) \['#2'\]"):
        store.write(config.name, actor="bob", new_experiments=[NewExperiment(recipe(config), "running", 1)],
                    measurements=[NewMeasurement("#2", CE, 1.0)])
    with pytest.raises(StorageError, match=r"measurements\[0\]\.experiment_id: .*creates 1 new experiment"):
        store.write(config.name, actor="bob", new_experiments=[NewExperiment(recipe(config), "running", 1)],
                    measurements=[NewMeasurement(NewExperimentRef(1), CE, 1.0)])
    assert counts(store, config.name)[0] == 3


def test_text_ids_like_references_are_plain_ids(store: SqlStore, config: CampaignConfig) -> None:
    """A user's own id ``#1`` is an id, never a reference to a new experiment of the write."""
    store.create_campaign(config, "alice")
    report = store.write(config.name, actor="bob", new_experiments=[
        NewExperiment(recipe(config), "running", 1), NewExperiment(recipe(config), "running", 1, experiment_id="#1"),
        NewExperiment(recipe(config), "running", 1)],
        measurements=[NewMeasurement("#1", CE, 71.0), NewMeasurement(NewExperimentRef(0), CE, 70.0),
                      NewMeasurement(NewExperimentRef(2), CE, 72.0)],
        status_changes=[StatusChange("#1", "completed")])
    assert report.experiment_ids == ["E0001", "#1", "E0002"]
    frame = store.experiments(config.name).set_index("experiment_id")
    assert frame[CE].to_dict() == {"E0001": 70.0, "#1": 71.0, "E0002": 72.0}
    assert frame["status"].to_dict() == {"E0001": "running", "#1": "completed", "E0002": "running"}


def test_a_campaign_name_that_looks_like_a_stored_one_is_refused(store: SqlStore, config: CampaignConfig) -> None:
    """'Line', a full-width 'ｌｉｎｅ' and 'line' with a zero-width space were three more
    campaigns beside 'line', which an engineer picking from a list cannot tell apart."""
    store.create_campaign(config.replace(name="line"), "alice")
    for twin in ("Line", "ｌｉｎｅ"):
        with pytest.raises(StorageError, match=f"campaign name '{twin}' differs from the campaign 'line' .* only in "
                                               "upper and lower case"):
            store.create_campaign(config.replace(name=twin), "bob")
        with pytest.raises(StorageError, match="only in upper and lower case"):
            store.import_campaign(store.export_campaign("line"), "bob", new_name=twin)
    with pytest.raises(ConfigError, match="without invisible ones"):
        config.replace(name="line\u200b")
    assert store.list_campaigns()["name"].tolist() == ["line"]
    store.create_campaign(config.replace(name="line 2"), "bob")  # another name is fine
