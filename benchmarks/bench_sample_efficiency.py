"""Sample efficiency of doe on the virtual coating lab, against random and Sobol sampling.

Through the real product path: ``doe.Campaign`` on ``":memory:"`` storage with the default
``EngineSettings``, ``suggest(3)`` then ``VirtualLab.run`` then ``record``, 10 rounds.

Part a: maximise first_cycle_ce_pct alone (the template with only that objective, no
threshold, no other outcome, no outcome constraint). Per round: the TRUE CE
(``VirtualLab.truth``) of the best-MEASURED recipe so far, median and 25-75 % band over
seeds; experiments needed until that true CE beats the study recipe's true CE.

Part b: the template unchanged (CE and capacity retention with their thresholds, the
coating-thickness constraint, every outcome recorded). True hypervolume after 30
experiments of the true (CE, retention) of the measured recipes that truly meet the
thickness constraint, reference point = the thresholds (80 %, 55 %).

Random: ``VirtualLab.random_recipes`` (uniform in engineer units). Sobol: scrambled Sobol
points (first 30 of 32) mapped to the space (log scale for anneal time, equal-width cells
for the discrete and categorical parameters). Every method sees ``VirtualLab(seed)`` with the
same seed and runs its recipes in rounds of 3, so noise and failures come from the same
stream.

Usage::

    .venv/bin/python -m benchmarks.bench_sample_efficiency --part a --seeds 10
    .venv/bin/python -m benchmarks.bench_sample_efficiency --part b --seeds 10
    .venv/bin/python -m benchmarks.bench_sample_efficiency --report-only
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    RESULTS,
    fmt,
    format_duration,
    header,
    hypervolume_2d,
    markdown_table,
    median_with_misses,
    progress_logger,
    quartiles,
    single_thread,
)

CE = "first_cycle_ce_pct"
RETENTION = "capacity_retention_pct"
THICKNESS = "coating_thickness_nm"
METHODS = ("doe", "random", "sobol")
RAW = RESULTS / "raw"
OUT = RESULTS / "sample_efficiency.md"


# --------------------------------------------------------------------- configurations
def config_part_a() -> Any:
    """The template with CE as its only objective: no threshold, outcome or constraint."""
    from doe.simulate import VirtualLab

    template = VirtualLab(0).config
    data = template.to_dict()
    ce = next(o for o in data["objectives"] if o["name"] == CE)
    ce.pop("threshold", None)
    data["objectives"] = [ce]
    data.pop("outcomes", None)
    # keep linear (recipe) constraints, drop outcome constraints; the template has none of the former
    linear = {c.text() for c in template.linear_constraints}
    data["constraints"] = [c for c in data.get("constraints", []) if isinstance(c, str) and c in linear]
    if not data["constraints"]:
        data.pop("constraints")
    data["name"] = "bench-ce-only"
    from doe import load_config

    return load_config(data)


def config_part_b() -> Any:
    from doe.simulate import VirtualLab

    return VirtualLab(0).config.replace(name="bench-two-objectives")


# --------------------------------------------------------------------- designs
def sobol_recipes(config: Any, n: int, seed: int) -> pd.DataFrame:
    """``n`` scrambled-Sobol recipes (first ``n`` of the next power of two)."""
    from scipy.stats import qmc

    from doe.domain.parameters import CategoricalParameter, ContinuousParameter

    m = max(1, math.ceil(math.log2(n)))
    u = qmc.Sobol(d=len(config.parameters), scramble=True, seed=seed).random_base2(m)[:n]
    columns: dict[str, Any] = {}
    for j, p in enumerate(config.parameters):
        if isinstance(p, ContinuousParameter):
            if p.log_scale:
                lo, hi = math.log(p.lower), math.log(p.upper)
                columns[p.name] = np.exp(lo + u[:, j] * (hi - lo))
            else:
                columns[p.name] = p.lower + u[:, j] * (p.upper - p.lower)
        else:
            values = list(p.values)
            idx = np.minimum((u[:, j] * len(values)).astype(int), len(values) - 1)
            arr = np.asarray(values, dtype=object if isinstance(p, CategoricalParameter) else float)
            columns[p.name] = arr[idx]
    return pd.DataFrame(columns, columns=config.parameter_names)


# --------------------------------------------------------------------- one run
def run_one(method: str, part: str, seed: int, rounds: int, batch: int, settings: Any,
            log: Any) -> pd.DataFrame:
    """One closed loop; one row per experiment in run order."""
    from doe import Campaign
    from doe.simulate import VirtualLab

    config = config_part_a() if part == "a" else config_part_b()
    params = config.parameter_names
    record_outcomes = [CE] if part == "a" else list(config.outcome_names)
    lab = VirtualLab(seed)
    total = rounds * batch
    if method == "random":
        design = VirtualLab.random_recipes(total, seed=seed)
    elif method == "sobol":
        design = sobol_recipes(config, total, seed)
    else:
        design = None
        campaign = Campaign.from_config(config.replace(seed=seed), storage=":memory:", settings=settings,
                                        actor="benchmark")
    rows: list[pd.DataFrame] = []
    for r in range(rounds):
        t0 = time.perf_counter()
        if design is None:
            recipes = campaign.suggest(batch)
            strategy = str(recipes["strategy"].iloc[0]) if "strategy" in recipes.columns else ""
        else:
            recipes = design.iloc[r * batch:(r + 1) * batch].reset_index(drop=True)
            strategy = method
        seconds = time.perf_counter() - t0
        measured = lab.run(recipes[params])
        truth = lab.truth(recipes[params])
        if design is None:
            table = measured[[*record_outcomes, "failed", "failure_reason"]].copy()
            table.insert(0, "experiment_id", recipes["experiment_id"].to_numpy())
            campaign.record(table)
        frame = pd.DataFrame({
            "part": part, "method": method, "seed": seed, "round": r + 1,
            "experiment": np.arange(r * batch + 1, (r + 1) * batch + 1),
            "strategy": strategy, "suggest_s": seconds / batch,
            "failed": measured["failed"].to_numpy(),
            "measured_ce": measured[CE].to_numpy(),
            "true_ce": truth[CE].to_numpy(),
            "true_retention": truth[RETENTION].to_numpy(),
            "true_thickness": truth[THICKNESS].to_numpy(),
        })
        for p in params:
            frame[p] = recipes[p].to_numpy()
        rows.append(frame)
        if design is None:
            log.info("part %s %s seed %d round %d: %.1f s (%s), best measured CE %.2f", part, method, seed,
                     r + 1, seconds, strategy, np.nanmax(pd.concat(rows)["measured_ce"].to_numpy()))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------- metrics
def best_measured_truth(run: pd.DataFrame) -> np.ndarray:
    """After each experiment k: the true CE of the best-measured (non-failed) recipe so far."""
    out = np.full(len(run), np.nan)
    best_measured = -np.inf
    best_truth = np.nan
    for k, (m, t) in enumerate(zip(run["measured_ce"].to_numpy(), run["true_ce"].to_numpy(), strict=True)):
        if np.isfinite(m) and m > best_measured:
            best_measured, best_truth = m, t
        out[k] = best_truth
    return out


def study_truth() -> dict[str, float]:
    from doe.simulate import VirtualLab

    truth = VirtualLab(0).truth(VirtualLab.study_recipe()).iloc[0]
    return {CE: float(truth[CE]), RETENTION: float(truth[RETENTION]), THICKNESS: float(truth[THICKNESS])}


def true_hypervolume(run: pd.DataFrame, reference: tuple[float, float], max_thickness: float) -> float:
    ok = (~run["failed"].astype(bool)) & (run["true_thickness"] <= max_thickness)
    pts = run.loc[ok, ["true_ce", "true_retention"]].to_numpy(dtype=float)
    return hypervolume_2d(pts, reference)


def dense_hypervolume(reference: tuple[float, float], max_thickness: float, n: int = 200_000) -> float:
    """Hypervolume of the true Pareto front of ``n`` uniform random recipes (a lower
    estimate of the best achievable)."""
    from doe.simulate import VirtualLab, expected_outcomes

    recipes = VirtualLab.random_recipes(n, seed=12345)
    values = expected_outcomes({c: recipes[c].to_numpy() for c in recipes.columns})
    ok = values[THICKNESS] <= max_thickness
    pts = np.column_stack([values[CE][ok], values[RETENTION][ok]])
    return hypervolume_2d(pts, reference)


# --------------------------------------------------------------------- report
def report(raw_a: pd.DataFrame | None, raw_b: pd.DataFrame | None, meta: dict[str, Any]) -> str:
    study = study_truth()
    parts = [header("Sample efficiency on the virtual coating lab", command=meta.get("command"),
                    runtime_s=meta.get("runtime_s"))]
    parts.append(
        "\nProduct path: `doe.Campaign.from_config(config, storage=':memory:')` with the default "
        "`EngineSettings()`, `suggest(3)` then `VirtualLab(seed).run` then `record`, 10 rounds = 30 "
        "experiments; the first rounds are doe's own initial design. Random = `VirtualLab.random_recipes` "
        "(uniform in engineer units); Sobol = scrambled Sobol, first 30 of 32 points (log scale for anneal "
        "time). Every method runs its recipes on `VirtualLab(seed)` with the same seed, in rounds of 3. "
        "Failed runs (gelled dispersions) give no measurement.\n"
    )
    if raw_a is not None and len(raw_a):
        seeds = sorted(raw_a["seed"].unique())
        parts.append(f"\n## a. Maximise first-cycle CE only ({len(seeds)} seeds: {seeds[0]}-{seeds[-1]})\n")
        parts.append(
            f"\nConfig: the template with `{CE}` as its only objective (no threshold), no other outcome, no "
            f"outcome constraint. Metric: TRUE CE (noise-free, `VirtualLab.truth`) of the best-MEASURED "
            f"recipe so far. The study recipe (0.83 wt% HfO2, 400 C, 2 h, O2) has a true CE of "
            f"{study[CE]:.2f} %.\n\n"
        )
        rounds = sorted(raw_a["round"].unique())
        curves: dict[str, dict[int, np.ndarray]] = {}
        needed: dict[str, list[float]] = {}
        for method in METHODS:
            sub = raw_a[raw_a["method"] == method]
            if sub.empty:
                continue
            per_seed = {}
            needed[method] = []
            for seed, run in sub.groupby("seed"):
                run = run.sort_values("experiment")
                curve = best_measured_truth(run)
                per_seed[int(seed)] = curve
                beat = np.flatnonzero(np.nan_to_num(curve, nan=-np.inf) > study[CE])
                needed[method].append(float(run["experiment"].iloc[beat[0]]) if beat.size else math.inf)
            curves[method] = per_seed
        batch = int(raw_a.groupby(["method", "seed", "round"]).size().max())
        cols = ["round (experiments)"] + [f"{m}: median [25-75 %]" for m in curves]
        rows = []
        for r in rounds:
            k = r * batch - 1
            row = [f"{r} ({r * batch})"]
            for m in curves:
                q25, q50, q75 = quartiles([c[k] for c in curves[m].values() if len(c) > k])
                row.append(f"{fmt(q50, 2)} [{fmt(q25, 2)}-{fmt(q75, 2)}]")
            rows.append(row)
        parts.append("True CE (%) of the best-measured recipe after each round:\n\n")
        parts.append(markdown_table(cols, rows))
        rows = []
        for m, values in needed.items():
            med, misses = median_with_misses(values)
            rows.append([m, fmt(med, 0), f"{misses} of {len(values)}",
                         ", ".join("-" if math.isinf(v) else str(int(v)) for v in values)])
        parts.append(f"\nExperiments needed until the best-measured recipe's true CE beats the study recipe "
                     f"({study[CE]:.2f} %); 'not reached' = not within {rounds[-1] * batch}:\n\n")
        parts.append(markdown_table(["method", "median experiments", "not reached", "per seed"], rows))
        if "doe" in needed and "random" in needed:
            doe_med, _ = median_with_misses(needed["doe"])
            rnd_med, _ = median_with_misses(needed["random"])
            verdict = ("met" if math.isfinite(doe_med) and not math.isfinite(rnd_med) else
                       "partly met (doe beats the study recipe in the median seed, but random does too)"
                       if math.isfinite(doe_med) else "not met")
            parts.append(f"\nTarget (doe beats the study recipe within {rounds[-1] * batch} experiments in the "
                         f"median seed, random does not): **{verdict}**.\n")
        doe_times = raw_a[raw_a["method"] == "doe"].groupby(["seed", "round"])["suggest_s"].first() * batch
        if len(doe_times):
            parts.append(f"\ndoe's `suggest(3)` wall time per round: median {np.median(doe_times):.1f} s, "
                         f"max {np.max(doe_times):.1f} s.\n")
    if raw_b is not None and len(raw_b):
        from doe.simulate import VirtualLab

        config = VirtualLab(0).config
        thresholds = tuple(float(o.threshold) for o in config.objectives)
        max_thickness = next(c.bound for c in config.outcome_constraints if c.outcome == THICKNESS)
        seeds = sorted(raw_b["seed"].unique())
        parts.append(f"\n## b. Two objectives: CE and capacity retention ({len(seeds)} seeds: "
                     f"{seeds[0]}-{seeds[-1]})\n")
        study_hv = hypervolume_2d(np.array([[study[CE], study[RETENTION]]]), thresholds)
        dense_hv = dense_hypervolume(thresholds, max_thickness)
        parts.append(
            f"\nConfig: the template unchanged (objectives {CE} >= {thresholds[0]:g} and {RETENTION} >= "
            f"{thresholds[1]:g}, constraint {THICKNESS} <= {max_thickness:g}; every outcome recorded). "
            f"Metric: hypervolume (%^2) of the TRUE (CE, retention) of the recipes measured without failure "
            f"whose true thickness meets the constraint, reference point = the thresholds "
            f"({thresholds[0]:g}, {thresholds[1]:g}). For scale: the study recipe alone gives "
            f"{study_hv:.1f}; the true front of 200,000 uniform random recipes gives {dense_hv:.1f}.\n\n"
        )
        rows = []
        hv_by_method: dict[str, list[float]] = {}
        for method in METHODS:
            sub = raw_b[raw_b["method"] == method]
            if sub.empty:
                continue
            hv_half, hv_full = [], []
            for _, run in sub.groupby("seed"):
                run = run.sort_values("experiment")
                hv_full.append(true_hypervolume(run, thresholds, max_thickness))
                hv_half.append(true_hypervolume(run.iloc[: len(run) // 2], thresholds, max_thickness))
            hv_by_method[method] = hv_full
            q = quartiles(hv_full)
            h = quartiles(hv_half)
            rows.append([method, f"{fmt(h[1])} [{fmt(h[0])}-{fmt(h[2])}]",
                         f"{fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}]",
                         f"{sum(v > study_hv for v in hv_full)} of {len(hv_full)}"])
        n_exp = int(raw_b.groupby(["method", "seed"]).size().max())
        parts.append(markdown_table(
            ["method", f"HV after {n_exp // 2}: median [25-75 %]", f"HV after {n_exp}: median [25-75 %]",
             "seeds above the study recipe's HV"], rows))
        doe_times = raw_b[raw_b["method"] == "doe"].groupby(["seed", "round"])["suggest_s"].first() * 3
        if len(doe_times):
            parts.append(f"\ndoe's `suggest(3)` wall time per round: median {np.median(doe_times):.1f} s, "
                         f"max {np.max(doe_times):.1f} s.\n")
    for label, raw in (("a", raw_a), ("b", raw_b)):
        if raw is not None and len(raw) and "run_s" in raw.columns:
            per_run = raw.groupby(["method", "seed"])["run_s"].first()
            doe_runs = per_run.loc["doe"] if "doe" in per_run.index.get_level_values(0) else per_run.iloc[:0]
            parts.append(f"\nWall time, part {label}: {format_duration(float(per_run.sum()))} in all runs; a doe run "
                         f"of 30 experiments took {format_duration(float(np.median(doe_runs)))} (median) on the "
                         "shared cores.\n")
    parts.append("\nRaw per-experiment data: `benchmarks/results/raw/sample_efficiency_a.csv` and `..._b.csv`.\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["a", "b", "ab"], default="ab")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--fast", action="store_true", help="EngineSettings.fast() (smoke tests only)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--raw-dir", type=Path, default=RAW)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--command", default=None, help="command line(s) to print in the results")
    args = parser.parse_args(argv)

    single_thread()
    from doe.engine import EngineSettings

    log = progress_logger("sample_efficiency", args.log)
    settings = EngineSettings.fast() if args.fast else EngineSettings()
    start = time.perf_counter()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not args.report_only:
        for part in args.part:
            path = args.raw_dir / f"sample_efficiency_{part}.csv"
            done = pd.read_csv(path) if path.exists() else pd.DataFrame()
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for method in methods:
                    if len(done) and ((done["method"] == method) & (done["seed"] == seed)).any():
                        continue  # resume: this run is already on disk
                    t0 = time.perf_counter()
                    run = run_one(method, part, seed, args.rounds, args.batch, settings, log)
                    run["run_s"] = time.perf_counter() - t0
                    done = pd.concat([done, run], ignore_index=True)
                    args.raw_dir.mkdir(parents=True, exist_ok=True)
                    done.to_csv(path, index=False, float_format="%.6g")
                    log.info("part %s %s seed %d done in %s", part, method, seed,
                             format_duration(time.perf_counter() - t0))
    raw_a = pd.read_csv(args.raw_dir / "sample_efficiency_a.csv") if (args.raw_dir / "sample_efficiency_a.csv").exists() else None
    raw_b = pd.read_csv(args.raw_dir / "sample_efficiency_b.csv") if (args.raw_dir / "sample_efficiency_b.csv").exists() else None
    meta = {"runtime_s": None if args.report_only else time.perf_counter() - start, "command": args.command}
    text = report(raw_a, raw_b, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
