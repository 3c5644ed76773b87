"""The SQL campaign store: SQLite (file or in-memory) and PostgreSQL through SQLAlchemy 2.

:class:`SqlStore` implements :class:`doe.storage.base.CampaignStore`. Every public method
runs in one database transaction; a write either lands completely or not at all.

Concurrency:

* SQLite runs in WAL mode (readers never block the writer); a change waits 30 s for the lock.
  Write transactions start with ``BEGIN IMMEDIATE``, so two writers queue for the lock at
  the start instead of deadlocking when both try to upgrade a read lock.
* PostgreSQL writers of one campaign queue on ``SELECT ... FOR UPDATE`` of the campaign row;
  a transaction that still fails with a serialization failure or deadlock is retried.

Opening a store applies the Alembic migrations in :mod:`doe.storage.migrations` when one is
due (under ``BEGIN IMMEDIATE`` on SQLite and ``pg_advisory_xact_lock`` on PostgreSQL, so
processes that open a new database together do not collide); a current one opens with a plain read. Engines are cached per URL in the process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from doe.domain.config import CampaignConfig, ConfigVersion
from doe.domain.model_states import ModelState
from doe.domain.parameters import composed
from doe.domain.records import (
    CellFailure,
    EvidenceFile,
    NewExperiment,
    NewMeasurement,
    StatusChange,
    WriteReport,
)
from doe.domain.replicates import n_column, sd_column, summarise
from doe.domain.table import EVIDENCE_COLUMN
from doe.errors import ConcurrentChangeError, DoeError, StorageError, StoreUnavailableError
from doe.storage import schema as s
from doe.storage.cells import read_cell_failures
from doe.storage.checked import check_write
from doe.storage.engine import (
    RETRIES,
    EngineEntry,
    check_schema_version,
    close_all,
    connect_hint,
    driver_message,
    forget_engine,
    head_revision,
    lock_held_message,
    mask_url,
    open_engine,
    retry_deadline,
    retry_pause,
    should_retry,
)
from doe.storage.history_rows import closing_columns
from doe.storage.model_states import CampaignModelMemory, read_states, upsert_states
from doe.storage.rows import (
    audit_row,
    bump_revision,
    campaign_row,
    check_name_free,
    delete_campaign_rows,
    find_campaign,
    new_state_token,
    stale_edit,
    stored_configs,
)
from doe.storage.snapshot import CampaignState, stored_state
from doe.storage.stored_kinds import check_new_version, parameter_number, summarised
from doe.storage.transfer import (
    EXPORT_FORMAT,
    EXPORT_FORMAT_VERSION,
    ImportPlan,
    check_import,
    export_rows,
    insert_import,
)
from doe.storage.values import (
    MAX_ACTOR,
    check_label,
    parse_config,
    stored_json,
    stored_number,
    utc_now,
)
from doe.storage.write import write_records

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqlStore:
    """A campaign store in an SQL database (see :mod:`doe.storage.base` for the contract).

    Build it with :meth:`open`. ``url`` is the database URL as opened; ``schema_version`` the
    Alembic revision of its schema.
    """

    def __init__(self, entry: EngineEntry) -> None:
        self._entry = entry
        self.engine: Engine = entry.engine
        self.url: str = entry.url
        self.schema_version: str = entry.schema_version or ""

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, url: str | None = None) -> SqlStore:
        """Open (and create or migrate) the database at ``url``.

        Args:
            url: ``None`` for the default SQLite file (:func:`doe.paths.default_database_url`),
                ``":memory:"`` for a private in-memory database, a plain path for an SQLite
                file, or an SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``).

        Raises:
            StorageError: the URL is malformed, the server cannot be reached or the schema is
                newer than this package.
        """
        return cls(open_engine(url))

    def close(self) -> None:
        """Dispose the engine's connections and forget it; a later open starts afresh."""
        forget_engine(self._entry)

    def __repr__(self) -> str:
        return f"SqlStore({mask_url(self.url)!r}, schema_version={self.schema_version!r})"

    # ------------------------------------------------------------------ transactions
    def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction; retry on lock timeouts, deadlocks, serialization."""
        masked, deadline = mask_url(self.url), retry_deadline(self.engine.dialect.name)
        for attempt in range(RETRIES):
            try:
                with self._entry.lock, self.engine.connect() as conn:
                    if write:
                        conn.execution_options(doe_write=True)
                    elif conn.dialect.name == "postgresql":
                        # one snapshot for all the SELECTs of a read (SQLite's WAL gives that too)
                        conn.execution_options(isolation_level="REPEATABLE READ")
                    with conn.begin():
                        if write:  # one small query: the tables are the ones this doe knows
                            check_schema_version(conn, self.url, self._entry.schema_version)
                        return fn(conn)
            except DoeError:
                raise
            except DBAPIError as err:
                if should_retry(err, attempt, deadline):  # a lock waited for in full is not waited for again
                    log.info("database %s busy (%s); retrying", masked, type(err.orig).__name__)
                    retry_pause(attempt)
                    continue
                if (held := lock_held_message(err)) is not None:
                    raise StoreUnavailableError(f"database {masked!r}: {held}") from err
                first_line = driver_message(err, self.url)
                kind = StoreUnavailableError if isinstance(err, OperationalError | InterfaceError) else StorageError
                raise kind(f"database {masked!r}: {first_line}; {connect_hint(self.engine.dialect.name)}") from err
        raise AssertionError("unreachable")

    def _campaign(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        return campaign_row(conn, name, self.url, lock=lock)

    # ------------------------------------------------------------------ campaigns
    def create_campaign(self, config: CampaignConfig, actor: str) -> None:
        if not isinstance(config, CampaignConfig):
            raise StorageError(f"create_campaign needs a CampaignConfig, got {type(config).__name__}")
        check_label(actor, "actor", max_len=MAX_ACTOR)
        name = config.name
        yaml_text = config.to_yaml()

        def _create(conn: Connection) -> None:
            _check_sources(conn, config.learn_from)
            check_name_free(conn, name, self.url, "choose another name or open the existing campaign")
            now = utc_now()
            cid = conn.execute(
                sa.insert(s.campaigns).values(
                    name=name, created_at=now, created_by=actor, updated_at=now, archived=False,
                    revision=1, state_token=new_state_token(), experiment_counter=0,
                ).returning(s.campaigns.c.id)
            ).scalar_one()
            conn.execute(sa.insert(s.config_versions).values(
                campaign_id=cid, version=1, config_yaml=yaml_text, created_at=now, created_by=actor))
            conn.execute(sa.insert(s.audit_log).values(
                audit_row(cid, now, actor, "campaign_created", None, {"config_version": 1})))

        try:
            self._run(_create, write=True)
        except StorageError as err:
            if isinstance(err.__cause__, IntegrityError):  # another process created it meanwhile
                raise StorageError(f"a campaign named {name!r} exists already in {mask_url(self.url)!r}") from err
            raise
        log.info("campaign %r created in %s by %s", name, mask_url(self.url), actor)

    def list_campaigns(self, include_archived: bool = False) -> pd.DataFrame:
        c, cv, e = s.campaigns, s.config_versions, s.experiments
        latest = sa.select(sa.func.max(cv.c.version)).where(cv.c.campaign_id == c.c.id).scalar_subquery()
        count = sa.select(sa.func.count(e.c.id)).where(e.c.campaign_id == c.c.id).scalar_subquery()
        query = sa.select(
            c.c.name, c.c.created_at, c.c.created_by, c.c.archived,
            latest.label("config_version"), count.label("n_experiments"), c.c.updated_at,
        ).order_by(c.c.id)
        if not include_archived:
            query = query.where(c.c.archived == sa.false())
        rows = self._run(lambda conn: conn.execute(query).all(), write=False)
        columns = ["name", "created_at", "created_by", "archived", "config_version", "n_experiments", "updated_at"]
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["archived"] = frame["archived"].astype(bool)
        frame["config_version"] = frame["config_version"].astype("int64")
        frame["n_experiments"] = frame["n_experiments"].astype("int64")
        for col in ("created_at", "updated_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def load_config(self, name: str, version: int | None = None) -> tuple[CampaignConfig, int]:
        cv = s.config_versions

        def _load(conn: Connection) -> tuple[str, int]:
            camp = self._campaign(conn, name)
            query = sa.select(cv.c.config_yaml, cv.c.version).where(cv.c.campaign_id == camp.id)
            if version is None:
                row = conn.execute(query.order_by(cv.c.version.desc()).limit(1)).first()
            else:
                row = conn.execute(query.where(cv.c.version == version)).first()
            if row is None:
                versions = list(conn.execute(
                    sa.select(cv.c.version).where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).scalars())
                raise StorageError(f"campaign {name!r} has no configuration version {version!r}; versions: {versions}")
            return row.config_yaml, int(row.version)

        text, number = self._run(_load, write=False)
        return parse_config(text), number

    def config_versions(self, name: str) -> pd.DataFrame:
        cv = s.config_versions

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            return list(conn.execute(
                sa.select(cv.c.version, cv.c.created_at, cv.c.created_by, cv.c.config_yaml)
                .where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).all())

        rows = self._run(_read, write=False)
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["version", "created_at", "created_by", "config"])
        frame["version"] = frame["version"].astype("int64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def add_config_version(self, name: str, config: CampaignConfig, actor: str,
                           based_on: int | ConfigVersion | None = None) -> int:
        if not isinstance(config, CampaignConfig):
            raise StorageError(f"add_config_version needs a CampaignConfig, got {type(config).__name__}")
        check_label(actor, "actor", max_len=MAX_ACTOR)
        if composed(config.name) != composed(name):
            raise StorageError(
                f"the configuration is named {config.name!r} but the campaign is {name!r}; "
                "a campaign cannot be renamed by a new configuration version"
            )
        yaml_text = config.to_yaml()
        cv = s.config_versions

        def _add(conn: Connection) -> int:
            camp = campaign_row(conn, name, self.url, lock=True, to_change=True)
            _check_sources(conn, config.learn_from)
            latest = conn.execute(
                sa.select(cv.c.version, cv.c.config_yaml).where(cv.c.campaign_id == camp.id)
                .order_by(cv.c.version.desc()).limit(1)).one()
            if latest.config_yaml == yaml_text:
                return int(latest.version)
            if based_on is not None and (stale := stale_edit(conn, camp.id, name, int(latest.version), based_on)):
                raise ConcurrentChangeError(stale)
            check_new_version(conn, camp.id, name, config)
            number = int(latest.version) + 1
            now = utc_now()
            conn.execute(sa.insert(cv).values(
                campaign_id=camp.id, version=number, config_yaml=yaml_text, created_at=now, created_by=actor))
            conn.execute(sa.insert(s.audit_log).values(
                audit_row(camp.id, now, actor, "config_version_added", None, {"version": number})))
            bump_revision(conn, camp.id, now)
            return number

        number = self._run(_add, write=True)
        log.info("campaign %r: configuration version %d by %s", name, number, actor)
        return number

    def set_archived(self, name: str, archived: bool, actor: str) -> None:
        check_label(actor, "actor", max_len=MAX_ACTOR)
        archived = bool(archived)

        def _set(conn: Connection) -> None:
            camp = self._campaign(conn, name, lock=True)
            if bool(camp.archived) == archived:
                return
            now = utc_now()
            conn.execute(sa.insert(s.audit_log).values(
                audit_row(camp.id, now, actor, "archived" if archived else "unarchived")))
            bump_revision(conn, camp.id, now, archived=archived)

        self._run(_set, write=True)

    def revision(self, name: str) -> int:
        return self.state(name).revision

    def state(self, name: str) -> CampaignState:
        return stored_state(self._run(lambda conn: self._campaign(conn, name), write=False))

    def discard_campaign(self, name: str, revision: int) -> None:
        def _discard(conn: Connection) -> None:
            camp = self._campaign(conn, name, lock=True)
            if camp.revision != revision:
                raise ConcurrentChangeError(
                    f"campaign {name!r} was not discarded: it changed meanwhile (revision {camp.revision}, "
                    f"expected {revision})")
            delete_campaign_rows(conn, camp.id)

        self._run(_discard, write=True)
        log.info("campaign %r discarded from %s", name, mask_url(self.url))

    # ------------------------------------------------------------------ writing
    def write(self, name: str, *, actor: str, new_experiments: Sequence[NewExperiment] = (),
              status_changes: Sequence[StatusChange] = (), measurements: Sequence[NewMeasurement] = (),
              allow_corrections: bool = False, results: bool = False, audit_action: str | None = None,
              files: Sequence[EvidenceFile] = (), expect_state: CampaignState | None = None,
              cell_failures: Sequence[CellFailure] = ()) -> WriteReport:
        """Apply new experiments, measurements, status changes and failed cells in one transaction.

        See :meth:`doe.storage.base.CampaignStore.write`. Ids ``E0001``, ``E0002``, ... are
        assigned from the campaign's counter to new experiments without one (ids taken, e.g.
        by imported experiments, are skipped). A measurement or status change may name the
        k-th (0-based) experiment of ``new_experiments`` as ``NewExperimentRef(k)`` before it
        has an id; a text id is always an experiment id (even ``"#1"``).

        Raises:
            ConflictError: a measurement differs from the recorded value (every conflict is
                listed) and ``allow_corrections`` is False; a failed cell conflicts with what is
                recorded (:mod:`doe.storage.cells`).
            ConcurrentChangeError: ``expect_state`` is given and the campaign's stored state
                (revision and token) is another one (checked under the campaign's write lock).
            StorageError: unknown experiment ids, an id that exists, a refused status change.
            DataError: NaN, infinity or non-numeric values.
        """
        checked = check_write(actor=actor, new_experiments=new_experiments, status_changes=status_changes,
                              measurements=measurements, audit_action=audit_action, files=files,
                              expect_state=expect_state, cell_failures=cell_failures)
        return self._run(
            lambda conn: write_records(conn, self.url, name, checked, allow_corrections=allow_corrections,
                                       results=results),
            write=True,
        )

    # ------------------------------------------------------------------ reading
    def experiments(self, name: str) -> pd.DataFrame:
        e, m = s.experiments, s.measurements

        def _read(conn: Connection) -> tuple[list[tuple[int, CampaignConfig]], list[Any], list[Any], list[Any]]:
            camp = self._campaign(conn, name)
            configs = stored_configs(conn, camp.id)
            exp_rows = list(conn.execute(sa.select(e).where(e.c.campaign_id == camp.id).order_by(e.c.id)))
            f = s.evidence_files
            meas_rows = list(conn.execute(
                sa.select(e.c.experiment_id, m.c.outcome, m.c.value, f.c.file_name, f.c.sha256)
                .join(e, e.c.id == m.c.experiment_pk).outerjoin(f, f.c.id == m.c.file_id)
                # curve points (cycle >= 1) are summarised by doe.domain.curves, not averaged here
                .where(e.c.campaign_id == camp.id, m.c.superseded == sa.false(), m.c.cycle == 0)
                .order_by(m.c.id)))
            curve_files = list(conn.execute(  # a file that gave only curve points is evidence too
                sa.select(e.c.experiment_id, f.c.file_name, f.c.sha256).distinct().select_from(m)
                .join(e, e.c.id == m.c.experiment_pk).join(f, f.c.id == m.c.file_id)
                .where(e.c.campaign_id == camp.id, m.c.superseded == sa.false(), m.c.cycle > 0)
                .order_by(e.c.experiment_id, f.c.file_name)))
            return configs, exp_rows, meas_rows, curve_files

        configs, exp_rows, meas_rows, curve_files = self._run(_read, write=False)
        categorical: dict[str, bool] = {}
        for _, cfg in reversed(configs):
            for p in cfg.parameters:
                categorical.setdefault(p.name, p.type == "categorical")
        parameters = [stored_json(r.parameters, name, r.experiment_id, "parameters") for r in exp_rows]
        for params in parameters:
            for key, value in params.items():
                if key not in categorical:
                    categorical[key] = isinstance(value, str)
        outcomes = list(configs[-1][1].outcome_names)
        values: dict[tuple[str, str], list[float]] = {}
        evidence: dict[str, dict[str, None]] = {}  # experiment -> its files, in order
        for r in [*meas_rows, *curve_files]:
            if r.sha256 is not None:
                evidence.setdefault(r.experiment_id, {})[f"{r.file_name} (sha256 {r.sha256[:12]})"] = None
        for r in meas_rows:
            if r.outcome not in outcomes:
                outcomes.append(r.outcome)
            values.setdefault((r.experiment_id, r.outcome), []).append(
                stored_number(r.value, name, r.experiment_id, r.outcome))
        summary = {key: summarise(cells) for key, cells in values.items()}
        replicated = any(n > 1 for _, _, n in summary.values())
        empty = (math.nan, math.nan, 0)

        data: dict[str, Any] = {
            "experiment_id": pd.Series([r.experiment_id for r in exp_rows], dtype=object),
            "status": pd.Series([r.status for r in exp_rows], dtype=object),
            "batch_id": pd.Series([r.batch_id for r in exp_rows], dtype=object),
            "config_version": pd.Series([r.config_version for r in exp_rows], dtype="int64"),
            "source": pd.Series([r.source for r in exp_rows], dtype=object),
        }
        for pname, is_cat in categorical.items():
            column = [params.get(pname) for params in parameters]
            if is_cat:
                data[pname] = pd.Series([None if v is None else str(v) for v in column], dtype=object)
            else:
                data[pname] = pd.Series([parameter_number(v, name, r.experiment_id, pname, configs)
                                         for v, r in zip(column, exp_rows, strict=True)], dtype=float)
        for outcome in outcomes:  # the mean of the experiment's cells
            data[outcome] = pd.Series([summary.get((r.experiment_id, outcome), empty)[0] for r in exp_rows],
                                      dtype=float)
        if replicated:  # see doe.domain.replicates: only campaigns with replicates get these
            for outcome in summarised(outcomes, [*categorical, *outcomes]):  # names an older doe let them take
                cells = [summary.get((r.experiment_id, outcome), empty) for r in exp_rows]
                data[sd_column(outcome)] = pd.Series([c[1] for c in cells], dtype=float)
                data[n_column(outcome)] = pd.Series([c[2] for c in cells], dtype="int64")
        if evidence:  # only campaigns with stored instrument files get this column
            data[EVIDENCE_COLUMN] = pd.Series(["; ".join(evidence[r.experiment_id]) if r.experiment_id in evidence
                                               else None for r in exp_rows], dtype=object)
        data.update(closing_columns(exp_rows, name))
        return pd.DataFrame(data)

    def measurements(self, name: str, include_superseded: bool = False) -> pd.DataFrame:
        e, m, f = s.experiments, s.measurements, s.evidence_files

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            query = (sa.select(e.c.experiment_id, m.c.outcome, m.c.replicate, m.c.cycle, m.c.value, m.c.unit,
                               m.c.measured_at,
                               m.c.recorded_by, m.c.recorded_at, m.c.operator, m.c.sample_id, m.c.note,
                               m.c.superseded, f.c.file_name, f.c.sha256)
                     .join(e, e.c.id == m.c.experiment_pk).outerjoin(f, f.c.id == m.c.file_id)
                     .where(e.c.campaign_id == camp.id).order_by(m.c.id))
            if not include_superseded:
                query = query.where(m.c.superseded == sa.false())
            return list(conn.execute(query))

        rows = self._run(_read, write=False)
        columns = ["experiment_id", "outcome", "replicate", "cycle", "value", "unit", "measured_at", "recorded_by",
                   "recorded_at", "operator", "sample_id", "note", "superseded", "file_name", "file_sha256"]
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["replicate"] = frame["replicate"].map(lambda label: label or None).astype(object)
        # the cycle of a curve point; <NA> for a value that is not one (stored as 0)
        frame["cycle"] = pd.Series([int(r.cycle) or None for r in rows], dtype="Int64")
        frame["value"] = pd.Series([stored_number(r.value, name, r.experiment_id, r.outcome) for r in rows],
                                   dtype=float)
        frame["superseded"] = frame["superseded"].astype(bool)
        for col in ("measured_at", "recorded_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def cell_failures(self, name: str) -> pd.DataFrame:
        frame = self._run(lambda conn: read_cell_failures(conn, self._campaign(conn, name).id), write=False)
        for col in ("measured_at", "recorded_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def files(self, name: str) -> pd.DataFrame:
        f, e, m = s.evidence_files, s.experiments, s.measurements

        def _read(conn: Connection) -> tuple[list[Any], list[Any]]:
            camp = self._campaign(conn, name)
            rows = list(conn.execute(
                sa.select(f.c.id, f.c.sha256, f.c.file_name, f.c.size_bytes, f.c.kind, f.c.file_format, f.c.parser,
                          f.c.rule, f.c.uploaded_by, f.c.uploaded_at).where(f.c.campaign_id == camp.id)
                .order_by(f.c.id)))
            links = list(conn.execute(
                sa.select(m.c.file_id, e.c.experiment_id).join(e, e.c.id == m.c.experiment_pk)
                .where(e.c.campaign_id == camp.id, m.c.file_id.is_not(None)).distinct()))
            return rows, links

        rows, links = self._run(_read, write=False)
        experiments: dict[int, set[str]] = {}
        for link in links:
            experiments.setdefault(link.file_id, set()).add(link.experiment_id)
        frame = pd.DataFrame({
            "sha256": pd.Series([r.sha256 for r in rows], dtype=object),
            "file_name": pd.Series([r.file_name for r in rows], dtype=object),
            "size_bytes": pd.Series([r.size_bytes for r in rows], dtype="int64"),
            "kind": pd.Series([r.kind for r in rows], dtype=object),
            "file_format": pd.Series([r.file_format for r in rows], dtype=object),
            "parser": pd.Series([r.parser for r in rows], dtype=object),
            "rule": pd.Series([stored_json(r.rule, name, r.file_name, "rule") for r in rows], dtype=object),
            "experiment_ids": pd.Series([", ".join(sorted(experiments.get(r.id, ()))) for r in rows], dtype=object),
            "uploaded_by": pd.Series([r.uploaded_by for r in rows], dtype=object),
            "uploaded_at": pd.to_datetime(pd.Series([r.uploaded_at for r in rows], dtype=object), utc=True),
        })
        return frame

    def file_content(self, name: str, sha256: str) -> tuple[str, bytes]:
        f = s.evidence_files
        check_label(sha256, "sha256")

        def _read(conn: Connection) -> Any:
            camp = self._campaign(conn, name)
            return conn.execute(sa.select(f.c.file_name, f.c.content)
                                .where(f.c.campaign_id == camp.id, f.c.sha256 == sha256)).first()

        row = self._run(_read, write=False)
        if row is None:
            raise StorageError(f"campaign {name!r} has no stored file with SHA-256 {sha256!r}")
        return str(row.file_name), bytes(row.content)

    def audit(self, name: str) -> pd.DataFrame:
        a = s.audit_log

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            return list(conn.execute(sa.select(a.c.at, a.c.actor, a.c.action, a.c.experiment_id, a.c.detail)
                                     .where(a.c.campaign_id == camp.id).order_by(a.c.id)))

        rows = self._run(_read, write=False)
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["at", "actor", "action", "experiment_id", "detail"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    # ------------------------------------------------------------------ model states
    def model_states(self, name: str) -> list[ModelState]:
        """The campaign's stored GP hyperparameters (:mod:`doe.storage.model_states`)."""
        return self._run(lambda conn: read_states(conn, self._campaign(conn, name).id), write=False)

    def save_model_states(self, name: str, states: Sequence[ModelState], data_revision: int) -> None:
        """Insert or replace these outcomes' states in a transaction of their own (the campaign's
        revision and audit log stay as they are)."""
        self._run(lambda conn: upsert_states(conn, self._campaign(conn, name).id, states, data_revision),
                  write=True)

    def model_memory(self, name: str, data_revision: int) -> CampaignModelMemory:
        """The campaign's model states for the engine (never raises on reading or writing)."""
        return CampaignModelMemory(self, name, data_revision)

    # ------------------------------------------------------------------ export / import
    def export_campaign(self, name: str) -> dict[str, Any]:
        """The whole campaign as JSON-ready data (``format``/``format_version`` tagged).

        Measurements are listed oldest first; ``superseded_by`` is the position (0-based) of
        the measurement that replaced a corrected value.
        """
        return self._run(lambda conn: export_rows(conn, self._campaign(conn, name), self.schema_version),
                         write=False)

    def import_campaign(self, data: dict[str, Any], actor: str, new_name: str | None = None) -> str:
        """Recreate an exported campaign (under ``new_name`` if given) in one transaction.

        Everything is restored as exported (ids, statuses, provenance, times, measurement
        history, audit log); one ``campaign_imported`` audit entry is appended.

        Raises:
            StorageError: the data is not a doe export, is from a newer format, is
                inconsistent, or the name is taken.
        """
        check_label(actor, "actor", max_len=MAX_ACTOR)
        plan = check_import(data, new_name)
        try:
            self._run(lambda conn: _insert_import(conn, plan, self.url, actor), write=True)
        except StorageError as err:
            if isinstance(err.__cause__, IntegrityError):
                raise StorageError(
                    f"the import of campaign {plan.name!r} is inconsistent or the name is taken: {err}") from err
            raise
        log.info("campaign %r imported (%d experiments, %d measurements) by %s",
                 plan.name, len(plan.experiments), len(plan.measurements), actor)
        return plan.name


def _insert_import(conn: Connection, plan: ImportPlan, url: str, actor: str) -> None:
    _check_sources(conn, plan.learn_from)  # (else every suggest() after the first result fails, far from the cause)
    insert_import(conn, plan, url, actor)


def _check_sources(conn: Connection, learn_from: tuple[str, ...]) -> None:
    """Every ``learn_from`` campaign of a configuration exists in this database."""
    if not learn_from:
        return
    missing = [n for n in learn_from if find_campaign(conn, n) is None]  # in any Unicode spelling
    if missing:
        raise StorageError(f"learn_from: no campaign named {', '.join(map(repr, missing))} in this database; "
                           "name campaigns that exist (doe list), or bring them in first (doe export, doe import)")


__all__ = ["EXPORT_FORMAT", "EXPORT_FORMAT_VERSION", "SqlStore", "close_all", "head_revision", "mask_url"]
