"""Replicate cells: a ``replicate`` label on every measurement.

One experiment (one coated powder) may be measured in several cells. Each measurement row
gets the cell's label; the unique index of current values becomes (experiment, outcome,
replicate).

Existing measurements get the empty label ``''`` ("one cell, no label"), which is what a
table without a ``replicate`` column records today, so every stored value stays the one
current value of its experiment and outcome and nothing else changes for old campaigns.
The empty text (not NULL) keeps the unique index meaningful: databases treat NULLs in a
unique index as distinct.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
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
    # SQLite can add a NOT NULL column with a default in place (no table copy).
    op.add_column("measurements", sa.Column("replicate", sa.String(32), nullable=False, server_default=""))
    op.drop_index("uq_measurements_current", table_name="measurements")
    _current_index(["experiment_pk", "outcome", "replicate"])


def downgrade() -> None:
    # Only possible while no experiment has two current values of one outcome.
    op.drop_index("uq_measurements_current", table_name="measurements")
    _current_index(["experiment_pk", "outcome"])
    with op.batch_alter_table("measurements") as batch:
        batch.drop_column("replicate")
