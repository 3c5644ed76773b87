"""The app's transfer controls: choose earlier campaigns on the Campaigns page, see them on the
History page as plain text (Streamlit AppTest, real SQLite file, real fits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from doe.campaign import Campaign
from doe.ui import state

APP = Path(__file__).resolve().parents[2] / "app.py"
DEMO = "hfo2-ncm85-demo"
SOURCE = "hfo2 **2025** [x](http://e.example)"  # a hostile-looking name: shown as plain text


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    monkeypatch.setenv("DOE_ACTOR", "Ada Tester")
    return url


def _source(url: str) -> None:
    from doe.simulate import VirtualLab

    lab = VirtualLab(0, failures=False)
    source = Campaign.from_config("hfo2-ncm85", storage=url, name=SOURCE, actor="test")
    recipes = VirtualLab.random_recipes(12, seed=1)
    source.record(pd.concat([recipes, lab.run(recipes).drop(columns=["failed", "failure_reason"])], axis=1))


def _start(page: str | None = None, campaign: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    if campaign is not None:
        at.session_state[state.NEXT_CAMPAIGN] = campaign
    at.run()
    if page is not None:
        at.switch_page(f"doe/ui/pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_edit_chooses_earlier_campaigns_and_history_shows_them(db_url: str) -> None:
    at = _start()  # creates the demo campaign (two recorded recipes)
    _source(db_url)
    at = _start(campaign=DEMO)
    picker = at.multiselect(key=f"{state.EDIT_LEARN_FROM}:{DEMO}:1")
    assert SOURCE in picker.options and DEMO not in picker.options
    picker.set_value([SOURCE])
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert Campaign.load(DEMO, storage=db_url).config.learn_from == (SOURCE,)

    at = _start("history", campaign=DEMO)
    shown = [str(t.value) for t in at.text]
    line = next((t for t in shown if t.startswith("Informed by:")), None)
    assert line is not None, shown
    assert line.startswith(f"Informed by: {SOURCE} (first_cycle_ce_pct: correlation ")
    # the name never reaches Markdown
    assert not [m for m in at.markdown if "**2025**" in str(m.value)]
    corr = float(line.split("correlation ")[1].split(",")[0])
    assert np.isfinite(corr) and 0.0 <= corr < 1.0
