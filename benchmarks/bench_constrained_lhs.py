"""Constrained Latin hypercubes: wall time and space filling of ``latin_hypercube`` under tight
linear constraints.

Two sets of spaces: the six-parameter space of a coating recipe with two tight constraints (a
mixture ``a_frac + b_frac + c_frac <= 0.3`` and ``hfo2_loading_wt_pct + 0.004 *
anneal_temperature_c + 0.2 * time_h <= 2``; no Latin hypercube over their feasible parts exists
above 3 rows) at 6, 12 and 24 rows, 20 seeds; and 40 random spaces of 2 to 6 continuous
parameters (ranges far from 0 and resolution grids among them) under one or two constraints
that keep 2 to 30 % of their span, at 5 and 10 rows. For each: wall seconds of one design,
the smallest distance between two of its recipes (model space, larger is better spread), the
rows the note says were moved out of their strata, designs refused, and rows outside a
constraint at all (slack < 0 in the model space). Each checkout is measured in its own
subprocess (the working tree's and, with ``--against REV``, that git revision's, from a
temporary worktree), one thread.

Usage: ``.venv/bin/python -m benchmarks.bench_constrained_lhs [--against REV]``
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import (
    RESULTS,
    ROOT,
    git_revision,
    header,
    markdown_table,
    write_json,
    write_result,
)

RAW = RESULTS / "raw"

SIX = {"name": "six", "objectives": [{"name": "ce", "goal": "maximize"}],
       "parameters": [{"name": "a_frac", "type": "continuous", "bounds": [0, 1]},
                      {"name": "b_frac", "type": "continuous", "bounds": [0, 1]},
                      {"name": "c_frac", "type": "continuous", "bounds": [0, 1]},
                      {"name": "hfo2_loading_wt_pct", "type": "continuous", "bounds": [0.02, 3]},
                      {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750]},
                      {"name": "time_h", "type": "continuous", "bounds": [0.5, 6]}],
       "constraints": ["a_frac + b_frac + c_frac <= 0.3",
                       "hfo2_loading_wt_pct + 0.004 * anneal_temperature_c + 0.2 * time_h <= 2.0"]}


def random_space(seed: int) -> dict[str, object]:
    """2 to 6 continuous ranges (some far from 0, some on a grid) under one or two constraints
    keeping 2 to 30 % of their span (as the tests' ``_tight_space``)."""
    rng = np.random.default_rng(seed)
    names = [f"x{k}" for k in range(int(rng.integers(2, 7)))]
    parameters: list[dict[str, object]] = []
    for name in names:
        lower = float(rng.choice([0.0, 0.1, 1.0, 250.0]))
        upper = lower + float(rng.choice([0.3, 1.0, 3.0, 500.0]))
        parameter: dict[str, object] = {"name": name, "type": "continuous", "bounds": [lower, upper]}
        if rng.random() < 0.3:
            parameter["resolution"] = (upper - lower) / float(rng.choice([10, 20, 50]))
        parameters.append(parameter)
    constraints = []
    for _ in range(int(rng.integers(1, 3))):
        chosen = rng.choice(len(names), size=int(rng.integers(2, len(names) + 1)), replace=False)
        coefficients = {names[i]: float(rng.choice([1.0, 0.5, 0.3, 2.0, -1.0, 0.004])) for i in chosen}
        ends = [[a * b for b in parameters[names.index(name)]["bounds"]] for name, a in coefficients.items()]  # type: ignore[attr-defined]
        low, high = sum(min(e) for e in ends), sum(max(e) for e in ends)
        rhs = low + float(rng.choice([0.02, 0.05, 0.1, 0.3])) * (high - low)
        constraints.append({"type": "linear", "coefficients": coefficients, "operator": "<=", "rhs": rhs})
    return {"name": f"random-{seed}", "parameters": parameters, "objectives": [{"name": "y", "goal": "maximize"}],
            "constraints": constraints}


MEASURE = """
import json, logging, re, sys, time
import numpy as np
logging.disable(logging.WARNING)
from doe import load_config
from doe.engine.classic import latin_hypercube
from doe.engine.encoding import Encoder
from doe.engine.strata import min_distance
cases = json.loads(open(sys.argv[1]).read())
latin_hypercube(Encoder(load_config(cases[0]["space"])), 2, 0, {})  # imports (pyDOE3, scipy.stats) once
out = []
for case in cases:
    encoder = Encoder(load_config(case["space"]))
    row = {"set": case["set"], "n": case["n"], "seed": case["seed"]}
    start = time.perf_counter()
    try:
        cube = latin_hypercube(encoder, case["n"], case["seed"], {})
    except Exception as err:
        row.update(refused=True, seconds=time.perf_counter() - start, error=str(err)[:120])
    else:
        moved = re.search(r"; (\\d+) row\\(s\\) were moved", cube.note or "")
        slack = encoder.constraint_slack(cube.X)
        row.update(refused=False, seconds=time.perf_counter() - start,
                   min_distance=min_distance(encoder.to_features(cube.X)),
                   moved=int(moved.group(1)) if moved else 0, outside=int((slack < 0).any(axis=1).sum()))
    out.append(row)
print(json.dumps(out))
"""


def cases() -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for n in (6, 12, 24):
        found += [{"set": "six parameters, two tight constraints", "n": n, "seed": s, "space": SIX} for s in range(20)]
    from doe import load_config
    from doe.errors import DoeError

    spaces: list[tuple[int, dict[str, object]]] = []
    for seed in itertools.count():  # the first 40 seeds whose space is a valid configuration
        if len(spaces) == 40:
            break
        with contextlib.suppress(DoeError):
            load_config(random_space(seed))
            spaces.append((seed, random_space(seed)))
    for n in (5, 10):
        found += [{"set": "40 random tight spaces", "n": n, "seed": s, "space": space} for s, space in spaces]
    return found


def measure(root: Path, path: Path) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=root, env=env,
                          capture_output=True, text=True, check=True, timeout=7200)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def summary(name: str, rows: list[dict[str, object]], every: set[tuple[str, int, int]]) -> list[list[str]]:
    """One line per set of spaces and size; ``every``: the (set, n, seed) every checkout made."""
    table = []
    for key in dict.fromkeys((str(r["set"]), int(r["n"])) for r in rows):  # type: ignore[call-overload]
        some = [r for r in rows if (r["set"], r["n"]) == key]
        made = [r for r in some if not r["refused"]]
        both = [r for r in made if (r["set"], r["n"], r["seed"]) in every]
        seconds = np.array([float(r["seconds"]) for r in some])  # type: ignore[arg-type]
        spread = np.mean([float(r["min_distance"]) for r in made]) if made else float("nan")  # type: ignore[arg-type]
        paired = np.mean([float(r["min_distance"]) for r in both]) if both else float("nan")  # type: ignore[arg-type]
        table.append([name, key[0], str(key[1]), f"{np.median(seconds):.2f}", f"{seconds.max():.2f}",
                      f"{spread:.4f}", f"{paired:.4f} ({len(both)})",
                      f"{np.mean([int(r['moved']) for r in made]) if made else float('nan'):.2f}",  # type: ignore[call-overload]
                      f"{sum(bool(r['refused']) for r in some)}/{len(some)}",
                      str(sum(int(r["outside"]) for r in made))])  # type: ignore[call-overload]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=None, help="a git revision to measure as well")
    parser.add_argument("--out", type=Path, default=RESULTS / "constrained_lhs.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "cases.json"
        path.write_text(json.dumps(cases()), encoding="utf-8")
        found = {f"working tree (git {git_revision()})": measure(ROOT, path)}
        if args.against:
            tree = Path(work) / "against"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.against], cwd=ROOT,
                           check=True, capture_output=True)
            try:
                found[f"git {git_revision(tree)}"] = measure(tree, path)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    made = [{(r["set"], r["n"], r["seed"]) for r in measured if not r["refused"]} for measured in found.values()]
    every = set.intersection(*made)
    write_json(RAW / "constrained_lhs.json", found)
    rows = [line for name, measured in found.items() for line in summary(name, measured, every)]  # type: ignore[arg-type]
    text = header("Constrained Latin hypercubes (latin_hypercube)") + (
        "\nWall seconds of one design (median and max over the seeds), mean smallest distance between two "
        "of its recipes (model space: larger is better spread), mean rows moved out of their strata, designs "
        "refused, and rows outside a constraint at all (slack < 0).\n\n"
        + markdown_table(["checkout", "spaces", "rows", "median s", "max s", "min distance",
                          "min distance, designs every checkout made (count)", "rows moved", "refused",
                          "rows outside"], rows) + "\n")
    write_result(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
