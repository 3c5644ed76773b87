"""Ax (``ax.api.Client``): the next batch of a closed loop, printed as JSON recipes.

Run with the peers' venv by ``benchmarks/bench_peer_loop.py``, once per round:
``.venv-bench/bin/python -m benchmarks.peers.ax_loop --space space.json --history history.csv
--batch 3 --seed S``. The client is built as in :mod:`benchmarks.peers.ax_suggest` (same space,
objectives and failed trials) from the whole history so far (an empty file: none), so Ax's
default generation strategy decides by itself when it leaves its Sobol initialisation.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings

from benchmarks.peers._common import arguments, load
from benchmarks.peers.ax_suggest import build_client


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    space, history = load(args)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    client = build_client(space, history, args.seed)
    trials = client.get_next_trials(max_trials=args.batch)
    print(json.dumps([dict(params) for _index, params in sorted(trials.items())]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
