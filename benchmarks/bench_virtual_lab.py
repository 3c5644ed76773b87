"""Benchmark of the virtual coating lab: speed, landscape statistics, estimated optimum.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_virtual_lab

It writes ``benchmarks/results/virtual_lab.md``: evaluations per second of ``VirtualLab.run``
and ``VirtualLab.truth`` (validation included), the fraction of uniformly random recipes whose
true CE beats the published recipe, the failure rate of random recipes, and the estimated
optimum of the first-cycle CE.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from doe.simulate import OUTCOMES, VirtualLab, expected_outcomes

RESULTS = Path(__file__).resolve().parent / "results" / "virtual_lab.md"
CE = "first_cycle_ce_pct"


def _rate(func, recipes: pd.DataFrame, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` evaluations per second and the seconds of that call."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func(recipes)
        best = min(best, time.perf_counter() - start)
    return len(recipes) / best, best


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
            f"load average at the start {load} (other jobs slow the figures down)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="recipes per timed call")
    parser.add_argument("--random", type=int, default=1_000_000, help="random recipes for the landscape")
    parser.add_argument("--optimum-samples", type=int, default=200_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    lab = VirtualLab(seed=0)
    recipes = VirtualLab.random_recipes(args.rows, seed=1)
    lab.run(recipes.head(100))  # warm up imports and caches
    run_rate, run_s = _rate(lab.run, recipes, repeats=5)
    truth_rate, truth_s = _rate(lab.truth, recipes, repeats=5)
    arrays = {c: recipes[c].to_numpy() for c in recipes.columns}
    core_rate, core_s = _rate(lambda _: expected_outcomes(arrays), recipes, repeats=5)

    study = lab.truth(VirtualLab.study_recipe()).iloc[0]
    bare = lab.truth(VirtualLab.bare_recipe()).iloc[0]
    fractions, fail_rates = [], []
    chunk = 200_000
    for seed, start in enumerate(range(0, args.random, chunk)):
        sample = VirtualLab.random_recipes(min(chunk, args.random - start), seed=100 + seed)
        values = expected_outcomes({c: sample[c].to_numpy() for c in sample.columns})
        fractions.append((values[CE] > study[CE]).astype(float))
        fail_rates.append(values["failure_probability"])
    beats = np.concatenate(fractions)
    fraction = float(beats.mean())
    stderr = float(np.sqrt(fraction * (1 - fraction) / len(beats)))
    p30 = 1.0 - (1.0 - fraction) ** 30
    fail_rate = float(np.concatenate(fail_rates).mean())

    t0 = time.perf_counter()
    best_recipe, best_truth = lab.optimum(n_samples=args.optimum_samples, seed=0)
    optimum_s = time.perf_counter() - t0
    best = best_truth.iloc[0]

    lines = [
        "# Virtual coating lab benchmark",
        "",
        f"- Command: `.venv/bin/python -m benchmarks.bench_virtual_lab` (rows={args.rows}, random={args.random}, "
        f"optimum samples={args.optimum_samples})",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {_machine()}",
        "",
        "## Speed (best of 5, one call on random recipes)",
        "",
        "| call | rows | seconds | evaluations per second |",
        "| --- | ---: | ---: | ---: |",
        f"| `VirtualLab.run` (validation, noise, failures) | {args.rows} | {run_s:.4f} | {run_rate:,.0f} |",
        f"| `VirtualLab.truth` (validation, expected values) | {args.rows} | {truth_s:.4f} | {truth_rate:,.0f} |",
        f"| `expected_outcomes` (numpy core, no validation) | {args.rows} | {core_s:.4f} | {core_rate:,.0f} |",
        "",
        f"Target: at least 10,000 evaluations per second for `run`: **{'met' if run_rate >= 10_000 else 'NOT met'}**.",
        "",
        "## Landscape (noise-free truth)",
        "",
        "| quantity | value |",
        "| --- | ---: |",
        f"| CE of the bare material (loading 0) | {bare[CE]:.2f} % |",
        f"| CE of the published recipe | {study[CE]:.2f} % |",
        f"| random recipes whose true CE beats the published recipe | {100 * fraction:.3f} % "
        f"(+- {100 * stderr:.3f} %, n = {len(beats):,}) |",
        f"| chance that 30 random recipes include one that beats it | {100 * p30:.1f} % |",
        f"| mean failure probability of random recipes (gelled dispersion) | {100 * fail_rate:.2f} % |",
        f"| failure probability of the published recipe | {100 * study['failure_probability']:.2f} % |",
        "",
        "Random recipes: continuous parameters uniform between their bounds in engineer units (also the",
        "log-scale anneal time), categorical and discrete parameters uniform over their values.",
        "",
        "## Estimated optimum of the first-cycle CE",
        "",
        f"Dense random search ({args.optimum_samples:,} recipes) plus L-BFGS-B polish of the continuous "
        f"parameters from the 10 best; {optimum_s:.1f} s. An estimate: the true maximum may be slightly higher.",
        "",
        "| parameter | optimum | published recipe |",
        "| --- | ---: | ---: |",
    ]
    published = VirtualLab.study_recipe().iloc[0]
    for name in best_recipe.columns:
        value, ref = best_recipe[name].iloc[0], published[name]
        fmt = (lambda v: f"{v:.3g}") if isinstance(value, float) else str
        lines.append(f"| {name} | {fmt(value)} | {fmt(ref)} |")
    lines += ["", "| outcome | optimum | published recipe | bare |", "| --- | ---: | ---: | ---: |"]
    for name in (*OUTCOMES, "failure_probability"):
        lines.append(f"| {name} | {best[name]:.3g} | {study[name]:.3g} | {bare[name]:.3g} |")
    lines += ["", f"CE gain of the optimum over the published recipe: {best[CE] - study[CE]:.2f} points.", ""]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
