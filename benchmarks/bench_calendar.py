"""Weeks, not experiments: a campaign in calendar time on the virtual lab (issue 16, item 4).

The calendar lab (:mod:`doe.simulate.calendar`, default settings unless given: 16 channels,
3-day furnace runs of up to 4 recipes, first-cycle results a week after a batch starts, one
cycle every 7.5 h so cycle 200 arrives ~9.9 weeks after the start) runs a campaign that
maximises the 200-cycle capacity retention subject to ``first_cycle_ce_pct >= 80`` (the
template's CE threshold) and ``coating_thickness_nm <= 15`` (the template's constraint)
(:func:`doe.simulate.calendar.calendar_config`). Arms, on the same lab seeds:

* ``a``: doe waiting for cycle 200: first-cycle results at a week, the retention only when
  cycle 200 arrives; no early stop.
* ``b``: doe with early prediction: curve points uploaded as they arrive (``--upload-days``),
  the fade-law prediction in the model, and early stopping
  (:class:`doe.domain.early_stop.EarlyStop` defaults).
* ``c``: random recipes on the same calendar; recommendation by measured value.

Each simulated day with new results, the recommended recipe
(:func:`doe.domain.early_stop.recommended`: the best feasible tested recipe, by measured
value, or in arm b by predicted mean for cycling cells with >= 20 cycles) is scored by its
TRUE (noise-free) 200-cycle retention. Reported: weeks until it beats the study recipe's true
value (70 %) and until it is within 1 point of the attainable maximum (dense random search
plus L-BFGS-B polish of the noise-free retention under both constraints, see
:func:`attainable_max`). Censored seeds count as "> horizon" (and as horizon + 1 in the
paired test). Engine: ``EngineSettings.fast()``; storage: an SQLite file per run.

Run: ``python -m benchmarks.bench_calendar --seeds 20 --weeks 52`` (or split the seeds over
processes: ``--seeds 10`` and ``--seeds 10 --first-seed 10``; each keeps its runs in
``results/raw/calendar_<first seed>.csv``; ``--report-only`` writes the report from all of them).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import (
    command_line,
    header,
    markdown_table,
    paired_text,
    progress_logger,
    single_thread,
)
from doe.simulate import VirtualLab
from doe.simulate.calendar import (
    CE_THRESHOLD_PCT,
    CURVE_OUTCOME,
    HOURS_PER_DAY,
    HOURS_PER_WEEK,
    CalendarLab,
    CalendarSettings,
    arrivals_table,
    calendar_config,
)

RESULT = Path(__file__).parent / "results" / "calendar.md"
THICKNESS_LIMIT_NM = 15.0


def attainable_max(lab: VirtualLab, n_samples: int = 200_000, seed: int = 0) -> tuple[float, pd.DataFrame]:
    """The best noise-free 200-cycle retention under the CE and thickness constraints:
    ``n_samples`` uniform random recipes, then L-BFGS-B on the continuous parameters
    (categories and bath fixed) from the 10 best feasible starts with a quadratic penalty
    on constraint violations; the best feasible polished point."""
    from scipy.optimize import minimize

    from doe.domain.parameters import ContinuousParameter

    config = lab.config
    recipes = VirtualLab.random_recipes(n_samples, seed=seed)
    truth = pd.DataFrame(lab.expected({k: recipes[k].to_numpy() for k in config.parameter_names}))
    feasible = (truth["first_cycle_ce_pct"] >= CE_THRESHOLD_PCT) & (truth["coating_thickness_nm"] <= THICKNESS_LIMIT_NM)
    starts = truth[feasible].sort_values(CURVE_OUTCOME, ascending=False).index[:10]
    continuous = [p for p in config.parameters if isinstance(p, ContinuousParameter)]
    lower = np.array([p.lower for p in continuous])
    span = np.array([p.upper - p.lower for p in continuous])
    best_value, best = float(truth.loc[starts[0], CURVE_OUTCOME]), recipes.loc[[starts[0]]]

    for i in starts:
        base = recipes.loc[[i]].reset_index(drop=True)

        def evaluate(u: np.ndarray, base: pd.DataFrame = base) -> tuple[float, pd.DataFrame, bool]:
            recipe = base.copy()
            for j, p in enumerate(continuous):
                recipe[p.name] = float(np.clip(lower[j] + u[j] * span[j], p.lower, p.upper))
            t = lab.expected({k: recipe[k].to_numpy() for k in config.parameter_names})
            ce, thick, ret = (float(t[k][0]) for k in ("first_cycle_ce_pct", "coating_thickness_nm", CURVE_OUTCOME))
            ok = ce >= CE_THRESHOLD_PCT and thick <= THICKNESS_LIMIT_NM
            penalty = max(0.0, CE_THRESHOLD_PCT - ce) ** 2 + max(0.0, thick - THICKNESS_LIMIT_NM) ** 2
            return -ret + 100.0 * penalty, recipe, ok

        u0 = (base[[p.name for p in continuous]].to_numpy(dtype=float)[0] - lower) / span
        result = minimize(lambda u: evaluate(u)[0], u0, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(continuous))
        _, recipe, ok = evaluate(result.x)
        ret = float(lab.truth(recipe)[CURVE_OUTCOME].iloc[0])
        if ok and ret > best_value:
            best_value, best = ret, recipe
    return best_value, best


def weeks_to(marks: pd.DataFrame, threshold: float) -> float:
    """First week at which the recommendation's true value is at least ``threshold`` (inf: never)."""
    hit = marks.loc[marks["true"] >= threshold, "week"]
    return float(hit.iloc[0]) if len(hit) else math.inf


def run_doe(seed: int, arm: str, weeks: float, settings: CalendarSettings, workdir: Path) -> pd.DataFrame:
    from doe import Campaign
    from doe.calendar_run import run_calendar
    from doe.domain.early_stop import EarlyStop
    from doe.engine import EngineSettings

    lab = VirtualLab(seed=seed)
    config = calendar_config(lab.config, at=settings.at, name=f"cal-{arm}-{seed}").replace(seed=seed)
    campaign = Campaign.from_config(config, storage=str(workdir / f"{arm}-{seed}.sqlite3"),
                                    settings=EngineSettings.fast())
    calendar = CalendarLab(lab, settings, curve_points=arm == "b", seed=seed)
    result = run_calendar(campaign, calendar, budget=10_000, weeks=weeks,
                          early_stop=EarlyStop() if arm == "b" else None)
    history = campaign.history().set_index("experiment_id")
    marks = result.best_over_time[["week", "experiment_id"]].copy()
    recipes = history.loc[marks["experiment_id"], lab.config.parameter_names].reset_index(drop=True)
    marks["true"] = lab.truth(recipes)[CURVE_OUTCOME].to_numpy() if len(marks) else []
    marks.attrs.update(started=result.started, finished=result.finished, stopped=result.stopped)
    return marks


def run_random(seed: int, weeks: float, settings: CalendarSettings) -> pd.DataFrame:
    lab = VirtualLab(seed=seed)
    calendar = CalendarLab(lab, settings, curve_points=False, seed=seed)
    rng_seed = seed * 7919
    horizon_h = weeks * HOURS_PER_WEEK
    measured: list[pd.DataFrame] = []
    recipes: list[pd.DataFrame] = []
    rows, last = [], None
    count = 0
    while True:
        n = calendar.free_slots()
        if n and calendar.now_h < horizon_h:
            batch = VirtualLab.random_recipes(n, seed=rng_seed + count)
            batch.insert(0, "experiment_id", [f"R{count + i:04d}" for i in range(n)])
            count += n
            recipes.append(batch)
            calendar.start_batch(batch)
        wake = calendar.next_time()
        if calendar.furnace_free_h > calendar.now_h:
            wake = calendar.furnace_free_h if wake is None else min(wake, calendar.furnace_free_h)
        if wake is None:
            break
        day_end = max(math.ceil(wake / HOURS_PER_DAY), math.floor(calendar.now_h / HOURS_PER_DAY) + 1) * HOURS_PER_DAY
        if day_end > horizon_h:
            break
        arrivals = calendar.advance(day_end)
        if not arrivals:
            continue
        measured.append(arrivals_table(arrivals))
        table = pd.concat(measured, ignore_index=True)
        if "cycle" not in table or "first_cycle_ce_pct" not in table:  # only failures so far
            continue
        per = table.groupby("experiment_id").agg({c: "max" for c in table.columns if c not in ("experiment_id",
                                                  "failure_reason", "cycle", "failed")})
        at = table[table["cycle"] == settings.at].set_index("experiment_id")[CURVE_OUTCOME]
        per[CURVE_OUTCOME] = at.reindex(per.index)
        ok = per[(per["first_cycle_ce_pct"] >= CE_THRESHOLD_PCT) & (per["coating_thickness_nm"] <= THICKNESS_LIMIT_NM)
                 & per[CURVE_OUTCOME].notna()]
        if ok.empty:
            continue
        best = str(ok[CURVE_OUTCOME].idxmax())
        if best != last:
            last = best
            all_recipes = pd.concat(recipes, ignore_index=True).set_index("experiment_id")
            true = float(lab.truth(all_recipes.loc[[best]].reset_index())[CURVE_OUTCOME].iloc[0])
            rows.append({"week": day_end / HOURS_PER_WEEK, "experiment_id": best, "true": true})
    marks = pd.DataFrame(rows, columns=["week", "experiment_id", "true"])
    marks.attrs.update(started=len(calendar.started), finished=len(calendar.finished), stopped=0)
    return marks


def cell(values: list[float], horizon: float) -> str:
    arr = np.asarray(values, dtype=float)
    med = float(np.median(arr))
    censored = int(np.sum(~np.isfinite(arr)))
    text = f">{horizon:g}" if not math.isfinite(med) else f"{med:.1f}"
    return text + (f" ({censored} censored)" if censored else "")


RAW_DIR = RESULT.parent / "raw"
"""Per-run rows: ``calendar_<first seed>.csv`` per process, so processes can split the seeds."""
NAMES = {"a": "a: doe, waits for cycle 200", "b": "b: doe, early prediction + early stop", "c": "c: random"}


def report(raw: pd.DataFrame, weeks: float, upload_days: float, settings: CalendarSettings, study: float,
           best_value: float, best_recipe: pd.DataFrame, command: str, runtime_s: float | None) -> str:
    """The markdown report of the per-run rows ``raw`` (seed, arm, beat, near, final, counts)."""
    arms = [a for a in "abc" if a in set(raw["arm"])]
    wide = {k: raw.pivot(index="seed", columns="arm", values=k) for k in ("beat", "near")}
    seeds = sorted(wide["beat"].dropna().index)  # seeds with every arm run
    capped = {k: v.loc[seeds].clip(upper=weeks + 1) for k, v in wide.items()}
    rows = []
    for a in arms:
        runs = raw[(raw["arm"] == a) & raw["seed"].isin(seeds)]
        rows.append([NAMES[a], cell(list(wide["beat"].loc[seeds, a]), weeks),
                     cell(list(wide["near"].loc[seeds, a]), weeks), f"{runs['final'].median():.2f}",
                     f"{runs['started'].mean():.0f} / {runs['finished'].mean():.0f} / {runs['stopped'].mean():.0f}",
                     paired_text(capped["beat"], a, "a") if "a" in arms else "-",
                     paired_text(capped["near"], a, "a") if "a" in arms else "-"])
    load = os.getloadavg()
    text = header("Weeks, not experiments: calendar-time campaigns on the virtual lab", command=command,
                  runtime_s=runtime_s)
    text += (
        f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 shared cores). "
        f"{len(seeds)} seeds with every arm run ({', '.join(map(str, seeds))}), horizon "
        f"{weeks:g} weeks, curve points uploaded every {upload_days:g} days in arm b.\n\n"
        f"Calendar: {settings.channels} channels, furnace runs of {settings.synthesis_days:g} days with up to "
        f"{settings.batch_size} recipes, first-cycle results {settings.first_results_days:g} days after a batch "
        f"starts, a cycle every {settings.cycle_hours:g} h (cycle {settings.at} at "
        f"{settings.days_to_at() / 7:.1f} weeks). Objective: 200-cycle retention, constraints CE >= "
        f"{CE_THRESHOLD_PCT:g} % and thickness <= {THICKNESS_LIMIT_NM:g} nm. Study recipe true retention "
        f"{study:.2f} %; attainable maximum under the constraints {best_value:.2f} % (200,000 random recipes + "
        f"L-BFGS-B polish from the 10 best feasible), so the second mark is {best_value - 1:.2f} %.\n\n"
        "Weeks until the recommended recipe's true 200-cycle retention beats the study / is within 1 point of "
        "the maximum (median over seeds; censored seeds did not get there within the horizon). Paired columns: "
        "arm minus arm a in weeks (censored = horizon + 1), seeds where the arm took longer / shorter, two-sided "
        "Wilcoxon p (negative = faster than a).\n\n")
    text += markdown_table(["arm", "weeks to beat study", "weeks to within 1 point", "final true retention (median)",
                            "started / finished / stopped (mean)", "beat: vs a", "within 1: vs a"], rows)
    text += "\nPer seed (weeks to beat study, weeks to within 1 point; inf = not within the horizon):\n\n"
    text += markdown_table(["seed", *[f"{a} beat" for a in arms], *[f"{a} near" for a in arms]],
                           [[s, *[f"{wide['beat'].loc[s, a]:.1f}" for a in arms],
                             *[f"{wide['near'].loc[s, a]:.1f}" for a in arms]] for s in seeds])
    text += "\nBest attainable recipe (noise-free):\n\n" + markdown_table(
        list(best_recipe.columns), best_recipe.round(3).to_numpy().tolist())
    text += "\nPer-run rows: `benchmarks/results/raw/calendar_*.csv`.\n"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--weeks", type=float, default=52.0)
    parser.add_argument("--upload-days", type=float, default=7.0)
    parser.add_argument("--arms", default="a,b,c")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the per-run rows")
    args = parser.parse_args()
    single_thread()
    log = progress_logger("calendar", None)
    start = time.perf_counter()
    settings = CalendarSettings(upload_days=args.upload_days)
    lab = VirtualLab()
    study = float(lab.truth(VirtualLab.study_recipe())[CURVE_OUTCOME].iloc[0])
    best_value, best_recipe = attainable_max(lab)
    log.info("study %.2f, attainable max %.2f", study, best_value)
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    raw_path = RAW_DIR / f"calendar_{args.first_seed}.csv"

    def all_rows() -> pd.DataFrame:
        files = sorted(RAW_DIR.glob("calendar_*.csv"))
        return pd.concat([pd.read_csv(f) for f in files], ignore_index=True) if files else pd.DataFrame()

    def write() -> str:
        text = report(all_rows(), args.weeks, args.upload_days, settings, study, best_value, best_recipe,
                      command_line(), None if args.report_only else time.perf_counter() - start)
        RESULT.write_text(text, encoding="utf-8")
        return text

    if not args.report_only:
        mine = pd.read_csv(raw_path).to_dict("records") if raw_path.exists() else []
        done = {(r["seed"], r["arm"]) for r in mine}
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for arm in args.arms.split(","):
                    if (seed, arm) in done:
                        continue
                    t0 = time.perf_counter()
                    marks = run_random(seed, args.weeks, settings) if arm == "c" else run_doe(
                        seed, arm, args.weeks, settings, Path(tmp))
                    mine.append({"seed": seed, "arm": arm, "beat": weeks_to(marks, study + 1e-9),
                                 "near": weeks_to(marks, best_value - 1.0),
                                 "final": float(marks["true"].iloc[-1]) if len(marks) else math.nan,
                                 "started": marks.attrs["started"], "finished": marks.attrs["finished"],
                                 "stopped": marks.attrs["stopped"], "seconds": time.perf_counter() - t0})
                    pd.DataFrame(mine).to_csv(raw_path, index=False)  # after every run: a cut-off run keeps it
                    log.info("seed %d arm %s: beat %.1f, near %.1f weeks, final true %.2f (%.0f s)", seed, arm,
                             mine[-1]["beat"], mine[-1]["near"], mine[-1]["final"], mine[-1]["seconds"])
                write()
    print(write())


if __name__ == "__main__":
    main()
