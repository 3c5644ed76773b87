"""Paired speed comparison of two checkouts of doe: ``Campaign.suggest(3)`` CPU seconds.

For a refactor that must not change speed: each pair runs the same history (n random recipes
measured on ``VirtualLab(n)``) once with the old tree and once with the new one, each in its own
process, alternating which goes first; the result is the median of the per-pair ratios and a
Wilcoxon signed-rank p-value over the pairs. The first proposed recipe of each run is compared
too (same inputs, same seed: a refactor should give the same batch).

Run from the repository root, e.g. with the old tree checked out by ``git worktree add``::

    python -m benchmarks.bench_tree_ab --old /tmp/old-tree --sizes 30,300 --pairs 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from benchmarks.common import ROOT, header, single_thread

_CHILD = r"""
import json, sys, time
from doe import Campaign
from doe.simulate import VirtualLab
n = int(sys.argv[1])
recipes = VirtualLab.random_recipes(n, seed=n)
history = recipes.join(VirtualLab(n).run(recipes))
history["failure_reason"] = history["failure_reason"].astype(object).where(history["failed"], None)
campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="benchmark")
campaign.record(history)
t0 = time.process_time()
batch = campaign.suggest(3)
seconds = time.process_time() - t0
first = {k: (round(v, 9) if isinstance(v, float) else v) for k, v in batch.iloc[0].items()
         if k in campaign.config.parameter_names}
print(json.dumps({"cpu_s": seconds, "first": first}))
"""


def run_once(tree: Path, n: int) -> dict:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(f"{tree} at n={n} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the old checkout (repository root)")
    parser.add_argument("--new", type=Path, default=ROOT, help="the new checkout (default: this one)")
    parser.add_argument("--sizes", default="30,300")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--command", default=None, help="command line to print in the results")
    args = parser.parse_args()
    single_thread()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        times: dict[str, list[float]] = {"old": [], "new": []}
        firsts: dict[str, list[dict]] = {"old": [], "new": []}
        for i in range(args.pairs):
            order = (("old", args.old), ("new", args.new))
            for tag, tree in order if i % 2 == 0 else order[::-1]:
                got = run_once(tree, n)
                times[tag].append(got["cpu_s"])
                firsts[tag].append(got["first"])
                print(f"n={n} pair {i} {tag}: {got['cpu_s']:.2f} s", flush=True)
        old, new = np.array(times["old"]), np.array(times["new"])
        rows.append({"n": n, "pairs": args.pairs, "old_median": float(np.median(old)),
                     "new_median": float(np.median(new)), "ratio_median": float(np.median(new / old)),
                     "p": float(wilcoxon(old, new).pvalue),
                     "same_first_recipe": all(a == b for a, b in zip(firsts["old"], firsts["new"], strict=True))})
    parts = [header("Paired speed check of two trees: Campaign.suggest(3) CPU s",
                    command=args.command or " ".join(sys.argv))]
    parts.append(f"Old tree: `{args.old}`; new tree: `{args.new}`. Each pair: one process per tree on the same "
                 "history, alternating order. Ratio = new / old per pair.\n")
    parts.append("| n | pairs | old median CPU s | new median CPU s | median ratio | Wilcoxon p | same first recipe |")
    parts.append("|---|---|---|---|---|---|---|")
    for r in rows:
        parts.append(f"| {r['n']} | {r['pairs']} | {r['old_median']:.2f} | {r['new_median']:.2f} | "
                     f"{r['ratio_median']:.2f} | {r['p']:.3f} | {r['same_first_recipe']} |")
    args.out.write_text("\n".join(parts) + "\n")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
