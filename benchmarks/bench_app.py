"""Responsiveness of the web app: page reruns, interactions, and a batch of 4 at n = 50.

Targets (issue 5): a page interaction that needs no new fit answers within 1 s; a batch of 4
with 50 finished experiments within 3 s on this machine; no refit on a rerun.

Set-up: a campaign from the ``hfo2-ncm85`` template with 50 finished experiments of the
virtual lab (random recipes, noisy results, a few failed runs) in an SQLite file. Then:

1. ``Campaign.suggest(4)`` on a freshly loaded Campaign (fit + acquisition, cold model
   cache) and again on the same object (model cached: acquisition only), default engine
   settings, torch with its default threads; the proposed experiments are abandoned between
   repetitions so every repetition sees the same data.
2. The app in-process (Streamlit's AppTest, same script runs as the server's): the first run
   of each page (cold: Insights fits and computes its model views), plain reruns, and one
   widget interaction per page that needs no new fit; then "Suggest experiments" (batch 4)
   clicked on the Plan page.

Usage: ``.venv/bin/python -m benchmarks.bench_app [--repeats 5] [--suggest-repeats 3] [--out FILE]``

``--browser`` (issue 17 targets: every page's first paint within 2 s, Insights complete within
3 s, a model-based batch of 4 shown within 3 s of the click): the app served as ``doe app`` serves
it (``python -m doe.ui.server run app.py``: libraries imported and recent models fitted before the
server answers; plain ``streamlit run`` for a checkout without it) on the same 50-experiment campaign, driven by Debian's
Chromium through Playwright; each visit is a new tab (a new app session) in one browser whose
cache is kept (an engineer's daily use; the first visit also loads the app's scripts). Per page: first paint (the
page's title drawn) and complete (no script run in flight; Insights: every plot drawn), the
first visit after the server started (cold: models fitted) and the median of the later
visits. Then on the Plan page: batch size 4, "Suggest experiments" clicked, until "Proposed 4"
shows. ``--before-root DIR`` (repeatable) runs the same on another checkout first, its campaign
built by that checkout's code, and writes all into one table.

Usage: ``.venv/bin/python -m benchmarks.bench_app --browser [--repeats 3] [--before-root DIR ...] [--out FILE]``
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import (
    RESULTS,
    ROOT,
    command_line,
    git_revision,
    machine,
    markdown_table,
    package_versions,
)

CAMPAIGN = "bench-n50"
N_FINISHED = 50


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def build_campaign(url: str) -> int:
    """The campaign with ``N_FINISHED`` finished virtual-lab experiments; number failed."""
    from doe.campaign import Campaign
    from doe.simulate import VirtualLab

    campaign = Campaign.from_config("hfo2-ncm85", storage=url, name=CAMPAIGN, actor="bench")
    recipes = VirtualLab.random_recipes(N_FINISHED, seed=11)
    results = VirtualLab(seed=12).run(recipes)
    campaign.record(pd.concat([recipes.reset_index(drop=True), results.reset_index(drop=True)], axis=1))
    return int(results["failed"].sum())


def bench_suggest(url: str, repeats: int) -> tuple[list[float], list[float]]:
    from doe.campaign import Campaign

    cold, warm = [], []
    for _ in range(repeats):
        campaign = Campaign.load(CAMPAIGN, storage=url, actor="bench")
        for bucket in (cold, warm):
            start = time.perf_counter()
            batch = campaign.suggest(4)
            bucket.append(time.perf_counter() - start)
            assert len(batch) == 4
            campaign.abandon(batch["experiment_id"].tolist(), reason="benchmark")
    return cold, warm


def bench_pages(repeats: int) -> tuple[list[list[str]], float]:
    from streamlit.testing.v1 import AppTest

    from doe.ui import state

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    os.environ.setdefault("DOE_ACTOR", "bench")  # no accounts: the app acts as DOE_ACTOR
    at.session_state[state.NEXT_CAMPAIGN] = CAMPAIGN
    at.run()
    rows: list[list[str]] = []

    def flip(getter: Callable[[], object], values: tuple[object, object]) -> list[float]:
        times = []
        for i in range(repeats):
            widget = getter()
            widget.set_value(values[i % 2])  # type: ignore[attr-defined]
            times.append(_timed(at.run))
            assert not at.exception, [e.value for e in at.exception]
        return times

    interactions: dict[str, tuple[str, Callable[[], list[float]]]] = {
        "campaigns": ("toggle 'show archived'", lambda: flip(lambda: at.toggle(key=state.SHOW_ARCHIVED),
                                                             (True, False))),
        "plan": ("choose a parameter to hold fixed", lambda: flip(lambda: at.multiselect(key=state.FIXED_NAMES),
                                                                  (["anneal_atmosphere"], []))),
        "record": ("switch the grid to 'all experiments'", lambda: flip(
            lambda: at.radio(key=state.GRID_SHOW), ("all experiments", "awaiting results"))),
        "insights": ("response surface: another y parameter (predict, no fit)", lambda: flip(
            lambda: at.selectbox(key=state.SURFACE_Y), ("anneal_time_h", "solid_content_mg_per_ml"))),
        "history": ("filter by text", lambda: flip(lambda: at.text_input(key=state.FILTER_TEXT), ("O2", "E00"))),
    }
    for page, (what, interact) in interactions.items():
        if page == "insights":
            at.session_state[state.INSIGHTS_SECTION] = "surface"  # the section the interaction changes
        at.switch_page(f"doe/ui/pages/{page}.py")
        first = _timed(at.run)
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        reruns = [_timed(at.run) for _ in range(repeats)]
        changes = interact()
        rows.append([page, f"{first:.2f}", f"{statistics.median(reruns):.3f} (max {max(reruns):.3f})",
                     what, f"{statistics.median(changes):.3f} (max {max(changes):.3f})"])

    at.switch_page("doe/ui/pages/plan.py").run()
    at.number_input(key=state.BATCH_SIZE).set_value(4)
    button = next(b for b in at.button if b.label == "Suggest experiments")
    suggest_ui = _timed(lambda: button.click().run())
    assert "Proposed 4 experiment(s)" in " ".join(s.value for s in at.success), [e.value for e in at.error]
    return rows, suggest_ui


# ------------------------------------------------------------------ in a real browser
BROWSER_PAGES = ("", "plan", "record", "insights", "history")  # "" = the Campaigns page
SERVER_OPTIONS = ("--server.headless", "true", "--browser.gatherUsageStats", "false",
                  "--client.toolbarMode", "viewer", "--server.fileWatcherType", "none")
CHROMIUM = "/usr/bin/chromium"
SETTLED = "[data-testid=stApp][data-test-script-state=notRunning]"
# In every tab: the browser's clock (ms from the navigation) at each plot's last ``plotly_afterplot``.
PLOT_CLOCK = """
window.__doePlots = {last: null, count: 0};
new MutationObserver(() => document.querySelectorAll('.js-plotly-plot').forEach(plot => {
  if (plot.__doeHooked || !plot.on) return;
  plot.__doeHooked = true;
  plot.on('plotly_afterplot', () => { window.__doePlots.last = performance.now(); window.__doePlots.count++; });
})).observe(document, {childList: true, subtree: true});
"""
QUIET_MS = 500  # Insights is complete when every plot is drawn and none was redrawn for this long


def _serve(root: Path, folder: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DOE_DATABASE_URL": url, "DOE_HOME": folder, "DOE_ACTOR": "bench",
           "PYTHONPATH": str(root)}
    env.pop("DOE_ENGINE_SETTINGS", None)
    log = (Path(folder) / f"server-{port}.log").open("w")
    # as `doe app` starts it; a checkout from before doe.ui.server existed: plain `streamlit run`
    launcher = "doe.ui.server" if (root / "doe" / "ui" / "server.py").is_file() else "streamlit"
    process = subprocess.Popen([sys.executable, "-m", launcher, "run", str(root / "app.py"), *SERVER_OPTIONS,
                                "--server.port", str(port), "--server.address", "127.0.0.1"],
                               cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the app did not start: {(Path(folder) / f'server-{port}.log').read_text()[-2000:]}")


def _visit(context: Any, base: str, path: str) -> tuple[float, float, float | None]:
    """(first paint, complete, last plot drawn by the browser's clock) of one visit in a new tab (a
    new app session; the browser's cache kept, as for an engineer who opens the app every day),
    seconds from the navigation. Insights is complete when every plot on it is drawn and none
    was drawn again for ``QUIET_MS``; complete is then the time of that last drawing."""
    page = context.new_page()
    page.set_default_timeout(600_000)
    start = time.perf_counter()
    page.goto(f"{base}/{path}?campaign={CAMPAIGN}")
    page.locator("h1").first.wait_for()
    paint = time.perf_counter() - start
    page.locator(SETTLED).wait_for(state="attached")
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    drawn = None
    if path == "insights":
        page.wait_for_function(f"""() => {{ const plots = [...document.querySelectorAll('.js-plotly-plot')];
            return plots.length >= 1 && plots.every(p => p.querySelector('.main-svg'))
                && window.__doePlots.last !== null && performance.now() - window.__doePlots.last > {QUIET_MS}; }}""")
        since, drawn_ms = page.evaluate("() => [performance.now() - window.__doePlots.last, window.__doePlots.last]")
        complete = time.perf_counter() - start - since / 1000
        drawn = drawn_ms / 1000
    else:
        complete = time.perf_counter() - start
    page.close()
    return paint, complete, drawn


def _batch_in_browser(context: Any, base: str, url: str) -> float:
    """Seconds from the click on "Suggest experiments" (batch 4) until "Proposed 4" shows."""
    from doe.campaign import Campaign

    page = context.new_page()
    page.set_default_timeout(600_000)
    page.goto(f"{base}/plan?campaign={CAMPAIGN}")
    page.get_by_role("button", name="Suggest experiments").wait_for()
    page.locator(SETTLED).wait_for(state="attached")
    box = page.get_by_label("Batch size", exact=True)
    box.fill("4")
    box.press("Tab")
    start = time.perf_counter()
    page.get_by_role("button", name="Suggest experiments").click()
    page.get_by_text("Proposed 4 experiment(s)").wait_for()
    seconds = time.perf_counter() - start
    page.close()
    campaign = Campaign.load(CAMPAIGN, storage=url, actor="bench")  # the same data for the next repetition
    campaign.abandon(campaign.history(status="proposed")["experiment_id"].tolist(), reason="benchmark")
    return seconds


def bench_browser(root: Path, repeats: int) -> dict[str, list[float]]:
    """Times of one checkout's app: ``<page> paint``/``<page> complete`` and ``batch of 4``."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="doe-bench-browser-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        # built by the checkout's own code, so that its schema is the one that checkout expects
        subprocess.run([sys.executable, "-c", "import sys; from benchmarks.bench_app import build_campaign; "
                        "build_campaign(sys.argv[1])", url], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                       check=True, capture_output=True)
        process, base = _serve(root, Path(folder), url)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox",
                                                                            "--disable-gpu"])
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(PLOT_CLOCK)
                for _ in range(repeats):
                    for path in BROWSER_PAGES:
                        paint, complete, drawn = _visit(context, base, path)
                        times.setdefault(f"{path or 'campaigns'} paint", []).append(paint)
                        times.setdefault(f"{path or 'campaigns'} complete", []).append(complete)
                        if drawn is not None:
                            times.setdefault(f"{path} last plot drawn (browser clock)", []).append(drawn)
                        print(f"{root}: {path or 'campaigns'} {paint:.2f} / {complete:.2f} s", file=sys.stderr)
                for _ in range(repeats):
                    times.setdefault("batch of 4", []).append(_batch_in_browser(context, base, url))
                    print(f"{root}: batch of 4 {times['batch of 4'][-1]:.2f} s", file=sys.stderr)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return times


def _cell(values: list[float] | None) -> str:
    if not values:
        return "-"
    later = values[1:]
    return f"{values[0]:.2f} / {statistics.median(later):.2f}" if later else f"{values[0]:.2f}"


def browser_main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    runs = {}
    for root in args.before_root:
        runs[f"before ({git_revision(root)})"] = bench_browser(root.resolve(), args.repeats)
    runs["after"] = bench_browser(ROOT, args.repeats)
    total = time.perf_counter() - started
    load = os.getloadavg()
    targets = {"paint": "2", "complete": "3 (Insights)", "batch": "3"}
    rows = []
    for key in runs["after"]:
        target = targets["batch"] if key == "batch of 4" else targets["paint"] if key.endswith("paint") else \
            (targets["complete"] if key.startswith("insights") else "")
        rows.append([key, *(_cell(r.get(key)) for r in runs.values()), target])
    columns = ["measure (s)", *(f"{name}: first visit / median of later" for name in runs), "target (s)"]
    text = "\n".join([
        "# Web app in a real browser (issue 17)",
        "",
        f"- Command (from the repository root): `{command_line()}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; wall time of the run {total:.0f} s",
        f"- Machine: {machine()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(other engineers' jobs share the 2 cores)",
        f"- Code: after = git {git_revision()}"
        + "".join(f"; before = `{root}` (git {git_revision(root)})" for root in args.before_root)
        + f"; Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in package_versions(("torch", "botorch", "streamlit")).items() if k != "python"),
        f"- Data: campaign from the hfo2-ncm85 template, {N_FINISHED} finished virtual-lab experiments, SQLite "
        f"file; default engine settings; the app started as `doe app` starts it (`python -m doe.ui.server run app.py`; plain `streamlit run app.py` for a checkout without it) in Debian's Chromium (Playwright); each visit a "
        f"new tab and app session in one browser (its cache kept: the first visit loads the app's scripts, as on an engineer's first day); {args.repeats} visits per page, then {args.repeats} batches of 4 (abandoned between).",
        "- paint: navigation until the page title is drawn; complete: until no script run is in flight (Insights: "
        f"every plot drawn, the time of the last drawing once none was drawn again for {QUIET_MS} ms; 'last plot "
        "drawn (browser clock)': the same moment by the browser's own clock from the navigation, "
        "`performance.now()` at the last `plotly_afterplot`); batch of 4: click on 'Suggest experiments' until 'Proposed 4 experiment(s)' shows. "
        "The first visit after the server started: without `doe.ui.server` (the before columns) it waited for the "
        "app's libraries to import and the models to fit; with it, both are done before the server answers.",
        "",
        markdown_table(columns, rows),
    ])
    earlier = ""
    if args.out.is_file():  # the in-process measurement (issue 5) stays below, as it was
        old = args.out.read_text()
        old = old.split(EARLIER, 1)[1] if EARLIER in old else old.replace("# Web app responsiveness", "", 1)
        earlier = f"\n\n{EARLIER}{old}" if old.strip() else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + earlier.rstrip() + "\n")
    print(text)


EARLIER = "## Earlier: one script run in AppTest, without a browser (issue 5)\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="reruns and interactions per page")
    parser.add_argument("--suggest-repeats", type=int, default=3, help="fresh Campaigns timed for suggest(4)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--browser", action="store_true", help="time the pages in a real browser (issue 17)")
    parser.add_argument("--before-root", type=Path, action="append", default=[],
                        help="with --browser: another checkout to time first (a 'before' column; repeatable)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.browser:
        args.out = args.out or RESULTS / "app.md"
        browser_main(args)
        return
    args.out = args.out or RESULTS / "app.md"
    started = time.perf_counter()
    import torch  # imported up front: its ~3 s import is a one-off of the server process

    with tempfile.TemporaryDirectory(prefix="doe-bench-app-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        os.environ["DOE_DATABASE_URL"] = url
        os.environ["DOE_HOME"] = folder
        os.environ.pop("DOE_ENGINE_SETTINGS", None)
        failed = build_campaign(url)
        print(f"campaign ready: {N_FINISHED} finished ({failed} failed)", file=sys.stderr)
        cold, warm = bench_suggest(url, args.suggest_repeats)
        print(f"suggest(4): cold {statistics.median(cold):.2f} s, warm {statistics.median(warm):.2f} s",
              file=sys.stderr)
        rows, suggest_ui = bench_pages(args.repeats)
    total = time.perf_counter() - started
    load = os.getloadavg()

    text = "\n".join([
        "# Web app responsiveness",
        "",
        f"- Command (from the repository root): `{command_line()}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; wall time of the run {total:.0f} s",
        f"- Machine: {machine()}; torch threads {torch.get_num_threads()}; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (other jobs share the 2 cores)",
        f"- Code: git {git_revision()}; Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in package_versions(("torch", "botorch", "streamlit")).items()
                    if k != "python"),
        f"- Data: campaign from the hfo2-ncm85 template, {N_FINISHED} finished virtual-lab experiments "
        f"({failed} failed), SQLite file; default engine settings; suggest timed {args.suggest_repeats} times, "
        f"page reruns and interactions {args.repeats} times each",
        "",
        "## A batch of 4 at n = 50 (target: 3 s)",
        "",
        markdown_table(["call", "median (s)", "min - max (s)"], [
            ["`Campaign.suggest(4)`, fresh Campaign (fit + acquisition)", f"{statistics.median(cold):.2f}",
             f"{min(cold):.2f} - {max(cold):.2f}"],
            ["`Campaign.suggest(4)` again, models cached (acquisition only)", f"{statistics.median(warm):.2f}",
             f"{min(warm):.2f} - {max(warm):.2f}"],
            ["Plan page: click 'Suggest experiments' (batch 4), whole script run", f"{suggest_ui:.2f}", "one run"],
        ]),
        "## Page runs (target: 1 s for anything that needs no new fit)",
        "",
        "Times of one script run in AppTest (the same script run the server does per interaction; the "
        "browser's rendering comes on top). 'First run' of Insights fits the models and computes the "
        "leave-one-out check, importance and a surface (cached afterwards by the campaign's revision); "
        "reruns and interactions reuse the cached Campaign and its models.",
        "",
        markdown_table(["page", "first run (s)", "rerun, median (s)", "interaction", "interaction, median (s)"],
                       rows),
    ])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
