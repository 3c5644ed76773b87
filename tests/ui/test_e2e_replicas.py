"""Two app replicas on one PostgreSQL database, with a ``doe worker``: what compose.yaml runs.

A campaign created and planned on one replica (its suggestion computed by the worker, the
page waiting on the job) is seen, with its proposed batch, on the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from doe.workers import live_workers
from doe.workers.queue import libpq_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import RUN_COUNTER, chromium, open_page, pick_option, settled, streamlit_app

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "shared-furnace"
STEP_MS = 120_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def pg_url(postgres_database: str) -> str:
    return postgres_database


@pytest.fixture
def worker(pg_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOE_WORKER_HEARTBEAT_S": "1"}
    with (tmp_path / "worker.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "doe.cli", "worker", "--db", pg_url],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while live_workers(pg_url, 3) == 0:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.2)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def test_two_replicas_see_the_same_campaigns_and_queue_suggestions_for_the_worker(
        pg_url: str, worker: subprocess.Popen[bytes], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    env = {**os.environ, "DOE_DATABASE_URL": pg_url, "DOE_HOME": str(tmp_path / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Rita Replica", "DOE_WORKER_HEARTBEAT_S": "1"}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    expect.set_options(timeout=STEP_MS)
    with (streamlit_app(tmp_path / "one", env) as one, streamlit_app(tmp_path / "two", env) as two,
          chromium() as browser):
        pages = []
        for _ in (one, two):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
            context.add_init_script(RUN_COUNTER)
            page = context.new_page()
            page.set_default_timeout(STEP_MS)
            pages.append(page)
        first, second = pages

        first.goto(one)
        first.get_by_role("heading", name="Campaigns").wait_for()
        settled(first)
        first.get_by_label("Campaign name", exact=True).fill(CAMPAIGN)
        first.get_by_role("button", name="Create campaign").click()
        expect(first.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Created campaign '{CAMPAIGN}'")
        settled(first)
        open_page(first, "Plan")
        first.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        first.get_by_label("Batch size", exact=True).fill("2")
        first.get_by_role("button", name="Suggest experiments").click()
        expect(first.get_by_test_id("stAlertContentSuccess")).to_contain_text("Proposed 2 experiment(s)")
        settled(first)

        # the other replica, started before the campaign existed, lists it with its batch
        second.goto(two)
        second.get_by_role("heading", name="Campaigns").wait_for()
        settled(second)
        pick_option(second, second.get_by_test_id("stSidebar").get_by_test_id("stSelectbox"), CAMPAIGN)
        settled(second)
        open_page(second, "Plan")
        second.get_by_role("heading", name=f"Plan: {CAMPAIGN}").wait_for()
        expect(second.get_by_role("heading", name="Proposed, not started (2)")).to_be_visible()

    # the suggestion was the worker's job, not computed inside the replica
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM procrastinate_jobs").fetchall()]
    assert statuses == ["succeeded"]
