"""Failed experiments keep their context: ``failure_note``, ``failure_operator``,
``failure_sample_id`` and ``failure_measured_at``.

A row failing a whole experiment kept only its reason, so its note, who made the experiment,
its sample id and when it was found failed were lost (a failed replicate cell keeps them since
0011). Four nullable columns on ``experiments``; the failures stored before have none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("failure_note", "failure_operator", "failure_sample_id", "failure_measured_at")


def upgrade() -> None:
    # Added in place, not by copying the table (SQLite's batch mode), as 0010 and 0011 do: a
    # copy of ``experiments`` dropped and renamed would cascade-delete its measurements.
    op.add_column("experiments", sa.Column("failure_note", sa.Text, nullable=True))
    op.add_column("experiments", sa.Column("failure_operator", sa.String(200), nullable=True))
    op.add_column("experiments", sa.Column("failure_sample_id", sa.String(64), nullable=True))
    op.add_column("experiments", sa.Column("failure_measured_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_column("experiments", column)  # in place, as added (SQLite 3.35 and later)
