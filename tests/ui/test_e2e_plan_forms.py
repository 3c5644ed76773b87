"""Safer forms in a real browser: no Deploy button, Enter in the batch-size box asks for no
batch, abandoning asks for a reason (``streamlit run app.py`` as ``doe app`` serves it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from doe.campaign import Campaign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    RUN_COUNTER,
    chromium,
    click,
    open_popover,
    pick_option,
    settled,
    streamlit_app,
)

CAMPAIGN = "forms"
STEP_MS = 120_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str, str]]:
    """(browser page on the Plan page of an empty campaign, base URL, database URL)."""
    from playwright.sync_api import expect

    folder = tmp_path_factory.mktemp("forms")
    db_url = f"sqlite:///{folder / 'forms.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=db_url, name=CAMPAIGN, actor="fixture")
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Fay Forms"}
    with streamlit_app(folder, env) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        context.add_init_script(RUN_COUNTER)
        page = context.new_page()
        page.set_default_timeout(STEP_MS)
        expect.set_options(timeout=STEP_MS)
        page.goto(f"{base}/plan?{urlencode({'campaign': CAMPAIGN})}")
        page.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        settled(page)
        yield page, base, db_url
        context.close()


def _proposed(db_url: str) -> list[str]:
    history = Campaign.load(CAMPAIGN, storage=db_url, actor="check").history(status="proposed")
    return history["experiment_id"].astype(str).tolist()


def test_no_deploy_button(served: tuple[object, str, str]) -> None:
    page, _, _ = served
    page.get_by_test_id("stToolbar").wait_for(state="attached")  # type: ignore[attr-defined]
    assert page.get_by_test_id("stAppDeployButton").count() == 0  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="Deploy").count() == 0  # type: ignore[attr-defined]


def test_enter_in_the_batch_size_does_not_ask_for_a_batch(served: tuple[object, str, str]) -> None:
    from playwright.sync_api import expect

    page, _, db_url = served
    box = page.get_by_label("Batch size", exact=True)  # type: ignore[attr-defined]
    box.fill("3")
    # Streamlit shows this hint exactly when Enter would submit the form
    expect(page.get_by_text("Press Enter to submit form")).to_have_count(0)  # type: ignore[attr-defined]
    box.press("Enter")
    box.press("Enter")
    settled(page)
    assert _proposed(db_url) == []
    click(page, page.get_by_role("button", name="Suggest experiments"))  # type: ignore[attr-defined]
    expect(page.get_by_text("Proposed 3 experiment(s)")).to_be_visible()  # type: ignore[attr-defined]
    settled(page)
    assert len(_proposed(db_url)) == 3  # one batch: the button's, none from the Enter presses


def test_abandoning_asks_for_a_reason(served: tuple[object, str, str]) -> None:
    from playwright.sync_api import expect

    page, _, db_url = served
    ids = _proposed(db_url)
    assert ids, "the previous test proposes a batch"
    table = page.get_by_test_id("stDataFrame").first  # type: ignore[attr-defined]
    expect(table).to_contain_text("why this run")
    expect(table).not_to_contain_text("qlog")
    chooser = page.get_by_test_id("stMultiSelect").filter(has_text="Experiments (none chosen")  # type: ignore[attr-defined]
    pick_option(page, chooser, ids[0])
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    settled(page)  # the next steps wait for what only the choice's run draws (the confirm button)
    abandon = page.get_by_test_id("stPopoverButton").filter(has_text="Abandon the chosen ones")  # type: ignore[attr-defined]
    open_popover(page, abandon)
    confirm = page.get_by_role("button", name="Yes, abandon 1 experiment(s)")  # type: ignore[attr-defined]
    click(page, confirm)
    expect(page.get_by_text("write a reason first")).to_be_visible()  # type: ignore[attr-defined]
    assert _proposed(db_url) == ids  # nothing abandoned without a reason
    if not confirm.is_visible():
        open_popover(page, abandon)
    page.get_by_label("Why are they abandoned?").fill("precursor ran out")  # type: ignore[attr-defined]
    click(page, confirm)
    expect(page.get_by_text(f"Abandoned {ids[0]}.")).to_be_visible()  # type: ignore[attr-defined]
    # the page's counts say where the abandoned one went
    expect(page.get_by_text(f"{len(ids) - 1} proposed · 1 abandoned")).to_be_visible()  # type: ignore[attr-defined]
    audit = Campaign.load(CAMPAIGN, storage=db_url, actor="check").history(status="abandoned")
    assert audit["experiment_id"].astype(str).tolist() == [ids[0]]
