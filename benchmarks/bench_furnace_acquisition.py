"""Where the furnace methods differ: the joint acquisition each batch reaches, and its true CE.

``bench_furnace`` finds the joint search (``doe_shared``) level with "free batch, then every
row gets the first row's anneal" (``force_first_row``). This asks why, on the same states:
for every model-based furnace run of a ``doe_shared`` campaign on a lab (seeds as given), the
same training table, models (fitted as the campaign fits them) and batch seed go to four
searches, and each batch is scored by the
shared-aware campaign's own joint acquisition (qLogNEI of the four recipes together, the
quantity the joint search maximises) and by the lab's true CE:

- ``joint``: the default (``shared_search="joint"``); checked equal to the batch the campaign
  itself proposes next;
- ``joint_high``: the same with more optimiser effort (``num_restarts=16``,
  ``raw_samples=512``, ``lbfgs_maxiter=60`` instead of 4, 128, 12);
- ``first_slot``: ``shared_search="first_slot"``;
- ``force_first_row``: the campaign without ``batch_shared`` proposes a free batch from the
  same table, then every row gets the first row's anneal.

If ``joint_high`` reached a clearly higher acquisition, the joint search would be
under-optimised; if ``force_first_row``'s batches scored higher, the joint search would be
missing batches it could have found. Either would be a reason to change the search.

Usage::

    nice .venv/bin/python -m benchmarks.bench_furnace_acquisition --seeds 20
    .venv/bin/python -m benchmarks.bench_furnace_acquisition --report-only
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_furnace import BATCH, CE, ROUNDS, SHARED, furnace_config
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

SEARCHES = ("joint", "joint_high", "first_slot", "force_first_row")


def raw_path(lab: str) -> Any:
    return RESULTS / "raw" / f"furnace_acquisition_{lab}.csv"


def out_path(lab: str) -> Any:
    return RESULTS / f"furnace_acquisition_{lab}.md"


def states(seed: int, lab_name: str, log: Any) -> list[dict[str, Any]]:
    """One row per model-based furnace run of a ``doe_shared`` campaign: the four searches' scores."""
    import torch

    from doe import Campaign
    from doe.domain.batches import batch_seed, training_table
    from doe.engine import EngineSettings, Surrogates, propose
    from doe.engine.acquisition import build_acquisition
    from doe.engine.encoding import Encoder

    lab = make_lab(lab_name, seed)
    config = furnace_config(True).replace(seed=seed)
    free_config = furnace_config(False).replace(seed=seed)
    params = config.parameter_names
    encoder = Encoder(config)
    settings = EngineSettings()
    campaign = Campaign.from_config(config, storage=":memory:", settings=settings, actor="benchmark")
    out = []
    for r in range(ROUNDS):
        history = campaign.history()
        training = training_table(history, config).reset_index(drop=True)
        index = len(history["batch_id"].dropna().unique()) + 1
        bseed = batch_seed(seed, index)
        built = None
        if len(training):
            surrogates = Surrogates(config, settings).fit(training, seed=seed)
            built = build_acquisition(surrogates, config, settings.mc_samples, bseed)
        proposed = campaign.suggest(BATCH)
        if built is not None and proposed["strategy"].iloc[0] != "initial_design":
            acqf = built[0](None)
            batches = {
                "joint": propose(config, training, BATCH, seed=bseed, settings=settings, surrogates=surrogates),
                "joint_high": propose(config, training, BATCH, seed=bseed, surrogates=surrogates,
                                      settings=replace(settings, num_restarts=16, raw_samples=512, lbfgs_maxiter=60)),
                "first_slot": propose(config, training, BATCH, seed=bseed, surrogates=surrogates,
                                      settings=replace(settings, shared_search="first_slot")),
                "force_first_row": propose(free_config, training, BATCH, seed=bseed, settings=settings,
                                           surrogates=Surrogates(free_config, settings).fit(training, seed=seed)),
            }
            row: dict[str, Any] = {"seed": seed, "furnace_run": r + 1, "n_train": len(training)}
            for name, proposal in batches.items():
                recipes = proposal.recipes[params].reset_index(drop=True).copy()
                if name == "force_first_row":
                    for column in SHARED:
                        recipes[column] = recipes[column].iloc[0]
                X = torch.as_tensor(encoder.encode(recipes), dtype=torch.float64).unsqueeze(0)
                with torch.no_grad():
                    row[f"{name}_acq"] = float(acqf(X).reshape(-1)[0])
                truth = lab.truth(recipes)[CE].to_numpy(dtype=float)
                row[f"{name}_best_true"] = float(np.nanmax(truth))
                row[f"{name}_mean_true"] = float(np.nanmean(truth))
            row["joint_is_campaign_batch"] = bool(np.allclose(
                encoder.encode(batches["joint"].recipes[params]), encoder.encode(proposed[params]), atol=1e-9))
            log.info("%s lab seed %d run %d: same as campaign %s, acq %s", lab_name, seed, r + 1, row["joint_is_campaign_batch"],
                     {k: round(row[f"{k}_acq"], 3) for k in SEARCHES})
            out.append(row)
        measured = lab.run(proposed[params].reset_index(drop=True))
        outcome = measured[[CE, "failed", "failure_reason"]].reset_index(drop=True)
        outcome.insert(0, "experiment_id", proposed["experiment_id"].to_numpy())
        campaign.record(outcome)
    return out


def report(raw: pd.DataFrame, command: str, lab: str) -> str:
    from scipy.stats import wilcoxon

    parts = [header(f"Furnace batches on the {lab} lab: joint acquisition reached, and true CE", command=command)]
    parts.append(
        f"\n{raw['seed'].nunique()} seed(s), {len(raw)} states (every model-based furnace run of a `doe_shared` "
        f"campaign, runs {raw['furnace_run'].min()}-{raw['furnace_run'].max()}). For each state, four searches "
        "from the same table and seed (module docstring of `benchmarks/bench_furnace_acquisition.py`). "
        "`acq`: the shared-aware campaign's joint qLogNEI of the batch (log scale, higher is better); "
        "`best true` / `mean true`: the lab's true CE of the batch's best / average recipe. "
        f"The default search's batch equals the campaign's own in {int(raw['joint_is_campaign_batch'].sum())} "
        f"of {len(raw)} states. Raw: `benchmarks/results/raw/{raw_path(lab).name}`.\n\n"
    )
    rows = []
    for name in SEARCHES:
        rows.append([name, fmt(float(raw[f"{name}_acq"].median()), 3), fmt(float(raw[f"{name}_best_true"].median()), 2),
                     fmt(float(raw[f"{name}_mean_true"].median()), 2)])
    parts.append(markdown_table(["search", "median acq", "median best true CE", "median mean true CE"], rows))
    parts.append("\n\nPaired over the states, each search against the default `joint` (Wilcoxon signed-rank):\n\n")
    rows = []
    for name in SEARCHES[1:]:
        cells = [name]
        for metric in ("acq", "best_true", "mean_true"):
            diff = raw[f"{name}_{metric}"] - raw[f"joint_{metric}"]
            p = float(wilcoxon(raw[f"{name}_{metric}"], raw[f"joint_{metric}"]).pvalue) if (diff != 0).any() else 1.0
            cells.append(f"{diff.median():+.3f} (higher in {int((diff > 1e-9).sum())}, lower in "
                         f"{int((diff < -1e-9).sum())}; p = {p:.2g})")
        rows.append(cells)
    parts.append(markdown_table(["search", "acq minus joint's: median", "best true CE minus joint's: median",
                                "mean true CE minus joint's: median"], rows))
    parts.append("\n\nThe states of one seed lie on one campaign's path, so they are not independent: per seed, "
                 "the mean of its states' differences, paired over the seeds (Wilcoxon signed-rank):\n\n")
    rows = []
    for name in SEARCHES[1:]:
        cells = [name]
        for metric in ("acq", "best_true", "mean_true"):
            per_seed = (raw[f"{name}_{metric}"] - raw[f"joint_{metric}"]).groupby(raw["seed"]).mean()
            p = float(wilcoxon(per_seed).pvalue) if (per_seed != 0).any() else 1.0
            cells.append(f"{per_seed.median():+.3f} (higher in {int((per_seed > 1e-9).sum())} seeds, lower in "
                         f"{int((per_seed < -1e-9).sum())}; p = {p:.2g})")
        rows.append(cells)
    parts.append(markdown_table(["search", "acq minus joint's: median seed", "best true CE: median seed",
                                "mean true CE: median seed"], rows))
    gain = raw["joint_high_acq"] - raw["joint_acq"]
    parts.append(f"\n\nMore optimiser effort raised the joint acquisition by at most {gain.max():.3f} "
                 f"(90th percentile {gain.quantile(0.9):.3f}).\n")
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--lab", choices=LABS, default="virtual")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.seeds < 1 or args.first_seed < 0:
        parser.error("--seeds must be at least 1 and --first-seed at least 0")
    raw_file = raw_path(args.lab)
    single_thread()
    log = progress_logger("furnace_acquisition", RESULTS / "raw" / "furnace_acquisition.log")
    raw_file.parent.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        done = pd.read_csv(raw_file) if raw_file.exists() else pd.DataFrame()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if len(done) and (done["seed"] == seed).any():
                continue
            done = pd.concat([done, pd.DataFrame(states(seed, args.lab, log))], ignore_index=True)
            done.to_csv(raw_file, index=False)  # after every seed, so a cut-off run keeps what it did
    if not raw_file.exists():
        return
    command = command_line()
    if args.report_only and out_path(args.lab).exists():  # keep the command that made the runs
        made = re.search(r"^- Command \(from the repository root\): `([^`]*)`", out_path(args.lab).read_text(encoding="utf-8"),
                         re.MULTILINE)
        if made and "--report-only" not in made.group(1):
            command = f"{made.group(1)}`; this report: `{command}"
    write_result(out_path(args.lab), report(pd.read_csv(raw_file), command, args.lab))
    print(out_path(args.lab).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
