"""Backup and restore carry the accounts and their audit trail, on a real SQLite file and a
real PostgreSQL server; a backup of an older schema restores and upgrades."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import doe.storage
from doe.auth.accounts import Accounts
from doe.campaign import Campaign
from doe.errors import StorageError
from doe.storage.backup import backup, restore
from doe.storage.sql import close_all, head_revision


def _accounts_with_history(url: str) -> tuple[str, str]:
    """Accounts, a membership added and ended and a role change in ``url``; (users, audit) as JSON."""
    Campaign.from_config("hfo2-ncm85", storage=url, name="line-1", actor="fixture")
    accounts = Accounts(url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    accounts.store.set_role("ada", "admin", actor="lead")
    accounts.store.add_member("line-1", "ada", actor="lead")
    accounts.store.remove_member("line-1", "ada", actor="quality")
    assert len(accounts.store.audit()) == 4
    return accounts.store.users().to_json(), accounts.store.audit().to_json()


def _migrate(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(doe.storage.__file__).parent / "migrations"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_sqlite_backup_and_restore_keep_the_account_audit_trail(tmp_path: Path) -> None:
    source = str(tmp_path / "lab.sqlite3")
    before = _accounts_with_history(source)
    made = backup(source, tmp_path / "copy.sqlite3")
    restore(str(tmp_path / "restored.sqlite3"), made.path)
    close_all()
    restored = Accounts(str(tmp_path / "restored.sqlite3"))
    assert (restored.store.users().to_json(), restored.store.audit().to_json()) == before
    assert restored.authenticate("ada", "ada-password").role == "admin"


def test_postgres_backup_and_restore_keep_the_account_audit_trail(postgres_url: str, tmp_path: Path) -> None:
    pg = sys.modules["doe_tests_postgres"]
    source, target = pg.create_database(postgres_url), pg.create_database(postgres_url)
    try:
        before = _accounts_with_history(source)
        made = backup(source, tmp_path / "doe.dump")
        restore(target, made.path)
        restored = Accounts(target)
        assert (restored.store.users().to_json(), restored.store.audit().to_json()) == before
    finally:
        close_all()
        pg.drop_database(postgres_url, source)
        pg.drop_database(postgres_url, target)


def test_a_postgres_backup_from_before_the_account_audit_restores_into_a_new_database(
        postgres_url: str, tmp_path: Path) -> None:
    pg = sys.modules["doe_tests_postgres"]
    source, fresh, opened = (pg.create_database(postgres_url) for _ in range(3))
    try:
        _migrate(source, "0008")
        made = backup(source, tmp_path / "old.dump")
        assert made.schema_version == "0008"
        # a database the new doe opened holds the new table; pg_restore --clean would leave it
        # behind and the upgrade of the restored database would fail: refused, nothing changed,
        # even with --force (without it the account alone refuses the restore)
        Accounts(opened).add_user("eve", "admin", password="eve-password", actor="root")
        with pytest.raises(StorageError, match=r"already holds 1 account\(s\), 1 account audit entry"):
            restore(opened, made.path)
        with pytest.raises(StorageError, match=r"older doe schema .* holds tables the backup does not "
                                               r"\(account_audit, sign_in_failures\); restore into a new, empty database"):
            restore(opened, made.path, force=True)
        close_all()
        assert Accounts(opened).store.users()["username"].tolist() == ["eve"]
        assert len(Accounts(opened).store.audit()) == 1
        done = restore(fresh, made.path)
        assert done.schema_version == head_revision()
        accounts = Accounts(fresh)
        assert accounts.store.audit().empty
        accounts.add_user("ada", "engineer", password="ada-password", actor="root")
        assert accounts.store.audit()["action"].tolist() == ["account_added"]
    finally:
        close_all()
        for url in (source, fresh, opened):
            pg.drop_database(postgres_url, url)
