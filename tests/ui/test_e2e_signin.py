"""Built-in accounts in a real browser: ``streamlit run app.py`` on an SQLite file with accounts,
driven through Debian's headless Chromium with Playwright: sign in, a viewer cannot record, an
engineer cannot record in a campaign they are not a member of, sign out."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doe.auth.accounts import Accounts
from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    RUN_COUNTER,
    chromium,
    click,
    open_page,
    open_record_page,
    settled,
    streamlit_app,
    type_in_grid,
)

STEP_MS = 120_000
pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("e2e-signin")
    db_url = f"sqlite:///{folder / 'signin.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="theirs", actor="fixture")
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="mine", actor="fixture")
    accounts = Accounts(db_url)
    accounts.add_user("vic", "viewer", password="vic-password", actor="fixture")
    accounts.add_user("eng", "engineer", password="eng-password", actor="fixture")
    accounts.store.add_member("mine", "eng", actor="fixture")
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast"}
    with streamlit_app(folder, env) as base:
        yield base, db_url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b

@contextlib.contextmanager
def _page(browser: object, **options: object) -> Iterator[Any]:
    """A page of a new browser context, counting the app's runs and waiting up to STEP_MS a step;
    the context is closed after."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, **options)  # type: ignore[attr-defined]
    context.add_init_script(RUN_COUNTER)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    expect.set_options(timeout=STEP_MS)
    try:
        yield page
    finally:
        context.close()


def _sign_out(page: object) -> None:
    # Signing out may move the browser off the page it was on (the page list shrinks to the
    # sign-in form), which restarts the run counter: wait for the form, not for a run count.
    settled(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Sign in to doe").wait_for()  # type: ignore[attr-defined]
    settled(page)


def _sign_in(page: object, user: str, password: str) -> None:
    page.get_by_role("heading", name="Sign in to doe").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("User name", exact=True).fill(user)  # type: ignore[attr-defined]
    page.get_by_label("Password", exact=True).fill(password)  # type: ignore[attr-defined]
    click(page, page.get_by_role("button", name="Sign in"))  # type: ignore[attr-defined]


def test_sign_in_roles_and_sign_out(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    with _page(browser) as page:
        page.goto(base)
        _sign_in(page, "vic", "wrong-password")
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("wrong user name or password")
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)  # nothing shown yet

        # A viewer reads but cannot record; the database URL is not shown.
        _sign_in(page, "vic", "vic-password")
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_contain_text("Signed in as vic (viewer)")
        expect(sidebar).not_to_contain_text("Database:")
        open_record_page(page, "mine")
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("viewers read campaigns but cannot")
        expect(page.get_by_role("button", name="Save results")).to_have_count(0)
        expect(page.get_by_role("button", name="Mark failed")).to_have_count(0)

        # Sign out: back to the sign-in form, nothing readable.
        _sign_out(page)
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)

        # An engineer records only in the campaigns they belong to.
        _sign_in(page, "eng", "eng-password")
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as eng (engineer)")
        open_record_page(page, "theirs")
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("not a member of campaign theirs")
        expect(page.get_by_role("button", name="Mark failed")).to_have_count(0)
        open_record_page(page, "mine")
        expect(page.get_by_role("button", name="Mark failed")).to_have_count(1)
        _sign_out(page)
        assert not page.get_by_test_id("stException").count()
        assert Campaign.load("mine", storage=db_url).history().empty  # nobody changed anything


def test_a_disabled_account_downloads_nothing_from_the_page_it_still_has_open(
        server: tuple[str, str], browser: object) -> None:
    """A download button's file is made when it is clicked, without a page run: a viewer whose
    account was disabled while their History page stayed open still got the whole campaign as
    JSON (with what was stored after the disable) until they next touched a widget."""
    from playwright.sync_api import expect

    base, db_url = server
    store = Accounts(db_url).store
    with _page(browser, accept_downloads=True) as page:
        try:
            page.goto(base)
            _sign_in(page, "vic", "vic-password")
            open_record_page(page, "mine")
            open_page(page, "History")
            export = page.get_by_test_id("stDownloadButton").filter(has_text="Export the whole campaign (JSON)")
            with page.expect_download() as download:  # type: ignore[attr-defined]
                export.get_by_role("button").click()
            assert '"name": "mine"' in Path(download.value.path()).read_text(encoding="utf-8")
            downloads: list[object] = []
            page.on("download", lambda d: downloads.append(d))  # type: ignore[attr-defined]
            store.set_disabled("vic", True, actor="fixture")
            export.get_by_role("button").click()
            expect(export.get_by_test_id("stDownloadButtonError")).to_be_visible()
            assert downloads == []
            assert not page.get_by_test_id("stException").count()
        finally:
            store.set_disabled("vic", False, actor="fixture")


def test_the_next_person_on_a_shared_tab_does_not_save_what_the_last_one_typed(
        server: tuple[str, str], browser: object) -> None:
    """A shared lab computer: eng typed a result into the Record grid, did not save it and signed
    out; eng2 signed in on the same tab, opened Record and pressed Save results: eng's value was
    recorded, under eng2's name (the browser session kept eng's unsaved values for the next person)."""
    from playwright.sync_api import expect

    from doe.ui.tables import record_grid

    base, db_url = server
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="shared-tab", actor="fixture")
    campaign.suggest(2)
    campaign.accept()
    shown = [c for c in record_grid(campaign.history(), campaign.config).columns
             if c not in campaign.config.parameter_names]
    accounts = Accounts(db_url)
    accounts.add_user("eng2", "engineer", password="eng2-password", actor="fixture")
    for name in ("eng", "eng2"):
        accounts.store.add_member("shared-tab", name, actor="fixture")
    with _page(browser) as page:
        page.goto(base)
        _sign_in(page, "eng", "eng-password")
        open_record_page(page, "shared-tab")
        type_in_grid(page, page.get_by_test_id("stDataFrame").first, 0, shown.index("first_cycle_ce_pct"), "12.5")
        _sign_out(page)
        _sign_in(page, "eng2", "eng2-password")
        open_record_page(page, "shared-tab")
        click(page, page.get_by_role("button", name="Save results"))
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("Nothing to save: no cell was changed")
        assert Campaign.load("shared-tab", storage=db_url).measurements().empty
        assert not page.get_by_test_id("stException").count()


def test_a_link_to_a_page_signs_in_and_lands_on_that_page_and_campaign(
        server: tuple[str, str], browser: object) -> None:
    """A link to a page opened while signed out (``/history?campaign=mine``) showed Streamlit's
    "Page not found" dialog over the sign-in form (only the sign-in page was known before sign-in),
    and after sign-in the person was on the first page, not the one of the link."""
    from playwright.sync_api import expect

    base, _ = server
    with _page(browser) as page:
        for link, user, password, heading in (("history?campaign=mine", "eng", "eng-password", "History: mine"),
                                              ("record?campaign=theirs", "vic", "vic-password", "Record: theirs")):
            page.goto(f"{base}/{link}")
            settled(page)
            page.get_by_role("heading", name="Sign in to doe").wait_for()
            expect(page.get_by_text("Page not found")).to_have_count(0)
            expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)  # nothing shown yet
            _sign_in(page, user, password)
            page.get_by_role("heading", name=heading).wait_for()  # the page and campaign of the link
            expect(page).to_have_url(f"{base}/{link}")
            expect(page.get_by_text("Page not found")).to_have_count(0)
            if user == "vic":  # a viewer may read the Record page, not record
                expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("viewers read campaigns but cannot")
            _sign_out(page)
        assert not page.get_by_test_id("stException").count()


def test_too_many_failed_sign_ins_lock_the_name_with_a_message(server: tuple[str, str], browser: object) -> None:
    """Anyone reaching the app's port could try passwords on an account without bound. After 5
    failures the sign-in form refuses that name, even with the right password, saying why and
    for how long, as it does for a name without an account; an admin ends the lock."""
    from playwright.sync_api import expect

    base, db_url = server
    accounts = Accounts(db_url)
    accounts.add_user("lou", "viewer", password="lou-password", actor="fixture")
    error = "stAlertContentError"
    with _page(browser) as page:
        page.goto(base)
        for name in ("lou", "nobody-here"):
            for _ in range(5):  # the README's limit
                _sign_in(page, name, "a-wrong-guess")
                expect(page.get_by_test_id(error)).to_contain_text("wrong user name or password")
        _sign_in(page, "lou", "lou-password")
        expect(page.get_by_test_id(error)).to_contain_text("too many failed sign-ins with this user name")
        expect(page.get_by_test_id(error)).to_contain_text("refused for 15 minutes")
        lou = page.get_by_test_id(error).inner_text()
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)  # not signed in
        _sign_in(page, "nobody-here", "lou-password")
        # the same words (the minute a lock ends aside): a name without an account is not told apart
        until = re.compile(r"until \d\d:\d\d UTC")
        expect(page.get_by_test_id(error)).to_have_text(re.compile(re.escape(until.sub("@", lou)).replace(
            "@", until.pattern)))
        assert accounts.store.clear_sign_in_lock("lou", actor="fixture")
        _sign_in(page, "lou", "lou-password")
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as lou (viewer)")
        _sign_out(page)
        assert not page.get_by_test_id("stException").count()
