"""Where the next recipes are searched for: an adaptive trust region and untried labels.

Both are pure functions of the campaign's history, so a suggestion stays reproducible from
the stored data and seed alone (no hidden optimiser state to lose or to share between app
replicas).

**Adaptive trust region** (:func:`adapt_trust_region`), after TuRBO (Eriksson et al.,
NeurIPS 2019): the box around the best measured recipe starts ``initial_width`` of each
continuous range wide, doubles (up to the whole range) after ``success_tolerance``
experiments in a row that improved on the best score, halves after ``failure_tolerance`` in
a row that did not (``max(4, d)`` for ``d`` parameters, TuRBO's ``max(4, d)`` per
evaluation), and collapses when it is narrower than ``initial_width / 8``: then the next
batch searches the whole space (a restart) and the box starts again at ``initial_width``.
TuRBO's smallest box (1/128 of its first) is not reached within the 30-100 experiments of a
coating campaign; 1/8 (three halvings) is. Experiments are replayed in run order, after the
initial design; a failed run or a missing objective counts as no improvement.

**Untried labels** (:func:`untried_values`): categorical labels and discrete values that the
finished and pending experiments have used fewer than ``min_tries`` times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from doe.engine.encoding import Encoder

SUCCESS_TOLERANCE = 3
"""Improvements in a row that double the trust region (TuRBO's value)."""

COLLAPSE_FRACTION = 1.0 / 8.0
"""The region collapses (and the next batch searches the whole space) below this fraction of its first width."""


@dataclass(frozen=True)
class TrustRegionState:
    """The trust region for the next batch.

    Attributes:
        width: fraction of each continuous range; ``None``: search the whole space (restart).
        successes: improvements in a row at the end of the history.
        failures: non-improvements in a row at the end of the history.
        restarts: how often the region has collapsed so far.
    """

    width: float | None
    successes: int
    failures: int
    restarts: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {"width": self.width, "successes": self.successes, "failures": self.failures,
                "restarts": self.restarts}


def adapt_trust_region(scores: np.ndarray, *, initial_width: float, n_initial: int, dim: int) -> TrustRegionState:
    """Replay the history's objective scores (run order, larger is better) into a trust region.

    Args:
        scores: one score per finished experiment in run order; NaN for a failed run.
        initial_width: the first (and restarted) width, a fraction of each continuous range.
        n_initial: the experiments of the initial design: they set the first best score and
            are not counted as successes or failures.
        dim: number of parameters (sets the failure tolerance ``max(4, dim)``).

    Returns:
        The :class:`TrustRegionState` for the next batch.
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    failure_tolerance = max(4, int(dim))
    finite = scores[np.isfinite(scores)]
    spread = float(finite.max() - finite.min()) if len(finite) > 1 else 0.0
    tolerance = 1e-3 * spread
    head = scores[:n_initial]
    best = float(np.nanmax(head)) if np.isfinite(head).any() else -math.inf
    width, successes, failures, restarts = float(initial_width), 0, 0, 0
    restart_pending = False
    for value in scores[n_initial:]:
        if restart_pending:  # this experiment came from the whole-space batch
            restart_pending = False
            width, successes, failures = float(initial_width), 0, 0
        improved = bool(np.isfinite(value) and value > best + tolerance)
        if np.isfinite(value):
            best = max(best, float(value))
        if improved:
            successes, failures = successes + 1, 0
        else:
            successes, failures = 0, failures + 1
        if successes >= SUCCESS_TOLERANCE:
            width, successes = min(2.0 * width, 1.0), 0
        elif failures >= failure_tolerance:
            width, failures = width / 2.0, 0
            if width < initial_width * COLLAPSE_FRACTION - 1e-12:
                restarts += 1
                restart_pending = True
    return TrustRegionState(width=None if restart_pending else width, successes=successes,
                            failures=failures, restarts=restarts)


def untried_values(encoder: Encoder, X_known: np.ndarray, fixed: dict[int, float], min_tries: int) -> list[tuple[int, float, int]]:
    """Labels and discrete values used by fewer than ``min_tries`` known recipes.

    Args:
        encoder: the space.
        X_known: model-space rows of the finished and pending experiments ``(m, d)``.
        fixed: model-space values held for this batch (their parameters are skipped).
        min_tries: a value used fewer times than this is returned.

    Returns:
        ``(column, model-space value, times used)``, least used first, then in column order.
    """
    X = encoder.snap(X_known) if len(X_known) else np.zeros((0, encoder.dim))
    out: list[tuple[int, float, int]] = []
    for i, values in [*encoder.cat_dims.items(), *encoder.discrete_dims.items()]:
        if i in fixed:
            continue
        for v in values:
            used = int(np.sum(np.abs(X[:, i] - v) < 1e-9))
            if used < min_tries:
                out.append((i, float(v), used))
    return sorted(out, key=lambda item: (item[2], item[0], item[1]))


__all__ = ["TrustRegionState", "adapt_trust_region", "untried_values"]
