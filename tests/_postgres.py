"""A throwaway PostgreSQL cluster for tests and benchmarks (no doe imports).

``DOE_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://doe:doe@127.0.0.1:5432/doe``) points
at an existing server instead; its user needs the right to create databases.

Otherwise :class:`ThrowawayPostgres` runs ``initdb`` into a fresh temporary folder, starts the
server on a free local port (fsync off: the data is disposable) and deletes everything on
:meth:`stop`. When running as root the server runs as the ``postgres`` user, as PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

ENV_URL = "DOE_TEST_POSTGRES_URL"
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_bin(name: str) -> str | None:
    for folder in _BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started or reached."""


class ThrowawayPostgres:
    """A PostgreSQL 15 cluster in a temporary folder, deleted on :meth:`stop`."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.port = 0
        self._as_postgres = os.geteuid() == 0

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        if self._as_postgres:
            args = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(args)]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> str:
        """Start the cluster; return the admin URL (user ``postgres``, database ``postgres``)."""
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; install PostgreSQL 15 "
                "(apt-get install -y postgresql) or set DOE_TEST_POSTGRES_URL"
            )
        self.root = Path(tempfile.mkdtemp(prefix="doe-pg-"))
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        done = self._run([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        if done.returncode != 0:
            self.stop()
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        self.port = _free_port()
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        done = self._run([pg_ctl, "-D", str(data), "-l", str(self.root / "pg.log"), "-w", "-t", "60",
                          "-o", options, "start"])
        if done.returncode != 0:
            log = (self.root / "pg.log").read_text(errors="replace") if (self.root / "pg.log").exists() else ""
            self.stop()
            raise PostgresUnavailable(f"pg_ctl start failed: {done.stderr.strip()} {log[-2000:]}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.root is None:
            return
        pg_ctl = _pg_bin("pg_ctl")
        if pg_ctl and (self.root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._run([pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"], timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def _admin_connect(admin_url: str):  # type: ignore[no-untyped-def]
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(plain, autocommit=True, connect_timeout=10)


def create_database(admin_url: str, prefix: str = "doe_test") -> str:
    """Create a fresh, uniquely named database; return its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin_connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = admin_url.rpartition("/")
    return f"{head}/{name}"


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of ``url`` (closing its connections), connected as ``admin_url``.

    ``WITH (FORCE)`` ends the database's sessions, but a role without ``pg_signal_backend`` may
    not end an autovacuum worker busy on it (InsufficientPrivilege); a plain ``DROP DATABASE``
    then does, as PostgreSQL stops autovacuum workers of a database it drops (waiting up to
    5 s for them)."""
    import psycopg

    name = url.rpartition("/")[2].split("?")[0]
    with _admin_connect(admin_url) as conn:
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.errors.InsufficientPrivilege:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@contextlib.contextmanager
def postgres_server():  # type: ignore[no-untyped-def]
    """Yield an admin URL: ``DOE_TEST_POSTGRES_URL`` if set, else a throwaway cluster."""
    url = os.environ.get(ENV_URL)
    if url:
        yield url
        return
    server = ThrowawayPostgres()
    admin = server.start()
    try:
        yield admin
    finally:
        server.stop()
