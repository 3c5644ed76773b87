"""The materials study's own GP-ARD + LCB, re-run with GPy on one pool (our code, their protocol).

Liang et al. (2021) describe their best GP as GPy's ``GPRegression`` with a Matern-5/2 ARD
kernel plus a Bias kernel, noise variance started at 0.01, ``optimize_restarts`` with 10
restarts, on inputs and y standardised over the whole pool, picking the largest
``-mean + ratio * sd`` among the remaining pool points (the reference result file is named
``..._LCB1``: ratio 1). This script runs that protocol with a fresh kernel per campaign, from
the same two starting points as ``bench_materials.py`` (``numpy.random.default_rng(seed)``),
and writes one JSON file per campaign in ``bench_materials.py``'s work-dir format, as algorithm
``gp_ard_lcb:study_gpy``; ``bench_materials.py --report-only`` then puts it beside doe.

Runs in any venv with GPy, numpy and pandas (GPy is in the ``bench`` extra); it imports
``bench_materials`` for the pools but not doe. Example::

    .venv-bench/bin/python -m benchmarks.peers.study_gpy_lcb --seeds 10 --cap 100
    .venv/bin/python -m benchmarks.bench_materials --report-only --cap 100
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

# bench_materials imports numpy and pandas only at the top, never doe
from benchmarks.bench_materials import DATASETS, load_pool, run_file

ALGORITHM = "gp_ard_lcb:study_gpy"


def load(name: str) -> tuple[np.ndarray, np.ndarray, frozenset[int]]:
    """bench_materials' pool (minimised), with x and y standardised over the whole pool."""
    pool = load_pool(name)
    X = pool.X.to_numpy(dtype=float)
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    y = pool.y_min
    return X, (y - y.mean()) / y.std(), pool.targets


def campaign(X: np.ndarray, y: np.ndarray, seed: int, cap: int, ratio: float) -> list[int]:
    import GPy

    rng = np.random.default_rng(seed)
    evaluated = [int(i) for i in rng.choice(len(y), 2, replace=False)]
    np.random.seed(seed)  # GPy's restarts draw from numpy's global generator
    d = X.shape[1]

    def fresh_kernel() -> object:
        return GPy.kern.Matern52(d, variance=1.0, ARD=True) + GPy.kern.Bias(d, variance=1.0)

    kernel = fresh_kernel()  # kept from cycle to cycle: each fit starts from the previous one
    while len(evaluated) < cap:
        remaining = np.setdiff1d(np.arange(len(y)), evaluated)
        model = None
        for _ in range(2):
            try:
                model = GPy.models.GPRegression(X[evaluated], y[evaluated, None], kernel=kernel, noise_var=0.01)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.optimize_restarts(num_restarts=10, robust=True, optimizer="bfgs", max_iters=100,
                                            verbose=False)
                break
            except np.linalg.LinAlgError:
                # Cholesky fails even with GPy's jitter (the study's loop ends the campaign
                # here): start again from a fresh kernel, and at worst predict unfitted
                kernel, model = fresh_kernel(), None
        if model is None:
            model = GPy.models.GPRegression(X[evaluated], y[evaluated, None], kernel=kernel, noise_var=0.01)
        mean, var = model.predict(X[remaining])
        score = -mean[:, 0] + ratio * np.sqrt(np.clip(var[:, 0], 0.0, None))
        evaluated.append(int(remaining[int(np.argmax(score))]))
    return evaluated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="Crossed barrel", choices=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--seed-step", type=int, default=1)
    parser.add_argument("--cap", type=int, default=100, help="cycles per campaign (bench_materials' --cap)")
    parser.add_argument("--ratio", type=float, default=1.0)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/doe-bench-materials"))
    args = parser.parse_args()
    X, y, targets = load(args.dataset)
    cap = min(args.cap, len(y))
    args.work_dir.mkdir(parents=True, exist_ok=True)
    for seed in range(args.first_seed, args.first_seed + args.seeds * args.seed_step, args.seed_step):
        path = run_file(args.work_dir, args.dataset, ALGORITHM, seed)
        if path.exists():
            continue
        start = time.perf_counter()
        order = campaign(X, y, seed, cap, args.ratio)
        seconds = time.perf_counter() - start
        path.write_text(json.dumps({"dataset": args.dataset, "algorithm": ALGORITHM, "seed": seed, "cap": cap,
                                    "seconds": round(seconds, 2), "order": " ".join(map(str, order))}))
        found = np.cumsum([i in targets for i in order])
        print(f"{args.dataset} seed {seed}: {found[min(33, cap - 1)]} targets at cycle 34, {found[-1]} at {cap}"
              f" ({seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
