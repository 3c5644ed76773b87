"""Suggestion workers on a real PostgreSQL server: real ``doe worker`` processes, real jobs.

Worker processes run with a 1 s heartbeat (a worker silent 3 s is dead). Tests that need a
worker to be mid-job hold the campaign's advisory lock (:func:`doe.workers.campaign_lock`),
which a worker takes before it computes: the job is then 'doing' for as long as the test
wants, without any sleep.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from doe import Campaign
from doe.engine import EngineSettings
from doe.errors import ConfigError, DataError, ProposalError
from doe.workers import SuggestRequest, campaign_lock, live_workers, suggest_on_worker
from doe.workers.queue import libpq_url

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 1.0
FAST = EngineSettings.fast()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def jobs(url: str) -> pd.DataFrame:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        rows = conn.execute("SELECT id, status, attempts, worker_id, args->>'request_id' AS request_id "
                            "FROM procrastinate_jobs ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=["id", "status", "attempts", "worker_id", "request_id"])


class Workers:
    """``doe worker`` subprocesses on one database."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder, self.processes = url, folder, []  # type: ignore[var-annotated]

    def start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DOE_WORKER_HEARTBEAT_S": str(HEARTBEAT_S)}
        log = (self.folder / f"worker{len(self.processes)}.log").open("w")
        before = live_workers(self.url, 3 * HEARTBEAT_S)
        process = subprocess.Popen([sys.executable, "-m", "doe.cli", "worker", "--db", self.url, "-v"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        wait_until(lambda: process.poll() is not None or live_workers(self.url, 3 * HEARTBEAT_S) > before,
                   "the worker's first heartbeat")
        assert process.poll() is None, self.logs()
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.folder.glob("worker*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def pg_url(postgres_database: str) -> str:
    return postgres_database


@pytest.fixture
def workers(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    monkeypatch.setenv("DOE_WORKER_HEARTBEAT_S", str(HEARTBEAT_S))
    started = Workers(pg_url, tmp_path)
    try:
        yield started
    finally:
        started.stop()


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as err:  # reported by the test that joins
            out["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def result(thread: threading.Thread, out: dict[str, Any]) -> Any:
    thread.join(timeout=300)
    assert not thread.is_alive(), "the suggestion never returned"
    if "error" in out:
        raise out["error"]
    return out["value"]


def batches_of(campaign: Campaign) -> pd.Series:
    return campaign.history()["batch_id"].value_counts()


# ---------------------------------------------------------------- without workers
def test_a_request_id_returns_the_batch_it_wrote_and_writes_no_second(store_url: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, settings=FAST)
    first = campaign.suggest(2, request_id="req-1")
    again = campaign.suggest(2, request_id="req-1")
    assert len(campaign.history()) == 2
    assert list(again.columns) == list(first.columns)
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
    other = campaign.suggest(1, request_id="req-2")
    assert other["batch_id"].tolist() == ["B0002"] and len(campaign.history()) == 3


def test_a_request_id_reused_with_other_arguments_is_refused_naming_each_difference(store_url: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, settings=FAST)
    candidates = pd.DataFrame([{**campaign.config.reference_recipe(), "anneal_atmosphere": "air",  # type: ignore[dict-item]
                                "anneal_time_h": hours}
                               for hours in (1.0, 2.0, 3.0, 4.0)])
    first = campaign.suggest(2, fixed={"anneal_atmosphere": "air"}, candidates=candidates, request_id="req-1")
    stored = campaign.history().copy()
    reuses = [
        ({"n": 3, "fixed": {"anneal_atmosphere": "air"}, "candidates": candidates},
         r"n = 3, but batch B0001 holds 2 experiment\(s\) \(asked with n = 2\)"),
        ({"n": 2, "fixed": {"anneal_atmosphere": "O2"}},
         r"fixed 'anneal_atmosphere' = 'O2', but the request fixed it at 'air'"),
        ({"n": 2, "fixed": {"anneal_atmosphere": "air"}, "candidates": candidates.iloc[:3]},
         r"other candidates \(3 recipe\(s\)\) than the 4"),
        ({"n": 2, "candidates": candidates}, r"'anneal_atmosphere' not fixed, but the request fixed it at 'air'"),
        ({"n": 2, "fixed": {"anneal_atmosphere": "air"}}, r"no candidates, but batch B0001 was chosen among 4"),
    ]
    for arguments, difference in reuses:
        with pytest.raises(DataError, match=r"request_id 'req-1' was used for batch B0001 with other arguments: .*"
                                            + difference):
            campaign.suggest(**arguments, request_id="req-1")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"design = 'latin_hypercube', but batch B0001 was a 'model' design"):
        campaign.suggest(2, fixed={"anneal_atmosphere": "air"}, candidates=candidates, design="latin_hypercube",
                         request_id="req-1")
    pd.testing.assert_frame_equal(campaign.history(), stored)  # nothing written by a refused reuse
    # a retry (by another client; the candidates in another order, whole hours as ints) is the stored batch
    again = Campaign.load(campaign.name, storage=store_url, actor="robot").suggest(
        2, fixed={"anneal_atmosphere": "air"}, candidates=candidates.iloc[::-1].astype({"anneal_time_h": int}),
        request_id="req-1")
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
    assert len(campaign.history()) == 2


def test_sqlite_and_no_live_worker_compute_in_process(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, settings=FAST)
    assert suggest_on_worker(store_url, campaign.name, 1, actor="t") is None
    assert len(campaign.suggest(1)) == 1
    assert "request_id" not in campaign.proposals()["model_settings"].iloc[0]
    monkeypatch.setenv("DOE_WORKERS", "sometimes")
    with pytest.raises(ConfigError, match="DOE_WORKERS"):
        campaign.suggest(1)
    assert len(campaign.history()) == 1  # nothing stored after the bad setting


def test_a_request_survives_job_arguments() -> None:
    request = SuggestRequest(campaign="c", n=2, request_id="r", actor="a", fixed={"anneal_atmosphere": "air"},
                             candidates=({"anneal_time_h": 2.0},), settings={"num_restarts": 2},
                             design="latin_hypercube")
    assert SuggestRequest.from_job_args(request.job_args()) == request


# ---------------------------------------------------------------- with workers
@pytest.mark.slow
def test_two_workers_share_the_requests_of_three_campaigns(pg_url: str, workers: Workers,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["coat-a", "coat-b", "coat-c"]
    for name in names:
        Campaign.from_config("hfo2-ncm85", storage=pg_url, name=name, settings=FAST)
    workers.start()
    workers.start()
    assert live_workers(pg_url, 3 * HEARTBEAT_S) == 2
    # coat-a's first job holds one worker (blocked on the campaign's lock) while the other
    # must take the rest: both workers compute
    with campaign_lock(pg_url, "coat-a"):
        calls = [in_thread(lambda name=name: Campaign.load(name, storage=pg_url, settings=FAST).suggest(2))
                 for name in [*names, *names]]
        wait_until(lambda: (jobs(pg_url)["status"] == "succeeded").sum() >= 4, "coat-b and coat-c's jobs",
                   timeout_s=240)
    batches = [result(*call) for call in calls]
    done = jobs(pg_url)
    assert (done["status"] == "succeeded").all() and len(done) == 6, done
    assert done["worker_id"].nunique() == 2
    for name in names:
        campaign = Campaign.load(name, storage=pg_url)
        assert batches_of(campaign).to_dict() == {"B0001": 2, "B0002": 2}  # in turn, never side by side
        requests = campaign.proposals()["model_settings"].map(lambda s: s["request_id"])
        assert set(requests) <= set(done["request_id"]) and requests.nunique() == 2
        # the job carries only the settings that differ from the defaults; the worker rebuilds all of them
        used = [s["settings"] for s in campaign.proposals()["model_settings"] if "settings" in s]
        assert used and all(EngineSettings(**u) == FAST for u in used)  # stored JSON: lists for tuples
    assert sorted(b["batch_id"].iloc[0] for b in batches) == ["B0001", "B0001", "B0001", "B0002", "B0002", "B0002"]
    # DOE_WORKERS=off: computed here although workers are alive
    monkeypatch.setenv("DOE_WORKERS", "off")
    Campaign.load("coat-a", storage=pg_url, settings=FAST).suggest(1)
    assert len(jobs(pg_url)) == 6
    assert "request_id" not in Campaign.load("coat-a", storage=pg_url).proposals()["model_settings"].iloc[-1]


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_it_to_another_and_one_batch(pg_url: str, workers: Workers) -> None:
    Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    doomed = workers.start()
    with campaign_lock(pg_url, "coat"):
        call = in_thread(lambda: Campaign.load("coat", storage=pg_url, settings=FAST).suggest(3))
        wait_until(lambda: (jobs(pg_url)["status"] == "doing").any(), "the first worker to start the job")
        workers.start()  # the job is taken: the new worker waits for another
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
    batch = result(*call)
    done = jobs(pg_url)
    # procrastinate counts an attempt when a job ends: the killed one (retried) and the last
    assert done["status"].tolist() == ["succeeded"] and done["attempts"].tolist() == [2], done
    history = Campaign.load("coat", storage=pg_url).history()
    assert len(history) == 3 and history["batch_id"].unique().tolist() == ["B0001"]
    assert sorted(batch["experiment_id"]) == sorted(history["experiment_id"])


@pytest.mark.slow
def test_a_job_that_fails_on_the_worker_raises_its_error_to_the_caller(pg_url: str, workers: Workers) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    pending = campaign.suggest(1)  # no worker yet: in-process
    workers.start()
    with pytest.raises(ProposalError, match="only 0 of 1 candidate"):
        campaign.suggest(1, candidates=pending[campaign.config.parameter_names])
    assert jobs(pg_url)["status"].tolist() == ["failed"]  # the worker's attempt, then the caller's own
    assert len(campaign.history()) == 1


@pytest.mark.slow
def test_a_job_run_twice_writes_one_batch(pg_url: str) -> None:
    from doe.cli.worker import run_suggest_job

    campaign = Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    request = SuggestRequest(campaign="coat", n=2, request_id="once", actor="w")
    run_suggest_job(pg_url, **request.job_args())
    run_suggest_job(pg_url, **request.job_args())
    assert batches_of(campaign).to_dict() == {"B0001": 2}


def test_doe_worker_refuses_sqlite(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from doe.cli import cli

    out = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}"])
    assert out.exit_code == 1 and "needs a PostgreSQL database" in out.output


@pytest.mark.slow
def test_a_worker_starts_its_fits_from_the_model_states_another_process_stored(pg_url: str, workers: Workers) -> None:
    from doe.simulate import VirtualLab

    campaign = Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    recipes = VirtualLab.random_recipes(360, seed=5)
    table = recipes.join(VirtualLab(5).run(recipes))
    table["failure_reason"] = table["failure_reason"].astype(object).where(table["failed"], None)
    campaign.record(table)
    campaign.predict(recipes.head(2))  # fitted here: the states of outcomes above 300 rows are stored
    stored = {s.outcome for s in campaign.store.model_states("coat")}
    assert len(stored) >= 2
    workers.start()
    campaign.suggest(2)  # computed by the worker, a fresh process with no fit of its own
    assert jobs(pg_url)["status"].tolist() == ["succeeded"]
    started = campaign.proposals()["model_settings"].iloc[-1]["gp_warm_start"]
    assert {name for name, start in started.items() if start == "stored"} == stored, started


def test_doe_restore_cancels_the_suggestion_jobs_queued_before_it(pg_url: str, tmp_path: Path) -> None:
    """A restore with --force replaced the campaigns but kept the job-queue tables (the backup was
    made before the queue existed): a worker started later ran the old, queued request against
    the restored campaign of that name and stored a batch nobody asked of it."""
    from doe.workers import QUEUE, SUGGEST_TASK, ensure_schema, queue_app

    Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    dump = tmp_path / "lab.dump"
    done = subprocess.run([sys.executable, "-m", "doe.cli", "backup", "--db", pg_url, "--out", str(dump)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    ensure_schema(pg_url)
    app = queue_app(pg_url, max_connections=1)
    request = SuggestRequest(campaign="coat", n=2, request_id="before-the-restore", actor="robot")
    with app.open():
        queued = app.configure_task(SUGGEST_TASK, queue=QUEUE).defer(**request.job_args())
    assert jobs(pg_url).set_index("id").loc[queued, "status"] == "todo"

    restored = subprocess.run([sys.executable, "-m", "doe.cli", "restore", "--db", pg_url, "--from", str(dump),
                               "--force"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert restored.returncode == 0, restored.stderr
    assert "ended 1 suggestion job(s) queued before the restore" in restored.stdout
    assert jobs(pg_url).set_index("id").loc[queued, "status"] == "cancelled"  # no worker takes it
    assert batches_of(Campaign.load("coat", storage=pg_url)).empty

    # a backup made while a worker computed a job holds it as 'doing': the next worker would
    # retry it as stalled (its worker's heartbeat is old), so the restore ends it as aborted
    async def take_job() -> int:
        async with app.open_async():
            worker = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker)
            assert job is not None and job.id is not None
            return int(job.id)

    with app.open():
        taken = app.configure_task(SUGGEST_TASK, queue=QUEUE).defer(**request.job_args())
    assert asyncio.run(take_job()) == taken
    mid_job = tmp_path / "mid-job.dump"
    done = subprocess.run([sys.executable, "-m", "doe.cli", "backup", "--db", pg_url, "--out", str(mid_job)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    restored = subprocess.run([sys.executable, "-m", "doe.cli", "restore", "--db", pg_url, "--from", str(mid_job),
                               "--force"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert restored.returncode == 0, restored.stderr
    assert "ended 1 suggestion job(s)" in restored.stdout
    assert jobs(pg_url).set_index("id").loc[taken, "status"] == "aborted"
    assert batches_of(Campaign.load("coat", storage=pg_url)).empty


def test_a_worker_whose_postgres_database_is_replaced_under_it_stops_with_one_line(pg_url: str,
                                                                                  workers: Workers) -> None:
    """A restore under a running worker ended it with some 60 lines of traceback (psycopg's
    'cached plan must not change result type', then procrastinate's ConnectorException). Here the
    queue's functions are replaced as a restore replaces them, without the race of one (the database's
    words depend on whether the worker's connection had cached its plan)."""
    Campaign.from_config("hfo2-ncm85", storage=pg_url, name="coat", settings=FAST)
    worker = workers.start()
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        conn.execute("DROP FUNCTION procrastinate_fetch_job_v2 CASCADE")
    wait_until(lambda: worker.poll() is not None, "the worker to stop", timeout_s=60)
    assert worker.returncode == 1
    said = [line for line in workers.logs().splitlines() if line.strip() and not line.startswith("INFO ")]
    assert "Traceback" not in workers.logs(), workers.logs()
    assert re.fullmatch(r"Error: doe worker \S+ stopped: its database was replaced \(a restore\) or became "
                        r"unreachable \(.*function .+\); start the "
                        r"worker again \(doe worker\) once the database is back", said[-1]), said
    assert len(said) == 2  # the worker's start line, then this one
