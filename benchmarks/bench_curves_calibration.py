"""Calibration of the early prediction of a curve outcome's value at cycle 200.

Per seed: 24 recipes drawn at random from the virtual lab, their true 200-cycle retention
from :func:`doe.simulate.expected_outcomes`, one cell each from
:func:`doe.simulate.curves.retention_curve` (0.3 % cycler noise). 8 cells have cycled to
200 (the campaign's population), the other 16 are cut at 20, 50 or 100 cycles; the fade law
(:mod:`doe.domain.fade`) predicts their noise-free value at 200. Reported: the fraction of
true values inside the central 90 % interval (mean +- 1.645 sd), the mean width and the mean
absolute error; ``--discrepancy`` compares settings of the model-discrepancy term.

Run: ``python -m benchmarks.bench_curves_calibration --seeds 20``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import header, markdown_table
from doe.domain import fade
from doe.simulate import VirtualLab
from doe.simulate.curves import retention_curve

Z90 = 1.6449
RESULT = Path(__file__).parent / "results" / "curves_calibration.md"


def run_seed(seed: int, cut: int, discrepancy: float) -> list[tuple[bool, float, float]]:
    rng = np.random.default_rng(seed)
    truth = VirtualLab().truth(VirtualLab.random_recipes(24, seed=seed))["capacity_retention_pct"].to_numpy()
    truth = np.clip(truth + rng.normal(0, 3, len(truth)), 30, 95)  # cell-to-cell spread of one recipe
    rows, true_at = [], {}
    for i, value in enumerate(truth):
        full = retention_curve(float(value), 200, seed=seed * 1000 + i)
        seen = full if i < 8 else full.iloc[:cut]
        true_at[f"E{i}"] = float(full["true_retention_pct"].iloc[-1])
        rows.append(pd.DataFrame({"experiment_id": f"E{i}", "cycle": seen["cycle"], "value": seen["retention_pct"]}))
    fade.DISCREPANCY = discrepancy  # the setting under study (module constant)
    predicted = fade.FadeLawPredictor(200).fit(pd.concat(rows)).predict().set_index("experiment_id")
    out = []
    for i in range(8, 24):
        key = f"E{i}"
        mean, sd = float(predicted.loc[key, "mean"]), float(predicted.loc[key, "sd"])
        out.append((abs(mean - true_at[key]) <= Z90 * sd, 2 * Z90 * sd, abs(mean - true_at[key])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--discrepancy", type=float, nargs="*", default=[0.0, 0.1])
    args = parser.parse_args()
    start = time.perf_counter()
    rows = []
    default = fade.DISCREPANCY
    for discrepancy in args.discrepancy:
        for cut in (20, 50, 100):
            results = [r for seed in range(args.seeds) for r in run_seed(seed, cut, discrepancy)]
            inside, width, error = (np.array(col, dtype=float) for col in zip(*results, strict=True))
            rows.append([f"{discrepancy:g}" + (" (default)" if discrepancy == default else ""), cut,
                         f"{inside.mean():.2f}", f"{width.mean():.1f}", f"{error.mean():.2f}", len(inside)])
    fade.DISCREPANCY = default
    text = header("Curve outcomes: calibration of the 200-cycle prediction", runtime_s=time.perf_counter() - start)
    text += ("\nTrue 200-cycle retention inside the predicted 90 % interval (target 0.90), 16 cells per seed "
             f"cut at 20/50/100 cycles, 8 full curves as the population, {args.seeds} seeds.\n\n")
    text += markdown_table(["discrepancy", "cycles seen", "inside 90 % interval", "mean width (points)",
                            "mean abs error (points)", "cells"], rows) + "\n"
    RESULT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
