"""``doe backup`` and ``doe restore`` in real subprocesses: counts reported, clear errors, no secrets."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from doe import load_config
from doe.domain.records import NewExperiment, NewMeasurement
from doe.storage.sql import SqlStore, close_all


def doe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "lab.sqlite3"
    store = SqlStore.open(str(path))
    config = load_config("hfo2-ncm85")
    store.create_campaign(config, "alice")
    store.write(config.name, actor="alice", new_experiments=[NewExperiment(dict(config.reference_recipe()),
                "completed", 1) for _ in range(2)],
                measurements=[NewMeasurement("E0001", "first_cycle_ce_pct", 90.0)])
    return path


def test_backup_then_restore_reports_counts(source: Path, tmp_path: Path) -> None:
    made = doe("backup", "--db", str(source), "--out", "copy.sqlite3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "backed up 1 campaign(s), 2 experiment(s), 1 measurement(s)" in made.stdout
    done = doe("restore", "--db", "new.sqlite3", "--from", "copy.sqlite3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "restored 1 campaign(s), 2 experiment(s), 1 measurement(s)" in done.stdout
    again = doe("restore", "--db", "new.sqlite3", "--from", "copy.sqlite3", cwd=tmp_path)
    assert again.returncode == 1 and "already holds 1 campaign(s)" in again.stderr and "--force" in again.stderr
    forced = doe("restore", "--db", "new.sqlite3", "--from", "copy.sqlite3", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("backup", "--db", "absent.sqlite3", "--out", "x.sqlite3"), "absent.sqlite3' does not exist"),
    (("backup", "--db", "notes.txt", "--out", "x.sqlite3"), "notes.txt' is neither an SQLite database"),
    (("backup", "--db", "lab.sqlite3", "--out", "no/such/folder/x.sqlite3"), "no/such/folder' for the backup file 'x.sqlite3' does not exist"),
    (("restore", "--db", "y.sqlite3", "--from", "absent.sqlite3"), "absent.sqlite3' does not exist"),
    (("restore", "--db", "y.sqlite3", "--from", "notes.txt"), "notes.txt' is neither an SQLite database"),
    (("restore", "--db", "y.sqlite3", "--from", "lab.sqlite3"), None),  # control: a real doe file restores
])
def test_errors_are_one_clear_line(source: Path, tmp_path: Path, args: tuple[str, ...], message: str | None) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    done = doe(*args, cwd=tmp_path)
    if message is None:
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 1, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1


def test_a_password_is_never_printed(tmp_path: Path) -> None:
    secret = "s3cr3t-Pa55word"
    url = f"postgresql+psycopg://nobody:{secret}@127.0.0.1:1/doe"
    (tmp_path / "copy.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(100))
    for args in (("backup", "--db", url, "--out", "x.dump"), ("restore", "--db", url, "--from", "copy.sqlite3"),
                 ("restore", "--db", url, "--from", "x.dump")):
        done = doe(*args, cwd=tmp_path)
        assert done.returncode in (1, 2), done.stdout
        assert secret not in done.stdout + done.stderr and "Traceback" not in done.stderr
        assert "Error" in done.stderr


def test_a_db_path_with_a_question_mark_or_percent_sign_is_that_file_in_every_command(tmp_path: Path) -> None:
    """--db 'run?2.sqlite3' wrote the file 'run' and '100%25' the file '100%': the name was pasted into a URL."""
    made = doe("init", "--db", "run?2.sqlite3", "--name", "coating", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    copied = doe("backup", "--db", "run?2.sqlite3", "--out", "copy?.sqlite3", cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    assert "backed up 1 campaign(s)" in copied.stdout
    restored = doe("restore", "--db", "lab 100%25.sqlite3", "--from", "copy?.sqlite3", cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    status = doe("status", "--db", "lab 100%25.sqlite3", cwd=tmp_path)
    assert status.returncode == 0 and "campaign 'coating'" in status.stdout, status.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "copy?.sqlite3", "lab 100%25.sqlite3", "run?2.sqlite3"]


@pytest.mark.parametrize("force", [False, True])
def test_restore_refuses_another_applications_sqlite_database(source: Path, tmp_path: Path, force: bool) -> None:
    """A LIMS file beside the lab database (a mistyped --db) keeps its tables, --force or not."""
    assert doe("backup", "--db", str(source), "--out", "copy.sqlite3", cwd=tmp_path).returncode == 0
    lims = tmp_path / "lims.sqlite3"
    with sqlite3.connect(lims) as conn:
        conn.execute("CREATE TABLE samples (id INTEGER, name TEXT)")
        conn.execute("INSERT INTO samples VALUES (1, 'NCM85 lot 7')")
    conn.close()
    before = lims.read_bytes()
    done = doe("restore", "--db", "lims.sqlite3", "--from", "copy.sqlite3", *(["--force"] if force else []),
               cwd=tmp_path)
    assert done.returncode == 1
    assert "holds tables that are not doe's (samples)" in done.stderr and "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert lims.read_bytes() == before


def test_restore_force_replaces_a_doe_database(source: Path, tmp_path: Path) -> None:
    """Control for the test above: --force still replaces a target that holds only doe's tables."""
    assert doe("backup", "--db", str(source), "--out", "copy.sqlite3", cwd=tmp_path).returncode == 0
    SqlStore.open(str(tmp_path / "other.sqlite3")).create_campaign(load_config("hfo2-ncm85"), "bob")
    done = doe("restore", "--db", "other.sqlite3", "--from", "copy.sqlite3", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_restore_says_when_the_backup_holds_no_account(source: Path, tmp_path: Path) -> None:
    """`doe restore --force` of a backup without accounts over a database with accounts said nothing
    about them: a shared app serving it was left with no account to sign in with."""
    from doe.auth.accounts import Accounts

    assert doe("backup", "--db", str(source), "--out", "copy.sqlite3", cwd=tmp_path).returncode == 0
    shared = tmp_path / "shared.sqlite3"
    shutil.copy(source, shared)
    Accounts(f"sqlite:///{shared}").add_user("root", "admin", password="root-password", actor="fixture")
    close_all()
    forced = doe("restore", "--db", str(shared), "--from", "copy.sqlite3", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert ("note: the backup holds no account, so the web app has none to sign in with; a doe app serving this "
            "database with a sign-in (a shared server) lets nobody in now") in forced.stderr, forced.stderr
    assert "doe user add NAME --role admin" in forced.stderr
    fresh = doe("restore", "--db", "new.sqlite3", "--from", "copy.sqlite3", cwd=tmp_path)
    assert fresh.returncode == 0 and "note: the backup holds no account" in fresh.stderr, fresh.stderr
    Accounts(f"sqlite:///{shared}").add_user("ada", "admin", password="ada-password", actor="fixture")
    close_all()
    assert doe("backup", "--db", str(shared), "--out", "with-accounts.sqlite3", cwd=tmp_path).returncode == 0
    kept = doe("restore", "--db", "third.sqlite3", "--from", "with-accounts.sqlite3", cwd=tmp_path)
    assert kept.returncode == 0 and "no account" not in kept.stderr, kept.stderr  # control


@contextmanager
def immutable(folder: Path) -> Iterator[None]:
    """``folder`` cannot be changed, even by root (``chattr +i``), while the block runs."""
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on a file system that supports it)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_backup_into_a_folder_that_cannot_be_written_is_one_clear_line(source: Path, tmp_path: Path) -> None:
    """tempfile.mkstemp's PermissionError came out as a traceback."""
    (tmp_path / "locked").mkdir()
    with immutable(tmp_path / "locked"):
        done = doe("backup", "--db", str(source), "--out", "locked/b.sqlite3", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "locked/b.sqlite3' cannot be written" in done.stderr and "nothing was written" in done.stderr
    assert list((tmp_path / "locked").iterdir()) == []


def test_backup_of_a_database_in_a_read_only_folder(source: Path, tmp_path: Path) -> None:
    """It was called 'not a readable SQLite database' although doe list reads it."""
    folder = tmp_path / "shelf"
    folder.mkdir()
    close_all()  # the WAL checkpointed: the file alone is the database, still in WAL mode as doe keeps it
    shutil.copy(source, folder / "lab.sqlite3")
    with immutable(folder):
        listed = doe("list", "--db", "shelf/lab.sqlite3", cwd=tmp_path)
        done = doe("backup", "--db", "shelf/lab.sqlite3", "--out", "copy.sqlite3", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert done.returncode == 0, done.stderr
    assert "backed up 1 campaign(s), 2 experiment(s), 1 measurement(s)" in done.stdout
