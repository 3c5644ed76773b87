"""Evidence files: raw instrument files kept with the campaign, linked from measurements.

A new table ``evidence_files`` holds each raw file once per campaign (unique SHA-256) with
the parser and the rule's inputs; ``measurements.file_id`` links a value to the file it was
computed from. Existing measurements get no link (NULL: typed in or imported from a table),
so nothing changes for old campaigns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_format", sa.String(64), nullable=False),
        sa.Column("parser", sa.String(200), nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_files"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name="fk_evidence_files_campaign_id_campaigns"),
        sa.UniqueConstraint("campaign_id", "sha256", name="uq_evidence_files_campaign_id_sha256"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A nullable column with an inline REFERENCES clause: SQLite adds it in place (no table
        # copy, so the partial unique index of current values stays as it is); Alembic's
        # add_column would need batch mode (a table copy) for the constraint.
        op.execute("ALTER TABLE measurements ADD COLUMN file_id INTEGER "
                   "CONSTRAINT fk_measurements_file_id_evidence_files REFERENCES evidence_files (id)")
    else:
        op.add_column("measurements", sa.Column("file_id", sa.Integer, nullable=True))
        op.create_foreign_key("fk_measurements_file_id_evidence_files", "measurements", "evidence_files",
                              ["file_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column with a constraint only by copying the table; the partial
        # unique index is made again after the copy.
        op.drop_index("uq_measurements_current", table_name="measurements")
        with op.batch_alter_table("measurements") as batch:
            batch.drop_column("file_id")
        op.create_index("uq_measurements_current", "measurements", ["experiment_pk", "outcome", "replicate"],
                        unique=True, sqlite_where=sa.text("superseded = 0"))
    else:
        op.drop_constraint("fk_measurements_file_id_evidence_files", "measurements", type_="foreignkey")
        op.drop_column("measurements", "file_id")
    op.drop_table("evidence_files")
