"""Ax (``ax.api.Client``): time ``get_next_trials(3)`` after attaching the same history as doe.

Run with the peers' venv: ``.venv-bench/bin/python -m benchmarks.peers.ax_suggest --space
space.json --history history.csv``. The space is the doe template's: continuous ranges (log
scaling where doe has ``log_scale``), the discrete parameter as an ordered float choice, the
categoricals as unordered string choices. Objectives and their thresholds (as Ax objective
thresholds) and the outcome constraint are the template's; failed runs are attached and marked
failed. Generation strategy: Ax's default ("fast") with the attached trials counting as the
initialization, so the batch comes from Ax's Bayesian optimisation.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

from benchmarks.peers._common import arguments, load, measure


def build_client(space: dict[str, Any], history: Any, seed: int) -> Any:
    from ax.api.client import Client
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    client = Client(random_seed=seed)
    parameters: list[Any] = []
    for p in space["parameters"]:
        if p["type"] == "continuous":
            parameters.append(RangeParameterConfig(name=p["name"], bounds=tuple(p["bounds"]), parameter_type="float",
                                                   scaling="log" if p.get("log_scale") else "linear"))
        elif p["type"] == "discrete":
            parameters.append(ChoiceParameterConfig(name=p["name"], values=[float(v) for v in p["values"]],
                                                    parameter_type="float", is_ordered=True))
        else:
            parameters.append(ChoiceParameterConfig(name=p["name"], values=[str(v) for v in p["values"]],
                                                    parameter_type="str", is_ordered=False))
    client.configure_experiment(parameters=parameters, name="doe_peer_ax")
    objective = ", ".join(o["name"] if o["goal"] == "maximize" else f"-{o['name']}" for o in space["objectives"])
    constraints = [f"{o['name']} {'>=' if o['goal'] == 'maximize' else '<='} {o['threshold']}"
                   for o in space["objectives"] if o.get("threshold") is not None]
    constraints += [f"{c['outcome']} {c['operator']} {c['bound']}" for c in space["constraints"]]
    client.configure_optimization(objective=objective, outcome_constraints=constraints)
    metrics = [o["name"] for o in space["objectives"]] + [c["outcome"] for c in space["constraints"]]
    names = [p["name"] for p in space["parameters"]]
    types = {p["name"]: p["type"] for p in space["parameters"]}
    for row in history.to_dict("records"):
        params = {k: (str(row[k]) if types[k] == "categorical" else float(row[k])) for k in names}
        index = client.attach_trial(parameters=params)
        if bool(row.get("failed", False)):
            client.mark_trial_failed(trial_index=index)
            continue
        data = {m: float(row[m]) for m in metrics if m in row and not math.isnan(float(row[m]))}
        client.complete_trial(trial_index=index, raw_data=data)
    return client


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    space, history = load(args)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    measure(
        build=lambda: build_client(space, history, args.seed),
        propose=lambda client: client.get_next_trials(max_trials=args.batch),
        args=args,
        versions=["ax-platform", "botorch", "torch"],
        notes="ax.api.Client, default generation strategy; objective thresholds and outcome constraint as in doe",
    )


if __name__ == "__main__":
    main()
