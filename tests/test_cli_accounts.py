"""``doe user``, ``doe member`` and the open-server refusal of ``doe app``, in real subprocesses
on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from doe.auth.accounts import Accounts
from doe.campaign import Campaign
from doe.cli import cli
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
    no_mail = doe("user", "add", "cem", "--role", "viewer", "--sso", *db)  # it said "e-mail 'cem' is not an e-mail"
    assert no_mail.returncode == 1 and "--sso: give the e-mail the identity provider signs 'cem' in with" in no_mail.stderr
    assert doe("user", "add", "cem", "--role", "viewer", "--sso", "--email", "cem@lab.example", *db).returncode == 0
    listing = doe("user", "list", *db)
    assert "ada" in listing.stdout and "bea@lab.example" in listing.stdout
    assert "argon2" not in listing.stdout and "ada-password-1" not in listing.stdout
    assert Accounts(store_url).authenticate("ada", "ada-password-1").role == "engineer"

    member = doe("member", "add", "furnace", "ada", *db)
    assert member.returncode == 0 and "note:" not in member.stderr
    viewer = doe("member", "add", "furnace", "bea@lab.example", *db)  # a viewer's membership grants nothing: said
    assert viewer.returncode == 0 and "is a viewer: the membership changes nothing until the role is engineer" in viewer.stderr
    doe("member", "remove", "furnace", "bea@lab.example", *db)
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
    # an in-memory database is gone when the command ends, after it said "added"
    for args, stdin in ((("user", "add", "ada", "--role", "admin", "--password-stdin"), "long-enough\n"),
                        (("user", "role", "ada", "viewer"), None), (("member", "add", "furnace", "ada"), None)):
        for memory in (":memory:", "sqlite://"):
            vanishing = doe(*args, "--db", memory, stdin=stdin)
            assert vanishing.returncode == 1 and "--db: an in-memory database" in vanishing.stderr, vanishing.stderr
            assert "added" not in vanishing.stdout and "Traceback" not in vanishing.stderr


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(args: list[str], env: dict[str, str], cwd: Path, port: int) -> tuple[bool, str]:
    """Start ``doe app`` with ``args``; whether it answered its health check (polled until it
    answers or the process ends, no fixed pause), and its output."""
    log_path = cwd / f"app-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "doe.cli", "app", "--port", str(port), *args],
                                   cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                        if answer.status == 200:
                            return True, log_path.read_text()
                except OSError:
                    time.sleep(0.2)  # polling interval while waiting for the condition
            return False, log_path.read_text()
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_app_on_a_public_address_starts_with_sign_in_or_an_explicit_open_server(tmp_path: Path) -> None:
    """The refusal is not all there is: --allow-open-server serves an open app on 0.0.0.0, and
    so does a database with accounts (then with sign-in), without the flag."""
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "DOE_ACTOR": "cli-admin"}
    for var in ("DOE_DATABASE_URL", "DOE_OIDC_CLIENT_ID", "DOE_OIDC_CLIENT_SECRET", "DOE_OIDC_METADATA_URL"):
        env.pop(var, None)
    db = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    opened, log = _answers(["--host", "0.0.0.0", "--db", db, "--allow-open-server"], env, tmp_path, free_port())
    assert opened, log
    assert "sign-in: none (open)" in log
    Accounts(db).add_user("root", "admin", password="root-password", actor="fixture")
    signed, log = _answers(["--host", "0.0.0.0", "--db", db], env, tmp_path, free_port())
    assert signed, log
    assert "sign-in: built-in accounts" in log


def test_app_started_with_accounts_marks_its_server_to_ask_for_a_sign_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server `doe app` starts with accounts is told so, and keeps asking for a sign-in once the
    database has no account (tests/ui/test_signin.py); one started open on localhost is not."""
    from doe.auth.serving import SIGN_IN_REQUIRED_ENV

    started: list[str | None] = []

    def serve(executable: str, args: list[str]) -> None:  # in place of Streamlit's server, which execv starts
        started.append(os.environ.get(SIGN_IN_REQUIRED_ENV))

    monkeypatch.setattr(os, "execv", serve)
    for var in ("DOE_OIDC_CLIENT_ID", "DOE_OIDC_CLIENT_SECRET", "DOE_OIDC_METADATA_URL"):
        monkeypatch.delenv(var, raising=False)
    db = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    env = {"DOE_HOME": str(tmp_path / "home"), "DOE_DATABASE_URL": None, SIGN_IN_REQUIRED_ENV: None}  # restored after
    assert _invoke(db, "app", actor=None, env=env).exit_code == 0  # type: ignore[arg-type]
    Accounts(db).add_user("root", "admin", password="root-password", actor="fixture")
    result = _invoke(db, "app", "--host", "0.0.0.0", actor=None, env=env)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert started == [None, "1"]


def _invoke(store_url: str, *args: str, actor: str | None = "lead", stdin: str | None = None,
            env: dict[str, str] | None = None) -> Result:
    """``doe ARGS --db store_url [--actor actor]`` through click, in this process."""
    acting = ("--actor", actor) if actor else ()
    return CliRunner().invoke(cli, [*args, "--db", store_url, *acting], input=stdin, env=env)


def test_user_audit_answers_who_changed_which_account_and_when(store_url: str) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="line-1", actor="fixture")
    steps: list[tuple[tuple[str, ...], str | None, str | None]] = [
        (("user", "add", "ada", "--role", "engineer", "--password-stdin"), "root", "ada-password-1\n"),
        (("user", "add", "bob@lab.example", "--role", "engineer", "--sso"), "root", None),
        (("user", "role", "ada", "admin"), "lead", None),
        (("member", "add", "line-1", "bob@lab.example"), "lead", None),
        (("member", "remove", "line-1", "bob@lab.example"), "quality", None),
        (("user", "disable", "ada"), None, None),  # the actor from DOE_ACTOR
        (("user", "enable", "ada"), "security", None),
        (("user", "passwd", "ada", "--password-stdin"), "helpdesk", "ada-password-2\n"),
    ]
    for args, actor, stdin in steps:
        done = _invoke(store_url, *args, actor=actor, stdin=stdin, env={"DOE_ACTOR": "night-shift"})
        assert done.exit_code == 0, (args, done.output)

    shown = _invoke(store_url, "user", "audit")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split() == ["when", "(UTC)", "who", "what", "user", "campaign", "details"]
    rows = [line.split(maxsplit=2)[2] for line in lines[1:]]  # after the date and the time
    who_what = [(row.split()[0], " ".join(row.split()[1:3]), row.split()[3]) for row in rows]
    assert who_what == [
        ("helpdesk", "password changed", "ada"), ("security", "account enabled", "ada"),
        ("night-shift", "account disabled", "ada"), ("quality", "member removed", "bob@lab.example"),
        ("lead", "member added", "bob@lab.example"), ("lead", "role changed", "ada"),
        ("root", "account added", "bob@lab.example"), ("root", "account added", "ada")]
    assert rows[3].split()[4:8] == ["line-1", "added", "by:", "lead,"]
    assert rows[4].split()[4:] == ["line-1", "role:", "engineer"]
    assert rows[5].endswith("old role: engineer, new role: admin")
    stored_hash = AccountStore.open(store_url).get_user("ada").password_hash
    assert stored_hash and stored_hash not in shown.output and "ada-password" not in shown.output

    newest = _invoke(store_url, "user", "audit", "ada", "--limit", "2")
    assert [line.split()[2:5] for line in newest.output.splitlines()[1:]] == [
        ["helpdesk", "password", "changed"], ["security", "account", "enabled"]]
    nobody = _invoke(store_url, "user", "audit", "nobody")
    assert nobody.exit_code == 0 and nobody.output.strip() == "no account changes recorded for 'nobody'"


def test_user_add_refuses_a_twin_of_an_existing_name(store_url: str) -> None:
    assert _invoke(store_url, "user", "add", "ada", "--role", "viewer", "--password-stdin",
                   stdin="ada-password-1\n").exit_code == 0
    before = (AccountStore.open(store_url).users().to_json(), AccountStore.open(store_url).audit().to_json())
    for twin in ("Ada", "ａｄａ"):
        refused = _invoke(store_url, "user", "add", twin, "--role", "admin", "--password-stdin",
                          stdin="twin-password-1\n")
        assert refused.exit_code == 1, refused.output
        assert "differs from the existing account 'ada' only in upper and lower case" in refused.stderr
        assert "Traceback" not in refused.output and "added" not in refused.stdout
    assert (AccountStore.open(store_url).users().to_json(), AccountStore.open(store_url).audit().to_json()) == before


def test_user_enable_ends_a_lock_after_failed_sign_ins(store_url: str, doe: Doe) -> None:
    from doe.auth.accounts import AuthError

    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="fixture")
    for _ in range(5):  # the README's limit
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.authenticate("ada", "a-wrong-guess")
    with pytest.raises(AuthError, match="too many failed sign-ins"):
        accounts.authenticate("ada", "ada-password")
    listing = doe("user", "list", "--db", store_url).stdout.splitlines()  # the admin sees which name is locked
    assert "sign_in_locked_until" in listing[0]
    assert re.search(r"^\s*ada\s.*\d{4}-\d\d-\d\d \d\d:\d\d UTC\s*$", listing[1]), listing
    enabled = doe("user", "enable", "ada", "--db", store_url)
    assert enabled.returncode == 0, enabled.stderr
    assert "account 'ada' enabled; the lock after failed sign-ins is ended" in enabled.stdout
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    assert AccountStore.open(store_url).audit("ada")["actor"].iloc[0] == "cli-admin"
    assert not re.search(r"UTC", doe("user", "list", "--db", store_url).stdout)  # the lock is over
    again = doe("user", "enable", "ada", "--db", store_url)
    assert again.returncode == 0 and again.stdout.strip() == "account 'ada' enabled"
