"""Calibration of the early prediction of a curve outcome's value at cycle 200.

Per seed: 24 recipes drawn at random from the virtual lab, their true 200-cycle retention
from :func:`doe.simulate.expected_outcomes`, one cell each from
:func:`doe.simulate.curves.retention_curve` (0.3 % cycler noise). ``--full`` cells have cycled
to 200 (the campaign's population: 8, or 0 for the first weeks of a campaign, when no cell has
reached it), the other cells are cut at 12, 20, 50 or 100 cycles; the fade law
(:mod:`doe.domain.fade`) predicts their noise-free value at 200, with and without the
outcome's ``valid_range`` [0, 150] (the template's for retention). Reported: the fraction of
true values inside the central 90 % interval (mean +- 1.645 sd), the mean width, the mean
absolute error and, per cell count and cut, the paired Wilcoxon p-value of the per-seed mean
absolute error with the valid range against without; ``--discrepancy`` compares settings of
the model-discrepancy term.

Run: ``python -m benchmarks.bench_curves_calibration --seeds 20``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from benchmarks.common import header, markdown_table
from doe.domain import fade
from doe.simulate import VirtualLab
from doe.simulate.curves import retention_curve

Z90 = 1.6449
RESULT = Path(__file__).parent / "results" / "curves_calibration.md"
VALID_RANGE = (0.0, 150.0)
CUTS = (12, 20, 50, 100)


def run_seed(seed: int, cut: int, discrepancy: float, full: int = 8,
             valid_range: tuple[float, float] | None = None) -> list[tuple[bool, float, float]]:
    rng = np.random.default_rng(seed)
    truth = VirtualLab().truth(VirtualLab.random_recipes(24, seed=seed))["capacity_retention_pct"].to_numpy()
    truth = np.clip(truth + rng.normal(0, 3, len(truth)), 30, 95)  # cell-to-cell spread of one recipe
    rows, true_at = [], {}
    for i, value in enumerate(truth):
        curve = retention_curve(float(value), 200, seed=seed * 1000 + i)
        seen = curve if i < full else curve.iloc[:cut]
        true_at[f"E{i}"] = float(curve["true_retention_pct"].iloc[-1])
        rows.append(pd.DataFrame({"experiment_id": f"E{i}", "cycle": seen["cycle"], "value": seen["retention_pct"]}))
    fade.DISCREPANCY = discrepancy  # the setting under study (module constant)
    predicted = fade.FadeLawPredictor(200, valid_range).fit(pd.concat(rows)).predict().set_index("experiment_id")
    out = []
    for i in range(full, 24):
        key = f"E{i}"
        mean, sd = float(predicted.loc[key, "mean"]), float(predicted.loc[key, "sd"])
        out.append((abs(mean - true_at[key]) <= Z90 * sd, 2 * Z90 * sd, abs(mean - true_at[key])))
    return out


def _row(label: list[object], per_seed: list[list[tuple[bool, float, float]]]) -> list[object]:
    inside, width, error = (np.array(col, dtype=float) for col in zip(*(r for s in per_seed for r in s), strict=True))
    return [*label, f"{inside.mean():.2f}", f"{width.mean():.1f}", f"{error.mean():.2f}", len(inside)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--discrepancy", type=float, nargs="*", default=[0.0, 0.1])
    parser.add_argument("--full", type=int, nargs="*", default=[8, 0])
    args = parser.parse_args()
    start = time.perf_counter()
    default = fade.DISCREPANCY
    ranges = []
    for full in args.full:
        for cut in CUTS:
            runs = {vr: [run_seed(seed, cut, default, full, vr) for seed in range(args.seeds)]
                    for vr in (None, VALID_RANGE)}
            errors = [np.array([np.mean([r[2] for r in s]) for s in runs[vr]]) for vr in (None, VALID_RANGE)]
            p = wilcoxon(*errors).pvalue if np.any(errors[0] != errors[1]) else 1.0
            for vr, per_seed in runs.items():
                shown = "none" if vr is None else f"[{vr[0]:g}, {vr[1]:g}]"
                ranges.append([*_row([full, cut, shown], per_seed), f"{p:.2g}" if vr is not None else ""])
    discrepancies = [_row([f"{d:g}" + (" (default)" if d == default else ""), cut],
                          [run_seed(seed, cut, d) for seed in range(args.seeds)])
                     for d in args.discrepancy for cut in CUTS]
    fade.DISCREPANCY = default
    text = header("Curve outcomes: calibration of the 200-cycle prediction", runtime_s=time.perf_counter() - start)
    text += ("\nTrue 200-cycle retention inside the predicted 90 % interval (target 0.90), 24 cells per seed, "
             f"of which `full` cycled to 200 (the population) and the others are cut at {'/'.join(map(str, CUTS))} "
             f"cycles, {args.seeds} seeds, discrepancy {default:g}. With and without the outcome's valid range; p: "
             "paired Wilcoxon of the per-seed mean absolute error, with the range against without.\n\n")
    text += markdown_table(["full curves", "cycles seen", "valid range", "inside 90 % interval", "mean width (points)",
                            "mean abs error (points)", "cells", "p (vs none)"], ranges) + "\n"
    text += "\nModel-discrepancy setting (8 full curves, no valid range):\n\n"
    text += markdown_table(["discrepancy", "cycles seen", "inside 90 % interval", "mean width (points)",
                            "mean abs error (points)", "cells"], discrepancies) + "\n"
    RESULT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
