"""Start the app as ``doe app`` serves it for a browser test and wait until it answers (no fixed sleep)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from doe.cli.serve import STREAMLIT_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "doe" / "ui" / "launch" / "app.py"  # the script `doe app` serves
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_app(folder: Path, env: Mapping[str, str], *, port: int | None = None,
                  extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """The app served from ``folder`` (its working directory) with ``env``; yields the base URL."""
    port = port or free_port()
    log_path = folder / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "doe.ui.server", "run", str(APP), *STREAMLIT_OPTIONS,  # as `doe app` serves it
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             *extra_args],
            cwd=folder, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
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
                    pytest.fail(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def chromium() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    "the browser test runs in CI and is never skipped", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def app_page(base: str, *, step_ms: int = 120_000, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Chromium page on the app at ``base`` (run counter installed, the first run settled),
    each step waiting up to ``step_ms``; its browser context closed afterwards."""
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        context.add_init_script(RUN_COUNTER)
        page = context.new_page()
        page.set_default_timeout(step_ms)
        expect.set_options(timeout=step_ms)
        try:
            page.goto(base)
            settled(page)
            yield page
        finally:
            context.close()


# Counts the app's finished script runs: Streamlit sets ``data-test-script-state`` on the
# ``stApp`` element ("running", then "notRunning"); every change to "notRunning" ends a run.
# Install with ``context.add_init_script(RUN_COUNTER)`` (it starts again at 0 on each page load).
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


def runs(page: object) -> int:
    return int(page.evaluate("() => window.__doeRuns"))  # type: ignore[attr-defined]


def settled(page: object, after: int | None = None, timeout_ms: int = 120_000) -> None:
    """Wait until no script run is in flight; with ``after`` (a :func:`runs` count taken before
    the action), until a run has finished since then too."""
    from playwright.sync_api import expect

    if after is not None:
        page.wait_for_function("n => window.__doeRuns > n", arg=after, timeout=timeout_ms)  # type: ignore[attr-defined]
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(  # type: ignore[attr-defined]
        state="attached", timeout=timeout_ms)
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=timeout_ms)  # type: ignore[attr-defined]


def click(page: object, target: object) -> None:
    """Click ``target`` (a locator) and wait for the script run it starts to finish."""
    before = runs(page)
    target.click()  # type: ignore[attr-defined]
    settled(page, after=before)


def open_popover(page: object, button: object) -> None:
    """Open a popover by its button (``button``, a locator). The run that draws it enabled can, under
    load, leave the previous run's button (disabled, or the same again) drawn beside it for a
    moment: wait for one enabled button alone and no run in flight, then click."""
    from playwright.sync_api import expect

    expect(button.and_(page.locator(":enabled"))).to_have_count(1)  # type: ignore[attr-defined]
    expect(button).to_have_count(1)
    settled(page)
    button.click()  # type: ignore[attr-defined]


def open_page(page: object, title: str) -> None:
    """Open the page ``title`` from the sidebar and wait until its script run has finished.

    Waits on the page itself (its address, then its heading, then no run in flight) rather
    than on a count of finished runs, which a run too short to be seen could leave unchanged."""
    link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title)  # type: ignore[attr-defined]
    href = link.get_attribute("href") or ""
    link.click()
    path = href.split("://", 1)[-1].partition("/")[2]
    page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?.*)?$"))  # type: ignore[attr-defined]
    page.get_by_role("heading", name=re.compile(rf"^{re.escape(title)}")).first.wait_for()  # type: ignore[attr-defined]
    settled(page)


def pick_option(page: object, select: object, option: str) -> None:
    """Choose ``option`` in a selectbox or multiselect (``select``, a locator) by the keyboard, as
    a user can: type it (the list shows only the matching options, the first one focused), move
    the focus down to the exact match, press Enter. No click lands on the option list, which can
    open over a data grid that takes the pointer (a flaky interception seen under load)."""
    select.click()  # type: ignore[attr-defined]
    page.keyboard.type(option)  # type: ignore[attr-defined]
    target = page.get_by_role("option", name=option, exact=True)  # type: ignore[attr-defined]
    target.wait_for()
    # the list is filtered once every option shown contains what was typed (it can lag the typing);
    # a short list (two campaigns) is not filtered at all: then the focus is moved to the option below
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(  # type: ignore[attr-defined]
            "t => [...document.querySelectorAll('[role=option]')].every(o => o.textContent.toLowerCase().includes(t))",
            arg=option.lower(), timeout=10_000)
    for _ in range(page.get_by_role("option").count() + 1):  # type: ignore[attr-defined]
        if target.get_attribute("data-focused") == "true":
            break
        page.keyboard.press("ArrowDown")  # type: ignore[attr-defined]
    else:
        raise AssertionError(f"option {option!r} never took the keyboard focus")
    page.keyboard.press("Enter")  # type: ignore[attr-defined]


def open_record_page(page: object, campaign: str) -> None:
    """Select ``campaign`` in the sidebar and open the Record page."""
    sidebar = page.get_by_test_id("stSidebar")  # type: ignore[attr-defined]
    select = sidebar.get_by_test_id("stSelectbox")
    # choosing the campaign already selected starts no run: only choose another one
    if campaign not in [line.strip() for line in select.inner_text().splitlines()]:
        pick_option(page, select, campaign)
        # the run that the choice starts puts it into the address (a count of finished runs can
        # miss a run too short to be drawn)
        page.wait_for_url(re.compile(rf"[?&]campaign={re.escape(quote_plus(campaign))}(&|$)"))  # type: ignore[attr-defined]
        settled(page)
    open_page(page, "Record")
    page.get_by_role("heading", name=f"Record: {campaign}").wait_for()  # type: ignore[attr-defined]


# The cell of the grid number ``i`` (in page order) that holds the keyboard focus, as
# [column, row] with the index column as column 0, or null where the focus is elsewhere: the
# grid focuses the cell it selects (``glide-cell-<column>-<row>``); every grid numbers its cells
# so, so the focus is looked for inside the given grid only.
_ACTIVE_CELL = """i => {
  const grid = document.querySelectorAll("[data-testid=stDataFrame]")[i];
  const active = document.activeElement;
  if (!grid || !active || !grid.contains(active)) return null;
  const m = (active.id || "").match(/^glide-cell-(\\d+)-(\\d+)$/);
  return m ? [+m[1], +m[2]] : null;
}"""


def type_in_grid(page: Any, grid: Any, row: int, column: int, value: str, *,
                 keys: bool = True, form: bool = False, step_ms: int = 120_000) -> None:
    """Type ``value`` into cell (``row``, ``column``) of ``grid`` (a data editor's locator; both
    from 0 as in the table handed to the editor, the index column not counted), as a person does:
    click the row's first cell, move with the arrow keys (each move awaited: a key pressed before
    the grid took the focus is lost), Enter opens the cell's editor, the text goes in key by key
    (``keys``) or at once as a paste, Enter saves it. A grid inside a form (``form``) sends nothing
    until the form is submitted.

    The click goes through the grid's locator (scrolled into view, at rest, then clicked at a
    point of its own box): a click at coordinates read before the page moved once selected a cell
    of the grid below, and the value went there. A grid still drawing takes no click: then the
    person clicks again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    settled(page)
    page.bring_to_front()  # (another person's window may be in front)
    page.keyboard.press("Escape")
    grid.wait_for()
    index = grid.evaluate("g => [...document.querySelectorAll('[data-testid=stDataFrame]')].indexOf(g)")
    row_px, header_px, index_px = 35, 35, 60
    for attempt in range(3):
        if attempt:  # a slow first click may have left a cell's editor open over the grid: close it
            page.keyboard.press("Escape")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # the focus comes from this click
        grid.click(position={"x": index_px + 20, "y": header_px + row_px * row + row_px / 2})
        try:
            page.wait_for_function(f"([i, r]) => {{ const c = ({_ACTIVE_CELL})(i); return c !== null && c[1] === r; }}",
                                   arg=[index, row], timeout=step_ms // 6)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    while (current := page.evaluate(f"i => ({_ACTIVE_CELL})(i)", index))[0] != column + 1:
        assert current[1] == row, f"the grid selected row {current[1]}, not {row}"
        page.keyboard.press("ArrowRight" if current[0] < column + 1 else "ArrowLeft")
        page.wait_for_function(f"([i, c]) => {{ const now = ({_ACTIVE_CELL})(i); return now !== null && now[0] != c; }}",
                               arg=[index, current[0]], timeout=step_ms)
    page.keyboard.press("Enter")
    editor = page.locator("#portal input, #portal textarea").first
    editor.wait_for()
    before = runs(page)
    if keys:
        editor.fill("")
        page.keyboard.type(value, delay=20)
    else:
        editor.fill(value)
    editor.press("Enter")
    if form:  # (the grid shows the typed text once the form holds it)
        editor.wait_for(state="detached")
        grid.locator("td", has_text=value).first.wait_for(state="attached")
    else:
        settled(page, after=before)
