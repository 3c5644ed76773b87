"""The database schema of the campaign store (SQLAlchemy Core tables).

Twelve tables::

    campaigns        one row per campaign: unique name, archived flag, a revision counter that
                     every write bumps, a random state token that every write (and the creation)
                     sets anew (with the revision, the cache key: one state, even after a restore
                     or a campaign made again under its name) and the counter behind experiment
                     ids E0001...
    config_versions  every version of a campaign's configuration, as YAML text
    experiments      one row per experiment: lifecycle status, parameters (JSON text),
                     provenance (proposed_by/at, seed, model settings, package version,
                     predictions at proposal time)
    measurements     one row per measured value of one cell (``replicate`` label, '' for an
                     experiment measured once without a label); a correction keeps the old
                     row with ``superseded`` set and a link to the row that replaced it
    evidence_files   raw instrument files (cycler exports, impedance spectra) kept as the
                     evidence behind measurements: content, SHA-256 (unique per campaign),
                     the parser and its version, the rule's inputs (JSON text)
    cell_failures    a replicate cell that gave no result, with its reason
    audit_log        who did what when in a campaign, one row per change (membership changes
                     included)
    users            built-in and single-sign-on accounts of the web app: name, role, Argon2
                     password hash (none for SSO accounts), e-mail, disabled flag and the
                     database's time of the latest disable
    memberships      which user is a member of which campaign (engineers plan and record there)
    account_audit    who changed which account or membership when, and what changed (old and
                     new role, the campaign; never a password or its hash), one row per change
    sign_in_failures password sign-ins refused lately, per user name typed (a digest of it):
                     how many since when, and until when that name's password sign-in is
                     refused (:mod:`doe.storage.sign_ins`)
    model_states     derived data: the latest fitted GP hyperparameters of each outcome of a
                     campaign (warm starts for a fresh process, :mod:`doe.engine.warm`); written
                     outside the revision counter and the audit log, not exported

JSON documents are stored as text (``json.dumps``) so that SQLite and PostgreSQL store the
same bytes and an export reproduces them exactly. Times are stored in UTC.

The migrations in :mod:`doe.storage.migrations` create exactly these tables; a test checks
that they agree (Alembic's ``compare_metadata`` finds no difference).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

STATUS_VALUES = ("proposed", "running", "completed", "failed", "abandoned")
SOURCE_VALUES = ("doe", "import", "manual")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC and given its zone back on reading. Naive datetimes given by callers are taken
    to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("archived", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("state_token", sa.String(32), nullable=False, server_default=""),  # doe writes a random one
    sa.Column("experiment_counter", sa.Integer, nullable=False),
    sa.UniqueConstraint("name"),
)

config_versions = sa.Table(
    "config_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("config_yaml", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("campaign_id", "version"),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("experiment_id", sa.String(64), nullable=False),
    sa.Column("config_version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("failure_note", sa.Text, nullable=True),
    sa.Column("failure_operator", sa.String(200), nullable=True),
    sa.Column("failure_sample_id", sa.String(64), nullable=True),
    sa.Column("failure_measured_at", UtcDateTime(), nullable=True),
    sa.Column("batch_id", sa.String(64), nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),
    sa.Column("proposed_by", sa.String(200), nullable=False),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("model_settings", sa.Text, nullable=False),
    sa.Column("package_version", sa.String(64), nullable=True),
    sa.Column("predictions", sa.Text, nullable=False),
    sa.UniqueConstraint("campaign_id", "experiment_id"),
    sa.CheckConstraint(_in("status", STATUS_VALUES), name="status"),
    sa.CheckConstraint(_in("source", SOURCE_VALUES), name="source"),
)

evidence_files = sa.Table(
    "evidence_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("file_format", sa.String(64), nullable=False),
    sa.Column("parser", sa.String(200), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.String(200), nullable=False),
    sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("campaign_id", "sha256"),
)

measurements = sa.Table(
    "measurements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_pk", sa.Integer, sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    sa.Column("outcome", sa.String(64), nullable=False),
    # The cell of a replicated experiment ("A", "B", "1", ...); '' = no label (one cell).
    # Not NULL: unique indexes treat NULLs as distinct, and '' keeps one current value per
    # unlabelled (experiment, outcome) enforced by uq_measurements_current.
    sa.Column("replicate", sa.String(32), nullable=False, server_default=""),
    # The cycle of a curve outcome's point (``over: cycle``); 0 = not a curve point. Not NULL
    # for the same reason as replicate: it is part of uq_measurements_current.
    sa.Column("cycle", sa.Integer, nullable=False, server_default="0"),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("unit", sa.String(32), nullable=True),
    sa.Column("measured_at", UtcDateTime(), nullable=True),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("superseded", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("measurements.id"), nullable=True),
    # The raw file the value was computed from (None: typed in or imported from a table).
    sa.Column("file_id", sa.Integer, sa.ForeignKey("evidence_files.id"), nullable=True),
    # Who ran the cell and the sample or cell id written on it (None: not given).
    sa.Column("operator", sa.String(200), nullable=True),
    sa.Column("sample_id", sa.String(64), nullable=True),
    sa.Index("ix_measurements_experiment_pk", "experiment_pk"),
    # At most one current value per (experiment, outcome, replicate, cycle), even under concurrent writers.
    sa.Index(
        "uq_measurements_current",
        "experiment_pk",
        "outcome",
        "replicate",
        "cycle",
        unique=True,
        sqlite_where=sa.text("superseded = 0"),
        postgresql_where=sa.text("superseded = false"),
    ),
)

# A replicate cell that gave no result (a cracked pellet), of an experiment whose other cells
# may have measured it: one row per (experiment, replicate label); the label is never ''.
cell_failures = sa.Table(
    "cell_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_pk", sa.Integer, sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    sa.Column("replicate", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("operator", sa.String(200), nullable=True),
    sa.Column("sample_id", sa.String(64), nullable=True),
    sa.Column("measured_at", UtcDateTime(), nullable=True),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("experiment_pk", "replicate"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("experiment_id", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_audit_log_campaign_id", "campaign_id"),
)

model_states = sa.Table(
    "model_states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("outcome", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(64), nullable=False),
    sa.Column("theta", sa.Text, nullable=False),  # JSON list of numbers
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("data_revision", sa.Integer, nullable=False),
    sa.Column("fitted_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("campaign_id", "outcome"),
)

ROLE_VALUES = ("viewer", "engineer", "admin")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("disabled", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # the database's time of the latest disable (none: never disabled since schema 0014)
    sa.Column("disabled_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("username"),
    sa.UniqueConstraint("email"),
    sa.CheckConstraint(_in("role", ROLE_VALUES), name="role"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.Column("added_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("user_id", "campaign_id"),
)

# Names, not foreign keys: a row reads on its own, naming the account and the campaign as
# they were at the change.
account_audit = sa.Table(
    "account_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("campaign", sa.String(200), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),  # JSON object
    sa.Index("ix_account_audit_username", "username"),
)

# Keyed by a digest of the user name as typed, not by the account: a name without an account
# is counted and refused like one that has an account, so a refusal tells nobody which exist.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("name_key", sa.String(64), primary_key=True),  # SHA-256 (hex) of the typed user name
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_failed_at", UtcDateTime(), nullable=False),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
)

__all__ = [
    "ROLE_VALUES",
    "SOURCE_VALUES",
    "STATUS_VALUES",
    "UtcDateTime",
    "account_audit",
    "audit_log",
    "campaigns",
    "cell_failures",
    "config_versions",
    "evidence_files",
    "experiments",
    "measurements",
    "memberships",
    "metadata",
    "model_states",
    "sign_in_failures",
    "users",
]
