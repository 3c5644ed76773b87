"""Sign-in for the web app: built-in accounts (a form), single sign-on (``st.login``), or none.

* No accounts in the database and no ``[auth]`` secrets: the app is open, as for local
  single-user use; the person acting is ``DOE_ACTOR`` (``doe app --actor``) or the login name,
  with every right (``doe app`` refuses to serve like that on a non-local address). An app
  that asked for a sign-in (``doe app`` started with accounts or single sign-on:
  :data:`doe.auth.serving.SIGN_IN_REQUIRED_ENV`; or this server process saw an account) never
  opens so: with no account left (a backup without accounts restored under it) nobody signs in.
* Built-in accounts: a sign-in form; the account name and a stamp of its password
  (:class:`doe.auth.accounts.PasswordSession`) are kept in ``st.session_state`` and the account
  read afresh on every run (a disabled account, a changed role or a changed password applies
  at once).
* Every session keeps the database's time of its sign-in; one that signed in before its
  account's latest disable is signed out at its next run, even if the account was enabled again.
* Single sign-on (OpenID Connect through Streamlit's ``st.login``/``st.user``/``st.logout``):
  the provider's e-mail is matched to a doe account (:meth:`doe.auth.accounts.Accounts.sso_identity`)
  when the provider says it is verified (:func:`doe.auth.accounts.email_verified`).

:func:`signed_in` runs first on every page run and stops the run until someone is signed in.
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from doe.auth.accounts import (
    Accounts,
    AuthError,
    PasswordSession,
    SsoSession,
    email_verified,
    sso_signed_in_at,
)
from doe.auth.serving import SIGN_IN_REQUIRED_ENV
from doe.domain.access import Identity
from doe.ui import state
from doe.ui.components import plain

logger = logging.getLogger(__name__)

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def accounts(url: str) -> Accounts:
    """The accounts of the database ``url`` (opened once per process)."""
    return Accounts(url)


def sso_configured() -> bool:
    """Whether Streamlit has an ``[auth]`` section in its secrets (single sign-on)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than answering no
        return False


def open_identity() -> Identity:
    """The person acting when no sign-in is configured (local single-user use)."""
    try:
        fallback = getpass.getuser()
    except Exception:  # no login name (some containers)
        fallback = "web"
    name = (os.environ.get("DOE_ACTOR") or "").strip() or fallback
    return Identity(name, "admin", source="open")


def _sso_user_email() -> str | None:
    email = st.user.get("email")
    return str(email) if email else None


_ASKED_FOR_SIGN_IN: set[str] = set()
"""The databases for which this server process asked for a sign-in, kept for the process in a
module (not in ``st.cache_resource``, which any browser connected to the server, signed in or
not, can empty with Streamlit's "clear cache" message). Adding to a set is atomic in CPython."""


def sign_in_required(url: str, any_accounts: bool) -> bool:
    """Whether the app on database ``url`` asks for a sign-in: it has accounts or single sign-on,
    ``doe app`` started it so, or it asked before in this process (it never opens again, whatever
    caches a browser clears)."""
    if any_accounts or sso_configured() or os.environ.get(SIGN_IN_REQUIRED_ENV) == "1":
        _ASKED_FOR_SIGN_IN.add(url)
    return url in _ASKED_FOR_SIGN_IN


def signed_in(url: str) -> Identity | None:
    """The identity of the person using the app; None while nobody is signed in (then show
    :func:`sign_in_page` and nothing else). A browser session that held another person's work
    (a shared lab computer: one signed out, the next signed in on the same tab) starts afresh
    (:func:`_session_of`)."""
    identity = _identity(url)
    if identity is not None:
        _session_of(identity)
        st.session_state[state.IDENTITY] = identity
    return identity


def _session_of(identity: Identity) -> None:
    """Drop everything the browser session kept for another person: their unsaved Record grid
    values, a table kept for a correction, forms opened on a configuration, messages. Saved by
    this person, those would be recorded under their name; the same person signing in again
    keeps their own."""
    owner = st.session_state.get(state.SESSION_OWNER)
    if owner is not None and owner != identity.username:
        logger.info("%r signed in on a session %r used: its kept state is dropped", identity.username, owner)
        for key in list(st.session_state.keys()):
            if key not in (state.USER, state.SSO_SESSION):
                del st.session_state[key]
    st.session_state[state.SESSION_OWNER] = identity.username


def _identity(url: str) -> Identity | None:
    store = accounts(url)
    sso = sso_configured()
    if not sign_in_required(url, store.store.any_accounts()):  # never once accounts existed: none left closes it
        return open_identity()
    if sso and st.user.is_logged_in:
        return _sso_identity(store)
    session = st.session_state.get(state.USER)
    if isinstance(session, PasswordSession):
        current = store.current(session.username, password_stamp=session.password_stamp,
                                signed_in_at=session.signed_in_at)
        if current is not None:
            return current
        st.session_state.pop(state.USER, None)
        st.session_state[state.SIGNED_OUT_NOTE] = ("Your account was disabled or removed, or its password was "
                                                   "changed; sign in again.")
    return None


def _sso_identity(store: Accounts) -> Identity:
    """The identity of the single-sign-on user of ``st.user``. When they signed in is kept
    (:class:`SsoSession`, :func:`doe.auth.accounts.sso_signed_in_at`: the ID token's time, also
    after a reload or in a new tab): once their account was disabled after it (even if enabled
    again since), the session is signed out (``st.logout``, which also
    ends the provider's session and Streamlit's identity cookie), so they must sign in again."""
    email = _sso_user_email()
    kept = st.session_state.get(state.SSO_SESSION)
    # read before the account: a disable after this moment ends the session
    since = kept if isinstance(kept, SsoSession) and kept.email == email else SsoSession(
        email or "", sso_signed_in_at(st.user, store.store.now()))
    try:
        identity = store.sso_identity(email, verified=email_verified(st.user))
    except AuthError as err:
        st.error(plain(err))
        st.button("Sign out", on_click=st.logout, key=state.SIGN_OUT)
        st.stop()
    if store.current(identity.username, "oidc", signed_in_at=since.signed_in_at) is None:
        logger.info("single-sign-on session of %r signed out: its account was disabled since it signed in",
                    identity.username)
        for key in (state.SSO_SESSION, state.IDENTITY):
            st.session_state.pop(key, None)
        st.logout()
        st.stop()
    st.session_state[state.SSO_SESSION] = since
    return identity


def while_signed_in(build: Callable[[], T]) -> Callable[[], T]:
    """``build`` for a download button's data (``st.download_button(data=...)``), run only while the
    person shown the button may still read: Streamlit calls it when the button is clicked, outside
    any page run, so :func:`signed_in` does not see the click. The account is read again first,
    as :func:`signed_in` reads it: disabled or gone, its password changed (a built-in account), or
    an account made since an open app showed the button (the app now asks for a sign-in), and
    ``build`` is not run: AuthError, no file (the browser says the download failed; the next page
    run shows the sign-in form)."""
    from doe.ui import resources

    who = st.session_state.get(state.IDENTITY)
    session = st.session_state.get(state.USER)
    sso = st.session_state.get(state.SSO_SESSION)
    store = accounts(resources.database_url())

    def checked() -> T:
        if not isinstance(who, Identity):
            still = False
        elif who.source == "open":
            still = not store.store.any_accounts() and os.environ.get(SIGN_IN_REQUIRED_ENV) != "1"
        elif who.source == "oidc":
            still = isinstance(sso, SsoSession) and store.current(
                who.username, "oidc", signed_in_at=sso.signed_in_at) is not None
        else:
            still = isinstance(session, PasswordSession) and session.username == who.username and store.current(
                session.username, password_stamp=session.password_stamp,
                signed_in_at=session.signed_in_at) is not None
        if not still:
            logger.info("download refused: %r is no longer signed in (account disabled or gone, or a new password)",
                        who.username if isinstance(who, Identity) else None)
            raise AuthError("you are no longer signed in (your account was disabled or removed, or its password was "
                            "changed): nothing was downloaded; sign in again")
        return build()

    return checked


def sign_in_page() -> None:
    """The only page shown before sign-in: the form, and the single-sign-on button."""
    from doe.ui import resources

    store = accounts(resources.database_url())
    sso = sso_configured()
    st.title("Sign in to doe")
    note = st.session_state.pop(state.SIGNED_OUT_NOTE, None)
    if note:
        st.warning(note)
    if not sso and not store.store.any_accounts():
        st.warning("No account exists in this database (a backup without accounts was restored, or the database "
                   "was replaced), so nobody can sign in; this server does not open without a sign-in. An admin adds "
                   "an account from the shell: doe user add NAME --role admin.")
    elif not sso and not store.store.has_accounts():
        st.warning("No account can sign in here: every account with a password is disabled (or the accounts sign in "
                   "with single sign-on, which this server does not offer). An admin enables one from the shell: "
                   "doe user enable NAME.")
    if sso:
        st.button("Sign in with single sign-on", type="primary", on_click=st.login, key=state.SSO_SIGN_IN)
        if not store.store.has_accounts():
            return
        st.caption("or with a doe account:")
    with st.form("sign_in"):
        username = st.text_input("User name", key=state.SIGN_IN_USER)
        password = st.text_input("Password", type="password", key=state.SIGN_IN_PASSWORD)
        submitted = st.form_submit_button("Sign in", type="primary" if not sso else "secondary")
    if not submitted:
        return
    try:
        _, session = store.sign_in(username.strip(), password)
    except AuthError as err:
        logger.info("refused sign-in for %r", username[:80])
        st.error(plain(err))
        return
    st.session_state[state.USER] = session
    st.session_state.pop(state.SIGN_IN_PASSWORD, None)
    st.rerun()


def sign_out() -> None:
    """Forget the signed-in account (and end the single-sign-on session)."""
    identity = st.session_state.get(state.IDENTITY)
    for key in (state.USER, state.IDENTITY, state.SIGN_IN_PASSWORD, state.SSO_SESSION):
        st.session_state.pop(key, None)
    if isinstance(identity, Identity) and identity.source == "oidc":
        st.logout()


def sidebar_account(identity: Identity) -> None:
    """Who is signed in, and the sign-out button (inside the sidebar)."""
    if identity.source == "open":
        st.caption(f"Acting as {plain(identity.username)} (no sign-in: local use)")
        return
    st.caption(f"Signed in as {plain(identity.username)} ({identity.role})")
    st.button("Sign out", on_click=sign_out, key=state.SIGN_OUT)


__all__ = ["accounts", "open_identity", "sidebar_account", "sign_in_required", "sign_out", "signed_in",
           "sso_configured", "while_signed_in"]
