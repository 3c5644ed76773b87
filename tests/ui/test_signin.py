"""Sign-in and role limits in the web app, run in-process by Streamlit's AppTest on a real
SQLite file with built-in accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from doe.auth.accounts import Accounts
from doe.campaign import Campaign, list_campaigns
from doe.ui import state

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 180


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    monkeypatch.setenv("DOE_ACTOR", "not-used-once-accounts-exist")
    Campaign.from_config("hfo2-ncm85", storage=url, name="theirs", actor="fixture")
    accounts = Accounts(url)
    accounts.add_user("root", "admin", password="root-password", actor="fixture")
    accounts.add_user("vic", "viewer", password="vic-password", actor="fixture")
    accounts.add_user("eng", "engineer", password="eng-password", actor="fixture")
    return url


def _texts(elements: Any) -> str:
    return "\n".join(str(e.value) for e in elements)


def _sign_in(user: str, password: str, page: str | None = None, campaign: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if campaign is not None:
        at.session_state[state.NEXT_CAMPAIGN] = campaign
    at.run()
    assert "Sign in to doe" in _texts(at.title)
    at.text_input(key=state.SIGN_IN_USER).set_value(user)
    at.text_input(key=state.SIGN_IN_PASSWORD).set_value(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    if page is not None:
        at.switch_page(f"doe/ui/pages/{page}.py").run()
    return at


def test_nothing_shows_before_sign_in_and_a_wrong_password_is_refused(db_url: str) -> None:
    at = _sign_in("root", "wrong-password")
    assert "wrong user name or password" in _texts(at.error)
    assert "Sign in to doe" in _texts(at.title)
    assert not at.dataframe  # no campaign listed to a visitor
    assert state.USER not in at.session_state


def test_admin_signs_in_sees_the_database_and_the_audit_names_them(db_url: str) -> None:
    at = _sign_in("root", "root-password")
    assert "Signed in as root (admin)" in _texts(at.sidebar.caption)
    assert "Database:" in _texts(at.sidebar.caption)
    at.text_input(key=state.NEW_NAME).set_value("by-root")
    next(b for b in at.button if b.label == "Create campaign").click().run()
    assert "by-root" in list_campaigns(db_url)["name"].tolist()
    assert set(Campaign.load("by-root", storage=db_url).audit()["actor"]) == {"root"}


def test_viewer_reads_but_cannot_record_or_create(db_url: str) -> None:
    at = _sign_in("vic", "vic-password")
    assert "Signed in as vic (viewer)" in _texts(at.sidebar.caption)
    assert "Database:" not in _texts(at.sidebar.caption)
    assert "Only an admin can create or import campaigns" in _texts(at.info)
    assert not [b for b in at.button if b.label == "Create campaign"]
    at.switch_page("doe/ui/pages/record.py").run()
    assert "viewers read campaigns but cannot record results" in _texts(at.info)
    assert not [b for b in at.button if b.label == "Save results"]
    at.switch_page("doe/ui/pages/history.py").run()
    assert not at.exception


def test_engineer_records_only_in_campaigns_they_belong_to(db_url: str) -> None:
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="mine", actor="fixture")
    Accounts(db_url).store.add_member("mine", "eng", actor="fixture")
    at = _sign_in("eng", "eng-password", page="record", campaign="theirs")
    assert "not a member of campaign theirs" in _texts(at.info)
    assert not [b for b in at.button if b.label == "Mark failed"]
    mine = _sign_in("eng", "eng-password", page="plan", campaign="mine")
    assert not [m for m in mine.info if "not a member" in str(m.value)]
    assert [b for b in mine.button if b.label == "Suggest experiments"]


def test_sign_out_and_a_disabled_account_end_the_session(db_url: str) -> None:
    at = _sign_in("root", "root-password")
    at.sidebar.button(key=state.SIGN_OUT).click().run()
    assert "Sign in to doe" in _texts(at.title)
    again = _sign_in("eng", "eng-password")
    Accounts(db_url).store.set_disabled("eng", True)
    again.run()
    assert "Sign in to doe" in _texts(again.title)
    assert "disabled or removed" in _texts(again.warning)


def test_a_new_password_ends_a_session_signed_in_with_the_old_one(db_url: str) -> None:
    """After `doe user passwd eng` (a leaked password reset), the session signed in with the
    old password stayed signed in: only the account name was kept."""
    eng = _sign_in("eng", "eng-password")
    vic = _sign_in("vic", "vic-password")
    assert "Signed in as eng (engineer)" in _texts(eng.sidebar.caption)
    Accounts(db_url).set_password("eng", "new-eng-password", actor="root")
    eng.run()
    assert not eng.exception, [e.value for e in eng.exception]
    assert "Sign in to doe" in _texts(eng.title) and "Signed in as" not in _texts(eng.sidebar.caption)
    assert "password was changed" in _texts(eng.warning)
    assert not eng.dataframe and state.USER not in eng.session_state
    vic.run()  # another account's session goes on
    assert "Signed in as vic (viewer)" in _texts(vic.sidebar.caption)
    again = _sign_in("eng", "new-eng-password")
    assert "Signed in as eng (engineer)" in _texts(again.sidebar.caption)
    Accounts(db_url).store.set_role("eng", "viewer", actor="root")  # a role change keeps the session
    again.run()
    assert "Signed in as eng (viewer)" in _texts(again.sidebar.caption)


def test_with_every_account_disabled_the_app_stays_closed(db_url: str) -> None:
    """Once no enabled account with a password was left (an admin disabling accounts in an
    incident), the app opened to anyone as an admin acting as DOE_ACTOR."""
    store = Accounts(db_url).store
    for name in ("root", "vic", "eng"):
        store.set_disabled(name, True)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Sign in to doe" in _texts(at.title)
    assert "No account can sign in here" in _texts(at.warning) and "doe user enable NAME" in _texts(at.warning)
    assert not at.dataframe and state.IDENTITY not in at.session_state
    assert "Acting as" not in _texts(at.sidebar.caption)
    store.set_disabled("root", False)
    assert _sign_in("root", "root-password").session_state[state.IDENTITY].username == "root"


def test_the_not_a_member_note_shows_the_campaign_name_literally(db_url: str) -> None:
    """Found in a browser walk: the refusal named the campaign in Markdown, so '**b**' was bold,
    '[l](javascript:...)' a link and '$x^2$' a formula."""
    hostile = "**b** [l](javascript:alert(1)) $x^2$ :red[x]"
    Campaign.from_config("hfo2-ncm85", storage=db_url, name=hostile, actor="fixture")
    at = _sign_in("eng", "eng-password", page="record", campaign=hostile)
    note = next(str(m.value) for m in at.info if "not a member" in str(m.value))
    assert "\\*\\*b\\*\\*" in note and "\\[l\\]\\(javascript" in note and "\\$x\\^2\\$" in note
    assert "**b**" not in note and "](" not in note


def _asked_then_restored_without_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's database (DOE_DATABASE_URL) had an admin the app asked to sign in, then was
    restored (``--force``) from a backup taken before any account existed."""
    from doe.storage.backup import backup, restore

    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    Campaign.from_config("hfo2-ncm85", storage=url, name="line", actor="fixture")
    backup(url, tmp_path / "no-accounts.sqlite3")
    Accounts(url).add_user("root", "admin", password="root-password", actor="fixture")
    assert _sign_in("root", "root-password").session_state[state.IDENTITY].username == "root"
    restore(url, tmp_path / "no-accounts.sqlite3", force=True)


def test_an_app_that_asked_for_a_sign_in_stays_closed_after_a_restore_without_accounts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared server asked for a sign-in; `doe restore --force` of a backup taken before any
    account existed made it an open app where every visitor was an admin."""
    _asked_then_restored_without_accounts(tmp_path, monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Sign in to doe" in _texts(at.title), _texts(at.title)
    assert "No account exists in this database" in _texts(at.warning)
    assert "doe user add NAME --role admin" in _texts(at.warning)
    assert state.IDENTITY not in at.session_state and not at.dataframe


def test_an_app_started_to_ask_for_a_sign_in_never_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`doe app` started with accounts marks its server so (a new process there, e.g. a restarted
    replica, has seen no account yet): with none in the database it asks for one all the same."""
    from doe.auth.serving import SIGN_IN_REQUIRED_ENV

    url = f"sqlite:///{tmp_path / 'marked.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    monkeypatch.setenv(SIGN_IN_REQUIRED_ENV, "1")
    Campaign.from_config("hfo2-ncm85", storage=url, name="line", actor="fixture")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Sign in to doe" in _texts(at.title) and "No account exists in this database" in _texts(at.warning)
    assert state.IDENTITY not in at.session_state


def test_where_the_database_is_is_not_shown_to_a_visitor_or_a_viewer(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The README shows the database URL to admins only, but a database the app could not open
    was named by its URL (for PostgreSQL: the user, host, port and database) in the error shown on
    the sign-in page to anyone who reached the port."""
    folder = tmp_path / "secret-place" / "doe.sqlite3"
    folder.mkdir(parents=True)  # a folder where the file should be: the database cannot be opened
    url = f"sqlite:///{folder}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    shown = _texts(at.error)
    assert "cannot open database" in shown and "secret-place" not in shown, shown
    from doe.ui.components import HIDDEN_ADDRESS

    assert HIDDEN_ADDRESS in shown.replace("\\", "")


def test_an_app_that_asked_for_a_sign_in_stays_closed_after_its_caches_are_cleared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any browser connected to the server, signed in or not, can send Streamlit's "clear
    cache" message (the menu hides it; the websocket takes it), which empties st.cache_resource:
    the server's memory that it had asked for a sign-in was kept there, so after a backup without
    accounts was restored under it, one such message opened the app to every visitor as an admin."""
    import streamlit as st

    _asked_then_restored_without_accounts(tmp_path, monkeypatch)
    st.cache_resource.clear()  # what Streamlit does for a "clear cache" message from any browser
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Sign in to doe" in _texts(at.title), _texts(at.title)
    assert state.IDENTITY not in at.session_state and not at.dataframe
