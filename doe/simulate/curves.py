"""Capacity-retention curves of the virtual lab, cycle by cycle.

A cell's retention (``%`` of the reference cycle's capacity) fades as a mixture of a
logarithmic term (SEI growth, fast early fade that slows) and a slightly accelerating term
(cathode cracking and surface reconstruction)::

    retention(n) = 100 - fade_at * (w * log(1 + n / 10) / log(1 + at / 10) + (1 - w) * (n / at) ** 1.3)

``fade_at = 100 - retention_at`` is the true fade at cycle ``at`` (the virtual lab's
``capacity_retention_pct``: bare NCM85 58 %, the study recipe 70 % at cycle 200); ``w`` (the
SEI share) varies from cell to cell, so curves of equal end point differ in shape. A real cycler adds about
0.3 % noise per point; measured points are clipped to [0, 100] % as the virtual lab's percentages are
(:mod:`doe.simulate.virtual_lab`), so a dead cell never reads below 0 %. The shape is deliberately not the law that :mod:`doe.domain.fade`
fits (square root plus a power), so its calibration is measured under a mismatched model.

The calendar simulation (cycles arriving over weeks) reuses :func:`retention_curve` and
reveals its points as they would arrive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CYCLER_NOISE_SD = 0.3
"""Noise of one retention point of a real cycler, in % (capacity resolution and temperature)."""
RETENTION_RANGE_PCT = (0.0, 100.0)
"""What a measured retention point can read, in % (the virtual lab's range of a percentage)."""
SHAPE_WEIGHTS = (0.2, 0.8)
"""Range of the square-root share ``w`` of a cell's fade."""


def true_retention(cycles: np.ndarray, retention_at: float, weight: float, at: int = 200) -> np.ndarray:
    """Noise-free retention (%) at ``cycles`` of a cell that keeps ``retention_at`` % at ``at``."""
    x = np.asarray(cycles, dtype=float) / at
    sei = np.log1p(x * at / 10.0) / np.log1p(at / 10.0)
    return 100.0 - (100.0 - retention_at) * (weight * sei + (1 - weight) * x**1.3)


def retention_curve(retention_at: float, n_cycles: int, *, at: int = 200, seed: int | None = None,
                    noise_sd: float = CYCLER_NOISE_SD) -> pd.DataFrame:
    """One cell's measured retention curve from cycle 1 to ``n_cycles``.

    Args:
        retention_at: the cell's true retention (%) at cycle ``at``.
        n_cycles: how many cycles have run so far (>= 1).
        at: the cycle of ``retention_at``.
        seed: seeds the cell's shape and the cycler noise.
        noise_sd: cycler noise sd (%).

    Returns:
        ``cycle`` (1..n_cycles), ``retention_pct`` (measured, within [0, 100]) and ``true_retention_pct``.
    """
    rng = np.random.default_rng(seed)
    weight = float(rng.uniform(*SHAPE_WEIGHTS))
    cycles = np.arange(1, int(n_cycles) + 1)
    truth = true_retention(cycles, retention_at, weight, at)
    measured = np.clip(truth + rng.normal(0.0, noise_sd, len(cycles)), *RETENTION_RANGE_PCT)
    return pd.DataFrame({"cycle": cycles, "retention_pct": measured,
                         "true_retention_pct": truth})


__all__ = ["CYCLER_NOISE_SD", "retention_curve", "true_retention"]
