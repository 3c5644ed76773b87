"""One feasibility rule in a real browser: the best-so-far line, the Pareto plot, the
best-recipes table and the exported history agree on which recipes count, and the one that
does not carries its reason."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest

from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import RUN_COUNTER, chromium, click, settled, streamlit_app

CAMPAIGN = "feasibility"
STEP_MS = 120_000
REASON = "coating_thickness_nm = 20 breaks coating_thickness_nm <= 15"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


_TRACES = """() => document.querySelector('.js-plotly-plot')._fullData.map(
    t => ({name: t.name, y: t.y ? Array.from(t.y) : [], text: Array.isArray(t.text) ? Array.from(t.text) : []}))"""


def _drawn_traces(page: Any, having: str) -> list[dict[str, Any]]:
    """The traces of the one plot on the page, once it has a trace named ``having``, as plotly.js
    drew them (_fullData: numbers decoded from the binary arrays plotly sends)."""
    page.wait_for_function("name => document.querySelectorAll('.js-plotly-plot').length === 1 && "
                           "(document.querySelector('.js-plotly-plot')._fullData || []).some(t => t.name === name)",
                           arg=having)
    traces: list[dict[str, Any]] = page.evaluate(_TRACES)
    return traces


def test_plot_table_and_export_agree_on_what_counts(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db_url = f"sqlite:///{tmp_path / 'feasible.sqlite3'}"
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=CAMPAIGN, actor="fixture")
    recipe = dict(campaign.config.reference_recipe() or {})
    campaign.record(pd.DataFrame([  # E0003: the best CE and retention, but a 20 nm coating (<= 15 allowed)
        {**recipe, "first_cycle_ce_pct": 85.0, "capacity_retention_pct": 70.0, "coating_thickness_nm": 8.0},
        {**recipe, "anneal_temperature_c": 500.0, "first_cycle_ce_pct": 88.0, "capacity_retention_pct": 65.0,
         "coating_thickness_nm": 10.0},
        {**recipe, "anneal_temperature_c": 600.0, "first_cycle_ce_pct": 95.0, "capacity_retention_pct": 80.0,
         "coating_thickness_nm": 20.0},
    ]))
    # E0004: two cells, one failed (the History page's export built the failed-cells table once a
    # campaign had one: found by a browser walk)
    campaign.record(pd.DataFrame([
        {**recipe, "experiment_id": "E0004", "anneal_temperature_c": 450.0, "replicate": "A", "first_cycle_ce_pct": 80.0,
         "capacity_retention_pct": 60.0, "coating_thickness_nm": 9.0},
        {"experiment_id": "E0004", "replicate": "B", "failed": True, "failure_reason": "pellet cracked"},
    ]))
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Fei Feasible"}
    with streamlit_app(tmp_path, env) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
        context.add_init_script(RUN_COUNTER)
        page = context.new_page()
        page.set_default_timeout(STEP_MS)
        expect.set_options(timeout=STEP_MS)
        page.goto(f"{base}/insights?{urlencode({'campaign': CAMPAIGN})}")
        page.get_by_role("heading", name="Can the model be trusted?").wait_for()
        settled(page)
        table = page.get_by_test_id("stDataFrame").last  # the best recipes, below the trust table
        expect(table).to_contain_text("E0001")
        expect(table).not_to_contain_text("E0003")
        best_so_far = _drawn_traces(page, "best so far")
        click(page, page.get_by_role("radiogroup", name="Show").get_by_role("radio", name="Pareto front"))
        page.get_by_role("heading", name="Pareto front").wait_for()
        pareto = _drawn_traces(page, "Pareto front")
        lines = [t for t in best_so_far if t["name"] == "best so far"]
        assert [max(t["y"]) for t in lines] == [88.0, 70.0]  # the line does not climb to E0003
        excluded = [t for t in pareto if t["name"].startswith("does not count")]
        assert [t["text"] for t in excluded] == [[f"E0003: {REASON.replace('<', '&lt;')}"]]
        front = next(t for t in pareto if t["name"] == "Pareto front")
        assert sorted(front["text"]) == ["E0001", "E0002"]

        page.goto(f"{base}/history?{urlencode({'campaign': CAMPAIGN})}")
        page.get_by_role("heading", name=f"History: {CAMPAIGN}").wait_for()
        settled(page)
        with page.expect_download() as download:
            page.get_by_role("button", name="Export the experiments shown (CSV)").click()
        exported = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()), encoding="utf-8-sig",
                               keep_default_na=False)
        notes = dict(zip(exported["experiment_id"], exported["ranking_note"], strict=True))
        assert notes == {"E0001": "", "E0002": "", "E0003": REASON, "E0004": ""}
        assert exported.set_index("experiment_id").loc["E0004", "first_cycle_ce_pct [%]"] == 80.0
        context.close()
