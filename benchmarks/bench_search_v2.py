"""Search v2: does an adaptive trust region or an untried-label slot find better coatings?

Closed loop as ``bench_sample_efficiency.py`` part a (maximise first-cycle CE only, 30
experiments in rounds of 3 through ``doe.Campaign`` on ``":memory:"``), one run per variant
and seed on the same lab seeds, on one of four labs:

- ``--lab virtual``: :class:`doe.simulate.VirtualLab` (the TUNING problem: variants are
  compared and a default is chosen here);
- ``--lab second``: :class:`benchmarks.second_lab.SecondLab` (a TEST problem: reported
  untouched; nothing is chosen on it);
- ``--lab needle``: :class:`benchmarks.needle_lab.NeedleLab` (TUNING, from round 8: the
  virtual lab mirrored, its CE floored, so the reference recipe sits on a flat response);
- ``--lab third``: :class:`benchmarks.third_lab.ThirdLab` (TEST, from round 8, written by an
  independent helper).

Metrics per run: the true CE of the best-measured recipe after 30 experiments and its gap
to the lab's best CE (regret); the share of model-based proposals that keep the incumbent's
solvent and atmosphere (how stuck the search is); distinct solvents tried. Each variant is
compared with ``default`` seed by seed (Wilcoxon signed-rank, two-sided).

    .venv/bin/python -m benchmarks.bench_search_v2 --lab virtual --seeds 20 --jobs 2
    .venv/bin/python -m benchmarks.bench_search_v2 --lab second --seeds 20 --jobs 2 --variants default,adaptive
    .venv/bin/python -m benchmarks.bench_search_v2 --lab third --first-seed 20 --seeds 100 --variants default \
        --before-root /work/wt/v1 --tag _round10   # new seeds, against another checkout's engine

write ``benchmarks/results/search_v2_<lab>.md`` and ``benchmarks/results/raw/search_v2_<lab>.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_sample_efficiency import config_part_a
from benchmarks.common import (
    RESULTS,
    command_line,
    git_revision,
    header,
    make_lab,
    markdown_table,
    paired_text,
    single_thread,
    write_result,
)

CE = "first_cycle_ce_pct"
ROUNDS, BATCH = 10, 3

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "adaptive": {"trust_region": "adaptive"},
    "explore2": {"explore_untried": 2},
    "adaptive_explore2": {"trust_region": "adaptive", "explore_untried": 2},
    # second round (2026-12-04), fixed before any of them ran: the model sooner, the whole
    # space, more optimiser effort, a rougher kernel, BoTorch's lengthscale prior
    "init3": {"initial_design_size": 3},
    "global": {"trust_region_width": None},
    "effort": {"num_restarts": 8, "raw_samples": 512},
    "matern": {"kernel": "matern52"},
    "botorch_prior": {"lengthscale_prior": (1.4142, 1.7321)},
    # third round (2026-12-04): the first batch starts at the template's reference recipe. It won
    # (12:18 UTC, as "reference_start" against the old default) and is the default since; this
    # variant is the engine as it was before
    "no_reference_start": {"start_at_reference": False},
    # fifth round (2026-12-04, fixed at 16:23 UTC in benchmarks/README.md): the pool-based
    # model's candidates; the one that wins the materials screen is checked here
    "loose_ard": {"lengthscale_prior": (-1.4, 1.0)},
    "matern52": {"kernel": "matern52"},
    "long_prior": {"lengthscale_prior": (-1.0, 0.55)},
    # seventh round (fixed at 16:40 UTC): a wider noise prior
    "wide_noise": {"noise_prior": (-4.0, 2.0)},
    # eighth round (fixed at 19:02 UTC): the last slot of each batch searches the whole space
    "whole_space": {"whole_space_slots": 1},
}
"""``EngineSettings`` changes from the defaults, fixed before any run."""
BEFORE = "before"
"""The variant name of ``--before-root``: the default settings of another checkout's engine."""
RANDOM = "random"
"""The baseline variant: uniform random recipes (``VirtualLab.random_recipes``), no model."""
NOT_REACHED = ROUNDS * BATCH + 1
"""Experiments-to-beat value of a run that never beat the study recipe (censored at 31)."""


@dataclass
class BestTracker:
    """The true CE of the best-MEASURED recipe as experiments come in, and the experiment
    (1-based) at which it first beats ``study_ce`` (:data:`NOT_REACHED` until then)."""

    study_ce: float
    measured_best: float = -np.inf
    true_of_best: float = np.nan
    experiments: int = 0
    to_beat: int = NOT_REACHED

    def add(self, measured: float, true: float) -> None:
        """One experiment's measured CE (NaN when it failed) and its true CE."""
        if np.isfinite(measured) and measured > self.measured_best:
            self.measured_best, self.true_of_best = float(measured), float(true)
        self.experiments += 1
        if self.to_beat == NOT_REACHED and self.true_of_best > self.study_ce:
            self.to_beat = self.experiments


TUNING_LABS = ("virtual", "needle")
"""The labs on which variants are compared and defaults chosen (the others are test labs)."""


def best_ce(lab: str) -> float:
    """The lab's best expected CE (virtual and needle: the polished optimum; second and third:
    best of 200,000 random recipes)."""
    if lab == "virtual":
        from doe.simulate import VirtualLab

        return float(VirtualLab(0).optimum(n_samples=50_000)[1][CE].iloc[0])
    return float(make_lab(lab, 0).optimum_ce())


def run_seed(lab_name: str, variant: str, seed: int) -> dict[str, Any]:
    single_thread()
    from doe import Campaign
    from doe.engine import EngineSettings

    config = config_part_a()
    settings = replace(EngineSettings(), **VARIANTS[variant])
    campaign = Campaign.from_config(config.replace(seed=seed), storage=":memory:", settings=settings, actor="benchmark")
    lab = make_lab(lab_name, seed)
    from doe.simulate import VirtualLab

    study_ce = float(lab.truth(VirtualLab.study_recipe()[config.parameter_names])[CE].iloc[0])
    best = BestTracker(study_ce)
    start = time.process_time()
    kept, model_based, solvents, atmospheres = 0, 0, set(), set()
    for _ in range(ROUNDS):
        recipes = campaign.suggest(BATCH)
        params = recipes[config.parameter_names]
        measured = lab.run(params)
        truth = lab.truth(params)
        incumbent = None
        history = campaign.history()
        done = history[history[CE].notna()]
        if len(done):
            incumbent = done.loc[done[CE].idxmax()]
        for i, row in recipes.iterrows():
            solvents.add(row["dispersion_solvent"])
            atmospheres.add(row["anneal_atmosphere"])
            if incumbent is not None and row["strategy"] not in ("initial_design",):
                model_based += 1
                kept += int(row["dispersion_solvent"] == incumbent["dispersion_solvent"]
                            and row["anneal_atmosphere"] == incumbent["anneal_atmosphere"])
            best.add(measured[CE].iloc[i], truth[CE].iloc[i])
        table = measured[[CE, "failed", "failure_reason"]].copy()
        table.insert(0, "experiment_id", recipes["experiment_id"].to_numpy())
        campaign.record(table)
    return {"lab": lab_name, "variant": variant, "seed": seed, "best_true_ce": best.true_of_best,
            "kept_incumbent_labels": kept / model_based if model_based else np.nan,
            "solvents_tried": len(solvents), "atmospheres_tried": len(atmospheres),
            "experiments_to_beat_study": best.to_beat, "study_ce": study_ce,
            "cpu_s_per_round": (time.process_time() - start) / ROUNDS}


def run_seed_before(lab_name: str, seed: int, root: str) -> dict[str, Any]:
    """:func:`run_seed` of the default variant with the ``doe`` package of the checkout at ``root``
    (a fresh process whose import path holds that ``doe`` and these benchmarks)."""
    with tempfile.TemporaryDirectory() as mix:
        os.symlink(Path(root).resolve() / "doe", Path(mix) / "doe")
        os.symlink(Path(__file__).resolve().parent, Path(mix) / "benchmarks")
        env = {**os.environ, "PYTHONPATH": mix}
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_search_v2", "--one-seed", lab_name, str(seed)],
                             env=env, cwd=mix, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"--before-root {root}, {lab_name} lab, seed {seed}: the worker failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return {**row, "variant": BEFORE}


def run_seed_random(lab_name: str, seed: int) -> dict[str, Any]:
    """:func:`run_seed`'s measures for uniform random recipes in rounds of :data:`BATCH`."""
    from doe.simulate import VirtualLab

    config = config_part_a()
    lab = make_lab(lab_name, seed)
    study_ce = float(lab.truth(VirtualLab.study_recipe()[config.parameter_names])[CE].iloc[0])
    best = BestTracker(study_ce)
    design = VirtualLab.random_recipes(ROUNDS * BATCH, seed=seed)[config.parameter_names]
    for r in range(ROUNDS):
        params = design.iloc[r * BATCH:(r + 1) * BATCH].reset_index(drop=True)
        measured, truth = lab.run(params), lab.truth(params)
        for i in range(BATCH):
            best.add(measured[CE].iloc[i], truth[CE].iloc[i])
    return {"lab": lab_name, "variant": RANDOM, "seed": seed, "best_true_ce": best.true_of_best,
            "kept_incumbent_labels": np.nan, "solvents_tried": design["dispersion_solvent"].nunique(),
            "atmospheres_tried": design["anneal_atmosphere"].nunique(),
            "experiments_to_beat_study": best.to_beat, "study_ce": study_ce, "cpu_s_per_round": np.nan}


def _run_task(lab_name: str, variant: str, seed: int, root: str) -> dict[str, Any]:
    if variant == BEFORE:
        return run_seed_before(lab_name, seed, root)
    return run_seed_random(lab_name, seed) if variant == RANDOM else run_seed(lab_name, variant, seed)


def _or_dash(value: float, template: str) -> str:
    """``template`` filled with ``value``, or ``-`` where there is none (random has no model, no CPU time)."""
    return "-" if not np.isfinite(value) else template.format(value)


def _tried(group: pd.DataFrame) -> str:
    """Solvents and atmospheres tried: mean over seeds (fewest in one seed); atmospheres only
    where the run recorded them."""
    parts = [f"{group[c].mean():.1f} ({group[c].min():.0f})" for c in ("solvents_tried", "atmospheres_tried")
             if c in group and group[c].notna().all()]
    return " / ".join(parts)


def report(raw: pd.DataFrame, lab: str, optimum: float, command: str, runtime_s: float | None, tag: str = "",
           before: str = "--before-root") -> str:
    by_seed = raw.pivot(index="seed", columns="variant", values="best_true_ce")
    has_beat = "experiments_to_beat_study" in raw
    # experiments saved against default (positive = sooner), so "better" reads as for CE
    saved = -raw.pivot(index="seed", columns="variant", values="experiments_to_beat_study") if has_beat else None
    rows = []
    for variant, group in raw.groupby("variant", sort=False):
        best = group.sort_values("seed")["best_true_ce"].to_numpy()
        lo, mid, hi = np.percentile(best, [25, 50, 75])
        paired = paired_text(by_seed, str(variant))
        what = (f"the engine of {before}, its defaults" if variant == BEFORE
                else "uniform random recipes, no model" if variant == RANDOM
                else f"{VARIANTS[str(variant)] or 'EngineSettings()'}")
        rows.append([f"{variant}: {what}", len(best),
                     f"{mid:.2f} [{lo:.2f}-{hi:.2f}]; worst {best.min():.2f}", f"{np.median(optimum - best):.2f}", paired,
                     _or_dash(100 * group['kept_incumbent_labels'].mean(), "{:.0f} %"), _tried(group),
                     _or_dash(group['cpu_s_per_round'].median(), "{:.2f}")])
        if saved is not None:
            beat = group["experiments_to_beat_study"].to_numpy()
            median = np.median(beat)
            rows[-1][4:4] = [f"{median:g}" if median < NOT_REACHED else "not reached",
                             f"{int((beat >= NOT_REACHED).sum())} of {len(beat)}", paired_text(saved, str(variant))]
    role = ("TUNING problem: the default is chosen here" if lab in TUNING_LABS
            else "TEST problem: reported untouched, nothing is chosen on it")
    seeds = sorted(raw["seed"].unique())
    return "\n".join([
        header(f"Search v2 on the {lab} lab (maximise CE, 30 experiments in rounds of 3)", command=command,
               runtime_s=runtime_s),
        f"{role}. Seeds {seeds[0]}-{seeds[-1]}; the lab's best CE {optimum:.2f} %.",
        "Best true CE = true CE of the best-measured recipe after 30 experiments (worst: the lowest seed); regret = best CE minus that. "
        "Against default, seed by seed: mean difference (points); seeds better / worse; Wilcoxon signed-rank p. "
        "Kept labels = share of model-based proposals with the incumbent's solvent and atmosphere. "
        "Experiments to beat the study: experiments until the best-measured recipe's true CE first exceeds "
        f"the study recipe's true CE in this lab ({raw['study_ce'].iloc[0]:.2f} %) " if has_beat else "",
        f"(a run that never does counts as {NOT_REACHED}; paired as experiments saved, positive = sooner)." if has_beat else "",
        "",
        markdown_table(["variant", "seeds", "best true CE median [25-75 %]", "median regret",
                        *(["experiments to beat the study: median", "not reached in 30",
                           "experiments saved against default"] if has_beat else []),
                        "against default", "kept labels", "solvents / atmospheres tried: mean (fewest in a seed)",
                        "CPU s per round"], rows),
        "",
        f"Per-seed values: `benchmarks/results/raw/search_v2_{lab}{tag}.csv`.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", choices=["virtual", "second", "needle", "third"])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (seeds FIRST..FIRST+N-1; new seeds for a replication)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma list of " + ", ".join([*VARIANTS, RANDOM]) + f" ({RANDOM}: uniform random recipes)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the raw CSV")
    parser.add_argument("--tag", default="", help="appended to the result files' names (e.g. _100seeds)")
    parser.add_argument("--before-root", default=None,
                        help="a checkout of another version: its engine (default settings) runs as the variant "
                             f"{BEFORE!r}, paired with the others")
    parser.add_argument("--one-seed", nargs=2, metavar=("LAB", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_seed:  # the worker of --before-root, run with another checkout's doe
        import botorch  # noqa: F401  (imported before the timed rounds, as in the pool's workers after their first seed)
        import torch  # noqa: F401

        row = run_seed(args.one_seed[0], "default", int(args.one_seed[1]))
        print(json.dumps({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}))
        return 0
    if args.lab is None:
        parser.error("the following arguments are required: --lab")
    if args.seeds < 1 or args.first_seed < 0:
        parser.error("--seeds must be at least 1 and --first-seed at least 0")
    if args.first_seed and not args.tag and not args.report_only:
        parser.error("--first-seed needs --tag, so that the main result of these seeds' lab is not overwritten")
    if args.before_root and not (Path(args.before_root) / "doe" / "__init__.py").is_file():
        parser.error(f"--before-root: {args.before_root} holds no doe package (doe/__init__.py)")
    before = f"git {git_revision(args.before_root)}" if args.before_root else "another checkout (--before-root)"
    out = RESULTS / f"search_v2_{args.lab}{args.tag}.md"
    raw_path: Path = RESULTS / "raw" / f"search_v2_{args.lab}{args.tag}.csv"
    if args.report_only:
        write_result(out, report(pd.read_csv(raw_path), args.lab, best_ce(args.lab), command_line(), None,
                                 args.tag, before))
        print(out.read_text())
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS and v != RANDOM]
    if unknown:
        parser.error(f"--variants: unknown {unknown}; choose from {[*VARIANTS, RANDOM]}")
    if args.before_root:
        variants.append(BEFORE)
    start = time.time()
    tasks = [(args.lab, v, s, args.before_root or "") for s in range(args.first_seed, args.first_seed + args.seeds)
             for v in variants]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        raw = pd.DataFrame(list(pool.map(_run_task, *zip(*tasks, strict=True))))
    text = report(raw, args.lab, best_ce(args.lab), command_line(), time.time() - start, args.tag, before)
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    raw.to_csv(raw_path, index=False)
    write_result(out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
