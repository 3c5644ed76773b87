"""Does more acquisition-optimiser effort buy sample efficiency on the virtual lab?

Maximise first-cycle CE only (the template's first objective; retention kept as an outcome,
no outcome constraint), 30 experiments in rounds of 3, seeds 0-9, through Campaign on
":memory:" storage; reports the TRUE CE of the best-MEASURED recipe after 30 experiments for
the default EngineSettings and for a variant, and how many seeds beat the study recipe.

    .venv/bin/python benchmarks/bench_optimiser_effort.py default more

writes benchmarks/results/optimiser_effort.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from doe import Campaign, VirtualLab
from doe.domain import load_config
from doe.engine import EngineSettings

VARIANTS = {
    "default": EngineSettings(),
    "more": EngineSettings(num_restarts=8, raw_samples=512, maxiter_alternating=2, lbfgs_maxiter=30),
    "init9": EngineSettings(initial_design_size=9),
}
STUDY_TRUE_CE = float(VirtualLab(seed=0).truth(VirtualLab.study_recipe())["first_cycle_ce_pct"].iloc[0])


def run_variant(name: str, seeds: range) -> tuple[list[float], float]:
    raw = load_config("hfo2-ncm85").to_dict()
    retention = raw["objectives"].pop(1)
    raw["outcomes"].append({"name": retention["name"], "unit": retention["unit"]})
    raw.pop("constraints")
    params = load_config(raw).parameter_names
    best, start = [], time.process_time()
    for seed in seeds:
        campaign = Campaign.from_config({**raw, "seed": seed, "name": f"s{seed}"}, storage=":memory:",
                                        settings=VARIANTS[name])
        lab = VirtualLab(seed=seed)
        for _ in range(10):
            batch = campaign.suggest(3)
            campaign.record(lab.run(batch[["experiment_id", *params]]))
        history = campaign.history()
        truth = lab.truth(history[params])["first_cycle_ce_pct"].to_numpy()
        best.append(float(truth[np.nanargmax(history["first_cycle_ce_pct"].to_numpy())]))
        print(name, seed, round(best[-1], 2), flush=True)
    return best, (time.process_time() - start) / (10 * len(seeds))


def main() -> None:
    torch.set_num_threads(1)
    names = sys.argv[1:] or ["default", "more"]
    lines = ["# Optimiser effort vs sample efficiency (virtual lab, maximise CE, 30 experiments, seeds 0-9)", "",
             f"- Command: `.venv/bin/python benchmarks/bench_optimiser_effort.py {' '.join(names)}`",
             f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; 2 shared cores, CPU, 1 torch thread",
             f"- Study recipe true CE: {STUDY_TRUE_CE:.2f} %", "",
             "| settings | true CE of best-measured recipe, per seed | median | seeds beating the study | CPU s per suggest(3) |",
             "|---|---|---|---|---|"]
    for name in names:
        best, cpu = run_variant(name, range(10))
        beat = sum(b > STUDY_TRUE_CE for b in best)
        lines.append(f"| {name}: {VARIANTS[name].to_dict()} | {', '.join(f'{b:.2f}' for b in best)} | "
                     f"{np.median(best):.2f} | {beat} of 10 | {cpu:.2f} |")
    out = Path(__file__).parent / "results" / "optimiser_effort.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
