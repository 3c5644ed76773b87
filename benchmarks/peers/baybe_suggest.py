"""BayBE: time ``Campaign.recommend(batch_size=3)`` after adding the same history as doe.

Run with the peers' venv: ``.venv-bench/bin/python -m benchmarks.peers.baybe_suggest --space
space.json --history history.csv``. BayBE has no log-scaled continuous parameter, so the
log-scale parameter is given to it in natural-log units (same space, same measure). The
discrete parameter is a ``NumericalDiscreteParameter``, the categoricals ``CategoricalParameter``
(one-hot). Objectives: a ``ParetoObjective`` of the two targets; BayBE has no outcome
constraints and no objective thresholds, so those are left out, and failed runs (no
measurement) are dropped. Recommender: BayBE's default (``TwoPhaseMetaRecommender``: Bayesian
optimisation once data exist).
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np

from benchmarks.peers._common import arguments, load, measure


def build_campaign(space: dict[str, Any], history: Any) -> Any:
    from baybe import Campaign
    from baybe.objectives import ParetoObjective
    from baybe.parameters import (
        CategoricalParameter,
        NumericalContinuousParameter,
        NumericalDiscreteParameter,
    )
    from baybe.searchspace import SearchSpace
    from baybe.targets import NumericalTarget

    parameters: list[Any] = []
    table = history.copy()
    for p in space["parameters"]:
        if p["type"] == "continuous":
            lo, hi = p["bounds"]
            if p.get("log_scale"):
                lo, hi = math.log(lo), math.log(hi)
                table[p["name"]] = np.log(table[p["name"]].astype(float))
            parameters.append(NumericalContinuousParameter(name=p["name"], bounds=(lo, hi)))
        elif p["type"] == "discrete":
            parameters.append(NumericalDiscreteParameter(name=p["name"], values=tuple(float(v) for v in p["values"])))
        else:
            parameters.append(CategoricalParameter(name=p["name"], values=tuple(str(v) for v in p["values"])))
    targets = [NumericalTarget(o["name"], minimize=o["goal"] == "minimize") for o in space["objectives"]]
    campaign = Campaign(searchspace=SearchSpace.from_product(parameters), objective=ParetoObjective(targets))
    names = [p["name"] for p in space["parameters"]] + [t.name for t in targets]
    ok = ~table.get("failed", False).astype(bool) & table[[t.name for t in targets]].notna().all(axis=1)
    measured = table.loc[ok, names].copy()
    for p in space["parameters"]:
        if p["type"] == "categorical":
            measured[p["name"]] = measured[p["name"]].astype(str)
    campaign.add_measurements(measured.reset_index(drop=True))
    return campaign


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    space, history = load(args)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    np.random.seed(args.seed)

    def propose(campaign: Any) -> Any:
        import torch

        torch.manual_seed(args.seed)
        return campaign.recommend(batch_size=args.batch)

    measure(
        build=lambda: build_campaign(space, history),
        propose=propose,
        args=args,
        versions=["baybe", "botorch", "torch"],
        notes="ParetoObjective of the two objectives; no thresholds, no outcome constraint, failed runs dropped",
    )


if __name__ == "__main__":
    main()
