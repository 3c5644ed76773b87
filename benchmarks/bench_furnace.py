"""Furnace-shared batches on the virtual coating lab: shared-aware doe against two baselines.

Four coated powders share one furnace run, so the anneal temperature, time and atmosphere
are one value per batch. 8 furnace runs of 4 recipes (32 experiments) per seed, CE as the
only objective (the sample-efficiency part-a config). Methods:

- ``doe_shared``: the config with ``batch_shared: [anneal_temperature_c, anneal_time_h,
  anneal_atmosphere]``; ``Campaign.suggest(4)`` chooses the shared values jointly with the
  per-powder values (``doe.engine.shared``).
- ``doe_shared_in_region``: as ``doe_shared`` with ``EngineSettings(shared_region="trust_region")``:
  the continuous shared values searched in the trust region around the incumbent, as the
  rows' own values (``doe_shared`` searches them over their whole range).
- ``doe_shared_first_slot``: as ``doe_shared`` with ``EngineSettings(shared_search="first_slot")``:
  the shared values from the best single recipe (the batch's first slot searched alone),
  then every row placed by the sequential greedy batch with those values held.
- ``doe_shared_best_guess`` (round 12): ``EngineSettings(shared_search="best_guess")``, as
  ``doe_shared_first_slot`` but the shared values from the model's best guess.
- ``doe_shared_explore`` (round 13): ``EngineSettings(shared_explore_untried=True)``: a furnace
  run holds a shared label (an atmosphere) that no experiment has used yet.
- ``doe_shared_both`` (round 9): ``EngineSettings(shared_search="both")``, the batches of the
  two above compete on the joint acquisition.
- ``doe_shared_thompson`` (round 14): ``EngineSettings(shared_search="thompson")``, as
  ``doe_shared_first_slot`` but the shared values from the recipe that maximises one posterior
  sample of CE.
- ``force_first_row``: the config without ``batch_shared``; ``suggest(4)`` proposes a free
  batch, then every row gets the first row's anneal (what a lab would do with an engine
  that ignores the furnace). The proposed rows are abandoned and what was really run is
  recorded as new experiments, so the model learns from the real recipes.
- ``random``: uniform random recipes (``VirtualLab.random_recipes``), every row given the
  first row's anneal.

``--lab second`` runs the same loop on :class:`benchmarks.second_lab.SecondLab` (a TEST
problem: nothing is chosen on it) and writes ``furnace_second.md`` (``--lab third``:
:class:`benchmarks.third_lab.ThirdLab`, also a test problem, ``furnace_third.md``); ``--lab coupled`` on
:class:`benchmarks.coupled_lab.CoupledLab` (the best anneal depends on the powder; nothing is
chosen on it either), ``furnace_coupled.md``.

Metric: TRUE CE (``VirtualLab.truth``) of the best-MEASURED recipe after 32 experiments;
medians over seeds and paired Wilcoxon signed-rank tests (scipy) of each shared-aware method
against force_first_row, and of each variant against doe_shared. ``--speed`` measures
``suggest(4)`` at n = 30 recorded experiments with and without ``batch_shared`` (CPU seconds,
one torch thread). A rerun keeps the hand-written sections of the result file.

Usage::

    nice .venv/bin/python -m benchmarks.bench_furnace --seeds 20
    nice .venv/bin/python -m benchmarks.bench_furnace --seeds 20 --lab second
    nice .venv/bin/python -m benchmarks.bench_furnace --speed --seeds 5
    .venv/bin/python -m benchmarks.bench_furnace --report-only
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    LABS,
    RESULTS,
    command_line,
    fmt,
    header,
    make_lab,
    markdown_table,
    progress_logger,
    single_thread,
    write_result,
)

CE = "first_cycle_ce_pct"
SHARED = ("anneal_temperature_c", "anneal_time_h", "anneal_atmosphere")
METHODS = ("doe_shared", "doe_shared_in_region", "doe_shared_first_slot", "doe_shared_best_guess", "doe_shared_explore",
           "doe_shared_both", "doe_shared_thompson", "force_first_row", "random")
SETTINGS = {"doe_shared_first_slot": {"shared_search": "first_slot"},
            "doe_shared_best_guess": {"shared_search": "best_guess"},
            "doe_shared_explore": {"shared_explore_untried": True},
            "doe_shared_in_region": {"shared_region": "trust_region"},
            "doe_shared_both": {"shared_search": "both"},
            "doe_shared_thompson": {"shared_search": "thompson"}}
"""``EngineSettings`` changes of a method from the defaults."""
SPEED_RAW = RESULTS / "raw" / "furnace_speed.csv"
BATCH = 4
ROUNDS = 8


def raw_path(lab: str) -> Path:
    """The raw CSV of one lab's runs."""
    return RESULTS / "raw" / ("furnace.csv" if lab == "virtual" else f"furnace_{lab}.csv")


def out_path(lab: str) -> Path:
    """The Markdown result of one lab."""
    return RESULTS / ("furnace.md" if lab == "virtual" else f"furnace_{lab}.md")


def furnace_config(shared: bool) -> Any:
    from benchmarks.bench_sample_efficiency import config_part_a

    config = config_part_a()
    return config.replace(name="bench-furnace", batch_shared=list(SHARED) if shared else None)


def run_one(method: str, seed: int, log: Any, lab_name: str = "virtual") -> pd.DataFrame:
    """One closed loop of ``ROUNDS`` furnace runs; one row per experiment."""
    from doe import Campaign
    from doe.simulate import VirtualLab

    lab = make_lab(lab_name, seed)
    from doe.engine import EngineSettings

    shared = method.startswith("doe_shared")
    config = furnace_config(shared)
    params = config.parameter_names
    campaign = None
    if method != "random":
        settings = EngineSettings(**SETTINGS.get(method, {}))
        campaign = Campaign.from_config(config.replace(seed=seed), storage=":memory:", settings=settings,
                                        actor="benchmark")
    design = VirtualLab.random_recipes(ROUNDS * BATCH, seed=seed) if method == "random" else None
    rows = []
    for r in range(ROUNDS):
        t0 = time.process_time()
        if campaign is not None:
            proposed = campaign.suggest(BATCH)
            recipes = proposed[params].copy()
        else:
            assert design is not None
            recipes = design.iloc[r * BATCH:(r + 1) * BATCH].reset_index(drop=True)
        seconds = time.process_time() - t0
        if not shared:  # one furnace run: every powder gets the first row's anneal
            for name in SHARED:
                recipes[name] = recipes[name].iloc[0]
        measured = lab.run(recipes)
        truth = lab.truth(recipes)
        if campaign is not None:
            outcome = measured[[CE, "failed", "failure_reason"]].reset_index(drop=True)
            if shared:
                outcome.insert(0, "experiment_id", proposed["experiment_id"].to_numpy())
            else:
                campaign.abandon(list(proposed["experiment_id"]), reason="furnace run used the first row's anneal")
                outcome = pd.concat([recipes.reset_index(drop=True), outcome], axis=1)
            # force_first_row: a forced recipe may repeat an earlier run (the lab really ran it twice)
            campaign.record(outcome, allow_duplicates=not shared)
        frame = pd.DataFrame({
            "method": method, "seed": seed, "round": r + 1,
            "experiment": np.arange(r * BATCH + 1, (r + 1) * BATCH + 1),
            "suggest_cpu_s": seconds, "failed": measured["failed"].to_numpy(),
            "measured_ce": measured[CE].to_numpy(), "true_ce": truth[CE].to_numpy(),
        })
        for p in params:
            frame[p] = recipes[p].to_numpy()
        rows.append(frame)
    run = pd.concat(rows, ignore_index=True)
    log.info("%s lab, %s seed %d: true CE of best measured %.2f", lab_name, method, seed, final_truth(run))
    return run


def final_truth(run: pd.DataFrame) -> float:
    """True CE of the best-measured (non-failed) recipe of the run."""
    ok = run["measured_ce"].notna().to_numpy()
    if not ok.any():
        return float("nan")
    best = int(np.nanargmax(run["measured_ce"].to_numpy(dtype=float)))
    return float(run["true_ce"].iloc[best])


def speed(seeds: int, log: Any) -> pd.DataFrame:
    """CPU seconds of suggest(4) at n = 30 random recorded experiments, without and with batch_shared."""
    from doe import Campaign
    from doe.simulate import VirtualLab

    rows = []
    for seed in range(seeds):
        lab = VirtualLab(seed)
        recipes = VirtualLab.random_recipes(30, seed=1000 + seed)
        measured = lab.run(recipes)
        table = pd.concat([recipes, measured[[CE, "failed", "failure_reason"]]], axis=1)
        for shared in (False, True):
            campaign = Campaign.from_config(furnace_config(shared).replace(seed=seed), storage=":memory:",
                                            actor="benchmark")
            campaign.record(table)
            t0 = time.process_time()
            campaign.suggest(BATCH)
            seconds = time.process_time() - t0
            rows.append({"seed": seed, "batch_shared": shared, "suggest_cpu_s": seconds})
            log.info("speed seed %d shared=%s: %.2f s", seed, shared, seconds)
    return pd.DataFrame(rows)


def report(raw: pd.DataFrame, speed_raw: pd.DataFrame | None, command: str, lab: str = "virtual") -> str:
    from scipy.stats import wilcoxon

    finals = raw.groupby(["method", "seed"]).apply(final_truth, include_groups=False).unstack(0)
    seeds = sorted(finals.index)
    title = {"virtual": "the virtual coating lab", "second": "the second simulated lab (TEST problem)",
             "needle": "the needle lab (benchmarks/needle_lab.py)",
             "third": "the third simulated lab (TEST problem; benchmarks/third_lab.py)",
             "coupled": "the coupled lab (the best anneal depends on the powder; benchmarks/coupled_lab.py)",
             "mirror": "the mirror lab (a tuning problem; the best anneal far from the reference; "
                       "benchmarks/mirror_lab.py)",
             }.get(lab, f"the {lab} lab")
    parts = [header(f"Furnace-shared batches on {title}", command=command)]
    parts.append(
        f"\n{len(seeds)} seed(s) ({seeds[0]}-{seeds[-1]}), {ROUNDS} furnace runs of {BATCH} recipes "
        f"({ROUNDS * BATCH} experiments), CE as the only objective; shared per batch: {', '.join(SHARED)}. "
        "Metric: TRUE CE (%) of the best-MEASURED recipe after the last furnace run. See the module "
        "docstring of `benchmarks/bench_furnace.py` for the methods. Raw: "
        f"`benchmarks/results/raw/{raw_path(lab).name}`.\n\n"
    )
    rows = []
    for m in METHODS:
        if m in finals:
            v = finals[m].dropna()
            rows.append([m, len(v), fmt(float(v.median()), 2), fmt(float(v.quantile(0.25)), 2),
                         fmt(float(v.quantile(0.75)), 2), fmt(float(v.min()), 2)])
    parts.append(markdown_table(["method", "seeds", "median", "25 %", "75 %", "worst"], rows))
    pairs = [(m, "force_first_row") for m in METHODS if m.startswith("doe_shared")]
    pairs += [(m, "doe_shared") for m in METHODS if m.startswith("doe_shared_")]
    for method, other in pairs:
        if {method, other} <= set(finals.columns):
            pair = finals[[method, other]].dropna()
            diff = pair[method] - pair[other]
            p = float(wilcoxon(pair[method], pair[other]).pvalue) if (diff != 0).any() else 1.0
            parts.append(
                f"\n\nPaired over {len(pair)} seeds, {method} minus {other}: median "
                f"{diff.median():+.2f} CE points, {method} ahead in {int((diff > 0).sum())}, behind in "
                f"{int((diff < 0).sum())}; Wilcoxon signed-rank p = {p:.3g}.\n"
            )
    if speed_raw is not None and len(speed_raw):
        med = speed_raw.groupby("batch_shared")["suggest_cpu_s"].median()
        parts.append(
            f"\n## Speed\n\n`suggest(4)` at n = 30 recorded experiments (random recipes), CPU seconds, one torch "
            f"thread, {speed_raw['seed'].nunique()} seeds: median {med.get(False, float('nan')):.2f} s without "
            f"`batch_shared`, {med.get(True, float('nan')):.2f} s with it (ratio "
            f"{med.get(True, float('nan')) / med.get(False, float('nan')):.2f}). "
            "Raw: `benchmarks/results/raw/furnace_speed.csv`.\n"
        )
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--speed", action="store_true", help="measure suggest(4) time instead")
    parser.add_argument("--lab", choices=LABS, default="virtual")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.seeds < 1 or args.first_seed < 0:
        parser.error("--seeds must be at least 1 and --first-seed at least 0")
    raw_file, out_file = raw_path(args.lab), out_path(args.lab)
    single_thread()
    log = progress_logger("furnace", RESULTS / "raw" / "furnace.log")
    raw_file.parent.mkdir(parents=True, exist_ok=True)
    if args.speed:
        speed(args.seeds, log).to_csv(SPEED_RAW, index=False)
    elif not args.report_only:
        done = pd.read_csv(raw_file) if raw_file.exists() else pd.DataFrame()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for method in args.methods.split(","):
                if len(done) and ((done["method"] == method) & (done["seed"] == seed)).any():
                    continue
                run = run_one(method, seed, log, args.lab)
                done = pd.concat([done, run], ignore_index=True)
                done.to_csv(raw_file, index=False)  # after every run, so a cut-off run keeps what it did
    if not raw_file.exists():
        return
    raw = pd.read_csv(raw_file)
    speed_raw = pd.read_csv(SPEED_RAW) if SPEED_RAW.exists() and args.lab == "virtual" else None
    write_result(out_file, report(raw, speed_raw, command_line(), args.lab))
    print(out_file.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
