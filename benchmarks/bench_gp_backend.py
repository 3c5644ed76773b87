"""doe's plain-torch GP against BoTorch's own GP models, in the same proposal pipeline.

The evidence asked for by issue 13 (item 6): is the hand-written GP of ``doe/engine/gp.py``
worth keeping, or do BoTorch's ``SingleTaskGP`` / ``MixedSingleTaskGP`` fitted with
``fit_gpytorch_mll`` do as well within 2x of the time?

Setup per repeat r and history size n: n uniformly random recipes of the 9-parameter
``hfo2-ncm85`` template run on ``VirtualLab(seed=1000 + r)`` (noise and failed runs included).
Both backends get the same history and the same ``doe.engine.propose`` pipeline (encoding,
feasibility model, qLogNEHVI with the thickness constraint, mixed-space optimiser, default
``EngineSettings``, one torch thread); only the GP differs:

* ``doe``: :class:`doe.engine.surrogates.Surrogates` as shipped (``ExactGP``: MAP by scipy
  L-BFGS-B from the prior mode, at most ``fit_maxiter`` iterations, hyperparameters fitted on
  at most 250 rows).
* ``botorch``: the same ``Surrogates`` with each outcome's model replaced by BoTorch's
  ``MixedSingleTaskGP`` (the template has categorical parameters; ``SingleTaskGP`` when a
  space has none) with BoTorch's default priors and ``Standardize`` outcome transform, fitted
  by ``fit_gpytorch_mll`` on all rows, warm-started from the hyperparameters of a fit on the
  history without its last 3 experiments (the previous batch, as a campaign would have it; that
  earlier fit is not timed). The acquisition sees the models as a ``ModelListGP``.

Timed (``time.process_time``, CPU seconds of the one-thread process, less inflated by other
jobs on the shared cores than wall time; wall time is in the raw file): ``fit`` (the models of
the acquisition's outcomes), ``propose`` (``propose(config, history, 3, surrogates=...)``:
acquisition, optimiser and the predictions of every outcome, which fits the remaining outcomes
on first use) and ``suggest`` = fit + propose, the end-to-end time of a ``Campaign.suggest(3)``.

Accuracy: 200 random held-out recipes (seed 99), their noise-free expected outcomes from
``VirtualLab.truth``; RMSE of the posterior mean and NLPD (mean negative log predictive density
of the noise-free value under the posterior of the latent mean, i.e. without measurement noise)
for the two objectives.

Usage::

    .venv/bin/python -m benchmarks.bench_gp_backend
    .venv/bin/python -m benchmarks.bench_gp_backend --sizes 30 --repeats 1   # quick look
    # long sizes in a second run that appends its rows, then the report from every row:
    .venv/bin/python -m benchmarks.bench_gp_backend --sizes 1000 --append
    .venv/bin/python -m benchmarks.bench_gp_backend --report-only

Rows are appended to the raw CSV as each run finishes, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    command_line,
    fmt,
    header,
    markdown_table,
    progress_logger,
    single_thread,
)

SIZES = (30, 300, 1000)
REPEATS = {30: 3, 300: 2, 1000: 1}
BATCH = 3
N_TEST = 200
OUT = RESULTS / "gp_backend.md"
RAW = RESULTS / "raw" / "gp_backend.csv"
BACKENDS = ("doe", "botorch")


def history_table(n: int, seed: int) -> Any:
    """n random recipes measured on the virtual lab: parameters, outcomes, failed, failure_reason."""
    from doe.simulate import VirtualLab

    recipes = VirtualLab.random_recipes(n, seed=seed)
    return recipes.join(VirtualLab(seed).run(recipes))


def botorch_surrogates_class() -> Any:
    """``Surrogates`` whose per-outcome models are BoTorch's, fitted by ``fit_gpytorch_mll``."""
    import numpy as np
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import MixedSingleTaskGP, ModelListGP, SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from doe.engine.surrogates import Surrogates

    class BoTorchGP:
        """A fitted BoTorch model with the ``mean_cov`` that ``Surrogates`` predicts with."""

        def __init__(self, model: Any) -> None:
            self.model = model

        def mean_cov(self, X: Any, full_cov: bool = True) -> tuple[Any, Any]:
            posterior = self.model.posterior(X)
            if full_cov:
                return posterior.mean.squeeze(-1), posterior.covariance_matrix
            return posterior.mean.squeeze(-1), posterior.variance.squeeze(-1)

    class BoTorchSurrogates(Surrogates):
        def __init__(self, config: Any, settings: Any, warm_start: dict[str, dict[str, Any]] | None = None) -> None:
            super().__init__(config, settings)
            self.warm_start = warm_start or {}

        def model(self, outcome: str) -> Any:
            data = self.training_data(outcome)
            if data.kind != "gp":
                return None
            cache = self.__dict__.setdefault("botorch_models", {})
            if outcome not in cache:
                X = torch.tensor(np.asarray(data.X), dtype=torch.float64)
                Y = torch.tensor(np.asarray(data.y), dtype=torch.float64).unsqueeze(-1)
                cat = sorted(self.encoder_.cat_dims)
                model = MixedSingleTaskGP(X, Y, cat_dims=cat) if cat else SingleTaskGP(X, Y)
                start = self.warm_start.get(outcome)
                if start is not None:
                    model.load_state_dict(start, strict=False)
                with single_thread_ctx():
                    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                model.eval()
                cache[outcome] = BoTorchGP(model)
            return cache[outcome]

        def acquisition_model(self, outcomes: Any) -> Any:
            return ModelListGP(*[self.model(name).model for name in outcomes])

        def hyperparameters(self) -> dict[str, dict[str, Any]]:
            """Each fitted model's kernel, likelihood and mean parameters (not its data or transform)."""
            out = {}
            for name, gp in self.__dict__.get("botorch_models", {}).items():
                out[name] = {k: v.clone() for k, v in gp.model.state_dict().items()
                             if k.startswith(("covar_module.", "likelihood.", "mean_module."))}
            return out

    return BoTorchSurrogates


def single_thread_ctx() -> Any:
    from doe.engine.surrogates import single_thread as engine_single_thread

    return engine_single_thread()


def accuracy(surrogates: Any, test_X: Any, truth: Any, outcomes: list[str]) -> dict[str, float]:
    import numpy as np
    import torch

    out: dict[str, float] = {}
    for name in outcomes:
        gp = surrogates.model(name)
        with torch.no_grad():
            mean, var = gp.mean_cov(torch.tensor(test_X, dtype=torch.float64), full_cov=False)
        mu, sd = mean.numpy(), np.sqrt(np.maximum(var.numpy(), 1e-12))
        y = truth[name].to_numpy(dtype=float)
        out[f"rmse_{name}"] = float(np.sqrt(np.mean((mu - y) ** 2)))
        out[f"nlpd_{name}"] = float(np.mean(0.5 * np.log(2 * math.pi * sd**2) + (y - mu) ** 2 / (2 * sd**2)))
    return out


def run_one(backend: str, history: Any, config: Any, test: tuple[Any, Any], seed: int, log: Any) -> dict[str, Any]:
    from doe.engine import EngineSettings, propose
    from doe.engine.surrogates import Surrogates

    settings = EngineSettings(device="cpu")
    if backend == "doe":
        make = lambda: Surrogates(config, settings)  # noqa: E731
    else:
        cls = botorch_surrogates_class()
        # warm start: the hyperparameters of a fit on the history without the last batch
        previous = cls(config, settings)
        previous.fit(history.iloc[:-BATCH].reset_index(drop=True), seed=seed)
        start = previous.hyperparameters()

        def make() -> Any:
            return cls(config, settings, warm_start=start)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    surrogates = make().fit(history, seed=seed)
    fit_cpu, fit_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    log.info("%s: fit %.2f s CPU (%.2f s wall); proposing", backend, fit_cpu, fit_wall)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    proposal = propose(config, history, BATCH, seed=seed, settings=settings, surrogates=surrogates)
    propose_cpu, propose_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    test_X = surrogates.encoder_.encode(test[0])
    row: dict[str, Any] = {
        "backend": backend, "fit_cpu_s": fit_cpu, "propose_cpu_s": propose_cpu,
        "suggest_cpu_s": fit_cpu + propose_cpu, "fit_wall_s": fit_wall, "propose_wall_s": propose_wall,
        "strategy": proposal.strategy,
    }
    row.update(accuracy(surrogates, test_X, test[1], list(config.objective_names)))
    log.info("%s: fit %.2f s, propose %.2f s (CPU), %s", backend, fit_cpu, propose_cpu,
             {k: round(v, 3) for k, v in row.items() if k.startswith(("rmse", "nlpd"))})
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=None, help="repeats at every size (default 3/2/1 at 30/300/1000)")
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--append", action="store_true", help="keep the rows already in the raw CSV")
    parser.add_argument("--report-only", action="store_true", help="write the report from the raw CSV")
    args = parser.parse_args()
    if args.report_only:
        write_report(read_rows(), command_line())
        return
    single_thread()
    log = progress_logger("bench_gp_backend", args.log)
    import logging

    logging.getLogger("doe").setLevel(logging.ERROR)

    from doe.simulate import VirtualLab

    config = VirtualLab().config
    test_recipes = VirtualLab.random_recipes(N_TEST, seed=99)
    truth = VirtualLab().truth(test_recipes)
    sizes = [int(s) for s in args.sizes.split(",")]
    if not args.append:
        RAW.parent.mkdir(parents=True, exist_ok=True)
        RAW.unlink(missing_ok=True)
    t_start = time.perf_counter()
    load = os.getloadavg()
    for n in sizes:
        repeats = args.repeats if args.repeats is not None else REPEATS.get(n, 1)
        for r in range(repeats):
            history = history_table(n, seed=1000 + r)
            for backend in BACKENDS:
                log.info("n=%d repeat %d backend %s", n, r, backend)
                row = run_one(backend, history, config, (test_recipes, truth), seed=r, log=log)
                append_row({"n": n, "repeat": r, "load_1min": os.getloadavg()[0], **row})
    log.info("run took %.0f s (load average at its start %s)", time.perf_counter() - t_start, load)
    write_report(read_rows(), command_line())


def append_row(row: dict[str, Any]) -> None:
    RAW.parent.mkdir(parents=True, exist_ok=True)
    new = not RAW.exists()
    with RAW.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def read_rows() -> list[dict[str, Any]]:
    with RAW.open(newline="", encoding="utf-8") as fh:
        rows: list[dict[str, Any]] = list(csv.DictReader(fh))
    for row in rows:
        for key, value in row.items():
            if key not in ("backend", "strategy"):
                row[key] = int(value) if key in ("n", "repeat") else float(value)
    return rows


def write_report(rows: list[dict[str, Any]], command: str) -> None:
    import numpy as np

    from doe.simulate import VirtualLab

    objectives = list(VirtualLab().config.objective_names)
    sizes = sorted({int(r["n"]) for r in rows})

    def med(n: int, backend: str, key: str) -> float:
        values = [r[key] for r in rows if r["n"] == n and r["backend"] == backend]
        return float(np.median(values)) if values else float("nan")

    table = []
    for n in sizes:
        for backend in BACKENDS:
            reps = sum(1 for r in rows if r["n"] == n and r["backend"] == backend)
            table.append([
                n, backend, reps, fmt(med(n, backend, "fit_cpu_s"), 2), fmt(med(n, backend, "propose_cpu_s"), 2),
                fmt(med(n, backend, "suggest_cpu_s"), 2),
                *[fmt(med(n, backend, f"rmse_{o}"), 2) for o in objectives],
                *[fmt(med(n, backend, f"nlpd_{o}"), 2) for o in objectives],
            ])
    ratios = []
    for n in sizes:
        doe_s, bt_s = med(n, "doe", "suggest_cpu_s"), med(n, "botorch", "suggest_cpu_s")
        measured = not math.isnan(bt_s)
        ratios.append([n, fmt(doe_s, 2), fmt(bt_s, 2), fmt(bt_s / doe_s, 1) if measured else "-",
                       ("yes" if bt_s <= 2 * doe_s else "no") if measured else "not measured"])
    columns = ["n", "GP", "repeats", "fit CPU s", "propose(3) CPU s", "suggest(3) CPU s",
               *[f"RMSE {o}" for o in objectives], *[f"NLPD {o}" for o in objectives]]
    text = header("GP backend: doe's plain-torch GP vs BoTorch's MixedSingleTaskGP in the same pipeline",
                  command=command)
    loads = [r["load_1min"] for r in rows]
    text += f"- 1-minute load average after each run (other jobs share the cores): {min(loads):.1f} to {max(loads):.1f}\n\n"
    text += (
        "Setup: see the docstring of `benchmarks/bench_gp_backend.py`. Same history, same `propose(3)` "
        "pipeline (qLogNEHVI, thickness constraint, feasibility model, default `EngineSettings`, one torch "
        "thread); only the GP differs. BoTorch: `MixedSingleTaskGP` (2 categorical parameters) with its "
        "default priors and `Standardize`, `fit_gpytorch_mll` warm-started from the fit without the last 3 "
        "experiments. Times are CPU seconds (medians over the repeats; one thread). Accuracy: 200 held-out "
        "random recipes, noise-free expected outcomes from `VirtualLab.truth`; NLPD of those values under the "
        "posterior of the latent mean (no measurement noise); lower is better for both.\n\n"
    )
    text += markdown_table(columns, table) + "\n"
    text += "## Decision rule (issue 13): BoTorch within 2x of doe end to end (suggest time)?\n\n"
    text += markdown_table(["n", "doe suggest(3) CPU s", "BoTorch suggest(3) CPU s", "BoTorch / doe", "within 2x"],
                           ratios) + "\n"
    text += f"Raw rows (wall times included): `{RAW.relative_to(RESULTS.parent.parent)}`.\n"
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
