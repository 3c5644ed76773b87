"""Curve outcomes: a ``cycle`` on every measurement.

An outcome declared ``over: cycle`` (e.g. capacity retention, ``at: 200``) is recorded as one
value per cycle, arriving over weeks. Each measurement row gets the cycle of its point; the
unique index of current values becomes (experiment, outcome, replicate, cycle).

Existing measurements get cycle 0 ("not a curve point"), so every stored value stays the
one current value of its experiment, outcome and cell and nothing changes for old
campaigns. 0 rather than NULL keeps the unique index meaningful (databases treat NULLs in a
unique index as distinct), as the empty replicate label does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _current_index(columns: list[str]) -> None:
    op.create_index(
        "uq_measurements_current",
        "measurements",
        columns,
        unique=True,
        sqlite_where=sa.text("superseded = 0"),
        postgresql_where=sa.text("superseded = false"),
    )


def upgrade() -> None:
    # SQLite adds a NOT NULL column with a default in place (no table copy).
    op.add_column("measurements", sa.Column("cycle", sa.Integer, nullable=False, server_default="0"))
    op.drop_index("uq_measurements_current", table_name="measurements")
    _current_index(["experiment_pk", "outcome", "replicate", "cycle"])


def downgrade() -> None:
    # Only possible while no experiment has two current values of one outcome and cell.
    op.drop_index("uq_measurements_current", table_name="measurements")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column only by copying the table (file_id's constraint); the
        # partial unique index is made again after the copy.
        with op.batch_alter_table("measurements") as batch:
            batch.drop_column("cycle")
    else:
        op.drop_column("measurements", "cycle")
    _current_index(["experiment_pk", "outcome", "replicate"])
