"""Reading a large results file: CPU time of ``doe.io.read_table`` on one CSV.

The file: a lab results table as a spreadsheet would save it, ``--rows`` rows (default
128,752, about 15 MB: near the 20 MB limit of a file read), an id, the template's nine
parameters and six outcomes (four decimals), and two text columns whose cells hold commas and
semicolons; one CSV, written once, read by every checkout measured. Each checkout is measured
in its own subprocess (the working tree's and, with ``--against REV``, that git revision's,
from a temporary worktree), CPU seconds of ``read_table`` (best of ``--repeats``), one thread.
The rows read must match between the checkouts.

Usage: ``.venv/bin/python -m benchmarks.bench_read_table [--rows N] [--repeats 3] [--against REV]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import RESULTS, ROOT, git_revision, header, markdown_table, write_result

MEASURE = """
import json, sys, time
from doe.io import read_table
from doe.templates import resolve_config
config = resolve_config("hfo2-ncm85")
data = open(sys.argv[1], "rb").read()
times = []
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    frame = read_table(data, config, max_bytes=len(data) + 1)
    times.append(time.process_time() - start)
print(json.dumps({"cpu_s": min(times), "rows": len(frame), "columns": len(frame.columns)}))
"""


def write_file(path: Path, rows: int) -> None:
    from doe.templates import resolve_config

    config = resolve_config("hfo2-ncm85")
    rng = np.random.default_rng(0)
    table: dict[str, object] = {"experiment_id": [f"E{i:06d}" for i in range(rows)]}
    for parameter in config.parameters:
        values = getattr(parameter, "values", None)  # categorical and discrete parameters list theirs
        table[parameter.name] = (rng.choice(list(values), rows) if values is not None
                                 else rng.uniform(parameter.lower, parameter.upper, rows).round(4))
    for outcome in config.outcome_names:
        table[outcome] = rng.uniform(50, 95, rows).round(4)
    table["note"] = rng.choice(["ok", "gelled, redone", "cracked; pellet", ""], rows)
    table["operator"] = rng.choice(["ada", "bea", "robot 2"], rows)
    pd.DataFrame(table).to_csv(path, index=False)


def measure(root: Path, path: Path, repeats: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(repeats)], cwd=root, env=env,
                          capture_output=True, text=True, check=True, timeout=3600)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=128_752)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", default=None, help="a git revision to measure as well")
    parser.add_argument("--out", type=Path, default=RESULTS / "read_table.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "results.csv"
        write_file(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        found = {f"working tree (git {git_revision()})": measure(ROOT, path, args.repeats)}
        if args.against:
            tree = Path(work) / "against"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.against], cwd=ROOT,
                           check=True, capture_output=True)
            try:
                found[f"git {git_revision(tree)}"] = measure(tree, path, args.repeats)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    shapes = {(v["rows"], v["columns"]) for v in found.values()}
    assert len(shapes) == 1, f"the checkouts read different tables: {found}"
    first = next(iter(found.values()))["cpu_s"]
    rows = [[name, f"{v['cpu_s']:.2f}", f"{v['cpu_s'] / first:.2f}"] for name, v in found.items()]
    text = header("Reading a large results file (read_table)") + (
        f"\nOne CSV of {args.rows:,} rows x {int(next(iter(shapes))[1])} columns read ({size_mb:.1f} MB); "
        f"CPU seconds of `read_table`, best of {args.repeats}, one process per checkout.\n\n"
        + markdown_table(["checkout", "CPU s", "ratio to the first"], rows) + "\n")
    write_result(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
