"""Whole-database backup and restore on real SQLite files and a real PostgreSQL server.

A restored database must hold every campaign identically, measurement for measurement: the
tests compare experiments, measurements (superseded ones included), the audit trail and every
configuration version as DataFrames.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import URL, make_url

from doe import load_config
from doe.domain.config import CampaignConfig
from doe.domain.records import NewExperiment, NewMeasurement, StatusChange
from doe.errors import StorageError
from doe.storage.backup import backup, restore
from doe.storage.sql import SqlStore, close_all

CE = "first_cycle_ce_pct"
RET = "capacity_retention_pct"


def build_history(store: SqlStore, config: CampaignConfig, name: str) -> None:
    """A campaign with history, corrections, failed/abandoned experiments, 3 config versions."""
    config = config.replace(name=name)
    recipe = dict(config.reference_recipe())
    store.create_campaign(config, "alice")
    store.write(name, actor="alice", new_experiments=[
        NewExperiment(recipe, "running", 1, seed=7, predictions={CE: {"mean": 88.0, "sd": 1.5}}) for _ in range(5)])
    store.write(name, actor="bob", measurements=[
        NewMeasurement("E0001", CE, 90.5, unit="%", note="first pass"), NewMeasurement("E0001", RET, 97.0),
        NewMeasurement("E0002", CE, 85.125)],
        status_changes=[StatusChange("E0001", "completed"), StatusChange("E0002", "completed"),
                        StatusChange("E0003", "failed", "slurry gelled"), StatusChange("E0004", "abandoned")])
    store.add_config_version(name, config.replace(description="second version"), "carol")
    store.write(name, actor="bob", allow_corrections=True, measurements=[
        NewMeasurement("E0001", CE, 90.25, note="recalibrated"), NewMeasurement("E0002", CE, 85.0)])
    store.add_config_version(name, config.replace(description="third version", seed=11), "carol")
    store.write(name, actor="dave", new_experiments=[NewExperiment(recipe, "completed", 2, source="manual")],
                measurements=[NewMeasurement("E0006", CE, 91.0)])


def snapshot(store: SqlStore) -> dict[str, pd.DataFrame]:
    frames = {"campaigns": store.list_campaigns(include_archived=True)}
    for name in frames["campaigns"]["name"]:
        frames[f"{name}/experiments"] = store.experiments(name)
        frames[f"{name}/measurements"] = store.measurements(name, include_superseded=True)
        frames[f"{name}/audit"] = store.audit(name)
        versions = store.config_versions(name)
        frames[f"{name}/config_versions"] = versions
        frames[f"{name}/configs"] = pd.DataFrame({"yaml": [
            store.load_config(name, int(v))[0].to_yaml() for v in versions["version"]]})
    return frames


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=True, obj=key)


@pytest.fixture
def config() -> CampaignConfig:
    return load_config("hfo2-ncm85")


@pytest.fixture
def source(tmp_path: Path, config: CampaignConfig) -> Path:
    path = tmp_path / "source.sqlite3"
    store = SqlStore.open(str(path))
    build_history(store, config, "coating-a")
    build_history(store, config, "coating-b")
    store.set_archived("coating-b", True, "alice")
    return path


def test_sqlite_backup_and_restore_are_identical(source: Path, tmp_path: Path) -> None:
    before = snapshot(SqlStore.open(str(source)))
    assert len(before["coating-a/measurements"]) == 6 and before["coating-a/measurements"]["superseded"].sum() == 2
    assert len(before["coating-a/config_versions"]) == 3
    assert sorted(before["coating-a/experiments"]["status"]) == [
        "abandoned", "completed", "completed", "completed", "failed", "running"]

    made = backup(f"sqlite:///{source}", tmp_path / "copy.sqlite3")
    assert (made.counts.campaigns, made.counts.experiments, made.counts.measurements) == (2, 12, 12)
    assert not list(tmp_path.glob("*.partial")), "the temporary file is gone"
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    target = tmp_path / "restored" / "doe.sqlite3"
    target.parent.mkdir()
    done = restore(str(target), made.path)
    assert done.counts == made.counts and done.schema_version == made.schema_version
    close_all()
    assert_same(snapshot(SqlStore.open(str(target))), before)


def test_restore_refuses_a_target_with_campaigns_unless_forced(source: Path, tmp_path: Path,
                                                                config: CampaignConfig) -> None:
    made = backup(str(source), tmp_path / "copy.sqlite3")
    target = tmp_path / "busy.sqlite3"
    busy = SqlStore.open(str(target))
    busy.create_campaign(config.replace(name="someone-elses"), "eve")
    with pytest.raises(StorageError, match=r"busy\.sqlite3.*already holds 1 campaign.*--force"):
        restore(str(target), made.path)
    assert list(SqlStore.open(str(target)).list_campaigns()["name"]) == ["someone-elses"]  # untouched

    restore(str(target), made.path, force=True)
    assert sorted(SqlStore.open(str(target)).list_campaigns(include_archived=True)["name"]) == [
        "coating-a", "coating-b"]


def test_an_empty_doe_database_is_a_valid_target(source: Path, tmp_path: Path) -> None:
    made = backup(str(source), tmp_path / "copy.sqlite3")
    target = tmp_path / "empty.sqlite3"
    SqlStore.open(str(target)).close()  # created, migrated, no campaign
    assert restore(str(target), made.path).counts.campaigns == 2


def test_a_file_whose_name_has_a_question_mark_or_percent_sign_backs_up_and_restores(
        tmp_path: Path, config: CampaignConfig) -> None:
    """A plain path is the file exactly as written, for the store, the backup and the restore alike."""
    source = tmp_path / "lab?v2 100%25.sqlite3"
    build_history(SqlStore.open(str(source)), config, "coating-a")
    made = backup(str(source), tmp_path / "copy?.sqlite3")
    assert made.counts.campaigns == 1 and made.path == tmp_path / "copy?.sqlite3"
    target = tmp_path / "restored?x=1%41.sqlite3"
    done = restore(str(target), made.path)
    assert done.counts == made.counts
    assert make_url(done.url).database == str(target)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "copy?.sqlite3", source.name, target.name]
    close_all()
    assert_same(snapshot(SqlStore.open(str(target))), snapshot(SqlStore.open(str(source))))


def test_backup_errors_name_the_path(source: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"missing\.sqlite3' does not exist"):
        backup(str(tmp_path / "missing.sqlite3"), tmp_path / "out.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists(), "a backup never creates its source"
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    with pytest.raises(StorageError, match=r"notes\.txt' is neither an SQLite database"):
        backup(str(text), tmp_path / "out.sqlite3")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StorageError, match=r"other\.sqlite3' is an SQLite file but not a doe database"):
        backup(str(other), tmp_path / "out.sqlite3")
    with pytest.raises(StorageError, match=r"nowhere.*does not exist; create it first"):
        backup(str(source), tmp_path / "nowhere" / "out.sqlite3")
    taken = tmp_path / "taken.sqlite3"
    taken.write_bytes(b"keep me")
    with pytest.raises(StorageError, match=r"taken\.sqlite3' exists already"):
        backup(str(source), taken)
    assert taken.read_bytes() == b"keep me"
    assert not (tmp_path / "out.sqlite3").exists() and not list(tmp_path.glob("*.partial"))


def test_restore_errors_name_the_path(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.sqlite3"
    with pytest.raises(StorageError, match=r"nothing\.sqlite3' does not exist"):
        restore(str(target), tmp_path / "nothing.sqlite3")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StorageError, match=r"other\.sqlite3' is an SQLite file but not a doe database"):
        restore(str(target), other)
    future = tmp_path / "future.sqlite3"
    made = backup(str(source), future)
    with sqlite3.connect(made.path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(StorageError, match=r"schema version '9999_from_the_future'.*does not know"):
        restore(str(target), future)
    with pytest.raises(StorageError, match=r"is a SQLite backup and restores only into an SQLite file"):
        restore("postgresql+psycopg://u:secret@127.0.0.1:1/x", made.path)
    assert not target.exists(), "a refused restore writes nothing"


WRITER = r'''
import sys
from doe import load_config
from doe.domain.records import NewExperiment, NewMeasurement, StatusChange
from doe.storage.sql import SqlStore

url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = SqlStore.open(url)
recipe = dict(load_config("hfo2-ncm85").reference_recipe())
for i in range(n):
    [eid] = store.write(name, actor="writer", new_experiments=[NewExperiment(recipe, "running", 3)]).experiment_ids
    # one transaction: the experiment, its measurement and its completion land together
    store.write(name, actor="writer", measurements=[NewMeasurement(eid, "first_cycle_ce_pct", 50.0 + i)],
                status_changes=[StatusChange(eid, "completed")])
    print(i, flush=True)
'''


@pytest.mark.slow
def test_backup_while_another_process_writes_is_consistent(source: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    n = 150
    writer = subprocess.Popen([sys.executable, str(script), str(source), "coating-a", str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        for _ in range(20):  # wait until the writer is well under way
            assert writer.stdout.readline(), writer.stderr.read() if writer.stderr else ""
        made = backup(str(source), tmp_path / "mid.sqlite3")
        out, err = writer.communicate(timeout=300)
    finally:
        writer.kill()
    assert writer.returncode == 0, err[-2000:]
    assert out.split()[-1] == str(n - 1), "the writer went on after the backup"

    with sqlite3.connect(made.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    copy = SqlStore.open(str(made.path))
    for name in copy.list_campaigns(include_archived=True)["name"]:
        copy.load_config(name)
        copy.experiments(name)
    written = copy.experiments("coating-a").iloc[6:]  # the writer's experiments in the copy
    assert 20 <= len(written) < n, "the copy was taken mid-way"
    # every experiment is either still running without a value (its second write came later)
    # or completed with its value: never half a transaction
    done = written[written["status"] == "completed"]
    assert done[CE].notna().all() and len(done) >= len(written) - 1
    assert written[written["status"] == "running"][CE].isna().all()
    assert made.counts.experiments == 12 + len(written)


@pytest.mark.slow
def test_postgres_dump_and_restore_are_identical(postgres_url: str, config: CampaignConfig, tmp_path: Path) -> None:
    pg = sys.modules["doe_tests_postgres"]
    source_url = pg.create_database(postgres_url, "doe_backup_src")
    target_url = pg.create_database(postgres_url, "doe_backup_dst")
    out = tmp_path / "doe.dump"
    try:
        store = SqlStore.open(source_url)
        build_history(store, config, "coating-a")
        build_history(store, config, "coating-b")
        before = snapshot(store)
        made = backup(source_url, out)
        assert out.read_bytes().startswith(b"PGDMP") and made.counts.measurements == 12
        password = make_url(source_url).password
        if password:  # the suite's own server (no DOE_TEST_POSTGRES_URL) trusts local users
            assert f":{password}@" not in made.url and ":***@" in made.url
        else:
            assert made.url == make_url(source_url).render_as_string(hide_password=True)
        done = restore(target_url, out)
        assert done.counts == made.counts
        assert_same(snapshot(SqlStore.open(target_url)), before)
        with pytest.raises(StorageError, match=r"already holds 2 campaign\(s\)"):
            restore(target_url, out)
        with pytest.raises(StorageError, match=r"restores only into a PostgreSQL database"):
            restore(str(out.parent / "x.sqlite3"), out)
    finally:
        close_all()
        pg.drop_database(postgres_url, source_url)
        pg.drop_database(postgres_url, target_url)


def _in_the_query(url: str, password: str) -> str:
    """``url`` with host and port in the query (``?host=127.0.0.1&port=5433``, as a Unix socket is
    given: ``?host=/run/pg``), and a password given as ``?password=`` too. The TCP host, not the
    server's socket: a server started as another user (the test command's, as root) may refuse
    socket connections by peer authentication; without the fix pg_dump goes to libpq's default
    socket and port all the same."""
    parsed = make_url(url)
    query = {"host": str(parsed.host), "port": str(parsed.port), "password": password}
    return URL.create(parsed.drivername, parsed.username, parsed.password, None, None, parsed.database,
                      query).render_as_string(hide_password=False)


def test_postgres_backup_and_restore_reach_the_database_the_url_names_in_its_query(
        postgres_url: str, config: CampaignConfig, tmp_path: Path) -> None:
    """pg_dump and pg_restore were given only the URL's host, port and user: with the server in
    the query they reached libpq's default server (another database, or none) and the report
    still counted the right one."""
    pg = sys.modules["doe_tests_postgres"]
    source_url, target_url = pg.create_database(postgres_url), pg.create_database(postgres_url)
    secret = "Query-Password-42"
    try:
        store = SqlStore.open(source_url)
        build_history(store, config, "coating-a")
        before = snapshot(store)
        source, target = _in_the_query(source_url, secret), _in_the_query(target_url, secret)
        made = backup(source, tmp_path / "lab.dump")
        assert (made.counts.campaigns, made.counts.experiments, made.counts.measurements) == (1, 6, 6)
        assert secret not in made.url and "password=***" in made.url
        done = restore(target, made.path)
        assert done.counts == made.counts and secret not in done.url
        assert_same(snapshot(SqlStore.open(target_url)), before)
    finally:
        close_all()
        pg.drop_database(postgres_url, source_url)
        pg.drop_database(postgres_url, target_url)


@pytest.fixture
def account_only(store_url: str) -> str:
    """``store_url`` holding an account (and its entry in the account audit trail), no campaign."""
    from doe.auth.accounts import Accounts

    accounts = Accounts(store_url)
    accounts.add_user("zed", "admin", password="zed-password-1", actor="it")
    return store_url


def test_restore_refuses_a_target_with_accounts_but_no_campaign(
        account_only: str, request: pytest.FixtureRequest, config: CampaignConfig, tmp_path: Path) -> None:
    """A server database where the admin had added accounts before the first campaign was
    replaced without --force, its accounts and their audit trail gone."""
    from doe.auth.accounts import Accounts

    pg = sys.modules["doe_tests_postgres"]
    postgres = not account_only.startswith("sqlite")
    source = pg.create_database(request.getfixturevalue("postgres_url")) if postgres \
        else str(tmp_path / "lab.sqlite3")
    try:
        build_history(SqlStore.open(source), config, "coating-a")
        made = backup(source, tmp_path / ("lab.dump" if postgres else "lab-backup.sqlite3"))
        before = Accounts(account_only).store.users().to_json(), Accounts(account_only).store.audit().to_json()
        with pytest.raises(StorageError, match=r"already holds 1 account\(s\), 1 account audit entry\(ies\), "
                                               r"which a restore would replace.*--force.*nothing was changed"):
            restore(account_only, made.path)
        close_all()
        after = Accounts(account_only)
        assert (after.store.users().to_json(), after.store.audit().to_json()) == before
        assert SqlStore.open(account_only).list_campaigns(include_archived=True).empty
        assert restore(account_only, made.path, force=True).counts.campaigns == 1
    finally:
        close_all()
        if postgres:
            pg.drop_database(request.getfixturevalue("postgres_url"), source)


def test_postgres_restore_refuses_another_applications_database(postgres_url: str, config: CampaignConfig,
                                                                tmp_path: Path) -> None:
    """pg_restore --clean drops only the archive's tables: doe's would be added beside a LIMS's,
    so a target holding tables doe does not make is refused, with --force too, and kept as it was."""
    import psycopg

    pg = sys.modules["doe_tests_postgres"]
    source_url, target_url = pg.create_database(postgres_url), pg.create_database(postgres_url)
    try:
        build_history(SqlStore.open(source_url), config, "coating-a")
        made = backup(source_url, tmp_path / "lab.dump")
        target = make_url(target_url)
        with psycopg.connect(host=target.host, port=target.port, user=target.username, password=target.password,
                             dbname=target.database, autocommit=True) as conn:
            conn.execute("CREATE TABLE samples (id integer, name text)")
            conn.execute("INSERT INTO samples VALUES (1, 'NCM85 lot 7')")
            for force in (False, True):
                with pytest.raises(StorageError, match=r"holds tables that are not doe's \(samples\)"):
                    restore(target_url, made.path, force=force)
            tables = {row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
            assert tables == {"samples"}
    finally:
        close_all()
        pg.drop_database(postgres_url, source_url)
        pg.drop_database(postgres_url, target_url)
