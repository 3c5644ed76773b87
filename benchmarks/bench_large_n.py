"""Large histories: ``Campaign.suggest(3)`` on the hfo2-ncm85 template at n = 300 to 10,000, per device.

Per (device, n), in its own subprocess: n random recipes run on ``VirtualLab(seed=n)`` (all
outcomes, failed runs included) are recorded in a fresh in-memory Campaign; the imports are
warmed by a suggest on a small campaign, then one ``suggest(3)`` is timed (wall clock;
``torch.cuda.synchronize`` around it on CUDA) with the process's peak RSS after it
(``ru_maxrss``, whole process). Accuracy: the GP of every acquisition outcome, exact against
the sparse conditioning actually used at that n (:data:`doe.engine.gp.MAX_EXACT`), RMSE on
500 held-out noiseless VirtualLab recipes (exact above 5,000 rows is left out: O(n^3)).

Usage::

    .venv/bin/python -m benchmarks.bench_large_n                      # n = 300, 1000, 5000 on the CPU
    .venv/bin/python -m benchmarks.bench_large_n --devices cpu,cuda --sizes 1000,5000,10000 --out gpu.md
    .venv/bin/python -m benchmarks.bench_large_n --sizes 60 --out /tmp/x.md   # quick (CI)
    .venv/bin/python -m benchmarks.bench_large_n --sizes 1000,5000 --start cold,stored   # stored warm starts

``--start`` (issue 19 item 2): instead of an in-memory campaign, each n is prepared once in an
SQLite file (n runs recorded, one ``suggest(3)``, its three results recorded: the lab's next
step); then a fresh process per start mode loads the campaign and times ``suggest(3)`` on the
n + 3 rows: ``cold`` with the stored model states deleted, ``stored`` starting from the states
the preparing process stored (:mod:`doe.engine.warm`). Imports are warmed the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, ROOT, command_line, header, markdown_table

TARGETS_S = {1000: 5.0, 5000: 30.0}
TARGET_RSS_MB = {5000: 1536.0}


def history_table(n: int, seed: int) -> Any:
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n, seed=seed)
    table = recipes.join(VirtualLab(seed).run(recipes))
    table["failure_reason"] = table["failure_reason"].astype(object).where(table["failed"], None)
    return table


def run_worker(cmd: list[str], timeout: float) -> dict[str, Any]:
    """Run one worker subprocess; its last JSON line, or ``{"error": ...}`` when it failed or timed out."""
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if done.returncode == 0 and lines else {"error": done.stderr[-300:]}


def timed_suggest(campaign: Any, device: str) -> tuple[Any, float, float]:
    """``campaign.suggest(3)`` and its wall and CPU seconds (CUDA work finished before the clocks stop)."""
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    batch = campaign.suggest(3)
    sync()
    return batch, time.perf_counter() - t0, time.process_time() - c0


def worker(n: int, device: str, dtype: str, accuracy: bool, max_exact: int | None) -> dict[str, Any]:
    import numpy as np
    import torch

    from doe import Campaign
    from doe.engine import EngineSettings, Surrogates
    from doe.engine.gp import ExactGP

    settings = EngineSettings(device=device, dtype=dtype, exact_gp_max_rows=max_exact)  # type: ignore[arg-type]
    warm = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="bench", settings=settings)
    warm.record(history_table(20, 1))
    warm.suggest(1)
    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="bench", settings=settings)
    campaign.record(history_table(n, n))
    batch, seconds, cpu_seconds = timed_suggest(campaign, device)
    out: dict[str, Any] = {"n": n, "device": device, "dtype": dtype, "seconds": seconds, "cpu_seconds": cpu_seconds,
                           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                           "strategy": str(batch["strategy"].iloc[0]),
                           "approximation": campaign.proposals()["model_settings"].iloc[-1].get("gp_approximation")}
    if accuracy and max_exact is not None and max_exact < n <= 5000:
        from doe.simulate import VirtualLab

        held = VirtualLab.random_recipes(500, seed=n + 1)
        truth = VirtualLab(n + 1, noise=False, failures=False).run(held)
        surrogates = Surrogates(campaign.config, settings).fit(history_table(n, n), seed=0)
        X_held = torch.as_tensor(surrogates.encoder_.encode(held))  # on the CPU: both GPs are compared there
        rmse = {}
        from doe.engine.surrogates import acquisition_outcomes

        for name in acquisition_outcomes(campaign.config):
            if name not in truth.columns or surrogates.kind(name) != "gp":
                continue
            sparse = surrogates.model(name)
            data = surrogates.training_data(name)
            exact = ExactGP({i: len(v) for i, v in surrogates.encoder_.cat_dims.items()}, surrogates.encoder_.dim,
                            torch.device("cpu"), kernel=settings.kernel, lengthscale_prior=settings.lengthscale_prior,
                            max_exact=None, noise_prior=settings.noise_prior)
            assert sparse is not None
            exact.set_hyperparameters(np.exp(sparse.theta_[:-2]), sparse.noise_, sparse.constant_, data.X, data.y,
                                      cells=data.cells)
            ok = truth[name].notna().to_numpy()
            y = truth[name].to_numpy(dtype=float)[ok]
            rmse[name] = {kind: float(np.sqrt(((gp.mean_cov(X_held[ok], full_cov=False)[0].numpy() - y) ** 2).mean()))
                          for kind, gp in (("exact", exact), ("sparse", sparse))}
        out["rmse"] = rmse
    return out


def prepare(n: int, path: str, settings: Any) -> None:
    """An SQLite campaign at ``path``: n runs, one suggest(3) (stores the model states), its results."""
    from doe import Campaign
    from doe.simulate import VirtualLab

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{path}", actor="bench", settings=settings)
    campaign.record(history_table(n, n))
    batch = campaign.suggest(3)
    lab = VirtualLab(n + 7).run(batch[["experiment_id", *campaign.config.parameter_names]])
    campaign.record(lab)


def stored_worker(n: int, device: str, dtype: str, max_exact: int | None, path: str, start: str) -> dict[str, Any]:
    """Time one suggest(3) in this fresh process on the campaign :func:`prepare` left at ``path``."""
    import shutil

    import sqlalchemy as sa

    from doe import Campaign
    from doe.engine import EngineSettings
    from doe.engine.encoding import Encoder

    settings = EngineSettings(device=device, dtype=dtype, exact_gp_max_rows=max_exact)  # type: ignore[arg-type]
    if not Path(path).exists():
        prepare(n, path, settings)
        return {"prepared": path}
    copy = f"{path}.{start}.sqlite3"
    shutil.copyfile(path, copy)
    if start == "cold":
        engine = sa.create_engine(f"sqlite:///{copy}")
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM model_states"))
        engine.dispose()
    warm = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="bench", settings=settings)
    warm.record(history_table(20, 1))
    warm.suggest(1)
    campaign = Campaign.load("hfo2-ncm85", storage=f"sqlite:///{copy}", actor="bench", settings=settings)
    batch, seconds, cpu_seconds = timed_suggest(campaign, device)
    model_settings = campaign.proposals()["model_settings"].iloc[-1]
    return {"n": n + 3, "device": device, "dtype": dtype, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "strategy": str(batch["strategy"].iloc[0]), "approximation": model_settings.get("gp_approximation"),
            "warm_start": model_settings.get("gp_warm_start"),
            "batch": Encoder(campaign.config).encode(batch).tolist()}


def run_stored(args: argparse.Namespace, devices: list[str], load: str, start_time: float) -> None:
    """The ``--start`` comparison: one prepared file per (device, n), a fresh process per start mode."""
    import tempfile

    rows = []
    starts = [s for s in args.start.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="doe-large-n-") as folder:
        for device in devices:
            for n in [int(s) for s in args.sizes.split(",")]:
                path = str(Path(folder) / f"{device}-{n}.sqlite3")
                results = {}
                for start in ["prepare", *starts]:
                    cmd = [sys.executable, "-m", "benchmarks.bench_large_n", "--dtype", args.dtype, "--exact-max",
                           args.exact_max, "--stored-worker", str(n), device, path, start]
                    res = run_worker(cmd, args.timeout)
                    print(device, n, start, {k: v for k, v in res.items() if k != "batch"}, flush=True)
                    results[start] = res
                for start in starts:
                    res = results[start]
                    if "error" in res:
                        rows.append([device, n + 3, start, "-", "-", "-", "-", res["error"].replace("\n", " ")[-120:], "-"])
                        continue
                    target = TARGETS_S.get(n)
                    met = "-" if target is None else ("yes" if res["seconds"] <= target else "no")
                    same = "-"
                    if start != "cold" and "batch" in results.get("cold", {}):
                        import numpy as np

                        diff = np.abs(np.asarray(res["batch"]) - np.asarray(results["cold"]["batch"])).max()
                        same = f"{diff:.3g}"
                    rows.append([device, n + 3, start, f"{res['seconds']:.2f}", f"{res['cpu_seconds']:.2f}",
                                 f"{res['rss_mb']:.0f}", json.dumps(res["warm_start"]), same, met])
    text = header("Large histories: suggest(3) in a fresh process, cold against a stored warm start",
                  command=command_line(), runtime_s=time.perf_counter() - start_time)
    text += ("Per n: an SQLite campaign with n VirtualLab runs, one suggest(3) and its three results (n + 3 rows); "
             "then one fresh process per row loads it and times one suggest(3) (imports warmed): `cold` with the "
             "stored model states deleted, `stored` from the states the preparing process stored. The batch difference is in the model space (unit cube per parameter, category index), both batches in the same row order. Target (issue 19, "
             "2-core CPU): n = 1,000 within 5 s wall (`met`). CPU s is the process's CPU time (one thread). "
             f"Load average at the start (1/5/15 min; other jobs share the cores): {load}.\n\n")
    text += markdown_table(["device", "rows", "start", "suggest(3) s", "CPU s", "peak RSS MB", "fit started from",
                            "batch: max abs diff from cold (model space)", "met"], rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    print(f"wrote {args.out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,5000")
    parser.add_argument("--devices", default="cpu")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--exact-max", default="1000",
                        help="EngineSettings.exact_gp_max_rows: a number, or 'none' (always exact)")
    parser.add_argument("--out", default=str(RESULTS / "large_n.md"))
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--start", default="",
                        help="cold,stored: fresh-process suggest from an SQLite campaign, model states deleted or kept")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--stored-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stored_worker:
        max_exact = None if args.exact_max.lower() == "none" else int(args.exact_max)
        n, device, path, start = args.stored_worker
        print(json.dumps(stored_worker(int(n), device, args.dtype, max_exact, path, start)))
        return
    if args.worker:
        max_exact = None if args.exact_max.lower() == "none" else int(args.exact_max)
        print(json.dumps(worker(int(args.worker[0]), args.worker[1], args.dtype, args.worker[2] == "1", max_exact)))
        return
    import torch

    start = time.perf_counter()
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    rows, notes = [], []
    devices = [d for d in args.devices.split(",") if d]
    if "cuda" in devices and not torch.cuda.is_available():
        devices.remove("cuda")
        notes.append("No CUDA device on this machine: only the CPU half was run.")
    if args.start:
        run_stored(args, devices, load, start)
        return
    for device in devices:
        for n in [int(s) for s in args.sizes.split(",")]:
            cmd = [sys.executable, "-m", "benchmarks.bench_large_n", "--dtype", args.dtype, "--exact-max", args.exact_max,
                   "--worker", str(n), device, "0" if args.no_accuracy else "1"]
            res = run_worker(cmd, args.timeout)
            print(device, n, res, flush=True)
            if "error" in res:
                rows.append([device, n, args.dtype, args.exact_max, "-", "-", "-", "-", res["error"].replace("\n", " ")[-120:], "-"])
                continue
            target = TARGETS_S.get(n)
            met = "-" if target is None else ("yes" if res["seconds"] <= target and
                                               res["rss_mb"] <= TARGET_RSS_MB.get(n, 1e9) else "no")
            rmse = "; ".join(f"{k}: exact {v['exact']:.3g} / sparse {v['sparse']:.3g}"
                             for k, v in res.get("rmse", {}).items()) or "-"
            rows.append([device, n, args.dtype, args.exact_max, f"{res['seconds']:.2f}", f"{res['cpu_seconds']:.2f}", f"{res['rss_mb']:.0f}",
                         json.dumps(res["approximation"]), rmse, met])
    text = header("Large histories: suggest(3) on hfo2-ncm85 by history size and device",
                  command=command_line(), runtime_s=time.perf_counter() - start)
    text += "\n" + "\n".join(f"- {note}" for note in notes) + ("\n\n" if notes else "")
    text += ("Targets (issue 19, 2-core CPU): n = 1,000 within 5 s; n = 5,000 within 30 s and 1.5 GB peak RSS "
             "(`met` column, on the wall-clock figure). One timed suggest(3) per row, imports warmed; CPU s is the "
             "process's CPU time (one thread: the wall time it would take on an idle core); RSS is the whole "
             f"process's peak. Load average at the start (1/5/15 min; other jobs share the cores): {load}.\n\n")
    text += markdown_table(["device", "n", "dtype", "exact_gp_max_rows", "suggest(3) s", "CPU s", "peak RSS MB", "GP per outcome",
                            "held-out RMSE (exact / used)", "met"], rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
