"""Set-point search on the virtual coating lab: bring the coating thickness to 5 nm.

Through the real product path: ``doe.Campaign`` on ``":memory:"`` storage with the default
``EngineSettings``, ``suggest(3)`` then ``VirtualLab.run`` then ``record``, 10 rounds = 30
experiments. Config: the template's parameters and one objective,
``coating_thickness_nm`` with ``goal: target``, ``target: 5`` (about 1 % of uniform random
recipes land within 0.5 nm of it; the median random recipe is 18 nm). Random =
``VirtualLab.random_recipes``. Both see ``VirtualLab(seed)`` with the same seed.

Metrics: (1) how many of the 30 recipes truly land within 1 nm of 5 nm (``VirtualLab.truth``,
noise-free), and the true error of the last 15 proposals: does the search concentrate on the
set point; (2) the TRUE thickness error ``|h - 5|`` of the recipe whose MEASURED thickness is
closest to 5 nm so far, per round (the measurement noise of about 1 nm limits this one: the
closest measurement is partly luck). Paired Wilcoxon signed-rank tests, doe vs random.

Usage::

    nice .venv/bin/python -m benchmarks.bench_set_point --seeds 10
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    RESULTS,
    format_duration,
    header,
    markdown_table,
    quartiles,
    single_thread,
)

THICKNESS = "coating_thickness_nm"
TARGET_NM = 5.0
CLOSE_NM = 0.5
OUT = RESULTS / "set_point.md"


def config() -> Any:
    from doe import load_config
    from doe.simulate import VirtualLab

    data = VirtualLab(0).config.to_dict()
    return load_config({"name": "bench-set-point", "parameters": data["parameters"],
                        "objectives": [{"name": THICKNESS, "goal": "target", "target": TARGET_NM, "unit": "nm"}]})


def run_one(method: str, seed: int, rounds: int, batch: int) -> pd.DataFrame:
    """One closed loop; one row per experiment: measured and true thickness."""
    from doe import Campaign
    from doe.simulate import VirtualLab

    cfg = config()
    params = cfg.parameter_names
    lab = VirtualLab(seed)
    design = VirtualLab.random_recipes(rounds * batch, seed=seed) if method == "random" else None
    campaign = None if design is not None else Campaign.from_config(
        cfg.replace(seed=seed), storage=":memory:", actor="benchmark")
    rows = []
    for r in range(rounds):
        t0 = time.perf_counter()
        if campaign is not None:
            recipes = campaign.suggest(batch)
        else:
            assert design is not None
            recipes = design.iloc[r * batch:(r + 1) * batch].reset_index(drop=True)
        seconds = time.perf_counter() - t0
        measured = lab.run(recipes[params])
        truth = lab.truth(recipes[params])
        if campaign is not None:
            table = measured[[THICKNESS, "failed", "failure_reason"]].copy()
            table.insert(0, "experiment_id", recipes["experiment_id"].to_numpy())
            campaign.record(table)
        rows.append(pd.DataFrame({"method": method, "seed": seed, "round": r + 1, "suggest_s": seconds,
                                  "measured": measured[THICKNESS].to_numpy(), "true": truth[THICKNESS].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def closest_true_error(run: pd.DataFrame) -> np.ndarray:
    """After each experiment: the true |h - target| of the measured-closest recipe so far."""
    out = np.full(len(run), np.nan)
    best, err = np.inf, np.nan
    for k, (m, t) in enumerate(zip(run["measured"].to_numpy(), run["true"].to_numpy(), strict=True)):
        if np.isfinite(m) and abs(m - TARGET_NM) < best:
            best, err = abs(m - TARGET_NM), abs(t - TARGET_NM)
        out[k] = err
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=3)
    args = parser.parse_args()
    single_thread()
    from scipy.stats import wilcoxon

    start = time.perf_counter()
    errors: dict[str, list[np.ndarray]] = {"doe": [], "random": []}
    within: dict[str, list[int]] = {"doe": [], "random": []}
    late: dict[str, list[float]] = {"doe": [], "random": []}
    times = []
    for seed in range(args.seeds):
        for method in errors:
            run = run_one(method, seed, args.rounds, args.batch)
            errors[method].append(closest_true_error(run))
            true_error = (run["true"] - TARGET_NM).abs().to_numpy()
            within[method].append(int((true_error <= 1.0).sum()))
            late[method].append(float(np.median(true_error[len(true_error) // 2:])))
            if method == "doe":
                times.extend(run["suggest_s"].iloc[::args.batch].tolist())
        print(f"seed {seed}: final true error doe {errors['doe'][-1][-1]:.3f} nm, "
              f"random {errors['random'][-1][-1]:.3f} nm; within 1 nm doe {within['doe'][-1]}, "
              f"random {within['random'][-1]}; late median error doe {late['doe'][-1]:.2f}, "
              f"random {late['random'][-1]:.2f}", flush=True)
    runtime = time.perf_counter() - start
    b = args.batch
    table_rows = []
    for r in range(1, args.rounds + 1):
        cells: list[Any] = [f"{r} ({r * b})"]
        for method in errors:
            q1, med, q3 = quartiles([e[r * b - 1] for e in errors[method]])
            cells.append(f"{med:.2f} [{q1:.2f}-{q3:.2f}]")
        table_rows.append(cells)

    def reached(e: np.ndarray) -> str:
        hit = np.nonzero(e < CLOSE_NM)[0]
        return str(int(hit[0]) + 1) if len(hit) else "-"

    final = {m: np.array([e[-1] for e in errs]) for m, errs in errors.items()}

    def paired_p(a: Any, b: Any) -> float:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return float(wilcoxon(a, b).pvalue) if len(a) >= 5 and np.any(a != b) else float("nan")

    p = paired_p(final["doe"], final["random"])
    n_total = args.rounds * b
    half = n_total - n_total // 2
    parts = [
        header("Set-point objective on the virtual coating lab (coating thickness to 5 nm)", runtime_s=runtime),
        "",
        f"Config: the template's 9 parameters, one objective `{THICKNESS}` with `goal: target`, `target: "
        f"{TARGET_NM:g}` (no other outcome or constraint). Product path: `Campaign.from_config(..., "
        "storage=':memory:')`, default `EngineSettings()`, `suggest(3)`, `VirtualLab(seed).run`, `record`, "
        f"{args.rounds} rounds. Random: `VirtualLab.random_recipes`. Seeds 0-{args.seeds - 1}.",
        "",
        f"Recipes truly within 1 nm of {TARGET_NM:g} nm, of {n_total}, per seed:",
        "",
        markdown_table(["method", "per seed", "median"], [
            [m, ", ".join(str(v) for v in within[m]), f"{np.median(within[m]):g}"] for m in within]),
        "",
        f"doe more in {sum(d > r for d, r in zip(within['doe'], within['random'], strict=True))}, fewer in "
        f"{sum(d < r for d, r in zip(within['doe'], within['random'], strict=True))} of {args.seeds} seeds; "
        f"paired Wilcoxon p = {paired_p(within['doe'], within['random']):.3g}.",
        "",
        f"Median true error (nm) of the last {half} recipes per seed: doe "
        f"{np.median(late['doe']):.2f} [{', '.join(f'{v:.1f}' for v in late['doe'])}], random "
        f"{np.median(late['random']):.2f} [{', '.join(f'{v:.1f}' for v in late['random'])}]; paired Wilcoxon "
        f"p = {paired_p(late['doe'], late['random']):.3g}.",
        "",
        f"True thickness error |h - {TARGET_NM:g}| (nm) of the recipe measured closest to the target, after each round "
        "(median [25-75 %] over seeds):",
        "",
        markdown_table(["round (experiments)", "doe", "random"], table_rows),
        "",
        f"Experiments until that true error is below {CLOSE_NM} nm ('-' = not within {args.rounds * b}):",
        "",
        markdown_table(["method", "per seed", "reached"], [
            [m, ", ".join(reached(e) for e in errs), f"{sum(reached(e) != '-' for e in errs)} of {len(errs)}"]
            for m, errs in errors.items()]),
        "",
        f"Final true error, median: doe {np.median(final['doe']):.3f} nm, random {np.median(final['random']):.3f} nm; "
        f"doe closer in {int((final['doe'] < final['random']).sum())} of {args.seeds} seeds; paired Wilcoxon "
        f"signed-rank p = {p:.3g}.",
        "",
        f"doe's `suggest(3)` wall time per round: median {np.median(times):.1f} s, max {np.max(times):.1f} s "
        f"(runtime of the whole benchmark: {format_duration(runtime)}).",
        "",
    ]
    OUT.write_text("\n".join(parts), encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
