"""The ``doe`` command: campaigns from the shell.

::

    doe init --template hfo2-ncm85 --name coating-2024
    doe suggest -n 3 --out runsheet.csv
    doe record results.csv
    doe status
    doe run --simulate --budget 30
    doe worker --db postgresql+psycopg://...   # computes suggestions queued on PostgreSQL

Every command takes ``--db URL`` (default: ``DOE_DATABASE_URL`` or the SQLite file in the
data folder), ``--actor NAME`` and ``-v``. Errors a user can cause are printed to stderr
without a traceback and end with a non-zero exit code.
"""

from __future__ import annotations

from doe.cli import admin, campaigns, run, serve, worker
from doe.cli.common import cli

COMMAND_MODULES = (campaigns, run, admin, serve, worker)
"""The modules whose commands register on :data:`cli` when imported."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``doe`` console script."""
    cli.main(args=argv, prog_name="doe")


__all__ = ["cli", "main"]
