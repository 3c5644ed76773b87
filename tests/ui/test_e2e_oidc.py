"""Single sign-on in a real browser: a real OpenID Connect provider (panva's node-oidc-provider,
OpenID Certified, installed by ``npm ci --prefix tests/oidc`` in scripts/test.sh) and
``streamlit run app.py`` signing in through Streamlit's own ``st.login``, driven by Chromium:
an SSO engineer records only in their campaign, a new SSO user gets the default role (viewer)
and cannot record, sign out; an e-mail the provider has not verified signs in nobody."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from doe.auth.accounts import Accounts
from doe.campaign import Campaign
from doe.ui.components import WORD_JOINER

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    RUN_COUNTER,
    chromium,
    click,
    free_port,
    open_page,
    open_record_page,
    settled,
    streamlit_app,
)

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
STEP_MS = 120_000
pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def provider_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """The OIDC provider on a free port; yields (provider port, the app's port)."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the OIDC test provider is not installed: run `npm ci --prefix tests/oidc` "
                    "(scripts/test.sh does); node 20+ is needed", pytrace=False)
    port, app_port = free_port(), free_port()
    log_path = tmp_path_factory.mktemp("oidc") / "provider.log"
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": "doe-test",
           "OIDC_CLIENT_SECRET": "doe-test-secret",
           "OIDC_REDIRECT_URI": f"http://127.0.0.1:{app_port}/oauth2callback"}
    with log_path.open("w") as log:
        process = subprocess.Popen([node, str(OIDC_DIR / "provider.mjs")], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the OIDC provider did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield port, app_port
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider_port: tuple[int, int]) -> Iterator[tuple[str, str]]:
    port, app_port = provider_port
    folder = tmp_path_factory.mktemp("e2e-oidc")
    db_url = f"sqlite:///{folder / 'oidc.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="theirs", actor="fixture")
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="mine", actor="fixture")
    accounts = Accounts(db_url)
    accounts.add_user("eng@lab.example", "engineer", password=None, actor="fixture")
    accounts.store.add_member("mine", "eng@lab.example", actor="fixture")
    # Streamlit reads [auth] from ./.streamlit/secrets.toml (the server runs in `folder`).
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "doe-test-cookie-secret-0123456789abcdef"\n'
        'client_id = "doe-test"\n'
        'client_secret = "doe-test-secret"\n'
        f'server_metadata_url = "http://127.0.0.1:{port}/.well-known/openid-configuration"\n'
        # node-oidc-provider knows login/consent/none, not Streamlit's default select_account
        'client_kwargs = { prompt = "login" }\n')
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast"}
    with streamlit_app(folder, env, port=app_port) as base:
        yield base, db_url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@contextmanager
def _new_page(browser: object) -> Iterator[Any]:
    """A page of a fresh browser context (its own cookies: nobody signed in), closed after."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    context.add_init_script(RUN_COUNTER)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    try:
        yield page
    finally:
        context.close()


def _signed_in_as(email: str, role: str) -> re.Pattern[str]:
    """The sidebar's "Signed in as" line for ``email`` (a word joiner may precede its "@")."""
    user, domain = email.split("@")
    return re.compile(rf"Signed in as {re.escape(user)}{WORD_JOINER}?@{re.escape(domain)} \({role}\)")


def _sso_sign_in(page: object, base: str, account: str, *, refused: bool = False) -> None:
    """Through the provider's own login and consent screens, back into the app (``refused``:
    the app answers with an error instead of its pages)."""
    page.goto(base)  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Sign in to doe").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in with single sign-on").click()  # type: ignore[attr-defined]
    page.locator("input[name=login]").fill(account)  # type: ignore[attr-defined]
    page.locator("input[name=password]").fill("ignored-by-dev-interactions")  # type: ignore[attr-defined]
    page.locator("button[type=submit]").click()  # type: ignore[attr-defined]
    consent = page.locator("button[type=submit]", has_text="Continue")  # type: ignore[attr-defined]
    consent.wait_for()
    consent.click()
    page.wait_for_url(f"{base}/**")  # type: ignore[attr-defined]
    page.get_by_test_id("stAlertContentError" if refused else "stSidebar").wait_for()  # type: ignore[attr-defined]
    settled(page)


def test_sso_sign_in_roles_and_sign_out(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    expect.set_options(timeout=STEP_MS)
    with _new_page(browser) as page:
        # No built-in accounts: the sign-in page offers single sign-on only.
        page.goto(base)
        page.get_by_role("button", name="Sign in with single sign-on").wait_for()
        settled(page)
        expect(page.get_by_label("Password", exact=True)).to_have_count(0)

        _sso_sign_in(page, base, "eng")
        # (the e-mail is plain text: an invisible word joiner before "@" keeps Markdown from linking it)
        expect(page.get_by_test_id("stSidebar")).to_contain_text(_signed_in_as("eng@lab.example", "engineer"))
        expect(page.get_by_test_id("stSidebar").locator("a[href^='mailto:']")).to_have_count(0)
        open_record_page(page, "theirs")
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("not a member of campaign theirs")
        expect(page.get_by_role("button", name="Mark failed")).to_have_count(0)
        open_record_page(page, "mine")
        expect(page.get_by_role("button", name="Mark failed")).to_have_count(1)
        # what the SSO engineer changes is recorded under their account (the e-mail)
        open_page(page, "Plan")
        page.get_by_role("heading", name="Plan: mine").wait_for()
        click(page, page.get_by_role("button", name="Suggest experiments"))
        page.get_by_role("button", name="Accept: the lab starts them").wait_for()
        assert "eng@lab.example" in set(Campaign.load("mine", storage=db_url).audit()["actor"])

        # st.logout ends the provider's session too: the provider asks, then sends us back.
        page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        page.locator("button[type=submit]", has_text="Yes, sign me out").click()
        page.get_by_role("heading", name="Sign in to doe").wait_for()
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)

    # A first-time SSO user gets an account with the default role: viewer.
    with _new_page(browser) as page:
        _sso_sign_in(page, base, "vic")
        expect(page.get_by_test_id("stSidebar")).to_contain_text(_signed_in_as("vic@lab.example", "viewer"))
        expect(page.get_by_test_id("stSidebar")).not_to_contain_text("Database:")
        open_record_page(page, "mine")
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("viewers read campaigns but cannot")
        assert Accounts(db_url).store.get_user("vic@lab.example").role == "viewer"
        assert not page.get_by_test_id("stException").count()


def test_sso_refuses_an_email_the_provider_has_not_verified(server: tuple[str, str], browser: object) -> None:
    """Provider account "unverified-eng" claims eng@lab.example with email_verified false (an
    address typed into a profile, as Keycloak's account console or Entra ID's mail attribute
    allow): it signed in as the engineer who owns that address. Now it is refused."""
    from playwright.sync_api import expect

    base, db_url = server
    users_before = Accounts(db_url).store.users().to_json()
    expect.set_options(timeout=STEP_MS)
    with _new_page(browser) as page:
        _sso_sign_in(page, base, "unverified-eng", refused=True)
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
            "does not say that the e-mail")
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("is verified")
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
        expect(page.get_by_role("button", name="Sign out")).to_have_count(1)
        assert not page.get_by_test_id("stException").count()
        # a reload in the same session is refused again (st.user keeps the claims)
        page.reload()
        page.get_by_test_id("stAlertContentError").wait_for()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert Accounts(db_url).store.users().to_json() == users_before  # no account made or changed


@pytest.mark.parametrize("then", ["page run", "reload"])
def test_an_sso_session_from_before_a_disable_is_signed_out_after_a_quick_enable(
        server: tuple[str, str], browser: object, then: str) -> None:
    """`doe user disable` then `doe user enable` (a stolen laptop, the person back the next day)
    before the open tab's next page run: the single-sign-on session went on as the engineer, as
    the account was checked only for being disabled now. Now it is signed out at that run (and
    the provider's session and Streamlit's identity cookie with it); signing in again works.
    A reload (a new app session on the same identity cookie) is signed out too: it was dated by
    its own first run, so it went on."""
    from playwright.sync_api import expect

    base, db_url = server
    store = Accounts(db_url).store
    expect.set_options(timeout=STEP_MS)
    try:
        with _new_page(browser) as page:
            _sso_sign_in(page, base, "eng")
            expect(page.get_by_test_id("stSidebar")).to_contain_text(_signed_in_as("eng@lab.example", "engineer"))
            open_page(page, "History")
            store.set_disabled("eng@lab.example", True, actor="fixture")
            store.set_disabled("eng@lab.example", False, actor="fixture")
            # the next page run: signed out through the provider (it asks), then back at the sign-in page
            if then == "reload":
                page.reload()
            else:
                page.get_by_test_id("stSidebarNavLink").filter(has_text="Plan").click()
            page.locator("button[type=submit]", has_text="Yes, sign me out").click()
            page.get_by_role("heading", name="Sign in to doe").wait_for()
            settled(page)
            expect(page.get_by_text("Signed in as")).to_have_count(0)
            expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
            page.reload()  # the identity cookie is gone too: a reload does not bring the session back
            page.get_by_role("heading", name="Sign in to doe").wait_for()
            settled(page)
            expect(page.get_by_text("Signed in as")).to_have_count(0)
            _sso_sign_in(page, base, "eng")  # a new sign-in, after the enable, goes on
            expect(page.get_by_test_id("stSidebar")).to_contain_text(_signed_in_as("eng@lab.example", "engineer"))
            open_page(page, "History")
            expect(page.get_by_test_id("stSidebar")).to_contain_text(_signed_in_as("eng@lab.example", "engineer"))
            assert not page.get_by_test_id("stException").count()
    finally:
        store.set_disabled("eng@lab.example", False, actor="fixture")
