"""A peer in the closed loop of ``bench_search_v2.py`` (virtual lab, maximise CE, 30
experiments in rounds of 3): how many experiments does Ax need to beat the study recipe?

Same lab seeds and rounds as ``bench_search_v2 --lab virtual`` (``VirtualLab(seed)``, the
noise and failures of each round from the same stream), so each seed is paired with doe's
default run stored in ``benchmarks/results/raw/search_v2_virtual.csv``. Each round the history
so far is written as CSV and ``benchmarks/peers/ax_loop.py`` proposes the next 3 recipes in the
peers' venv (``.venv-bench``, see ``benchmarks/README.md``; override with ``DOE_BENCH_PYTHON``).

    .venv/bin/python -m benchmarks.bench_peer_loop --seeds 10

writes ``benchmarks/results/peer_loop.md`` and ``benchmarks/results/raw/peer_loop_ax.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_sample_efficiency import config_part_a
from benchmarks.bench_search_v2 import BATCH, CE, NOT_REACHED, ROUNDS, BestTracker
from benchmarks.bench_suggest_speed import space_json
from benchmarks.common import RESULTS, command_line, header, markdown_table, paired_text

ROOT = Path(__file__).resolve().parents[1]
RAW = RESULTS / "raw" / "peer_loop_ax.csv"
OUT = RESULTS / "peer_loop.md"
DOE_RAW = RESULTS / "raw" / "search_v2_virtual.csv"


def peer_python() -> str:
    return os.environ.get("DOE_BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))


def run_seed(seed: int, work: Path) -> dict[str, Any]:
    from doe.simulate import VirtualLab

    config = config_part_a()
    names = config.parameter_names
    lab = VirtualLab(seed)
    study_ce = float(lab.truth(VirtualLab.study_recipe()[names])[CE].iloc[0])
    space = work / "space.json"
    space.write_text(json.dumps(space_json(config)))
    history = pd.DataFrame(columns=[*names, CE, "failed"])
    best = BestTracker(study_ce)
    cpu = 0.0
    for r in range(ROUNDS):
        path = work / "history.csv"
        history.to_csv(path, index=False)
        t0 = time.time()
        done = subprocess.run([peer_python(), "-m", "benchmarks.peers.ax_loop", "--space", str(space),
                               "--history", str(path), "--batch", str(BATCH), "--seed", str(seed * 100 + r)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        cpu += time.time() - t0
        recipes = pd.DataFrame(json.loads(done.stdout.strip().splitlines()[-1]))[names]
        measured = lab.run(recipes)
        truth = lab.truth(recipes)
        for i in range(len(recipes)):
            best.add(measured[CE].iloc[i], truth[CE].iloc[i])
        rows = recipes.copy()
        rows[CE] = measured[CE].to_numpy()
        rows["failed"] = measured["failed"].to_numpy()
        history = pd.concat([history, rows], ignore_index=True)
    return {"variant": "ax", "seed": seed, "best_true_ce": best.true_of_best, "experiments_to_beat_study": best.to_beat,
            "study_ce": study_ce, "wall_s_per_round": cpu / ROUNDS}


def report(ax: pd.DataFrame, command: str) -> str:
    doe = pd.read_csv(DOE_RAW)
    doe = doe[(doe["variant"] == "default") & doe["seed"].isin(ax["seed"])]
    both = pd.concat([doe.assign(variant="doe"), ax], ignore_index=True)
    best = both.pivot(index="seed", columns="variant", values="best_true_ce")
    saved = -both.pivot(index="seed", columns="variant", values="experiments_to_beat_study")
    rows = []
    for variant in ("doe", "ax"):
        group = both[both["variant"] == variant]
        beat = group["experiments_to_beat_study"].to_numpy()
        median = float(np.median(beat))
        lo, mid, hi = np.percentile(group["best_true_ce"], [25, 50, 75])
        rows.append([variant, len(group), f"{mid:.2f} [{lo:.2f}-{hi:.2f}]",
                     f"{median:.0f}" if median < NOT_REACHED else "not reached",
                     f"{int((beat >= NOT_REACHED).sum())} of {len(beat)}",
                     paired_text(saved, variant, "doe"), paired_text(best, variant, "doe")])
    seeds = sorted(ax["seed"])
    return "\n".join([
        header("A peer in the closed loop: Ax against doe on the virtual lab (maximise CE, 30 experiments in rounds of 3)",
               command=command),
        f"Seeds {seeds[0]}-{seeds[-1]}; doe = `EngineSettings()` runs of `bench_search_v2 --lab virtual` on the same "
        f"lab seeds (`{DOE_RAW.relative_to(ROOT)}`); Ax = `ax.api.Client` with its default generation strategy, "
        "rebuilt from the whole history each round (`benchmarks/peers/ax_loop.py`). Experiments to beat the study: "
        f"until the best-measured recipe's true CE first exceeds the study recipe's ({ax['study_ce'].iloc[0]:.2f} %); "
        f"never = {NOT_REACHED}. Ax's wall time per round (process start included): median "
        f"{ax['wall_s_per_round'].median():.1f} s.",
        "",
        markdown_table(["method", "seeds", "best true CE after 30: median [25-75 %]",
                        "experiments to beat the study: median", "not reached in 30",
                        "experiments saved against doe", "best CE against doe"], rows),
        f"Per-seed values: `{RAW.relative_to(ROOT)}`.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.report_only:
        done = pd.read_csv(RAW) if RAW.exists() else pd.DataFrame(columns=["seed"])
        rows = done.to_dict("records")
        for seed in range(args.seeds):
            if seed in set(done["seed"]):
                continue
            with tempfile.TemporaryDirectory() as work:
                rows.append(run_seed(seed, Path(work)))
            RAW.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(RAW, index=False)  # after every seed: a cut-off run keeps what it did
            print(rows[-1], flush=True)
    OUT.write_text(report(pd.read_csv(RAW), command_line()))
    print(OUT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
