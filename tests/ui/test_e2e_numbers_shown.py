"""Numbers as the app's tables show them, in a real browser: a parameter without a resolution
and every other number at 4 significant figures value by value. A column-wide count of
decimals taken from its largest value showed a dose of 0.00215 mL beside 584.2 mL as 0.0."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest

from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, settled, streamlit_app

NAME = "small-doses"
CONFIG = {"name": NAME, "seed": 3,
          "parameters": [{"name": "dose_ml", "type": "continuous", "bounds": [0.0001, 1000], "log_scale": True},
                         {"name": "speed_rpm", "type": "continuous", "bounds": [1000, 20000], "resolution": 1}],
          "objectives": [{"name": "ce", "goal": "maximize"}]}
DOSES = [1.690115, 0.002150, 584.198016, 0.000109]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


# Every text the page draws on a canvas (the tables are drawn by glide-data-grid; their
# accessible copy holds the raw values, not the text shown).
DRAWN_TEXTS = """
window.__doeDrawn = new Set();
const fill = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
  window.__doeDrawn.add(String(text));
  return fill.call(this, text, ...rest);
};
"""


def _drawn(page: Any, *texts: str) -> set[str]:
    """The texts drawn on the page's canvases, once each of ``texts`` is (or the step's timeout)."""
    page.wait_for_function("t => t.every(x => window.__doeDrawn.has(x))", arg=list(texts))
    return set(page.evaluate("() => [...window.__doeDrawn]"))


def _open(page: Any, url: str, heading: str) -> None:
    page.evaluate("() => window.__doeDrawn && window.__doeDrawn.clear()")
    page.goto(url)
    page.get_by_role("heading", name=heading).wait_for()
    settled(page)


def test_small_and_large_numbers_of_one_column_each_show_four_significant_figures(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'doses.sqlite3'}"
    campaign = Campaign.from_config(CONFIG, storage=db_url, actor="fixture")
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(1, 5)], "dose_ml": DOSES,
                                  "speed_rpm": [5080.0, 19463.0, 19918.0, 3132.0],
                                  "ce": [80.123456, 0.00012346, 87.625, 12080.25]}))
    campaign.suggest(1, fixed={"dose_ml": 0.000345})
    campaign.accept()  # running: on the Record page's grid
    campaign.suggest(1, fixed={"dose_ml": 0.000234})  # proposed: on the Plan page
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Nina Numbers"}
    query = urlencode({"campaign": NAME})
    with streamlit_app(tmp_path, env) as base, app_page(base, width=2400) as page:
        page.context.add_init_script(DRAWN_TEXTS)
        _open(page, f"{base}/history?{query}", f"History: {NAME}")
        drawn = _drawn(page, "1.69", "0.00215", "584.2", "0.000109", "0.000345", "0.000234",  # the doses
                       "80.12", "0.0001235", "87.63", "12080",  # an outcome (87.625: a tie, away from zero)
                       "5080", "19463")  # a parameter at its resolution (1 rpm)
        assert not {"1.7", "0.0", "1.208e+04", "1.690115", "80.123456", "87.62"} & drawn  # no column-wide decimals
        _open(page, f"{base}/plan?{query}", f"Plan: {NAME}")
        assert "0.000234" in _drawn(page, "0.000234")
        _open(page, f"{base}/record?{query}", f"Record: {NAME}")
        page.get_by_text("Show each recipe's parameters").click()
        settled(page)
        assert "0.000345" in _drawn(page, "0.000345")


def test_every_recorded_value_on_the_history_page_shows_four_significant_figures(tmp_path: Path) -> None:
    """The 'Every recorded value, with corrections' table showed Streamlit's default (4 decimals):
    0.000109 as 0.0001 and a corrected 84.333333 as 84.3333, beside 0.000109 in the grid above."""
    db_url = f"sqlite:///{tmp_path / 'values.sqlite3'}"
    campaign = Campaign.from_config(CONFIG, storage=db_url, actor="fixture")
    campaign.record(pd.DataFrame({"experiment_id": ["E1", "E2"], "dose_ml": [1.0, 2.0],
                                  "speed_rpm": [5080.0, 19463.0], "ce": [0.000109, 84.333333]}))
    campaign.record(pd.DataFrame({"experiment_id": ["E2"], "ce": [87.625]}), correct=True)  # 84.333333 superseded
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Nina Numbers"}
    with streamlit_app(tmp_path, env) as base, app_page(base, width=2400) as page:
        page.context.add_init_script(DRAWN_TEXTS)
        _open(page, f"{base}/history?{urlencode({'campaign': NAME})}", f"History: {NAME}")
        _drawn(page, "0.000109", "87.63")  # the experiments grid
        page.evaluate("() => window.__doeDrawn.clear()")
        page.get_by_text("Every recorded value, with corrections").click()
        drawn = _drawn(page, "superseded", "E1")  # this table's header and a cell: it is drawn
        assert {"0.000109", "84.33", "87.63"} <= drawn  # value by value (87.625: a tie, away from zero)
        assert not {"0.0001", "84.3333", "87.625"} & drawn
