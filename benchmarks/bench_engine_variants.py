"""Which engine settings find better coatings? Variants of ``EngineSettings`` on the virtual lab.

The closed loop of ``bench_sample_efficiency.py`` part a (maximise first-cycle CE only,
30 experiments in rounds of 3, ``Campaign.suggest`` then ``VirtualLab(seed).run`` then
``record``), repeated for each variant over the same seeds. Metric: the TRUE CE of the
best-MEASURED recipe after 30 experiments, and how many seeds beat the study recipe.
Variants run in parallel processes (``--jobs``), one torch thread each.

    .venv/bin/python -m benchmarks.bench_engine_variants --seeds 40 --jobs 2

writes ``benchmarks/results/engine_variants.md`` and ``benchmarks/results/raw/engine_variants.csv``.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_sample_efficiency import best_measured_truth, run_one, study_truth
from benchmarks.common import (
    RESULTS,
    command_line,
    header,
    markdown_table,
    paired_text,
    single_thread,
)

CE = "first_cycle_ce_pct"

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "whole_space": {"trust_region_width": None, "best_guess": False},
    "whole_space_more_effort": {"trust_region_width": None, "best_guess": False, "num_restarts": 8,
                                "raw_samples": 512, "maxiter_alternating": 2, "lbfgs_maxiter": 30},
    "wide_trust_region": {"trust_region_width": 0.8},
    "matern52": {"kernel": "matern52"},
    "botorch_lengthscale_prior": {"lengthscale_prior": (math.sqrt(2.0), math.sqrt(3.0))},
    "medium_lengthscales": {"lengthscale_prior": (-1.0, 1.0)},
}
"""Settings that differ from ``EngineSettings()`` (the defaults are ``default``)."""


def run_seed(variant: str, seed: int) -> dict[str, Any]:
    single_thread()
    from doe.engine import EngineSettings

    start = time.process_time()
    run = run_one("doe", "a", seed, 10, 3, EngineSettings(**VARIANTS[variant]), logging.getLogger("variants"))
    return {"variant": variant, "seed": seed, "best_true_ce": float(best_measured_truth(run)[-1]),
            "cpu_s_per_suggest": (time.process_time() - start) / 10}


def report(raw: pd.DataFrame, command: str, runtime_s: float | None) -> str:
    study = study_truth()[CE]
    from doe.engine import EngineSettings

    by_seed = raw.pivot(index="seed", columns="variant", values="best_true_ce")
    rows = []
    for variant, group in raw.groupby("variant", sort=False):
        best = group.sort_values("seed")["best_true_ce"].to_numpy()
        lo, mid, hi = np.percentile(best, [25, 50, 75])
        paired = paired_text(by_seed, str(variant))
        rows.append([f"{variant}: {VARIANTS[variant] or 'EngineSettings()'}", len(best), f"{mid:.2f} [{lo:.2f}-{hi:.2f}]",
                     f"{best.mean():.2f}", f"{best.min():.2f}", f"{int((best > study).sum())} of {len(best)}",
                     paired, f"{group['cpu_s_per_suggest'].median():.2f}"])
    seeds = sorted(raw["seed"].unique())
    return "\n".join([
        header("Engine variants on the virtual lab (maximise CE, 30 experiments)", command=command, runtime_s=runtime_s),
        f"Seeds {seeds[0]}-{seeds[-1]}; study recipe's true CE {study:.2f} %. Defaults: `{EngineSettings().to_dict()}`.",
        "Loop and metric as in `bench_sample_efficiency.py` part a (true CE of the best-measured recipe after 30 "
        "experiments). CPU s = process time per `suggest(3)` round, including the lab and `record`. Against "
        "default, seed by seed: mean difference in true CE (points); seeds better / worse; Wilcoxon signed-rank p.",
        "",
        markdown_table(["variant", "seeds", "median [25-75 %]", "mean", "worst", "seeds beating the study",
                        "against default", "CPU s per round"], rows),
        "",
        "Per-seed values: `benchmarks/results/raw/engine_variants.csv`.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds 0..N-1")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma list of " + ", ".join(VARIANTS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "engine_variants.md")
    parser.add_argument("--raw", type=Path, default=RESULTS / "raw" / "engine_variants.csv")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from --raw")
    parser.add_argument("--command", help="command line to print in the report (default: this one)")
    args = parser.parse_args(argv)
    if args.report_only:
        args.out.write_text(report(pd.read_csv(args.raw), args.command or command_line(), None))
        print(args.out.read_text())
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"--variants: unknown {unknown}; choose from {list(VARIANTS)}")
    start = time.time()
    tasks = [(v, s) for v in variants for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_seed, *zip(*tasks, strict=True)))
    raw = pd.DataFrame(results)
    text = report(raw, args.command or command_line(), time.time() - start)  # stamps the tree before writing
    args.raw.parent.mkdir(parents=True, exist_ok=True)
    raw.to_csv(args.raw, index=False)
    args.out.write_text(text)
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
