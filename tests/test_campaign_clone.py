"""A clone is written in one transaction: killed half-way (SIGKILL, a power cut) it leaves
nothing behind, on a real PostgreSQL server, into another database (``doe clone --to-db``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from doe import Campaign, list_campaigns
from doe.storage.sql import SqlStore, close_all
from doe.templates import resolve_config

REPO = Path(__file__).resolve().parents[1]
CLONE = ("import sys; from doe import Campaign; "
         "Campaign.load('line', storage=sys.argv[1], actor='lead').clone('copy', storage=sys.argv[2], with_history=True)")


@pytest.fixture
def two_databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    pg = sys.modules["doe_tests_postgres"]
    source, target = pg.create_database(postgres_url), pg.create_database(postgres_url)
    try:
        yield source, target
    finally:
        close_all()
        pg.drop_database(postgres_url, source)
        pg.drop_database(postgres_url, target)


def _psycopg(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def _waiting_on_a_lock(url: str, deadline_s: float = 120) -> None:
    """Wait until a session of the database at ``url`` waits for a lock (the clone's)."""
    with _psycopg(url) as conn:
        conn.autocommit = True  # each query sees the activity afresh
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND wait_event_type = 'Lock'").fetchone()
            if waiting is not None and waiting[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the clone never reached the target's experiments table")


def test_a_clone_killed_while_writing_into_another_database_leaves_nothing(
        two_databases: tuple[str, str]) -> None:
    """The clone was created in one transaction and its history written in the next ones: a
    process killed between them left an empty campaign under the new name, and the retry was
    refused ('a campaign named 'copy' exists already')."""
    source, target = two_databases
    config = resolve_config("hfo2-ncm85")
    campaign = Campaign.from_config(config, storage=source, name="line", actor="lead")
    recipe = config.reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "first_cycle_ce_pct": 88.0},
                                  {**recipe, "experiment_id": "P2", "first_cycle_ce_pct": 86.0}]))
    SqlStore.open(target)  # the target's tables exist
    close_all()
    with _psycopg(target) as lock:  # the clone waits at the target's experiments, where the kill finds it
        lock.execute("LOCK TABLE experiments IN ACCESS EXCLUSIVE MODE")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        clone = subprocess.Popen([sys.executable, "-c", CLONE, source, target], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _waiting_on_a_lock(target)
        finally:
            clone.send_signal(signal.SIGKILL)
            clone.communicate(timeout=60)
        lock.rollback()
    assert clone.returncode == -signal.SIGKILL
    assert list_campaigns(target, include_archived=True).empty
    copy = Campaign.load("line", storage=source, actor="lead").clone("copy", storage=target, with_history=True)
    assert copy.history()["experiment_id"].tolist() == ["P1", "P2"]
    assert copy.audit()["action"].tolist()[-1] == "campaign_imported"


_OLD_IDS = {"A1": "Cafe\u0301-1", "A2": "H-2", "A3": "h-2", "A4": "X\u200b3", "A5": "007", "A6": "7"}
_OLD_LABELS = {"r1": "e\u0301", "r2": "A", "r3": "a", "r4": "\uff21"}  # the last a full-width A, a failed cell


def _store_as_an_older_doe(url: str) -> None:
    """Rename the experiments and cells of campaign 'line' as an older doe let them be written."""
    import sqlalchemy as sa

    from doe.storage import schema as s

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for new, old in _OLD_IDS.items():
            conn.execute(sa.update(s.experiments).where(s.experiments.c.experiment_id == new).values(experiment_id=old))
            conn.execute(sa.update(s.audit_log).where(s.audit_log.c.experiment_id == new).values(experiment_id=old))
        for table in (s.measurements, s.cell_failures):
            for new, old in _OLD_LABELS.items():
                conn.execute(sa.update(table).where(table.c.replicate == new).values(replicate=old))
    engine.dispose()


def _cells(campaign: Campaign) -> list[tuple[str, object, float]]:
    m = campaign.measurements()
    return sorted(zip(m["experiment_id"], m["replicate"].fillna(""), m["value"], strict=True))


def test_a_clone_carries_the_ids_and_labels_an_older_doe_stored(tmp_path: Path) -> None:
    """Found by a probe: clone(with_history=True) of a campaign an older doe stored with ids a new
    experiment may not have ('h-2' beside 'H-2', '7' beside '007', a zero-width space) was refused
    with problems of table rows the user never gave; export_json/import_json copied it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    campaign = Campaign.from_config({"name": "line", "seed": 1, "objectives": [{"name": "ce", "goal": "maximize"}],
                                     "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}]},
                                    storage=url)
    rows = [{"experiment_id": "A1", "x": 0.1, "replicate": r, "ce": 80.0 + i} for i, r in enumerate(["r1", "r2", "r3"])]
    rows += [{"experiment_id": "A1", "replicate": "r4", "failed": True, "failure_reason": "cracked"}]
    rows += [{"experiment_id": f"A{i}", "x": i / 10, "ce": 80.0 + i} for i in range(2, 7)]
    campaign.record(pd.DataFrame(rows))
    _store_as_an_older_doe(url)
    source = Campaign.load("line", storage=url)
    clone = source.clone("copy", with_history=True)
    assert clone.history()["experiment_id"].tolist() == list(_OLD_IDS.values())
    assert _cells(clone) == _cells(source) and len(_cells(clone)) == 8
    assert clone.cell_failures()[["experiment_id", "replicate", "failure_reason"]].values.tolist() == [
        [_OLD_IDS["A1"], "\uff21", "cracked"]]
    failed_audit = clone.audit().query("action == 'cell_failed'")
    assert failed_audit["experiment_id"].tolist() == [_OLD_IDS["A1"]] and "\uff21" in failed_audit["detail"].iloc[0]
    assert not any("clone-" in str(v) for v in clone.export_json()["experiments"])
