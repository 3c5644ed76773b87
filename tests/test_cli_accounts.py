"""``doe user``, ``doe member`` and the open-server refusal of ``doe app``, in real subprocesses
on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from doe.auth.accounts import Accounts
from doe.campaign import Campaign
from doe.storage.accounts import AccountStore

Doe = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture()
def doe(tmp_path: Path) -> Doe:
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_ACTOR": "cli-admin"}
    env.pop("DOE_DATABASE_URL", None)
    for var in ("DOE_OIDC_CLIENT_ID", "DOE_OIDC_CLIENT_SECRET", "DOE_OIDC_METADATA_URL"):
        env.pop(var, None)

    def call(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "doe.cli", *args], cwd=tmp_path, env=env, input=stdin,
                              capture_output=True, text=True, timeout=300)

    return call


def test_user_and_member_commands(store_url: str, doe: Doe) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="furnace", actor="fixture")
    db = ("--db", store_url)
    added = doe("user", "add", "ada", "--role", "engineer", "--password-stdin", *db, stdin="ada-password-1\n")
    assert added.returncode == 0, added.stderr
    assert "added account 'ada' with role engineer" in added.stdout
    assert doe("user", "add", "bea@lab.example", "--role", "viewer", "--sso", *db).returncode == 0
    listing = doe("user", "list", *db)
    assert "ada" in listing.stdout and "bea@lab.example" in listing.stdout
    assert "argon2" not in listing.stdout and "ada-password-1" not in listing.stdout
    assert Accounts(store_url).authenticate("ada", "ada-password-1").role == "engineer"

    assert doe("member", "add", "furnace", "ada", *db).returncode == 0
    assert "ada" in doe("member", "list", "furnace", *db).stdout
    assert AccountStore.open(store_url).campaigns_of("ada") == {"furnace"}
    assert AccountStore.open(store_url).members("furnace")["added_by"].tolist() == ["cli-admin"]
    assert doe("member", "remove", "furnace", "ada", *db).returncode == 0
    assert AccountStore.open(store_url).campaigns_of("ada") == frozenset()

    changed = doe("user", "passwd", "ada", "--password-stdin", *db, stdin="ada-password-2\n")
    assert changed.returncode == 0, changed.stderr
    assert Accounts(store_url).authenticate("ada", "ada-password-2").username == "ada"
    assert doe("user", "disable", "ada", *db).returncode == 0
    assert AccountStore.open(store_url).get_user("ada").disabled


def test_bad_account_commands_fail_cleanly_and_change_nothing(store_url: str, doe: Doe) -> None:
    db = ("--db", store_url)
    short = doe("user", "add", "ada", "--role", "admin", "--password-stdin", *db, stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr and "Traceback" not in short.stderr
    in_argv = doe("user", "add", "ada", "--role", "admin", "--password", "in-argv-password", *db)
    assert in_argv.returncode == 2 and "No such option" in in_argv.stderr
    no_tty = doe("user", "add", "ada", "--role", "admin", *db, stdin="")
    assert no_tty.returncode == 1 and "--password-stdin" in no_tty.stderr
    bad_role = doe("user", "add", "ada", "--role", "owner", "--password-stdin", *db, stdin="long-enough\n")
    assert bad_role.returncode == 2
    unknown = doe("member", "add", "no-such-campaign", "ada", *db)
    assert unknown.returncode == 1 and "no user named 'ada'" in unknown.stderr
    assert AccountStore.open(store_url).users().empty


def test_app_on_a_public_address_without_sign_in_refuses_to_start(tmp_path: Path, doe: Doe) -> None:
    db = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    refused = doe("app", "--host", "0.0.0.0", "--port", "8599", "--db", db)
    assert refused.returncode == 1
    assert "refusing to serve on '0.0.0.0' without sign-in" in refused.stderr
    assert "--allow-open-server" in refused.stderr and "Traceback" not in refused.stderr
    half = subprocess.run([sys.executable, "-m", "doe.cli", "app", "--host", "0.0.0.0", "--db", db],
                          env={**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_OIDC_CLIENT_ID": "doe"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert half.returncode == 1 and "DOE_OIDC_CLIENT_SECRET" in half.stderr
