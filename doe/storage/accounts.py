"""Accounts of the web app in the campaign database: users and campaign memberships.

:class:`AccountStore` reads and writes the ``users``, ``memberships`` and ``account_audit``
tables of :mod:`doe.storage.schema` on the engine of a :class:`~doe.storage.sql.SqlStore` (so
accounts live beside the campaigns, in SQLite or PostgreSQL, migrated together). It stores
password hashes as given: hashing and the rules of who may do what live in :mod:`doe.auth`.
Every method is one transaction; a refused change writes nothing. Every change writes one
``account_audit`` row in its transaction (who, when, which account, what changed; never a
password or its hash); a membership change also writes one row in the campaign's
``audit_log``, so the campaign's history shows it.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from doe.domain.access import ROLES, Role, parse_role
from doe.domain.values import is_printable, is_unicode_text, label_key
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage import sign_ins
from doe.storage.engine import check_schema_version
from doe.storage.rows import USER_NAMES_LOCK, audit_row, campaign_row, name_check_lock
from doe.storage.sql import SqlStore
from doe.storage.values import MAX_ACTOR, check_label, iso_time

MAX_USERNAME = 200
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
# str.lower() folds some non-ASCII letters into ASCII ones (KELVIN SIGN U+212A is "k"): an
# address another person can register would then match "kate@...". Only A-Z are lowered.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


AccountAction = Literal["account_added", "role_changed", "account_disabled", "account_enabled",
                        "password_changed", "password_rehashed", "member_added", "member_removed",
                        "sign_in_unlocked"]
"""What an ``account_audit`` row records (``password_rehashed``: a sign-in stored a stronger
hash of the same password; ``sign_in_unlocked``: an admin ended a lock after failed sign-ins)."""

AUDIT_COLUMNS = ("at", "actor", "action", "username", "campaign", "detail")


def _now() -> datetime:
    return datetime.now(UTC)


def _acting(actor: str | None) -> str:
    """``actor`` checked; None: who runs this process (``DOE_ACTOR`` or the login name), as
    for campaigns."""
    if actor is None:
        try:
            actor = os.environ.get("DOE_ACTOR") or getpass.getuser()
        except Exception:  # no login name in some containers
            actor = "unknown"
    return str(check_label(actor, "actor", max_len=MAX_ACTOR))


def _audit(conn: Connection, at: datetime, actor: str, action: AccountAction, username: str, *,
           campaign: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """One ``account_audit`` row, ``detail`` as JSON text."""
    conn.execute(sa.insert(s.account_audit).values(
        at=at, actor=actor, action=action, username=username, campaign=campaign,
        detail=json.dumps(detail or {}, ensure_ascii=False, allow_nan=False)))


def _check_name_free(conn: Connection, username: str) -> None:
    """Refuse a new account ``username`` that exists, or that differs from a stored name only
    in upper and lower case or in how its characters are written (``Ada`` or a full-width
    ``ａｄａ`` beside ``ada``): two accounts nobody can tell apart in the audit trail."""
    for (stored,) in conn.execute(sa.select(s.users.c.username).order_by(s.users.c.id)):
        if stored == username:
            raise StorageError(f"a user named {username!r} exists already; change it with doe user passwd")
        if label_key(stored) == label_key(username):
            raise StorageError(
                f"user name {username!r} differs from the existing account {stored!r} only in upper and lower "
                f"case or in how its characters are written; use the account {stored!r} (doe user role, "
                "doe user passwd) or choose another name")


def check_username(value: object) -> str:
    """``value`` if it is a valid account name, else StorageError naming what is allowed."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise StorageError(
            f"user name {shown} is not allowed: use 1 to {MAX_USERNAME} letters, digits and . _ @ + - "
            "(starting with a letter or digit), e.g. 'a.researcher' or 'a.researcher@lab.example'"
        )
    return value


def _email_key(value: str) -> str:
    """How e-mails are stored and compared: stripped, the ASCII letters A-Z in lower case and
    every other character as it is."""
    return value.strip().translate(_ASCII_LOWER)


def check_email(value: object) -> str:
    """``value`` stripped, with A-Z in lower case (no other character changed), if it is an
    e-mail address; else StorageError."""
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()) or not is_printable(value.strip()):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise StorageError(f"e-mail {shown} is not an e-mail address (name@domain)")
    return _email_key(value)


def _check_email_free(conn: Connection, mail: str) -> None:
    """Refuse an e-mail that another account has, or that differs from another account's only
    in upper and lower case or in how its characters are written (``kate@...`` whose k is the
    KELVIN SIGN U+212A, beside ``kate@...``): two addresses nobody can tell apart."""
    for username, stored in conn.execute(sa.select(s.users.c.username, s.users.c.email)
                                         .where(s.users.c.email.is_not(None)).order_by(s.users.c.id)):
        if stored == mail:
            raise StorageError(f"another user has the e-mail {mail!r} already")
        if label_key(stored) == label_key(mail):
            raise StorageError(
                f"e-mail {mail!r} differs from the e-mail {stored!r} of the account {username!r} only in upper and "
                "lower case or in how its characters are written; check the address (each is a different mailbox "
                "to the identity provider)")


@dataclass(frozen=True)
class User:
    """One account, as stored (``password_hash`` None: a single-sign-on account;
    ``disabled_at``: the database's time of its latest disable, None if never disabled)."""

    username: str
    role: Role
    email: str | None
    disabled: bool
    password_hash: str | None
    disabled_at: datetime | None = None


class AccountStore:
    """Users and memberships in the database of ``store``."""

    def __init__(self, store: SqlStore) -> None:
        self.engine = store.engine
        self.url = store.url
        self.schema_version = store.schema_version

    @classmethod
    def open(cls, url: str | None = None) -> AccountStore:
        """The accounts of the database at ``url`` (opened and migrated like a campaign store)."""
        return cls(SqlStore.open(url))

    # ------------------------------------------------------------------ transactions
    def _read(self, fn: Any) -> Any:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn)

    def _write(self, fn: Any) -> Any:
        with self.engine.connect() as conn:
            conn.execution_options(doe_write=True)  # SQLite: BEGIN IMMEDIATE
            with conn.begin():
                check_schema_version(conn, self.url, self.schema_version)
                return fn(conn)

    @staticmethod
    def _user_row(conn: Connection, username: str, *, lock: bool = False) -> Any:
        """The ``users`` row of ``username`` (locked ``FOR UPDATE`` on PostgreSQL if ``lock``, so
        the old value an audit row names is the one replaced)."""
        if not isinstance(username, str) or not is_unicode_text(username):
            raise StorageError(f"no user named {username!r}: a user name is letters, digits and . _ @ + -")
        query = sa.select(s.users).where(s.users.c.username == username)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            names = list(conn.execute(sa.select(s.users.c.username).order_by(s.users.c.id)).scalars())
            shown = names[:20] + (["..."] if len(names) > 20 else [])
            raise StorageError(f"no user named {username!r}; users: {shown if names else 'none yet (doe user add)'}")
        return row

    def _campaign_id(self, conn: Connection, campaign: str) -> int:
        return int(campaign_row(conn, campaign, self.url).id)  # in any Unicode spelling, as an older doe stored it

    @staticmethod
    def _user(row: Any) -> User:
        return User(row.username, row.role, row.email, bool(row.disabled), row.password_hash, row.disabled_at)

    # ------------------------------------------------------------------ users
    def has_accounts(self) -> bool:
        """Whether an enabled built-in account (one with a password) exists: then the app asks
        for a sign-in. Single-sign-on accounts sign in only where single sign-on is configured."""
        return bool(self._read(lambda conn: conn.execute(
            sa.select(sa.func.count()).select_from(s.users)
            .where(s.users.c.disabled.is_(False), s.users.c.password_hash.is_not(None))).scalar()))

    def any_accounts(self) -> bool:
        """Whether any account was ever made, enabled or not: then the app never opens without
        a sign-in (with every account disabled, nobody signs in until an admin enables one)."""
        return bool(self._read(lambda conn: conn.execute(sa.select(sa.func.count()).select_from(s.users)).scalar()))

    def add_user(self, username: str, role: str, *, password_hash: str | None, email: str | None = None,
                 actor: str) -> User:
        """A new account; StorageError if the name (or e-mail) is taken or not valid, or if the
        name differs from an existing one only in upper and lower case or in how its characters
        are written (``Ada`` beside ``ada``)."""
        if not isinstance(username, str):  # the rest of check_username runs after the twin check
            check_username(username)
        try:
            checked_role = parse_role(role)
        except ValueError as err:
            raise StorageError(str(err)) from None
        mail = None if email is None else check_email(email)
        check_label(actor, "actor", max_len=MAX_ACTOR)
        now = _now()

        def add(conn: Connection) -> None:
            name_check_lock(conn, USER_NAMES_LOCK)  # one add at a time: two twins added at once both pass the check
            _check_name_free(conn, username)  # first: a full-width twin is named, not only refused
            check_username(username)
            if mail is not None:
                _check_email_free(conn, mail)
            conn.execute(sa.insert(s.users).values(
                username=username, role=checked_role, password_hash=password_hash, email=mail, disabled=False,
                created_at=now, created_by=actor, updated_at=now))
            _audit(conn, now, actor, "account_added", username,
                   detail={"role": checked_role, "email": mail, "sso": password_hash is None})

        try:
            self._write(add)
        except IntegrityError as err:  # a concurrent add of the same name
            raise StorageError(f"a user named {username!r} (or with that e-mail) exists already") from err
        return User(username, checked_role, mail, False, password_hash)

    def get_user(self, username: str) -> User:
        return self._user(self._read(lambda conn: self._user_row(conn, username)))

    def find_user(self, *, username: str | None = None, email: str | None = None) -> User | None:
        """The account with this name or e-mail (None when there is none)."""
        conditions = []
        if not all(v is None or (isinstance(v, str) and is_unicode_text(v)) for v in (username, email)):
            return None  # no stored name or e-mail holds a lone surrogate
        if username:
            conditions.append(s.users.c.username == username)
        if email:
            conditions.append(s.users.c.email == _email_key(email))
        if not conditions:
            return None
        row = self._read(lambda conn: conn.execute(
            sa.select(s.users).where(sa.or_(*conditions)).order_by(s.users.c.id)).first())
        return None if row is None else self._user(row)

    def set_password_hash(self, username: str, password_hash: str, *, actor: str | None = None,
                          rehash: bool = False) -> None:
        """Store a new password hash of ``username``, set by ``actor`` (None: ``DOE_ACTOR`` or the
        login name); ``rehash``: a stronger hash of the same password, stored at sign-in."""
        acting = _acting(actor)

        def change(conn: Connection) -> None:
            self._user_row(conn, username, lock=True)
            now = _now()
            conn.execute(sa.update(s.users).where(s.users.c.username == username)
                         .values(password_hash=password_hash, updated_at=now))
            _audit(conn, now, acting, "password_rehashed" if rehash else "password_changed", username)

        self._write(change)

    def set_disabled(self, username: str, disabled: bool, *, actor: str | None = None) -> None:
        """Disable or enable ``username``, by ``actor`` (None: ``DOE_ACTOR`` or the login name);
        an account already so is left as it is, and no audit row is written. A disable stores
        the database's time (``disabled_at``, kept when the account is enabled again): app
        sessions that signed in before it are signed out (:meth:`now` gave their sign-in time)."""
        acting = _acting(actor)
        disabled = bool(disabled)

        def change(conn: Connection) -> None:
            if bool(self._user_row(conn, username, lock=True).disabled) == disabled:
                return
            now = _now()
            values: dict[str, Any] = {"disabled": disabled, "updated_at": now}
            if disabled:
                values["disabled_at"] = sign_ins.database_now(conn)
            conn.execute(sa.update(s.users).where(s.users.c.username == username).values(**values))
            _audit(conn, now, acting, "account_disabled" if disabled else "account_enabled", username)

        self._write(change)

    def now(self) -> datetime:
        """The database's clock (:func:`doe.storage.sign_ins.database_now`): the time an app
        session signs in, compared with an account's ``disabled_at`` from the same clock (the
        doe command that disabled it may run on another machine, with another clock)."""
        return self._read(sign_ins.database_now)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ failed sign-ins
    def count_sign_in_attempt(self, username: str, *, max_failures: int, window: timedelta,
                              lockout: timedelta) -> datetime | None:
        """Count a password attempt on the typed ``username`` before it is checked (an account
        or not: :func:`doe.storage.sign_ins.count_attempt`); the end of a lock in force (refuse
        the attempt unchecked), else None."""
        self._write(lambda conn: sign_ins.forget_finished(conn, window))  # its own transaction
        return self._write(lambda conn: sign_ins.count_attempt(  # type: ignore[no-any-return]
            conn, username, max_failures=max_failures, window=window, lockout=lockout)[0])

    def sign_in_succeeded(self, username: str) -> None:
        """Forget the failed attempts of ``username`` (it signed in with its password)."""
        self._write(lambda conn: sign_ins.forget(conn, username))

    def clear_sign_in_lock(self, username: str, *, actor: str | None = None) -> bool:
        """End the failed-sign-in count and lock of the account ``username`` (StorageError if
        there is no such account), by ``actor``; True (and an audit row) if a lock was in force."""
        acting = _acting(actor)

        def clear(conn: Connection) -> bool:
            self._user_row(conn, username, lock=True)
            locked_until = sign_ins.forget(conn, username)
            if locked_until is None:
                return False
            _audit(conn, _now(), acting, "sign_in_unlocked", username, detail={"locked_until": iso_time(locked_until)})
            return True

        return bool(self._write(clear))

    def set_role(self, username: str, role: str, *, actor: str | None = None) -> None:
        """Give ``username`` the role ``role``, by ``actor`` (None: ``DOE_ACTOR`` or the login
        name); the audit row names the old and the new role. The same role again changes nothing."""
        try:
            checked = parse_role(role)
        except ValueError as err:
            raise StorageError(str(err)) from None
        acting = _acting(actor)

        def change(conn: Connection) -> None:
            old = self._user_row(conn, username, lock=True).role
            if old == checked:
                return
            now = _now()
            conn.execute(sa.update(s.users).where(s.users.c.username == username)
                         .values(role=checked, updated_at=now))
            _audit(conn, now, acting, "role_changed", username, detail={"old_role": old, "new_role": checked})

        self._write(change)

    def users(self) -> pd.DataFrame:
        """username, role, email, disabled, sso (no password), created_at, created_by, and
        sign_in_locked_until (the end of a lock after failed password sign-ins in force, else
        None); no hashes."""
        rows, locks = self._read(lambda conn: (
            conn.execute(sa.select(s.users).order_by(s.users.c.username)).all(), sign_ins.locks_in_force(conn)))
        return pd.DataFrame(
            [{"username": r.username, "role": r.role, "email": r.email, "disabled": bool(r.disabled),
              "sso": r.password_hash is None, "created_at": r.created_at, "created_by": r.created_by,
              "sign_in_locked_until": locks.get(sign_ins.name_key(r.username))}
             for r in rows],
            columns=["username", "role", "email", "disabled", "sso", "created_at", "created_by",
                     "sign_in_locked_until"])

    def audit(self, username: str | None = None) -> pd.DataFrame:
        """The account audit trail, newest first (of ``username`` only, if given): at (UTC),
        actor, action (:data:`AccountAction`), username, campaign (of a membership change) and
        detail (JSON text: the old and new role, the role and e-mail of a new account, who had
        added an ended membership and when)."""
        a = s.account_audit
        query = sa.select(*(a.c[name] for name in AUDIT_COLUMNS)).order_by(a.c.id.desc())
        if username is not None:
            if not isinstance(username, str) or not is_unicode_text(username):
                raise StorageError(f"no user named {username!r}: a user name is letters, digits and . _ @ + -")
            query = query.where(a.c.username == username)
        rows = self._read(lambda conn: conn.execute(query).all())
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(AUDIT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    # ------------------------------------------------------------------ memberships
    def add_member(self, campaign: str, username: str, *, actor: str) -> bool:
        """Make ``username`` a member of ``campaign``; False when they were one already."""

        check_label(actor, "actor", max_len=MAX_ACTOR)

        def add(conn: Connection) -> bool:
            user = self._user_row(conn, username)
            campaign_id = self._campaign_id(conn, campaign)
            exists = conn.execute(sa.select(s.memberships.c.id).where(
                s.memberships.c.user_id == user.id, s.memberships.c.campaign_id == campaign_id)).first()
            if exists:
                return False
            now = _now()
            conn.execute(sa.insert(s.memberships).values(
                user_id=user.id, campaign_id=campaign_id, added_at=now, added_by=actor))
            _audit(conn, now, actor, "member_added", username, campaign=campaign, detail={"role": user.role})
            conn.execute(sa.insert(s.audit_log).values(audit_row(
                campaign_id, now, actor, "member_added", None, {"user": username, "role": user.role})))
            return True

        try:
            return bool(self._write(add))
        except IntegrityError:  # added concurrently
            return False

    def remove_member(self, campaign: str, username: str, *, actor: str | None = None) -> bool:
        """End the membership, by ``actor`` (None: ``DOE_ACTOR`` or the login name); False when
        there was none. The audit rows keep who had added it and when."""
        acting = _acting(actor)

        def remove(conn: Connection) -> bool:
            user = self._user_row(conn, username)
            campaign_id = self._campaign_id(conn, campaign)
            m = s.memberships
            where = (m.c.user_id == user.id, m.c.campaign_id == campaign_id)
            ended = conn.execute(sa.delete(m).where(*where).returning(m.c.added_at, m.c.added_by)).first()
            if ended is None:
                return False
            now = _now()
            added = {"added_by": ended.added_by, "added_at": iso_time(ended.added_at)}
            _audit(conn, now, acting, "member_removed", username, campaign=campaign, detail=added)
            conn.execute(sa.insert(s.audit_log).values(audit_row(
                campaign_id, now, acting, "member_removed", None, {"user": username, **added})))
            return True

        return bool(self._write(remove))

    def members(self, campaign: str | None = None) -> pd.DataFrame:
        """campaign, username, role, added_at, added_by (of one campaign, or of all)."""
        def read(conn: Connection) -> list[Any]:
            query = (sa.select(s.campaigns.c.name.label("campaign"), s.users.c.username, s.users.c.role,
                               s.memberships.c.added_at, s.memberships.c.added_by)
                     .join(s.users, s.users.c.id == s.memberships.c.user_id)
                     .join(s.campaigns, s.campaigns.c.id == s.memberships.c.campaign_id)
                     .order_by(s.campaigns.c.name, s.users.c.username))
            if campaign is not None:
                query = query.where(s.campaigns.c.id == self._campaign_id(conn, campaign))
            return list(conn.execute(query).all())

        rows = self._read(read)
        return pd.DataFrame([dict(r._mapping) for r in rows],
                            columns=["campaign", "username", "role", "added_at", "added_by"])

    def campaigns_of(self, username: str) -> frozenset[str]:
        """The names of the campaigns ``username`` is a member of."""
        rows = self._read(lambda conn: conn.execute(
            sa.select(s.campaigns.c.name)
            .join(s.memberships, s.memberships.c.campaign_id == s.campaigns.c.id)
            .join(s.users, s.users.c.id == s.memberships.c.user_id)
            .where(s.users.c.username == username)).scalars().all())
        return frozenset(str(r) for r in rows)


__all__ = ["AUDIT_COLUMNS", "ROLES", "AccountAction", "AccountStore", "User", "check_email", "check_username"]
