"""The Insights page in a real browser: every section can be shown, one at a time (the browser
draws only that section's plots), and the URL keeps the section chosen."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest

from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, click, settled, streamlit_app

CAMPAIGN = "insights-sections"
# Every section the issue asks for, by the label on the page: a section that disappears fails here.
SECTIONS = ["Best so far", "Pareto front", "Which parameters matter", "Response surface", "Prediction profiler",
            "Leave-one-out check"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _drawn_plots(page: object) -> int:
    """The number of plots on the page once each is drawn by plotly.js."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => { const plots = [...document.querySelectorAll('.js-plotly-plot')];"
        " return plots.length > 0 && plots.every(p => p.querySelector('.main-svg')); }")
    return int(page.locator(".js-plotly-plot").count())  # type: ignore[attr-defined]


def test_every_insights_section_can_be_shown_one_at_a_time(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from doe.simulate import VirtualLab

    db_url = f"sqlite:///{tmp_path / 'insights.sqlite3'}"
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=CAMPAIGN, actor="fixture")
    recipes = VirtualLab.random_recipes(12, seed=3)
    campaign.record(pd.concat([recipes.reset_index(drop=True), VirtualLab(seed=4).run(recipes).reset_index(drop=True)],
                              axis=1))
    campaign.suggest(2)  # the proposed runs: drawn on the Pareto plot and the surface
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Ines Insights"}
    with streamlit_app(tmp_path, env) as base, app_page(f"{base}/insights?{urlencode({'campaign': CAMPAIGN})}") as page:
        page.get_by_role("heading", name="Can the model be trusted?").wait_for()
        settled(page)
        control = page.get_by_role("radiogroup", name="Show")
        expect(control.get_by_role("radio")).to_have_count(len(SECTIONS))
        offered = [text.strip() for text in control.get_by_role("radio").all_inner_texts()]
        assert offered == SECTIONS  # (no curves: this campaign has none)
        expect(page.get_by_role("heading", name="Best so far")).to_be_visible()
        assert _drawn_plots(page) == 1  # only the default section's plot is drawn
        for label in SECTIONS[1:]:
            click(page, control.get_by_role("radio", name=label, exact=True))
            expect(control.get_by_role("radio", name=label, exact=True)).to_have_attribute("aria-checked", "true")
            expect(page.get_by_role("heading", name=label)).to_be_visible()
            assert _drawn_plots(page) == 1, label
            others = [other for other in SECTIONS if other != label]
            for other in others:
                expect(page.get_by_role("heading", name=other, exact=True)).to_have_count(0)
        assert "section=Leave-one-out+check" in page.url  # the label, as shown
        assert not page.get_by_test_id("stException").count()
        # a reload (or a shared link) opens the section in the URL
        page.goto(f"{base}/insights?{urlencode({'campaign': CAMPAIGN, 'section': 'Response surface'})}")
        settled(page)
        expect(page.get_by_role("heading", name="Response surface")).to_be_visible()
        assert _drawn_plots(page) == 1
        # the proposed runs are on the surface (waits for plotly.js's traces of the drawn plot)
        page.wait_for_function("() => (document.querySelector('.js-plotly-plot')._fullData || [])"
                               ".some(t => (t.name || '').startsWith('proposed or running'))")
