"""SqlStore across real processes: persistence, concurrent writers, a killed writer, migrations.

Each test runs on a real SQLite file and a real PostgreSQL database (``store_url``). The
child processes are plain ``python`` processes running the script below.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doe import load_config
from doe.domain.config import CampaignConfig
from doe.domain.records import NewExperiment, NewMeasurement
from doe.storage.sql import SqlStore, close_all, head_revision

CE = "first_cycle_ce_pct"

CHILD = r'''
import json, sys, time
from doe import load_config
from doe.domain.records import NewExperiment, NewMeasurement, StatusChange
from doe.storage.sql import SqlStore

task, url, name = sys.argv[1], sys.argv[2], sys.argv[3]
config = load_config("hfo2-ncm85")
recipe = dict(config.reference_recipe())

if task == "build":  # a campaign with some history
    store = SqlStore.open(url)
    store.create_campaign(config.replace(name=name), "child")
    store.write(name, actor="child", new_experiments=[NewExperiment(recipe, "running", 1, seed=5,
                predictions={"first_cycle_ce_pct": {"mean": 88.0}}) for _ in range(3)])
    store.write(name, actor="child", measurements=[NewMeasurement("E0001", "first_cycle_ce_pct", 90.5)],
                status_changes=[StatusChange("E0001", "completed"), StatusChange("E0002", "failed", "gel")])
    store.write(name, actor="child", allow_corrections=True,
                measurements=[NewMeasurement("E0001", "first_cycle_ce_pct", 90.25, note="recalibrated")])
    print(json.dumps(store.export_campaign(name)))

elif task == "export":
    print(json.dumps(SqlStore.open(url).export_campaign(name)))

elif task == "record":  # one of several concurrent writers
    worker, n, start_at = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    store = SqlStore.open(url)
    while time.time() < start_at:
        time.sleep(0.005)
    ids = []
    for i in range(n):
        [eid] = store.write(name, actor=f"worker{worker}", new_experiments=[
            NewExperiment(recipe, "running", 1, batch_id=f"w{worker}")]).experiment_ids
        store.write(name, actor=f"worker{worker}", measurements=[
            NewMeasurement(eid, "first_cycle_ce_pct", worker * 1000.0 + i)],
            status_changes=[StatusChange(eid, "completed")])
        ids.append(eid)
    print(json.dumps(ids))

elif task == "crash":  # a large import that is killed in the middle of its transaction
    from sqlalchemy import event
    store = SqlStore.open(url)

    @event.listens_for(store.engine, "after_cursor_execute")
    def _pause(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO MEASUREMENTS"):
            print("INSIDE", flush=True)
            time.sleep(600)

    n = int(sys.argv[4])
    store.write(name, actor="importer", audit_action="import",
                new_experiments=[NewExperiment(recipe, "completed", 1, experiment_id=f"H{i:05d}", source="import")
                                 for i in range(n)],
                measurements=[NewMeasurement(f"H{i:05d}", "first_cycle_ce_pct", 80.0 + i / n) for i in range(n)])
    print("FINISHED", flush=True)

elif task == "open":  # open a (new) database and create a campaign
    start_at = float(sys.argv[4])
    while time.time() < start_at:
        time.sleep(0.005)
    store = SqlStore.open(url)
    store.create_campaign(config.replace(name=name), "opener")
    print(store.schema_version)
'''


@pytest.fixture(scope="module")
def child_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("children") / "child.py"
    path.write_text(CHILD, encoding="utf-8")
    return path


def run_child(script: Path, *args: object, timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def start_child(script: Path, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def config() -> CampaignConfig:
    return load_config("hfo2-ncm85")


def test_written_in_one_process_loaded_in_another(store_url: str, child_script: Path) -> None:
    written = json.loads(run_child(child_script, "build", store_url, "persisted"))
    loaded = json.loads(run_child(child_script, "export", store_url, "persisted"))
    assert loaded == written
    assert [m["value"] for m in loaded["measurements"]] == [90.5, 90.25]
    assert [m["superseded"] for m in loaded["measurements"]] == [True, False]
    assert [e["status"] for e in loaded["experiments"]] == ["completed", "failed", "running"]
    here = SqlStore.open(store_url)
    frame = here.experiments("persisted")
    assert frame.loc[0, CE] == 90.25 and frame.loc[1, "failure_reason"] == "gel"
    assert frame.loc[0, "predictions"] == {CE: {"mean": 88.0}} and frame["seed"].tolist() == [5, 5, 5]
    assert len(here.audit("persisted")) == len(loaded["audit"])


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(store_url: str, child_script: Path, config: CampaignConfig) -> None:
    workers, per_worker = 4, 50
    store = SqlStore.open(store_url)
    store.create_campaign(config, "lead")
    start_at = time.time() + 3.0  # all four start writing at the same moment
    procs = [start_child(child_script, "record", store_url, config.name, w, per_worker, start_at)
             for w in range(1, workers + 1)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out))
    claimed = [eid for ids in outputs for eid in ids]
    assert len(claimed) == len(set(claimed)) == workers * per_worker
    frame = store.experiments(config.name)
    assert sorted(frame["experiment_id"]) == sorted(claimed) == [f"E{i:04d}" for i in range(1, 201)]
    assert (frame["status"] == "completed").all()
    measured = store.measurements(config.name)
    assert len(measured) == workers * per_worker
    expected = {w * 1000.0 + i for w in range(1, workers + 1) for i in range(per_worker)}
    assert set(measured["value"]) == expected
    by_batch = frame.groupby("batch_id")[CE].apply(sorted).to_dict()
    for w in range(1, workers + 1):
        assert by_batch[f"w{w}"] == [w * 1000.0 + i for i in range(per_worker)]
    assert store.revision(config.name) == 1 + 2 * workers * per_worker


@pytest.mark.slow
def test_killed_writer_leaves_the_database_as_before(store_url: str, child_script: Path,
                                                       config: CampaignConfig) -> None:
    store = SqlStore.open(store_url)
    store.create_campaign(config, "lead")
    store.write(config.name, actor="lead", new_experiments=[NewExperiment(dict(config.reference_recipe() or {}),
                                                                          "running", 1)])
    store.write(config.name, actor="lead", measurements=[NewMeasurement("E0001", CE, 90.0)])
    before = (store.export_campaign(config.name), store.revision(config.name))

    proc = start_child(child_script, "crash", store_url, config.name, 3000)
    assert proc.stdout is not None
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.strip() in ("INSIDE", "FINISHED") or not line:
            break
    assert line.strip() == "INSIDE", proc.stderr.read() if proc.stderr else line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    close_all()  # drop this process's connections too: reopen as a fresh process would
    reopened = SqlStore.open(store_url)
    assert (reopened.export_campaign(config.name), reopened.revision(config.name)) == before
    assert reopened.schema_version == head_revision()
    # the lock the killed writer held is gone: the next write goes through (a lock still held
    # would make it fail with the busy/lock timeout) and lands on top of the state before
    reopened.write(config.name, actor="lead", measurements=[NewMeasurement("E0001", "capacity_retention_pct", 70.0)])
    assert reopened.revision(config.name) == before[1] + 1
    measured = reopened.measurements(config.name)
    assert sorted(zip(measured["outcome"], measured["value"], strict=True)) == [
        ("capacity_retention_pct", 70.0), (CE, 90.0)]


def test_new_database_is_migrated_to_head_and_reopening_is_a_noop(store_url: str) -> None:
    store = SqlStore.open(store_url)
    assert store.schema_version == head_revision() == "0014"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0014"]
        tables = set(store.engine.dialect.get_table_names(conn))
    assert {"campaigns", "config_versions", "experiments", "measurements", "audit_log", "alembic_version",
            "users", "memberships", "model_states"} <= tables
    close_all()
    again = SqlStore.open(store_url)
    assert again.schema_version == "0014"
    with again.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


@pytest.mark.slow
def test_processes_opening_a_new_database_together(store_url: str, child_script: Path) -> None:
    start_at = time.time() + 2.5
    procs = [start_child(child_script, "open", store_url, f"campaign {i}", start_at) for i in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        assert out.strip() == head_revision()
    assert sorted(SqlStore.open(store_url).list_campaigns()["name"]) == [f"campaign {i}" for i in range(4)]
