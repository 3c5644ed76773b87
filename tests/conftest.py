"""Fixtures shared by the whole test suite.

* Every test runs with ``DOE_HOME`` in a temporary folder (and no ``DOE_DATABASE_URL``), so
  nothing is written into the user's home.
* ``postgres_url`` (session): an admin URL of a PostgreSQL server: ``DOE_TEST_POSTGRES_URL``
  if set, else a throwaway PostgreSQL cluster started for the session and deleted after it.
  If neither is possible the tests that need it fail with the reason (never skip silently).
* ``store_url``: a fresh, empty database per test, once on SQLite (a file in ``tmp_path``)
  and once on PostgreSQL (a new database, dropped afterwards).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def _load_helper():  # type: ignore[no-untyped-def]
    """tests/_postgres.py, loaded by path (works whether or not tests/ is a package)."""
    name = "doe_tests_postgres"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _HERE / "_postgres.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pg = _load_helper()


@pytest.fixture(autouse=True)
def _doe_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test's data folder (and default database) out of the user's home."""
    home = tmp_path_factory.mktemp("doe_home")
    monkeypatch.setenv("DOE_HOME", str(home))
    monkeypatch.delenv("DOE_DATABASE_URL", raising=False)
    return home


@pytest.fixture(autouse=True)
def _doe_logger() -> Iterator[None]:
    """The "doe" logger as each test found it: the app's entry adds a handler on the stream
    stderr was when it ran (a capture file of an earlier test), which a later test's file size
    limit then broke with a logging error."""
    logger = logging.getLogger("doe")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture()
def cli_in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The ``doe`` command run in-process (click's runner) in ``tmp_path`` on a new SQLite file
    (``.url``), acting as ``cli-test``: ``call(*args, code=0)`` asserts the exit code and
    returns the result."""
    from click.testing import CliRunner

    from doe.cli import cli

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ACTOR", "cli-test")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def call(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    call.url = url  # type: ignore[attr-defined]
    return call


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Admin URL of a PostgreSQL server for this test session."""
    try:
        with pg.postgres_server() as url:
            yield url
    except pg.PostgresUnavailable as err:
        pytest.fail(
            f"PostgreSQL is needed for this test and could not be started: {err}. "
            f"Set {pg.ENV_URL}=postgresql+psycopg://user:password@host:port/db to use a running server.",
            pytrace=False,
        )


def _close_engines() -> None:
    module = sys.modules.get("doe.storage.sql")
    if module is not None:
        module.close_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs PostgreSQL ``postgres``, so ``-m "not postgres"`` leaves it out:
    the ``store_url[postgres]`` ones carry the mark from the fixture's param; this catches any
    test asking for ``postgres_url`` itself."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL, dropped afterwards."""
    url = pg.create_database(postgres_url)
    try:
        yield url
    finally:
        _close_engines()
        pg.drop_database(postgres_url, url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'doe.sqlite3'}"
        _close_engines()
        return
    yield request.getfixturevalue("postgres_database")


@pytest.fixture()
def doe_cmd(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``doe ...`` in a subprocess against a fresh SQLite file in ``tmp_path``."""
    env = dict(os.environ)
    env["DOE_HOME"] = str(tmp_path / "home")
    env["DOE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env["DOE_ACTOR"] = "cli-test"

    def call(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        if check:
            assert done.returncode == 0, f"doe {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    return call
