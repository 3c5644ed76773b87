"""Shared plumbing of the peer scripts (run inside the separate ``.venv-bench``; no doe import).

The main script (``benchmarks/bench_suggest_speed.py``) writes the search space as JSON and the
measured history as CSV; each peer script loads them, builds its own campaign, times one batch
proposal per repeat (fresh objects each time, setup not timed) and prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--space", type=Path, required=True, help="space.json from the main script")
    parser.add_argument("--history", type=Path, required=True, help="history CSV (parameters, outcomes, failed)")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the extra tracemalloc run")
    return parser.parse_args()


def load(args: argparse.Namespace) -> tuple[dict[str, Any], pd.DataFrame]:
    space = json.loads(args.space.read_text())
    history = pd.read_csv(args.history)
    return space, history


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure(build: Callable[[], Any], propose: Callable[[Any], Any], args: argparse.Namespace,
            versions: list[str], notes: str) -> None:
    """Time ``propose(build())`` ``args.repeats`` times, then one traced run; print JSON."""
    import torch

    torch.set_num_threads(1)
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    rss_before = rss_after = float("nan")
    for r in range(args.repeats):
        obj = build()
        gc.collect()
        if r == 0:
            rss_before = maxrss_mb()
        t0, c0 = time.perf_counter(), time.process_time()
        propose(obj)
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
        if r == 0:
            rss_after = maxrss_mb()
        del obj
    peak = float("nan")
    if not args.no_memory:
        obj = build()
        gc.collect()
        tracemalloc.start()
        propose(obj)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out = {
        "seconds": seconds, "cpu_seconds": cpu_seconds,
        "tracemalloc_peak_mb": peak,
        "rss_growth_mb": rss_after - rss_before,
        "rss_peak_mb": maxrss_mb(),
        "versions": {name: _version(name) for name in versions},
        "notes": notes,
    }
    print(json.dumps(out))
    sys.stdout.flush()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
