"""The doe web app: ``streamlit run app.py`` (from a checkout) or ``doe app``, which serves
:mod:`doe.ui.launch.app` (so the app works from an installed package). ``streamlit run <this file>``
does not work: the ``pages/`` folder beside it makes Streamlit treat it as an old-style multipage app.

The entry sets up the page, asks for a sign-in where accounts or single sign-on are
configured (:mod:`doe.ui.signin`), the sidebar (who is signed in, which campaign) and the navigation
over the pages in :mod:`doe.ui.pages`; the pages read widgets, call :class:`doe.Campaign` and
render. The database is ``DOE_DATABASE_URL`` or the default SQLite file under ``DOE_HOME``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from doe.domain.access import Identity
from doe.storage.urls import mask_url
from doe.ui import components, resources, signin, state

logger = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
PAGES: tuple[tuple[str, str, str], ...] = (
    # file, title, icon
    ("campaigns.py", "Campaigns", ":material/folder_open:"),
    ("plan.py", "Plan", ":material/science:"),
    ("record.py", "Record", ":material/edit_note:"),
    ("insights.py", "Insights", ":material/insights:"),
    ("history.py", "History", ":material/history:"),
)
def configure_logging() -> None:
    """doe's log messages (and tracebacks of unexpected errors) go to the server's stderr."""
    root = logging.getLogger("doe")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False


def sidebar(url: str, demo: str | None, identity: Identity) -> None:
    """Who is signed in and which campaign is open."""
    with st.sidebar:
        signin.sidebar_account(identity)
        names = resources.campaigns(url)["name"].astype(str).tolist()
        wanted = st.session_state.pop(state.NEXT_CAMPAIGN, None)
        if wanted is None and state.CAMPAIGN not in st.session_state:
            wanted = st.query_params.get(state.URL_CAMPAIGN)  # a reload or a shared link
        if wanted in names:
            st.session_state[state.CAMPAIGN] = wanted
        archived_now = st.session_state.pop(state.ARCHIVED_NOW, None)
        if st.session_state.get(state.CAMPAIGN) not in names:
            gone = wanted if wanted is not None else st.session_state.get(state.CAMPAIGN)
            fallback = demo if demo in names else (names[0] if names else None)
            st.session_state[state.CAMPAIGN] = fallback
            # a link, reload or other tab: never another one unsaid (the campaign just archived here is said)
            if gone is not None and fallback is not None and gone != archived_now:
                components.flash("warning", f"Campaign {gone!r} is archived or does not exist (restore an archived one "
                                 f"on the Campaigns page); showing {fallback!r}.")
            if gone is not None:
                # this run's press or form was meant for the campaign gone: run again without it, so that
                # "Accept" or "Suggest" never acts on the campaign shown in its place (the warning follows)
                st.rerun()
        st.selectbox("Campaign", names, key=state.CAMPAIGN,
                     help="Archived campaigns are hidden; restore them on the Campaigns page.")
        components.keep_in_url(state.URL_CAMPAIGN, st.session_state.get(state.CAMPAIGN))
        if identity.role == "admin":  # the URL names the server and user: not for everyone
            st.caption(f"Database: `{mask_url(url)}`")


def sign_in_navigation() -> StreamlitPage:
    """The navigation before sign-in: the sign-in form, at its own address and at every page's
    address too, so a link or bookmark to a page (``/history?campaign=NAME``) shows the form
    (not Streamlit's "Page not found") and, once signed in, the run goes on at that page, with
    the link's campaign (the address and its query are kept)."""
    paths = ["sign-in", "home", *(file.removesuffix(".py") for file, _, _ in PAGES)]
    return st.navigation([st.Page(signin.sign_in_page, title="Sign in", url_path=path, default=path == "sign-in")
                          for path in paths], position="hidden")


def main() -> None:
    """Render one run of the app."""
    st.set_page_config(page_title="doe: coating campaigns", page_icon=":material/science:", layout="wide")
    configure_logging()
    st.session_state.pop(state.IDENTITY, None)  # who acts is known once signin.signed_in() ran in this run
    url = resources.database_url()
    demo: str | None = None
    with components.guard("opening the database") as opening:
        demo = resources.demo_campaign(url)
        resources.warm_up(url)  # once per server: recent campaigns' models fitted in the background
    if not opening.ok:
        st.stop()
    identity = None
    with components.guard("checking who is signed in") as checking:
        identity = signin.signed_in(url)
    if not checking.ok:
        st.stop()
    if identity is None:  # only the sign-in page, no navigation, no campaign names
        sign_in_navigation().run()
        return
    with components.guard("listing the campaigns") as listing:
        sidebar(url, demo, identity)
    if not listing.ok:
        st.stop()
    # The first page is the default, served at "/"; a link or bookmark with its own name
    # ("/campaigns") reaches it through a hidden page that sends the browser there.
    first, title, icon = PAGES[0]
    pages = [st.Page(PAGES_DIR / first, title=title, icon=icon, url_path="home", default=True)]
    pages += [st.Page(PAGES_DIR / file, title=title, icon=icon, url_path=file.removesuffix(".py"))
              for file, title, icon in PAGES[1:]]
    pages.append(st.Page(lambda: st.switch_page(pages[0]), title=title, url_path=first.removesuffix(".py"),
                         visibility="hidden"))
    page = st.navigation(pages)
    components.show_flash()
    with components.guard(f"showing the {page.title} page"):
        page.run()


if __name__ == "__main__":
    main()
