"""Suggestion throughput with ``doe worker`` processes on PostgreSQL (issue 19, item 5).

Setup per configuration, on a fresh PostgreSQL database (``DOE_TEST_POSTGRES_URL`` or a
throwaway cluster started here): three campaigns of the 9-parameter template, each with
``--history`` random recipes measured on the virtual lab (all six outcomes, failed runs
included). ``--requests`` callers (threads, as users of the app or API would be) each ask one
campaign in turn for ``suggest(3)``, all at once; the default engine settings.

Configurations: ``inprocess`` (no worker: every caller computes in its own thread of one
process, as the web app does today) and 1, 2, ... ``doe worker`` subprocesses (one torch
thread each). Measured: wall time from the first request to the last batch, batches per
minute, the median and maximum wait of a request, and exactly-once (one stored batch per
request, none twice).

Run: ``.venv/bin/python -m benchmarks.bench_workers`` (writes benchmarks/results/workers.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    ROOT,
    format_duration,
    header,
    markdown_table,
    package_versions,
)

CAMPAIGNS = ("coat-a", "coat-b", "coat-c")
HEARTBEAT_S = "2"


def _postgres_helper() -> Any:
    spec = importlib.util.spec_from_file_location("doe_tests_postgres", ROOT / "tests" / "_postgres.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_campaigns(url: str, history: int) -> None:
    from doe import Campaign
    from doe.simulate import VirtualLab

    for i, name in enumerate(CAMPAIGNS):
        recipes = VirtualLab.random_recipes(history, seed=100 + i)
        table = recipes.join(VirtualLab(100 + i).run(recipes))
        table["failure_reason"] = table["failure_reason"].astype(object).where(table["failed"], None)
        campaign = Campaign.from_config("hfo2-ncm85", storage=url, name=name, actor="benchmark")
        campaign.record(table)


def start_workers(url: str, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    from doe.workers import live_workers

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOE_WORKER_HEARTBEAT_S": HEARTBEAT_S,
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    processes = []
    for i in range(count):
        log = (log_dir / f"worker{count}-{i}.log").open("w")
        processes.append(subprocess.Popen([sys.executable, "-m", "doe.cli", "worker", "--db", url],
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 180
    while live_workers(url, 3 * float(HEARTBEAT_S)) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError(f"the workers did not start; see {log_dir}")
        time.sleep(0.2)
    return processes


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()


def run_requests(url: str, requests: int) -> tuple[float, list[float], int, int]:
    """All requests at once; (wall seconds, each request's wait, batches stored (experiments / 3),
    distinct batch ids)."""
    from doe import Campaign

    waits: list[float] = [float("nan")] * requests
    errors: list[BaseException] = []
    start = threading.Event()

    def call(i: int) -> None:
        campaign = Campaign.load(CAMPAIGNS[i % len(CAMPAIGNS)], storage=url, actor=f"caller-{i}")
        start.wait()
        began = time.perf_counter()
        try:
            campaign.suggest(3)
        except BaseException as err:
            errors.append(err)
        waits[i] = time.perf_counter() - began

    threads = [threading.Thread(target=call, args=(i,)) for i in range(requests)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise errors[0]
    proposed = [Campaign.load(name, storage=url).history(status="proposed") for name in CAMPAIGNS]
    return wall, waits, sum(len(p) for p in proposed) // 3, sum(p["batch_id"].nunique() for p in proposed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--workers", default="inprocess,1,2", help="comma-separated: inprocess and worker counts")
    parser.add_argument("--history", type=int, default=30, help="measured experiments per campaign")
    parser.add_argument("--out", type=Path, default=RESULTS / "workers.md")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)
    pg = _postgres_helper()
    log_dir = Path(tempfile.mkdtemp(prefix="doe-bench-workers-"))  # the workers' logs, if one fails
    rows = []
    t0 = time.perf_counter()
    with pg.postgres_server() as admin:
        for config in [c.strip() for c in args.workers.split(",") if c.strip()]:
            url = pg.create_database(admin, "doe_bench_workers")
            processes: list[subprocess.Popen[bytes]] = []
            try:
                seed_campaigns(url, args.history)
                if config == "inprocess":
                    os.environ["DOE_WORKERS"] = "off"
                else:
                    os.environ["DOE_WORKERS"] = "auto"
                    os.environ["DOE_WORKER_HEARTBEAT_S"] = HEARTBEAT_S
                    processes = start_workers(url, int(config), log_dir)
                wall, waits, batches, batch_ids = run_requests(url, args.requests)
            finally:
                stop_workers(processes)
                from doe.storage.sql import close_all

                close_all()
                pg.drop_database(admin, url)
            label = "in-process (threads of one process)" if config == "inprocess" else f"{config} worker(s)"
            rows.append([label, f"{wall:.1f}", f"{args.requests / wall * 60:.1f}", f"{statistics.median(waits):.1f}",
                         f"{max(waits):.1f}", f"{batches} of {args.requests}", str(batch_ids)])
            print(rows[-1], file=sys.stderr, flush=True)
    text = header("Suggestion throughput with doe workers", runtime_s=time.perf_counter() - t0,
                  extra_versions={"procrastinate": package_versions(["procrastinate"])["procrastinate"]})
    text += (
        f"\n{args.requests} `suggest(3)` requests at once, spread over {len(CAMPAIGNS)} campaigns of the "
        f"9-parameter template with {args.history} measured experiments each (virtual lab, six outcomes), "
        "default engine settings, on PostgreSQL. Each worker is a `doe worker` subprocess with one torch "
        "thread; the in-process row computes every request in its caller's thread inside one process (the "
        "web app without workers). Jobs of one campaign run one at a time (a procrastinate lock per "
        "campaign), so at most three workers can be busy here.\n\n"
        + markdown_table(["configuration", "wall s", "batches per minute", "median wait s", "max wait s",
                          "batches stored", "distinct batch ids"], rows)
        + "\n\n'Distinct batch ids' below the batches stored means concurrent in-process suggestions on one "
        "campaign numbered their batches alike (each read the history before the others wrote; nor did "
        "they see each other's pending recipes): the workers' per-campaign lock runs them in turn.\n\n"
        "The machine has 2 cores shared with other engineers' work during this run: the figures are "
        "what this machine gave then, not a capacity; a second worker can add at most one core here.\n"
    )
    args.out.write_text(text)
    print(f"wrote {args.out} in {format_duration(time.perf_counter() - t0)}", file=sys.stderr)


if __name__ == "__main__":
    main()
