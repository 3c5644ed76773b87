"""Campaign storage benchmark: recording 10,000 measurements and loading a campaign.

For each backend (an SQLite file; PostgreSQL: ``DOE_TEST_POSTGRES_URL`` or a throwaway
cluster started here) it measures:

* batched writes: 2,000 experiments x 5 outcomes recorded as a lab would, in 200 rounds of
  "propose 10 experiments" (one write) and "record their 50 results" (one write);
* one import: the same 2,000 experiments and 10,000 measurements in a single write();
* a JSON round trip: export_campaign + import_campaign of that campaign;
* loading a 1,000-experiment campaign: store.experiments() + store.measurements().

Wall time is measured without tracemalloc; the tracemalloc peak (Python allocations) comes
from a repeat of the same step under tracemalloc; ru_maxrss is the process peak at the end.

Run: ``.venv/bin/python -m benchmarks.bench_storage`` (writes benchmarks/results/storage.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import command_line
from doe.domain.config import CampaignConfig
from doe.domain.records import NewExperiment, NewMeasurement, StatusChange
from doe.storage.sql import SqlStore, close_all
from doe.templates import resolve_config

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ["first_cycle_ce_pct", "capacity_retention_pct", "first_cycle_discharge_capacity_mah_per_g",
            "rate_capability_pct", "coating_thickness_nm"]


def _postgres_helper() -> Any:
    spec = importlib.util.spec_from_file_location("doe_tests_postgres", ROOT / "tests" / "_postgres.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipes(config: CampaignConfig, n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for p in config.parameters:
            if p.type == "categorical":
                row[p.name] = str(rng.choice(p.values))
            elif p.type == "discrete":
                row[p.name] = float(rng.choice(p.values))
            else:
                row[p.name] = float(rng.uniform(p.lower, p.upper))
        out.append(row)
    return out


def results(eid: str, rng: np.random.Generator) -> list[NewMeasurement]:
    return [NewMeasurement(eid, o, float(rng.normal(80, 5))) for o in OUTCOMES]


def batched(store: SqlStore, config: CampaignConfig, n_experiments: int, batch: int) -> None:
    rng = np.random.default_rng(1)
    params = recipes(config, n_experiments, 2)
    for start in range(0, n_experiments, batch):
        report = store.write(config.name, actor="bench", audit_action="suggest", new_experiments=[
            NewExperiment(p, "proposed", 1, batch_id=f"B{start // batch:04d}", seed=start,
                          predictions={o: {"mean": 80.0, "sd": 2.0} for o in OUTCOMES},
                          model_settings={"restarts": 10}, package_version="0.1.0")
            for p in params[start:start + batch]])
        ids = report.experiment_ids
        store.write(config.name, actor="bench", audit_action="record",
                    measurements=[m for eid in ids for m in results(eid, rng)],
                    status_changes=[StatusChange(eid, "completed") for eid in ids])


def one_import(store: SqlStore, config: CampaignConfig, n_experiments: int) -> None:
    rng = np.random.default_rng(3)
    params = recipes(config, n_experiments, 4)
    ids = [f"H{i:05d}" for i in range(n_experiments)]
    store.write(config.name, actor="bench", audit_action="import",
                new_experiments=[NewExperiment(p, "completed", 1, experiment_id=eid, source="import")
                                 for eid, p in zip(ids, params, strict=True)],
                measurements=[m for eid in ids for m in results(eid, rng)])


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def traced_peak(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def bench_backend(label: str, new_url: Callable[[], str], args: argparse.Namespace) -> list[tuple[str, ...]]:
    base = resolve_config("hfo2-ncm85")
    rows: list[tuple[str, ...]] = []
    n, batch, n_load = args.experiments, args.batch, args.load_experiments
    n_meas = n * len(OUTCOMES)

    store = SqlStore.open(new_url())
    counter = iter(range(1000))

    def fresh() -> CampaignConfig:
        config = base.replace(name=f"bench-{next(counter)}")
        store.create_campaign(config, "bench")
        return config

    config = fresh()
    seconds = timed(lambda: batched(store, config, n, batch))
    assert len(store.measurements(config.name)) == n_meas
    writes = 2 * -(-n // batch)
    config = fresh()
    peak = traced_peak(lambda: batched(store, config, min(n, 20 * batch), batch))
    rows.append((label, f"batched writes: {n} experiments x {len(OUTCOMES)} outcomes in {writes} writes",
                 f"{seconds:.1f}", f"{n_meas / seconds:,.0f} meas/s; {1000 * seconds / writes:.1f} ms/write",
                 f"{peak:.1f} (first {min(n, 20 * batch)} exp.)"))
    print(rows[-1], flush=True)

    config = fresh()
    seconds = timed(lambda: one_import(store, config, n))
    assert len(store.measurements(config.name)) == n_meas
    imported = config
    config = fresh()
    peak = traced_peak(lambda: one_import(store, config, n))
    rows.append((label, f"one write(): {n} experiments + {n_meas} measurements", f"{seconds:.1f}",
                 f"{n_meas / seconds:,.0f} meas/s", f"{peak:.1f}"))
    print(rows[-1], flush=True)

    exported: dict[str, Any] = {}
    seconds_export = timed(lambda: exported.update(store.export_campaign(imported.name)))
    seconds_import = timed(lambda: store.import_campaign(exported, "bench", new_name="bench-copy"))
    peak = traced_peak(lambda: store.import_campaign(store.export_campaign(imported.name), "bench",
                                                     new_name="bench-copy-2"))
    rows.append((label, f"export_campaign + import_campaign ({n} exp., {n_meas} meas., audit)",
                 f"{seconds_export:.1f} + {seconds_import:.1f}", "", f"{peak:.1f}"))
    print(rows[-1], flush=True)

    config = fresh()
    one_import(store, config, n_load)

    def load() -> None:
        frame = store.experiments(config.name)
        measured = store.measurements(config.name)
        assert len(frame) == n_load and len(measured) == n_load * len(OUTCOMES)

    load()  # warm (config parsing cache, connection)
    seconds = min(timed(load) for _ in range(3))
    peak = traced_peak(load)
    rows.append((label, f"load {n_load}-experiment campaign: experiments() + measurements()",
                 f"{seconds:.2f}", "best of 3", f"{peak:.1f}"))
    print(rows[-1], flush=True)
    store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--load-experiments", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "storage.md")
    args = parser.parse_args()

    rows: list[tuple[str, ...]] = []
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory(prefix="doe-bench-") as tmp:
        if "sqlite" in backends:
            files = iter(range(100))
            rows += bench_backend("SQLite file (WAL)", lambda: f"sqlite:///{tmp}/bench{next(files)}.sqlite3", args)
        if "postgres" in backends:
            pg = _postgres_helper()
            with pg.postgres_server() as admin:
                created: list[str] = []

                def new_pg() -> str:
                    created.append(pg.create_database(admin, "doe_bench"))
                    return created[-1]

                try:
                    rows += bench_backend("PostgreSQL 15 (local)", new_pg, args)
                finally:
                    close_all()
                    for url in created:
                        pg.drop_database(admin, url)

    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = command_line()
    lines = [
        "# Storage benchmark",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}  ",
        "PostgreSQL: " + ("DOE_TEST_POSTGRES_URL" if os.environ.get("DOE_TEST_POSTGRES_URL")
                          else "throwaway local cluster, fsync=off") + "  ",
        f"Load average at the end (1, 5, 15 min): {load} (a shared machine: other jobs ran too)  ",
        f"Process peak RSS (ru_maxrss, whole run): {maxrss_mb:.0f} MB",
        "",
        "| backend | step | wall time (s) | rate | tracemalloc peak (MB) |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "Batched writes are the lab's rhythm: each round is one write proposing 10 experiments "
        "(with predictions and provenance) and one write recording their 50 results and status "
        "changes; every write is one transaction with its audit entries. The tracemalloc peak of "
        "the batched row covers its first 200 experiments only.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
