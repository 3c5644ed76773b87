"""The migrations build exactly the schema of doe.storage.schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from doe.errors import ConflictError, StorageError
from doe.storage import schema
from doe.storage.sql import SqlStore, close_all, head_revision


def _database_at(store_url: str, revision: str) -> tuple[sa.Engine, sa.MetaData]:
    """An engine on a database migrated only to the schema ``revision``, and its tables then."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    import doe.storage

    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(doe.storage.__file__).parent / "migrations"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    old = sa.MetaData()
    old.reflect(engine)
    return engine, old


def _campaign_at_revision_3(conn: sa.Connection, t: Any, config: Any, now: Any, experiments: int) -> int:
    """A campaign row (revision 3, a state token) with ``config`` as its version 1, in tables
    ``t`` of an older schema; its id."""
    cid = conn.execute(sa.insert(t["campaigns"]).values(
        name=config.name, created_at=now, created_by="lead", updated_at=now, archived=False, revision=3,
        state_token="a" * 32, experiment_counter=experiments).returning(t["campaigns"].c.id)).scalar_one()
    conn.execute(sa.insert(t["config_versions"]).values(
        campaign_id=cid, version=1, config_yaml=config.to_yaml(), created_at=now, created_by="lead"))
    return int(cid)


def test_migrated_database_matches_the_schema_module(store_url: str) -> None:
    store = SqlStore.open(store_url)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, schema.metadata)
    assert differences == []


def test_database_from_a_newer_doe_is_refused(store_url: str) -> None:
    store = SqlStore.open(store_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    close_all()
    with pytest.raises(StorageError, match=r"schema version '9999_future'.*upgrade doe"):
        SqlStore.open(store_url)


def test_utc_datetime_type_round_trips_zones() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    store = SqlStore.open(":memory:")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", schema.UtcDateTime()))
    cet = timezone(timedelta(hours=1))
    with store.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"at": datetime(2026, 1, 1, 12, 0, tzinfo=cet)},
                                      {"at": datetime(2026, 1, 1, 12, 0)}])
        values = conn.execute(sa.select(table.c.at)).scalars().all()
    assert values == [datetime(2026, 1, 1, 11, 0, tzinfo=UTC), datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]


def test_upgrade_from_the_accounts_schema_keeps_every_measurement(store_url: str) -> None:
    # a database made by doe at schema 0002 (before replicates), with a corrected value
    from datetime import UTC, datetime

    from doe import load_config
    from doe.domain.records import NewMeasurement

    engine, old = _database_at(store_url, "0002")
    assert "replicate" not in old.tables["measurements"].c
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    config = load_config("hfo2-ncm85")
    with engine.begin() as conn:
        t = old.tables
        cid = conn.execute(sa.insert(t["campaigns"]).values(
            name=config.name, created_at=now, created_by="lead", updated_at=now, archived=False, revision=3,
            experiment_counter=2).returning(t["campaigns"].c.id)).scalar_one()
        conn.execute(sa.insert(t["config_versions"]).values(
            campaign_id=cid, version=1, config_yaml=config.to_yaml(), created_at=now, created_by="lead"))
        pks = [conn.execute(sa.insert(t["experiments"]).values(
            campaign_id=cid, experiment_id=eid, config_version=1, status="completed", source="import",
            parameters=json.dumps(config.reference_recipe()), proposed_by="lead", proposed_at=now, updated_at=now,
            model_settings="{}", predictions="{}").returning(t["experiments"].c.id)).scalar_one()
            for eid in ("E0001", "E0002")]
        m = t["measurements"]
        rows = [(pks[0], "first_cycle_ce_pct", 89.0, True), (pks[0], "first_cycle_ce_pct", 90.5, False),
                (pks[0], "capacity_retention_pct", 71.0, False), (pks[1], "first_cycle_ce_pct", 86.0, False)]
        ids = [conn.execute(sa.insert(m).values(
            experiment_pk=pk, outcome=outcome, value=value, unit=None, measured_at=None, recorded_by="lead",
            recorded_at=now, note=None, superseded=superseded).returning(m.c.id)).scalar_one()
            for pk, outcome, value, superseded in rows]
        conn.execute(sa.update(m).where(m.c.id == ids[0]).values(superseded_by=ids[1]))
    engine.dispose()

    store = SqlStore.open(store_url)  # migrates to the head
    assert store.schema_version == head_revision()
    every = store.measurements(config.name, include_superseded=True)
    assert every["file_sha256"].isna().all()  # typed-in values link to no evidence file
    assert sorted(zip(every["experiment_id"], every["outcome"], every["value"], every["superseded"],
                      every["replicate"].isna(), strict=True)) == [
        ("E0001", "capacity_retention_pct", 71.0, False, True), ("E0001", "first_cycle_ce_pct", 89.0, True, True),
        ("E0001", "first_cycle_ce_pct", 90.5, False, True), ("E0002", "first_cycle_ce_pct", 86.0, False, True)]
    history = store.experiments(config.name).set_index("experiment_id")
    assert history["first_cycle_ce_pct"].to_dict() == {"E0001": 90.5, "E0002": 86.0}
    assert "first_cycle_ce_pct_n" not in history.columns
    # the old values are the unlabelled cells: the same value again is unchanged, and labelled
    # cells replace one only as a correction (the unlabelled cell may be one of them)
    report = store.write(config.name, actor="lead", measurements=[NewMeasurement("E0002", "first_cycle_ce_pct", 86.0)])
    assert report.measurements_unchanged == 1
    cells = [NewMeasurement("E0002", "first_cycle_ce_pct", v, replicate=k) for k, v in (("A", 86.0), ("B", 87.0))]
    with pytest.raises(ConflictError, match="recorded without a replicate label"):
        store.write(config.name, actor="lead", measurements=cells)
    report = store.write(config.name, actor="lead", measurements=cells, allow_corrections=True)
    assert (report.measurements_corrected, report.measurements_added) == (1, 1)
    assert store.experiments(config.name).set_index("experiment_id").loc["E0002", "first_cycle_ce_pct_n"] == 2


def test_upgrade_gives_every_campaign_its_own_state_token(store_url: str) -> None:
    """Campaigns of a database made before state tokens (schema 0009) each get one; a write then
    sets a new one and counts the revision as before."""
    from datetime import UTC, datetime

    from doe import load_config
    from doe.domain.records import NewExperiment

    engine, old = _database_at(store_url, "0009")
    assert "state_token" not in old.tables["campaigns"].c
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    config = load_config("hfo2-ncm85")
    with engine.begin() as conn:
        t = old.tables
        for name, revision in (("line-a", 4), ("line-b", 4)):
            cid = conn.execute(sa.insert(t["campaigns"]).values(
                name=name, created_at=now, created_by="lead", updated_at=now, archived=False, revision=revision,
                experiment_counter=0).returning(t["campaigns"].c.id)).scalar_one()
            conn.execute(sa.insert(t["config_versions"]).values(
                campaign_id=cid, version=1, config_yaml=config.replace(name=name).to_yaml(), created_at=now,
                created_by="lead"))
    engine.dispose()

    store = SqlStore.open(store_url)  # migrates to the head
    a, b = store.state("line-a"), store.state("line-b")
    assert (a.revision, b.revision) == (4, 4)
    assert len(a.token) == 32 and a.token != b.token
    store.write("line-a", actor="lead", new_experiments=[NewExperiment(dict(config.reference_recipe()), "proposed", 1)])
    after = store.state("line-a")
    assert after.revision == 5 and after.token not in (a.token, b.token)


def test_upgrade_keeps_failed_cells_and_gives_them_context_columns(store_url: str) -> None:
    """Failed cells of a database made before they kept their context (schema 0010) keep their
    reason and note, with no operator, sample id or date; a new failed cell stores all three."""
    from datetime import UTC, datetime

    from doe import load_config
    from doe.domain.records import CellFailure

    engine, old = _database_at(store_url, "0010")
    assert "sample_id" not in old.tables["cell_failures"].c
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    config = load_config("hfo2-ncm85")
    with engine.begin() as conn:
        t = old.tables
        cid = _campaign_at_revision_3(conn, t, config, now, experiments=1)
        pk = conn.execute(sa.insert(t["experiments"]).values(
            campaign_id=cid, experiment_id="E0001", config_version=1, status="completed", source="import",
            parameters=json.dumps(config.reference_recipe()), proposed_by="lead", proposed_at=now, updated_at=now,
            model_settings="{}", predictions="{}").returning(t["experiments"].c.id)).scalar_one()
        conn.execute(sa.insert(t["measurements"]).values(
            experiment_pk=pk, outcome="first_cycle_ce_pct", value=90.5, unit=None, measured_at=None,
            recorded_by="lead", recorded_at=now, note=None, superseded=False, replicate="A"))
        conn.execute(sa.insert(t["cell_failures"]).values(
            experiment_pk=pk, replicate="B", reason="cracked", note="edge chipped", recorded_by="lead",
            recorded_at=now))
    engine.dispose()

    store = SqlStore.open(store_url)  # migrates to the head
    assert store.schema_version == head_revision()
    kept = store.cell_failures(config.name)
    assert kept[["experiment_id", "replicate", "failure_reason", "note"]].values.tolist() == [
        ["E0001", "B", "cracked", "edge chipped"]]
    assert kept[["operator", "sample_id", "measured_at"]].isna().all().all()
    found = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    store.write(config.name, actor="lead", cell_failures=[
        CellFailure("E0001", "C", "short", note="swelled", operator="Ana", sample_id="P-17", measured_at=found)])
    new = store.cell_failures(config.name).set_index("replicate").loc["C"]
    assert (new["note"], new["operator"], new["sample_id"], new["measured_at"]) == ("swelled", "Ana", "P-17", found)


def test_upgrade_keeps_failed_experiments_and_gives_them_context_columns(store_url: str) -> None:
    """Experiments of a database made before a whole failure kept its context (schema 0011)
    keep their status, reason and measurements (the columns are added in place: a copy of the
    table would cascade-delete them), with no failure note, operator, sample id or date; a new
    failure stores all four."""
    from datetime import UTC, datetime

    from doe import load_config
    from doe.domain.records import StatusChange

    engine, old = _database_at(store_url, "0011")
    assert "failure_note" not in old.tables["experiments"].c
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    config = load_config("hfo2-ncm85")
    with engine.begin() as conn:
        t = old.tables
        cid = _campaign_at_revision_3(conn, t, config, now, experiments=2)
        pks = [conn.execute(sa.insert(t["experiments"]).values(
            campaign_id=cid, experiment_id=eid, config_version=1, status=status, failure_reason=reason,
            source="import", parameters=json.dumps(config.reference_recipe()), proposed_by="lead", proposed_at=now,
            updated_at=now, model_settings="{}", predictions="{}").returning(t["experiments"].c.id)).scalar_one()
            for eid, status, reason in (("E0001", "completed", None), ("E0002", "failed", "gelled"))]
        conn.execute(sa.insert(t["measurements"]).values(
            experiment_pk=pks[0], outcome="first_cycle_ce_pct", value=90.5, unit=None, measured_at=None,
            recorded_by="lead", recorded_at=now, note=None, superseded=False, replicate="A"))
        conn.execute(sa.insert(t["cell_failures"]).values(
            experiment_pk=pks[0], replicate="B", reason="cracked", note=None, recorded_by="lead", recorded_at=now))
    engine.dispose()

    store = SqlStore.open(store_url)  # migrates to the head
    assert store.schema_version == head_revision()
    history = store.experiments(config.name).set_index("experiment_id")
    assert history[["status", "failure_reason"]].values.tolist() == [["completed", None], ["failed", "gelled"]]
    assert history[["failure_note", "failure_operator", "failure_sample_id", "failure_measured_at"]].isna().all().all()
    assert store.measurements(config.name)["value"].tolist() == [90.5]
    assert store.cell_failures(config.name)["replicate"].tolist() == ["B"]
    found = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    store.write(config.name, actor="lead", status_changes=[
        StatusChange("E0002", "failed", "burnt", note="furnace overshoot", operator="Ana", sample_id="P-2",
                     measured_at=found)])
    new = store.experiments(config.name).set_index("experiment_id").loc["E0002"]
    assert (new["failure_reason"], new["failure_note"], new["failure_operator"], new["failure_sample_id"],
            new["failure_measured_at"]) == ("burnt", "furnace overshoot", "Ana", "P-2", found)


def test_upgrade_to_sign_in_limits_keeps_accounts_and_memberships_and_downgrades(store_url: str) -> None:
    """A database made before the sign-in limit and disable times (schema 0012), with a disabled
    account that is a campaign's member: the upgrade (0013 adds ``sign_in_failures``, 0014
    ``users.disabled_at``, both in place) keeps the account, its membership and its password; the
    account has no disable time (none was kept then) and counts failed sign-ins; a downgrade to
    0012 and the upgrade again lose nothing either."""
    from datetime import UTC, datetime, timedelta

    from alembic import command

    from doe import load_config
    from doe.auth.accounts import Accounts
    from doe.auth.passwords import hash_password

    engine, old = _database_at(store_url, "0012")
    assert "sign_in_failures" not in old.tables and "disabled_at" not in old.tables["users"].c
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    config = load_config("hfo2-ncm85")
    with engine.begin() as conn:
        t = old.tables
        cid = _campaign_at_revision_3(conn, t, config, now, experiments=0)
        for name, disabled in (("ada", False), ("bob", True)):
            uid = conn.execute(sa.insert(t["users"]).values(
                username=name, role="engineer", password_hash=hash_password(f"{name}-password-1"), email=None,
                disabled=disabled, created_at=now, created_by="root", updated_at=now).returning(
                t["users"].c.id)).scalar_one()
            conn.execute(sa.insert(t["memberships"]).values(user_id=uid, campaign_id=cid, added_at=now,
                                                            added_by="root"))
    engine.dispose()

    def check(accounts: Accounts) -> None:
        users = accounts.store.users().set_index("username")
        assert users.loc[["ada", "bob"], "disabled"].tolist() == [False, True]
        assert accounts.store.get_user("bob").disabled_at is None  # disabled before disable times were kept
        assert accounts.authenticate("ada", "ada-password-1").username == "ada"
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(sa.table("memberships"))).scalar_one() == 2

    accounts = Accounts(store_url)  # migrates to the head
    assert SqlStore.open(store_url).schema_version == head_revision()
    check(accounts)
    assert accounts.store.count_sign_in_attempt("bob", max_failures=5, window=timedelta(minutes=15),
                                                lockout=timedelta(minutes=15)) is None
    close_all()

    from pathlib import Path

    from alembic.config import Config

    import doe.storage

    engine = sa.create_engine(store_url)
    for target in ("0012", "head"):
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(Path(doe.storage.__file__).parent / "migrations"))
            cfg.attributes["connection"] = conn
            (command.downgrade if target == "0012" else command.upgrade)(cfg, target)
        tables = sa.inspect(engine)
        assert ("sign_in_failures" in tables.get_table_names()) == (target == "head")
        assert ("disabled_at" in {c["name"] for c in tables.get_columns("users")}) == (target == "head")
    check(Accounts(store_url))
    engine.dispose()
