"""The web app in a real browser: the script ``doe app`` serves, on a temporary SQLite database,
driven through Debian's headless Chromium with Playwright.

The path a process engineer takes (open app, local use, acting as DOE_ACTOR): a campaign from
the template, three suggestions, accept them, download the run sheet, one run failed with a reason, the others'
results uploaded from the filled sheet, the Insights plots, the history exported. Screenshots
of each page go to ``artifacts/screenshots/`` at the repository root.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.ui.components import WORD_JOINER
from doe.ui.tables import record_grid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    RUN_COUNTER,
    chromium,
    open_page,
    pick_option,
    runs,
    settled,
    streamlit_app,
    type_in_grid,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PERSON = "Bea Browser"
CAMPAIGN = "e2e-furnace"
STEP_MS = 120_000  # a first fit on a busy 2-core machine takes a while

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The app served by ``streamlit run app.py``; yields (base URL, database URL)."""
    folder = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{folder / 'e2e.sqlite3'}"
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": PERSON}
    with streamlit_app(folder, env) as base:
        yield base, db_url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _download(page: object, button: str, attempts: int = 3) -> Any:
    """Click a download button and return the download.

    The buttons build their file on click (Streamlit's deferred ``data``): the browser asks the
    server for the file, and on a loaded 2-core machine that request was once lost, the click
    doing nothing for minutes. Like a person, click again when nothing arrives.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        settled(page)
        try:
            with page.expect_download(timeout=STEP_MS // 3) as download:  # type: ignore[attr-defined]
                page.get_by_role("button", name=button).click()  # type: ignore[attr-defined]
            return download.value
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _shot(page: object, name: str) -> None:
    """A screenshot of the whole page (the main area scrolls, so the window is made as tall)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size  # type: ignore[attr-defined]
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), window.innerHeight)")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 80, 8000)})  # type: ignore[attr-defined]
    # laid out again at the new size: two animation frames have been drawn
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]
    page.set_viewport_size(size)  # type: ignore[attr-defined]
    docs = os.environ.get("DOE_DOCS_SCREENSHOTS")  # the documentation's pictures: docs/images
    if docs and "-" in name:
        shutil.copyfile(SCREENSHOTS / f"{name}.png", Path(docs) / f"{name.split('-', 1)[1]}.png")


def test_engineer_path_through_every_page(server: tuple[str, str], browser: object, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    context.add_init_script(RUN_COUNTER)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    expect.set_options(timeout=STEP_MS)
    try:
        page.goto(base)
        page.get_by_role("heading", name="Campaigns").wait_for()
        settled(page)

        # No accounts: the app is open (local use) and acts as DOE_ACTOR.
        expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Acting as {PERSON}")

        # A campaign from the template.
        page.get_by_label("Campaign name", exact=True).fill(CAMPAIGN)
        page.get_by_role("button", name="Create campaign").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Created campaign '{CAMPAIGN}'")
        settled(page)
        _shot(page, "1-campaigns")

        # Three suggestions, accepted.
        open_page(page, "Plan")
        page.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        page.get_by_label("Batch size", exact=True).fill("3")
        page.get_by_role("button", name="Suggest experiments").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Proposed 3 experiment(s)")
        settled(page)
        expect(page.get_by_role("heading", name="Proposed, not started (3)")).to_be_visible()
        _shot(page, "2-plan")
        page.get_by_role("button", name="Accept: the lab starts them").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Started 3 experiment(s)")
        settled(page)

        campaign = Campaign.load(CAMPAIGN, storage=db_url)
        ids = campaign.history()["experiment_id"].tolist()
        assert campaign.history()["status"].tolist() == ["running"] * 3

        # The run sheet, as the lab gets it.
        sheet_path = tmp_path / "run-sheet.csv"
        _download(page, "Run sheet (CSV)").save_as(sheet_path)
        from doe.io import read_table, table_bytes

        sheet = read_table(sheet_path, campaign.config)
        assert sheet["experiment_id"].tolist() == ids

        # One run failed, with the reason.
        open_page(page, "Record")
        page.get_by_role("heading", name=f"Record: {CAMPAIGN}").wait_for()
        page.get_by_test_id("stDataFrame").first.wait_for()
        _shot(page, "3-record")
        fail_form = page.get_by_test_id("stForm").filter(has_text="Mark failed")
        pick_option(page, fail_form.get_by_test_id("stMultiSelect"), ids[2])
        page.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill("dispersion gelled")
        # a double click: the form was emptied by the first press, the second found nothing and
        # stopped the first one's run, so nothing was marked and the reason was gone
        fail_form.get_by_role("button", name="Mark failed").dblclick()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Marked {ids[2]} failed")
        settled(page)
        expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="Choose the experiments")).to_have_count(0)

        # The others' results from the filled run sheet.
        filled = sheet[sheet["experiment_id"] != ids[2]].copy()
        filled["first_cycle_ce_pct"] = [86.5, 88.0]
        filled["capacity_retention_pct"] = [63.0, 66.5]
        results = tmp_path / "results.csv"
        results.write_bytes(table_bytes(filled.drop(columns=["failed", "failure_reason"]), "csv"))
        # (the page has a second uploader, for cycler files: take the results file's)
        uploader = page.get_by_test_id("stFileUploader").filter(has_text="Results file")
        uploader.locator("input[type=file]").set_input_files(str(results))
        # The upload is an HTTP request of its own: the file's chip offers "Remove" (not "Cancel
        # upload") once it has landed, and only then does the form hold the file.
        uploader.get_by_label("Remove results.csv").wait_for()
        before = runs(page)
        page.get_by_role("button", name="Record the file").click()
        settled(page, after=before)
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Recorded results.csv")).to_contain_text(
            "Recorded results.csv: 4 value(s)")
        settled(page)
        stored = campaign.history().set_index("experiment_id")
        assert stored.loc[ids[0], "first_cycle_ce_pct"] == pytest.approx(86.5)
        assert stored.loc[ids[1], "capacity_retention_pct"] == pytest.approx(66.5)
        assert stored.loc[ids[2], "status"] == "failed"
        assert stored.loc[ids[2], "failure_reason"] == "dispersion gelled"
        assert set(campaign.audit()["actor"]) >= {PERSON}

        # Insights: every plot renders.
        open_page(page, "Insights")
        page.get_by_role("heading", name=f"Insights: {CAMPAIGN}").wait_for()
        page.get_by_role("heading", name="Can the model be trusted?").wait_for()
        settled(page)
        # two completed experiments: the trust statement, then best so far; importance and the rest wait for more data
        expect(page.get_by_text("appear from 11 completed experiments on (2 so far)")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(1)  # one section at a time: best so far
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))")
        _shot(page, "4-insights")

        # History, exported.
        open_page(page, "History")
        page.get_by_role("heading", name=f"History: {CAMPAIGN}").wait_for()
        expect(page.get_by_test_id("stCaptionContainer").filter(has_text="of 3 experiment(s)")).to_contain_text(
            "3 of 3 experiment(s)")
        _shot(page, "5-history")
        exported_path = tmp_path / "history.csv"
        _download(page, "Export the experiments shown (CSV)").save_as(exported_path)
        exported = read_table(exported_path, campaign.config)
        assert exported["experiment_id"].tolist() == ids
        assert exported["status"].tolist() == ["completed", "completed", "failed"]
        expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()  # no rerun left in flight
        cells_path = tmp_path / "cells.csv"  # one row per cell; it records into a new campaign as it was
        _download(page, "Export every cell (CSV)").save_as(cells_path)
        copy = Campaign.from_config(campaign.config.replace(name="from-cells"), storage=db_url)
        copy.import_table(cells_path)
        assert copy.history()["status"].tolist() == ["completed", "completed", "failed"]
        assert sorted(copy.measurements()["value"]) == sorted(campaign.measurements()["value"])
        assert re.search(rf'"name": "{CAMPAIGN}"', Path(_download(page, "Export the whole campaign (JSON)").path()).read_text())
        # the report for the lab meeting opens in the browser and holds its plots
        report = tmp_path / "report.html"
        _download(page, "Campaign report for the lab meeting (HTML)").save_as(report)
        reader = context.new_page()
        reader.goto(report.as_uri())
        expect(reader.get_by_role("heading", name=f"Campaign report: {CAMPAIGN}")).to_be_visible()
        expect(reader.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        assert reader.locator(".js-plotly-plot").count() == 2  # best so far and the Pareto front
        reader.close()
        assert not page.get_by_test_id("stException").count()
        for name in ("1-campaigns", "2-plan", "3-record", "4-insights", "5-history"):
            assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000, f"{name}.png looks blank"
    except Exception:
        _shot(page, "failure")
        raise
    finally:
        context.close()


# ---------------------------------------------------------------------------------- safe rendering
HOSTILE = "[Log in again](https://evil.example) ![b](http://127.0.0.1:9/x.png)"
HOSTILE_TEXT = "<img src=http://127.0.0.1:9/y.png> **bold**"
HOSTILE_UNIT = "<img src=//127.0.0.1:9/u>**b**"  # a unit is at most 32 characters


def _context(browser: object, requests: list[str] | None = None) -> tuple[object, object]:
    """A fresh browser context (one person) and its page; every request's URL into ``requests``."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
    context.add_init_script(RUN_COUNTER)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    expect.set_options(timeout=STEP_MS)
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
    return context, page


def _visit(page: object, base: str, path: str, campaign: str) -> None:
    """Open ``base/path?campaign=...`` (the campaign from the URL; local use: no sign-in, the
    server acts as ``DOE_ACTOR``)."""
    from urllib.parse import urlencode

    page.goto(f"{base}/{path}?{urlencode({'campaign': campaign})}")  # type: ignore[attr-defined]
    page.locator("h1").first.wait_for()  # type: ignore[attr-defined]
    settled(page)


def _no_active_markup(page: object) -> None:
    # (the app's own links carry the name URL-encoded in ?campaign=; no link leads to the host)
    assert page.locator("a[href*='//evil.example']").count() == 0  # type: ignore[attr-defined]
    assert page.locator("img[src*='127.0.0.1:9']").count() == 0  # type: ignore[attr-defined]
    assert page.locator("strong").filter(has_text=re.compile(r"^(bold|b)$")).count() == 0  # type: ignore[attr-defined]


def _reads(locator: Any) -> str:
    """The text a person reads in an element (the invisible word joiners of plain() removed)."""
    return str(locator.inner_text()).replace(WORD_JOINER, "").strip()


def _heading_reads(page: object, text: str) -> None:
    heading = page.locator("h1").first  # type: ignore[attr-defined]
    heading.wait_for()
    assert _reads(heading) == text


def test_hostile_names_and_texts_render_as_plain_text_and_fetch_nothing(
        server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    from doe.domain.config import CampaignConfig
    from doe.templates import resolve_config

    base, db_url = server
    data = resolve_config("hfo2-ncm85").to_dict()
    data["name"] = HOSTILE
    next(o for o in data["objectives"] if o["name"] == "first_cycle_ce_pct")["unit"] = HOSTILE_UNIT
    campaign = Campaign.from_config(CampaignConfig.from_dict(data), storage=db_url, actor="fixture")
    campaign.suggest(3)
    campaign.accept()
    first, _, third = campaign.history()["experiment_id"].tolist()
    campaign.record(pd.DataFrame({"experiment_id": [first], "first_cycle_ce_pct": [85.0],
                                  "capacity_retention_pct": [60.0], "note": [HOSTILE_TEXT]}))
    requests: list[str] = []
    context, page = _context(browser, requests)
    try:
        _visit(page, base, "record", HOSTILE)
        _heading_reads(page, f"Record: {HOSTILE}")
        # A failure reason typed in the page comes back in the confirmation, as typed.
        fail_form = page.get_by_test_id("stForm").filter(has_text="Mark failed")
        pick_option(page, fail_form.get_by_test_id("stMultiSelect"), third)
        page.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill(HOSTILE_TEXT)
        fail_form.get_by_role("button", name="Mark failed").click()
        success = page.get_by_test_id("stAlertContentSuccess")
        expect(success).to_contain_text(f"Marked {third} failed")
        assert _reads(success) == f"Marked {third} failed: {HOSTILE_TEXT}."
        settled(page)
        _no_active_markup(page)
        for title in ("Plan", "Insights", "History"):
            open_page(page, title)
            _heading_reads(page, f"{title}: {HOSTILE}")
            _no_active_markup(page)
        # Insights: the unit in the axis titles is text in the SVG, not markup.
        open_page(page, "Insights")
        expect(page.locator(".js-plotly-plot").first.get_by_text(HOSTILE_UNIT, exact=False).first).to_be_attached()
        _no_active_markup(page)
        open_page(page, "Campaigns")
        page.get_by_role("tab", name="Clone or archive").click()
        expect(page.get_by_test_id("stCheckbox").filter(has_text="Yes, archive")).to_be_visible()
        assert _reads(page.get_by_test_id("stCheckbox").filter(has_text="Yes, archive")) == f"Yes, archive '{HOSTILE}'"
        page.get_by_role("tab", name="Edit configuration").click()
        caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Campaign: [Log in again]").first
        expect(caption).to_be_visible()
        assert _reads(caption) == f"Campaign: {HOSTILE}"
        _no_active_markup(page)
        assert not page.get_by_test_id("stException").count()
    except Exception:
        _shot(page, "failure-hostile")
        raise
    finally:
        context.close()
    from urllib.parse import urlsplit

    assert requests, "no request was recorded"
    # (the app's own URL carries the name, URL-encoded, in ?campaign=: the host is what counts)
    assert not [u for u in requests if urlsplit(u).port == 9 or urlsplit(u).hostname == "evil.example"]


# ---------------------------------------------------------------------------------- no lost edits
def _wait_for_leave_warning(page: object, on: bool) -> None:
    """Wait until the page asks before it is left (``on``) or no longer does: the page sets the
    handler from a component's frame, whose script runs after the rerun that drew it settled."""
    check = "typeof window.onbeforeunload === 'function'" if on else "window.onbeforeunload === null"
    page.wait_for_function(f"() => {check}", timeout=STEP_MS)  # type: ignore[attr-defined]


def test_typed_values_survive_another_persons_save_and_leaving_warns(
        server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    name = "two-browsers"
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=name, actor="fixture")
    campaign.suggest(3)
    campaign.accept()
    first, second, _ = campaign.history()["experiment_id"].tolist()
    shown = record_grid(campaign.history(), campaign.config, "awaiting")
    ce_column = list(shown.columns).index("first_cycle_ce_pct")
    context_a, page_a = _context(browser)
    context_b, page_b = _context(browser)
    try:
        # A types a value for the first experiment and does not save.
        _visit(page_a, base, "record", name)
        expect(page_a.get_by_role("heading", name=f"Record: {name}")).to_be_visible()
        type_in_grid(page_a, page_a.get_by_test_id("stDataFrame").first, 0, ce_column, "87.5")
        _wait_for_leave_warning(page_a, True)
        # ... looks at the History page and comes back: the typed value is still there, unsaved
        # (the editor's state went with the page, and the value with it)
        open_page(page_a, "History")
        expect(page_a.get_by_role("heading", name=f"History: {name}")).to_be_visible()
        page_a.evaluate("() => { window.onbeforeunload = null; }")  # set again below only if the value is kept
        open_page(page_a, "Record")
        expect(page_a.get_by_role("heading", name=f"Record: {name}")).to_be_visible()
        _wait_for_leave_warning(page_a, True)

        # B, in another browser, records the second experiment as failed.
        _visit(page_b, base, "record", name)
        fail_form = page_b.get_by_test_id("stForm").filter(has_text="Mark failed")
        pick_option(page_b, fail_form.get_by_test_id("stMultiSelect"), second)
        page_b.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill("dispersion gelled")
        fail_form.get_by_role("button", name="Mark failed").click()
        expect(page_b.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Marked {second} failed")
        assert Campaign.load(name, storage=db_url).history().set_index("experiment_id").loc[second, "status"] == "failed"

        # A's next step sees the updated grid with the typed value kept, and saves it.
        before = runs(page_a)
        page_a.get_by_text("all experiments", exact=True).click()
        settled(page_a, after=before)
        expect(page_a.get_by_test_id("stAlertContentInfo")).to_contain_text("Your unsaved values are kept")
        _wait_for_leave_warning(page_a, True)

        # Leaving with unsaved values asks first.
        with page_a.expect_event("dialog") as asked:
            page_a.evaluate("() => { setTimeout(() => window.location.reload(), 0); }")
        assert asked.value.type == "beforeunload"
        asked.value.dismiss()  # stay on the page

        page_a.get_by_role("button", name="Save results").click()
        expect(page_a.get_by_test_id("stAlertContentSuccess")).to_contain_text("Saved the results: 1 value(s)")
        settled(page_a)
        stored = Campaign.load(name, storage=db_url).history().set_index("experiment_id")
        assert stored.loc[first, "first_cycle_ce_pct"] == pytest.approx(87.5)
        assert stored.loc[second, "status"] == "failed"
        _wait_for_leave_warning(page_a, False)

        # A reload returns to the same campaign (it is in the URL).
        assert f"campaign={name}" in page_a.url
        page_a.reload()
        expect(page_a.get_by_role("heading", name=f"Record: {name}")).to_be_visible()
    except Exception:
        _shot(page_a, "failure-two-browsers-a")
        raise
    finally:
        context_a.close()
        context_b.close()


def test_the_correct_tick_is_unticked_in_the_browser_after_the_save_it_allowed(
        server: tuple[str, str], browser: object) -> None:
    """'Correct stored values' stayed ticked after the save that corrected a typo: the next save
    replaced a stored value unasked. In the browser the box is unticked after the save (the
    message says what was corrected), and the next changed value is refused as a conflict."""
    from playwright.sync_api import expect

    base, db_url = server
    name = "tick-once"
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=name, actor="fixture")
    campaign.suggest(1)
    campaign.accept()
    exp_id = campaign.history()["experiment_id"].iloc[0]
    campaign.record(pd.DataFrame({"experiment_id": [exp_id], "first_cycle_ce_pct": [85.0]}))
    ce_column = list(record_grid(campaign.history(), campaign.config, "all").columns).index("first_cycle_ce_pct")
    context, page = _context(browser)
    try:
        _visit(page, base, "record", name)
        before = runs(page)
        page.get_by_text("all experiments", exact=True).click()
        settled(page, after=before)
        tick = page.get_by_role("checkbox", name=re.compile(r"^Correct stored values"))
        before = runs(page)
        page.get_by_text(re.compile(r"^Correct stored values")).click()
        settled(page, after=before)
        expect(tick).to_be_checked()
        type_in_grid(page, page.get_by_test_id("stDataFrame").first, 0, ce_column, "86")
        page.get_by_role("button", name="Save results").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("1 corrected")
        settled(page)
        expect(tick).not_to_be_checked()
        assert Campaign.load(name, storage=db_url).history()["first_cycle_ce_pct"].iloc[0] == pytest.approx(86.0)

        type_in_grid(page, page.get_by_test_id("stDataFrame").first, 0, ce_column, "87")
        page.get_by_role("button", name="Save results").click()
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("nothing was written")
        assert Campaign.load(name, storage=db_url).history()["first_cycle_ce_pct"].iloc[0] == pytest.approx(86.0)
    except Exception:
        _shot(page, "failure-tick-once")
        raise
    finally:
        context.close()


def test_a_link_to_a_page_is_the_first_request_of_a_fresh_server(browser: object, tmp_path: Path) -> None:
    """A shared link opened before anyone has loaded ``/``: the page with its navigation, the
    sidebar and the campaign from the link (the server once ran such a page on its own)."""
    db_url = f"sqlite:///{tmp_path / 'link.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=db_url, name="linked", actor="fixture")
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": PERSON}
    with streamlit_app(tmp_path, env) as base:
        context, page = _context(browser)
        try:
            for path, heading in (("plan", "Plan: linked"), ("history", "History: linked"), ("campaigns", "Campaigns")):
                _visit(page, base, path, "linked")
                _heading_reads(page, heading)
                assert page.get_by_test_id("stException").count() == 0  # type: ignore[attr-defined]
                assert page.get_by_text("Page not found").count() == 0  # type: ignore[attr-defined]
                nav = _reads(page.get_by_test_id("stSidebarNav"))  # type: ignore[attr-defined]
                assert nav.count("Campaigns") == 1 and "entry" not in nav and "campaigns" not in nav and "home" not in nav
        finally:
            context.close()  # type: ignore[attr-defined]
