"""Signing people in: built-in accounts (Argon2 passwords) and single-sign-on accounts.

Ties the account tables (:class:`doe.storage.accounts.AccountStore`) to hashing
(:mod:`doe.auth.passwords`) and the rules (:mod:`doe.domain.access`). The CLI and the web app
use this module; the stored hash never leaves it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from doe.auth.passwords import PasswordPolicyError, hash_password, needs_rehash, verify_password
from doe.domain.access import Identity, Role, parse_role
from doe.errors import DoeError, StorageError, shorten
from doe.storage.accounts import AccountStore, User, check_email

log = logging.getLogger(__name__)

SSO_DEFAULT_ROLE_ENV = "DOE_SSO_DEFAULT_ROLE"
"""Role of a single-sign-on user without an account (``viewer``, ``engineer``, ``admin`` or
``none``: refuse them until an admin adds them); default ``viewer``."""

MAX_FAILED_SIGN_INS = 5
"""Failed password sign-ins with one user name within :data:`FAILED_SIGN_IN_WINDOW` that lock
it for :data:`SIGN_IN_LOCKOUT` (``doe user enable NAME`` ends a lock at once)."""
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_LOCKOUT = timedelta(minutes=15)

# A valid hash of a random password: verifying against it costs what a real check costs, so a
# wrong user name takes as long as a wrong password (no user-name probing by timing).
_DUMMY_HASH = hash_password("not-a-password-of-anyone")


class AuthError(DoeError):
    """A refused sign-in or account change (the message says what to do)."""


@dataclass(frozen=True)
class PasswordSession:
    """A sign-in with a password as the web app keeps it between page runs: the account name,
    a stamp of the password it was signed in with (a SHA-256 digest of the stored hash, never
    the hash) and the database's time at the sign-in, so that :meth:`Accounts.current` ends it
    once the password changes or the account is disabled, also when it is enabled again before
    the session's next page run."""

    username: str
    password_stamp: str
    signed_in_at: datetime


@dataclass(frozen=True)
class SsoSession:
    """A single-sign-on sign-in as the web app keeps it between page runs: the identity
    provider's e-mail and when it signed in (:func:`sso_signed_in_at`)."""

    email: str
    signed_in_at: datetime


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def _locked_message(locked_until: datetime) -> str:
    """The refusal of a locked user name: the same whether or not an account has that name."""
    minutes = int(SIGN_IN_LOCKOUT.total_seconds() // 60)
    return (f"too many failed sign-ins with this user name ({MAX_FAILED_SIGN_INS} within "
            f"{int(FAILED_SIGN_IN_WINDOW.total_seconds() // 60)} minutes): its password sign-in is refused for "
            f"{minutes} minutes, until {locked_until:%H:%M} UTC. Try again then, or ask an admin to end the lock "
            "(doe user enable NAME)")


def email_verified(claims: Mapping[str, object]) -> bool:
    """Whether an identity provider's ``claims`` (the ID token's, as Streamlit's ``st.user``
    holds them) vouch for the e-mail: ``email_verified`` is JSON true (OpenID Connect's claim;
    Okta, Keycloak and Google send it), or, where there is no ``email_verified`` claim,
    ``xms_edov`` is JSON true (Entra ID's optional claim: the e-mail's domain is verified by the
    user's tenant). Anything else (no claim, false, the text "true") is not verified."""
    verified = claims.get("email_verified")
    if verified is None:
        verified = claims.get("xms_edov")
    return verified is True


def sso_signed_in_at(claims: Mapping[str, object], first_seen: datetime) -> datetime:
    """When a single-sign-on session signed in: the ID token's issue time (its ``iat`` claim,
    seconds since 1970 on the provider's clock, as Streamlit's ``st.user`` holds it) where that is
    earlier than ``first_seen`` (the database's time this app session first let it in), else
    ``first_seen``. Streamlit's identity cookie outlives an app session (a reload, a new tab or a
    restarted app starts another with the same cookie), so an app session's first run alone would
    date an old sign-in as new and let it past a disable (:meth:`Accounts.current`); the two clocks
    differ by the provider's and the database server's drift only."""
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return first_seen
    try:
        return min(datetime.fromtimestamp(float(issued), UTC), first_seen)
    except (OverflowError, OSError, ValueError):  # not a time (nan, out of range)
        return first_seen


class Accounts:
    """The accounts of one database."""

    def __init__(self, url: str | None = None) -> None:
        self.store = AccountStore.open(url)

    # ------------------------------------------------------------------ administration
    def add_user(self, username: str, role: str, *, password: str | None, email: str | None = None,
                 actor: str) -> User:
        """A new account; ``password`` None makes a single-sign-on account (matched by e-mail)."""
        if password is None and email is None:
            email = username if "@" in username else None
            if email is None:
                raise AuthError(f"user {username!r}: give a password, or an e-mail for a single-sign-on account")
        try:
            password_hash = None if password is None else hash_password(password)
        except PasswordPolicyError as err:
            raise AuthError(f"password of {username!r}: {err}") from None
        return self.store.add_user(username, role, password_hash=password_hash, email=email, actor=actor)

    def set_password(self, username: str, password: str, *, actor: str | None = None) -> None:
        """A new password of ``username``, set by ``actor`` (None: ``DOE_ACTOR`` or the login
        name; the audit trail names the actor, never the password)."""
        try:
            password_hash = hash_password(password)
        except PasswordPolicyError as err:
            raise AuthError(f"password of {username!r}: {err}") from None
        self.store.set_password_hash(username, password_hash, actor=actor)

    # ------------------------------------------------------------------ signing in
    def identity(self, user: User, source: str = "local") -> Identity:
        return Identity(user.username, user.role, self.store.campaigns_of(user.username),
                        "oidc" if source == "oidc" else "local")

    def _password_user(self, username: str, password: str) -> tuple[User, str]:
        """The account of ``username`` and its stored hash if ``password`` is theirs (a weaker
        hash is replaced by a stronger one first); AuthError (one message for a wrong name, a
        wrong password or a disabled account) otherwise."""
        refused = AuthError("wrong user name or password (or the account is disabled)")
        typed = username if isinstance(username, str) else ""
        # Counted before the password is checked, in the database: no more than
        # MAX_FAILED_SIGN_INS guesses per window, however many app processes take them.
        locked_until = self.store.count_sign_in_attempt(typed, max_failures=MAX_FAILED_SIGN_INS,
                                                        window=FAILED_SIGN_IN_WINDOW, lockout=SIGN_IN_LOCKOUT)
        if locked_until is not None:
            raise AuthError(_locked_message(locked_until))
        user = self.store.find_user(username=username) if isinstance(username, str) and username else None
        if user is None or user.password_hash is None:
            verify_password(_DUMMY_HASH, password if isinstance(password, str) else "")
            raise refused
        if not verify_password(user.password_hash, password) or user.disabled:
            raise refused
        self.store.sign_in_succeeded(typed)
        stored = user.password_hash
        if needs_rehash(stored):
            stored = hash_password(password)
            self.store.set_password_hash(user.username, stored, actor=user.username, rehash=True)
        return user, stored

    def authenticate(self, username: str, password: str) -> Identity:
        """The identity of ``username`` if ``password`` is theirs; AuthError (one message for a
        wrong name, a wrong password or a disabled account) otherwise, and, once the name had
        :data:`MAX_FAILED_SIGN_INS` failures within :data:`FAILED_SIGN_IN_WINDOW`, AuthError saying
        that its password sign-in is refused for :data:`SIGN_IN_LOCKOUT` (the same for a name
        without an account); a success forgets the failures."""
        return self.identity(self._password_user(username, password)[0])

    def sign_in(self, username: str, password: str) -> tuple[Identity, PasswordSession]:
        """As :meth:`authenticate`, with the :class:`PasswordSession` the web app keeps."""
        signed_in_at = self.store.now()  # before the account is read: a disable after it ends the session
        user, stored = self._password_user(username, password)
        return self.identity(user), PasswordSession(user.username, _stamp(stored), signed_in_at)

    def current(self, username: str, source: str = "local", *, password_stamp: str | None = None,
                signed_in_at: datetime | None = None) -> Identity | None:
        """The identity of a signed-in ``username`` read afresh (None if gone or disabled; given
        the ``password_stamp`` of a :class:`PasswordSession`, if the password is no longer the one
        signed in with; given a session's ``signed_in_at`` (the database's time), if the account
        was disabled since, even if enabled again), so a role change, a disabled account or a new
        password takes effect on the next page run. A stronger hash of the same password, stored
        at another sign-in, also counts as a new password."""
        user = self.store.find_user(username=username)
        if user is None or user.disabled:
            return None
        if password_stamp is not None and (user.password_hash is None or not hmac.compare_digest(
                _stamp(user.password_hash), password_stamp)):
            return None
        if signed_in_at is not None and user.disabled_at is not None and signed_in_at <= user.disabled_at:
            return None
        return self.identity(user, source)

    def sso_identity(self, email: str | None, *, verified: bool, default_role: str | None = None) -> Identity:
        """The identity of a single-sign-on user, matched by the account's stored e-mail (an
        account an admin added) or created with the default role (``DOE_SSO_DEFAULT_ROLE``,
        default viewer).

        ``verified``: whether the identity provider vouches for ``email`` (:func:`email_verified`
        of its claims); an e-mail it does not vouch for is refused (AuthError), as it may be
        anybody's: a user who typed another person's address into their profile at the provider
        would otherwise sign in as that person.

        Only the stored e-mail counts, never the user name: an account named ``boss@lab.example``
        whose e-mail is another address (or that has none) is not signed in by single sign-on for
        that address (AuthError saying so): a user name is chosen by whoever adds the account,
        the e-mail is what the identity provider vouches for.
        """
        if not email:
            raise AuthError("the identity provider sent no e-mail for this user; doe matches SSO users "
                            "by e-mail (add the 'email' scope to the client)")
        if verified is not True:
            raise AuthError(f"the identity provider does not say that the e-mail {shorten(email, 120)} is verified "
                            "(its email_verified claim is not true), so doe does not sign it in: an unverified "
                            "e-mail may be another person's. Verify the address at the identity provider (with "
                            "Entra ID, add the optional ID-token claim xms_edov), then sign in again")
        try:
            mail = check_email(email)
        except StorageError as err:
            raise AuthError(f"the identity provider's e-mail for this user is not usable: {err}") from None
        user = self.store.find_user(email=mail)
        if user is not None:
            if user.disabled:
                raise AuthError(f"the account of {mail} is disabled; ask an admin")
            return self.identity(user, "oidc")
        role_text = default_role if default_role is not None else os.environ.get(SSO_DEFAULT_ROLE_ENV, "viewer")
        if role_text.strip().lower() == "none":
            raise AuthError(f"{mail} has no doe account; ask an admin to add one (doe user add {mail} "
                            "--role viewer --sso)")
        try:
            role: Role = parse_role(role_text, SSO_DEFAULT_ROLE_ENV)
        except ValueError as err:
            raise AuthError(str(err)) from None
        log.info("first sign-in of %s by single sign-on: account created with role %s", mail, role)
        try:
            user = self.store.add_user(mail, role, password_hash=None, email=mail, actor="sso")
        except DoeError as err:  # created concurrently by another session, or refused (a twin's name)
            user = self.store.find_user(email=mail)
            if user is None:
                raise AuthError(f"{mail} signed in by single sign-on for the first time, but no account could be made "
                                f"for it: {err}. Ask an admin to give the existing account this e-mail, or to add "
                                "one for it") from None
        return self.identity(user, "oidc")


__all__ = ["FAILED_SIGN_IN_WINDOW", "MAX_FAILED_SIGN_INS", "SIGN_IN_LOCKOUT", "SSO_DEFAULT_ROLE_ENV", "Accounts",
           "AuthError", "PasswordSession", "SsoSession", "email_verified", "sso_signed_in_at"]
