"""Initial schema: campaigns, config versions, experiments, measurements, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = "status IN ('proposed', 'running', 'completed', 'failed', 'abandoned')"
_SOURCE = "source IN ('doe', 'import', 'manual')"


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("archived", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("experiment_counter", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
    )
    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("config_yaml", sa.Text, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_config_versions"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name="fk_config_versions_campaign_id_campaigns"),
        sa.UniqueConstraint("campaign_id", "version", name="uq_config_versions_campaign_id_version"),
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("config_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=True),
        sa.Column("model_settings", sa.Text, nullable=False),
        sa.Column("package_version", sa.String(64), nullable=True),
        sa.Column("predictions", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name="fk_experiments_campaign_id_campaigns"),
        sa.UniqueConstraint("campaign_id", "experiment_id", name="uq_experiments_campaign_id_experiment_id"),
        sa.CheckConstraint(_STATUS, name="ck_experiments_status"),
        sa.CheckConstraint(_SOURCE, name="ck_experiments_source"),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment_pk", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("measured_at", _ts(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _ts(), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("superseded", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("superseded_by", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_measurements"),
        sa.ForeignKeyConstraint(["experiment_pk"], ["experiments.id"], ondelete="CASCADE",
                                name="fk_measurements_experiment_pk_experiments"),
        sa.ForeignKeyConstraint(["superseded_by"], ["measurements.id"],
                                name="fk_measurements_superseded_by_measurements"),
    )
    op.create_index("ix_measurements_experiment_pk", "measurements", ["experiment_pk"])
    op.create_index(
        "uq_measurements_current",
        "measurements",
        ["experiment_pk", "outcome"],
        unique=True,
        sqlite_where=sa.text("superseded = 0"),
        postgresql_where=sa.text("superseded = false"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name="fk_audit_log_campaign_id_campaigns"),
    )
    op.create_index("ix_audit_log_campaign_id", "audit_log", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("measurements")
    op.drop_table("experiments")
    op.drop_table("config_versions")
    op.drop_table("campaigns")
