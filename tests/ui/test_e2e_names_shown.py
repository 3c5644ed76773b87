"""Parameter and outcome names shown as written in a real browser: underscores are Markdown's
emphasis, and the captions that list names must not turn ``_hot_`` into an italic "hot"
(``streamlit run app.py`` as ``doe app`` serves it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, settled, streamlit_app

CAMPAIGN = "names"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _captions(page: object, start: str) -> list[tuple[str, str]]:
    """(text, inner HTML) of every caption whose text starts with ``start``."""
    return page.evaluate(  # type: ignore[attr-defined,no-any-return]
        """s => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                 .filter(e => e.innerText.startsWith(s)).map(e => [e.innerText, e.innerHTML])""", start)


def test_names_with_underscores_are_shown_as_written(tmp_path: Path) -> None:
    """Found by a probe: the Campaigns page's import caption listed the columns as Markdown
    (``_hot_`` italic "hot", ``__thick__`` bold "thick"), and the Plan page's furnace programme
    line the same, so an import file built from the caption had the wrong column names."""
    from playwright.sync_api import expect

    config = {"name": CAMPAIGN,
              "parameters": [{"name": "_hot_", "type": "continuous", "bounds": [1, 100]},
                             {"name": "__w__", "type": "continuous", "bounds": [0, 10]},
                             {"name": "y", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "ce", "goal": "maximize"}, {"name": "__thick__", "goal": "minimize"}],
              "batch_shared": ["_hot_", "__w__"]}
    db_url = f"sqlite:///{tmp_path / 'names.sqlite3'}"
    Campaign.from_config(config, storage=db_url, actor="fixture").suggest(3)
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Nia Names"}
    with streamlit_app(tmp_path, env) as base, app_page(base) as page:
        page.goto(f"{base}/plan?{urlencode({'campaign': CAMPAIGN})}")
        page.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        settled(page)
        expect(page.get_by_text("Furnace programme:")).to_be_visible()
        [(text, inner)] = _captions(page, "Furnace programme")
        assert text == "Furnace programme: one value per batch for _hot_, __w__"
        assert "<em>" not in inner and "<strong>" not in inner

        page.goto(f"{base}/campaigns?{urlencode({'campaign': CAMPAIGN})}")
        page.get_by_role("heading", name="Campaigns").first.wait_for()
        settled(page)
        page.get_by_role("tab", name="Import history").click()  # tabs switch in the browser: no script run
        expect(page.get_by_text("One row per experiment:")).to_be_visible()
        [(text, inner)] = _captions(page, "One row per experiment")
        assert text.endswith("Columns: _hot_, __w__, y, ce, __thick__")
        assert "<em>" not in inner and "<strong>" not in inner
