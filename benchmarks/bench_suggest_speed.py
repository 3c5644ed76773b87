"""Wall time and memory of ``Campaign.suggest(3)`` on the hfo2-ncm85 template, and of Ax and BayBE.

For each history size n, n random recipes are run through ``VirtualLab`` (noise and failed runs
included) and recorded in a fresh ``Campaign.from_config("hfo2-ncm85", storage=":memory:")``;
only the ``suggest(3)`` call is timed. Every repeat uses a new Campaign object, so no fitted
model is reused. Each (device, n) runs in its own subprocess so that the peak resident memory
is its own.

Memory: ``tracemalloc`` peak of an extra, traced suggest call (Python-level allocations,
including numpy's buffers but not torch's tensor storage) and the growth of
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` across the first (untraced) suggest call (the
process's peak resident set, which does include torch's allocations).

Peers (same history from a CSV, same space, batch of 3) run under ``.venv-bench/bin/python``
when that venv exists: ``benchmarks/peers/ax_suggest.py`` and ``baybe_suggest.py``.

Usage::

    .venv/bin/python -m benchmarks.bench_suggest_speed
    .venv/bin/python -m benchmarks.bench_suggest_speed --sizes 10,30 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BENCH_VENV_PYTHON,
    RESULTS,
    ROOT,
    command_line,
    fmt,
    format_duration,
    header,
    markdown_table,
    progress_logger,
    single_thread,
    write_json,
)

SIZES = (10, 30, 100, 300, 1000)
PEERS = {"ax": "benchmarks.peers.ax_suggest", "baybe": "benchmarks.peers.baybe_suggest"}
OUT = RESULTS / "suggest_speed.md"
RAW = RESULTS / "raw" / "suggest_speed.json"
TARGETS = {30: 2.0, 300: 10.0}


def history_table(n: int, seed: int) -> Any:
    """n random recipes measured on the virtual lab: parameters, outcomes, failed, failure_reason."""
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n, seed=seed)
    results = VirtualLab(seed).run(recipes)
    return recipes.join(results)


def space_json(config: Any) -> dict[str, Any]:
    from doe.domain.parameters import CategoricalParameter, ContinuousParameter

    params = []
    for p in config.parameters:
        if isinstance(p, ContinuousParameter):
            params.append({"name": p.name, "type": "continuous", "bounds": [p.lower, p.upper],
                           "log_scale": bool(p.log_scale)})
        elif isinstance(p, CategoricalParameter):
            params.append({"name": p.name, "type": "categorical", "values": list(p.values)})
        else:
            params.append({"name": p.name, "type": "discrete", "values": [float(v) for v in p.values]})
    return {
        "parameters": params,
        "objectives": [{"name": o.name, "goal": o.goal, "threshold": o.threshold} for o in config.objectives],
        "constraints": [{"outcome": c.outcome, "operator": c.operator, "bound": c.bound}
                        for c in config.outcome_constraints],
    }


# --------------------------------------------------------------------- worker (one subprocess per n)
def worker(history_csv: Path, device: str, repeats: int, batch: int, memory: bool) -> dict[str, Any]:
    import pandas as pd

    from doe import Campaign
    from doe.engine import EngineSettings

    history = pd.read_csv(history_csv)
    history["failure_reason"] = history["failure_reason"].astype(object).where(history["failed"], None)

    def fresh() -> Any:
        campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="benchmark",
                                        settings=EngineSettings(device=device))  # type: ignore[arg-type]
        campaign.record(history)
        return campaign

    seconds: list[float] = []
    cpu_seconds: list[float] = []
    strategy = ""
    rss_before = rss_after = float("nan")
    for r in range(repeats):
        campaign = fresh()
        gc.collect()
        if r == 0:
            rss_before = _maxrss_mb()
        if device == "cuda":
            import torch

            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        batch_table = campaign.suggest(batch)
        if device == "cuda":
            import torch

            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
        if r == 0:
            rss_after = _maxrss_mb()
        strategy = str(batch_table["strategy"].iloc[0])
        del campaign
    peak = float("nan")
    cuda_peak = float("nan")
    if memory:
        campaign = fresh()
        gc.collect()
        if device == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats()
        tracemalloc.start()
        campaign.suggest(batch)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        if device == "cuda":
            import torch

            cuda_peak = torch.cuda.max_memory_allocated() / 2**20
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "strategy": strategy, "tracemalloc_peak_mb": peak,
            "rss_growth_mb": rss_after - rss_before, "rss_peak_mb": _maxrss_mb(), "cuda_peak_mb": cuda_peak}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------- driver
def run_json(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def median(values: list[float]) -> float:
    import numpy as np

    return float(np.median(values)) if values else float("nan")


def report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    # peers' figures come from this run or, with --reuse-peers, from an earlier one
    peers_available = any(r["tool"] in PEERS for r in results.values())
    extra = {f"{k} (peers' venv)": v for k, v in meta.get("peer_versions", {}).items()}
    parts = [header("Suggestion speed: Campaign.suggest(3) on the hfo2-ncm85 template",
                    command=meta.get("command"), runtime_s=meta.get("runtime_s"), extra_versions=extra)]
    parts.append(
        f"- Load average at the start (other jobs share the 2 cores): {meta.get('load', '-')}\n\n"
        "Setup per history size n: n uniformly random recipes run on `VirtualLab(seed=n)` (noise, failed runs "
        "included; all six outcomes recorded) and recorded into a fresh `Campaign.from_config('hfo2-ncm85', "
        "storage=':memory:')` with default `EngineSettings`; the 9-parameter mixed space (6 continuous, one "
        "log-scale; 1 discrete with 5 values; 2 categoricals with 3 labels), objectives CE and retention with "
        "thresholds, constraint thickness <= 15 nm. Only `suggest(3)` is timed (median of the repeats; every "
        "repeat a new Campaign, so no fitted model is reused). Memory: `tracemalloc` peak of one extra traced "
        "call (Python allocations incl. numpy buffers, not torch tensor storage) and growth of "
        "`getrusage(RUSAGE_SELF).ru_maxrss` across the first call (whole-process peak RSS, includes torch); "
        "each n in its own process.\n\n"
    )
    rows = []
    for key in sorted(results, key=lambda k: (results[k]["device"], results[k]["tool"] != "doe",
                                               results[k]["tool"], results[k]["n"])):
        res = results[key]
        if "error" in res:
            rows.append([res["tool"], res["device"], res["n"], "-", res["error"], "-", "-", "-", "-"])
            continue
        sec, cpu = res["seconds"], res.get("cpu_seconds", [])
        rows.append([res["tool"], res["device"], res["n"], len(sec), f"{median(cpu):.2f}" if cpu else "-",
                     f"{median(sec):.2f}", f"{min(sec):.2f}-{max(sec):.2f}",
                     fmt(res.get("tracemalloc_peak_mb", float("nan")), 0),
                     fmt(res.get("rss_growth_mb", float("nan")), 0)])
    parts.append(markdown_table(["tool", "device", "n measured", "repeats", "median CPU s", "median wall s",
                                 "wall range s", "tracemalloc peak MB", "maxrss growth MB"], rows))
    parts.append(
        "\nCPU s = `time.process_time()` of the call: with one torch thread it is close to the wall time the "
        "call would take on an idle core, while the wall time here is inflated by the other jobs on the shared "
        "cores (see the load average). Targets and ratios use CPU s; wall s are given for completeness.\n"
    )
    if not meta.get("cuda"):
        parts.append("\nCUDA: no GPU available on this machine (the script runs `--devices cuda` when "
                     "`torch.cuda.is_available()`).\n")
    parts.append("\n## Targets\n\n")
    trows = []
    for n, limit in TARGETS.items():
        res = results.get(f"doe/cpu/{n}")
        if res is None or "error" in res:
            trows.append([n, f"{limit:g}", "not measured", "-", "-"])
            continue
        cpu_value = median(res.get("cpu_seconds", res["seconds"]))
        trows.append([n, f"{limit:g}", f"{cpu_value:.2f}", f"{median(res['seconds']):.2f}",
                      "met" if cpu_value <= limit else "not met"])
    parts.append(markdown_table(["n", "target s", "doe median CPU s", "doe median wall s (loaded)", "verdict"],
                                trows))
    if peers_available:
        parts.append("\n## doe / peer time ratio (CPU s, medians; < 1 means doe is faster)\n\n")
        prow = []
        for n in sorted({r["n"] for r in results.values()}):
            d = results.get(f"doe/cpu/{n}")
            row: list[Any] = [n]
            for peer in PEERS:
                p = results.get(f"{peer}/cpu/{n}")
                if d is None or "error" in d or p is None:
                    row.append("not run" if p is None else "-")
                elif "error" in p:
                    row.append(p["error"])
                else:
                    dc = median(d.get("cpu_seconds", d["seconds"]))
                    pc = median(p.get("cpu_seconds", p["seconds"]))
                    row.append(f"{dc / pc:.2f} ({dc:.1f} s / {pc:.1f} s)")
            prow.append(row)
        parts.append(markdown_table(["n", *[f"doe / {p}" for p in PEERS]], prow))
        skipped = meta.get("peer_skipped")
        if skipped:
            parts.append(f"\nPeers not run at n = {', '.join(map(str, skipped))} (minutes per call on 2 shared "
                         "cores).\n")
        if meta.get("peers_reused_from"):
            parts.append(f"\nThe peers' figures come from the run of {meta['peers_reused_from']} (`--reuse-peers`: "
                         "same histories, same space; only doe was rerun).\n")
        notes = {r["tool"]: r.get("notes") for r in results.values() if r["tool"] in PEERS and r.get("notes")}
        parts.append("\nPeer setups: " + "; ".join(f"**{k}**: {v}" for k, v in notes.items()) + ".\n")
    else:
        parts.append(f"\nPeers: not run (no peers' venv at `{BENCH_VENV_PYTHON}`; see benchmarks/README.md).\n")
    total = sum(sum(r.get("seconds", [])) for r in results.values())
    parts.append(f"\nTimed calls in all: {format_duration(total)}. Raw: `benchmarks/results/raw/{meta.get('raw_name', RAW.name)}`."
                 f" Strategy of doe's batches: {sorted({r.get('strategy', '') for r in results.values() if r['tool'] == 'doe'} - {''})}.\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeats-large", type=int, default=1, help="repeats at n >= 1000")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--devices", default="auto", help="'auto' (cpu, plus cuda when available), or a list")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma list, '' for none")
    parser.add_argument("--peer-max-n", type=int, default=300, help="largest n the peers run at")
    parser.add_argument("--peer-repeats", type=int, default=None, help="repeats for the peers (default: as doe)")
    parser.add_argument("--peer-memory", action=argparse.BooleanOptionalAction, default=True,
                        help="the extra tracemalloc run for the peers")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per subprocess")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/doe-bench-speed"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--raw", type=Path, default=RAW)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--reuse-peers", action="store_true",
                        help="keep the peers' results from --raw instead of rerunning them (doe changed, peers not)")
    # worker mode (internal)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--history", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--no-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    single_thread()
    if args.worker:
        print(json.dumps(worker(args.history, args.device, args.repeats, args.batch, not args.no_memory)))
        return 0

    import torch

    log = progress_logger("suggest_speed", args.log)
    start = time.perf_counter()
    cuda = torch.cuda.is_available()
    devices = (["cpu", "cuda"] if cuda else ["cpu"]) if args.devices == "auto" else args.devices.split(",")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    peers = [p for p in args.peers.split(",") if p]
    peers_available = BENCH_VENV_PYTHON.exists() and bool(peers)
    results: dict[str, Any] = json.loads(args.raw.read_text())["results"] if args.report_only else {}
    meta: dict[str, Any] = json.loads(args.raw.read_text())["meta"] if args.report_only else {
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()), "cuda": cuda, "peers_available": peers_available,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "peer_skipped": [n for n in sizes if n > args.peer_max_n] if peers_available else []}
    if args.reuse_peers and args.raw.exists() and not args.report_only:
        previous = json.loads(args.raw.read_text())
        results.update({k: v for k, v in previous["results"].items() if v["tool"] in PEERS})
        meta["peer_versions"] = previous["meta"].get("peer_versions", {})
        meta["peer_skipped"] = previous["meta"].get("peer_skipped", [])
        meta["peers_reused_from"] = previous["meta"].get("date", "an earlier run")
        peers = []
    if not args.report_only:
        from doe.simulate import VirtualLab

        args.work_dir.mkdir(parents=True, exist_ok=True)
        space_path = args.work_dir / "space.json"
        space_path.write_text(json.dumps(space_json(VirtualLab(0).config), indent=1))
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        for n in sizes:
            path = args.work_dir / f"history_{n}.csv"
            history_table(n, seed=n).to_csv(path, index=False)
            repeats = args.repeats if n < 1000 else args.repeats_large
            for device in devices:
                t0 = time.perf_counter()
                cmd = [sys.executable, "-m", "benchmarks.bench_suggest_speed", "--worker", "--history", str(path),
                       "--device", device, "--repeats", str(repeats), "--batch", str(args.batch)]
                res = run_json(cmd, args.timeout, env)
                results[f"doe/{device}/{n}"] = {"tool": "doe", "device": device, "n": n, **res}
                log.info("doe %s n=%d: %s (%.0f s)", device, n, res.get("seconds", res.get("error")),
                         time.perf_counter() - t0)
            if peers_available and n <= args.peer_max_n:
                for peer in peers:
                    t0 = time.perf_counter()
                    cmd = [str(BENCH_VENV_PYTHON), "-m", PEERS[peer], "--space", str(space_path),
                           "--history", str(path), "--batch", str(args.batch),
                           "--repeats", str(args.peer_repeats or repeats)]
                    if not args.peer_memory:
                        cmd.append("--no-memory")
                    res = run_json(cmd, args.timeout, env)
                    results[f"{peer}/cpu/{n}"] = {"tool": peer, "device": "cpu", "n": n, **res}
                    if "versions" in res:
                        meta.setdefault("peer_versions", {}).update(res["versions"])
                    log.info("%s n=%d: %s (%.0f s)", peer, n, res.get("seconds", res.get("error")),
                             time.perf_counter() - t0)
            write_json(args.raw, {"meta": meta, "results": results})
        meta["runtime_s"] = time.perf_counter() - start
        meta["command"] = command_line()
        write_json(args.raw, {"meta": meta, "results": results})
    meta["raw_name"] = args.raw.name
    text = report(results, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
