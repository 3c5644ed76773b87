"""Failed password sign-ins counted in the campaign database (:mod:`doe.storage.sign_ins`), on
SQLite and PostgreSQL: a name is locked after too many, in every process sharing the database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from doe.auth.accounts import Accounts, AuthError
from doe.storage import schema

MAX_FAILED_SIGN_INS = 5  # as the README promises
LOCKED = "too many failed sign-ins with this user name"
WRONG = "wrong user name or password"


def _refusal(accounts: Accounts, name: str, password: str) -> str:
    with pytest.raises(AuthError) as refused:
        accounts.authenticate(name, password)
    return str(refused.value)


def _guess_in_another_process(url: str, name: str, times: int) -> None:
    """``times`` wrong passwords for ``name`` from a separate Python process (another app)."""
    code = ("import sys\nfrom doe.auth.accounts import Accounts, AuthError\naccounts = Accounts(sys.argv[1])\n"
            "for _ in range(int(sys.argv[3])):\n"
            "    try:\n        accounts.authenticate(sys.argv[2], 'a-wrong-guess')\n"
            "    except AuthError as err:\n        assert 'wrong user name or password' in str(err), err\n"
            "    else:\n        raise SystemExit('signed in with a wrong password')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code, url, name, str(times)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_failed_sign_ins_lock_a_name_across_processes_whether_or_not_it_has_an_account(store_url: str) -> None:
    """Anyone reaching the app could try passwords on an account without bound: the 100th guess
    was checked like the first. Now 5 failures within 15 minutes, counted in the database by any
    process, refuse the name's password sign-in, even with the right password; a name without
    an account gets the same refusal."""
    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    for name in ("ada", "nobody"):
        for _ in range(2):
            assert WRONG in _refusal(accounts, name, "a-wrong-guess")
        _guess_in_another_process(store_url, name, MAX_FAILED_SIGN_INS - 2)  # another app process
    ada = _refusal(accounts, "ada", "ada-password")  # the right password: refused all the same
    nobody = _refusal(accounts, "nobody", "ada-password")
    assert LOCKED in ada and "refused for 15 minutes" in ada and "doe user enable NAME" in ada
    until = re.compile(r"until \d\d:\d\d UTC")
    assert until.sub("", ada) == until.sub("", nobody)  # nothing says which name has an account
    assert LOCKED in _refusal(Accounts(store_url), "ada", "ada-password")  # a fresh process's view too
    # other names are not locked by it
    accounts.add_user("bea", "viewer", password="bea-password", actor="root")
    assert accounts.authenticate("bea", "bea-password").username == "bea"


def test_a_success_forgets_the_failures_and_an_admin_ends_a_lock(store_url: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    for _ in range(2):
        for _ in range(MAX_FAILED_SIGN_INS - 1):
            assert WRONG in _refusal(accounts, "ada", "a-wrong-guess")
        assert accounts.authenticate("ada", "ada-password").username == "ada"  # counts from 0 again
    for _ in range(MAX_FAILED_SIGN_INS):
        _refusal(accounts, "ada", "a-wrong-guess")
    assert LOCKED in _refusal(accounts, "ada", "ada-password")
    assert accounts.store.clear_sign_in_lock("ada", actor="admin")
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    audit = accounts.store.audit("ada")
    assert audit["action"].iloc[0] == "sign_in_unlocked" and audit["actor"].iloc[0] == "admin"
    assert not accounts.store.clear_sign_in_lock("ada", actor="admin")  # no lock: nothing to end, no audit row
    assert (accounts.store.audit("ada")["action"] == "sign_in_unlocked").sum() == 1


def test_a_lock_ends_after_its_time_and_old_failures_are_forgotten(store_url: str) -> None:
    """Times are the database's: moved back here instead of waiting 15 minutes."""
    from doe.storage.sign_ins import database_now, name_key

    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    for _ in range(MAX_FAILED_SIGN_INS):
        _refusal(accounts, "ada", "a-wrong-guess")
    assert LOCKED in _refusal(accounts, "ada", "ada-password")
    t = schema.sign_in_failures
    with accounts.store.engine.begin() as conn:
        past = database_now(conn) - timedelta(minutes=15, seconds=1)
        conn.execute(sa.update(t).values(first_failed_at=past - timedelta(minutes=1), locked_until=past))
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    # failures older than the window are forgotten: 4 old and 4 new lock nothing
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        _refusal(accounts, "ada", "a-wrong-guess")
    with accounts.store.engine.begin() as conn:
        conn.execute(sa.update(t).values(first_failed_at=database_now(conn) - timedelta(minutes=16)))
        conn.execute(sa.insert(t).values(name_key=name_key("stale"), failures=3, locked_until=None,
                                         first_failed_at=database_now(conn) - timedelta(hours=1)))
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        assert WRONG in _refusal(accounts, "ada", "a-wrong-guess")
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    with accounts.store.engine.connect() as conn:  # a name tried long ago is not kept
        assert conn.execute(sa.select(t.c.name_key)).scalars().all() == []



@pytest.mark.postgres
def test_postgres_an_attempt_never_waits_for_another_attempts_transaction_on_another_name(postgres_database: str) -> None:
    """An attempt deleted the other names' expired counts in its own transaction, so an attempt
    on such a name waited for that transaction to end, and two such attempts could wait on each
    other (a deadlock: one sign-in ended in a database error). The clean-up now runs in a
    transaction of its own: an attempt's transaction holds its own name's row only."""
    from doe.storage import sign_ins

    Accounts(postgres_database).store.count_sign_in_attempt(
        "y", max_failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))  # a count of y
    engine = sa.create_engine(postgres_database)
    try:
        with engine.connect() as first, first.begin():
            # an attempt on x whose window makes y's count look over, its transaction still open
            sign_ins.count_attempt(first, "x", max_failures=5, window=timedelta(0), lockout=timedelta(0))
            with engine.connect() as second, second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '3s'")  # waiting on `first` fails here
                locked_until, _ = sign_ins.count_attempt(second, "y", max_failures=5, window=timedelta(minutes=15),
                                                         lockout=timedelta(minutes=15))
                assert locked_until is None
                failures = second.execute(sa.select(schema.sign_in_failures.c.failures).where(
                    schema.sign_in_failures.c.name_key == sign_ins.name_key("y"))).scalar_one()
                assert failures == 2  # y's earlier count kept, this attempt added
    finally:
        engine.dispose()
