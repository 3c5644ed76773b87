"""The web app in a real browser: ``streamlit run app.py`` on a temporary SQLite database,
driven through Debian's headless Chromium with Playwright.

The path a process engineer takes (open app, local use, acting as DOE_ACTOR): a campaign from
the template, three suggestions, accept them, download the run sheet, one run failed with a reason, the others'
results uploaded from the filled sheet, the Insights plots, the history exported. Screenshots
of each page go to ``artifacts/screenshots/`` at the repository root.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doe.campaign import Campaign

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PERSON = "Bea Browser"
CAMPAIGN = "e2e-furnace"
STEP_MS = 120_000  # a first fit on a busy 2-core machine takes a while

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The app served by ``streamlit run app.py``; yields (base URL, database URL)."""
    folder = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{folder / 'e2e.sqlite3'}"
    port = _free_port()
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": PERSON}
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start:\n{(folder / 'streamlit.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, db_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    "the browser test runs in CI and is never skipped", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Counts the app's finished script runs: Streamlit sets ``data-test-script-state`` on the
# ``stApp`` element ("running", then "notRunning"); every change to "notRunning" ends a run.
RUN_COUNTER = """
window.__doeRuns = 0;
new MutationObserver(records => {
  for (const r of records) {
    if (r.target.getAttribute("data-test-script-state") === "notRunning" && r.oldValue !== "notRunning") {
      window.__doeRuns += 1;
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ["data-test-script-state"]});
"""


def _runs(page: object) -> int:
    return int(page.evaluate("() => window.__doeRuns"))  # type: ignore[attr-defined]


def _settled(page: object, after: int | None = None) -> None:
    """Wait until no script run is in flight; with ``after`` (a :func:`_runs` count taken before
    the action), until a run has finished since then too, so a rerun not yet begun is waited for."""
    from playwright.sync_api import expect

    if after is not None:
        page.wait_for_function("n => window.__doeRuns > n", arg=after, timeout=STEP_MS)  # type: ignore[attr-defined]
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(  # type: ignore[attr-defined]
        state="attached", timeout=STEP_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=STEP_MS)  # type: ignore[attr-defined]


def _download(page: object, button: str, attempts: int = 3) -> Any:
    """Click a download button and return the download.

    The buttons build their file on click (Streamlit's deferred ``data``): the browser asks the
    server for the file, and on a loaded 2-core machine that request was once lost, the click
    doing nothing for minutes. Like a person, click again when nothing arrives.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        _settled(page)
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


def _open(page: object, title: str) -> None:
    before = _runs(page)
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()  # type: ignore[attr-defined]
    _settled(page, after=before)


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
        _settled(page)

        # No accounts: the app is open (local use) and acts as DOE_ACTOR.
        expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Acting as {PERSON}")

        # A campaign from the template.
        page.get_by_label("Campaign name", exact=True).fill(CAMPAIGN)
        page.get_by_role("button", name="Create campaign").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Created campaign '{CAMPAIGN}'")
        _settled(page)
        _shot(page, "1-campaigns")

        # Three suggestions, accepted.
        _open(page, "Plan")
        page.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        page.get_by_label("Batch size", exact=True).fill("3")
        page.get_by_role("button", name="Suggest experiments").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Proposed 3 experiment(s)")
        _settled(page)
        expect(page.get_by_role("heading", name="Proposed, not started (3)")).to_be_visible()
        _shot(page, "2-plan")
        page.get_by_role("button", name="Accept: the lab starts them").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Started 3 experiment(s)")
        _settled(page)

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
        _open(page, "Record")
        page.get_by_role("heading", name=f"Record: {CAMPAIGN}").wait_for()
        page.get_by_test_id("stDataFrame").first.wait_for()
        _shot(page, "3-record")
        fail_form = page.get_by_test_id("stForm").filter(has_text="Mark failed")
        fail_form.get_by_test_id("stMultiSelect").click()
        page.get_by_role("option", name=ids[2]).click()
        page.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill("dispersion gelled")
        fail_form.get_by_role("button", name="Mark failed").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Marked {ids[2]} failed")
        _settled(page)

        # The others' results from the filled run sheet.
        filled = sheet[sheet["experiment_id"] != ids[2]].copy()
        filled["first_cycle_ce_pct"] = [86.5, 88.0]
        filled["capacity_retention_pct"] = [63.0, 66.5]
        results = tmp_path / "results.csv"
        results.write_bytes(table_bytes(filled.drop(columns=["failed", "failure_reason"]), "csv"))
        page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(results))
        # The upload is an HTTP request of its own: the file's chip offers "Remove" (not "Cancel
        # upload") once it has landed, and only then does the form hold the file.
        page.get_by_test_id("stFileUploader").get_by_label("Remove results.csv").wait_for()
        before = _runs(page)
        page.get_by_role("button", name="Record the file").click()
        _settled(page, after=before)
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Recorded results.csv")).to_contain_text(
            "Recorded results.csv: 4 value(s)")
        _settled(page)
        stored = campaign.history().set_index("experiment_id")
        assert stored.loc[ids[0], "first_cycle_ce_pct"] == pytest.approx(86.5)
        assert stored.loc[ids[1], "capacity_retention_pct"] == pytest.approx(66.5)
        assert stored.loc[ids[2], "status"] == "failed"
        assert stored.loc[ids[2], "failure_reason"] == "dispersion gelled"
        assert set(campaign.audit()["actor"]) >= {PERSON}

        # Insights: every plot renders.
        _open(page, "Insights")
        page.get_by_role("heading", name=f"Insights: {CAMPAIGN}").wait_for()
        page.get_by_role("heading", name="Response surface").wait_for()
        _settled(page)
        expect(page.locator(".js-plotly-plot")).to_have_count(5)
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))")
        _shot(page, "4-insights")

        # History, exported.
        _open(page, "History")
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
        assert re.search(rf'"name": "{CAMPAIGN}"', Path(_download(page, "Export the whole campaign (JSON)").path()).read_text())
        assert not page.get_by_test_id("stException").count()
        for name in ("1-campaigns", "2-plan", "3-record", "4-insights", "5-history"):
            assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000, f"{name}.png looks blank"
    except Exception:
        _shot(page, "failure")
        raise
    finally:
        context.close()
