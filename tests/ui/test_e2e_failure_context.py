"""A failed experiment's note, operator, sample id and date on the Record page, in a real browser.

The grid showed a failed experiment's reason but empty note, operator, sample / cell id and
measured-on cells, though they are stored: an engineer who changed only the reason and saved
cleared them. Here the row shows them, and a reason changed alone keeps them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.ui.tables import record_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, runs, settled, streamlit_app, type_in_grid

NAME = "failure-context"
STEP_MS = 120_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("failure-context")
    db_url = f"sqlite:///{folder / 'failures.sqlite3'}"
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Fay Failer"}
    with streamlit_app(folder, env) as base:
        yield base, db_url


def test_a_reason_changed_in_the_grid_keeps_the_failures_note_operator_sample_and_date(
        server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=NAME, actor="fixture")
    campaign.suggest(1)
    failed = campaign.history()["experiment_id"].iloc[0]
    campaign.record(pd.DataFrame([{"experiment_id": failed, "failure_reason": "gelled", "note": "lumps after 2 h",
                                   "operator": "Kim", "sample_id": "S-9", "measured_at": "2026-12-04 14:30"}]))
    config = campaign.config
    shown = [c for c in record_grid(campaign.history(), config, "all").columns if c not in config.parameter_names]
    with app_page(base, step_ms=STEP_MS) as page:
        page.goto(f"{base}/record?campaign={NAME}")
        page.get_by_role("heading", name=f"Record: {NAME}").wait_for()
        settled(page)
        before = runs(page)
        page.get_by_text("all experiments", exact=True).click()
        settled(page, after=before)
        grid = page.get_by_test_id("stDataFrame").first
        # the row holds the stored note, operator, sample id and date (record_grid, tests/ui/test_tables.py):
        # only the reason is typed, and the save keeps them
        type_in_grid(page, grid, 0, shown.index("failure_reason"), "gelled slurry")
        before = runs(page)
        page.get_by_text("Correct stored values", exact=False).click()  # another reason is a correction
        settled(page, after=before)
        before = runs(page)
        page.get_by_role("button", name="Save results").click()
        settled(page, after=before)
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Saved the results")
    stored = Campaign.load(NAME, storage=db_url).history().set_index("experiment_id").loc[failed]
    assert stored[["status", "failure_reason", "failure_note", "failure_operator", "failure_sample_id"]].tolist() == [
        "failed", "gelled slurry", "lumps after 2 h", "Kim", "S-9"]
    assert stored["failure_measured_at"] == pd.Timestamp("2026-12-04 14:30", tz="UTC")
