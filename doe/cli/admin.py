"""Database and account commands: ``doe backup``, ``restore``, ``user`` and ``member``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from doe.cli.common import DoeGroup, Env, cli, common_options, lasting_database
from doe.errors import DoeError


# ---------------------------------------------------------------------- backup / restore
@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="New backup file (SQLite database, or pg_dump custom-format archive for PostgreSQL).")
@common_options
def backup(out: Path, env: Env) -> None:
    """Copy the whole database (every campaign) into a new file, safely while others write."""
    from doe.storage.backup import backup as run_backup

    report = run_backup(env.db, out)
    click.echo(f"backed up {report.counts} (schema {report.schema_version}) from {report.url} to {report.path}")


@cli.command()
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Backup file written by `doe backup` (or pg_dump -Fc).")
@click.option("--force", is_flag=True, help="Replace a target doe database that already holds campaigns or accounts "
              "(never another application's database).")
@common_options
def restore(source: Path, force: bool, env: Env) -> None:
    """Restore a backup into an empty database (--db) and bring it to the newest schema."""
    from doe.storage.accounts import AccountStore
    from doe.storage.backup import restore as run_restore
    from doe.workers import end_unfinished_jobs

    report = run_restore(env.db, source, force=force)
    click.echo(f"restored {report.counts} from {report.path} into {report.url} (schema {report.schema_version})")
    if not AccountStore.open(env.db).any_accounts():
        click.echo("note: the backup holds no account, so the web app has none to sign in with"
                   + ("; a doe app serving this database with a sign-in (a shared server) lets nobody in now, and does "
                      "not open without one" if force else "") + ": add an admin with doe user add NAME --role admin",
                   err=True)
    if report.backend != "postgresql":
        return
    try:  # the restore is done: a queue that cannot be reached is said, not a traceback after "restored"
        ended = end_unfinished_jobs(env.db)
    except Exception as error:  # psycopg's or procrastinate's, whatever state the queue is in
        click.echo(f"warning: the suggestion jobs queued before the restore were not ended ({type(error).__name__}: "
                   f"{error}); stop every `doe worker` and run `doe restore` again", err=True)
        return
    if ended:
        click.echo(f"ended {len(ended)} suggestion job(s) queued before the restore (their data was replaced)")


# ---------------------------------------------------------------------- accounts
def _acting(env: Env) -> str:
    import getpass

    return env.actor or os.environ.get("DOE_ACTOR") or getpass.getuser()


def _read_password(password_stdin: bool, prompt: str) -> str:
    """A new password from stdin (one line) or an interactive prompt typed twice; never argv."""
    if password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise DoeError("--password-stdin: nothing on standard input; pipe the password in")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise DoeError("no terminal to ask for the password: pass --password-stdin and pipe it in")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@cli.group(cls=DoeGroup)
def user() -> None:
    """Accounts of the web app: viewer (reads), engineer (plans and records in their campaigns),
    admin (everything). The doe command and the Python API check no role: the database URL is
    full rights."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "engineer", "admin"]), required=True)
@click.option("--email", default=None, help="E-mail (single-sign-on users are matched by it).")
@click.option("--sso", is_flag=True, help="A single-sign-on account: no password; signs in through the "
                                           "identity provider with this e-mail (default: USERNAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@common_options
def user_add(username: str, role: str, email: str | None, sso: bool, password_stdin: bool, env: Env) -> None:
    """Add an account (the password is asked for, or read with --password-stdin)."""
    from doe.auth.accounts import Accounts

    accounts = Accounts(lasting_database(env.db, "--db"))
    password = None if sso else _read_password(password_stdin, f"password for {username}")
    if sso and email is None:
        if "@" not in username:  # the name stands for the e-mail only when it is one
            raise DoeError(f"--sso: give the e-mail the identity provider signs {username!r} in with (--email "
                           "name@domain), or use the e-mail as the user name")
        email = username
    added = accounts.add_user(username, role, password=password, email=email, actor=_acting(env))
    kind = "single-sign-on account" if sso else "account"
    click.echo(f"added {kind} {added.username!r} with role {added.role}")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (one line).")
@common_options
def user_passwd(username: str, password_stdin: bool, env: Env) -> None:
    """Set a new password."""
    from doe.auth.accounts import Accounts

    accounts = Accounts(lasting_database(env.db, "--db"))
    accounts.store.get_user(username)  # an unknown name fails before the prompt
    accounts.set_password(username, _read_password(password_stdin, f"new password for {username}"),
                          actor=_acting(env))
    click.echo(f"password of {username!r} changed")


@user.command("disable")
@click.argument("username")
@common_options
def user_disable(username: str, env: Env) -> None:
    """Disable an account: it can no longer sign in (its history stays)."""
    from doe.storage.accounts import AccountStore

    AccountStore.open(lasting_database(env.db, "--db")).set_disabled(username, True, actor=_acting(env))
    click.echo(f"account {username!r} disabled")


@user.command("enable")
@click.argument("username")
@common_options
def user_enable(username: str, env: Env) -> None:
    """Enable a disabled account again, and end a lock of its password sign-in after too many
    failed attempts."""
    from doe.storage.accounts import AccountStore

    store = AccountStore.open(lasting_database(env.db, "--db"))
    store.set_disabled(username, False, actor=_acting(env))
    unlocked = store.clear_sign_in_lock(username, actor=_acting(env))
    click.echo(f"account {username!r} enabled" + ("; the lock after failed sign-ins is ended" if unlocked else ""))


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(["viewer", "engineer", "admin"]))
@common_options
def user_role(username: str, role: str, env: Env) -> None:
    """Change an account's role."""
    from doe.storage.accounts import AccountStore

    AccountStore.open(lasting_database(env.db, "--db")).set_role(username, role, actor=_acting(env))
    click.echo(f"role of {username!r} is now {role}")


@user.command("list")
@common_options
def user_list(env: Env) -> None:
    """The accounts (never their passwords), with the end of a lock after failed password
    sign-ins where one is in force."""
    import pandas as pd

    from doe.storage.accounts import AccountStore

    table = AccountStore.open(env.existing_db()).users()
    if table.empty:
        click.echo("no accounts: the app is open on localhost (add one with doe user add NAME --role admin)")
        return
    shown = table[["username", "role", "email", "disabled", "sso"]].fillna("")
    shown["sign_in_locked_until"] = [  # doe user enable NAME ends a lock
        "" if t is None or pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M UTC")
        for t in table["sign_in_locked_until"]]
    click.echo(shown.to_string(index=False))


def _detail_text(detail: str) -> str:
    """An audit row's detail (JSON text) as ``key: value, ...`` (``sso: False`` left out)."""
    import json

    data = json.loads(detail) if detail else {}
    return ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in data.items()
                     if value is not None and value is not False)


@user.command("audit")
@click.argument("username", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show only the newest N changes.")
@common_options
def user_audit(username: str | None, limit: int | None, env: Env) -> None:
    """Who changed which account or membership, and when (newest first; of USERNAME only, if given)."""
    import pandas as pd

    from doe.storage.accounts import AccountStore

    table = AccountStore.open(env.existing_db()).audit(username)
    if table.empty:
        click.echo("no account changes recorded" + (f" for {username!r}" if username else ""))
        return
    if limit is not None:
        table = table.head(limit)
    shown = pd.DataFrame({
        "when (UTC)": table["at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "who": table["actor"], "what": table["action"].str.replace("_", " "), "user": table["username"],
        "campaign": table["campaign"].fillna(""), "details": [_detail_text(d) for d in table["detail"]],
    })
    click.echo(shown.to_string(index=False))


@cli.group(cls=DoeGroup)
def member() -> None:
    """Campaign members: in the web app, engineers plan and record only in campaigns they are
    members of (the doe command and the Python API check no role: the database URL is full rights)."""


@member.command("add")
@click.argument("campaign")
@click.argument("username")
@common_options
def member_add(campaign: str, username: str, env: Env) -> None:
    """Make USERNAME a member of CAMPAIGN."""
    from doe.storage.accounts import AccountStore

    store = AccountStore.open(lasting_database(env.db, "--db"))
    added = store.add_member(campaign, username, actor=_acting(env))
    click.echo(f"{username!r} {'is now' if added else 'was already'} a member of {campaign!r}")
    users = store.users()
    role = users.loc[users["username"] == username, "role"]
    if len(role) and role.iloc[0] != "engineer":  # admins may do everything; a viewer only reads
        click.echo(f"note: {username!r} is {'an' if role.iloc[0] == 'admin' else 'a'} {role.iloc[0]}: the membership "
                   "changes nothing until the role is engineer (doe user role NAME engineer)", err=True)


@member.command("remove")
@click.argument("campaign")
@click.argument("username")
@common_options
def member_remove(campaign: str, username: str, env: Env) -> None:
    """End USERNAME's membership of CAMPAIGN."""
    from doe.storage.accounts import AccountStore

    store = AccountStore.open(lasting_database(env.db, "--db"))
    removed = store.remove_member(campaign, username, actor=_acting(env))
    click.echo(f"{username!r} {'is no longer' if removed else 'was not'} a member of {campaign!r}")


@member.command("list")
@click.argument("campaign", required=False)
@common_options
def member_list(campaign: str | None, env: Env) -> None:
    """The members of CAMPAIGN (or of every campaign)."""
    from doe.storage.accounts import AccountStore

    table = AccountStore.open(env.existing_db()).members(campaign)
    if table.empty:
        click.echo("no members" + (f" in {campaign!r}" if campaign else ""))
        return
    click.echo(table[["campaign", "username", "role"]].to_string(index=False))
