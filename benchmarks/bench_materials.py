"""doe on five public materials datasets, with the protocol of Liang et al. (2021).

Data: ``/work/shared/benchmarks/materials/PV-Lab_Benchmarking/datasets/*.csv`` (see that
folder's README.md). The pool of each dataset is its unique x, with y = the mean of the unique
y values at that x. Each campaign starts from 2 random pool points (the same two for both
algorithms in a seed) and then takes one pool point per cycle.

Algorithms:
    doe: ``doe.engine.propose(config, experiments, 1, candidates=remaining_pool)`` with the
        default ``EngineSettings`` except ``initial_design_size=2`` (so the model picks from
        cycle 3, as in the protocol). The config has one continuous parameter per input with
        the pool's min-max bounds and the objective with its goal. ``propose`` is called
        directly (not ``Campaign.suggest``) to skip the storage round trips.
    doe:NAME: doe with the ``EngineSettings`` changes of ``DOE_VARIANTS[NAME]`` (evidence for
        the engine's defaults; reported beside doe, outside the target's verdict).
    gp_ard_lcb: BoTorch ``SingleTaskGP`` with a Matern-5/2 ARD kernel (``ScaleKernel``) on
        min-max-scaled inputs and standardised y (maximised objectives negated), fitted by
        ``fit_gpytorch_mll``; picks argmin of mean - 2 sd over the remaining pool.
    gp_ard_lcb:oracle: the same GP given what no campaign knows: hyperparameters fitted once
        on the whole pool and frozen, y standardised with the whole pool's mean and sd, LCB
        ratio 1. An upper reference for what this GP could do, outside the verdict.

Metrics (README definitions): targets = top 5 % of the pool (n_top = ceil(0.05 N));
Top%(i) = fraction of targets found after i evaluations (the 2 starting points count);
random baseline i/N; EF(i) = Top%(i) / (i/N); AF(a) = (a N) / i_alg(a), i_alg(a) = first
cycle where the aggregated Top% (rounded to 0.005) reaches a. Aggregation: the runs are
split 100 times (seeds 0..99) into 5 folds, each fold averaged, and the median of the
500 fold curves is taken. A run stops when all targets are found (its curve stays at 1) or
at the dataset's cycle cap.

Usage::

    .venv/bin/python -m benchmarks.bench_materials --seeds 50 --cap 150
    .venv/bin/python -m benchmarks.bench_materials --report-only
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import (
    MATERIALS_DATA,
    RESULTS,
    fmt,
    format_duration,
    header,
    markdown_table,
    progress_logger,
    single_thread,
    write_result,
)

DATA_DIR = MATERIALS_DATA / "PV-Lab_Benchmarking" / "datasets"
DATASETS: dict[str, tuple[str, str]] = {
    "Crossed barrel": ("Crossed barrel_dataset.csv", "maximize"),
    "P3HT": ("P3HT_dataset.csv", "maximize"),
    "AgNP": ("AgNP_dataset.csv", "minimize"),
    "Perovskite": ("Perovskite_dataset.csv", "minimize"),
    "AutoAM": ("AutoAM_dataset.csv", "maximize"),
}
ALGORITHMS = ("doe", "gp_ard_lcb")
DOE_VARIANTS: dict[str, dict[str, Any]] = {
    "botorch_lengthscale_prior": {"lengthscale_prior": (math.sqrt(2.0), math.sqrt(3.0))},
    "no_alternating_best_guess": {"best_guess": False},
    "matern52": {"kernel": "matern52"},
    "loose_ard": {"lengthscale_prior": (-1.4, 1.0)},
    "long_prior": {"lengthscale_prior": (-1.0, 0.55)},
    "wide_noise": {"noise_prior": (-4.0, 2.0)},
}
"""``EngineSettings`` changes run as ``--algorithms doe:NAME``."""
GP_VARIANTS: dict[str, str] = {
    "oracle": "hyperparameters fitted once on the whole pool and frozen, y standardised with the whole "
              "pool's mean and sd, LCB ratio 1: knowledge no real campaign has (an upper reference)",
}
"""Reference variants run as ``--algorithms gp_ard_lcb:NAME``."""
EXTERNAL_RUNS: dict[str, str] = {
    "gp_ard_lcb:study_gpy": "the study's own GP protocol re-run with GPy by `benchmarks/peers/study_gpy_lcb.py` "
                            "(Matern-5/2 ARD + Bias kernel, noise variance from 0.01, 10 restarts, x and y "
                            "standardised over the whole pool, largest -mean + 1 sd; a fresh kernel per "
                            "campaign, the same starting points)",
}
"""Runs written into the work dir by other scripts (other venvs), reported beside doe."""
LEVELS = (0.5, 0.8, 1.0)
N_INITIAL = 2
N_FOLDS = 5
N_SPLITS = 100
LCB_RATIO = 2.0
OUT = RESULTS / "materials.md"
RAW = RESULTS / "raw" / "materials_runs.csv"

# Reference figures from the data folder's README (Liang et al. 2021 repository).
REFERENCE_CB = {"cycles": (23, 34, 51), "af": (13.0, 14.1, 11.8)}
"""Crossed barrel, GP ARD Matern52 + LCB, recomputed from the repo's stored results."""
EARLY_DRAFT = {  # cycles to Top% 0.8, EF max, AF max (algorithm not named; not the published figures)
    "Crossed barrel": (35, 15.7, 15.1),
    "P3HT": (35, 4.0, 4.1),
    "AgNP": (20, 4.1, 4.2),
    "AutoAM": (25, 2.7, 2.5),
    "Perovskite": (30, 1.8, 1.7),
}


# --------------------------------------------------------------------- data
@dataclass(frozen=True)
class Pool:
    name: str
    X: pd.DataFrame  # (N, d) engineer units, identifier column names
    y: np.ndarray  # (N,) original units
    goal: str
    objective: str
    targets: frozenset[int]  # pool indices of the top 5 %

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def n_top(self) -> int:
        return len(self.targets)

    @property
    def y_min(self) -> np.ndarray:
        """Objective as a minimisation (maximised objectives negated)."""
        return -self.y if self.goal == "maximize" else self.y


def identifier(text: str) -> str:
    name = re.sub(r"\(.*?\)", "", text).strip().lower()
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    if not name or not name[0].isalpha():
        name = "x_" + name
    return name[:64]


def load_pool(name: str) -> Pool:
    file, goal = DATASETS[name]
    raw = pd.read_csv(DATA_DIR / file, encoding="utf-8-sig")  # Perovskite's header has a BOM
    inputs, objective = list(raw.columns[:-1]), raw.columns[-1]
    grouped = raw.groupby(inputs, sort=True)[objective].agg(lambda v: v.unique().mean()).reset_index()
    X = grouped[inputs].astype(float)
    X.columns = [identifier(c) for c in inputs]
    if len(set(X.columns)) != len(X.columns):
        raise ValueError(f"{name}: input names collide after cleaning: {list(X.columns)}")
    y = grouped[objective].to_numpy(dtype=float)
    n_top = math.ceil(0.05 * len(y))
    y_min = -y if goal == "maximize" else y
    targets = frozenset(int(i) for i in np.argsort(y_min, kind="stable")[:n_top])
    return Pool(name, X.reset_index(drop=True), y, goal, identifier(objective), targets)


def doe_config(pool: Pool, seed: int) -> Any:
    from doe import load_config

    params = []
    for col in pool.X.columns:
        lo, hi = float(pool.X[col].min()), float(pool.X[col].max())
        params.append({"name": col, "type": "continuous", "bounds": [lo, hi]})
    return load_config({
        "name": "bench_" + identifier(pool.name),
        "parameters": params,
        "objectives": [{"name": pool.objective, "goal": pool.goal}],
        "seed": seed,
    })


# --------------------------------------------------------------------- algorithms
class DoePicker:
    """doe's engine on the remaining pool (``propose(..., candidates=...)``)."""

    def __init__(self, pool: Pool, seed: int, variant: str | None = None) -> None:
        from doe.engine import EngineSettings

        self.pool = pool
        self.seed = seed
        self.config = doe_config(pool, seed)
        changes = DOE_VARIANTS[variant] if variant else {}
        self.settings = EngineSettings(device="cpu", initial_design_size=N_INITIAL, **changes)
        lo = pool.X.min().to_numpy()
        span = np.where(pool.X.max().to_numpy() > lo, pool.X.max().to_numpy() - lo, 1.0)
        self._scaled = (pool.X.to_numpy() - lo) / span
        self._lo, self._span = lo, span

    def pick(self, evaluated: list[int], remaining: np.ndarray, cycle: int) -> int:
        from doe.engine import propose

        experiments = self.pool.X.iloc[evaluated].reset_index(drop=True)
        experiments[self.pool.objective] = self.pool.y[evaluated]
        experiments["failed"] = False
        candidates = self.pool.X.iloc[remaining].reset_index(drop=True)
        proposal = propose(self.config, experiments, 1, candidates=candidates,
                           seed=self.seed * 10_007 + cycle, settings=self.settings)
        chosen = proposal.recipes[list(self.pool.X.columns)].to_numpy(dtype=float)[0]
        # the recipe comes back through the encoding: map it to the nearest remaining pool row
        distance = np.abs(self._scaled[remaining] - (chosen - self._lo) / self._span).sum(axis=1)
        return int(remaining[int(np.argmin(distance))])


class GpArdLcbPicker:
    """SingleTaskGP, Matern-5/2 ARD, LCB with ratio 2, over the remaining pool."""

    def __init__(self, pool: Pool, seed: int, variant: str | None = None) -> None:
        import torch

        self.pool = pool
        self.seed = seed
        X = pool.X.to_numpy(dtype=float)
        lo, hi = X.min(axis=0), X.max(axis=0)
        self.X = torch.as_tensor((X - lo) / np.where(hi > lo, hi - lo, 1.0), dtype=torch.float64)
        self._hyperparameters: dict[str, Any] | None = None
        self.fit_failures = 0
        self.oracle = variant == "oracle"
        self.lcb_ratio = 1.0 if self.oracle else LCB_RATIO
        if self.oracle:
            self._hyperparameters = _whole_pool_hyperparameters(pool, self.X)

    def _standardise(self, y: np.ndarray) -> np.ndarray:
        reference = self.pool.y_min if self.oracle else y
        sd = reference.std()
        return (y - reference.mean()) / (sd if sd > 0 else 1.0)

    def pick(self, evaluated: list[int], remaining: np.ndarray, cycle: int) -> int:
        import warnings

        import torch
        from botorch.exceptions.errors import ModelFittingError
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from gpytorch.kernels import MaternKernel, ScaleKernel
        from gpytorch.mlls import ExactMarginalLogLikelihood

        y_std = self._standardise(self.pool.y_min[evaluated])
        train_X = self.X[evaluated]
        train_Y = torch.as_tensor(y_std, dtype=torch.float64).unsqueeze(-1)
        torch.manual_seed(self.seed * 10_007 + cycle)
        kernel = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=train_X.shape[-1]))
        model = SingleTaskGP(train_X, train_Y, covar_module=kernel, outcome_transform=None)
        if self._hyperparameters is not None:
            # warm start from the previous cycle's fit: a cold botorch fit on 2 cores takes
            # 1-4 s (it retries from random starts when L-BFGS stops abnormally), 0.1 s warm
            model.load_state_dict(self._hyperparameters, strict=False)
        if self.oracle:  # frozen whole-pool hyperparameters: no fit
            return self._lcb_pick(model, remaining)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit_gpytorch_mll(mll)
            except ModelFittingError:
                # every botorch attempt failed (rare, small noisy data): keep the previous
                # cycle's hyperparameters (or the defaults) rather than abort the run
                model.load_state_dict(self._hyperparameters or {}, strict=False)
                self.fit_failures += 1
        self._hyperparameters = _hyperparameters_of(model)
        return self._lcb_pick(model, remaining)

    def _lcb_pick(self, model: Any, remaining: np.ndarray) -> int:
        import torch

        model.eval()
        with torch.no_grad():
            posterior = model.posterior(self.X[remaining])
            mean = posterior.mean.squeeze(-1)
            sd_f = posterior.variance.clamp_min(0).sqrt().squeeze(-1)
        lcb = (mean - self.lcb_ratio * sd_f).numpy()
        return int(remaining[int(np.argmin(lcb))])


def _hyperparameters_of(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "raw_" in k}


def _whole_pool_hyperparameters(pool: Pool, X: Any) -> dict[str, Any]:
    """The oracle's hyperparameters: one fit on every point of the pool."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import MaternKernel, ScaleKernel
    from gpytorch.mlls import ExactMarginalLogLikelihood

    y = pool.y_min
    train_Y = torch.as_tensor((y - y.mean()) / y.std(), dtype=torch.float64).unsqueeze(-1)
    torch.manual_seed(0)
    model = SingleTaskGP(X, train_Y, covar_module=ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=X.shape[-1])),
                         outcome_transform=None)
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return _hyperparameters_of(model)


PICKERS = {"doe": DoePicker, "gp_ard_lcb": GpArdLcbPicker}


def run_campaign(pool: Pool, algorithm: str, seed: int, cap: int) -> list[int]:
    """Pool indices in evaluation order: 2 random starts, then one pick per cycle, until
    every target is found or ``cap`` points are evaluated."""
    rng = np.random.default_rng(seed)
    evaluated = [int(i) for i in rng.choice(pool.n, N_INITIAL, replace=False)]
    base, _, variant = algorithm.partition(":")
    picker = PICKERS[base](pool, seed, variant) if variant else PICKERS[base](pool, seed)
    found = len(pool.targets.intersection(evaluated))
    while len(evaluated) < cap and found < pool.n_top:
        mask = np.ones(pool.n, dtype=bool)
        mask[evaluated] = False
        choice = picker.pick(evaluated, np.flatnonzero(mask), len(evaluated) + 1)
        evaluated.append(choice)
        found += choice in pool.targets
    return evaluated


# --------------------------------------------------------------------- metrics
def top_curve(pool: Pool, order: list[int], cap: int) -> np.ndarray:
    """Top%(i) for i = 1..cap (index i-1); after the last target it stays at 1."""
    hits = np.array([i in pool.targets for i in order], dtype=float)
    curve = np.cumsum(hits) / pool.n_top
    if len(curve) < cap:
        if curve[-1] < 1.0:
            raise ValueError("a run that stopped before the cap must have found every target")
        curve = np.concatenate([curve, np.ones(cap - len(curve))])
    return curve[:cap]


def fold_curves(curves: np.ndarray, n_splits: int = N_SPLITS, n_folds: int = N_FOLDS) -> np.ndarray:
    """The README's aggregation: ``n_splits`` seeded shuffles of the runs into ``n_folds``
    folds of ``len(curves) // n_folds`` runs, each fold averaged: (n_splits * n_folds, cycles)."""
    runs = len(curves)
    size = runs // n_folds
    if size < 1:
        raise ValueError(f"need at least {n_folds} runs for {n_folds} folds, got {runs}")
    out = []
    for split in range(n_splits):
        perm = np.random.default_rng(split).permutation(runs)[: size * n_folds]
        out.append(curves[perm].reshape(n_folds, size, -1).mean(axis=1))
    return np.concatenate(out)


def cycles_to(curve: np.ndarray, level: float) -> float:
    """First cycle (1-based) at which ``curve`` rounded to 0.005 reaches ``level``; inf if never."""
    rounded = np.round(curve / 0.005) * 0.005
    hit = np.flatnonzero(rounded >= level - 1e-9)
    return float(hit[0] + 1) if hit.size else math.inf


@dataclass
class Summary:
    runs: int
    median: np.ndarray
    p5: np.ndarray
    p95: np.ndarray
    cycles: dict[float, float]
    af: dict[float, float]
    ef: np.ndarray


def summarise(pool: Pool, orders: list[list[int]], cap: int) -> Summary:
    curves = np.array([top_curve(pool, o, cap) for o in orders])
    # with fewer than 5 runs there are fewer folds (of one run each): the median of the runs
    folded = fold_curves(curves, n_folds=min(N_FOLDS, len(curves)))
    median = np.median(folded, axis=0)
    cycles = {a: cycles_to(median, a) for a in LEVELS}
    af = {a: (a * pool.n / cycles[a]) if math.isfinite(cycles[a]) else math.nan for a in LEVELS}
    i = np.arange(1, cap + 1)
    return Summary(len(orders), median, np.percentile(folded, 5, axis=0), np.percentile(folded, 95, axis=0),
                   cycles, af, median / (i / pool.n))


# --------------------------------------------------------------------- storage of runs
def load_runs(path: Path, work_dir: Path | None) -> pd.DataFrame:
    frames = []
    if path.exists():
        frames.append(pd.read_csv(path, dtype={"order": str}))
    if work_dir is not None and work_dir.exists():
        rows = [json.loads(p.read_text()) for p in sorted(work_dir.glob("*.json"))]
        if rows:
            frames.append(pd.DataFrame(rows))
    if not frames:
        return pd.DataFrame(columns=["dataset", "algorithm", "seed", "cap", "seconds", "order"])
    runs = pd.concat(frames, ignore_index=True)
    return runs.drop_duplicates(["dataset", "algorithm", "seed"], keep="last").sort_values(
        ["dataset", "algorithm", "seed"]).reset_index(drop=True)


def run_file(work_dir: Path, dataset: str, algorithm: str, seed: int) -> Path:
    return work_dir / f"{identifier(dataset)}__{algorithm.replace(':', '-')}__{seed:03d}.json"


# --------------------------------------------------------------------- report
def report(runs: pd.DataFrame, caps: dict[str, int], meta: dict[str, Any]) -> str:
    parts = [header("Materials benchmarks (Liang et al. 2021 protocol)", command=meta.get("command"),
                    runtime_s=meta.get("runtime_s"))]
    parts.append(
        "\nPool-based: each dataset's pool is its unique x (y = mean of the unique y values there); 2 random "
        "starting points (the same for both algorithms in a seed), then one pool point per cycle. Targets = "
        "top 5 % of the pool (n_top = ceil(0.05 N)). Top%(i) counts the 2 starting points. Aggregation: the runs "
        f"are split {N_SPLITS} times into {N_FOLDS} folds, each fold averaged, median of the "
        f"{N_SPLITS * N_FOLDS} curves (rounded to 0.005 for the cycles to a level). Random baseline i/N; "
        "AF(a) = (a N) / cycles_alg(a); EF(i) = Top%(i) / (i/N). With fewer than 5 runs the folds hold one "
        "run each, so the curve is the pointwise median of the runs (see the runs column).\n\n"
        "- **doe**: `doe.engine.propose(config, experiments, 1, candidates=remaining_pool)` (the engine "
        "directly, not `Campaign.suggest`, to skip storage round trips), default `EngineSettings` except "
        "`initial_design_size=2` so the model picks from cycle 3; one continuous parameter per input with the "
        "pool's min-max bounds. Batches of one: qLogNEI, and every second pick the model's best guess "
        "(highest predicted mean among the remaining pool).\n"
        "- **doe:NAME** rows: doe with one setting changed (`DOE_VARIANTS` in the script: "
        + "; ".join(f"`{k}` = `{v}`" for k, v in DOE_VARIANTS.items())
        + "), the evidence for the defaults; outside the target's verdict.\n"
        "- **GP-ARD + LCB** (reference in this benchmark): BoTorch `SingleTaskGP`, `ScaleKernel(Matern-5/2 ARD)`, "
        "min-max-scaled inputs, standardised y (maximised objectives negated), `fit_gpytorch_mll` warm-started "
        "from the previous cycle's hyperparameters (botorch's own retries on a failed fit; the study's GPy fit used 10 restarts and a Bias kernel), argmin of mean - 2 sd over the "
        "remaining pool.\n"
        "- **gp_ard_lcb:NAME** rows, outside the verdict: "
        + "; ".join(f"`gp_ard_lcb:{k}`: the reference with {v}" for k, v in GP_VARIANTS.items())
        + "; " + "; ".join(f"`{k}`: {v}" for k, v in EXTERNAL_RUNS.items()) + ".\n"
        "- **Compute budget**: a run stops once every target is found; cycles are capped per dataset (below). "
        "A level that the median curve does not reach within the cap is 'not reached'; AF is given only where "
        "the level is reached. Random's cycle for level a is a N.\n"
    )
    summaries: dict[tuple[str, str], Summary] = {}
    pools = {name: load_pool(name) for name in DATASETS}
    rows = []
    for name, pool in pools.items():
        cap = caps[name]
        variants = sorted(a for a in runs["algorithm"].unique() if ":" in a)
        for algorithm in (*ALGORITHMS, *variants):
            sub = runs[(runs["dataset"] == name) & (runs["algorithm"] == algorithm)]
            sub = sub[sub["cap"].astype(int) == cap]
            if len(sub) == 0:
                continue
            orders = [[int(v) for v in str(o).split()] for o in sub["order"]]
            s = summarise(pool, orders, cap)
            summaries[(name, algorithm)] = s
            ef_at = {i: s.ef[i - 1] if i <= cap else math.nan for i in (10, 25, 50)}
            k = int(np.argmax(s.ef))
            rows.append([
                name, pool.n, pool.n_top, cap, algorithm, s.runs,
                " / ".join(fmt(s.cycles[a], 0) for a in LEVELS),
                " / ".join(fmt(s.af[a], 1) if math.isfinite(s.cycles[a]) else "-" for a in LEVELS),
                " / ".join(fmt(ef_at[i], 1) for i in (10, 25, 50)),
                f"{s.ef[k]:.1f} ({k + 1})",
                f"{np.median(sub['seconds'].astype(float)):.1f}",
            ])
        random_cycles = " / ".join(f"{a * pool.n:g}" for a in LEVELS)
        rows.append([name, pool.n, pool.n_top, "-", "random (analytic)", "-", random_cycles, "1 / 1 / 1",
                     "1 / 1 / 1", "1", "-"])
    parts.append("\n## Results\n\n")
    parts.append(markdown_table(
        ["dataset", "N", "n_top", "cycle cap", "algorithm", "runs",
         "cycles to Top% 0.5 / 0.8 / 1.0", "AF at 0.5 / 0.8 / 1.0", "EF at 10 / 25 / 50", "EF max (cycle)",
         "median s per run"], rows))

    parts.append("\n## Against the reference figures\n\n")
    ref_rows = []
    for name in DATASETS:
        d = summaries.get((name, "doe"))
        g = summaries.get((name, "gp_ard_lcb"))
        o = summaries.get((name, "gp_ard_lcb:oracle"))
        study = summaries.get((name, "gp_ard_lcb:study_gpy"))
        draft = EARLY_DRAFT[name]
        ref_cycles = (" / ".join(map(str, REFERENCE_CB["cycles"])) if name == "Crossed barrel" else "-")
        ref_af = (" / ".join(map(str, REFERENCE_CB["af"])) if name == "Crossed barrel" else "-")
        ref_rows.append([
            name,
            " / ".join(fmt(d.cycles[a], 0) for a in LEVELS) if d else "not run",
            " / ".join(fmt(g.cycles[a], 0) for a in LEVELS) if g else "not run",
            " / ".join(fmt(o.cycles[a], 0) for a in LEVELS) if o else "not run",
            (" / ".join(fmt(study.cycles[a], 0) for a in LEVELS) + f" ({study.runs} runs)") if study else "not run",
            ref_cycles, str(draft[0]),
            " / ".join(fmt(d.af[a], 1) for a in LEVELS) if d else "not run",
            " / ".join(fmt(g.af[a], 1) for a in LEVELS) if g else "not run",
            ref_af, f"{draft[2]}",
        ])
    parts.append(markdown_table(
        ["dataset", "doe cycles 0.5/0.8/1.0", "GP-ARD+LCB (here) cycles", "GP-ARD+LCB oracle cycles",
         "study's GPy protocol re-run, cycles",
         "README GP-ARD+LCB cycles",
         "early draft cycles to 0.8", "doe AF 0.5/0.8/1.0", "GP-ARD+LCB (here) AF", "README GP-ARD+LCB AF",
         "early draft AF max"], ref_rows))
    parts.append(
        "\nREADME figures: Crossed barrel GP ARD Matern52 + LCB recomputed from the study repository's stored "
        "runs (50 runs); the early-draft column is from a deleted notebook (algorithm not named), not the "
        "published article. The README's reference result file is named `..._LCB1.npy`, which suggests an "
        "LCB ratio of 1 there, while the reference here uses ratio 2 as the study's notebooks describe; it "
        "also differs in the GP library (GPy with a Bias kernel, 10 restarts, standardised inputs). The oracle "
        "column gives the same GP what no campaign knows (hyperparameters fitted on the whole pool, the pool's "
        "own y scale, ratio 1), and the GPy column re-runs the study's own protocol: where both stay far from the "
        "README figure, that figure is out of reach of this kind of model on these pools, and the study's framework differs in ways a campaign cannot copy (its "
        "notebooks build the GPy kernel once, before the loop over campaigns, so one campaign's fitted "
        "hyperparameters can seed the next). Compare doe against the GP-ARD+LCB run here (same pools, seeds and starting points) for "
        "the target.\n"
    )

    parts.append("\n## Target: doe's AF at least equal to the GP-ARD reference on every dataset\n\n")
    verdict_rows = []
    all_met = True
    judged = 0
    for name in DATASETS:
        d = summaries.get((name, "doe"))
        g = summaries.get((name, "gp_ard_lcb"))
        if d is None or g is None:
            verdict_rows.append([name, "not run", "-"])
            all_met = False
            continue
        judged += 1
        cells = []
        met = True
        for a in LEVELS:
            if math.isfinite(d.cycles[a]) and math.isfinite(g.cycles[a]):
                ok = d.af[a] >= g.af[a] - 1e-9
                cells.append(f"{a}: {d.af[a]:.1f} vs {g.af[a]:.1f} {'ok' if ok else 'below'}")
            elif math.isfinite(d.cycles[a]):
                ok = True
                cells.append(f"{a}: doe reaches it, GP-ARD not within the cap")
            elif math.isfinite(g.cycles[a]):
                ok = False
                cells.append(f"{a}: GP-ARD reaches it, doe not within the cap")
            else:
                ok = True
                cells.append(f"{a}: neither within the cap (no verdict)")
            met &= ok
        all_met &= met
        verdict_rows.append([name, "; ".join(cells), "met" if met else "not met"])
    parts.append(markdown_table(["dataset", "AF doe vs GP-ARD+LCB", "verdict"], verdict_rows))
    overall = "not evaluated (the reference did not run)" if not judged else "met" if all_met else "not met"
    parts.append(f"\nOverall: **{overall}**.\n")

    parts.append("\n## Median Top% curves (fold-aggregated), selected cycles\n\n")
    curve_rows = []
    for (name, algorithm), s in summaries.items():
        cap = caps[name]
        picks = [i for i in (5, 10, 20, 30, 40, 50, 75, 100, 150) if i <= cap]
        curve_rows.append([name, algorithm, " ".join(f"{i}:{s.median[i - 1]:.2f}" for i in picks)])
    parts.append(markdown_table(["dataset", "algorithm", "cycle:Top% (median of fold means)"], curve_rows))
    total = runs["seconds"].astype(float).sum() if len(runs) else 0.0
    parts.append(f"\nCompute: {len(runs)} runs, {format_duration(total)} of single-thread time in all. "
                 "Raw evaluation orders (pool indices after grouping by x, sorted): "
                 f"`benchmarks/results/raw/{meta.get('raw_name', RAW.name)}`.\n")
    return "".join(parts)


def mean_top(pool: Pool, order: str, cap: int) -> float:
    """The Top% curve of one run averaged over the capped cycles (the area under it)."""
    return float(top_curve(pool, [int(i) for i in order.split()], cap).mean())


def paired_row(label: str, here: pd.Series, there: pd.Series, pools: dict[str, Pool], caps: dict[str, int],
               keys: list[tuple[str, int]]) -> list[str]:
    """One table row: ``here`` against ``there`` (evaluation orders indexed by (dataset, seed)) over
    ``keys``: identical orders, median mean Top%, mean difference, seeds better / worse, Wilcoxon p."""
    from scipy.stats import wilcoxon

    pairs = [(str(here[k]), str(there[k])) for k in keys]
    auc = np.array([[mean_top(pools[k[0]], o, caps[k[0]]) for o in pair] for k, pair in zip(keys, pairs, strict=True)])
    diff = auc[:, 0] - auc[:, 1]
    p = float(wilcoxon(auc[:, 0], auc[:, 1]).pvalue) if (diff != 0).any() else 1.0
    return [label, str(len(keys)), f"{sum(a == b for a, b in pairs)} of {len(keys)}",
            f"{np.median(auc[:, 0]):.3f} / {np.median(auc[:, 1]):.3f}",
            f"{diff.mean():+.4f}; {int((diff > 0).sum())} / {int((diff < 0).sum())}; p = {p:.3g}"]


def _orders(runs: pd.DataFrame, algorithm: str, caps: dict[str, int]) -> pd.Series:
    rows = runs[(runs["algorithm"] == algorithm) & (runs["cap"] == runs["dataset"].map(caps))]
    return pd.Series(list(rows["order"]), index=pd.MultiIndex.from_arrays([rows["dataset"], rows["seed"].astype(int)]))


def _paired_table(here: pd.Series, there: pd.Series, caps: dict[str, int], first: str) -> str:
    keys = sorted(set(here.index) & set(there.index))
    names = sorted({k[0] for k in keys})
    pools = {name: load_pool(name) for name in names}
    rows = [paired_row(name, here, there, pools, caps, [k for k in keys if k[0] == name]) for name in names]
    if len(names) > 1:
        rows.append(paired_row("all of them", here, there, pools, caps, keys))
    return markdown_table([first, "runs", "identical evaluation orders", "mean Top%: median here / there",
                           "difference"], rows)


def paired_section(runs: pd.DataFrame, other: pd.DataFrame, caps: dict[str, int], label: str) -> str:
    """doe's runs here against the doe runs of ``other`` (another version's raw runs), paired by
    dataset and seed: identical evaluation orders, and the mean Top% over the capped cycles
    (the area under the Top% curve) compared seed by seed (Wilcoxon signed-rank)."""
    here, there = _orders(runs, "doe", caps), _orders(other, "doe", caps)
    if not set(here.index) & set(there.index):
        return ""
    return "\n".join([
        f"\n## Paired with {label}\n",
        "doe (default settings) here against the doe runs of that version, the same pools, seeds and "
        "starting points. Mean Top% = the Top% curve averaged over the capped cycles (higher: targets "
        "found sooner); difference = here minus there: mean; seeds better / worse; Wilcoxon signed-rank p.\n",
        _paired_table(here, there, caps, "dataset"),
        "",
    ])


def variants_section(runs: pd.DataFrame, caps: dict[str, int]) -> str:
    """Each ``doe:NAME`` against the default ``doe`` of the same runs, paired by dataset and seed."""
    base = _orders(runs, "doe", caps)
    parts = []
    for algorithm in sorted(a for a in set(runs["algorithm"]) if a.startswith("doe:")):
        here = _orders(runs, algorithm, caps)
        if set(here.index) & set(base.index):
            parts += [f"\n### {algorithm} against doe\n", _paired_table(here, base, caps, "dataset")]
    if not parts:
        return ""
    return "\n".join([
        "\n## Variants against the default, seed by seed\n",
        "Mean Top% = the Top% curve averaged over the capped cycles (higher: targets found sooner); "
        "difference = variant minus doe: mean; seeds better / worse; Wilcoxon signed-rank p ('all of them' "
        "pools the datasets' pairs).",
        *parts,
        "",
    ])


def default_caps(cap: int) -> dict[str, int]:
    return {name: min(cap, load_pool(name).n) for name in DATASETS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--seed-step", type=int, default=1, help="run seeds first, first+step, ... (to share work "
                        "between processes)")
    parser.add_argument("--cap", type=int, default=150, help="cycle cap per run (N when the pool is smaller)")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS))
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/doe-bench-materials"),
                        help="one JSON file per finished run (resumable)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--raw", type=Path, default=RAW)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--command", default=None, help="command line to print in the results")
    parser.add_argument("--paired-with", type=Path, default=None,
                        help="another version's raw runs (CSV): doe's runs are compared with its doe runs seed by seed")
    parser.add_argument("--paired-label", default=None, help="how the report names --paired-with's version")
    args = parser.parse_args(argv)
    for algorithm in args.algorithms.split(","):
        base, _, variant = algorithm.strip().partition(":")
        allowed = {"doe": DOE_VARIANTS, "gp_ard_lcb": GP_VARIANTS}.get(base, {})
        if base not in ALGORITHMS or (variant and variant not in allowed):
            parser.error(f"--algorithms: unknown {algorithm.strip()!r}; choose from {list(ALGORITHMS)}, "
                         f"doe:NAME with NAME in {list(DOE_VARIANTS)} or gp_ard_lcb:NAME with NAME in "
                         f"{list(GP_VARIANTS)}")

    single_thread()
    log = progress_logger("materials", args.log)
    caps = default_caps(args.cap)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    start = time.perf_counter()
    if not args.report_only:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        pools = {name: load_pool(name) for name in names}
        done = load_runs(args.raw, None)
        finished = {(d, a, int(s)) for d, a, s, c in zip(done["dataset"], done["algorithm"], done["seed"],
                                                           done["cap"], strict=True) if int(c) == caps[d]}
        out_of_time = False
        for seed in range(args.first_seed, args.first_seed + args.seeds * args.seed_step, args.seed_step):
            for name in names:
                for algorithm in algorithms:
                    if out_of_time:
                        break
                    path = run_file(args.work_dir, name, algorithm, seed)
                    if path.exists() or (name, algorithm, seed) in finished:
                        continue  # resume: this run is on disk already
                    if args.max_minutes is not None and time.perf_counter() - start > 60 * args.max_minutes:
                        log.info("time budget reached; stopping before %s %s seed %d", name, algorithm, seed)
                        out_of_time = True
                        break
                    t0 = time.perf_counter()
                    order = run_campaign(pools[name], algorithm, seed, caps[name])
                    seconds = time.perf_counter() - t0
                    found = len(pools[name].targets.intersection(order))
                    path.write_text(json.dumps({"dataset": name, "algorithm": algorithm, "seed": seed,
                                                "cap": caps[name], "seconds": round(seconds, 2),
                                                "order": " ".join(map(str, order))}))
                    log.info("%s %s seed %d: %d/%d targets in %d evaluations, %.1f s", name, algorithm, seed,
                             found, pools[name].n_top, len(order), seconds)
    runs = load_runs(args.raw, args.work_dir)
    if len(runs):
        args.raw.parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(args.raw, index=False)
    meta = {"command": args.command, "runtime_s": None if args.report_only else time.perf_counter() - start,
            "raw_name": args.raw.name}
    text = report(runs, caps, meta) + variants_section(runs, caps)
    if args.paired_with is not None:
        text += paired_section(runs, pd.read_csv(args.paired_with), caps, args.paired_label or str(args.paired_with))
    write_result(args.out, text)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
