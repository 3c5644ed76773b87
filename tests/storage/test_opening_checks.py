"""Opening a database refuses what would silently go wrong: a URL one slash short (it became
an SQLite file named after the URL, password included), another application's non-empty
database (doe added its tables beside them), and a read-only database is opened read-only
instead of not at all. Real files, a real PostgreSQL database, real subprocesses."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from doe import Campaign
from doe.errors import StorageError
from doe.storage.engine import close_all, is_in_memory
from doe.storage.sql import SqlStore
from doe.templates import resolve_config

SECRET = "s3cr3t-pw"
CE = "first_cycle_ce_pct"


def doe_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --------------------------------------------------------------------------- URL-like paths
@pytest.mark.parametrize("url", [
    f"postgresql:/user:{SECRET}@host/doe",
    f"postgresql:user:{SECRET}@host/doe",
    f"postgresql+psycopg:/user:{SECRET}@db.example:5432/doe",
    "sqlite:/data/doe.sqlite3",
])
def test_a_url_one_slash_short_is_refused_without_its_password(
        url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="looks like a URL but is not one") as err:
        SqlStore.open(url)
    assert SECRET not in str(err.value)
    with pytest.raises(StorageError, match="looks like a URL"):
        Campaign.from_config(resolve_config("hfo2-ncm85"), storage=url)
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("command", [("list",), ("status",), ("init", "--template", "hfo2-ncm85")])
def test_cli_never_prints_the_password(command: tuple[str, ...], tmp_path: Path) -> None:
    for url in (f"postgresql:/user:{SECRET}@host/doe",
                f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/doe"):  # nothing listens on port 1
        done = doe_cli(*command, "--db", url, cwd=tmp_path)
        assert done.returncode != 0
        assert SECRET not in done.stdout + done.stderr
        assert "***" in done.stdout + done.stderr or "looks like a URL" in done.stderr
    assert _tree(tmp_path) == []


def test_a_drive_letter_or_a_dotted_path_with_a_colon_is_still_a_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqlStore.open("./lab:2026.sqlite3")
    assert store.schema_version and (tmp_path / "lab:2026.sqlite3").exists()


# --------------------------------------------------------------------------- foreign databases
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()


def test_another_applications_sqlite_file_is_refused_and_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "accounting.sqlite3"
    _foreign_sqlite(path)
    before, files = _digest(path), _tree(tmp_path)
    for url in (str(path), f"sqlite:///{path}"):
        with pytest.raises(StorageError, match=r"not a doe database.*invoices") as err:
            SqlStore.open(url)
        assert str(path) in str(err.value)
    done = doe_cli("list", "--db", str(path), cwd=tmp_path)
    assert done.returncode == 1 and "not a doe database" in done.stderr
    assert _digest(path) == before and _tree(tmp_path) == files


def test_another_applications_database_is_refused_on_each_backend(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id integer PRIMARY KEY, amount real)"))
    engine.dispose()
    with pytest.raises(StorageError, match=r"not a doe database.*invoices"):
        SqlStore.open(store_url)
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["invoices"]
    engine.dispose()


def test_an_empty_file_and_a_doe_database_still_open(tmp_path: Path) -> None:
    empty = tmp_path / "new.sqlite3"
    empty.touch()
    assert SqlStore.open(str(empty)).schema_version
    SqlStore.open(str(empty)).create_campaign(resolve_config("hfo2-ncm85"), "alice")
    close_all()
    assert SqlStore.open(str(empty)).list_campaigns()["name"].tolist() == ["hfo2-ncm85"]


# --------------------------------------------------------------------------- read-only databases
READER = """
import io, json, sys
from doe import Campaign
from doe.errors import DoeError
url = sys.argv[1]
out = {}
try:
    campaign = Campaign.load("hfo2-ncm85", storage=url, actor="reader")
    out["history"] = len(campaign.history())
    buffer = io.BytesIO()
    campaign.export_table(buffer, file_format="csv")
    out["exported_bytes"] = len(buffer.getvalue())
    out["json_experiments"] = len(campaign.export_json()["experiments"])
    try:
        campaign.record(campaign.history()[[*campaign.config.parameter_names]].head(1).assign(
            first_cycle_ce_pct=80.0), allow_duplicates=True)
        out["write"] = "written"
    except DoeError as err:
        out["write"] = f"{type(err).__name__}: {err}"
except Exception as err:
    out["error"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
"""


def _as_nobody() -> list[str] | None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
                            "-c", "import doe, sqlalchemy"], capture_output=True, text=True, check=False,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120)
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if probe.returncode == 0 else None


@pytest.fixture
def read_only_database() -> Iterator[Path]:
    """A doe database with one measured experiment, file 0444 in a folder 0555 (outside
    pytest's 0700 temporary folder, so that user nobody can reach it)."""
    folder = Path(tempfile.mkdtemp(prefix="doe-ro-"))
    path = folder / "lab.sqlite3"
    campaign = Campaign.from_config(resolve_config("hfo2-ncm85"), storage=str(path), actor="alice")
    campaign.record(pd.DataFrame([{**campaign.config.reference_recipe(), CE: 88.0}]))
    close_all()
    assert _tree(folder) == ["lab.sqlite3"]  # WAL checkpointed and removed on close
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield path
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


def test_a_read_only_database_in_a_read_only_folder_can_be_read_not_written(read_only_database: Path) -> None:
    nobody = _as_nobody()
    if nobody is None:
        pytest.skip("needs root and setpriv to run the reader as user nobody (root ignores permissions)")
    before = _digest(read_only_database)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": "/tmp"}
    done = subprocess.run([*nobody, sys.executable, "-c", READER, str(read_only_database)], capture_output=True,
                          text=True, env=env, timeout=300, check=False, cwd="/")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in out, out
    assert out["history"] == 1 and out["exported_bytes"] > 100 and out["json_experiments"] == 1
    assert out["write"].startswith("StorageError") and "read-only" in out["write"]
    assert "nothing was written" in out["write"]
    assert _digest(read_only_database) == before and _tree(read_only_database.parent) == ["lab.sqlite3"]


def test_an_outdated_read_only_database_says_it_must_be_migrated(read_only_database: Path) -> None:
    nobody = _as_nobody()
    if nobody is None:
        pytest.skip("needs root and setpriv to run the reader as user nobody (root ignores permissions)")
    folder = read_only_database.parent
    folder.chmod(stat.S_IRWXU)
    read_only_database.chmod(0o644)
    conn = sqlite3.connect(read_only_database)
    conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.commit()
    conn.close()
    read_only_database.chmod(0o444)
    folder.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": "/tmp"}
    done = subprocess.run([*nobody, sys.executable, "-c", READER, str(read_only_database)], capture_output=True,
                          text=True, env=env, timeout=300, check=False, cwd="/")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "read-only" in out["error"] and "'0001'" in out["error"] and out["error"].startswith("StorageError")


@pytest.mark.parametrize(("url", "memory"), [
    (":memory:", True), ("sqlite://", True), ("sqlite+pysqlite:///:memory:", True), ("sqlite+pysqlite://", True),
    ("sqlite:///:memory:?cache=shared", True), ("sqlite:///file:m?mode=memory&uri=true", True),
    ("sqlite:///lab.sqlite3", False), ("lab.sqlite3", False), ("postgresql+psycopg://u:p@host/doe", False),
])
def test_every_spelling_of_an_in_memory_database_is_recognised(url: str, memory: bool) -> None:
    # doe init/import/clone and doe backup refuse these: what they write would vanish with the process
    assert is_in_memory(url) is memory
